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
enum pki_key { PKI_EC256, PKI_RSA2048, PKI_ED25519, PKI_RSA16384, PKI_RSA1024, PKI_RSA512 };

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
    size_t pad_bytes;     /* > 0: a non-critical nsComment this long (big chains) */
    bool ocsp_signing;    /* a delegated OCSP responder: extendedKeyUsage id-kp-OCSPSigning
                          (instead of serverAuth) and id-pkix-ocsp-nocheck */
    bool client_auth;     /* extendedKeyUsage id-kp-clientAuth instead of serverAuth */
    const char *digest;   /* the issuer signs with this digest ("SHA1", "MD5"); NULL: SHA-256
                           (none for Ed25519 issuers) */
    bool must_staple;     /* a TLS Feature extension (RFC 7633) asking for status_request */
    unsigned scts;        /* > 0: an embedded SCT list (RFC 6962) of this many v1 SCTs from
                           distinct logs (log IDs 32 bytes of 0x01, 0x02, ...; the signatures
                           are filler: nobody holds the logs' keys) */
    unsigned sct_repeats; /* more SCTs in that list from the first log again */
};

/* Makes a key and a certificate signed by issuer (NULL: self-signed).
   Returns 0, or -1 with the OpenSSL error queue set. */
int pki_issue(struct pki_cert *out, const struct pki_spec *spec, const struct pki_cert *issuer);
/* A root (root_cn, valid from a day before now for ten years) and an
   intermediate under it (inter_cn, the same dates), both EC P-256.  0, or -1. */
int pki_root_and_intermediate(struct pki_cert *root, struct pki_cert *inter, const char *root_cn,
                              const char *inter_cn, int64_t now);
/* key's signature over data with md (NULL for EdDSA; pss: RSA-PSS, salt of
   the digest's length) in *sig (OPENSSL_free it).  0, or -1. */
int pki_sign(EVP_PKEY *key, const EVP_MD *md, bool pss, const unsigned char *data, size_t len,
             unsigned char **sig, size_t *sig_len);
void pki_cert_free(struct pki_cert *c);

/* The RSA-16384 key of this machine: $CS_TEST_CACHE/rsa16384.pem, or
   /tmp/certsweep-test-cache/rsa16384.pem.  With generate, a missing key is
   made (minutes) and cached; without, NULL when it is not cached yet. */
EVP_PKEY *pki_cached_rsa16384(bool generate);
/* The path the cached key lives at (static storage). */
const char *pki_rsa16384_path(void);

/* Writes the certificates as concatenated PEM; 0 or -1. */
int pki_write_pem(const char *path, X509 *const *certs, size_t n);
/* Writes an unencrypted PEM private key; 0 or -1. */
int pki_write_key(const char *path, EVP_PKEY *key);
/* Writes len bytes to path (DER files); 0 or -1. */
int pki_write_file(const char *path, const void *data, size_t len);

/* ---- revocation data: OCSP responses and CRLs (RFC 6960, RFC 5280) ---- */

enum pki_ocsp_status { PKI_OCSP_GOOD, PKI_OCSP_REVOKED, PKI_OCSP_UNKNOWN };

struct pki_ocsp_spec {
    X509 *leaf;   /* the certificate the answer is about */
    X509 *issuer; /* its issuer: the CertID hashes its name and key (SHA-1) */
    enum pki_ocsp_status status;
    int64_t revoked_at;            /* PKI_OCSP_REVOKED: revocationTime, unix seconds */
    int reason;                    /* PKI_OCSP_REVOKED: OCSP_REVOKED_STATUS_*, or
                                      OCSP_REVOKED_STATUS_NOSTATUS for no revocationReason */
    int64_t this_update;           /* unix seconds */
    int64_t next_update;           /* 0: no nextUpdate */
    const struct pki_cert *signer; /* the issuer itself or a delegated responder; the
                                      ResponderID names its subject */
    EVP_PKEY *wrong_key;           /* not NULL: the signature is made with this key instead of
                                      signer's, so the response names signer but does not verify */
    bool include_signer;           /* the response carries signer's certificate */
    const unsigned char *nonce;    /* not NULL: an id-pkix-ocsp-nonce extension with these
                                      nonce_len bytes (the value of its OCTET STRING) */
    size_t nonce_len;
};

/* A DER OCSPResponse (successful, one BasicOCSPResponse with one
   SingleResponse) in *der (free() it) of *len bytes.  0, or -1 with the
   OpenSSL error queue set. */
int pki_ocsp_response(const struct pki_ocsp_spec *spec, unsigned char **der, size_t *len);

struct pki_crl_entry {
    const char *serial_hex; /* the revoked certificate's serial, hex */
    int64_t revoked_at;     /* revocationDate, unix seconds */
    int reason;             /* CRL_REASON_* of openssl/x509v3.h; CRL_REASON_NONE: no
                               reasonCode extension */
};

struct pki_crl_spec {
    const struct pki_cert *issuer; /* names the CRL's issuer (and signs it) */
    EVP_PKEY *wrong_key;           /* not NULL: signed with this key instead */
    int64_t last_update;           /* thisUpdate (lastUpdate in OpenSSL), unix seconds */
    int64_t next_update;           /* 0: no nextUpdate */
    const struct pki_crl_entry *entries;
    size_t n_entries;
    size_t min_bytes; /* > 0: dummy entries (serials 7FFF0000...) until the DER
                         encoding is at least this many bytes */
    bool pem;         /* write PEM ("X509 CRL") instead of DER */
    /* not NULL: called on the CRL before it is signed (extensions, entry
       extensions, another issuer name, ...); returns 0, or -1 to fail */
    int (*edit)(X509_CRL *crl, void *arg);
    void *edit_arg;
};

/* Writes a v2 CRL (authorityKeyIdentifier, cRLNumber 1, entries sorted) to
   path; *size (if not NULL) gets the bytes written.  0, or -1. */
int pki_crl(const char *path, const struct pki_crl_spec *spec, size_t *size);

/* An openssl-ca style date, "YYMMDDHHMMSSZ" (index.txt of `openssl ocsp -index`). */
void pki_index_time(int64_t t, char buf[16]);
/* ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SSZ", as the reports write times; made here,
   not by the scanner's formatter. */
void pki_iso_time(int64_t t, char buf[24]);

/* Expected record values, computed independently of the scanner's cert.c:
   uppercase hex serial and SHA-256 fingerprint of the DER, and notBefore /
   notAfter as unix seconds. */
void pki_serial_hex(X509 *x, char *buf, size_t len);
void pki_sha256_hex(X509 *x, char buf[65]);
int64_t pki_not_before(X509 *x);
int64_t pki_not_after(X509 *x);

#endif
