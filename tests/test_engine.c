/* The engine in-process: the sliding window, the in-flight bound, a silent
 * host that stalls nothing else, and an interrupted scan. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "scanner/cert.h"
#include "scanner/engine.h"
#include "tests/support/engine_run.h"
#include "tests/support/fleet.h"
#include "tests/support/runner.h"

static struct fleet *fleet;

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* the engine's caller's business, as in main.c */
    fleet = fleet_start(&(struct fleet_options){.bulk = 40});
    cr_assert_not_null(fleet);
}

static void teardown(void)
{
    fleet_stop(fleet);
}

TestSuite(engine, .init = setup, .fini = teardown, .timeout = 120);

struct seen {
    char *key[64];
    char *reason[64];
    size_t n;
};

static void on_result(void *arg, const struct cs_result *r)
{
    struct seen *s = arg;
    cr_assert_lt(s->n, 64);
    cr_assert(asprintf(&s->key[s->n], "%s:%lld", r->host, (long long)r->port) > 0);
    s->reason[s->n] = strdup(r->reason);
    s->n++;
}

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->key[i]);
        free(s->reason[i]);
    }
}

Test(engine, sliding_window_not_batches)
{
    /* -j 2: a silent host first, then 30 good ones.  In batches the silent
       host would hold its partner's slot until its deadline; in a sliding
       window the other slot serves all 30 meanwhile, and the silent host's
       record comes last. */
    char *args[31];
    const struct fleet_scenario *silent = fleet_get(fleet, "silent");
    cr_assert(asprintf(&args[0], "127.0.0.1:%u", silent->port) > 0);
    for (size_t i = 0; i < 30; i++)
        cr_assert(asprintf(&args[i + 1], "127.0.0.1:%u", fleet_bulk_port(fleet, i)) > 0);
    struct cs_options o;
    cs_options_init(&o);
    o.concurrency = 2;
    o.timeout_ms = 5000;
    struct seen s = {0};
    struct engine_run run = {.ca_file = fleet_ca_file(fleet), .cb = on_result, .arg = &s};
    cr_assert_eq(engine_run(&o, args, 31, &run), CS_ENGINE_OK);
    const struct cs_engine_stats stats = run.stats;
    cr_assert_eq(s.n, 31);
    cr_assert_eq(stats.peak_in_flight, 2, "peak %u in flight with -j 2", stats.peak_in_flight);
    cr_assert_eq(stats.probes, 31);
    cr_assert_str_eq(s.key[30], args[0], "the silent host finished at %zu", (size_t)30);
    cr_assert_str_eq(s.reason[30], "timeout during handshake");
    for (size_t i = 0; i < 30; i++)
        cr_assert(strncmp(s.reason[i], "exp", 3) == 0, "%s: %s", s.key[i], s.reason[i]);
    cr_assert_eq(fleet_accepted(fleet, "bulk"), 30);
    seen_free(&s);
    cs_options_free(&o);
    for (size_t i = 0; i < 31; i++)
        free(args[i]);
}

Test(engine, connect_timeout_and_dns_errors_are_records)
{
    /* A silent host hits the whole-probe deadline; a name that cannot
       resolve and a refused port are records too, and nothing waits on them. */
    const struct fleet_scenario *silent = fleet_get(fleet, "silent");
    const struct fleet_scenario *closed = fleet_get(fleet, "closed");
    char *a, *b;
    cr_assert(asprintf(&a, "127.0.0.1:%u", silent->port) > 0);
    cr_assert(asprintf(&b, "127.0.0.1:%u", closed->port) > 0);
    char *args[] = {a, b, "name.invalid"};
    struct cs_options o;
    cs_options_init(&o);
    o.timeout_ms = 300;
    o.dns_server = "127.0.0.1:9"; /* the discard port: nothing answers */
    o.dns_timeout_ms = 200;
    struct seen s = {0};
    struct engine_run run = {.cb = on_result, .arg = &s};
    cr_assert_eq(engine_run(&o, args, 3, &run), CS_ENGINE_OK);
    cr_assert_eq(s.n, 3);
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s.key[i], a) == 0)
            cr_assert_str_eq(s.reason[i], "timeout during handshake");
        else if (strcmp(s.key[i], b) == 0)
            cr_assert_str_eq(s.reason[i], "connect: connection refused");
        else
            cr_assert(strncmp(s.reason[i], "dns: ", 5) == 0, "%s", s.reason[i]);
    }
    seen_free(&s);
    o.dns_server = NULL;
    cs_options_free(&o);
    free(a);
    free(b);
}

Test(engine, interrupted_scan_closes_its_reports)
{
    char *dir = temp_dir();
    char *json, *target;
    cr_assert(asprintf(&json, "%s/r.json", dir) > 0);
    cr_assert(asprintf(&target, "127.0.0.1:%u", fleet_get(fleet, "silent")->port) > 0);
    char *ok;
    cr_assert(asprintf(&ok, "127.0.0.1:%u", fleet_bulk_port(fleet, 0)) > 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execl(CS_BINARY, CS_BINARY, "-t", "60", "-q", "-o", json, "--ca-file", fleet_ca_file(fleet),
              ok, target, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && fleet_accepted(fleet, "silent") == 0; i++)
        usleep(10000);
    cr_assert_eq(fleet_accepted(fleet, "silent"), 1);
    usleep(100000);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status %d", st);
    json_error_t err;
    json_t *doc = json_load_file(json, 0, &err);
    cr_assert_not_null(doc, "%s", err.text);
    cr_assert(json_is_false(json_object_get(doc, "complete")));
    json_t *results = json_object_get(doc, "results");
    cr_assert_eq(json_array_size(results), 2);
    json_t *rec = json_find_record(results, "127.0.0.1", fleet_get(fleet, "silent")->port);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "reason")), "interrupted");
    json_decref(doc);
    remove_tree(dir);
    free(dir);
    free(json);
    free(target);
    free(ok);
}

/* Runs the engine on targets; records land in s; returns wall seconds. */
static double run_targets(struct cs_options *o, char **args, size_t n, struct seen *s,
                          const char *ca)
{
    struct engine_run run = {.ca_file = ca, .cb = on_result, .arg = s};
    cr_assert_eq(engine_run(o, args, n, &run), CS_ENGINE_OK);
    return run.secs;
}

Test(engine, rate_limits_new_connections)
{
    /* 30 connections at --rate 20 cannot take less than about 1.4 s, however
       fast the machine (a lower bound only: nothing here can flake slow) */
    char *args[30];
    for (size_t i = 0; i < 30; i++)
        cr_assert(asprintf(&args[i], "127.0.0.1:%u", fleet_bulk_port(fleet, i)) > 0);
    struct cs_options o;
    cs_options_init(&o);
    o.rate = 20;
    struct seen s = {0};
    double secs = run_targets(&o, args, 30, &s, fleet_ca_file(fleet));
    cr_assert_eq(s.n, 30);
    cr_assert_geq(secs, 1.3, "30 connections at 20/s took %.2f s", secs);
    seen_free(&s);
    cs_options_free(&o);
    for (size_t i = 0; i < 30; i++)
        free(args[i]);
}

Test(engine, per_address_bounds_connections_to_one_ip)
{
    /* the fleet holds every connection 300 ms before answering: 12 targets
       on one address, 3 at a time, need at least 4 rounds */
    struct fleet *slow = fleet_start(&(struct fleet_options){.bulk = 12, .hold_ms = 300});
    cr_assert_not_null(slow);
    char *args[12];
    for (size_t i = 0; i < 12; i++)
        cr_assert(asprintf(&args[i], "127.0.0.1:%u", fleet_bulk_port(slow, i)) > 0);
    struct cs_options o;
    cs_options_init(&o);
    o.per_address = 3;
    o.workers = 1;
    struct seen s = {0};
    double secs = run_targets(&o, args, 12, &s, fleet_ca_file(slow));
    cr_assert_eq(s.n, 12);
    for (size_t i = 0; i < 12; i++)
        cr_assert(strncmp(s.reason[i], "exp", 3) == 0, "%s: %s", s.key[i], s.reason[i]);
    cr_assert_geq(secs, 1.15, "12 held connections, 3 at a time, took %.2f s", secs);
    seen_free(&s);
    cs_options_free(&o);
    for (size_t i = 0; i < 12; i++)
        free(args[i]);
    fleet_stop(slow);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every record of a scan as one line of its fields but elapsed_ms, sorted. */
struct lines {
    char *v[64];
    size_t n;
};

static void to_line(void *arg, const struct cs_result *r)
{
    struct lines *l = arg;
    cr_assert_lt(l->n, 64);
    struct cs_buf b = {0};
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        if (f == CS_F_ELAPSED_MS)
            continue;
        struct cs_value v;
        cs_result_get(r, (enum cs_field)f, &v);
        char num[32];
        if (v.kind == CS_FK_LIST) {
            for (size_t i = 0; i < v.list->n; i++)
                cs_buf_puts(&b, v.list->v[i]);
        } else if (v.kind == CS_FK_INT || v.kind == CS_FK_BOOL) {
            snprintf(num, sizeof(num), "%lld", v.null ? -1LL : (long long)v.i);
            cs_buf_puts(&b, num);
        } else if (v.s) {
            cs_buf_puts(&b, v.s);
        }
        cs_buf_puts(&b, "|");
    }
    l->v[l->n++] = b.p;
}

Test(engine, workers_change_nothing_but_the_order)
{
    struct fleet *f = fleet_start(&(struct fleet_options){0});
    cr_assert_not_null(f);
    char *args[64];
    size_t n = 0;
    for (size_t i = 0; i < fleet_count(f); i++) {
        const struct fleet_scenario *sc = fleet_at(f, i);
        cr_assert(asprintf(&args[n++], "127.0.0.1:%u", sc->port) > 0);
    }
    struct lines one = {0}, four = {0};
    for (int round = 0; round < 2; round++) {
        struct cs_options o;
        cs_options_init(&o);
        o.workers = round ? 4 : 1;
        o.timeout_ms = 2000;
        struct engine_run run = {.ca_file = fleet_ca_file(f),
                                 .now = fleet_now(f),
                                 .cb = to_line,
                                 .arg = round ? &four : &one};
        cr_assert_eq(engine_run(&o, args, n, &run), CS_ENGINE_OK);
        cr_assert_eq(run.stats.workers, round ? 4u : 1u);
        cs_options_free(&o);
    }
    cr_assert_eq(one.n, four.n);
    qsort(one.v, one.n, sizeof(char *), cmp_str);
    qsort(four.v, four.n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < one.n; i++) {
        cr_assert_str_eq(one.v[i], four.v[i]);
        free(one.v[i]);
        free(four.v[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(args[i]);
    fleet_stop(f);
}

Test(engine, a_pausing_pipe_stalls_no_probe)
{
    /* producer | certsweep -f -: the record for the first line must come
       while the producer still holds the pipe open, not when it closes */
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(CS_BINARY, CS_BINARY, "-f", "-", "-t", "5", "-F", "jsonl", "--ca-file",
              fleet_ca_file(fleet), (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    char line[64];
    int n = snprintf(line, sizeof(line), "127.0.0.1:%u\n", fleet_bulk_port(fleet, 0));
    cr_assert_eq(write(in[1], line, (size_t)n), n);
    /* the pipe stays open: read the record (up to 30 s, far past -t) */
    char buf[4096] = "";
    size_t got = 0;
    struct pollfd pfd = {.fd = out[0], .events = POLLIN};
    while (!memchr(buf, '\n', got) && got < sizeof(buf) - 1 && poll(&pfd, 1, 30000) == 1) {
        ssize_t r = read(out[0], buf + got, sizeof(buf) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    cr_assert(memchr(buf, '\n', got), "no record while the pipe was open: '%s'", buf);
    json_t *o = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
    cr_assert_not_null(o, "%s", buf);
    cr_assert(strncmp(json_string_value(json_object_get(o, "reason")), "expires in ", 11) == 0,
              "%s", buf);
    json_decref(o);
    close(in[1]); /* now the producer ends */
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st), "status %d", st);
    close(out[0]);
}
