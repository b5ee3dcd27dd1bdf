/* The scan engine (see engine.h): sets up a scan, runs it and takes it
 * down.  The parts (scan.h): the intake reader thread (intake.c), the
 * control loop on the calling thread (control.c), the workers (worker.c),
 * each with its jobs (job.c), and the assessment of every chain
 * (assess.c).  Workers share the intake, the record callback, the trust
 * store and the chain cache, each behind a lock taken once per target. */
#include "scanner/engine.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/progress.h"
#include "scanner/scan.h"

#define CHAIN_CACHE_ENTRIES 8192

void scan_emit(struct scan *s, const struct cs_result *r)
{
    cs_record_sink_put(&s->records, r);
    cs_progress_done(s->opt->progress_board, r->status);
}

static unsigned default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)(n > CS_MAX_WORKERS ? CS_MAX_WORKERS : n) : 1;
}

/* Makes each worker's loop: *ready of them are made, to destroy later. */
static enum cs_engine_status workers_open(struct scan *s, unsigned *ready)
{
    unsigned n = s->n_workers, concurrency = s->opt->concurrency;
    for (*ready = 0; *ready < n; (*ready)++) {
        unsigned window = concurrency / n + (*ready < concurrency % n);
        int rc = worker_init(s, &s->workers[*ready], *ready, window);
        if (rc < 0) {
            snprintf(s->error, sizeof(s->error), "cannot start worker %u: %s", *ready,
                     cs_strerror(rc));
            return CS_ENGINE_INTERNAL;
        }
    }
    return CS_ENGINE_OK;
}

/* The resolver and, with --ocsp or --crl, the revocation service, on the
   control loop; *resolve holds the fetcher's pins. */
static enum cs_engine_status services_open(struct scan *s, char ***resolve)
{
    const struct cs_options *o = s->opt;
    char err[256];
    if (cs_resolver_new(&s->resolver, &s->main_loop, o->dns_server, (unsigned)o->dns_timeout_ms,
                        err, sizeof(err)) < 0) {
        snprintf(s->error, sizeof(s->error), "%s", err);
        return CS_ENGINE_USAGE;
    }
    cs_resolver_limit(s->resolver,
                      o->ipv4   ? AF_INET
                      : o->ipv6 ? AF_INET6
                                : AF_UNSPEC,
                      o->all_addresses ? CS_RESOLVE_MAX_ALL : CS_RESOLVE_MAX_ADDRS);
    if (!o->ocsp && !o->crl)
        return CS_ENGINE_OK;
    struct cs_fetch_limits lim;
    control_fetch_limits(o, &lim, resolve);
    s->revoker = cs_revoker_new(&s->main_loop, &lim, err, sizeof(err));
    if (!s->revoker) {
        snprintf(s->error, sizeof(s->error), "%s", err);
        return CS_ENGINE_INTERNAL;
    }
    return CS_ENGINE_OK;
}

/* Starts the reader and the worker threads, runs the control loop until
   every worker made has finished, and joins them all.  A thread that
   cannot be made stops the intake: the workers already running finish
   what they hold, and the scan fails. */
static enum cs_engine_status scan_run(struct scan *s)
{
    if (control_init(s) < 0)
        return CS_ENGINE_INTERNAL;
    enum cs_engine_status status = CS_ENGINE_OK;
    if (cs_intake_start(&s->intake) < 0)
        status = CS_ENGINE_INTERNAL;
    for (unsigned i = 0; status == CS_ENGINE_OK && i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];
        if (uv_thread_create(&w->thread, worker_main, w) < 0) {
            status = CS_ENGINE_INTERNAL;
            cs_intake_stop(&s->intake);
            break;
        }
        w->running = true;
        s->started++;
    }
    if (s->started && atomic_load(&s->finished_workers) < s->started)
        uv_run(&s->main_loop, UV_RUN_DEFAULT);
    for (unsigned i = 0; i < s->n_workers; i++)
        if (s->workers[i].running) {
            uv_thread_join(&s->workers[i].thread);
            s->workers[i].running = false;
        }
    cs_intake_join(&s->intake);
    control_close(s);
    if (status != CS_ENGINE_OK)
        return status;
    if (atomic_load(&s->interrupted))
        return CS_ENGINE_INTERRUPTED;
    return s->intake.refused ? CS_ENGINE_USAGE : CS_ENGINE_OK;
}

/* What the scan counted, before the services close. */
static void scan_stats(struct scan *s, unsigned ready, struct cs_engine_stats *stats)
{
    if (s->resolver)
        stats->dns_queries = cs_resolver_queries(s->resolver);
    struct cs_revoker_stats rst;
    cs_revoker_stats(s->revoker, &rst);
    stats->crl_fetches = rst.crl_fetches;
    stats->ocsp_fetches = rst.ocsp_fetches;
    stats->workers = s->n_workers;
    struct cs_chain_cache_stats cst;
    cs_chain_cache_stats(s->chains, &cst);
    stats->chain_hits = cst.hits;
    stats->chain_misses = cst.misses;
    stats->signal = atomic_load(&s->signal);
    snprintf(stats->error, sizeof(stats->error), "%s", s->error);
    for (unsigned i = 0; i < ready; i++) {
        stats->probes += s->workers[i].probes;
        stats->peak_in_flight += s->workers[i].peak;
    }
}

/* The scan's shared parts: 0, or -1 with nothing made. */
static int scan_open(struct scan *s, struct cs_targets *targets)
{
    if (cs_record_sink_init(&s->records, s->cb, s->arg) < 0)
        return -1;
    if (cs_intake_init(&s->intake, targets, s->opt->strict_input, s->n_workers) < 0) {
        cs_record_sink_destroy(&s->records);
        return -1;
    }
    s->intake.progress = s->opt->progress_board;
    s->workers = cs_xcalloc(s->n_workers, sizeof(*s->workers));
    s->chains = cs_chain_cache_new(CHAIN_CACHE_ENTRIES);
    cs_assess_ctx_init(&s->assess, s->opt, s->now, s->store, s->chains);
    return 0;
}

static void scan_free(struct scan *s, unsigned ready)
{
    for (unsigned i = 0; i < ready; i++)
        worker_destroy(&s->workers[i]);
    free(s->workers);
    cs_chain_cache_free(s->chains);
    cs_intake_destroy(&s->intake);
    cs_record_sink_destroy(&s->records);
}

enum cs_engine_status cs_engine_run(const struct cs_options *opt, int64_t now,
                                    struct cs_targets *targets, X509_STORE *store, cs_result_cb cb,
                                    void *arg, struct cs_interrupt *intr,
                                    struct cs_engine_stats *stats)
{
    struct cs_options o = *opt;
    if (stats)
        memset(stats, 0, sizeof(*stats));
    struct scan s = {
        .opt = &o,
        .now = now,
        .cb = cb,
        .arg = arg,
        .store = store,
        .probe = cs_probe_choose(opt->probe_name),
    };
    s.intr = intr ? intr : &s.no_intr;
    if (!s.probe || !store)
        return CS_ENGINE_INTERNAL;
    unsigned n = opt->workers ? opt->workers : default_workers();
    s.n_workers = n > o.concurrency ? o.concurrency : n;
    if (scan_open(&s, targets) < 0)
        return CS_ENGINE_INTERNAL;

    unsigned ready = 0;
    enum cs_engine_status status = workers_open(&s, &ready);
    bool loop = uv_loop_init(&s.main_loop) == 0;
    if (!loop && status == CS_ENGINE_OK)
        status = CS_ENGINE_INTERNAL;
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)now);
    char **resolve = NULL;
    if (status == CS_ENGINE_OK)
        status = services_open(&s, &resolve);
    if (status == CS_ENGINE_OK)
        status = scan_run(&s);
    if (stats)
        scan_stats(&s, ready, stats);
    cs_resolver_close(s.resolver);
    cs_revoker_free(s.revoker);
    if (loop) {
        uv_run(&s.main_loop, UV_RUN_DEFAULT);
        uv_loop_close(&s.main_loop);
    }
    for (size_t i = 0; resolve && resolve[i]; i++)
        free(resolve[i]);
    free(resolve);
    scan_free(&s, ready);
    return status;
}
