/* The Nagios / Icinga plugin output (-F nagios): the certsweep binary over
 * the test fleet, its status line, performance data and long output
 * compared with the JSON report of the same scan, its state word with the
 * exit code, and the '|' that must never reach the text. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/fleet_targets.h"
#include "tests/support/runner.h"

TestSuite(nagios, .init = fx_setup, .fini = fx_teardown, .timeout = 120);

/* Runs certsweep -F nagios over the scenarios pick accepts plus extra lines,
   with more arguments; the JSON report of the same scan into *doc. */
static void scan(bool (*pick)(const struct fleet_scenario *), const char *extra,
                 const char *const *more, struct run_result *r, json_t **doc)
{
    struct fleet_args args = {0};
    char *targets = fleet_targets_write(fx_fleet, fx_dir, pick, extra, &args);
    cr_assert_not_null(targets);
    char *json;
    cr_assert(asprintf(&json, "%s/out.json", fx_dir) > 0);
    const char *fixed[] = {"-f", targets, "--ca-file", fleet_ca_file(fx_fleet), "-t", "3", "-o",
                           json, "-F",    "nagios"};
    const char **argv = fleet_args_join(fixed, sizeof(fixed) / sizeof(fixed[0]), &args, more);
    cr_assert_eq(run_certsweep(argv, NULL, r), 0);
    json_error_t jerr;
    *doc = json_load_file(json, 0, &jerr);
    cr_assert_not_null(*doc, "no JSON report (%s); stderr: %s", jerr.text, r->err);
    free(argv);
    fleet_args_free(&args);
    free(targets);
    free(json);
}

static bool base(const struct fleet_scenario *s)
{
    return !s->hostile && strcmp(s->name, "silent") != 0;
}

static bool ok_only(const struct fleet_scenario *s)
{
    return strcmp(s->name, "ok") == 0 || strcmp(s->name, "rsa") == 0;
}

static bool warning_only(const struct fleet_scenario *s)
{
    return ok_only(s) || strcmp(s->name, "warning") == 0;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static const char *const state_words[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

/* The status line's state word, counts and min_days against the JSON. */
static void check_status_line(const struct run_result *r, json_t *doc)
{
    json_t *results = json_object_get(doc, "results");
    uint64_t count[CS_STATUS_COUNT] = {0};
    long long min_days = LLONG_MAX;
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *rec = json_array_get(results, i);
        count[cs_status_parse(json_string_value(json_object_get(rec, "status")))]++;
        json_t *d = json_object_get(rec, "days_remaining");
        if (json_is_integer(d) && json_integer_value(d) < min_days)
            min_days = json_integer_value(d);
    }
    cr_assert_lt(r->status, 4, "exit %d: %s", r->status, r->err);
    char want[256];
    snprintf(want, sizeof(want),
             " | ok=%" PRIu64 " warning=%" PRIu64 " critical=%" PRIu64 " expired=%" PRIu64
             " error=%" PRIu64 " min_days=",
             count[CS_OK], count[CS_WARNING], count[CS_CRITICAL], count[CS_EXPIRED],
             count[CS_ERROR]);
    const char *nl = strchr(r->out, '\n');
    cr_assert_not_null(nl);
    char *line = strndup(r->out, (size_t)(nl - r->out));
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "CERTSWEEP %s - ", state_words[r->status]);
    cr_assert_eq(strncmp(line, prefix, strlen(prefix)), 0, "'%s' for exit %d", line, r->status);
    const char *perf = strstr(line, want);
    cr_assert_not_null(perf, "'%s' lacks '%s'", line, want);
    char days[32];
    if (min_days == LLONG_MAX)
        snprintf(days, sizeof(days), "U");
    else
        snprintf(days, sizeof(days), "%lld", min_days);
    cr_assert_eq(strncmp(perf + strlen(want), days, strlen(days)), 0, "min_days in '%s', not %s",
                 line, days);
    free(line);
}

Test(nagios, fx_fleet)
{
    struct run_result r;
    json_t *doc;
    scan(base, NULL, NULL, &r, &doc);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    check_status_line(&r, doc);
    json_t *results = json_object_get(doc, "results");
    size_t n = json_array_size(results), not_ok = 0;
    uint64_t expired = 0, critical = 0, warning = 0, error = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_array_get(results, i);
        const char *st = json_string_value(json_object_get(rec, "status"));
        expired += strcmp(st, "EXPIRED") == 0;
        critical += strcmp(st, "CRITICAL") == 0;
        warning += strcmp(st, "WARNING") == 0;
        error += strcmp(st, "ERROR") == 0;
        if (strcmp(st, "OK") == 0)
            continue;
        not_ok++;
        /* one long-output line per endpoint not OK: status, host:port, reason */
        char want[1024];
        snprintf(want, sizeof(want), "\n%s: %s:%lld - %s\n", st,
                 json_string_value(json_object_get(rec, "host")),
                 (long long)json_integer_value(json_object_get(rec, "port")),
                 json_string_value(json_object_get(rec, "reason")));
        cr_assert_not_null(strstr(r.out, want), "no line '%s' in:\n%s", want + 1, r.out);
    }
    char summary[256];
    snprintf(summary, sizeof(summary),
             "CERTSWEEP CRITICAL - %" PRIu64 " expired, %" PRIu64 " critical, %" PRIu64
             " warning, %" PRIu64 " error of %zu endpoints | ",
             expired, critical, warning, error, n);
    cr_assert_eq(strncmp(r.out, summary, strlen(summary)), 0, "%s", r.out);
    cr_assert_eq(count_char(r.out, '\n'), 1 + not_ok);
    cr_assert_eq(count_char(r.out, '|'), 1, "a '|' outside the performance data");
    /* most urgent first: no line's status is less urgent than the next one's */
    const char *p = strchr(r.out, '\n') + 1;
    int last = -1;
    for (; *p; p = strchr(p, '\n') + 1) {
        char word[16] = "";
        sscanf(p, "%15[A-Z]", word);
        int u = cs_status_urgency((enum cs_status)cs_status_parse(word));
        cr_assert_geq(u, last, "out of order at '%.40s'", p);
        last = u;
    }
    json_decref(doc);
    run_result_free(&r);
}

Test(nagios, pipes_never_reach_the_text)
{
    struct run_result r;
    json_t *doc;
    scan(ok_only, "evil|pipe\n|x|\n", NULL, &r, &doc);
    cr_assert_eq(r.status, 3, "exit %d: %s", r.status, r.err);
    check_status_line(&r, doc);
    cr_assert_eq(count_char(r.out, '|'), 1, "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nERROR: evil\\x7Cpipe - input: "), "%s", r.out);
    cr_assert_not_null(strstr(r.out, "\nERROR: \\x7Cx\\x7C - input: "), "%s", r.out);
    json_decref(doc);
    run_result_free(&r);
}

Test(nagios, state_follows_the_exit_code)
{
    struct run_result r;
    json_t *doc;
    scan(ok_only, NULL, NULL, &r, &doc);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    check_status_line(&r, doc);
    cr_assert_eq(strncmp(r.out, "CERTSWEEP OK - all 2 endpoints OK | ", 36), 0, "%s", r.out);
    cr_assert_eq(count_char(r.out, '\n'), 1, "no long output when all is well");
    json_decref(doc);
    run_result_free(&r);

    scan(warning_only, NULL, NULL, &r, &doc);
    cr_assert_eq(r.status, 1);
    check_status_line(&r, doc);
    json_decref(doc);
    run_result_free(&r);

    static const char *const critical[] = {"--fail-on", "critical", NULL};
    scan(warning_only, NULL, critical, &r, &doc);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    check_status_line(&r, doc);
    cr_assert(strstr(r.out, "\nWARNING: warning.fleet.test:"), "still listed: %s", r.out);
    json_decref(doc);
    run_result_free(&r);

    /* a bad line counts as ERROR (UNKNOWN) under --fail-on critical */
    scan(warning_only, "not a target\n", critical, &r, &doc);
    cr_assert_eq(r.status, 3);
    check_status_line(&r, doc);
    json_decref(doc);
    run_result_free(&r);

    /* fixed thresholds are the performance data's warn and crit */
    static const char *const fixed[] = {"-w", "30", "-c", "7", NULL};
    scan(warning_only, NULL, fixed, &r, &doc);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.out, " min_days=19;30;7\n") || strstr(r.out, " min_days=20;30;7\n"), "%s",
              r.out);
    json_decref(doc);
    run_result_free(&r);
}
