/*
** JWT building (src/crypto.c azrp_jwt_sign, azrp_base64url): any header
** and claims bytes (split at the first NUL of the input; its first byte
** picks RS256 or PS256) give three base64url parts whose first two decode
** back to the header and the claims, with no padding and no byte outside
** base64url.  The throwaway RSA key and certificate are made once, in
** memory, at start-up (no key material on disk).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static azrp_signer *signer;

static char *pem (int (*w)(BIO *, void *), void *obj, size_t *len) {
  BIO *b = BIO_new(BIO_s_mem());
  char *p, *out;
  long n;
  if (b == NULL || !w(b, obj)) abort();
  n = BIO_get_mem_data(b, &p);
  out = (char *)malloc((size_t)n + 1);
  if (out == NULL) abort();
  memcpy(out, p, (size_t)n);
  out[n] = '\0';
  *len = (size_t)n;
  BIO_free(b);
  return out;
}
static int w_cert (BIO *b, void *x) { return PEM_write_bio_X509(b, (X509 *)x); }
static int w_key (BIO *b, void *k) {
  return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}

int LLVMFuzzerInitialize (int *argc, char ***argv) {
  EVP_PKEY *k = EVP_RSA_gen(2048);
  X509 *x = X509_new();
  char err[256], *cp, *kp;
  size_t cl, kl;
  if (k == NULL || x == NULL) abort();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, k);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             (const unsigned char *)"azrp-fuzz", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  if (!X509_sign(x, k, EVP_sha256())) abort();
  cp = pem(w_cert, x, &cl);
  kp = pem(w_key, k, &kl);
  signer = azrp_signer_new(cp, cl, kp, kl, NULL, err, sizeof err);
  if (signer == NULL) { fprintf(stderr, "signer: %s\n", err); abort(); }
  memset(kp, 0, kl);
  free(cp); free(kp);
  X509_free(x); EVP_PKEY_free(k);
  return 0;
}

static int b64val (char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

/* Decodes n base64url characters of p and compares them with want. */
static void check_part (const char *p, size_t n, const uint8_t *want, size_t wn) {
  size_t i, o = 0;
  unsigned acc = 0;
  int bits = 0;
  if (n % 4 == 1) abort();
  for (i = 0; i < n; i++) {
    int v = b64val(p[i]);
    if (v < 0) abort();
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= wn || (uint8_t)(acc >> bits) != want[o]) abort();
      o++;
      acc &= (1u << bits) - 1;
    }
  }
  if (o != wn) abort();
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  azrp_buf out = AZRP_BUF_INIT;
  char err[256];
  const uint8_t *nul = (const uint8_t *)memchr(data, 0, size);
  const uint8_t *h = data, *c = nul ? nul + 1 : data + size;
  size_t hl = (size_t)((nul ? nul : data + size) - data), cl = (size_t)(data + size - c);
  const char *alg = size && (data[0] & 1) ? "PS256" : "RS256";
  const char *d1, *d2;
  if (azrp_jwt_sign(signer, alg, (const char *)h, hl, (const char *)c, cl, &out, err, sizeof err) != 0) {
    fprintf(stderr, "sign: %s\n", err);
    abort();
  }
  d1 = memchr(out.data, '.', out.len);
  if (d1 == NULL) abort();
  d2 = memchr(d1 + 1, '.', out.len - (size_t)(d1 + 1 - out.data));
  if (d2 == NULL || memchr(d2 + 1, '.', out.len - (size_t)(d2 + 1 - out.data))) abort();
  check_part(out.data, (size_t)(d1 - out.data), h, hl);
  check_part(d1 + 1, (size_t)(d2 - d1 - 1), c, cl);
  if (out.len - (size_t)(d2 + 1 - out.data) != 342) abort();   /* 256 bytes, unpadded */
  azrp_buf_free(&out);
  return 0;
}
