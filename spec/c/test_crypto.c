/*
** Standalone tests of src/crypto.c (no Lua).  Keys and certificates are
** made at run time with the `openssl` command in a temporary directory,
** and every result is checked against that command rather than against
** crypto.c itself: thumbprints against `openssl x509 -fingerprint`,
** signatures with `openssl dgst -verify`.
**
** Build: cc -Isrc spec/c/test_crypto.c src/crypto.c src/buffer.c -lcrypto
** (`sh spec/c/run_unit.sh crypto` builds it with sanitizers and under valgrind).
** Prints "N passed, N failed" last; exits non-zero on any failure.
*/
#define _POSIX_C_SOURCE 200809L   /* mkdtemp, strtok_r */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>

#include "crypto.h"

#include "check.h"

static char dir[256];      /* the temporary directory */

/*
** {======================================================
** Helpers: files, the openssl command, a base64url decoder
** =======================================================
*/

/* path of a file in the temporary directory (a rotating static buffer) */
static const char *path (const char *name) {
  static char bufs[8][512];
  static int next = 0;
  char *p = bufs[next++ % 8];
  snprintf(p, 512, "%s/%s", dir, name);
  return p;
}

/* runs a shell command inside dir; its exit status */
static int sh (const char *fmt, ...) {
  char cmd[2048];
  int n, rc;
  va_list ap;
  n = snprintf(cmd, sizeof(cmd), "cd '%s' && ( ", dir);
  va_start(ap, fmt);
  n += vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
  va_end(ap);
  snprintf(cmd + n, sizeof(cmd) - (size_t)n, " ) >/dev/null 2>&1 </dev/null");
  rc = system(cmd);
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* whole file, NUL-terminated, malloc'ed; *len without the NUL */
static char *slurp (const char *name, size_t *len) {
  FILE *f = fopen(path(name), "rb");
  char *p = NULL;
  long n;
  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (p = (char *)malloc((size_t)n + 1)) != NULL) {
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
      free(p);
      p = NULL;
    }
    else {
      p[n] = '\0';
      if (len)
        *len = (size_t)n;
    }
  }
  fclose(f);
  return p;
}

static int spit (const char *name, const void *p, size_t n) {
  FILE *f = fopen(path(name), "wb");
  int ok;
  if (f == NULL)
    return -1;
  ok = fwrite(p, 1, n, f) == n;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* a file's contents without trailing newlines (command output) */
static char *slurp_line (const char *name) {
  size_t n = 0;
  char *p = slurp(name, &n);
  while (p != NULL && n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
    p[--n] = '\0';
  return p;
}

/*
** An independent base64url decoder, so a signature can be handed to
** `openssl dgst`.  -1 on a character outside the alphabet.
*/
static long b64url_decode (const char *s, size_t n, unsigned char *out) {
  static const char alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned long acc = 0;
  int bits = 0;
  long k = 0;
  size_t i;
  const char *c;
  for (i = 0; i < n; i++) {
    if (s[i] == '\0' || (c = strchr(alpha, s[i])) == NULL)
      return -1;
    acc = (acc << 6) | (unsigned long)(c - alpha);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (unsigned char)((acc >> bits) & 0xff);
    }
  }
  return k;
}

/* loads a signer from files (key NULL: from the certificate file) */
static azrp_signer *load (const char *cert, const char *key, const char *pass,
                          char *err, size_t errlen) {
  size_t clen = 0, klen = 0;
  char *c = slurp(cert, &clen);
  char *k = key ? slurp(key, &klen) : NULL;
  azrp_signer *s;
  err[0] = '\0';
  if (c == NULL || (key != NULL && k == NULL)) {
    snprintf(err, errlen, "test setup: cannot read %s", c == NULL ? cert : key);
    free(c);
    free(k);
    return NULL;
  }
  s = azrp_signer_new(c, clen, k, klen, pass, err, errlen);
  free(c);
  free(k);
  return s;
}

/* }====================================================== */

/*
** {======================================================
** Tests
** =======================================================
*/

static void test_base64url (void) {
  static const struct { const char *in; size_t n; const char *out; } v[] = {
    {"", 0, ""}, {"f", 1, "Zg"}, {"fo", 2, "Zm8"}, {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg"}, {"fooba", 5, "Zm9vYmE"}, {"foobar", 6, "Zm9vYmFy"},
    /* standard base64 would give "+/8=", "//4=", "+w==", "+++/" */
    {"\xfb\xff", 2, "-_8"}, {"\xff\xfe", 2, "__4"}, {"\xfb", 1, "-w"},
    {"\xfb\xef\xbe", 3, "----"}, {"\xfb\xef\xbf", 3, "---_"},
    {"\xff\xff\xff", 3, "____"},
    {"\x00", 1, "AA"}, {"\x00\x00\x00", 3, "AAAA"}
  };
  size_t i;
  int rc;
  azrp_buf b = AZRP_BUF_INIT;
  unsigned char big[1000];
  char *want;
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    azrp_buf_reset(&b);
    /* called first: check()'s arguments are evaluated in no set order */
    rc = azrp_base64url((const unsigned char *)v[i].in, v[i].n, &b);
    check(rc == 0 && b.len == strlen(v[i].out) &&
          (b.len == 0 || strcmp(b.data, v[i].out) == 0),
          "base64url vector %u: want '%s', got '%.*s'", (unsigned)i, v[i].out,
          (int)b.len, b.len ? b.data : "");
  }
  /* appends to what is there */
  azrp_buf_reset(&b);
  azrp_buf_appends(&b, "x.");
  rc = azrp_base64url((const unsigned char *)"foobar", 6, &b);
  check(rc == 0 && strcmp(b.data, "x.Zm9vYmFy") == 0, "base64url appends: '%s'", b.data);
  /* past one internal chunk (192 bytes), against openssl base64 */
  for (i = 0; i < sizeof(big); i++)
    big[i] = (unsigned char)(i * 7 + 3);
  spit("big.bin", big, sizeof(big));
  sh("openssl base64 -A -in big.bin | tr '+/' '-_' | tr -d '=' > big.b64");
  want = slurp_line("big.b64");
  for (i = 0; want != NULL && i <= sizeof(big); i += 97) {
    azrp_buf_reset(&b);
    spit("part.bin", big, i);
    sh("openssl base64 -A -in part.bin | tr '+/' '-_' | tr -d '=' > part.b64");
    free(want);
    want = slurp_line("part.b64");
    check(want != NULL && azrp_base64url(big, i, &b) == 0 &&
          b.len == strlen(want) && (b.len == 0 || strcmp(b.data, want) == 0),
          "base64url of %u bytes differs from openssl base64", (unsigned)i);
  }
  free(want);
  azrp_buf_free(&b);
}

static void test_uuid4 (void) {
  char u[37], prev[37];
  int i, j, ok, hexok;
  prev[0] = '\0';
  for (i = 0; i < 200; i++) {
    ok = azrp_uuid4(u) == 0 && strlen(u) == 36 && u[8] == '-' && u[13] == '-' &&
         u[18] == '-' && u[23] == '-' && u[14] == '4' && strchr("89ab", u[19]) != NULL;
    hexok = 1;
    for (j = 0; j < 36; j++)
      if (j != 8 && j != 13 && j != 18 && j != 23 && strchr("0123456789abcdef", u[j]) == NULL)
        hexok = 0;
    check(ok && hexok && strcmp(u, prev) != 0, "uuid4 '%s'", u);
    memcpy(prev, u, sizeof(u));
  }
}

/* a fingerprint from `openssl x509` converted to base64url by the shell */
static char *openssl_thumbprint (const char *cert, const char *md) {
  if (sh("openssl x509 -in %s -noout -fingerprint -%s | sed 's/^.*=//; s/://g' > fp.hex",
         cert, md) != 0)
    return NULL;
  {
    char *hex = slurp_line("fp.hex");
    unsigned char bin[64];
    size_t i, n;
    unsigned int byte;
    if (hex == NULL)
      return NULL;
    n = strlen(hex) / 2;
    for (i = 0; i < n && i < sizeof(bin); i++) {
      if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
        break;
      bin[i] = (unsigned char)byte;
    }
    free(hex);
    if (i != n || spit("fp.bin", bin, n) != 0 ||
        sh("openssl base64 -A -in fp.bin | tr '+/' '-_' | tr -d '=' > fp.b64") != 0)
      return NULL;
    return slurp_line("fp.b64");
  }
}

static void test_thumbprints (azrp_signer *s) {
  char *want = openssl_thumbprint("cert.pem", "sha1");
  check(want != NULL && strcmp(azrp_signer_x5t(s), want) == 0,
        "x5t: got %s, openssl says %s", azrp_signer_x5t(s), want ? want : "?");
  check(strlen(azrp_signer_x5t(s)) == 27, "x5t is 27 characters");
  free(want);
  want = openssl_thumbprint("cert.pem", "sha256");
  check(want != NULL && strcmp(azrp_signer_x5t_s256(s), want) == 0,
        "x5t#S256: got %s, openssl says %s", azrp_signer_x5t_s256(s), want ? want : "?");
  check(strlen(azrp_signer_x5t_s256(s)) == 43, "x5t#S256 is 43 characters");
  free(want);
  sh("openssl x509 -in cert.pem -outform DER | openssl base64 -A > x5c.txt");
  want = slurp_line("x5c.txt");
  check(want != NULL && strcmp(azrp_signer_x5c(s), want) == 0,
        "x5c differs from openssl's base64 of the DER certificate");
  check(strchr(azrp_signer_x5c(s), '\n') == NULL, "x5c has no newline");
  free(want);
}

/*
** Splits a JWT, checks its first two parts decode to the inputs and
** writes the signing input and the signature for `openssl dgst`.
*/
static int split_jwt (const char *jwt, const char *header, const char *claims) {
  const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  unsigned char tmp[2048];
  long n;
  if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL)
    return -1;
  n = b64url_decode(jwt, (size_t)(d1 - jwt), tmp);
  if (n != (long)strlen(header) || memcmp(tmp, header, (size_t)n) != 0)
    return -1;
  n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), tmp);
  if (n != (long)strlen(claims) || memcmp(tmp, claims, (size_t)n) != 0)
    return -1;
  n = b64url_decode(d2 + 1, strlen(d2 + 1), tmp);
  if (n != 256)     /* a 2048-bit key */
    return -1;
  if (spit("sig.bin", tmp, (size_t)n) != 0 ||
      spit("input.txt", jwt, (size_t)(d2 - jwt)) != 0)
    return -1;
  return 0;
}

#define PSS_OPTS "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256"

static void test_sign (azrp_signer *s) {
  static const char header_rs[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"abc\"}";
  static const char header_ps[] = "{\"alg\":\"PS256\",\"typ\":\"JWT\"}";
  static const char claims[] =
    "{\"aud\":\"https://login.microsoftonline.com/t/oauth2/v2.0/token\","
    "\"iss\":\"c\",\"sub\":\"c\",\"jti\":\"j\",\"nbf\":1,\"exp\":601}";
  azrp_buf b = AZRP_BUF_INIT, b2 = AZRP_BUF_INIT;
  char err[512];
  int rc;

  /* RS256 */
  rc = azrp_jwt_sign(s, "RS256", header_rs, strlen(header_rs), claims,
                     strlen(claims), &b, err, sizeof(err));
  check(rc == 0, "RS256 sign: %s", rc == 0 ? "" : err);
  check(rc == 0 && split_jwt(b.data, header_rs, claims) == 0,
        "RS256 JWT shape: %.80s", b.len ? b.data : "");
  check(sh("openssl dgst -sha256 -verify pub.pem -signature sig.bin input.txt") == 0,
        "RS256 signature verifies with openssl dgst");
  check(sh("openssl dgst -sha256 -verify pub.pem " PSS_OPTS " -signature sig.bin input.txt") != 0,
        "RS256 signature is not a PSS one");
  /* the verifier does check: a changed input fails */
  sh("printf x >> input.txt");
  check(sh("openssl dgst -sha256 -verify pub.pem -signature sig.bin input.txt") != 0,
        "a tampered RS256 input fails verification");
  /* PKCS#1 v1.5 is deterministic */
  rc = azrp_jwt_sign(s, "RS256", header_rs, strlen(header_rs), claims,
                     strlen(claims), &b2, err, sizeof(err));
  check(rc == 0 && b.len == b2.len && strcmp(b.data, b2.data) == 0,
        "RS256 twice gives the same token");

  /* PS256 */
  azrp_buf_reset(&b);
  rc = azrp_jwt_sign(s, "PS256", header_ps, strlen(header_ps), claims,
                     strlen(claims), &b, err, sizeof(err));
  check(rc == 0, "PS256 sign: %s", rc == 0 ? "" : err);
  check(rc == 0 && split_jwt(b.data, header_ps, claims) == 0,
        "PS256 JWT shape: %.80s", b.len ? b.data : "");
  check(sh("openssl dgst -sha256 -verify pub.pem " PSS_OPTS " -signature sig.bin input.txt") == 0,
        "PS256 signature verifies with openssl dgst (salt length 32)");
  /* the salt length check is exact: a max-length salt does not verify */
  check(sh("openssl dgst -sha256 -verify pub.pem -sigopt rsa_padding_mode:pss "
           "-sigopt rsa_pss_saltlen:max -signature sig.bin input.txt") != 0,
        "PS256 salt is not the maximum length");
  check(sh("openssl dgst -sha256 -verify pub.pem -signature sig.bin input.txt") != 0,
        "PS256 signature is not a PKCS#1 v1.5 one");
  sh("printf x >> input.txt");
  check(sh("openssl dgst -sha256 -verify pub.pem " PSS_OPTS " -signature sig.bin input.txt") != 0,
        "a tampered PS256 input fails verification");
  /* PSS is randomised */
  azrp_buf_reset(&b2);
  rc = azrp_jwt_sign(s, "PS256", header_ps, strlen(header_ps), claims,
                     strlen(claims), &b2, err, sizeof(err));
  check(rc == 0 && strcmp(b.data, b2.data) != 0, "PS256 twice gives different signatures");

  /* appends after what out holds; the prefix is kept */
  azrp_buf_reset(&b);
  azrp_buf_appends(&b, "assertion=");
  rc = azrp_jwt_sign(s, "RS256", header_rs, strlen(header_rs), claims,
                     strlen(claims), &b, err, sizeof(err));
  check(rc == 0 && strncmp(b.data, "assertion=", 10) == 0 &&
        split_jwt(b.data + 10, header_rs, claims) == 0 &&
        sh("openssl dgst -sha256 -verify pub.pem -signature sig.bin input.txt") == 0,
        "RS256 appended after a prefix");

  /* unsupported algorithms fail and leave out as it was */
  azrp_buf_reset(&b);
  azrp_buf_appends(&b, "keep");
  err[0] = '\0';
  rc = azrp_jwt_sign(s, "HS256", header_rs, strlen(header_rs), claims,
                     strlen(claims), &b, err, sizeof(err));
  check(rc == -1 && strcmp(b.data, "keep") == 0 && strstr(err, "HS256") != NULL,
        "HS256 refused: rc %d, err '%s'", rc, err);
  rc = azrp_jwt_sign(s, "rs256", header_rs, strlen(header_rs), claims,
                     strlen(claims), &b, err, sizeof(err));
  check(rc == -1 && b.len == 4, "alg is case-sensitive");
  rc = azrp_jwt_sign(s, NULL, header_rs, strlen(header_rs), claims,
                     strlen(claims), &b, err, sizeof(err));
  check(rc == -1 && b.len == 4, "NULL alg refused");
  /* a tiny err buffer is not overrun */
  {
    char small[8];
    memset(small, 'z', sizeof(small));
    rc = azrp_jwt_sign(s, "none", "{}", 2, "{}", 2, &b, small, 5);
    check(rc == -1 && small[4] == '\0' && small[5] == 'z', "error message truncated to errlen");
  }
  azrp_buf_free(&b);
  azrp_buf_free(&b2);
}

/* sub-strings of the base64 body of the key PEM files */
static int contains_key_material (const char *msg, const char *keyfile) {
  size_t n = 0, i, j;
  char *pem = slurp(keyfile, &n), *line, *save = NULL;
  char frag[17];
  int found = 0;
  if (pem == NULL)
    return 0;
  for (line = strtok_r(pem, "\n", &save); line != NULL && !found;
       line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, "-----", 5) == 0 || strchr(line, ':') != NULL)
      continue;
    for (i = 0, j = strlen(line); i + 16 <= j && !found; i += 8) {
      memcpy(frag, line + i, 16);
      frag[16] = '\0';
      found = strstr(msg, frag) != NULL;
    }
  }
  free(pem);
  return found;
}

static void check_message (const char *what, const char *err) {
  check(err[0] != '\0', "%s: an error message", what);
  check(strstr(err, "PRIVATE KEY") == NULL && strstr(err, "-----") == NULL,
        "%s: message names no PEM block: %s", what, err);
  check(strstr(err, "s3cret") == NULL && strstr(err, "wr0ng") == NULL,
        "%s: message has no passphrase: %s", what, err);
  check(!contains_key_material(err, "key.pem") && !contains_key_material(err, "enckey.pem") &&
        !contains_key_material(err, "eckey.pem") && !contains_key_material(err, "other.pem"),
        "%s: message has no key material: %s", what, err);
  printf("  %-34s -> %s\n", what, err);
}

static void test_load (void) {
  char err[512];
  azrp_signer *s;
  size_t clen = 0, klen = 0;
  char *c, *k, *exact;
  static const struct { const char *what, *cert, *key, *pass; } bad[] = {
    {"EC key and certificate", "eccert.pem", "eckey.pem", NULL},
    {"EC key, RSA certificate", "cert.pem", "eckey.pem", NULL},
    {"mismatched RSA key", "cert.pem", "other.pem", NULL},
    {"encrypted key, no passphrase", "cert.pem", "enckey.pem", NULL},
    {"encrypted key, wrong passphrase", "cert.pem", "enckey.pem", "wr0ng"},
    {"traditional encrypted, no pass", "cert.pem", "tradenc.pem", NULL},
    {"traditional encrypted, wrong", "cert.pem", "tradenc.pem", "wr0ng"},
    {"certificate only, no key", "cert.pem", NULL, NULL},
    {"key file as certificate", "key.pem", "key.pem", NULL},
    {"garbage certificate", "garbage.pem", "key.pem", NULL},
    {"garbage key", "cert.pem", "garbage.pem", NULL},
    {"empty key", "cert.pem", "empty.pem", NULL},
    {"truncated key", "cert.pem", "truncated.pem", NULL},
    {"public key as private key", "cert.pem", "pub.pem", NULL},
  };
  static const struct { const char *what, *cert, *key, *pass; } good[] = {
    {"separate PEM files", "cert.pem", "key.pem", NULL},
    {"passphrase on a plain key", "cert.pem", "key.pem", "ignored"},
    {"PKCS#8 encrypted key", "cert.pem", "enckey.pem", "s3cret"},
    {"traditional encrypted key", "cert.pem", "tradenc.pem", "s3cret"},
    {"traditional RSA key", "cert.pem", "tradkey.pem", NULL},
    {"cert then key, one file", "both.pem", NULL, NULL},
    {"key then cert, one file", "both2.pem", NULL, NULL},
    {"encrypted, one file", "bothenc.pem", NULL, "s3cret"},
    {"chain: leaf, then another cert", "chain.pem", "key.pem", NULL},
  };
  size_t i;
  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    s = load(good[i].cert, good[i].key, good[i].pass, err, sizeof(err));
    check(s != NULL, "%s loads: %s", good[i].what, err);
    if (s != NULL) {
      char *want = openssl_thumbprint("cert.pem", "sha256");
      check(want != NULL && strcmp(azrp_signer_x5t_s256(s), want) == 0,
            "%s: the leaf certificate's thumbprint", good[i].what);
      free(want);
    }
    azrp_signer_free(s);
  }
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    s = load(bad[i].cert, bad[i].key, bad[i].pass, err, sizeof(err));
    check(s == NULL, "%s is refused", bad[i].what);
    azrp_signer_free(s);
    check_message(bad[i].what, err);
  }
  /* specific reasons */
  s = load("eccert.pem", "eckey.pem", NULL, err, sizeof(err));
  check(s == NULL && strstr(err, "not an RSA key") != NULL, "EC: says not RSA: %s", err);
  s = load("cert.pem", "other.pem", NULL, err, sizeof(err));
  check(s == NULL && strstr(err, "does not match") != NULL, "mismatch: says so: %s", err);

  /* lengths are honoured: inputs without a NUL terminator (ASan checks) */
  c = slurp("cert.pem", &clen);
  k = slurp("key.pem", &klen);
  if (c != NULL && k != NULL) {
    exact = (char *)malloc(clen + klen);
    memcpy(exact, c, clen);
    memcpy(exact + clen, k, klen);
    s = azrp_signer_new(exact, clen + klen, NULL, 0, NULL, err, sizeof(err));
    check(s != NULL, "unterminated PEM with both: %s", err);
    azrp_signer_free(s);
    /* cut inside the key: the certificate part alone has no key */
    s = azrp_signer_new(exact, clen + 40, NULL, 0, NULL, err, sizeof(err));
    check(s == NULL, "a length that stops inside the key is honoured");
    check_message("key cut short by length", err);
    free(exact);
    s = azrp_signer_new(c, 0, k, klen, NULL, err, sizeof(err));
    check(s == NULL, "zero-length certificate refused");
    s = azrp_signer_new(NULL, 0, k, klen, NULL, err, sizeof(err));
    check(s == NULL, "NULL certificate refused");
    s = azrp_signer_new(c, clen, k, 0, NULL, err, sizeof(err));
    check(s == NULL, "zero-length key refused");
    s = azrp_signer_new(c, clen, k, klen, NULL, NULL, 0);
    check(s != NULL, "err may be NULL");
    azrp_signer_free(s);
    s = azrp_signer_new(c, clen, "junk", 4, NULL, NULL, 0);
    check(s == NULL, "failure with err NULL");
  }
  free(c);
  free(k);
  azrp_signer_free(NULL);
}

/* failures leave no OpenSSL error behind for the next caller */
static void test_error_queue (void) {
  char err[256];
  azrp_signer *s = load("cert.pem", "enckey.pem", "wr0ng", err, sizeof(err));
  azrp_buf b = AZRP_BUF_INIT;
  check(s == NULL && ERR_peek_error() == 0, "error queue empty after a failed load");
  azrp_signer_free(s);
  s = load("cert.pem", "both.pem", NULL, err, sizeof(err));
  check(s != NULL && ERR_peek_error() == 0, "error queue empty after a load");
  if (s != NULL) {
    check(azrp_jwt_sign(s, "RS256", "{}", 2, "{}", 2, &b, err, sizeof(err)) == 0 &&
          ERR_peek_error() == 0, "error queue empty after signing");
    check(azrp_jwt_sign(s, "XX", "{}", 2, "{}", 2, &b, err, sizeof(err)) == -1 &&
          ERR_peek_error() == 0, "error queue empty after a failed signing");
  }
  azrp_signer_free(s);
  azrp_buf_free(&b);
}

/* }====================================================== */

static int setup (void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof(dir), "%s/azrp-crypto-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL)
    return -1;
  return sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem "
            "-days 2 -subj /CN=azrp-test") ||
         sh("openssl x509 -in cert.pem -pubkey -noout > pub.pem") ||
         sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            "-keyout eckey.pem -out eccert.pem -days 2 -subj /CN=azrp-ec") ||
         sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.pem") ||
         sh("openssl pkey -in key.pem -aes256 -passout pass:s3cret -out enckey.pem") ||
         sh("openssl rsa -in key.pem -traditional -out tradkey.pem") ||
         sh("openssl rsa -in key.pem -traditional -aes256 -passout pass:s3cret -out tradenc.pem") ||
         sh("openssl req -x509 -key other.pem -out othercert.pem -days 2 -subj /CN=other") ||
         sh("cat cert.pem key.pem > both.pem && cat key.pem cert.pem > both2.pem") ||
         sh("cat cert.pem enckey.pem > bothenc.pem && cat cert.pem othercert.pem > chain.pem") ||
         sh("printf 'not a pem\\n' > garbage.pem && : > empty.pem") ||
         sh("head -c 900 key.pem > truncated.pem") ||
         sh("grep -q 'BEGIN ENCRYPTED PRIVATE KEY' enckey.pem") ||
         sh("grep -q 'Proc-Type: 4,ENCRYPTED' tradenc.pem") ||
         sh("grep -q 'BEGIN RSA PRIVATE KEY' tradkey.pem");
}

int main (void) {
  char err[512];
  azrp_signer *s;
  /* sanitizers end the process with _exit: keep nothing in stdio buffers */
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (setup() != 0) {
    printf("setup with the openssl command failed (in %s)\n", dir);
    printf("0 passed, 1 failed\n");
    return 1;
  }
  test_base64url();
  test_uuid4();
  s = load("cert.pem", "key.pem", NULL, err, sizeof(err));
  check(s != NULL, "load cert.pem + key.pem: %s", err);
  if (s != NULL) {
    test_thumbprints(s);
    test_sign(s);
  }
  azrp_signer_free(s);
  test_load();
  test_error_queue();
  if (getenv("AZRP_KEEP_TMP") == NULL)
    sh("cd / && rm -rf '%s'", dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
