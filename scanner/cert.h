/* Certificate chain analysis: from the chain a server presented to the
 * record's certificate fields, the verification verdict and what
 * classification needs to know about the rest of the chain. */
#ifndef CS_CERT_H
#define CS_CERT_H

#include <netinet/in.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "scanner/result.h"

/* What classify.c needs beyond the record's own fields. */
struct cs_chain_facts {
    bool verify_ok;
    char expired_name[128];   /* first expired certificate of the chain above the leaf, or "" */
    int64_t expired_at;       /* its notAfter */
    char extra_expired[128];  /* an expired certificate sent but not in the verified path */
    char soonest_name[128];   /* chain certificate above the leaf with the earliest notAfter */
    int64_t soonest_at;       /* its notAfter, CS_INT_NONE if no such certificate */
    char staple_problem[160]; /* per connection, never cached: why a stapled OCSP
                                 response cannot be trusted ("expired ..."), or "" */
    bool no_dns_names;        /* the leaf has no DNS subjectAltName */
};

struct cs_verify_input {
    X509_STORE *store; /* trust anchors */
    int64_t now;       /* verification time (scan start or --now) */
    int level;         /* security level of the verification, 0..5 (--verify-level) */
};

/* Fills every certificate field of r that depends only on the chain (not
   host/port/address/sni/status/reason/elapsed/error/tls_version/
   hostname_match) from the presented chain (leaf first), and facts for
   classification.  With issuer, *issuer gets a reference to the leaf's
   issuer (from the verified path, else from the presented chain), or NULL.
   Returns 0, or CS_EFORMAT if there is no leaf. */
int cs_cert_analyse(struct cs_result *r, struct cs_chain_facts *facts, STACK_OF(X509) * presented,
                    const struct cs_verify_input *in, X509 **issuer);

/* Fills the extension cache OpenSSL keeps in an X509 (key identifiers,
   flags, ...) while x is still private to one thread.  OpenSSL 3.0 fills it
   lazily on first use, and two threads that use an X509 with an empty cache
   at once may both fill it, one overwriting what the other is reading (a
   race inside libcrypto); so every X509 that workers share (trust anchors,
   the chain cache's intermediates) is settled before it is shared. */
void cs_x509_settle(X509 *x);
/* The same for every certificate already in store. */
void cs_x509_settle_store(X509_STORE *store);

/* The trust anchors: --ca-file/--ca-path, or the system's store when both
   are NULL.  NULL with a one-line reason in err (naming the file) if they
   cannot be read. */
X509_STORE *cs_trust_load(const char *ca_file, const char *ca_path, char *err, size_t errlen);

/* 1 if the leaf is valid for name, else 0: as RFC 9525 and browsers check,
   a host name against the DNS subjectAltNames only (never the subject CN), a
   wildcard only as the whole leftmost label; an IP literal against the IP
   subjectAltNames only. */
int cs_cert_name_matches(X509 *leaf, const char *name, bool is_ip);

/* The RFC 4514 form of a name, UTF-8, with control characters escaped. */
char *cs_name_string(const X509_NAME *name);
/* notBefore/notAfter as unix seconds; CS_INT_NONE when unreadable. */
int64_t cs_asn1_time(const ASN1_TIME *t);

/* ---- certsweep show: one certificate's fields as the record writes them, and
   the path verification builds (cs_cert_analyse's own verification) ---- */

/* The key as the record's key field names it ("EC-256", "RSA-2048",
   "ED25519"), the serial as its serial field writes it, and the
   fingerprint of x's DER with md in uppercase hex as its sha256; free each. */
char *cs_cert_key_name(X509 *x);
char *cs_cert_serial(X509 *x);
char *cs_cert_fingerprint(X509 *x, const EVP_MD *md);
/* The signature algorithm as the record's signature field names it
   ("ecdsa-with-SHA256", or "unknown"); static. */
const char *cs_cert_signature_name(X509 *x);

/* The OCSP responder URIs (authorityInfoAccess) or the CRL distribution
   point URIs (full names only) of x, in the certificate's order: fn gets
   each as the certificate holds its bytes (a CRL URI may hold NUL).  The
   record's ocsp/crl fields and show both walk them here.  Return how many. */
typedef void cs_cert_uri_fn(void *arg, const unsigned char *uri, size_t len);
int cs_cert_ocsp_uris(X509 *x, cs_cert_uri_fn *fn, void *arg);
int cs_cert_crl_uris(X509 *x, cs_cert_uri_fn *fn, void *arg);
/* An iPAddress name as text ("192.0.2.1", "2001:db8::1") in out; false when
   it is neither 4 nor 16 bytes long. */
bool cs_cert_ip_text(const ASN1_OCTET_STRING *ip, char out[INET6_ADDRSTRLEN]);

struct cs_verified_path {
    STACK_OF(X509) * path; /* leaf first: to the trust anchor when verification
                              succeeded, else as far as it got (owned) */
    int error;             /* OpenSSL's first verification error, or X509_V_OK */
    int depth;             /* the path index it is about, -1 without one */
    char *verify;          /* the record's verify phrase ("ok", ...) */
};
/* Verifies presented (leaf first) exactly as cs_cert_analyse does and keeps
   the path.  0, or CS_EFORMAT without a leaf. */
int cs_cert_verify_path(STACK_OF(X509) * presented, const struct cs_verify_input *in,
                        struct cs_verified_path *out);
void cs_verified_path_free(struct cs_verified_path *p);

#endif
