/* See engine_run.h. */
#include "tests/support/engine_run.h"

#include <stdio.h>
#include <time.h>

#include <uv.h>

#include "scanner/cert.h"
#include "scanner/targets.h"

enum cs_engine_status engine_run(struct cs_options *o, char **targets, size_t n,
                                 struct engine_run *run)
{
    char **old_targets = o->targets;
    size_t old_n = o->n_targets;
    char *old_ca = o->ca_file;
    o->targets = targets;
    o->n_targets = n;
    o->ca_file = (char *)run->ca_file;
    char err[256];
    X509_STORE *store = cs_trust_load(run->ca_file, NULL, err, sizeof(err));
    struct cs_targets *ts = store ? cs_targets_open(o, err, sizeof(err)) : NULL;
    enum cs_engine_status st = CS_ENGINE_INTERNAL;
    if (ts) {
        uint64_t t0 = uv_hrtime();
        st = cs_engine_run(o, run->now ? run->now : (int64_t)time(NULL), ts, store, run->cb,
                           run->arg, NULL, &run->stats);
        run->secs = (double)(uv_hrtime() - t0) / 1e9;
    } else {
        fprintf(stderr, "engine_run: %s\n", err);
    }
    cs_targets_close(ts);
    X509_STORE_free(store);
    o->targets = old_targets;
    o->n_targets = old_n;
    o->ca_file = old_ca;
    return st;
}
