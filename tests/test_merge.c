/* --shard K/N and certsweep merge through the binary: the test fleet scanned
 * once, and again as 3 shards whose reports (JSON Lines, a JSON document
 * and CSV) are merged; the merged reports must hold exactly the single
 * scan's records (every field but elapsed_ms), its summary, its text table
 * and its exit code.  Shard membership is checked on its own with targets
 * that need no server (a DNS server that is not there). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/runner.h"

static struct fleet *fleet;
static char *dir;
static char now[24];

static void setup(void)
{
    fleet = fleet_start(&(struct fleet_options){0});
    cr_assert_not_null(fleet);
    dir = temp_dir();
    cs_format_time(fleet_now(fleet), now);
}

static void teardown(void)
{
    fleet_stop(fleet);
    remove_tree(dir);
    free(dir);
}

TestSuite(merge, .init = setup, .fini = teardown, .timeout = 240);

static char *path_of(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* The options of a scan of the whole fleet: a targets file (every scenario,
   a duplicate, two bad lines) and the --resolve pins. */
struct fleet_args {
    char *targets;
    const char *v[160];
    size_t n;
    char *owned[80];
    size_t n_owned;
};

static void fleet_args(struct fleet_args *a)
{
    memset(a, 0, sizeof(*a));
    a->targets = path_of("targets.txt");
    FILE *f = fopen(a->targets, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fleet, i);
        fprintf(f, "%s:%u\n", s->host, s->port);
        cr_assert(asprintf(&a->owned[a->n_owned], "%s:%u:127.0.0.1", s->host, s->port) > 0);
        a->v[a->n++] = "--resolve";
        a->v[a->n++] = a->owned[a->n_owned++];
    }
    fprintf(f, "ok.fleet.test:%u\nbad target line\nnot-a-port.example:99999\n",
            fleet_get(fleet, "ok")->port);
    fclose(f);
    const char *const rest[] = {"--ca-file", fleet_ca_file(fleet), "--now", now, "-t", "3", "-f",
                                a->targets};
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
        a->v[a->n++] = rest[i];
}

static void fleet_args_free(struct fleet_args *a)
{
    for (size_t i = 0; i < a->n_owned; i++)
        free(a->owned[i]);
    free(a->targets);
}

/* A JSON Lines file as an array of records. */
static json_t *load_jsonl(const char *path)
{
    size_t len;
    char *text = slurp(path, &len);
    cr_assert_not_null(text, "%s not written", path);
    json_t *a = json_array();
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        cr_assert_not_null(o, "%s: %s", path, je.text);
        json_array_append_new(a, o);
    }
    free(text);
    return a;
}

static bool same_endpoint(json_t *a, json_t *b)
{
    static const char *const keys[] = {"host", "port", "sni", "protocol", "reason"};
    for (size_t i = 0; i < 5; i++)
        if (!json_equal(json_object_get(a, keys[i]), json_object_get(b, keys[i])))
            return false;
    return true;
}

/* Every record of want is in got once, equal in every field but elapsed_ms,
   and got has no other. */
static void same_records(json_t *want, json_t *got, const char *what)
{
    cr_assert_eq(json_array_size(got), json_array_size(want), "%s: %zu records, want %zu", what,
                 json_array_size(got), json_array_size(want));
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w)
    {
        size_t j, found = 0;
        json_t *g, *match = NULL;
        json_array_foreach(got, j, g) if (same_endpoint(w, g))
        {
            found++;
            match = g;
        }
        char *dump = json_dumps(w, JSON_COMPACT);
        cr_assert_eq(found, 1, "%s: %zu records for %s", what, found, dump);
        const char *key;
        json_t *v;
        json_object_foreach(w, key, v)
        {
            if (strcmp(key, "elapsed_ms") == 0)
                continue;
            char *gv = json_dumps(json_object_get(match, key), JSON_ENCODE_ANY);
            cr_assert(json_equal(v, json_object_get(match, key)), "%s: %s differs (%s) in %s", what,
                      key, gv, dump);
            free(gv);
        }
        cr_assert_eq(json_object_size(match), json_object_size(w), "%s: fields of %s", what, dump);
        free(dump);
    }
}

static void run_ok(const char *const *args, struct run_result *r)
{
    cr_assert_eq(run_certsweep(args, NULL, r), 0);
}

Test(merge, three_shards_are_one_scan)
{
    struct fleet_args fa;
    fleet_args(&fa);
    char *single[4] = {path_of("single.jsonl"), path_of("single.json"), path_of("single.csv"),
                       path_of("single.txt")};
    const char *args[200];
    memcpy(args, fa.v, fa.n * sizeof(*args));
    size_t n = fa.n;
    for (int i = 0; i < 4; i++) {
        args[n++] = "-o";
        args[n++] = single[i];
    }
    args[n++] = "-q";
    args[n] = NULL;
    struct run_result one;
    run_ok(args, &one);
    cr_assert_eq(one.status, 2, "single scan: exit %d: %s", one.status, one.err);

    /* three shards, each written in another format */
    char *shard[3] = {path_of("s0.jsonl"), path_of("s1.json"), path_of("s2.csv")};
    size_t per_shard[3];
    int said[2] = {0, 0};
    for (int k = 0; k < 3; k++) {
        char spec[8];
        snprintf(spec, sizeof(spec), "%d/3", k);
        n = fa.n;
        args[n++] = "--shard";
        args[n++] = spec;
        args[n++] = "-o";
        args[n++] = shard[k];
        args[n++] = "-q";
        args[n] = NULL;
        struct run_result r;
        run_ok(args, &r);
        cr_assert(r.status <= 3, "shard %d: exit %d: %s", k, r.status, r.err);
        per_shard[k] = 0;
        size_t len;
        char *text = slurp(shard[k], &len);
        cr_assert_not_null(text);
        for (char *p = text; (p = strstr(p, "fleet.test")); p++)
            per_shard[k]++;
        free(text);
        cr_assert_gt(per_shard[k], 0, "shard %d scanned nothing", k);
        /* a bad line is said by its own shard only */
        said[0] += strstr(r.err, "more than one target on the line") != NULL;
        said[1] += strstr(r.err, "port out of range") != NULL;
        run_result_free(&r);
    }

    cr_assert(said[0] == 1 && said[1] == 1, "bad lines said %d and %d times", said[0], said[1]);
    char *merged[4] = {path_of("m.jsonl"), path_of("m.json"), path_of("m.csv"), path_of("m.txt")};
    const char *margs[] = {"merge",   shard[0], shard[1],  shard[2], "-o",      merged[0], "-o",
                           merged[1], "-o",     merged[2], "-o",     merged[3], "-q",      NULL};
    struct run_result m;
    run_ok(margs, &m);
    cr_assert_eq(m.status, one.status, "merge exit %d, single scan %d: %s", m.status, one.status,
                 m.err);
    cr_assert_str_eq(m.err, "");

    json_t *want = load_jsonl(single[0]), *got = load_jsonl(merged[0]);
    same_records(want, got, "merged JSONL");

    json_error_t je;
    json_t *wdoc = json_load_file(single[1], 0, &je), *gdoc = json_load_file(merged[1], 0, &je);
    cr_assert_not_null(gdoc, "merged JSON: %s", je.text);
    same_records(json_object_get(wdoc, "results"), json_object_get(gdoc, "results"), "merged JSON");
    cr_assert(json_equal(json_object_get(wdoc, "summary"), json_object_get(gdoc, "summary")),
              "summary differs");
    cr_assert(json_is_true(json_object_get(gdoc, "complete")));
    cr_assert(json_equal(json_object_get(json_object_get(wdoc, "scan"), "targets"),
                         json_object_get(json_object_get(gdoc, "scan"), "targets")));
    cr_assert(json_equal(json_object_get(json_object_get(wdoc, "scan"), "now"),
                         json_object_get(json_object_get(gdoc, "scan"), "now")));

    /* the CSV and the text table: the same rows, the table in the same order */
    struct csv_doc wc, gc;
    size_t wl, gl;
    char *wt = slurp(single[2], &wl), *gt = slurp(merged[2], &gl);
    cr_assert_eq(csv_doc_parse(wt, wl, &wc), 0);
    cr_assert_eq(csv_doc_parse(gt, gl, &gc), 0);
    cr_assert_eq(gc.nrows, wc.nrows);
    cr_assert_str_eq(gc.rows[0][0], "host");
    csv_doc_free(&wc);
    csv_doc_free(&gc);
    free(wt);
    free(gt);
    char *wtxt = slurp(single[3], NULL), *gtxt = slurp(merged[3], NULL);
    /* the tables' last lines say when each scan ran: the shards ran apart */
    char *wlast = strstr(wtxt, "\nscanned at "), *glast = strstr(gtxt, "\nscanned at ");
    cr_assert(wlast && glast, "no 'scanned at' line:\n%s\n%s", wtxt, gtxt);
    *wlast = *glast = '\0';
    cr_assert_str_eq(gtxt, wtxt, "the merged table differs from the single scan's");
    free(wtxt);
    free(gtxt);

    /* --fail-on as for a scan */
    const char *never[] = {"merge", shard[0], shard[1], shard[2], "-q", "--fail-on", "never", NULL};
    struct run_result r;
    run_ok(never, &r);
    cr_assert_eq(r.status, 0, "--fail-on never: exit %d", r.status);
    run_result_free(&r);

    json_decref(want);
    json_decref(got);
    json_decref(wdoc);
    json_decref(gdoc);
    run_result_free(&m);
    run_result_free(&one);
    for (int i = 0; i < 4; i++) {
        free(single[i]);
        free(merged[i]);
    }
    for (int k = 0; k < 3; k++)
        free(shard[k]);
    fleet_args_free(&fa);
}

/* Runs the fleet's scan with its options and more (NULL-ended): its exit. */
static int scan_with(const struct fleet_args *fa, const char *const *more)
{
    const char *args[200];
    memcpy(args, fa->v, fa->n * sizeof(*args));
    size_t n = fa->n;
    while (*more)
        args[n++] = *more++;
    args[n++] = "-q";
    args[n] = NULL;
    struct run_result r;
    run_ok(args, &r);
    cr_assert(r.status <= 3, "scan: exit %d: %s", r.status, r.err);
    int status = r.status;
    run_result_free(&r);
    return status;
}

static json_t *load_doc(const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    cr_assert_not_null(doc, "%s: %s", path, je.text);
    return doc;
}

/* Shards written with --only: the merge is the filtered single scan (its
   rows, its summary of every record, its scan.only, its exit code); a
   shard filtered another way is refused, and so is a merge --only that
   keeps nothing of the shards' filter. */
Test(merge, filtered_shards)
{
    struct fleet_args fa;
    fleet_args(&fa);
    char *single = path_of("single.json"), *s0 = path_of("s0.json"), *s1 = path_of("s1.json");
    char *whole1 = path_of("whole1.json"), *merged = path_of("m.json");
    int want_status =
        scan_with(&fa, (const char *const[]){"--only", "problems", "-o", single, NULL});
    scan_with(&fa, (const char *const[]){"--shard", "0/2", "--only", "problems", "-o", s0, NULL});
    scan_with(&fa, (const char *const[]){"--shard", "1/2", "--only", "problems", "-o", s1, NULL});
    scan_with(&fa, (const char *const[]){"--shard", "1/2", "-o", whole1, NULL});

    const char *margs[] = {"merge", s0, s1, "-o", merged, "-q", NULL};
    struct run_result m;
    run_ok(margs, &m);
    cr_assert_eq(m.status, want_status, "merge exit %d, single scan %d: %s", m.status, want_status,
                 m.err);
    cr_assert_str_eq(m.err, "");
    json_t *want = load_doc(single), *got = load_doc(merged);
    json_t *wscan = json_object_get(want, "scan"), *gscan = json_object_get(got, "scan");
    cr_assert(json_equal(json_object_get(wscan, "only"), json_object_get(gscan, "only")),
              "the merged report does not carry the shards' filter");
    cr_assert_eq(json_array_size(json_object_get(wscan, "only")), 4, "problems: 4 statuses");
    cr_assert(json_equal(json_object_get(want, "summary"), json_object_get(got, "summary")),
              "the merged summary does not count every record");
    cr_assert_gt(json_integer_value(json_object_get(json_object_get(got, "summary"), "OK")), 0,
                 "no OK endpoint counted: the test shows nothing");
    cr_assert(json_equal(json_object_get(wscan, "targets"), json_object_get(gscan, "targets")));
    same_records(json_object_get(want, "results"), json_object_get(got, "results"),
                 "merged filtered JSON");
    run_result_free(&m);

    /* filtered and whole shards do not mix, in either order */
    const char *mixed[][7] = {{"merge", s0, whole1, "-o", merged, "-q", NULL},
                              {"merge", whole1, s0, "-o", merged, "-q", NULL}};
    for (int i = 0; i < 2; i++) {
        run_ok(mixed[i], &m);
        cr_assert_eq(m.status, 66, "mixed filters %d: exit %d: %s", i, m.status, m.err);
        cr_assert(strstr(m.err, "--only problems") && strstr(m.err, "no --only"), "%s", m.err);
        cr_assert_eq(strchr(m.err, '\n'), m.err + strlen(m.err) - 1, "not one line: %s", m.err);
        run_result_free(&m);
    }
    /* merge's own --only narrows the shards' filter; the counts stay whole */
    const char *narrow[] = {"merge", s0, s1, "--only", "expired", "-o", merged, "-q", NULL};
    run_ok(narrow, &m);
    cr_assert_eq(m.status, want_status, "narrowed: exit %d: %s", m.status, m.err);
    run_result_free(&m);
    json_t *narrowed = load_doc(merged);
    json_t *only = json_object_get(json_object_get(narrowed, "scan"), "only");
    cr_assert_eq(json_array_size(only), 1);
    cr_assert_str_eq(json_string_value(json_array_get(only, 0)), "EXPIRED");
    json_t *rows = json_object_get(narrowed, "results");
    cr_assert_gt(json_array_size(rows), 0);
    for (size_t i = 0; i < json_array_size(rows); i++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, i), "status")),
                         "EXPIRED");
    cr_assert(json_equal(json_object_get(want, "summary"), json_object_get(narrowed, "summary")));
    json_decref(narrowed);
    const char *none[] = {"merge", s0, s1, "--only", "ok", "-o", merged, "-q", NULL};
    run_ok(none, &m);
    cr_assert_eq(m.status, 64, "--only ok of problems: exit %d: %s", m.status, m.err);
    cr_assert(strstr(m.err, "keeps none of the records"), "%s", m.err);
    run_result_free(&m);

    json_decref(want);
    json_decref(got);
    free(single);
    free(s0);
    free(s1);
    free(whole1);
    free(merged);
    fleet_args_free(&fa);
}

/* Targets that need no server: each ends in a DNS error at once. */
static void dns_args(const char **args, size_t *n, const char *file)
{
    args[(*n)++] = "--dns-server";
    args[(*n)++] = "127.0.0.1:9";
    args[(*n)++] = "--dns-timeout";
    args[(*n)++] = "0.2";
    args[(*n)++] = "-f";
    args[(*n)++] = file;
    args[(*n)++] = "-F";
    args[(*n)++] = "jsonl";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Hosts of a JSONL report's records, sorted, one a line. */
static char *hosts_of(const char *jsonl_text)
{
    json_t *a = json_array();
    char *copy = strdup(jsonl_text);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        cr_assert_not_null(o, "not JSON: %s", line);
        json_array_append_new(a, json_copy(json_object_get(o, "host")));
        json_decref(o);
    }
    free(copy);
    size_t n = json_array_size(a);
    const char **v = calloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(a, i));
    qsort(v, n, sizeof(*v), cmp_str);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    char *out = calloc(1, len), *p = out;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s\n", v[i]);
    free(v);
    json_decref(a);
    return out;
}

Test(merge, shard_membership_is_stable)
{
    enum { N = 120 };
    char *fwd = path_of("forward.txt"), *rev1 = path_of("reverse1.txt"),
         *rev2 = path_of("reverse2.txt");
    FILE *f = fopen(fwd, "w"), *r1 = fopen(rev1, "w"), *r2 = fopen(rev2, "w");
    cr_assert(f && r1 && r2);
    for (int i = 0; i < N; i++)
        fprintf(f, "h%d.shard.test%s\n", i, i % 10 == 0 ? ":443" : "");
    fputs("bad line one\nbad:line:two\n", f);
    /* the same targets in the other order, split over two files, one spelled
       in upper case */
    fputs("bad:line:two\n", r1);
    for (int i = N - 1; i >= 0; i--)
        fprintf(i % 2 ? r1 : r2, i == 7 ? "H%d.SHARD.TEST\n" : "h%d.shard.test\n", i);
    fputs("bad line one\n", r2);
    fclose(f);
    fclose(r1);
    fclose(r2);

    char *all[3], *again[3];
    size_t total = 0;
    for (int k = 0; k < 3; k++) {
        char spec[8];
        snprintf(spec, sizeof(spec), "%d/3", k);
        const char *a[24];
        size_t n = 0;
        dns_args(a, &n, fwd);
        a[n++] = "--shard";
        a[n++] = spec;
        a[n] = NULL;
        struct run_result r;
        cr_assert_eq(run_certsweep(a, NULL, &r), 0);
        cr_assert_eq(r.status, 3, "shard %d: exit %d: %s", k, r.status, r.err);
        all[k] = hosts_of(r.out);
        run_result_free(&r);

        n = 0;
        dns_args(a, &n, rev1);
        a[n++] = "-f";
        a[n++] = rev2;
        a[n++] = "--shard";
        a[n++] = spec;
        a[n] = NULL;
        cr_assert_eq(run_certsweep(a, NULL, &r), 0);
        again[k] = hosts_of(r.out);
        run_result_free(&r);
        /* the same hosts, whatever the order and the file (H7 is h7) */
        char *lower = strdup(again[k]);
        for (char *p = lower; *p; p++)
            *p = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        char *lines[N + 8], *sorted = strdup(""), *save = NULL;
        size_t nl = 0;
        for (char *t = strtok_r(lower, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
            lines[nl++] = t;
        qsort(lines, nl, sizeof(*lines), cmp_str);
        for (size_t i = 0; i < nl; i++) {
            char *s;
            cr_assert(asprintf(&s, "%s%s\n", sorted, lines[i]) > 0);
            free(sorted);
            sorted = s;
        }
        cr_assert_str_eq(sorted, all[k], "shard %d differs with another order and files", k);
        free(sorted);
        free(lower);
        for (char *p = all[k]; *p; p++)
            total += *p == '\n';
    }
    /* every target (and each bad line) in exactly one shard */
    cr_assert_eq(total, N + 2, "%zu records in the 3 shards, want %d", total, N + 2);
    for (int i = 0; i < N; i++) {
        char line[64];
        snprintf(line, sizeof(line), "\nh%d.shard.test\n", i);
        int in = 0;
        for (int k = 0; k < 3; k++) {
            char *padded;
            cr_assert(asprintf(&padded, "\n%s", all[k]) > 0);
            in += strstr(padded, line) != NULL;
            free(padded);
        }
        cr_assert_eq(in, 1, "h%d.shard.test is in %d shards", i, in);
    }
    for (int k = 0; k < 3; k++) {
        free(all[k]);
        free(again[k]);
    }
    free(fwd);
    free(rev1);
    free(rev2);
}

Test(merge, bad_lines_exit_codes_and_refusals)
{
    /* a report of our own writer with an OK record and a bad line's */
    char *targets = path_of("t.txt");
    cr_assert_eq(spit(targets, "bad target line\n"), 0);
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    char pin[128], target[128];
    snprintf(pin, sizeof(pin), "%s:%u:127.0.0.1", ok->host, ok->port);
    snprintf(target, sizeof(target), "%s:%u", ok->host, ok->port);
    char *a = path_of("a.jsonl"), *b = path_of("b.json");
    const char *scan[] = {"--ca-file", fleet_ca_file(fleet),
                          "--resolve", pin,
                          target,      "-f",
                          targets,     "-o",
                          a,           "-o",
                          b,           "-q",
                          NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(scan, NULL, &r), 0);
    cr_assert_eq(r.status, 3);
    run_result_free(&r);

    /* a bad line counts as ERROR under --fail-on critical, not under never */
    const char *crit[] = {"merge", a, "-q", "--fail-on", "critical", NULL};
    cr_assert_eq(run_certsweep(crit, NULL, &r), 0);
    cr_assert_eq(r.status, 3, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    const char *never[] = {"merge", a, "-q", "--fail-on", "never", NULL};
    cr_assert_eq(run_certsweep(never, NULL, &r), 0);
    cr_assert_eq(r.status, 0);
    run_result_free(&r);

    /* one shard given twice */
    const char *twice[] = {"merge", a, b, "-F", "json", NULL};
    cr_assert_eq(run_certsweep(twice, NULL, &r), 0);
    cr_assert_eq(r.status, 66, "exit %d", r.status);
    cr_assert(strstr(r.err, "is in an earlier shard too"), "%s", r.err);
    run_result_free(&r);

    /* an interrupted shard: the merged document says partial, exit 66 */
    char *text = slurp(b, NULL);
    char *at = strstr(text, "\"complete\": true");
    cr_assert_not_null(at);
    memcpy(at, "\"complete\":false", 16);
    char *part = path_of("partial.json"), *out = path_of("merged.json");
    cr_assert_eq(spit(part, text), 0);
    free(text);
    const char *partial[] = {"merge", part, "-o", out, "-q", NULL};
    cr_assert_eq(run_certsweep(partial, NULL, &r), 0);
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.err, "interrupted"), "%s", r.err);
    json_t *doc = json_load_file(out, 0, NULL);
    cr_assert_not_null(doc);
    cr_assert(json_is_false(json_object_get(doc, "complete")));
    json_decref(doc);
    run_result_free(&r);

    /* a shard that is not a report: one line, exit 66, no report left */
    char *junk = path_of("junk.jsonl"), *out2 = path_of("never.json");
    cr_assert_eq(spit(junk, "{\"host\": \"x\", \"status\": \"OK\"}\n{\"host\": \"y\", \"sta"), 0);
    const char *bad[] = {"merge", junk, "-o", out2, "-q", NULL};
    cr_assert_eq(run_certsweep(bad, NULL, &r), 0);
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.err, "junk.jsonl: line 2: not valid JSON"), "%s", r.err);
    cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
    cr_assert_eq(access(out2, F_OK), -1, "a report was left in place");
    run_result_free(&r);
    free(junk);
    free(out2);
    free(part);
    free(out);
    free(a);
    free(b);
    free(targets);
}

Test(merge, subcommand_names_are_not_hosts)
{
    struct run_result r;
    const char *merge[] = {"merge", NULL};
    cr_assert_eq(run_certsweep(merge, NULL, &r), 0);
    cr_assert_eq(r.status, 64);
    cr_assert(strstr(r.err, "certsweep merge: no shard reports"), "%s", r.err);
    run_result_free(&r);
    const char *diff[] = {"diff", NULL};
    cr_assert_eq(run_certsweep(diff, NULL, &r), 0);
    cr_assert_eq(r.status, 64);
    cr_assert(strstr(r.err, "certsweep diff: too few reports"), "%s", r.err);
    run_result_free(&r);
    /* after --, hosts called merge and diff are scanned (and have no DNS here) */
    const char *host[] = {"--dns-server", "127.0.0.1:9", "--dns-timeout", "0.2",  "-F",
                          "jsonl",        "--",          "merge",         "diff", NULL};
    cr_assert_eq(run_certsweep(host, NULL, &r), 0);
    cr_assert_eq(r.status, 3, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.out, "\"host\":\"merge\""), "%s", r.out);
    cr_assert(strstr(r.out, "\"host\":\"diff\""), "%s", r.out);
    cr_assert(strstr(r.out, "dns: "), "%s", r.out);
    run_result_free(&r);
    /* a scan's option is not merge's */
    const char *opt[] = {"merge", "-j", "4", "x.jsonl", NULL};
    cr_assert_eq(run_certsweep(opt, NULL, &r), 0);
    cr_assert_eq(r.status, 64);
    cr_assert(strstr(r.err, "--concurrency is not an option of certsweep merge"), "%s", r.err);
    run_result_free(&r);
}
