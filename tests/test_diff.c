/* certsweep diff through the binary: two real scans of the test fleet where
 * the fleet changed (an endpoint that came back, one that ran into its
 * CRITICAL threshold, one removed, one added; certificates re-issued on the
 * same ports by a second fleet), diffed in every mix of report formats;
 * each kind of change, its old and new status and notAfter, the exit code
 * (1 only when something got worse) and the three change-report formats
 * are asserted.  Reports that are not reports (truncated, a line over the
 * cap, wrong types) must give one line and exit 66. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/read.h"
#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/runner.h"

static struct fleet *fleet;
static char *dir;

static void setup(void)
{
    fleet = fleet_start(&(struct fleet_options){0});
    cr_assert_not_null(fleet);
    dir = temp_dir();
}

static void teardown(void)
{
    fleet_stop(fleet);
    remove_tree(dir);
    free(dir);
}

TestSuite(diff, .init = setup, .fini = teardown, .timeout = 180);

static char *path_of(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

struct pinned {
    const char *name;
    const char *addr; /* where the name resolves: 127.0.0.2 has nothing listening */
};

/* Scans the named scenarios as of fleet time + days, each pinned to its
   address, writing the reports named (NULL-ended). */
static void scan_more(const struct pinned *eps, size_t n, int days, const char *more,
                      const char *const *reports)
{
    const char *args[96];
    char *owned[64];
    size_t a = 0, o = 0;
    char now[24];
    cs_format_time(fleet_now(fleet) + days * 86400LL, now);
    args[a++] = "--ca-file";
    args[a++] = fleet_ca_file(fleet);
    args[a++] = "--now";
    args[a++] = now;
    args[a++] = "-q";
    if (more) {
        args[a++] = "--only";
        args[a++] = more;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fleet_scenario *s = fleet_get(fleet, eps[i].name);
        cr_assert_not_null(s);
        cr_assert(asprintf(&owned[o], "%s:%u:%s", s->host, s->port, eps[i].addr) > 0);
        args[a++] = "--resolve";
        args[a++] = owned[o++];
        cr_assert(asprintf(&owned[o], "%s:%u", s->host, s->port) > 0);
        args[a++] = owned[o++];
    }
    for (size_t i = 0; reports[i]; i++) {
        args[a++] = "-o";
        args[a++] = reports[i];
    }
    args[a] = NULL;
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert(r.status <= 3, "scan: exit %d: %s", r.status, r.err);
    run_result_free(&r);
    for (size_t i = 0; i < o; i++)
        free(owned[i]);
}

static void scan(const struct pinned *eps, size_t n, int days, const char *const *reports)
{
    scan_more(eps, n, days, NULL, reports);
}

/* The change of host in a diff's JSON document; NULL if none. */
static json_t *change_of(json_t *doc, const char *host)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "changes"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "host")), host) == 0)
            return c;
    }
    return NULL;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void expect_change(json_t *doc, const char *name, const char *kind, const char *was,
                          const char *is)
{
    const char *host = fleet_get(fleet, name)->host;
    json_t *c = change_of(doc, host);
    cr_assert_not_null(c, "no change for %s", host);
    cr_assert_str_eq(str(c, "change"), kind, "%s: %s, want %s", host, str(c, "change"), kind);
    if (was)
        cr_assert_str_eq(str(c, "old_status"), was, "%s old_status", host);
    else
        cr_assert(json_is_null(json_object_get(c, "old_status")), "%s has an old side", host);
    if (is)
        cr_assert_str_eq(str(c, "new_status"), is, "%s new_status", host);
    else
        cr_assert(json_is_null(json_object_get(c, "new_status")), "%s has a new side", host);
}

static void expect_not_after(json_t *doc, const char *name, const char *key, int64_t want)
{
    json_t *c = change_of(doc, fleet_get(fleet, name)->host);
    char buf[24];
    cs_format_time(want, buf);
    cr_assert_str_eq(str(c, key), buf, "%s %s", name, key);
}

static const struct pinned old_fleet[] = {
    {"ok", "127.0.0.2"},      /* unreachable last night ... */
    {"warning", "127.0.0.1"}, /* 20 days left: WARNING, then 5: CRITICAL */
    {"self-signed", "127.0.0.1"},
    {"expired", "127.0.0.1"}, /* gone */
};
static const struct pinned new_fleet[] = {
    {"ok", "127.0.0.1"}, /* ... back today */
    {"warning", "127.0.0.1"},
    {"self-signed", "127.0.0.1"},
    {"critical", "127.0.0.1"}, /* new */
};

Test(diff, two_scans_every_mix_of_formats)
{
    char *old_r[3] = {path_of("old.jsonl"), path_of("old.json"), path_of("old.csv")};
    char *new_r[3] = {path_of("new.jsonl"), path_of("new.json"), path_of("new.csv")};
    scan(old_fleet, 4, 0, (const char *const[]){old_r[0], old_r[1], old_r[2], NULL});
    scan(new_fleet, 4, 15, (const char *const[]){new_r[0], new_r[1], new_r[2], NULL});
    int64_t t = fleet_now(fleet);
    char *out = path_of("changes.json");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            const char *args[] = {"diff", old_r[i], new_r[j], "-o", out, "-q", NULL};
            struct run_result r;
            cr_assert_eq(run_certsweep(args, NULL, &r), 0);
            cr_assert_eq(r.status, 1, "%s %s: exit %d: %s", old_r[i], new_r[j], r.status, r.err);
            cr_assert_str_eq(r.err, "");
            json_error_t je;
            json_t *doc = json_load_file(out, 0, &je);
            cr_assert_not_null(doc, "%s", je.text);
            expect_change(doc, "warning", "worse", "WARNING", "CRITICAL");
            expect_change(doc, "ok", "better", "ERROR", "OK");
            expect_change(doc, "expired", "gone", "EXPIRED", NULL);
            expect_change(doc, "critical", "new", NULL,
                          "EXPIRED"); /* 3 days left at the fleet's now */
            cr_assert_null(change_of(doc, fleet_get(fleet, "self-signed")->host), "same listed");
            expect_not_after(doc, "warning", "old_not_after", t + 20 * 86400LL);
            expect_not_after(doc, "warning", "new_not_after", t + 20 * 86400LL);
            expect_not_after(doc, "ok", "new_not_after", t + 200 * 86400LL);
            cr_assert(
                json_is_null(json_object_get(change_of(doc, "ok.fleet.test"), "old_not_after")));
            json_t *sum = json_object_get(doc, "summary");
            cr_assert_eq(json_integer_value(json_object_get(sum, "worse")), 1);
            cr_assert_eq(json_integer_value(json_object_get(sum, "better")), 1);
            cr_assert_eq(json_integer_value(json_object_get(sum, "new")), 1);
            cr_assert_eq(json_integer_value(json_object_get(sum, "gone")), 1);
            cr_assert_eq(json_integer_value(json_object_get(sum, "same")), 1);
            cr_assert_eq(json_array_size(json_object_get(doc, "changes")), 4);
            /* listed worst first */
            cr_assert_str_eq(str(json_array_get(json_object_get(doc, "changes"), 0), "change"),
                             "worse");
            json_decref(doc);
            run_result_free(&r);
        }

    /* the text table on standard output, and CSV */
    const char *text[] = {"diff", old_r[0], new_r[1], NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(text, NULL, &r), 0);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.out, "WARNING -> CRITICAL"), "%s", r.out);
    cr_assert(strstr(r.out, "4 changed of 5 endpoints: 1 worse, 1 better, 0 renewed, 0 "
                            "replaced, 1 new, 1 gone; 1 same"),
              "%s", r.out);
    run_result_free(&r);
    const char *csv[] = {"diff", old_r[2], new_r[0], "-F", "csv", NULL};
    cr_assert_eq(run_certsweep(csv, NULL, &r), 0);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    cr_assert_eq(d.nrows, 5);
    cr_assert_str_eq(csv_doc_get(&d, 1, "change"), "worse");
    cr_assert_str_eq(csv_doc_get(&d, 1, "old_status"), "WARNING");
    cr_assert_str_eq(csv_doc_get(&d, 1, "new_status"), "CRITICAL");
    size_t gone = csv_doc_find(&d, "change", "gone");
    cr_assert_str_eq(csv_doc_get(&d, gone, "host"), "expired.fleet.test");
    cr_assert_str_eq(csv_doc_get(&d, gone, "new_status"), "");
    csv_doc_free(&d);
    run_result_free(&r);

    /* nothing worse: exit 0 (a report against itself, and the way back) */
    const char *self[] = {"diff", old_r[1], old_r[0], "-F", "json", NULL};
    cr_assert_eq(run_certsweep(self, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert_eq(json_array_size(json_object_get(doc, "changes")), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "summary"), "same")), 4);
    json_decref(doc);
    run_result_free(&r);
    const char *back[] = {"diff", new_r[0], old_r[0], "-F", "json", NULL};
    cr_assert_eq(run_certsweep(back, NULL, &r), 0);
    doc = json_loads(r.out, 0, NULL);
    expect_change(doc, "ok", "worse", "OK", "ERROR"); /* the way back is worse */
    cr_assert_eq(r.status, 1);
    expect_change(doc, "warning", "better", "CRITICAL", "WARNING");
    json_decref(doc);
    run_result_free(&r);

    for (int i = 0; i < 3; i++) {
        free(old_r[i]);
        free(new_r[i]);
    }
    free(out);
}

/* Two fleets one after the other on the same ports: every certificate
   re-issued, the second fleet's five days later. */
Test(diff, renewed_and_replaced)
{
    char *a = path_of("a.jsonl"), *b = path_of("b.csv");
    char now[24];
    cs_format_time(fleet_now(fleet), now);
    int64_t t[2];
    bool done = false;
    uint16_t base = 0;
    /* two free ports in a row, twice: another process may take one between
       the fleets; then both scans are made again on another pair */
    for (int attempt = 0; !done && attempt < 50; attempt++) {
        base = free_port();
        cr_assert_gt(base, 0);
        done = true;
        for (int k = 0; k < 2 && done; k++) {
            struct fleet *f = fleet_start(&(struct fleet_options){
                .now = fleet_now(fleet) + k * 5 * 86400LL, .bulk = 2, .bulk_port_base = base});
            done = f != NULL;
            if (!f)
                break;
            t[k] = fleet_now(f);
            char target[2][32];
            snprintf(target[0], sizeof(target[0]), "127.0.0.1:%u", fleet_bulk_port(f, 0));
            snprintf(target[1], sizeof(target[1]), "127.0.0.1:%u", fleet_bulk_port(f, 1));
            const char *args[] = {"--ca-file", fleet_ca_file(f), "--now", now, target[0], target[1],
                                  "-o",        k ? b : a,        "-q",    NULL};
            struct run_result r;
            int rc = run_certsweep(args, NULL, &r);
            fleet_stop(f);
            cr_assert_eq(rc, 0);
            cr_assert(r.status <= 1, "exit %d: %s", r.status, r.err);
            run_result_free(&r);
        }
    }
    cr_assert(done, "no two fleets on ports %u and %u", base, base + 1);
    const char *fwd[] = {"diff", a, b, "-F", "json", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(fwd, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert_not_null(doc, "%s", r.out);
    json_t *changes = json_object_get(doc, "changes");
    cr_assert_eq(json_array_size(changes), 2, "%s", r.out);
    for (size_t i = 0; i < 2; i++) {
        json_t *c = json_array_get(changes, i);
        cr_assert_str_eq(str(c, "change"), "renewed");
        cr_assert_str_neq(str(c, "old_sha256"), str(c, "new_sha256"));
        cr_assert_str_eq(str(c, "old_status"), str(c, "new_status"));
    }
    /* bulk port 0 serves the "ok" leaf: 200 days after each fleet's now */
    char want[24];
    json_t *c0 = json_array_get(changes, 0);
    cs_format_time(t[0] + 200 * 86400LL, want);
    cr_assert_str_eq(str(c0, "old_not_after"), want);
    cs_format_time(t[1] + 200 * 86400LL, want);
    cr_assert_str_eq(str(c0, "new_not_after"), want);
    json_decref(doc);
    run_result_free(&r);

    const char *rev[] = {"diff", b, a, "-F", "jsonl", NULL};
    cr_assert_eq(run_certsweep(rev, NULL, &r), 0);
    cr_assert_eq(r.status, 0);
    cr_assert_eq(strstr(r.out, "\"change\":\"replaced\"") != NULL, 1, "%s", r.out);
    cr_assert_null(strstr(r.out, "renewed"), "%s", r.out);
    run_result_free(&r);
    free(a);
    free(b);
}

static void expect_refused(const char *name, const char *content, const char *why)
{
    char *bad = path_of(name), *good = path_of("good.jsonl");
    cr_assert_eq(spit(good, "{\"host\":\"a.example\",\"port\":443,\"status\":\"OK\"}\n"), 0);
    if (content)
        cr_assert_eq(spit(bad, content), 0);
    const char *args[] = {"diff", good, bad, NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 66, "%s: exit %d: %s", name, r.status, r.err);
    cr_assert(strstr(r.err, why), "%s: %s", name, r.err);
    cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
    cr_assert_str_eq(r.out, "");
    run_result_free(&r);
    free(bad);
    free(good);
}

Test(diff, hostile_reports)
{
    expect_refused("missing.json", NULL, "missing.json: cannot be read: No such file");
    expect_refused("trunc.json", "{\"scan\": {}, \"results\": [{\"host\": \"a\", ",
                   "trunc.json: not valid JSON at line");
    expect_refused("noresults.json", "{\"scan\": {}}\n", "no \"results\" array");
    expect_refused("port.jsonl", "{\"host\":\"a\",\"port\":\"443\",\"status\":\"OK\"}\n",
                   "port.jsonl: line 1: \"port\" is a string, not a whole number");
    expect_refused("status.jsonl", "\n{\"host\":\"a\",\"port\":1,\"status\":\"FINE\"}\n",
                   "status.jsonl: line 2: \"status\" is a string, not OK, WARNING");
    expect_refused("list.json", "{\"results\":[{\"host\":\"a\",\"status\":\"OK\",\"sans\":[1]}]}",
                   "list.json: record 1: \"sans\" is a number");
    expect_refused("nohost.jsonl", "{\"status\":\"OK\"}\n", "no \"host\" string");
    expect_refused("cells.csv", "host,port,status\na,443,OK\nb,443\n",
                   "cells.csv: row 3: 2 cells, the header has 3");
    expect_refused("notcsv.csv", "name,value\nx,1\n", "no host and status columns");
    expect_refused("time.csv", "host,status,not_after\na,OK,yesterday\n",
                   "\"not_after\" is not a time");
    expect_refused("junk.txt", "just some text\n", "not a certsweep report");
    expect_refused("empty.jsonl", "", "empty: not a report");

    /* a line over the cap is refused without being held whole */
    char *huge = path_of("huge.jsonl");
    FILE *f = fopen(huge, "w");
    cr_assert_not_null(f);
    fputs("{\"host\":\"a\",\"status\":\"OK\"}\n{\"host\":\"", f);
    for (size_t i = 0; i < CS_READ_LINE_MAX / 4096 + 1; i++)
        fprintf(f, "%4096s", "x");
    fputs("\"}\n", f);
    fclose(f);
    free(huge);
    expect_refused("huge.jsonl", NULL, "huge.jsonl: line 2: longer than 16777216 bytes");

    /* a CSV row over the cap (one quoted cell that never ends in time) */
    char *row = path_of("huge.csv");
    f = fopen(row, "w");
    cr_assert_not_null(f);
    fputs("host,status\na,OK\n\"", f);
    for (size_t i = 0; i < CS_READ_LINE_MAX / 4096 + 32; i++) /* checked once per 64 KiB read */
        fprintf(f, "%4096s", "y");
    fputs("\",OK\n", f);
    fclose(f);
    free(row);
    expect_refused("huge.csv", NULL, "huge.csv: row 3: longer than 16777216 bytes");

    /* too many cells in a row, too many certificates in a chain */
    char *cells = path_of("cells2.csv");
    f = fopen(cells, "w");
    cr_assert_not_null(f);
    fputs("host,status", f);
    for (int i = 0; i < 2000; i++)
        fputs(",x", f);
    fputs("\n", f);
    fclose(f);
    free(cells);
    expect_refused("cells2.csv", NULL, "cells2.csv: row 1: more than 1024 cells");
    char *chain = path_of("chain.jsonl");
    f = fopen(chain, "w");
    cr_assert_not_null(f);
    fputs("{\"host\":\"a\",\"status\":\"OK\",\"chain\":[{}", f);
    for (int i = 0; i < 5000; i++)
        fputs(",{}", f);
    fputs("]}\n", f);
    fclose(f);
    free(chain);
    expect_refused("chain.jsonl", NULL, "chain.jsonl: line 1: \"chain\" has more than 4096");
}

/* A name that a spreadsheet would run (a bad target line keeps its text as
   the host) is defused in the CSV change report, as in a scan's CSV. */
/* A report written with --only lists some endpoints only: diff refuses it on
   either side, naming it and its filter, rather than calling the others
   gone.  The same scans written whole compare. */
Test(diff, filtered_reports_are_refused)
{
    char *old_r = path_of("old.json"), *filtered = path_of("problems.json");
    char *whole = path_of("whole.json");
    scan(old_fleet, 4, 0, (const char *const[]){old_r, NULL});
    scan_more(new_fleet, 4, 15, "expired,critical", (const char *const[]){filtered, NULL});
    scan(new_fleet, 4, 15, (const char *const[]){whole, NULL});
    const char *pairs[][2] = {{old_r, filtered}, {filtered, old_r}};
    for (int i = 0; i < 2; i++) {
        const char *args[] = {"diff", pairs[i][0], pairs[i][1], "-q", NULL};
        struct run_result r;
        cr_assert_eq(run_certsweep(args, NULL, &r), 0);
        cr_assert_eq(r.status, 66, "exit %d: %s", r.status, r.err);
        cr_assert(strstr(r.err, "problems.json: written with --only critical,expired"), "%s",
                  r.err);
        cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
        cr_assert_str_eq(r.out, "");
        run_result_free(&r);
    }
    const char *args[] = {"diff", old_r, whole, "-q", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 1, "whole reports: exit %d: %s", r.status, r.err);
    run_result_free(&r);
    expect_refused("badonly.json", "{\"scan\": {\"only\": [\"SOON\"]}, \"results\": []}\n",
                   "badonly.json: \"scan.only\" names no status certsweep knows");
    free(old_r);
    free(filtered);
    free(whole);
}

Test(diff, csv_defuses_formulas)
{
    char *old = path_of("old.jsonl"), *cur = path_of("new.jsonl");
    cr_assert_eq(spit(old, "{\"host\":\"a.example\",\"port\":443,\"status\":\"OK\"}\n"), 0);
    cr_assert_eq(spit(cur, "{\"host\":\"a.example\",\"port\":443,\"status\":\"OK\"}\n"
                           "{\"host\":\"=HYPERLINK(1)\",\"port\":null,\"status\":\"ERROR\","
                           "\"reason\":\"@SUM(1)\"}\n"),
                 0);
    const char *args[] = {"diff", old, cur, "-F", "csv", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    cr_assert_eq(d.nrows, 2, "%s", r.out);
    cr_assert_str_eq(csv_doc_get(&d, 1, "change"), "new");
    cr_assert_str_eq(csv_doc_get(&d, 1, "host"), "'=HYPERLINK(1)");
    cr_assert_str_eq(csv_doc_get(&d, 1, "reason"), "'@SUM(1)");
    cr_assert_str_eq(csv_doc_get(&d, 1, "port"), "");
    csv_doc_free(&d);
    run_result_free(&r);
    free(old);
    free(cur);
}
