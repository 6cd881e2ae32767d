/*
** OpenSSL helpers, free of Lua types: what the certificate credential
** needs to sign its client assertion (a JWT), and base64url.
*/
#ifndef AZRP_CRYPTO_H
#define AZRP_CRYPTO_H

#include <stddef.h>
#include "buffer.h"

typedef struct azrp_signer azrp_signer;   /* a certificate and its private key */

/*
** Loads a PEM certificate and a PEM private key (key_pem may be NULL when
** cert_pem holds both; passphrase may be NULL).  NULL and a message in err
** (which never contains key material) on failure, or when the key does
** not match the certificate or is not RSA.
*/
azrp_signer *azrp_signer_new (const char *cert_pem, size_t cert_len,
                              const char *key_pem, size_t key_len,
                              const char *passphrase, char *err, size_t errlen);
void azrp_signer_free (azrp_signer *s);

/* base64url (no padding) SHA-1 and SHA-256 thumbprints of the DER certificate. */
const char *azrp_signer_x5t (const azrp_signer *s);
const char *azrp_signer_x5t_s256 (const azrp_signer *s);
/* The DER certificate, standard base64 (for an "x5c" header). */
const char *azrp_signer_x5c (const azrp_signer *s);

/*
** Signs a JWT: out receives base64url(header_json) "." base64url(claims_json)
** "." base64url(signature).  alg is "RS256" (PKCS#1 v1.5, SHA-256) or
** "PS256" (RSA-PSS, SHA-256, salt length 32).  0 on success, -1 and a
** message in err otherwise.
*/
int azrp_jwt_sign (const azrp_signer *s, const char *alg,
                   const char *header_json, size_t header_len,
                   const char *claims_json, size_t claims_len,
                   azrp_buf *out, char *err, size_t errlen);

/* base64url without padding; 0 or -1 (out of memory). */
int azrp_base64url (const unsigned char *p, size_t n, azrp_buf *out);

/* n random bytes from OpenSSL's generator as a lower-case v4 UUID string (37 bytes with NUL). */
int azrp_uuid4 (char out[37]);

#endif
