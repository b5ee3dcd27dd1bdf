/* The engine: worker threads, each one libuv loop that takes targets from
 * the shared reader as its window frees, resolves them, connects, runs the
 * probe, has the chain assessed (assess.h), and hands every finished record
 * to the caller (one record at a time, under a lock).  At most `concurrency`
 * probes are in flight in all; a new one starts as soon as an old one ends
 * (a sliding window, not batches). */
#ifndef CS_ENGINE_H
#define CS_ENGINE_H

#include "scanner/options.h"
#include "scanner/result.h"
#include "scanner/targets.h"

#include <openssl/x509.h>

/* Called once per target, in completion order, never by two workers at
   once; r is only borrowed. */
typedef void (*cs_result_cb)(void *arg, const struct cs_result *r);

enum cs_engine_status {
    CS_ENGINE_OK = 0,
    CS_ENGINE_INTERRUPTED = 1, /* SIGINT/SIGTERM: the records so far are out */
    CS_ENGINE_USAGE = 64,      /* a bad target with --strict-input */
    CS_ENGINE_INTERNAL = 70,
};

struct cs_engine_stats {
    uint64_t probes; /* connections attempted */
    uint64_t dns_queries;
    unsigned peak_in_flight; /* the sum of each worker's own peak (an upper bound
                                  on the scan's: the peaks need not coincide) */
    unsigned workers;
    uint64_t chain_hits;   /* endpoints whose chain was verified already */
    uint64_t chain_misses; /* distinct chains verified */
    int signal;            /* what interrupted the scan, or 0 */
    uint64_t crl_fetches;  /* CRLs fetched (each URL once per scan) */
    uint64_t ocsp_fetches; /* OCSP requests sent (each responder, issuer and serial once) */
    char error[256];       /* why the scan could not start (the resolver, the revocation
                              service), or "": the caller says it */
};

/* Runs the whole scan; returns when every target has a record.  It prints
   nothing and leaves process state alone: the caller ignores SIGPIPE (a
   peer's reset must not kill the process) and sizes -j to the open-file
   limit.  now is the
   classification and verification time; store holds the trust anchors (see
   cs_trust_load) and stays the caller's; its verification time is set to
   now (OCSP responses are verified through it).  SIGINT/SIGTERM stop the intake,
   give the probes in flight a second to finish, and end the rest with
   "interrupted"; a second signal ends them at once. */
enum cs_engine_status cs_engine_run(const struct cs_options *opt, int64_t now,
                                    struct cs_targets *targets, X509_STORE *store, cs_result_cb cb,
                                    void *arg, struct cs_engine_stats *stats);

#endif
