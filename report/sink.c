/* The record sink (sink.h): one callback behind a mutex of its own. */
#include "report/sink.h"

int cs_record_sink_init(struct cs_record_sink *k, cs_record_fn fn, void *arg)
{
    k->fn = fn;
    k->arg = arg;
    k->records = 0;
    return uv_mutex_init(&k->lock);
}

void cs_record_sink_put(struct cs_record_sink *k, const struct cs_result *r)
{
    uv_mutex_lock(&k->lock);
    k->records++;
    if (k->fn != NULL)
        k->fn(k->arg, r);
    uv_mutex_unlock(&k->lock);
}

void cs_record_sink_cb(void *sink, const struct cs_result *r)
{
    cs_record_sink_put(sink, r);
}

void cs_record_sink_destroy(struct cs_record_sink *k)
{
    uv_mutex_destroy(&k->lock);
}
