/* A throw-away test PKI built with the OpenSSL API at test time: roots,
 * intermediates and leafs with chosen validity, names, keys and extensions. */
#ifndef CS_TEST_PKI_H
#define CS_TEST_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* PKI_RSA16384 is not generated per call: pki_cached_rsa16384() loads it from
   the per-machine cache (making it once, about four minutes, if missing). */
enum pki_key { PKI_EC256, PKI_RSA2048, PKI_ED25519, PKI_RSA16384 };

/* One subject attribute taken as raw bytes, for names no UTF-8 C string can
   carry: embedded NUL bytes, invalid UTF-8, T61String/BMPString contents. */
struct pki_rdn {
    const char *field; /* "CN", "O", ...; NULL ends the list */
    const char *value;
    size_t len; /* bytes of value (it may hold NUL) */
    int type;   /* V_ASN1_UTF8STRING, V_ASN1_T61STRING, ...: stored as is */
};

struct pki_cert {
    X509 *x509;
    EVP_PKEY *key;
};

struct pki_spec {
    /* Subject as NULL-terminated pairs of field name and UTF-8 value:
       {"CN", "ok.fleet.test", "O", "Example, Inc.", NULL}.  Values may hold
       any bytes but NUL (commas, quotes, newlines, control characters). */
    const char *const *subject;
    int64_t not_before; /* unix seconds */
    int64_t not_after;
    enum pki_key key;
    const char *const *sans;           /* NULL-terminated "DNS:name" / "IP:addr", or NULL */
    const char *ocsp_uri;              /* AIA OCSP URI, or NULL */
    const char *crl_uri;               /* CRL distribution point URI, or NULL */
    bool ca;                           /* basicConstraints CA:TRUE, keyCertSign */
    const char *serial_hex;            /* NULL: 16 random bytes (positive); "-..." is negative */
    const struct pki_rdn *raw_subject; /* appended after subject, byte for byte, or NULL */
    const char *const *raw_sans;       /* DNS names with their lengths (NUL inside), or NULL */
    const size_t *raw_san_lens;
    size_t pad_bytes; /* > 0: a non-critical nsComment this long (big chains) */
};

/* Makes a key and a certificate signed by issuer (NULL: self-signed).
   Returns 0, or -1 with the OpenSSL error queue set. */
int pki_issue(struct pki_cert *out, const struct pki_spec *spec, const struct pki_cert *issuer);
void pki_cert_free(struct pki_cert *c);

/* The RSA-16384 key of this machine: $CS_TEST_CACHE/rsa16384.pem, or
   /tmp/certsweep-test-cache/rsa16384.pem.  With generate, a missing key is
   made (minutes) and cached; without, NULL when it is not cached yet. */
EVP_PKEY *pki_cached_rsa16384(bool generate);
/* The path the cached key lives at (static storage). */
const char *pki_rsa16384_path(void);

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
