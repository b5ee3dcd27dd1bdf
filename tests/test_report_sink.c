/* The record sink: records handed over from several threads at once reach
 * the callback one at a time, every one of them. */
#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <uv.h>

#include "report/sink.h"
#include "scanner/result.h"

#define SINK_THREADS 8
#define SINK_RECORDS 2000 /* per thread */

struct collector {
    atomic_int inside; /* callbacks running now */
    int most_inside;
    uint64_t seen;
    int64_t port_sum;
};

static void collect(void *arg, const struct cs_result *r)
{
    struct collector *c = arg;
    int now = atomic_fetch_add(&c->inside, 1) + 1;
    if (now > c->most_inside)
        c->most_inside = now;
    c->seen++;
    c->port_sum += r->port;
    atomic_fetch_sub(&c->inside, 1);
}

static void hand_over(void *arg)
{
    struct cs_record_sink *k = arg;
    struct cs_result r;
    cs_result_init(&r);
    for (int i = 1; i <= SINK_RECORDS; i++) {
        r.port = i;
        cs_record_sink_put(k, &r);
    }
    cs_result_free(&r);
}

Test(sink, one_record_at_a_time_from_many_threads)
{
    struct collector c = {0};
    struct cs_record_sink k;
    cr_assert_eq(cs_record_sink_init(&k, collect, &c), 0);
    uv_thread_t t[SINK_THREADS];
    for (int i = 0; i < SINK_THREADS; i++)
        cr_assert_eq(uv_thread_create(&t[i], hand_over, &k), 0);
    for (int i = 0; i < SINK_THREADS; i++)
        uv_thread_join(&t[i]);
    cr_assert_eq(c.most_inside, 1, "%d callbacks ran at once", c.most_inside);
    cr_assert_eq(c.seen, (uint64_t)SINK_THREADS * SINK_RECORDS);
    cr_assert_eq(k.records, c.seen);
    cr_assert_eq(c.port_sum, (int64_t)SINK_THREADS * SINK_RECORDS * (SINK_RECORDS + 1) / 2);
    cs_record_sink_destroy(&k);
}

Test(sink, as_a_record_callback)
{
    struct collector c = {0};
    struct cs_record_sink k;
    cr_assert_eq(cs_record_sink_init(&k, collect, &c), 0);
    struct cs_result r;
    cs_result_init(&r);
    r.port = 443;
    cs_record_sink_cb(&k, &r);
    cs_result_free(&r);
    cr_assert_eq(c.seen, 1);
    cr_assert_eq(c.port_sum, 443);
    cr_assert_eq(k.records, 1);
    cs_record_sink_destroy(&k);
}

Test(sink, without_a_callback_only_counts)
{
    struct cs_record_sink k;
    cr_assert_eq(cs_record_sink_init(&k, NULL, NULL), 0);
    struct cs_result r;
    cs_result_init(&r);
    cs_record_sink_put(&k, &r);
    cs_result_free(&r);
    cr_assert_eq(k.records, 1);
    cs_record_sink_destroy(&k);
}
