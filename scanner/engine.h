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

#include <stdatomic.h>

#include <openssl/x509.h>
#include <uv.h>

/* Called once per target, in completion order, never by two workers at
   once; r is only borrowed. */
typedef void (*cs_result_cb)(void *arg, const struct cs_result *r);

/* How a scan ended (the caller turns it into an exit code). */
enum cs_engine_status {
    CS_ENGINE_OK = 0,
    CS_ENGINE_INTERRUPTED, /* cs_interrupt_raise: the records so far are out */
    CS_ENGINE_USAGE,       /* a bad target with --strict-input, an unusable --dns-server */
    CS_ENGINE_INTERNAL,    /* something the engine needs could not be made */
};

/* A request to stop a scan, which the caller raises, typically from its
   SIGINT/SIGTERM handler: the engine installs no handler of its own.  Zero
   it before the scan (= {0}); it may be raised before, during or after
   cs_engine_run. */
struct cs_interrupt {
    atomic_int raised;          /* times raised */
    atomic_int why;             /* the first raise's number (a signal's), or 0 */
    _Atomic(uv_async_t *) wake; /* the running scan's, or NULL */
    atomic_int waking;          /* raises between reading wake and sending it */
};

/* The first raise stops the intake, gives the probes in flight a second to
   finish and ends the rest with "interrupted"; a second ends them at once.
   why (non-zero) is told back in cs_engine_stats.signal.  Async-signal-safe. */
void cs_interrupt_raise(struct cs_interrupt *in, int why);

struct cs_engine_stats {
    uint64_t probes; /* connections attempted */
    uint64_t dns_queries;
    unsigned peak_in_flight; /* the sum of each worker's own peak (an upper bound
                                  on the scan's: the peaks need not coincide) */
    unsigned workers;
    uint64_t chain_hits;   /* endpoints whose chain was verified already */
    uint64_t chain_misses; /* distinct chains verified */
    int signal;            /* the first cs_interrupt_raise's why, or 0 */
    uint64_t crl_fetches;  /* CRLs fetched (each URL once per scan) */
    uint64_t ocsp_fetches; /* OCSP requests sent (each responder, issuer and serial once) */
    char error[256];       /* why the scan could not start (the resolver, the revocation
                              service), or "": the caller says it */
};

/* Runs the whole scan; returns when every target has a record.  It prints
   nothing and leaves process state alone: the caller ignores SIGPIPE (a
   peer's reset must not kill the process), sizes -j to the open-file limit
   and turns signals into cs_interrupt_raise on intr (NULL: the scan cannot
   be interrupted).  now is the classification and verification time; store
   holds the trust anchors (see cs_trust_load) and stays the caller's; its
   verification time is set to now (OCSP responses are verified through
   it). */
enum cs_engine_status cs_engine_run(const struct cs_options *opt, int64_t now,
                                    struct cs_targets *targets, X509_STORE *store, cs_result_cb cb,
                                    void *arg, struct cs_interrupt *intr,
                                    struct cs_engine_stats *stats);

#endif
