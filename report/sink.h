/* The record sink: where finished records go, one at a time, under a lock of
 * its own.  Workers finish records concurrently; the sink hands them to one
 * callback (the reports, a test's collector) never two at once, without
 * holding any lock of the engine's, so a slow report stalls only the workers
 * that have a record to hand over, never the target intake. */
#ifndef CS_REPORT_SINK_H
#define CS_REPORT_SINK_H

#include <stdint.h>
#include <uv.h>

#include "scanner/result.h"

/* Called once per record, never by two threads at once; r is only borrowed. */
typedef void (*cs_record_fn)(void *arg, const struct cs_result *r);

struct cs_record_sink {
    uv_mutex_t lock;
    cs_record_fn fn;
    void *arg;
    uint64_t records; /* handed over so far; read it once the workers are done */
};

/* 0, or a UV_E* code if the lock cannot be made (nothing to destroy then). */
int cs_record_sink_init(struct cs_record_sink *k, cs_record_fn fn, void *arg);
/* Hands r to the callback; safe from any thread. */
void cs_record_sink_put(struct cs_record_sink *k, const struct cs_result *r);
/* The same, in the shape of a record callback (arg is the sink). */
void cs_record_sink_cb(void *sink, const struct cs_result *r);
void cs_record_sink_destroy(struct cs_record_sink *k);

#endif
