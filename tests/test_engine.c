/* The engine in-process: the sliding window, the in-flight bound, a silent
 * host that stalls nothing else, and an interrupted scan. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scanner/cert.h"
#include "scanner/engine.h"
#include "support/fleet.h"
#include "support/runner.h"

static struct fleet *fleet;

static void setup(void)
{
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
    o.targets = args;
    o.n_targets = 31;
    o.concurrency = 2;
    o.timeout_ms = 5000;
    o.ca_file = (char *)fleet_ca_file(fleet);
    struct cs_targets *ts = cs_targets_open(&o);
    char err[256];
    X509_STORE *store = cs_trust_load(o.ca_file, NULL, err, sizeof(err));
    cr_assert_not_null(store, "%s", err);
    struct seen s = {0};
    struct cs_engine_stats stats = {0};
    cr_assert_eq(cs_engine_run(&o, (int64_t)time(NULL), ts, store, on_result, &s, &stats),
                 CS_ENGINE_OK);
    cr_assert_eq(s.n, 31);
    cr_assert_eq(stats.peak_in_flight, 2, "peak %u in flight with -j 2", stats.peak_in_flight);
    cr_assert_eq(stats.probes, 31);
    cr_assert_str_eq(s.key[30], args[0], "the silent host finished at %zu", (size_t)30);
    cr_assert_str_eq(s.reason[30], "timeout during handshake");
    for (size_t i = 0; i < 30; i++)
        cr_assert(strncmp(s.reason[i], "exp", 3) == 0, "%s: %s", s.key[i], s.reason[i]);
    cr_assert_eq(fleet_accepted(fleet, "bulk"), 30);
    seen_free(&s);
    X509_STORE_free(store);
    cs_targets_close(ts);
    o.targets = NULL;
    o.n_targets = 0;
    o.ca_file = NULL;
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
    o.targets = args;
    o.n_targets = 3;
    o.timeout_ms = 300;
    o.dns_server = "127.0.0.1:9"; /* the discard port: nothing answers */
    o.dns_timeout_ms = 200;
    struct cs_targets *ts = cs_targets_open(&o);
    char err[256];
    X509_STORE *store = cs_trust_load(o.ca_file, NULL, err, sizeof(err));
    cr_assert_not_null(store, "%s", err);
    struct seen s = {0};
    cr_assert_eq(cs_engine_run(&o, (int64_t)time(NULL), ts, store, on_result, &s, NULL), CS_ENGINE_OK);
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
    X509_STORE_free(store);
    cs_targets_close(ts);
    o.targets = NULL;
    o.n_targets = 0;
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
        execl(CS_BINARY, CS_BINARY, "-t", "60", "-q", "-o", json, "--ca-file",
              fleet_ca_file(fleet), ok, target, (char *)NULL);
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
