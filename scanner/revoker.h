/* The revocation service of a scan: runs on the engine's control loop, asks
 * OCSP responders and fetches CRLs through fetch.c, and remembers every
 * answer for the rest of the scan.  Fleets share a handful of issuers, so
 * each CRL URL is fetched once and each (responder, issuer, serial) asked
 * once per scan, and probes that ask while a fetch is in flight wait for
 * that same fetch.  Not thread-safe: the control loop's thread only. */
#ifndef CS_REVOKER_H
#define CS_REVOKER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "scanner/fetch.h"
#include "scanner/revocation.h"

struct cs_revoker;

/* One probe's question.  The caller fills the inputs and done, keeps the
   query (and what it points to) alive until done is called, and reads the
   answers there. */
struct cs_rev_query {
    struct cs_rev_subject subject;
    const struct cs_strlist *ocsp_uris; /* the leaf's AIA OCSP URIs */
    const struct cs_strlist *crl_uris;  /* its CRL distribution points */
    bool ocsp, crl;                     /* which sources to ask */
    struct cs_rev_answer ocsp_answer;   /* out: UNCHECKED when not asked */
    struct cs_rev_answer crl_answer;
    void (*done)(struct cs_rev_query *q); /* exactly once, maybe from inside cs_revoker_check */
    /* the revoker's own */
    unsigned pending;
    size_t ocsp_next, crl_next;                /* the next URI to try */
    struct cs_rev_query *next_ocsp, *next_crl; /* waiting on the same entry */
};

struct cs_revoker_stats {
    uint64_t crl_fetches, ocsp_fetches;
    uint64_t crl_hits, ocsp_hits; /* answered from what was already fetched or in flight */
};

/* NULL with a reason in err if libcurl cannot be set up.  The trust store
   of the queries must have its verification time set to the scan's now
   (X509_VERIFY_PARAM_set_time; cs_engine_run does). */
struct cs_revoker *cs_revoker_new(uv_loop_t *loop, const struct cs_fetch_limits *lim, char *err,
                                  size_t errlen);
void cs_revoker_check(struct cs_revoker *rv, struct cs_rev_query *q);
/* Answers every waiting query ("cancelled") and every later one at once. */
void cs_revoker_cancel(struct cs_revoker *rv);
void cs_revoker_stats(const struct cs_revoker *rv, struct cs_revoker_stats *out);
/* Starts closing; run the loop afterwards.  NULL is allowed. */
void cs_revoker_free(struct cs_revoker *rv);

#endif
