/* Labels end to end: a CSV inventory and a labelled targets file scanned
 * against the local fleet by the certsweep binary, the CSV and JSON reports
 * parsed back (libcsv, jansson) and each record's labels compared with the
 * row or line it came from; bad rows, formula defusing of label cells, the
 * text table's --label columns, a spreadsheet's BOM and CRLF, a header
 * without host, and standard input. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/reports.h"
#include "tests/support/runner.h"

#define RUN_LIMIT_S 60

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx_setup();
}

TestSuite(labels, .init = setup, .fini = fx_teardown, .timeout = 180);

static const char *in_dir(const char *name)
{
    static char paths[8][512];
    static size_t next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof(paths[0]), "%s/%s", fx_dir, name);
    return p;
}

static unsigned port_of(const char *scenario)
{
    const struct fleet_scenario *sc = fleet_get(fx_fleet, scenario);
    cr_assert_not_null(sc, "no fleet scenario %s", scenario);
    return sc->port;
}

/* Runs certsweep with the fleet's CA, args (NULL-terminated) and
   "-o report.csv -o report.json -q", and reads both reports back. */
static void scan(struct report_scan *s, const char *const *args, const char *stdin_text)
{
    const char *csv = in_dir("report.csv"), *json = in_dir("report.json");
    unlink(csv);
    unlink(json);
    const char *argv[32];
    size_t k = 0;
    argv[k++] = "--ca-file";
    argv[k++] = fleet_ca_file(fx_fleet);
    for (size_t i = 0; args[i] != NULL; i++)
        argv[k++] = args[i];
    const char *fixed[] = {"-o", csv, "-o", json, "-q", NULL};
    for (size_t i = 0; fixed[i] != NULL; i++)
        argv[k++] = fixed[i];
    argv[k] = NULL;
    cr_assert_lt(k, sizeof(argv) / sizeof(argv[0]));
    memset(s, 0, sizeof(*s));
    cr_assert_eq(run_binary(CS_BINARY, argv, stdin_text, RUN_LIMIT_S, &s->run), 0);
    cr_assert_neq(s->run.status, 137, "certsweep hung; stderr: %s", s->run.err);
    char err[8192];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof(err)), 0, "%s (exit %d); stderr: %s", err,
                 s->run.status, s->run.err);
    cr_assert_eq(check_record_layout(&s->csv, s->json, err, sizeof(err)), 0, "%s", err);
}

/* The CSV header's label columns must be exactly names (NULL-terminated). */
static void expect_label_columns(const struct report_scan *s, const char *const *names)
{
    size_t n = 0;
    while (names[n] != NULL)
        n++;
    cr_assert_eq(s->csv.ncells[0], n_expected_fields + n, "%zu CSV columns, want %zu + %zu",
                 s->csv.ncells[0], n_expected_fields, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(s->csv.rows[0][n_expected_fields + i], names[i], "label column %zu", i);
}

/* What a spreadsheet cell must hold for a label value: defused when it
   starts with = + - @ TAB or CR. */
static void expect_cell(const char *cell, const char *value, const char *what)
{
    cr_assert_not_null(cell, "%s: no cell", what);
    if (value[0] && strchr("=+-@\t\r", value[0])) {
        cr_assert_eq(cell[0], '\'', "%s: '%s' not defused", what, cell);
        cr_assert_str_eq(cell + 1, value, "%s", what);
    } else {
        cr_assert_str_eq(cell, value, "%s", what);
    }
}

/* One expected record: its host and port, status, and label name=value
   pairs (names NULL-terminated; NULL value: the CSV cell is empty and the
   JSON object has no such key). */
struct expect {
    const char *host;
    unsigned port;
    const char *status;
    const char *names[6];
    const char *values[6];
};

static void expect_record(const struct report_scan *s, const struct expect *e,
                          const char *const *columns)
{
    json_t *rec = json_find_record(json_object_get(s->json, "results"), e->host, e->port);
    cr_assert_not_null(rec, "no JSON record for %s:%u", e->host, e->port);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), e->status, "%s: %s",
                     e->host, json_string_value(json_object_get(rec, "reason")));
    json_t *labels = json_object_get(rec, "labels");
    cr_assert(json_is_object(labels), "%s: no labels object", e->host);
    size_t n = 0;
    for (; e->names[n] != NULL; n++)
        if (e->values[n] != NULL)
            cr_assert_str_eq(json_string_value(json_object_get(labels, e->names[n])), e->values[n],
                             "%s: JSON label %s", e->host, e->names[n]);
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += e->values[i] != NULL;
    cr_assert_eq(json_object_size(labels), want, "%s: %zu JSON labels, want %zu", e->host,
                 json_object_size(labels), want);

    /* the CSV row: the one with this host and port */
    char port[16];
    snprintf(port, sizeof(port), "%u", e->port);
    size_t row = 0;
    for (size_t r = 1; r < s->csv.nrows && !row; r++)
        if (strcmp(csv_doc_get(&s->csv, r, "host"), e->host) == 0 &&
            strcmp(csv_doc_get(&s->csv, r, "port"), port) == 0)
            row = r;
    cr_assert_neq(row, 0, "no CSV row for %s:%u", e->host, e->port);
    for (size_t c = 0; columns[c] != NULL; c++) {
        const char *value = "";
        for (size_t i = 0; i < n; i++)
            if (strcmp(e->names[i], columns[c]) == 0 && e->values[i] != NULL)
                value = e->values[i];
        char what[128];
        snprintf(what, sizeof(what), "%s: CSV label %s", e->host, columns[c]);
        expect_cell(s->csv.rows[row][n_expected_fields + c], value, what);
    }
}

Test(labels, csv_inventory_reaches_every_report)
{
    char inv[4096];
    unsigned ok = port_of("ok"), warning = port_of("warning"), expired = port_of("expired"),
             closed = port_of("closed");
    snprintf(inv, sizeof(inv),
             "Host,PORT,Address,owner,env,queue,status\n"
             "ok.fleet.test,%u,127.0.0.1,payments,prod,PAY-1,whatever\n"
             "warning.fleet.test,%u,127.0.0.1,\"Web, Team\",staging,"
             "\"=HYPERLINK(\"\"http://evil.example\"\")\",\n"
             "expired.fleet.test,%u,127.0.0.1,+owner,-env,@queue\n"
             "closed.fleet.test,%u,127.0.0.1,infra,,,\n"
             "ok.fleet.test,%u,127.0.0.1,someone-else,dev,X-1,\n"
             "bad.fleet.test,https,127.0.0.1,billing,prod,B-1,\n",
             ok, warning, expired, closed, ok);
    cr_assert_eq(spit(in_dir("inventory.csv"), inv), 0);
    struct report_scan s;
    scan(&s, (const char *[]){"-f", in_dir("inventory.csv"), NULL}, NULL);
    cr_assert_eq(s.run.status, 2, "exit %d (EXPIRED is there); stderr: %s", s.run.status,
                 s.run.err);

    static const char *const columns[] = {"owner", "env", "queue", NULL};
    expect_label_columns(&s, columns);
    /* four targets and the bad row; the duplicate of ok is probed once */
    cr_assert_eq(json_array_size(json_object_get(s.json, "results")), 5);
    cr_assert_eq(s.csv.nrows, 6);
    const struct expect want[] = {
        {"ok.fleet.test", ok, "OK", {"owner", "env", "queue"}, {"payments", "prod", "PAY-1"}},
        {"warning.fleet.test",
         warning,
         "WARNING",
         {"owner", "env", "queue"},
         {"Web, Team", "staging", "=HYPERLINK(\"http://evil.example\")"}},
        {"expired.fleet.test",
         expired,
         "EXPIRED",
         {"owner", "env", "queue"},
         {"+owner", "-env", "@queue"}},
        {"closed.fleet.test", closed, "ERROR", {"owner", "env", "queue"}, {"infra", "", ""}},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        expect_record(&s, &want[i], columns);

    /* the bad row: one ERROR record naming FILE:LINE and why, no labels */
    size_t bad = csv_doc_find(&s.csv, "host", "bad.fleet.test");
    cr_assert_neq(bad, 0);
    const char *reason = csv_doc_get(&s.csv, bad, "reason");
    cr_assert(strstr(reason, "inventory.csv:7: port column: port is not a number"), "%s", reason);
    cr_assert_str_eq(csv_doc_get(&s.csv, bad, "owner"), "");
    cr_assert(strstr(s.run.err, "inventory.csv:7: port column"), "%s", s.run.err);
    json_t *results = json_object_get(s.json, "results");
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "host")), "bad.fleet.test") == 0)
            cr_assert_eq(json_object_size(json_object_get(r, "labels")), 0);
    }
    report_scan_free(&s);
}

Test(labels, labelled_targets_file)
{
    char txt[4096];
    unsigned ok = port_of("ok"), warning = port_of("warning"), expired = port_of("expired"),
             closed = port_of("closed");
    snprintf(txt, sizeof(txt),
             "# the web fleet\n"
             "ok.fleet.test:%u owner=payments env=prod   # team-payments\n"
             "warning.fleet.test:%u  owner=\"Web \"\"Core\"\" # team\"\tticket=-1+1\n"
             "expired.fleet.test:%u\n"
             "closed.fleet.test:%u owner=infra team:x\n"
             "ok.fleet.test:%u warning.fleet.test:%u\n",
             ok, warning, expired, closed, ok, warning);
    cr_assert_eq(spit(in_dir("web.txt"), txt), 0);
    struct report_scan s;
    scan(&s, (const char *[]){"--resolve", "*:*:127.0.0.1", "-f", in_dir("web.txt"), NULL}, NULL);

    /* the union of names in first-seen order, known before the first record */
    static const char *const columns[] = {"owner", "env", "ticket", NULL};
    expect_label_columns(&s, columns);
    const struct expect want[] = {
        {"ok.fleet.test", ok, "OK", {"owner", "env"}, {"payments", "prod"}},
        {"warning.fleet.test",
         warning,
         "WARNING",
         {"owner", "ticket"},
         {"Web \"Core\" # team", "-1+1"}},
        {"expired.fleet.test", expired, "EXPIRED", {NULL}, {NULL}},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        expect_record(&s, &want[i], columns);
    cr_assert_eq(json_array_size(json_object_get(s.json, "results")), 5);

    static const char *const bad[][2] = {
        {"web.txt:5:", "'team:x' is neither a label (name=value) nor a target"},
        {"web.txt:6:", "more than one target on the line"},
    };
    for (size_t b = 0; b < 2; b++) {
        size_t found = 0;
        for (size_t r = 1; r < s.csv.nrows; r++) {
            const char *reason = csv_doc_get(&s.csv, r, "reason");
            if (strstr(reason, bad[b][0])) {
                found = r;
                cr_assert(strstr(reason, bad[b][1]), "%s", reason);
                for (size_t c = 0; columns[c] != NULL; c++)
                    cr_assert_str_eq(csv_doc_get(&s.csv, r, columns[c]), "");
            }
        }
        cr_assert_neq(found, 0, "no record for %s; stderr: %s", bad[b][0], s.run.err);
    }
    report_scan_free(&s);
}

Test(labels, text_table_label_columns)
{
    char txt[1024];
    snprintf(txt, sizeof(txt),
             "ok.fleet.test:%u owner=payments env=prod\n"
             "warning.fleet.test:%u owner=a\x1b[31mb\xe2\x80\xae"
             "c env=staging\n"
             "expired.fleet.test:%u\n",
             port_of("ok"), port_of("warning"), port_of("expired"));
    cr_assert_eq(spit(in_dir("t.txt"), txt), 0);
    const char *args[] = {"--ca-file", fleet_ca_file(fx_fleet),
                          "--resolve", "*:*:127.0.0.1",
                          "-f",        in_dir("t.txt"),
                          "--label",   "env",
                          "--label",   "owner",
                          "--wide", /* every column on one line, REASON too */
                          NULL};
    struct run_result r;
    cr_assert_eq(run_binary(CS_BINARY, args, NULL, RUN_LIMIT_S, &r), 0);
    cr_assert_eq(r.status, 2, "exit %d; stderr: %s", r.status, r.err);
    const char *out = r.out;
    /* the header: ENV and OWNER in the order asked, before REASON */
    const char *nl = strchr(out, '\n');
    cr_assert_not_null(nl);
    char header[512];
    snprintf(header, sizeof(header), "%.*s", (int)(nl - out), out);
    const char *env = strstr(header, "ENV"), *owner = strstr(header, "OWNER"),
               *reason = strstr(header, "REASON"), *issuer = strstr(header, "ISSUER");
    cr_assert(issuer && env && owner && reason, "header: %s", header);
    cr_assert(issuer < env && env < owner && owner < reason, "header: %s", header);
    /* each row: its values under the columns; "-" for none */
    static const char *const rows[][3] = {
        {"ok.fleet.test", "prod", "payments"},
        {"warning.fleet.test", "staging", "a\\x1B[31mb\\u202Ec"},
        {"expired.fleet.test", "-", "-"},
    };
    for (size_t i = 0; i < 3; i++) {
        const char *line = strstr(out, rows[i][0]);
        cr_assert_not_null(line, "%s missing:\n%s", rows[i][0], out);
        const char *end = strchr(line, '\n');
        char text[512];
        snprintf(text, sizeof(text), "%.*s", (int)(end - line), line);
        size_t col_env = (size_t)(env - header), col_owner = (size_t)(owner - header);
        const char *line_start = line; /* ASCII up to the label columns: bytes are columns */
        while (line_start > out && line_start[-1] != '\n')
            line_start--;
        cr_assert_eq(strncmp(line_start + col_env, rows[i][1], strlen(rows[i][1])), 0,
                     "ENV column of %s: %s", rows[i][0], text);
        cr_assert_eq(strncmp(line_start + col_owner, rows[i][2], strlen(rows[i][2])), 0,
                     "OWNER column of %s: %s", rows[i][0], text);
    }
    cr_assert_null(strchr(out, '\x1b'), "a raw ESC reached the terminal:\n%s", out);
    cr_assert_null(strstr(out, "\xe2\x80\xae"), "a raw bidi override reached the terminal");
    run_result_free(&r);
}

Test(labels, spreadsheet_bom_and_crlf)
{
    char inv[1024];
    snprintf(inv, sizeof(inv),
             "\xEF\xBB\xBFhost,port,address,owner\r\n"
             "ok.fleet.test,%u,127.0.0.1,\"two\r\nlines\"\r\n"
             "\r\n"
             "warning.fleet.test,%u,127.0.0.1,web\r\n"
             "bad host,1,127.0.0.1,x\r\n",
             port_of("ok"), port_of("warning"));
    cr_assert_eq(spit(in_dir("excel.csv"), inv), 0);
    struct report_scan s;
    scan(&s, (const char *[]){"-f", in_dir("excel.csv"), NULL}, NULL);
    static const char *const columns[] = {"owner", NULL};
    expect_label_columns(&s, columns);
    const struct expect want[] = {
        {"ok.fleet.test", port_of("ok"), "OK", {"owner"}, {"two\r\nlines"}},
        {"warning.fleet.test", port_of("warning"), "WARNING", {"owner"}, {"web"}},
    };
    for (size_t i = 0; i < 2; i++)
        expect_record(&s, &want[i], columns);
    /* line numbers count the quoted line end and the blank line */
    size_t bad = csv_doc_find(&s.csv, "host", "bad host");
    cr_assert_neq(bad, 0);
    cr_assert(strstr(csv_doc_get(&s.csv, bad, "reason"), "excel.csv:6: not a host name"), "%s",
              csv_doc_get(&s.csv, bad, "reason"));
    report_scan_free(&s);
}

Test(labels, header_without_host_scans_nothing)
{
    char inv[256];
    snprintf(inv, sizeof(inv), "name,port,owner\nok.fleet.test,%u,payments\n", port_of("ok"));
    cr_assert_eq(spit(in_dir("nohost.csv"), inv), 0);
    const char *args[] = {"--ca-file", fleet_ca_file(fx_fleet), "-f", in_dir("nohost.csv"),
                          "-o",        in_dir("r.csv"),         "-q", NULL};
    struct run_result r;
    cr_assert_eq(run_binary(CS_BINARY, args, NULL, RUN_LIMIT_S, &r), 0);
    cr_assert_eq(r.status, 66, "exit %d; stderr: %s", r.status, r.err);
    cr_assert(strstr(r.err, "nohost.csv: the header row has no 'host' column"), "%s", r.err);
    cr_assert_eq(fleet_accepted(fx_fleet, NULL), 0, "something was scanned");
    run_result_free(&r);
}

Test(labels, caps_and_bad_rows)
{
    /* a label cell over 1024 bytes, a row over 4096, a bad label token: each
       one ERROR record; the targets around them are scanned */
    size_t cap = 16384, len = 0;
    char *inv = malloc(cap);
    cr_assert_not_null(inv);
    len += (size_t)snprintf(inv + len, cap - len,
                            "host,port,address,owner\nexpired.fleet.test,%u,"
                            "127.0.0.1,",
                            port_of("expired"));
    memset(inv + len, 'o', 1025);
    len += 1025;
    len += (size_t)snprintf(inv + len, cap - len, "\nwarning.fleet.test,%u,127.0.0.1,\"",
                            port_of("warning"));
    memset(inv + len, 'o', 5000);
    len += 5000;
    len += (size_t)snprintf(inv + len, cap - len, "\"\nok.fleet.test,%u,127.0.0.1,", port_of("ok"));
    memset(inv + len, 'k', 1024);
    len += 1024;
    inv[len++] = '\n';
    inv[len] = '\0';
    cr_assert_eq(spit(in_dir("caps.csv"), inv), 0);
    free(inv);
    struct report_scan s;
    scan(&s, (const char *[]){"-f", in_dir("caps.csv"), NULL}, NULL);
    cr_assert_eq(s.csv.nrows, 4);
    const char *reasons[] = {"caps.csv:2: label 'owner' longer than 1024 bytes",
                             "caps.csv:3: row longer than 4096 bytes"};
    for (size_t k = 0; k < 2; k++) {
        size_t found = 0;
        for (size_t r = 1; r < s.csv.nrows; r++)
            if (strstr(csv_doc_get(&s.csv, r, "reason"), reasons[k]))
                found = r;
        cr_assert_neq(found, 0, "no '%s'; stderr: %s", reasons[k], s.run.err);
        cr_assert_str_eq(csv_doc_get(&s.csv, found, "status"), "ERROR");
        cr_assert_str_eq(csv_doc_get(&s.csv, found, "owner"), "");
    }
    char k1024[1025];
    memset(k1024, 'k', 1024);
    k1024[1024] = '\0';
    static const char *const columns[] = {"owner", NULL};
    const struct expect ok = {"ok.fleet.test", port_of("ok"), "OK", {"owner"}, {k1024}};
    expect_record(&s, &ok, columns);
    report_scan_free(&s);
}

Test(labels, standard_input)
{
    unsigned ok = port_of("ok");
    char text[256], inv[256];
    snprintf(text, sizeof(text), "ok.fleet.test:%u owner=payments\n", ok);
    snprintf(inv, sizeof(inv), "host,port,address,owner\nok.fleet.test,%u,127.0.0.1,@sum\n", ok);

    /* text on standard input is not read ahead: the label is in JSON, not a
       CSV column, and a warning says so */
    struct report_scan s;
    scan(&s, (const char *[]){"--resolve", "*:*:127.0.0.1", "-f", "-", NULL}, text);
    static const char *const none[] = {NULL};
    expect_label_columns(&s, none);
    const struct expect e1 = {"ok.fleet.test", ok, "OK", {"owner"}, {"payments"}};
    expect_record(&s, &e1, none);
    cr_assert(strstr(s.run.err, "warning: <stdin>:1: label 'owner' is not a column of CSV reports"),
              "%s", s.run.err);
    report_scan_free(&s);

    /* a CSV inventory on standard input: its header gives the columns */
    scan(&s, (const char *[]){"--targets-format", "csv", "-f", "-", NULL}, inv);
    static const char *const owner[] = {"owner", NULL};
    expect_label_columns(&s, owner);
    const struct expect e2 = {"ok.fleet.test", ok, "OK", {"owner"}, {"@sum"}};
    expect_record(&s, &e2, owner);
    cr_assert_eq(strstr(s.run.err, "warning"), NULL, "%s", s.run.err);
    report_scan_free(&s);
}

/* ---- the writers alone: a record with labels, written and read back ---- */

static char *write_report(const struct cs_writer_ops *ops, const struct cs_scan_info *info,
                          unsigned flags, const struct cs_result *r)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    cr_assert_not_null(f);
    struct cs_writer w;
    struct cs_summary sum = {.complete = true};
    sum.count[r->status] = 1;
    cr_assert_eq(cs_writer_open(&w, ops, f, info, flags), 0);
    cr_assert_eq(cs_writer_record(&w, r), 0);
    cr_assert_eq(cs_writer_close(&w, &sum), 0);
    cr_assert_eq(fclose(f), 0);
    return buf;
}

static void labelled_record(struct cs_result *r)
{
    cs_result_init(r);
    free(r->host);
    r->host = strdup("www.example.com");
    r->port = 443;
    r->status = CS_OK;
    cs_labels_add(&r->labels, "owner", "@SUM(A1:A9)");
    cs_labels_add(&r->labels, "env", "prod");
    cs_labels_add(&r->labels, "note", "\x1b]0;title\x07 and a very long note that goes on and on");
}

Test(label_writers, csv_writer_label_columns)
{
    struct cs_result r;
    labelled_record(&r);
    struct cs_strlist names = {0};
    cs_strlist_add(&names, "env");
    cs_strlist_add(&names, "owner");
    cs_strlist_add(&names, "absent");
    struct cs_scan_info info = {.tool = "certsweep", .label_names = &names};
    for (int raw = 0; raw < 2; raw++) {
        char *text = write_report(&cs_writer_csv, &info, raw ? CS_WRITER_CSV_RAW : 0, &r);
        struct csv_doc d;
        cr_assert_eq(csv_doc_parse(text, strlen(text), &d), 0);
        cr_assert_eq(d.nrows, 2);
        cr_assert_eq(d.ncells[0], n_expected_fields + 3);
        cr_assert_eq(d.ncells[1], n_expected_fields + 3);
        cr_assert_str_eq(csv_doc_get(&d, 1, "env"), "prod");
        /* the label the header does not name (note) has no column */
        cr_assert_str_eq(csv_doc_get(&d, 1, "owner"), raw ? "@SUM(A1:A9)" : "'@SUM(A1:A9)");
        cr_assert_str_eq(csv_doc_get(&d, 1, "absent"), "");
        cr_assert_null(csv_doc_get(&d, 0, "note"));
        csv_doc_free(&d);
        free(text);
    }
    cs_strlist_free(&names);
    cs_result_free(&r);
}

Test(label_writers, json_writer_labels_object)
{
    struct cs_result r;
    labelled_record(&r);
    struct cs_scan_info info = {.tool = "certsweep"};
    char *text = write_report(&cs_writer_jsonl, &info, 0, &r);
    json_error_t err;
    json_t *o = json_loads(text, 0, &err);
    cr_assert_not_null(o, "%s", err.text);
    /* the fields in order, then labels: its keys in the target's order */
    const char *last = NULL;
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        last = k;
        n++;
    }
    cr_assert_eq(n, n_expected_fields + 1);
    cr_assert_str_eq(last, "labels");
    json_t *labels = json_object_get(o, "labels");
    static const char *const order[] = {"owner", "env", "note"};
    size_t i = 0;
    json_object_foreach(labels, k, v)
    {
        cr_assert_lt(i, 3);
        cr_assert_str_eq(k, order[i]);
        cr_assert_str_eq(json_string_value(v), r.labels.value[i]);
        i++;
    }
    cr_assert_eq(i, 3);
    json_decref(o);
    free(text);
    cs_result_free(&r);
}

Test(label_writers, text_writer_label_cells_escaped_and_cut)
{
    struct cs_result r;
    labelled_record(&r);
    char *cols[] = {"note", "absent"};
    struct cs_scan_info info = {.tool = "certsweep", .text_labels = cols, .n_text_labels = 2};
    char *text = write_report(&cs_writer_text, &info, 0, &r);
    cr_assert(strstr(text, "NOTE"), "%s", text);
    cr_assert(strstr(text, "ABSENT"), "%s", text);
    cr_assert_null(strchr(text, '\x1b'), "a raw ESC in the table:\n%s", text);
    cr_assert_null(strchr(text, '\x07'), "a raw BEL in the table:\n%s", text);
    /* 32 columns at most, the last three "..." */
    const char *cell = strstr(text, "\\x1B]0;title\\x07 and a ve");
    cr_assert_not_null(cell, "%s", text);
    cr_assert_eq(strncmp(cell + 29, "...", 3), 0, "%s", text);
    cr_assert_eq(cell[32], ' ');
    free(text);
    cs_result_free(&r);
}
