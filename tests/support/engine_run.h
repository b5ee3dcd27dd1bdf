/* The engine in-process, as main runs it but without a process around it:
 * the trust store loaded, the targets opened, cs_engine_run, and everything
 * closed again, for the suites that watch the engine itself (the window,
 * the rate, the workers, the one DNS query per name). */
#ifndef CS_TEST_ENGINE_RUN_H
#define CS_TEST_ENGINE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "scanner/engine.h"

struct engine_run {
    const char *ca_file; /* the trust anchors (NULL: the system's) */
    int64_t now;         /* the scan's time; 0: the clock's */
    cs_result_cb cb;     /* each record, as main's sink gets it */
    void *arg;
    struct cs_engine_stats stats; /* out: what the engine counted */
    double secs;                  /* out: wall-clock seconds of the scan */
};

/* Scans targets[0..n) with the options o (targets and ca_file are set for
   the run and put back after it); the engine's status, or CS_ENGINE_INTERNAL
   with a line on stderr if the trust anchors cannot be loaded. */
enum cs_engine_status engine_run(struct cs_options *o, char **targets, size_t n,
                                 struct engine_run *run);

#endif
