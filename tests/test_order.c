/* Wording, --only and --sort.  The order's key and its bounded buffer are
 * tested in-process (report/order.h); the rest runs the certsweep binary
 * over the test fleet: the reasons and DAYS at exact distances from a
 * leaf's notAfter (pinned with --now, from the test PKI's notAfter), which
 * records --only leaves in each report and what it never touches (summary,
 * exit code, Prometheus), and each --sort order in the text table, JSON,
 * CSV, JSON Lines and certsweep merge, checked against the notAfter the test
 * PKI put in each certificate. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/order.h"
#include "scanner/classify.h"
#include "scanner/error.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/fleet_targets.h"
#include "tests/support/runner.h"

#define DAY 86400

/* ---- the key and the buffer, in-process ----------------------------------------------------- */

static struct cs_order_key key(enum cs_status st, int64_t na, const char *host, int64_t port,
                               uint64_t seq)
{
    struct cs_result r;
    cs_result_init(&r);
    r.status = st;
    r.not_after = na;
    r.days_remaining = na == CS_INT_NONE ? CS_INT_NONE : cs_days_left(na, 0);
    free(r.host);
    r.host = cs_strdup(host);
    r.port = port;
    struct cs_order_key k;
    cs_order_key_set(&k, &r, seq);
    cs_result_free(&r);
    return k;
}

TestSuite(order);

Test(order, parse_and_names)
{
    cr_assert_eq(cs_sort_parse("urgency"), CS_SORT_URGENCY);
    cr_assert_eq(cs_sort_parse("host"), CS_SORT_HOST);
    cr_assert_eq(cs_sort_parse("not_after"), CS_SORT_NOT_AFTER);
    cr_assert_eq(cs_sort_parse("notafter"), CS_SORT_NONE);
    cr_assert_eq(cs_sort_parse(NULL), CS_SORT_NONE);
    cr_assert_str_eq(cs_sort_name(CS_SORT_NOT_AFTER), "not_after");
    cr_assert_null(cs_sort_name(CS_SORT_NONE));
}

/* Each order, with its ties: sorted keys must come out in exactly this order
   whatever order they went in. */
Test(order, each_order_is_total)
{
    enum { N = 7 };
    struct cs_order_key k[N] = {
        key(CS_OK, 1000 * DAY, "b.example", 443, 0),
        key(CS_ERROR, CS_INT_NONE, "A.example", 443, 1),
        key(CS_EXPIRED, -3 * DAY, "c.example", 443, 2),
        key(CS_WARNING, 20 * DAY, "a.example", 8443, 3),
        key(CS_WARNING, 20 * DAY + 60, "a.example", 443, 4),
        key(CS_CRITICAL, 2 * DAY, "d.example", 443, 5),
        key(CS_OK, 1000 * DAY, "b.example", 443, 6), /* a second address of seq 0's endpoint */
    };
    static const int urgency[N] = {2, 5, 3, 4, 1, 0, 6};
    static const int host[N] = {1, 4, 3, 0, 6, 2, 5};
    static const int not_after[N] = {2, 5, 3, 4, 0, 6, 1};
    const int *want[] = {urgency, host, not_after};
    const enum cs_sort by[] = {CS_SORT_URGENCY, CS_SORT_HOST, CS_SORT_NOT_AFTER};
    for (size_t o = 0; o < 3; o++) {
        struct cs_order_key s[N];
        for (int i = 0; i < N; i++) /* reversed, so nothing is sorted by accident */
            s[i] = k[N - 1 - i];
        cs_order_sort(s, N, sizeof(s[0]), 0, by[o]);
        for (int i = 0; i < N; i++)
            cr_assert_eq(s[i].seq, (uint64_t)want[o][i], "--sort %s: position %d holds %llu",
                         cs_sort_name(by[o]), i, (unsigned long long)s[i].seq);
    }
    /* not given: urgency, as the text table has always been */
    cr_assert_lt(cs_order_compare(&k[2], &k[5], CS_SORT_NONE), 0);
    for (int i = 0; i < N; i++)
        cs_order_key_free(&k[i]);
}

/* The buffer the streaming formats keep under --sort: past its cap a row is
   refused (and freed), never kept. */
Test(order, buffer_is_capped)
{
    struct cs_result r;
    cs_result_init(&r);
    free(r.host);
    r.host = cs_strdup("cap.example");
    r.not_after = 5 * DAY;
    size_t per_row = 100 + strlen(r.host) + 1 + sizeof(struct cs_order_item);
    struct cs_order_buf b;
    cs_order_buf_init(&b, 3 * per_row);
    int rc = 0;
    size_t kept = 0;
    for (int i = 0; i < 10 && rc == 0; i++) {
        char *text = cs_xmalloc(100);
        memset(text, 'x', 100);
        rc = cs_order_add(&b, &r, text, 100);
        kept += rc == 0;
    }
    cr_assert_eq(rc, CS_ESORTBUF);
    cr_assert_eq(kept, 3, "%zu rows kept under a cap of 3", kept);
    cr_assert_eq(b.n, 3);
    cr_assert_leq(b.bytes, b.max_bytes);
    /* a row through a stream is refused the same way */
    FILE *row = cs_order_row_begin(&b);
    cr_assert_not_null(row);
    fputs("one more row\n", row);
    cr_assert_eq(cs_order_row_end(&b, &r), CS_ESORTBUF);
    cr_assert_eq(b.n, 3);
    cr_assert_not_null(strstr(cs_strerror(CS_ESORTBUF), "--sort"));
    cs_order_buf_free(&b);
    /* no cap: what the JSON document has always held */
    cs_order_buf_init(&b, 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(cs_order_add(&b, &r, cs_strdup("{}"), 2), 0);
    cr_assert_eq(b.n, 10);
    cs_order_buf_free(&b);
    cs_result_free(&r);
}

/* ---- over the test fleet -------------------------------------------------------------------- */

TestSuite(order_fleet, .init = fx_setup, .fini = fx_teardown, .timeout = 240);

static bool pick_critical(const struct fleet_scenario *s)
{
    return strcmp(s->name, "critical") == 0;
}

/* Endpoints with notAfters far apart, ties (ok and rsa share one) and no
   certificate at all (closed, http). */
static bool pick_spread(const struct fleet_scenario *s)
{
    static const char *const names[] = {"ok",       "rsa",      "warning", "critical",
                                        "expired",  "short-ok", "notyet",  "short-warning",
                                        "mismatch", "closed",   "http"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s->name, names[i]) == 0)
            return true;
    return false;
}

/* Every scenario but the hostile ones and the one that times out. */
static bool pick_base(const struct fleet_scenario *s)
{
    return !s->hostile && strcmp(s->name, "silent") != 0;
}

/* Runs certsweep over the scenarios pick accepts, with more arguments
   (NULL-terminated); the caller frees r. */
static void scan(bool (*pick)(const struct fleet_scenario *), const char *const *more,
                 struct run_result *r)
{
    struct fleet_args args = {0};
    char *targets = fleet_targets_write(fx_fleet, fx_dir, pick, NULL, &args);
    cr_assert_not_null(targets);
    /* --wide: the table's cells whole, to compare with the JSON */
    const char *fixed[] = {"-f", targets, "--ca-file", fleet_ca_file(fx_fleet),
                           "-t", "3",     "--wide"};
    const char **argv = fleet_args_join(fixed, sizeof(fixed) / sizeof(fixed[0]), &args, more);
    cr_assert_eq(run_certsweep(argv, NULL, r), 0);
    cr_assert_lt(r->status, 4, "exit %d: %s", r->status, r->err);
    free(argv);
    fleet_args_free(&args);
    free(targets);
}

static json_t *load_json(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    cr_assert_not_null(doc, "%s: %s", path, jerr.text);
    return doc;
}

/* The scenario scanned as host, or NULL. */
static const struct fleet_scenario *scenario_of(const char *host)
{
    for (size_t i = 0; i < fleet_count(fx_fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fx_fleet, i);
        if (s->host && strcmp(s->host, host) == 0)
            return s;
    }
    return NULL;
}

/* What the test PKI put in the scenario's leaf: its notAfter, or
   CS_INT_NONE when it serves no certificate. */
static int64_t pki_na(const char *host)
{
    const struct fleet_scenario *s = scenario_of(host);
    cr_assert_not_null(s, "%s is no scenario", host);
    return s->behaviour == FLEET_TLS && s->leaf.x509 ? pki_not_after(s->leaf.x509) : CS_INT_NONE;
}

/* The text table's rows: [i] is row i's cells split at blanks (the
   caller frees with free_rows). */
struct rows {
    char **line; /* whole lines */
    char **host; /* the HOST:PORT cell, without the port */
    char **status;
    long *days; /* LONG_MIN for "-" */
    size_t n;
};

static void free_rows(struct rows *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->line[i]);
        free(t->host[i]);
        free(t->status[i]);
    }
    free(t->line);
    free(t->host);
    free(t->status);
    free(t->days);
    memset(t, 0, sizeof(*t));
}

static struct rows table_rows(const char *out)
{
    struct rows t = {0};
    const char *p = strchr(out, '\n'); /* past the header */
    cr_assert_not_null(p, "no table: %s", out);
    for (p++; *p; p = strchr(p, '\n') + 1) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        char status[16], hostport[256], days[32];
        if (sscanf(p, "%15s %255s %31s", status, hostport, days) != 3 ||
            cs_status_parse(status) < 0)
            break; /* the summary line */
        t.line = cs_xrealloc(t.line, (t.n + 1) * sizeof(*t.line));
        t.host = cs_xrealloc(t.host, (t.n + 1) * sizeof(*t.host));
        t.status = cs_xrealloc(t.status, (t.n + 1) * sizeof(*t.status));
        t.days = cs_xrealloc(t.days, (t.n + 1) * sizeof(*t.days));
        char *colon = strrchr(hostport, ':');
        cr_assert_not_null(colon, "'%s'", hostport);
        t.line[t.n] = strndup(p, (size_t)(nl - p));
        t.host[t.n] = strndup(hostport, (size_t)(colon - hostport));
        t.status[t.n] = cs_strdup(status);
        t.days[t.n] = strcmp(days, "-") == 0 ? LONG_MIN : strtol(days, NULL, 10);
        t.n++;
    }
    return t;
}

/* ---- wording -------------------------------------------------------------------------------- */

struct at {
    int64_t from_na; /* --now is the critical leaf's notAfter plus this */
    const char *status;
    long days;
    const char *reason;
};

/* The critical leaf scanned at exact distances from its notAfter: the
   reason in JSON and in the table, and DAYS beside it, agree. */
Test(order_fleet, wording_at_the_boundaries)
{
    static const struct at cases[] = {
        {-60, "CRITICAL", 0, "expires in 1 minute"},
        {-5 * 3600, "CRITICAL", 0, "expires in 5 hours"},
        {-2 * 60, "CRITICAL", 0, "expires in 2 minutes"},
        {0, "EXPIRED", 0, "expired 0 seconds ago"},
        {20 * 60, "EXPIRED", 0, "expired 20 minutes ago"},
        {3 * DAY + DAY / 2, "EXPIRED", -3, "expired 3 days ago"},
        {-DAY, "CRITICAL", 1, "expires in 1 day"},
    };
    const struct fleet_scenario *crit = fleet_get(fx_fleet, "critical");
    int64_t na = pki_not_after(crit->leaf.x509);
    const char *json = dir_path(fx_dir, "wording.json");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct at *c = &cases[i];
        char now[24];
        cs_format_time(na + c->from_na, now);
        const char *more[] = {"--now", now, "-o", json, NULL};
        struct run_result r;
        scan(pick_critical, more, &r);
        json_t *doc = load_json(json);
        json_t *rec = json_array_get(json_object_get(doc, "results"), 0);
        cr_assert_not_null(rec);
        cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), c->status, "%s", now);
        cr_assert_str_eq(json_string_value(json_object_get(rec, "reason")), c->reason, "%s", now);
        cr_assert_eq(json_integer_value(json_object_get(rec, "days_remaining")), c->days,
                     "--now %s: days_remaining %lld", now,
                     (long long)json_integer_value(json_object_get(rec, "days_remaining")));
        struct rows t = table_rows(r.out);
        cr_assert_eq(t.n, 1, "%s", r.out);
        cr_assert_str_eq(t.status[0], c->status);
        cr_assert_eq(t.days[0], c->days, "DAYS %ld beside '%s'", t.days[0], c->reason);
        cr_assert_not_null(strstr(t.line[0], c->reason), "'%s' lacks '%s'", t.line[0], c->reason);
        free_rows(&t);
        json_decref(doc);
        run_result_free(&r);
    }
}

/* ---- --only --------------------------------------------------------------------------------- */

static size_t count_status(const struct rows *t, const char *status)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += strcmp(t->status[i], status) == 0;
    return n;
}

/* --only problems: no OK record in the table, CSV, JSON or JSON Lines, every
   other record in each; the summary, the exit code and Prometheus still
   count the OK ones. */
Test(order_fleet, only_problems_drops_ok_rows_only)
{
    const char *csv = dir_path(fx_dir, "only.csv"), *json = dir_path(fx_dir, "only.json"),
               *jsonl = dir_path(fx_dir, "only.jsonl"), *prom = dir_path(fx_dir, "only.prom"),
               *all = dir_path(fx_dir, "all.json");
    const char *more[] = {"--only", "problems", "-o", csv,  "-o", json,
                          "-o",     jsonl,      "-o", prom, NULL};
    const char *plain[] = {"-o", all, "-q", NULL};
    struct run_result r, whole;
    scan(pick_base, more, &r);
    scan(pick_base, plain, &whole);
    cr_assert_eq(r.status, whole.status, "exit %d with --only, %d without", r.status, whole.status);
    json_t *doc = load_json(json), *full = load_json(all);
    cr_assert(json_equal(json_object_get(doc, "summary"), json_object_get(full, "summary")),
              "the summary must count every record");
    json_t *results = json_object_get(doc, "results"), *every = json_object_get(full, "results");
    size_t ok = (size_t)json_integer_value(json_object_get(json_object_get(doc, "summary"), "OK"));
    cr_assert_gt(ok, 0);
    cr_assert_eq(json_array_size(results) + ok, json_array_size(every));
    json_t *only = json_object_get(json_object_get(doc, "scan"), "only");
    cr_assert_eq(json_array_size(only), 4, "scan.only lists the statuses kept");
    for (size_t i = 0; i < json_array_size(results); i++)
        cr_assert_str_neq(json_string_value(json_object_get(json_array_get(results, i), "status")),
                          "OK");
    /* every non-OK record of the whole scan is in the filtered one */
    for (size_t i = 0; i < json_array_size(every); i++) {
        json_t *rec = json_array_get(every, i);
        if (strcmp(json_string_value(json_object_get(rec, "status")), "OK") == 0)
            continue;
        const char *host = json_string_value(json_object_get(rec, "host"));
        cr_assert_not_null(
            json_find_record(results, host, (long)json_integer_value(json_object_get(rec, "port"))),
            "%s missing", host);
    }

    struct rows t = table_rows(r.out);
    cr_assert_eq(t.n, json_array_size(results), "%s", r.out);
    cr_assert_eq(count_status(&t, "OK"), 0);
    char summary[64];
    snprintf(summary, sizeof(summary), " %zu OK,", ok);
    cr_assert_not_null(strstr(r.out, summary), "the table's summary counts the OK ones: %s", r.out);
    free_rows(&t);

    size_t len;
    char *text = slurp(csv, &len);
    cr_assert_not_null(text);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(text, len, &d), 0);
    cr_assert_eq(d.nrows, json_array_size(results) + 1, "CSV rows (with the header)");
    cr_assert_eq(csv_doc_find(&d, "status", "OK"), 0, "an OK row in the CSV");
    csv_doc_free(&d);
    free(text);

    text = slurp(jsonl, NULL);
    cr_assert_not_null(text);
    size_t lines = 0;
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        json_t *rec = json_loads(line, 0, NULL);
        cr_assert_not_null(rec);
        cr_assert_str_neq(json_string_value(json_object_get(rec, "status")), "OK");
        json_decref(rec);
        lines++;
    }
    cr_assert_eq(lines, json_array_size(results));
    free(text);

    /* Prometheus is monitoring: the OK endpoints keep their series */
    text = slurp(prom, NULL);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "host=\"ok.fleet.test\""), "%s", text);
    free(text);
    json_decref(doc);
    json_decref(full);
    run_result_free(&r);
    run_result_free(&whole);
}

/* A list of statuses, in any case: only those. */
Test(order_fleet, only_a_list_of_statuses)
{
    const char *more[] = {"--only", "expired,Critical", NULL};
    struct run_result r;
    scan(pick_spread, more, &r);
    struct rows t = table_rows(r.out);
    cr_assert_eq(count_status(&t, "EXPIRED") + count_status(&t, "CRITICAL"), t.n, "%s", r.out);
    cr_assert_eq(count_status(&t, "EXPIRED"), 1, "%s", r.out);  /* expired */
    cr_assert_eq(count_status(&t, "CRITICAL"), 3, "%s", r.out); /* critical, notyet, mismatch */
    free_rows(&t);
    run_result_free(&r);
    cr_assert_eq(
        run_certsweep((const char *const[]){"--only", "problems,fine", "x.test", NULL}, NULL, &r),
        0);
    cr_assert_eq(r.status, 64, "exit %d", r.status);
    cr_assert_not_null(strstr(r.err, "--only"), "%s", r.err);
    run_result_free(&r);
}

/* ---- --sort --------------------------------------------------------------------------------- */

static int urgency_of(const char *status)
{
    return cs_status_urgency((enum cs_status)cs_status_parse(status));
}

/* Checks that a sequence of (host, status) is in `by` order, with notAfter
   and days taken from the test PKI and --now-less classification. */
struct seen {
    const char *host;
    const char *status;
    int64_t na;
};

/* Earlier notAfter first, none last. */
static int cmp_not_after(const struct seen *a, const struct seen *b)
{
    if (a->na == b->na)
        return 0;
    if (a->na == CS_INT_NONE || b->na == CS_INT_NONE)
        return a->na == CS_INT_NONE ? 1 : -1;
    return a->na < b->na ? -1 : 1;
}

static void check_order(const struct seen *v, size_t n, enum cs_sort by, const char *what)
{
    for (size_t i = 0; i + 1 < n; i++) {
        const struct seen *a = &v[i], *b = &v[i + 1];
        int c = 0;
        if (by == CS_SORT_HOST) {
            c = strcasecmp(a->host, b->host);
        } else if (by == CS_SORT_NOT_AFTER) {
            c = cmp_not_after(a, b);
            if (c == 0)
                c = strcasecmp(a->host, b->host);
        } else {
            c = urgency_of(a->status) - urgency_of(b->status);
            if (c == 0)
                c = cmp_not_after(a, b);
            if (c == 0)
                c = strcasecmp(a->host, b->host);
        }
        cr_assert_leq(c, 0, "%s --sort %s: %s (%s) before %s (%s)", what, cs_sort_name(by), a->host,
                      a->status, b->host, b->status);
    }
}

/* The JSON results as (host, status, notAfter), the notAfter checked
   against the test PKI's. */
static size_t json_seen(json_t *results, struct seen *v, size_t cap)
{
    size_t n = json_array_size(results);
    cr_assert_leq(n, cap);
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_array_get(results, i);
        v[i].host = json_string_value(json_object_get(rec, "host"));
        v[i].status = json_string_value(json_object_get(rec, "status"));
        v[i].na = pki_na(v[i].host);
        json_t *na = json_object_get(rec, "not_after");
        if (v[i].na == CS_INT_NONE) {
            cr_assert(json_is_null(na), "%s", v[i].host);
        } else {
            char want[24];
            cs_format_time(v[i].na, want);
            cr_assert_str_eq(json_string_value(na), want, "%s", v[i].host);
        }
    }
    return n;
}

/* The table's rows in the same order as the JSON's records. */
static void check_table_matches(const char *out, const struct seen *v, size_t n)
{
    struct rows t = table_rows(out);
    cr_assert_eq(t.n, n, "%s", out);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(t.host[i], v[i].host, "row %zu", i);
        cr_assert_str_eq(t.status[i], v[i].status, "row %zu", i);
    }
    free_rows(&t);
}

/* The JSON document at json (the 11 spread endpoints) in `by` order, and
   the table on out in the same order; v gets its records (pointing into the
   returned document: decref it after v). */
static json_t *check_sorted(const char *json, const char *out, enum cs_sort by, const char *what,
                            struct seen v[32], size_t *n)
{
    json_t *doc = load_json(json);
    *n = json_seen(json_object_get(doc, "results"), v, 32);
    cr_assert_eq(*n, 11);
    check_order(v, *n, by, what);
    check_table_matches(out, v, *n);
    return doc;
}

Test(order_fleet, sort_text_json_csv_jsonl)
{
    const enum cs_sort orders[] = {CS_SORT_URGENCY, CS_SORT_HOST, CS_SORT_NOT_AFTER};
    for (size_t o = 0; o < 3; o++) {
        const char *json = dir_path(fx_dir, "sorted.json"), *csv = dir_path(fx_dir, "sorted.csv"),
                   *jsonl = dir_path(fx_dir, "sorted.jsonl");
        const char *more[] = {"--sort", cs_sort_name(orders[o]), "-o", json, "-o", csv, "-o", jsonl,
                              NULL};
        struct run_result r;
        scan(pick_spread, more, &r);
        struct seen v[32];
        size_t n;
        json_t *doc = check_sorted(json, r.out, orders[o], "JSON", v, &n);

        size_t len;
        char *text = slurp(csv, &len);
        struct csv_doc d;
        cr_assert_eq(csv_doc_parse(text, len, &d), 0);
        cr_assert_eq(d.nrows, n + 1);
        for (size_t i = 0; i < n; i++)
            cr_assert_str_eq(csv_doc_get(&d, i + 1, "host"), v[i].host, "CSV row %zu", i + 1);
        csv_doc_free(&d);
        free(text);

        text = slurp(jsonl, NULL);
        size_t i = 0;
        for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1, i++) {
            *nl = '\0';
            json_t *rec = json_loads(line, 0, NULL);
            cr_assert_not_null(rec);
            cr_assert_lt(i, n);
            cr_assert_str_eq(json_string_value(json_object_get(rec, "host")), v[i].host,
                             "JSON Lines line %zu", i + 1);
            json_decref(rec);
        }
        cr_assert_eq(i, n);
        free(text);
        json_decref(doc);
        run_result_free(&r);
    }
}

/* merge --sort: two shards' JSON Lines merged into a JSON document and a
   text table in the order asked. */
Test(order_fleet, sort_merge)
{
    const char *s0 = dir_path(fx_dir, "shard-0.jsonl"), *s1 = dir_path(fx_dir, "shard-1.jsonl");
    struct run_result r;
    scan(pick_spread,
         (const char *const[]){"--shard", "0/2", "-q", "--fail-on", "never", "-o", s0, NULL}, &r);
    run_result_free(&r);
    scan(pick_spread,
         (const char *const[]){"--shard", "1/2", "-q", "--fail-on", "never", "-o", s1, NULL}, &r);
    run_result_free(&r);
    const enum cs_sort orders[] = {CS_SORT_HOST, CS_SORT_NOT_AFTER, CS_SORT_URGENCY};
    for (size_t o = 0; o < 3; o++) {
        const char *json = dir_path(fx_dir, "merged.json");
        const char *args[] = {"merge", s0,   s1,          "--sort", cs_sort_name(orders[o]),
                              "-o",    json, "--fail-on", "never",  "--wide",
                              NULL};
        cr_assert_eq(run_certsweep(args, NULL, &r), 0);
        cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
        struct seen v[32];
        size_t n;
        json_t *doc = check_sorted(json, r.out, orders[o], "merge JSON", v, &n);
        json_decref(doc);
        run_result_free(&r);
    }
}
