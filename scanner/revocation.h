/* Revocation answers: checking a stapled OCSP response, an OCSP responder's
 * answer and a CRL against the leaf and its issuer, combining what the
 * sources said, and writing the outcome into the record.  Everything here is
 * a pure function of its inputs (no I/O), so it runs on any thread; the
 * fetching lives in revoker.c. */
#ifndef CS_REVOCATION_H
#define CS_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "scanner/result.h"

enum cs_rev_state { CS_REV_UNCHECKED, CS_REV_GOOD, CS_REV_REVOKED, CS_REV_UNKNOWN, CS_REV_ERROR };
enum cs_rev_source { CS_SRC_NONE, CS_SRC_STAPLE, CS_SRC_OCSP, CS_SRC_CRL };

/* What one source said about one leaf. */
struct cs_rev_answer {
    enum cs_rev_state state;
    enum cs_rev_source source;
    int64_t revoked_at;  /* CS_INT_NONE unless revoked */
    int reason;          /* CRL reason code, -1 when absent */
    int64_t this_update; /* CS_INT_NONE when absent */
    int64_t next_update;
    char error[160]; /* state ERROR: what went wrong, without the source; state
                        UNCHECKED: why nothing was asked, or "" */
};

/* An answer in state UNCHECKED from source src. */
void cs_rev_answer_init(struct cs_rev_answer *a, enum cs_rev_source src);
/* Sets a to state ERROR with a printf-style reason. */
void cs_rev_fail(struct cs_rev_answer *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Leaves a in state UNCHECKED, saying why nothing was asked. */
void cs_rev_unchecked(struct cs_rev_answer *a, const char *why);

/* What the checks need about the certificate whose status is asked. */
struct cs_rev_subject {
    X509 *leaf;
    X509 *issuer;           /* NULL when the chain did not give one */
    STACK_OF(X509) * certs; /* the presented chain and the issuer: where a
                              responder certificate may be found */
    X509_STORE *store;      /* trust anchors; verification at time now */
    int64_t now;
    bool issuer_trusted; /* the leaf's chain, issuer included, verified to a trust
                              anchor at now: a response the issuer itself signed then
                              needs only its signature checked */
};

/* Whether the leaf's chain leads to a trust anchor: issuer_trusted, or a
   verification at s->store that passes without dates and without the TLS
   server purpose.  Only then were its
   OCSP and CRL URIs chosen by a CA the scan trusts, and may be fetched. */
bool cs_rev_chain_anchored(const struct cs_rev_subject *s);

/* Checks an OCSPResponse (DER) for s->leaf: the responder status, the
   signature (the issuer itself or a responder it delegated to), the nonce
   when req is not NULL, and thisUpdate/nextUpdate against s->now (without
   nextUpdate, thisUpdate at most 7 days ago).  The answer's source is src. */
void cs_ocsp_check(struct cs_rev_answer *a, enum cs_rev_source src, const unsigned char *der,
                   size_t len, const struct cs_rev_subject *s, OCSP_REQUEST *req);

/* An OCSP request for s->leaf (SHA-1 CertID, RFC 5019) with a fresh nonce,
   and its DER; NULL without an issuer or on failure. */
OCSP_REQUEST *cs_ocsp_request(const struct cs_rev_subject *s, unsigned char **der, size_t *len);

/* A CRL from DER or PEM bytes; NULL with a reason in why if it does not parse. */
X509_CRL *cs_crl_parse(const unsigned char *buf, size_t len, char *why, size_t whylen);
/* Checks crl as the issuer's CRL: issuer name, signature (skipped when
   signature_known_good: it was verified with this issuer before), its scope
   (no delta or indirect CRL, no unknown critical extension in it or in an
   entry, an issuingDistributionPoint that covers the leaf and names one of
   its distribution points), validity window, and whether it lists the
   leaf's serial.  Returns true if the signature is good (so the caller can
   skip it next time). */
bool cs_crl_check(struct cs_rev_answer *a, X509_CRL *crl, const struct cs_rev_subject *s,
                  bool signature_known_good);

/* A CRL whose signature was verified, boiled down to what lookups need: its
   issuer's name, lastUpdate/nextUpdate and its entries (serial, date,
   reason) sorted by serial.  It takes about the CRL's DER size in memory,
   where OpenSSL's parsed X509_CRL takes about eight times that. */
struct cs_crl_index;

/* The index of crl; NULL if an entry cannot be read.  Entries marked
   removeFromCRL are left out (they are good again).  The CRL's scope goes
   with it: an index of a CRL that is no answer (a delta or indirect CRL,
   ...) stays no answer. */
struct cs_crl_index *cs_crl_index_new(const X509_CRL *crl);
void cs_crl_index_free(struct cs_crl_index *ix);
/* Bytes it holds, about. */
size_t cs_crl_index_bytes(const struct cs_crl_index *ix);
/* Whether the index lists serial: 1 with its date and reason code (-1
   when absent), or 0. */
int cs_crl_index_find(const struct cs_crl_index *ix, const ASN1_INTEGER *serial,
                      int64_t *revoked_at, int *reason);
/* cs_crl_check on the index: the issuer name, then key_ok (s->issuer's key
   is the one the CRL's signature verified with), the scope, the validity
   window and the serial. */
void cs_crl_index_check(struct cs_rev_answer *a, const struct cs_crl_index *ix,
                        const struct cs_rev_subject *s, bool key_ok);

/* The outcome of several answers: any revoked wins, then good, then
   unknown, then the first error; UNCHECKED when there is nothing (with the
   first reason an UNCHECKED answer gives). */
void cs_rev_combine(struct cs_rev_answer *out, const struct cs_rev_answer *parts, size_t n);

/* Writes a into the record's revocation fields. */
void cs_rev_to_record(struct cs_result *r, const struct cs_rev_answer *a);

/* RFC 5280's name for a CRL reason code ("keyCompromise", ...). */
const char *cs_rev_reason_name(int reason);
const char *cs_rev_source_name(enum cs_rev_source src);

#endif
