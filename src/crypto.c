/*
** OpenSSL helpers for the certificate credential (see crypto.h): load a
** PEM certificate and its RSA key, compute the thumbprints Entra ID reads
** from the JWT header (x5t, x5t#S256, x5c), sign RS256/PS256 client
** assertions, base64url, and v4 UUIDs for the "jti" claim.
**
** Only EVP interfaces are used (no RSA_* calls, deprecated in OpenSSL 3).
** There is no mutable static state: a signer is read-only after
** azrp_signer_new, so one signer may sign from several threads.
**
** Error messages name what failed plus OpenSSL's packed error string
** (ERR_error_string_n: "error:code:library::reason").  That string never
** carries the error's free-form data, which is where OpenSSL puts things
** like "Expecting: ANY PRIVATE KEY"; so no PEM text, key bytes or
** passphrase ever reaches a message.  Every entry point leaves the
** thread's OpenSSL error queue empty, so a later, unrelated failure is
** not blamed on a stale error.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto.h"

#if OPENSSL_VERSION_NUMBER < 0x30000000L
/* 1.1.1 names it without "get"; the rest of this file is 1.1.1-clean */
#define EVP_PKEY_get_base_id EVP_PKEY_base_id
#endif

/* base64url text length of n bytes, no padding */
#define B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 == 0 ? 0 : (n) % 3 + 1))

#define SHA1_B64URL_LEN B64URL_LEN(20)     /* 27 */
#define SHA256_B64URL_LEN B64URL_LEN(32)   /* 43 */

/* RFC 7518 3.5: PS256 uses a salt as long as the SHA-256 digest */
#define PS256_SALT_LEN 32


struct azrp_signer {
  EVP_PKEY *pkey;                         /* RSA; matches the certificate */
  char x5t[SHA1_B64URL_LEN + 1];
  char x5t_s256[SHA256_B64URL_LEN + 1];
  char *x5c;                              /* malloc'ed, NUL-terminated */
};


/*
** {======================================================
** Errors
** =======================================================
*/

/*
** Writes "what" into err, followed by the first queued OpenSSL error if
** any, then empties the queue.  The first error is the root cause (e.g.
** "bad decrypt"); later ones only say which layer gave up.
*/
static void set_error (char *err, size_t errlen, const char *what) {
  unsigned long e = ERR_get_error();
  char ossl[256];
  if (err != NULL && errlen > 0) {
    if (e != 0) {
      ERR_error_string_n(e, ossl, sizeof(ossl));
      snprintf(err, errlen, "%s (%s)", what, ossl);
    }
    else
      snprintf(err, errlen, "%s", what);
  }
  ERR_clear_error();
}

/* }====================================================== */


/*
** {======================================================
** base64url
** =======================================================
*/

static const char b64url_digits[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
** Encodes n bytes into dst (B64URL_LEN(n) bytes, no NUL written) and
** returns the number of characters.  Shared by the fixed-size thumbprint
** fields and the chunked buffer encoder.
*/
static size_t b64url_encode (const unsigned char *p, size_t n, char *dst) {
  size_t i, k = 0;
  unsigned long v;
  for (i = 0; i + 3 <= n; i += 3) {
    v = ((unsigned long)p[i] << 16) | ((unsigned long)p[i + 1] << 8) | p[i + 2];
    dst[k++] = b64url_digits[(v >> 18) & 63];
    dst[k++] = b64url_digits[(v >> 12) & 63];
    dst[k++] = b64url_digits[(v >> 6) & 63];
    dst[k++] = b64url_digits[v & 63];
  }
  if (n - i == 1) {
    v = (unsigned long)p[i] << 16;
    dst[k++] = b64url_digits[(v >> 18) & 63];
    dst[k++] = b64url_digits[(v >> 12) & 63];
  }
  else if (n - i == 2) {
    v = ((unsigned long)p[i] << 16) | ((unsigned long)p[i + 1] << 8);
    dst[k++] = b64url_digits[(v >> 18) & 63];
    dst[k++] = b64url_digits[(v >> 12) & 63];
    dst[k++] = b64url_digits[(v >> 6) & 63];
  }
  return k;
}

/*
** Drops what a failed operation appended, so callers see out as it was.
** azrp_buf keeps data NUL-terminated, hence the terminator.
*/
static void buf_truncate (azrp_buf *b, size_t len) {
  if (b->len > len) {
    b->len = len;
    b->data[len] = '\0';
  }
}

/*
** Appends to out.  Encodes through a stack chunk (192 input bytes, a
** multiple of 3, give 256 characters) so that no temporary allocation is
** needed whatever n is.
*/
int azrp_base64url (const unsigned char *p, size_t n, azrp_buf *out) {
  size_t start = out->len;
  char chunk[256];
  size_t step;
  while (n > 0) {
    step = n < 192 ? n : 192;
    if (azrp_buf_append(out, chunk, b64url_encode(p, step, chunk)) != 0) {
      buf_truncate(out, start);
      return -1;
    }
    p += step;
    n -= step;
  }
  return 0;
}

/* }====================================================== */


/*
** {======================================================
** Signer
** =======================================================
*/

/*
** What the PEM passphrase callback was given, and whether OpenSSL asked:
** that tells "encrypted and no passphrase" and "wrong passphrase" apart
** from "not a key at all" without decoding OpenSSL's reason codes.
*/
typedef struct pass_state {
  const char *pass;   /* NULL: none given */
  int asked;
} pass_state;

/*
** PEM passphrase callback.  Supplying one at all matters: without it
** OpenSSL would prompt on the controlling terminal for an encrypted key
** and block the process.  No passphrase, or one too long for OpenSSL's
** buffer, fails the read instead.
*/
static int pass_cb (char *buf, int size, int rwflag, void *u) {
  pass_state *ps = (pass_state *)u;
  size_t len;
  (void)rwflag;       /* 0: reading, which is all this file does */
  if (ps == NULL)     /* reading a certificate: never encrypted */
    return -1;
  ps->asked = 1;
  if (ps->pass == NULL || size <= 0)
    return -1;
  len = strlen(ps->pass);
  if (len > (size_t)size)
    return -1;
  memcpy(buf, ps->pass, len);
  return (int)len;
}

/* The first certificate of the PEM text (a chain starts with the leaf). */
static X509 *read_cert (const char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  X509 *cert;
  if (bio == NULL)
    return NULL;
  cert = PEM_read_bio_X509(bio, NULL, pass_cb, NULL);
  BIO_free(bio);
  return cert;
}

/*
** The first private key of the PEM text.  PEM reading skips blocks of
** other types, so a file holding the certificate before the key works.
** Takes PKCS#8 (plain or encrypted) and the traditional per-type forms.
*/
static EVP_PKEY *read_key (const char *pem, size_t len, pass_state *ps) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  EVP_PKEY *pkey;
  if (bio == NULL)
    return NULL;
  pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, ps);
  BIO_free(bio);
  return pkey;
}

/* base64url of a digest of der into dst (room for B64URL_LEN + 1). */
static int thumbprint (const unsigned char *der, size_t len,
                       const EVP_MD *md, char *dst) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  if (EVP_Digest(der, len, digest, &dlen, md, NULL) != 1)
    return -1;
  dst[b64url_encode(digest, dlen, dst)] = '\0';
  return 0;
}

azrp_signer *azrp_signer_new (const char *cert_pem, size_t cert_len,
                              const char *key_pem, size_t key_len,
                              const char *passphrase, char *err, size_t errlen) {
  azrp_signer *s = NULL;
  X509 *cert = NULL;
  EVP_PKEY *pkey = NULL;
  unsigned char *der = NULL;
  int derlen;
  const char *what = NULL;   /* set on failure */
  pass_state ps;
  int one_pem = key_pem == NULL;
  ps.pass = passphrase;
  ps.asked = 0;
  ERR_clear_error();
  if (one_pem) {             /* one PEM holds both */
    key_pem = cert_pem;
    key_len = cert_len;
  }
  /* BIO_new_mem_buf takes an int length */
  if (cert_pem == NULL || cert_len == 0 || cert_len > INT_MAX)
    { what = "no certificate, or one too large"; goto done; }
  if (key_len == 0 || key_len > INT_MAX)
    { what = "no private key, or one too large"; goto done; }
  if ((cert = read_cert(cert_pem, cert_len)) == NULL)
    { what = "cannot read the PEM certificate"; goto done; }
  if ((pkey = read_key(key_pem, key_len, &ps)) == NULL) {
    if (ps.asked)
      what = passphrase == NULL
        ? "the private key is encrypted and no passphrase was given"
        : "cannot decrypt the private key (wrong passphrase?)";
    else
      what = one_pem
        ? "no PEM private key in the certificate PEM (and no key PEM given)"
        : "cannot read the PEM private key";
    goto done;
  }
  /* RS256 and PS256 are RSA only; an RSA-PSS-restricted key cannot do RS256 */
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
    { what = "the private key is not an RSA key"; goto done; }
  if (X509_check_private_key(cert, pkey) != 1)
    { what = "the private key does not match the certificate"; goto done; }
  if ((derlen = i2d_X509(cert, &der)) <= 0)
    { what = "cannot encode the certificate as DER"; goto done; }
  if ((s = (azrp_signer *)malloc(sizeof(*s))) == NULL)
    { what = "out of memory"; goto done; }
  s->pkey = NULL;
  /* EVP_EncodeBlock: standard base64, no line breaks, NUL-terminated */
  if ((s->x5c = (char *)malloc(((size_t)derlen + 2) / 3 * 4 + 1)) == NULL)
    { what = "out of memory"; goto done; }
  EVP_EncodeBlock((unsigned char *)s->x5c, der, derlen);
  if (thumbprint(der, (size_t)derlen, EVP_sha1(), s->x5t) != 0 ||
      thumbprint(der, (size_t)derlen, EVP_sha256(), s->x5t_s256) != 0)
    { what = "cannot compute the certificate thumbprints"; goto done; }
  s->pkey = pkey;            /* the signer owns the key from here */
  pkey = NULL;
 done:
  if (what != NULL) {
    set_error(err, errlen, what);
    azrp_signer_free(s);
    s = NULL;
  }
  OPENSSL_free(der);
  EVP_PKEY_free(pkey);
  X509_free(cert);
  ERR_clear_error();         /* e.g. errors PEM reading recovered from */
  return s;
}

void azrp_signer_free (azrp_signer *s) {
  if (s == NULL)
    return;
  EVP_PKEY_free(s->pkey);
  free(s->x5c);
  free(s);
}

const char *azrp_signer_x5t (const azrp_signer *s) {
  return s->x5t;
}

const char *azrp_signer_x5t_s256 (const azrp_signer *s) {
  return s->x5t_s256;
}

const char *azrp_signer_x5c (const azrp_signer *s) {
  return s->x5c;
}

/* }====================================================== */


/*
** {======================================================
** JWT
** =======================================================
*/

/*
** Signs data with SHA-256 and the padding alg names.  *sig is malloc'ed
** by this function and freed by the caller, even on failure.
*/
static int rsa_sign (EVP_PKEY *pkey, int pss, const unsigned char *data,
                     size_t len, unsigned char **sig, size_t *siglen) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;   /* owned by md */
  int ok = 0;
  *sig = NULL;
  if (md == NULL || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1)
    goto done;
  if (pss) {
    /* all three explicit: OpenSSL's PSS defaults (salt = max) differ */
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PS256_SALT_LEN) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)
      goto done;
  }
  else if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
    goto done;
  /* the documented two calls: size first, then the signature */
  if (EVP_DigestSign(md, NULL, siglen, data, len) != 1)
    goto done;
  if ((*sig = (unsigned char *)malloc(*siglen)) == NULL)
    goto done;
  if (EVP_DigestSign(md, *sig, siglen, data, len) != 1)
    goto done;
  ok = 1;
 done:
  EVP_MD_CTX_free(md);
  return ok ? 0 : -1;
}

int azrp_jwt_sign (const azrp_signer *s, const char *alg,
                   const char *header_json, size_t header_len,
                   const char *claims_json, size_t claims_len,
                   azrp_buf *out, char *err, size_t errlen) {
  size_t start = out->len;
  unsigned char *sig = NULL;
  size_t siglen = 0;
  int pss;
  const char *what = NULL;   /* set on failure */
  char msg[80];
  ERR_clear_error();
  if (alg != NULL && strcmp(alg, "RS256") == 0)
    pss = 0;
  else if (alg != NULL && strcmp(alg, "PS256") == 0)
    pss = 1;
  else {
    snprintf(msg, sizeof(msg), "unsupported JWT alg '%.16s' (RS256 or PS256)",
             alg != NULL ? alg : "(none)");
    set_error(err, errlen, msg);
    return -1;
  }
  /* the signing input is built in place, then signed from out itself */
  if (azrp_base64url((const unsigned char *)header_json, header_len, out) != 0 ||
      azrp_buf_append(out, ".", 1) != 0 ||
      azrp_base64url((const unsigned char *)claims_json, claims_len, out) != 0)
    { what = "out of memory"; goto done; }
  if (rsa_sign(s->pkey, pss, (const unsigned char *)out->data + start,
               out->len - start, &sig, &siglen) != 0)
    { what = "cannot sign the JWT"; goto done; }
  /* out->data may move from here on: sig is already computed */
  if (azrp_buf_append(out, ".", 1) != 0 ||
      azrp_base64url(sig, siglen, out) != 0)
    { what = "out of memory"; goto done; }
 done:
  free(sig);
  if (what != NULL) {
    set_error(err, errlen, what);
    buf_truncate(out, start);
    return -1;
  }
  ERR_clear_error();
  return 0;
}

/* }====================================================== */


/*
** 16 bytes from OpenSSL's CSPRNG with the RFC 9562 version (4) and
** variant (10xx) bits set.  0, or -1 when the generator fails.
*/
int azrp_uuid4 (char out[37]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  int i, k = 0;
  if (RAND_bytes(b, (int)sizeof(b)) != 1) {
    ERR_clear_error();
    out[0] = '\0';
    return -1;
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[k++] = '-';
    out[k++] = hex[b[i] >> 4];
    out[k++] = hex[b[i] & 0x0f];
  }
  out[k] = '\0';
  return 0;
}
