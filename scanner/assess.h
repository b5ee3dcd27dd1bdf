/* Assessment: from the chain a server presented, and what came with it (a
 * stapled OCSP response, the proof that it holds the leaf's key), to the
 * record's certificate fields, its revocation plan and its status.  No
 * socket and no loop: the engine calls it when a connection ends, and
 * anything else that holds a chain can call it the same way. */
#ifndef CS_ASSESS_H
#define CS_ASSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/cert.h"
#include "scanner/chain_cache.h"
#include "scanner/classify.h"
#include "scanner/expect.h"
#include "scanner/options.h"
#include "scanner/policy.h"
#include "scanner/result.h"
#include "scanner/revocation.h"
#include "scanner/targets.h"
#include "probes/flight.h"

/* What holds for every chain of a scan. */
struct cs_assess_ctx {
    X509_STORE *store; /* trust anchors */
    int64_t now;       /* verification and classification time */
    int verify_level;  /* --verify-level */
    bool with_chain;   /* --chain: every presented certificate in the record */
    bool cert_only;    /* --cert-only: no proof of key possession asked for */
    bool ocsp, crl;    /* --ocsp, --crl: the plan may ask responders and CRLs */
    struct cs_thresholds thresholds;
    struct cs_chain_cache *chains; /* shared, thread-safe */
    /* --policy, --policy-file; NULL: off */
    const struct cs_policy *policy;
    const struct cs_expect *expect; /* --expect: what endpoints should serve, or NULL */
    /* certsweep show: told each input before it is assessed (options.h) */
    void (*observe)(void *arg, const struct cs_assess_input *in);
    void *observe_arg;
};

/* The context from the options; chains stays the caller's. */
void cs_assess_ctx_init(struct cs_assess_ctx *ctx, const struct cs_options *opt, int64_t now,
                        X509_STORE *store, struct cs_chain_cache *chains);

/* One endpoint: who was asked and what came back.  Everything is borrowed. */
struct cs_assess_input {
    const struct cs_target *target;   /* host, port and SNI of the record */
    const char *address;              /* the address connected to, or NULL */
    int64_t elapsed_ms;               /* CS_INT_NONE: no connection tried */
    const char *error;                /* how the connection ended: NULL, or the record's
                                        reason ("handshake: ...", "timeout ...") */
    const struct cs_raw_chain *chain; /* as presented, in the wire layout; NULL or n == 0:
                                         none */
    const char *tls_version;          /* negotiated protocol, or NULL */
    const unsigned char *staple;      /* the stapled OCSP response (DER), or NULL */
    size_t staple_len;
    const struct cs_key_proof *proof; /* what the server signed, or NULL */
    bool handshake_complete;          /* the server's Finished verified (RSA key transport
                                        proves the key with it) */
    const char *protocol;             /* the probe's name, or NULL */
    const char *source;               /* a certificate file: its path (the record's
                                         source).  No connection: port, address,
                                         tls_version and key_proven stay null, and the
                                         name is checked only when target->sni names one */
};

/* A chain's assessment while its revocation plan runs. */
struct cs_assessment {
    struct cs_chain_facts facts;
    struct cs_rev_answer staple;   /* what the staple said (UNCHECKED without one) */
    struct cs_chain_objs objs;     /* the parsed chain the plan needs */
    struct cs_rev_subject subject; /* the leaf whose status is asked, and its issuer */
    bool ask_ocsp, ask_crl;        /* the plan: sources to ask before the record is final */
};

/* Fills r (initialised by the caller) from in.  Returns false when r is
   final: classified, or an ERROR record whose reason is in->error or why
   the chain cannot be used (certificate fields are still filled whenever
   the chain parses).  Returns true when the plan in *a asks a responder or
   a CRL first: hand a->subject and r's URIs to the revocation service,
   then call cs_assess_finish with its answers.  Thread-safe. */
bool cs_assess(const struct cs_assess_ctx *ctx, const struct cs_assess_input *in,
               struct cs_result *r, struct cs_assessment *a);

/* Finishes a record whose plan ran: combines the staple with the answers
   (NULL: not asked), writes the revocation fields, classifies r and
   releases what a holds. */
void cs_assess_finish(const struct cs_assess_ctx *ctx, struct cs_result *r, struct cs_assessment *a,
                      const struct cs_rev_answer *ocsp, const struct cs_rev_answer *crl);

/* Releases what a holds without finishing (the record is dropped). */
void cs_assessment_free(struct cs_assessment *a);

#endif
