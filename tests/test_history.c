/* --history through the binary: real scans of the local fleet, twice or
 * more, with the certificate behind a name changed between scans; the
 * records' change and first_seen, the gone endpoints of the summary, the
 * database read back with SQLite's own API, a scan killed with SIGKILL,
 * databases that cannot be used, pruning, and the history subcommand.
 *
 * How the certificate changes: the fleet's bulk ports all listen on one port
 * P, each on an address of its own (127.0.1.1 ... 127.0.1.8), serving leafs
 * of their own (unique) for *.bulk.test whose validity makes them OK, WARNING,
 * CRITICAL or EXPIRED (address index % 4).  A name pinned with --resolve to
 * one address in a scan and to another in the next is the same endpoint
 * (host, port, SNI, protocol) serving another certificate. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/fleet.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

#define N_BULK 8

static struct fleet *fleet;
static char *dir;
static uint16_t P; /* the one port of every bulk address */

static void setup(void)
{
    dir = temp_dir();
    for (int tries = 0; !fleet && tries < 5; tries++) {
        P = free_port();
        cr_assert_neq(P, 0);
        fleet = fleet_start(&(struct fleet_options){.bulk = N_BULK,
                                                    .bulk_addresses = N_BULK,
                                                    .bulk_port_base = P,
                                                    .wildcard = true,
                                                    .unique = true});
    }
    cr_assert_not_null(fleet);
    for (size_t i = 0; i < N_BULK; i++)
        cr_assert_eq(fleet_bulk_port(fleet, i), P);
}

static void teardown(void)
{
    fleet_stop(fleet);
    remove_tree(dir);
    free(dir);
}

TestSuite(history, .init = setup, .fini = teardown, .timeout = 180);

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* Scans NAME@ADDR pairs (each name pinned to 127.0.1.ADDR at port P; ADDR 9
   has nothing listening) with --history db and the extra arguments
   (NULL-ended). */
static void scan(struct run_result *r, const char *db, const char *const *pins, ...)
{
    const char *args[128];
    char *owned[64];
    size_t n = 0, o = 0;
    args[n++] = "--ca-file";
    args[n++] = fleet_ca_file(fleet);
    if (db) {
        args[n++] = "--history";
        args[n++] = db;
    }
    for (size_t i = 0; pins[i]; i++) {
        const char *at = strchr(pins[i], '@');
        cr_assert_not_null(at);
        int len = (int)(at - pins[i]);
        cr_assert(asprintf(&owned[o], "%.*s.bulk.test:%u:127.0.1.%s", len, pins[i], P, at + 1) > 0);
        args[n++] = "--resolve";
        args[n++] = owned[o++];
        cr_assert(asprintf(&owned[o], "%.*s.bulk.test:%u", len, pins[i], P) > 0);
        args[n++] = owned[o++];
    }
    va_list ap;
    va_start(ap, pins);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    cr_assert_eq(run_certsweep(args, NULL, r), 0);
    for (size_t i = 0; i < o; i++)
        free(owned[i]);
}

#define PINS(...) ((const char *const[]){__VA_ARGS__, NULL})

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    cr_assert_not_null(j, "%s: %s", path, je.text);
    return j;
}

static json_t *record_of(json_t *doc, const char *name)
{
    char host[128];
    snprintf(host, sizeof(host), "%s.bulk.test", name);
    json_t *r = json_find_record(json_object_get(doc, "results"), host, P);
    cr_assert_not_null(r, "no record for %s", host);
    return r;
}

static const char *str_of(json_t *rec, const char *key)
{
    json_t *v = json_object_get(rec, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void expect_change(json_t *doc, const char *name, const char *change)
{
    const char *got = str_of(record_of(doc, name), "change");
    cr_assert(got && strcmp(got, change) == 0, "%s: change %s, expected %s", name,
              got ? got : "null", change);
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK, "%s", path);
    return db;
}

/* The first column of the first row of the query, as an integer (-1: NULL or no row). */
static long long q_int(sqlite3 *db, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The same as text (caller frees; NULL for NULL or no row). */
static char *q_text(sqlite3 *db, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static void expect_text(sqlite3 *db, const char *want, const char *sql)
{
    char *got = q_text(db, "%s", sql);
    cr_assert(got && strcmp(got, want) == 0, "%s: %s, expected %s", sql, got ? got : "NULL", want);
    free(got);
}

static long long observed(sqlite3 *db, long long scan, const char *name, const char *column)
{
    return q_int(db,
                 "SELECT count(*) FROM observations o JOIN endpoints e ON e.id = o.endpoint_id "
                 "WHERE o.scan_id = %lld AND e.host = '%s.bulk.test' AND %s",
                 scan, name, column);
}

#define SCAN1 PINS("same@1", "worse@1", "renewed@2", "replaced@1", "better@9", "gone@1")
#define SCAN2 PINS("same@1", "worse@3", "renewed@1", "replaced@5", "better@1", "new@1")

/* Two scans, the second with each kind of change; every record's change and
   first_seen, the gone endpoint in the JSON summary and the text, and the
   rows in the database. */
Test(history, each_change_between_two_scans)
{
    char *db = path_in("h.db"), *j1 = path_in("1.json"), *j2 = path_in("2.json"),
         *c2 = path_in("2.csv"), *j3 = path_in("3.json");
    struct run_result r;
    scan(&r, db, SCAN1, "-o", j1, NULL);
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err); /* renewed@2 is WARNING */
    cr_assert(strstr(r.out, "since the last scan: 6 new, 0 same, 0 renewed, 0 replaced, 0 worse, "
                            "0 better, 0 gone\n"),
              "%s", r.out);
    run_result_free(&r);
    json_t *d1 = load_json(j1);
    const char *start1 =
        json_string_value(json_object_get(json_object_get(d1, "scan"), "started_at"));
    for (const char *const *p = SCAN1; *p; p++) {
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(strchr(*p, '@') - *p), *p);
        expect_change(d1, name, "new");
        cr_assert_str_eq(str_of(record_of(d1, name), "first_seen"), start1);
    }
    cr_assert_str_eq(str_of(record_of(d1, "better"), "status"), "ERROR");

    scan(&r, db, SCAN2, "bad..name", "-o", j2, "-o", c2, NULL);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.out, "since the last scan: 1 new, 1 same, 1 renewed, 1 replaced, 1 worse, "
                            "1 better, 1 gone\n"),
              "%s", r.out);
    char gone_line[128];
    snprintf(gone_line, sizeof(gone_line), "GONE      gone.bulk.test:%u (tls), last seen %s, OK\n",
             P, start1);
    cr_assert(strstr(r.out, gone_line), "no '%s' in %s", gone_line, r.out);
    run_result_free(&r);

    json_t *d2 = load_json(j2);
    const char *start2 =
        json_string_value(json_object_get(json_object_get(d2, "scan"), "started_at"));
    expect_change(d2, "same", "same");
    expect_change(d2, "worse", "worse");
    expect_change(d2, "renewed", "renewed");
    expect_change(d2, "replaced", "replaced");
    expect_change(d2, "better", "better");
    expect_change(d2, "new", "new");
    cr_assert_str_eq(str_of(record_of(d2, "worse"), "status"), "CRITICAL");
    cr_assert_str_eq(str_of(record_of(d2, "renewed"), "status"), "OK");
    cr_assert_str_eq(str_of(record_of(d2, "better"), "status"), "OK");
    /* what the changes are made of: another certificate, and its notAfter */
    const char *ren1 = str_of(record_of(d1, "renewed"), "not_after"),
               *ren2 = str_of(record_of(d2, "renewed"), "not_after");
    cr_assert_gt(strcmp(ren2, ren1), 0, "renewed: %s then %s", ren1, ren2);
    cr_assert_str_neq(str_of(record_of(d1, "replaced"), "sha256"),
                      str_of(record_of(d2, "replaced"), "sha256"));
    cr_assert_str_eq(str_of(record_of(d1, "replaced"), "not_after"),
                     str_of(record_of(d2, "replaced"), "not_after"));
    cr_assert_str_eq(str_of(record_of(d1, "same"), "sha256"),
                     str_of(record_of(d2, "same"), "sha256"));
    for (const char *const *p = SCAN2; *p; p++) {
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(strchr(*p, '@') - *p), *p);
        cr_assert_str_eq(str_of(record_of(d2, name), "first_seen"),
                         strcmp(name, "new") == 0 ? start2 : start1, "%s", name);
    }
    /* the bad line is no endpoint: no change, no first_seen */
    json_t *bad = NULL, *rec;
    size_t i;
    json_array_foreach(json_object_get(d2, "results"), i, rec)
    {
        if (strcmp(str_of(rec, "host"), "bad..name") == 0)
            bad = rec;
    }
    cr_assert_not_null(bad);
    cr_assert(json_is_null(json_object_get(bad, "change")));
    cr_assert(json_is_null(json_object_get(bad, "first_seen")));
    /* the summary */
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(d2, "summary"), "gone")), 1);
    json_t *h = json_object_get(d2, "history");
    cr_assert_eq(json_integer_value(json_object_get(h, "scan_id")), 2);
    cr_assert_eq(json_integer_value(json_object_get(h, "previous_scan_id")), 1);
    cr_assert_eq(json_integer_value(json_object_get(h, "gone")), 1);
    json_t *changes = json_object_get(h, "changes");
    const char *kinds[] = {"new", "same", "renewed", "replaced", "worse", "better"};
    for (size_t k = 0; k < 6; k++)
        cr_assert_eq(json_integer_value(json_object_get(changes, kinds[k])), 1, "%s", kinds[k]);
    json_t *g = json_array_get(json_object_get(h, "gone_endpoints"), 0);
    cr_assert_eq(json_array_size(json_object_get(h, "gone_endpoints")), 1);
    cr_assert_str_eq(str_of(g, "host"), "gone.bulk.test");
    cr_assert_eq(json_integer_value(json_object_get(g, "port")), P);
    cr_assert_str_eq(str_of(g, "address"), "127.0.1.1");
    cr_assert_str_eq(str_of(g, "status"), "OK");
    cr_assert_str_eq(str_of(g, "last_seen"), start1);
    cr_assert_str_eq(str_of(g, "not_after"), str_of(record_of(d1, "gone"), "not_after"));

    /* CSV: the two fields at the end of each row */
    struct csv_doc csv;
    size_t len;
    char *text = slurp(c2, &len);
    cr_assert_not_null(text);
    cr_assert_eq(csv_doc_parse(text, len, &csv), 0);
    size_t row = csv_doc_find(&csv, "host", "renewed.bulk.test");
    cr_assert_gt(row, 0);
    cr_assert_str_eq(csv_doc_get(&csv, row, "change"), "renewed");
    cr_assert_str_eq(csv_doc_get(&csv, row, "first_seen"), start1);
    csv_doc_free(&csv);
    free(text);

    /* the database, read with SQLite */
    sqlite3 *s = open_db(db);
    expect_text(s, "ok", "PRAGMA integrity_check");
    expect_text(s, "wal", "PRAGMA journal_mode");
    cr_assert_eq(q_int(s, "SELECT version FROM schema_version"), 1);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM scans WHERE complete = 1 AND finished_at >= "
                          "started_at"),
                 2);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM observations WHERE scan_id = 1"), 6);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM observations WHERE scan_id = 2"), 6,
                 "the bad line is not recorded");
    cr_assert_eq(q_int(s, "SELECT count(*) FROM endpoints"), 7);
    cr_assert_eq(q_int(s, "SELECT gone FROM scans WHERE id = 2"), 1);
    cr_assert_eq(q_int(s, "SELECT ok FROM scans WHERE id = 2"), 5);
    cr_assert_eq(q_int(s, "SELECT critical FROM scans WHERE id = 2"), 1);
    cr_assert_eq(q_int(s, "SELECT error FROM scans WHERE id = 2"), 1);
    cr_assert_eq(q_int(s, "SELECT targets FROM scans WHERE id = 2"), 7);
    char where[256];
    snprintf(where, sizeof(where), "o.sha256 = '%s' AND o.change = 'renewed' AND o.status = 'OK'",
             str_of(record_of(d2, "renewed"), "sha256"));
    cr_assert_eq(observed(s, 2, "renewed", where), 1);
    snprintf(where, sizeof(where), "o.sha256 = '%s' AND o.change = 'new' AND o.status = 'WARNING'",
             str_of(record_of(d1, "renewed"), "sha256"));
    cr_assert_eq(observed(s, 1, "renewed", where), 1);
    cr_assert_eq(observed(s, 2, "worse",
                          "o.address = '127.0.1.3' AND o.reason LIKE 'expires in "
                          "%' AND o.labels IS NULL AND o.issuer LIKE '%Intermediate'"),
                 1);
    cr_assert_eq(observed(s, 1, "better",
                          "o.status = 'ERROR' AND o.sha256 IS NULL AND "
                          "o.reason LIKE 'connect: %'"),
                 1);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM timeline WHERE host = 'worse.bulk.test'"), 2);
    sqlite3_close(s);

    /* a third scan like the second: nothing changed, and what was gone
       last time is not gone again */
    scan(&r, db, SCAN2, "-o", j3, NULL);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    json_t *d3 = load_json(j3);
    for (const char *const *p = SCAN2; *p; p++) {
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(strchr(*p, '@') - *p), *p);
        expect_change(d3, name, "same");
    }
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(d3, "summary"), "gone")), 0);
    json_decref(d1);
    json_decref(d2);
    json_decref(d3);
    free(db);
    free(j1);
    free(j2);
    free(c2);
    free(j3);
}

static pid_t spawn(const char *const *args, const char *out_path)
{
    size_t argc = 0;
    while (args[argc])
        argc++;
    const char **argv = calloc(argc + 2, sizeof(*argv));
    argv[0] = CS_BINARY;
    memcpy(argv + 1, args, argc * sizeof(*argv));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int n = open("/dev/null", O_RDWR);
        if (o < 0 || n < 0 || dup2(n, 0) < 0 || dup2(o, 1) < 0 || dup2(n, 2) < 0)
            _exit(127);
        execv(CS_BINARY, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    return pid;
}

/* A scan killed with SIGKILL while it runs (an endpoint that never answers
   holds it open) leaves a valid database with the earlier scan whole; the
   next scan compares with that one. */
Test(history, sigkill_mid_scan_leaves_earlier_scans_whole)
{
    char *db = path_in("k.db"), *out = path_in("killed.jsonl"), *j3 = path_in("3.json");
    struct run_result r;
    scan(&r, db, PINS("same@1", "other@2"), "-q", NULL);
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    run_result_free(&r);

    const struct fleet_scenario *silent = fleet_get(fleet, "silent");
    char pin[128], target[128], samepin[128], sametarget[128];
    snprintf(pin, sizeof(pin), "silent.fleet.test:%u:127.0.0.1", silent->port);
    snprintf(target, sizeof(target), "silent.fleet.test:%u", silent->port);
    snprintf(samepin, sizeof(samepin), "same.bulk.test:%u:127.0.1.1", P);
    snprintf(sametarget, sizeof(sametarget), "same.bulk.test:%u", P);
    const char *args[] = {"--ca-file", fleet_ca_file(fleet),
                          "--history", db,
                          "--resolve", pin,
                          "--resolve", samepin,
                          "-t",        "120",
                          "-F",        "jsonl",
                          sametarget,  target,
                          NULL};
    pid_t pid = spawn(args, out);
    /* running: its scan row is in, and one record is out */
    for (int i = 0; i < 3000; i++) {
        char *t = slurp(out, NULL);
        bool seen = t && strstr(t, "same.bulk.test");
        free(t);
        if (seen)
            break;
        usleep(10000);
    }
    sqlite3 *s = open_db(db);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM scans"), 2, "the running scan has no row");
    sqlite3_close(s);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    s = open_db(db);
    expect_text(s, "ok", "PRAGMA integrity_check");
    cr_assert_eq(q_int(s, "SELECT count(*) FROM observations WHERE scan_id = 1"), 2);
    cr_assert_eq(q_int(s, "SELECT complete FROM scans WHERE id = 1"), 1);
    cr_assert_eq(q_int(s, "SELECT ok + warning FROM scans WHERE id = 1"), 2);
    cr_assert_eq(q_int(s, "SELECT finished_at FROM scans WHERE id = 2"), -1,
                 "the killed scan has an end");
    sqlite3_close(s);

    /* the next scan: compared with the last complete one */
    scan(&r, db, PINS("same@1"), "-q", "-o", j3, NULL);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    json_t *d3 = load_json(j3);
    expect_change(d3, "same", "same");
    json_t *h = json_object_get(d3, "history");
    cr_assert_eq(json_integer_value(json_object_get(h, "previous_scan_id")), 1);
    cr_assert_eq(json_integer_value(json_object_get(h, "scan_id")), 3);
    cr_assert_eq(json_integer_value(json_object_get(h, "gone")), 1); /* other */
    json_decref(d3);
    s = open_db(db);
    expect_text(s, "ok", "PRAGMA integrity_check");
    cr_assert_eq(q_int(s, "SELECT complete FROM scans WHERE id = 3"), 1);
    sqlite3_close(s);
    free(db);
    free(out);
    free(j3);
}

/* A history that cannot be used: one line naming it, the exit code the
   README gives, and the reports written all the same. */
static void expect_unusable(const char *db, int code, const char *words)
{
    char *csv = path_in("u.csv");
    unlink(csv);
    struct run_result r;
    scan(&r, db, PINS("same@1"), "-q", "-o", csv, NULL);
    cr_assert_eq(r.status, code, "%s: exit %d: %s", db, r.status, r.err);
    cr_assert(strstr(r.err, words), "%s: %s", db, r.err);
    cr_assert(strstr(r.err, db), "%s", r.err);
    char *nl = strchr(r.err, '\n');
    cr_assert(nl && nl[1] == '\0', "not one line: %s", r.err);
    run_result_free(&r);
    struct csv_doc d;
    size_t len;
    char *text = slurp(csv, &len);
    cr_assert_not_null(text, "the report was lost");
    cr_assert_eq(csv_doc_parse(text, len, &d), 0);
    size_t row = csv_doc_find(&d, "host", "same.bulk.test");
    cr_assert_gt(row, 0);
    cr_assert_str_eq(csv_doc_get(&d, row, "status"), "OK");
    cr_assert_str_eq(csv_doc_get(&d, row, "change"), "");
    csv_doc_free(&d);
    free(text);
    free(csv);
}

Test(history, unusable_databases)
{
    char *missing = path_in("no/such/dir/h.db");
    expect_unusable(missing, 73, "cannot open or create it");

    char *text = path_in("notes.db");
    cr_assert_eq(spit(text, "these are notes, not a database\n"), 0);
    expect_unusable(text, 66, "not a SQLite database");

    char *foreign = path_in("foreign.db");
    sqlite3 *s;
    cr_assert_eq(sqlite3_open(foreign, &s), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(s, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    expect_unusable(foreign, 66, "not a certsweep history");

    char *newer = path_in("newer.db");
    struct run_result r;
    scan(&r, newer, PINS("same@1"), "-q", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    s = open_db(newer);
    cr_assert_eq(sqlite3_exec(s, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(s);
    expect_unusable(newer, 66, "schema version 99 is newer than this certsweep knows (1)");
    s = open_db(newer);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM scans"), 1, "a newer history was written to");
    sqlite3_close(s);

    char *isdir = path_in("adir.db");
    cr_assert_eq(mkdir(isdir, 0755), 0);
    expect_unusable(isdir, 66, "not a regular file");
    free(missing);
    free(text);
    free(foreign);
    free(newer);
    free(isdir);
}

/* --history-keep deletes the scans that started more than DAYS before this
   one, their observations and the endpoints left with none. */
Test(history, keep_prunes_old_scans)
{
    char *db = path_in("p.db");
    struct run_result r;
    scan(&r, db, PINS("same@1", "old@1"), "-q", NULL);
    run_result_free(&r);
    scan(&r, db, PINS("same@1"), "-q", NULL);
    run_result_free(&r);
    sqlite3 *s = open_db(db);
    cr_assert_eq(sqlite3_exec(s,
                              "UPDATE scans SET started_at = started_at - 10 * 86400 "
                              "WHERE id = 1; UPDATE endpoints SET first_seen = first_seen - "
                              "10 * 86400",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(s);
    scan(&r, db, PINS("same@1"), "-q", "--history-keep", "5", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_null(strstr(r.err, "history"), "%s", r.err);
    run_result_free(&r);
    s = open_db(db);
    expect_text(s, "ok", "PRAGMA integrity_check");
    cr_assert_eq(q_int(s, "SELECT count(*) FROM scans"), 2);
    cr_assert_eq(q_int(s, "SELECT min(id) FROM scans"), 2);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM observations WHERE scan_id = 1"), 0);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM endpoints WHERE host = 'old.bulk.test'"), 0);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM observations"), 2);
    /* first_seen is the endpoint's, not its oldest kept observation's */
    cr_assert_gt(q_int(s, "SELECT count(*) FROM endpoints WHERE host = 'same.bulk.test' AND "
                          "first_seen < (SELECT min(started_at) FROM scans)"),
                 0);
    sqlite3_close(s);

    scan(&r, NULL, PINS("same@1"), "--history-keep", "5", NULL);
    cr_assert_str_eq(r.err, "certsweep: warning: --history-keep has no effect without --history\n");
    run_result_free(&r);
    free(db);
}

static void run_args(struct run_result *r, const char *const *args)
{
    cr_assert_eq(run_certsweep(args, NULL, r), 0);
}

/* certsweep history: the timeline of one endpoint; the subcommand is taken
   by its exact name as the first argument only. */
Test(history, timeline_subcommand)
{
    char *db = path_in("t.db");
    struct run_result r;
    scan(&r, db, SCAN1, "-q", NULL);
    run_result_free(&r);
    scan(&r, db, SCAN2, "-q", NULL);
    run_result_free(&r);
    char target[64], heading[128];
    snprintf(target, sizeof(target), "worse.bulk.test:%u", P);
    run_args(&r, (const char *[]){"history", "--history", db, target, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(heading, sizeof(heading), "worse.bulk.test:%u (sni worse.bulk.test, tls), first seen ",
             P);
    cr_assert(strncmp(r.out, heading, strlen(heading)) == 0, "%s", r.out);
    const char *ok = strstr(r.out, " OK        new ");
    const char *crit = strstr(r.out, " CRITICAL  worse ");
    cr_assert(ok && crit && ok < crit, "%s", r.out);
    cr_assert(strstr(r.out, "127.0.1.3"), "%s", r.out);
    cr_assert(strstr(r.out, "certificates seen:"), "%s", r.out);
    /* each certificate, in full, once */
    sqlite3 *s = open_db(db);
    for (int scan_id = 1; scan_id <= 2; scan_id++) {
        char *sha = q_text(s,
                           "SELECT o.sha256 FROM observations o JOIN endpoints e ON e.id = "
                           "o.endpoint_id WHERE e.host = 'worse.bulk.test' AND o.scan_id = %d",
                           scan_id);
        cr_assert_not_null(sha);
        char *line;
        cr_assert(asprintf(&line, "    %s\n", sha) > 0);
        cr_assert(strstr(r.out, line), "no %s in %s", sha, r.out);
        free(line);
        free(sha);
    }
    sqlite3_close(s);
    run_result_free(&r);

    /* HOST alone: every port of it */
    run_args(&r, (const char *[]){"history", "--history", db, "RENEWED.bulk.test", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, " WARNING   new ") && strstr(r.out, " OK        renewed "), "%s",
              r.out);
    run_result_free(&r);

    run_args(&r, (const char *[]){"history", "--history", db, "nothere.bulk.test", NULL});
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "nothing recorded for nothere.bulk.test"), "%s", r.err);
    run_result_free(&r);

    char *missing = path_in("missing.db");
    run_args(&r, (const char *[]){"history", "--history", missing, "x.example", NULL});
    cr_assert_eq(r.status, 66, "%s", r.err);
    cr_assert(strstr(r.err, missing), "%s", r.err);
    struct stat st;
    cr_assert_neq(stat(missing, &st), 0, "reading made a database");
    run_result_free(&r);
    free(missing);

    /* the subcommand alone: its usage, not a scan of a host called history */
    run_args(&r, (const char *[]){"history", NULL});
    cr_assert_eq(r.status, 64);
    cr_assert(strncmp(r.err, "certsweep history: ", 19) == 0, "%s", r.err);
    cr_assert_str_eq(r.out, "");
    run_result_free(&r);

    /* after --, a host called history is scanned (its name does not resolve) */
    run_args(&r, (const char *[]){"--dns-server", "127.0.0.1:9", "--dns-timeout", "0.2", "-F",
                                  "jsonl", "--", "history", NULL});
    cr_assert_eq(r.status, 3, "%s", r.err);
    cr_assert(strstr(r.out, "\"host\":\"history\",\"port\":443"), "%s", r.out);
    run_result_free(&r);

    run_args(&r, (const char *[]){"--help", NULL});
    cr_assert(strstr(r.out, "certsweep history --history FILE.db HOST[:PORT]"), "%s", r.out);
    run_result_free(&r);
    free(db);
}

/* What the database says is shown escaped: a host name holding terminal
   escapes (the file is anyone's to edit) reaches the terminal as \xNN. */
Test(history, timeline_escapes_what_the_database_holds)
{
    char *db = path_in("e.db");
    struct run_result r;
    scan(&r, db, PINS("same@1"), "-q", NULL);
    run_result_free(&r);
    sqlite3 *s = open_db(db);
    cr_assert_eq(sqlite3_exec(s,
                              "UPDATE endpoints SET host = 'evil' || char(27) || '[2J.example';"
                              "UPDATE observations SET reason = 'r' || char(7) || 'x\\y'",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(s);
    run_args(&r, (const char *[]){"history", "--history", db, "evil\x1b[2J.example", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_null(strchr(r.out, 0x1b), "a raw ESC reached the output");
    cr_assert_null(strchr(r.out, 0x07), "a raw BEL reached the output");
    cr_assert(strstr(r.out, "evil\\x1B[2J.example:"), "%s", r.out);
    cr_assert(strstr(r.out, "r\\x07x\\x5Cy\n"), "%s", r.out);
    run_result_free(&r);
    free(db);
}

/* However many endpoints are gone, a report lists the first 1,000 and
   counts them all. */
Test(history, gone_list_is_capped)
{
    char *db = path_in("g.db"), *json = path_in("g.json"), *txt = path_in("g.txt");
    struct run_result r;
    scan(&r, db, PINS("same@1"), "-q", NULL);
    run_result_free(&r);
    sqlite3 *s = open_db(db);
    /* 1,500 more endpoints in that scan, as if it had seen them */
    cr_assert_eq(sqlite3_exec(s,
                              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                              "WHERE i < 1500) INSERT INTO endpoints (host, port, sni, protocol, "
                              "first_seen, last_scan) SELECT printf('x%04d.example', i), 443, "
                              "printf('x%04d.example', i), 'tls', 0, 1 FROM n;"
                              "INSERT INTO observations (scan_id, endpoint_id, address, status, "
                              "reason, change) SELECT 1, id, '192.0.2.1', 'OK', 'fine', 'new' "
                              "FROM endpoints WHERE host LIKE 'x%';"
                              "UPDATE endpoints SET last_observation = (SELECT max(id) FROM "
                              "observations o WHERE o.endpoint_id = endpoints.id)",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(s));
    sqlite3_close(s);
    scan(&r, db, PINS("same@1"), "-q", "-o", json, "-o", txt, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    run_result_free(&r);
    json_t *d = load_json(json);
    json_t *h = json_object_get(d, "history");
    cr_assert_eq(json_integer_value(json_object_get(h, "gone")), 1500);
    cr_assert_eq(json_array_size(json_object_get(h, "gone_endpoints")), 1000);
    cr_assert_str_eq(str_of(json_array_get(json_object_get(h, "gone_endpoints"), 999), "host"),
                     "x1000.example");
    json_decref(d);
    char *text = slurp(txt, NULL);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "GONE      x1000.example:443 (tls)"), "%s", text);
    cr_assert_null(strstr(text, "GONE      x1001.example"));
    cr_assert(strstr(text, "GONE      ... and 500 more (see the history database)\n"), "%s", text);
    free(text);
    free(db);
    free(json);
    free(txt);
}

/* An interrupted scan is recorded as ended but not complete, and cannot
   tell what is gone. */
Test(history, interrupted_scan_is_partial)
{
    char *db = path_in("i.db"), *out = path_in("i.out"), *json = path_in("i.json");
    struct run_result r;
    scan(&r, db, PINS("same@1", "other@2"), "-q", NULL);
    run_result_free(&r);
    const struct fleet_scenario *silent = fleet_get(fleet, "silent");
    char pin[128], target[128];
    snprintf(pin, sizeof(pin), "silent.fleet.test:%u:127.0.0.1", silent->port);
    snprintf(target, sizeof(target), "silent.fleet.test:%u", silent->port);
    const char *args[] = {"--ca-file", fleet_ca_file(fleet),
                          "--history", db,
                          "--resolve", pin,
                          "-t",        "120",
                          "-q",        "-o",
                          json,        target,
                          NULL};
    pid_t pid = spawn(args, out);
    for (int i = 0; i < 3000; i++) {
        sqlite3 *s = open_db(db);
        long long n = q_int(s, "SELECT count(*) FROM scans");
        sqlite3_close(s);
        if (n == 2)
            break;
        usleep(10000);
    }
    usleep(200000);
    cr_assert_eq(kill(pid, SIGTERM), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status %d", st);
    json_t *d = load_json(json);
    cr_assert(json_is_false(json_object_get(d, "complete")));
    cr_assert(json_is_null(json_object_get(json_object_get(d, "summary"), "gone")));
    cr_assert(json_is_null(json_object_get(json_object_get(d, "history"), "gone")));
    json_decref(d);
    sqlite3 *s = open_db(db);
    cr_assert_eq(q_int(s, "SELECT complete FROM scans WHERE id = 2"), 0);
    cr_assert_gt(q_int(s, "SELECT finished_at FROM scans WHERE id = 2"), 0);
    cr_assert_eq(q_int(s, "SELECT gone FROM scans WHERE id = 2"), -1);
    cr_assert_eq(q_int(s, "SELECT count(*) FROM observations WHERE scan_id = 2 AND status = "
                          "'ERROR' AND reason = 'interrupted'"),
                 1);
    sqlite3_close(s);
    free(db);
    free(out);
    free(json);
}

/* certsweep diff --history: the last two complete scans of the database,
   the same changes as diffing the two scans' own reports. */
Test(history, diff_of_the_last_two_scans)
{
    char *db = path_in("d.db"), *j1 = path_in("d1.json"), *j2 = path_in("d2.json");
    struct run_result r;
    const char *only_one[] = {"diff", "--history", db, NULL};
    scan(&r, db, SCAN1, "-o", j1, NULL);
    run_result_free(&r);
    run_args(&r, only_one);
    cr_assert_eq(r.status, 66, "one scan: exit %d: %s", r.status, r.err);
    cr_assert(strstr(r.err, "1 complete scan recorded; diff needs two"), "%s", r.err);
    run_result_free(&r);
    scan(&r, db, SCAN2, "-o", j2, NULL);
    run_result_free(&r);

    const char *from_db[] = {"diff", "--history", db, "-F", "json", NULL};
    const char *from_reports[] = {"diff", j1, j2, "-F", "json", NULL};
    struct run_result a, b;
    run_args(&a, from_db);
    run_args(&b, from_reports);
    cr_assert_eq(a.status, 1, "something got worse: exit %d: %s", a.status, a.err);
    cr_assert_eq(b.status, 1, "exit %d: %s", b.status, b.err);
    json_error_t e;
    json_t *da = json_loads(a.out, 0, &e), *db_ = json_loads(b.out, 0, &e);
    cr_assert_not_null(da, "%s", a.out);
    cr_assert_not_null(db_, "%s", b.out);
    const char *kinds[] = {"worse", "better", "renewed", "replaced", "new", "gone"};
    for (size_t k = 0; k < 6; k++) {
        json_int_t n =
            json_integer_value(json_object_get(json_object_get(da, "summary"), kinds[k]));
        cr_assert_eq(n, 1, "%s: %lld", kinds[k], (long long)n);
        cr_assert_eq(n,
                     json_integer_value(json_object_get(json_object_get(db_, "summary"), kinds[k])),
                     "%s", kinds[k]);
    }
    cr_assert_eq(json_array_size(json_object_get(da, "changes")),
                 json_array_size(json_object_get(db_, "changes")));
    json_decref(da);
    json_decref(db_);
    run_result_free(&a);
    run_result_free(&b);

    const char *both[] = {"diff", "--history", db, j1, j2, NULL};
    run_args(&r, both);
    cr_assert_eq(r.status, 64, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    free(db);
    free(j1);
    free(j2);
}

/* A target's labels are kept with each observation, as a JSON object. */
Test(history, labels_are_kept)
{
    char *db = path_in("l.db"), *targets = path_in("labelled.txt"), *json = path_in("l.json");
    cr_assert_eq(spit(targets, "127.0.0.1:1 owner=payments team=edge\n127.0.0.1:2\n"), 0);
    const char *args[] = {"-q", "-o",           json,          "--fail-on", "never", "--history",
                          db,   "--dns-server", "127.0.0.1:9", "-f",        targets, NULL};
    struct run_result r;
    run_args(&r, args);
    run_result_free(&r);
    sqlite3 *h = open_db(db);
    cr_assert_eq(q_int(h, "SELECT count(*) FROM observations"), 2);
    char *labels = q_text(h, "SELECT o.labels FROM observations o JOIN endpoints e"
                             " ON e.id = o.endpoint_id WHERE e.port = 1");
    cr_assert_not_null(labels);
    cr_assert_str_eq(labels, "{\"owner\":\"payments\",\"team\":\"edge\"}");
    free(labels);
    cr_assert_eq(q_int(h, "SELECT count(*) FROM observations o JOIN endpoints e"
                          " ON e.id = o.endpoint_id WHERE e.port = 2 AND o.labels IS NULL"),
                 1, "no labels: NULL");
    sqlite3_close(h);
    free(db);
    free(targets);
    free(json);
}
