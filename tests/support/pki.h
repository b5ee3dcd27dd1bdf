/* A throw-away test PKI built with the OpenSSL API at test time: roots,
 * intermediates and leafs with chosen validity, names, keys and extensions. */
#ifndef CS_TEST_PKI_H
#define CS_TEST_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum pki_key { PKI_EC256, PKI_RSA2048, PKI_ED25519 };

struct pki_cert {
    X509 *x509;
    EVP_PKEY *key;
};

struct pki_spec {
    /* Subject as NULL-terminated pairs of field name and UTF-8 value:
       {"CN", "ok.fleet.test", "O", "Example, Inc.", NULL}.  Values may hold
       any bytes but NUL (commas, quotes, newlines, control characters). */
    const char *const *subject;
    int64_t not_before;          /* unix seconds */
    int64_t not_after;
    enum pki_key key;
    const char *const *sans;     /* NULL-terminated "DNS:name" / "IP:addr", or NULL */
    const char *ocsp_uri;        /* AIA OCSP URI, or NULL */
    const char *crl_uri;         /* CRL distribution point URI, or NULL */
    bool ca;                     /* basicConstraints CA:TRUE, keyCertSign */
    const char *serial_hex;      /* NULL: 16 random bytes (positive) */
};

/* Makes a key and a certificate signed by issuer (NULL: self-signed).
   Returns 0, or -1 with the OpenSSL error queue set. */
int pki_issue(struct pki_cert *out, const struct pki_spec *spec, const struct pki_cert *issuer);
void pki_cert_free(struct pki_cert *c);

/* Writes the certificates as concatenated PEM; 0 or -1. */
int pki_write_pem(const char *path, X509 *const *certs, size_t n);

/* Expected record values, computed independently of the scanner's cert.c:
   uppercase hex serial and SHA-256 fingerprint of the DER, and notBefore /
   notAfter as unix seconds. */
void pki_serial_hex(X509 *x, char *buf, size_t len);
void pki_sha256_hex(X509 *x, char buf[65]);
int64_t pki_not_before(X509 *x);
int64_t pki_not_after(X509 *x);

#endif
