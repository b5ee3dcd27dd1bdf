/* The binary as a user runs it: exit codes, --fail-on, --now, bad input,
 * unreadable files, usage errors and the standard-output formats. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "scanner/result.h"
#include "support/fleet.h"
#include "support/runner.h"

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

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 120);

/* Runs certsweep on the named scenarios plus extra arguments (NULL-ended). */
static void scan(struct run_result *r, const char *const *names, ...)
{
    const char *args[96];
    char *owned[64];
    size_t n = 0, o = 0;
    args[n++] = "--ca-file";
    args[n++] = fleet_ca_file(fleet);
    for (size_t i = 0; names[i]; i++) {
        const struct fleet_scenario *s = fleet_get(fleet, names[i]);
        cr_assert_not_null(s, "no scenario %s", names[i]);
        cr_assert(asprintf(&owned[o], "%s:%u:127.0.0.1", s->host, s->port) > 0);
        args[n++] = "--resolve";
        args[n++] = owned[o++];
        cr_assert(asprintf(&owned[o], "%s:%u", s->host, s->port) > 0);
        args[n++] = owned[o++];
    }
    va_list ap;
    va_start(ap, names);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    cr_assert_eq(run_certsweep(args, NULL, r), 0);
    for (size_t i = 0; i < o; i++)
        free(owned[i]);
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_exit(const char *const *names, int want, const char *fail_on)
{
    struct run_result r;
    if (fail_on)
        scan(&r, names, "--fail-on", fail_on, "-q", NULL);
    else
        scan(&r, names, "-q", NULL);
    cr_assert_eq(r.status, want, "%s%s: exit %d, want %d; stderr: %s", names[0],
                 names[1] ? "+..." : "", r.status, want, r.err);
    cr_assert_str_eq(r.out, "", "-q wrote to standard output");
    run_result_free(&r);
}

Test(cli, exit_codes_by_level)
{
    expect_exit(NAMES("ok"), 0, NULL);
    expect_exit(NAMES("ok", "warning"), 1, NULL);
    expect_exit(NAMES("ok", "critical"), 2, NULL);
    expect_exit(NAMES("ok", "expired"), 2, NULL);
    expect_exit(NAMES("ok", "closed"), 3, NULL);
    /* precedence 2 > 1 > 3 > 0 */
    expect_exit(NAMES("warning", "closed"), 1, NULL);
    expect_exit(NAMES("critical", "warning", "closed"), 2, NULL);
}

Test(cli, fail_on_levels)
{
    expect_exit(NAMES("ok", "warning"), 0, "error");
    expect_exit(NAMES("ok", "warning", "closed"), 3, "error");
    expect_exit(NAMES("warning", "closed"), 0, "critical");
    expect_exit(NAMES("warning", "expired"), 2, "critical");
    expect_exit(NAMES("expired", "closed"), 0, "never");
    expect_exit(NAMES("warning", "closed"), 1, "warning");
}

Test(cli, now_reclassifies)
{
    char later[24];
    cs_format_time(fleet_now(fleet) + 195 * 86400LL, later);
    struct run_result r;
    scan(&r, NAMES("ok"), "--now", later, "-F", "csv", NULL);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.out);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    cr_assert_str_eq(csv_doc_get(&d, 1, "status"), "CRITICAL");
    cr_assert_str_eq(csv_doc_get(&d, 1, "reason"), "expires in 5 days");
    cr_assert_str_eq(csv_doc_get(&d, 1, "days_remaining"), "5");
    csv_doc_free(&d);
    run_result_free(&r);
    cs_format_time(fleet_now(fleet) + 201 * 86400LL, later);
    scan(&r, NAMES("ok"), "--now", later, "-F", "jsonl", NULL);
    json_t *o = json_loads(r.out, 0, NULL);
    cr_assert_not_null(o, "%s", r.out);
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "EXPIRED");
    cr_assert_str_eq(json_string_value(json_object_get(o, "reason")), "expired 1 day ago");
    json_decref(o);
    run_result_free(&r);
}

Test(cli, explicit_thresholds_and_no_verify)
{
    struct run_result r;
    scan(&r, NAMES("warning"), "-w", "10", "-c", "2", "-F", "jsonl", NULL);
    json_t *o = json_loads(r.out, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "OK");
    json_decref(o);
    cr_assert_eq(r.status, 0);
    run_result_free(&r);
    scan(&r, NAMES("self-signed", "mismatch"), "--no-verify", "-F", "csv", NULL);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    cr_assert_eq(d.nrows, 3);
    for (size_t i = 1; i < 3; i++)
        cr_assert_str_eq(csv_doc_get(&d, i, "status"), "OK", "%s: %s",
                         csv_doc_get(&d, i, "host"), csv_doc_get(&d, i, "reason"));
    size_t row = csv_doc_find(&d, "host", fleet_get(fleet, "self-signed")->host);
    cr_assert_str_eq(csv_doc_get(&d, row, "verify"), "self-signed certificate");
    csv_doc_free(&d);
    cr_assert_eq(r.status, 0);
    run_result_free(&r);
}

Test(cli, bad_target_line_becomes_error_record)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    char *path, *text, *pin;
    cr_assert(asprintf(&path, "%s/targets.txt", dir) > 0);
    cr_assert(asprintf(&text, "# comment\n%s:%u\nbad:port:here:x\nweb.example:70000\n", ok->host,
                       ok->port) > 0);
    cr_assert_eq(spit(path, text), 0);
    cr_assert(asprintf(&pin, "%s:%u:127.0.0.1", ok->host, ok->port) > 0);
    struct run_result r;
    const char *args[] = {"-f", path, "--resolve", pin, "--ca-file", fleet_ca_file(fleet),
                          "-F", "csv", NULL};
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    char *want;
    cr_assert(asprintf(&want, "%s:3: bad target (IPv6 needs brackets: [addr]:port)\n%s:4: port "
                              "out of range (1-65535)\n",
                       path, path) > 0);
    cr_assert_str_eq(r.err, want);
    free(want);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    cr_assert_eq(d.nrows, 4);
    size_t row = csv_doc_find(&d, "host", "bad:port:here:x");
    cr_assert(row);
    cr_assert_str_eq(csv_doc_get(&d, row, "status"), "ERROR");
    cr_assert_str_eq(csv_doc_get(&d, row, "port"), "");
    cr_assert_str_eq(csv_doc_get(&d, row, "elapsed_ms"), "", "no connection, no time");
    cr_assert(asprintf(&want, "input: %s:3: bad target (IPv6 needs brackets: [addr]:port)",
                       path) > 0);
    cr_assert_str_eq(csv_doc_get(&d, row, "error"), want);
    free(want);
    row = csv_doc_find(&d, "host", "web.example:70000");
    cr_assert(row);
    cr_assert_str_eq(csv_doc_get(&d, row, "status"), "ERROR");
    row = csv_doc_find(&d, "host", ok->host);
    cr_assert_str_eq(csv_doc_get(&d, row, "status"), "OK");
    cr_assert_eq(r.status, 3);
    csv_doc_free(&d);
    run_result_free(&r);

    const char *strict[] = {"-f", path, "--strict-input", "-q", NULL};
    cr_assert_eq(run_certsweep(strict, NULL, &r), 0);
    cr_assert_eq(r.status, 64, "exit %d", r.status);
    cr_assert_eq(fleet_accepted(fleet, "ok"), 1, "--strict-input still scanned");
    run_result_free(&r);
    free(pin);
    free(text);
    free(path);
}

Test(cli, targets_from_stdin)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok"), *w = fleet_get(fleet, "warning");
    char *in;
    cr_assert(asprintf(&in, "127.0.0.1:%u\n127.0.0.1:%u # second\n", ok->port, w->port) > 0);
    struct run_result r;
    const char *args[] = {"-f", "-", "--ca-file", fleet_ca_file(fleet), "-F", "json", NULL};
    cr_assert_eq(run_certsweep(args, in, &r), 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    cr_assert_not_null(doc, "%s", r.out);
    json_t *rec = json_find_record(json_object_get(doc, "results"), "127.0.0.1", ok->port);
    cr_assert_not_null(rec);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), "OK");
    cr_assert_str_eq(json_string_value(json_object_get(rec, "sni")), "");
    cr_assert(json_is_true(json_object_get(rec, "hostname_match")));
    cr_assert_eq(r.status, 1);
    json_decref(doc);
    run_result_free(&r);
    free(in);
}

Test(cli, unreadable_targets_file_exits_66)
{
    struct run_result r;
    const char *args[] = {"-f", "/nonexistent/domains.txt", NULL};
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 66);
    cr_assert(strstr(r.err, "/nonexistent/domains.txt: No such file or directory"), "%s", r.err);
    cr_assert_str_eq(r.out, "");
    run_result_free(&r);
    const char *ca[] = {"--ca-file", "/nonexistent/ca.pem", "127.0.0.1:1", NULL};
    cr_assert_eq(run_certsweep(ca, NULL, &r), 0);
    cr_assert_eq(r.status, 66, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
}

static void expect_usage(const char *const *args, const char *needle)
{
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 64, "%s: exit %d", args[0], r.status);
    cr_assert(strstr(r.err, needle), "%s: stderr '%s' lacks '%s'", args[0], r.err, needle);
    cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "not one line: %s", r.err);
    run_result_free(&r);
}

Test(cli, usage_errors_exit_64)
{
    expect_usage(NAMES("-j", "0", "x.example"), "--concurrency");
    expect_usage(NAMES("-j", "abc", "x.example"), "--concurrency");
    expect_usage(NAMES("-p", "65536", "x.example"), "--port");
    expect_usage(NAMES("-w", "-1", "x.example"), "--warn-days");
    expect_usage(NAMES("-c", "1e3", "x.example"), "--crit-days");
    expect_usage(NAMES("-t", "0", "x.example"), "--timeout");
    expect_usage(NAMES("--connect-timeout", "x", "x.example"), "--connect-timeout");
    expect_usage(NAMES("--now", "2026-02-30T00:00:00Z", "x.example"), "--now");
    expect_usage(NAMES("--fail-on", "sometimes", "x.example"), "--fail-on");
    expect_usage(NAMES("-F", "xml", "x.example"), "--format");
    expect_usage(NAMES("-o", "report.xlsx", "x.example"), "--output");
    expect_usage(NAMES("--resolve", "x.example:443", "x.example"), "--resolve");
    expect_usage(NAMES("--dns-server", "not-an-ip", "x.example"), "--dns-server");
    expect_usage(NAMES("-T", "0", "x.example"), "--workers");
    expect_usage(NAMES("-T", "257", "x.example"), "--workers");
    expect_usage(NAMES("--rate", "0", "x.example"), "--rate");
    expect_usage(NAMES("--rate", "x", "x.example"), "--rate");
    expect_usage(NAMES("--per-address", "0", "x.example"), "--per-address");
    expect_usage(NAMES("--dns-timeout", "0", "x.example"), "--dns-timeout");
    expect_usage(NAMES("-t", "86401", "x.example"), "--timeout");
    expect_usage(NAMES("-j", "1000001", "x.example"), "--concurrency");
    expect_usage(NAMES("-p", "0", "x.example"), "--port");
    expect_usage(NAMES("-c", "3651", "x.example"), "--crit-days");
    expect_usage(NAMES("--connect-timeout", "-1", "x.example"), "--connect-timeout");
    expect_usage(NAMES("--fetch-timeout", "0", "x.example"), "--fetch-timeout");
    expect_usage(NAMES("--fetch-per-host", "0", "x.example"), "--fetch-per-host");
    expect_usage(NAMES("--fetch-per-host", "1001", "x.example"), "--fetch-per-host");
    expect_usage(NAMES("--crl-max-size", "1023", "x.example"), "--crl-max-size");
    expect_usage(NAMES("--crl-max-size", "5G", "x.example"), "--crl-max-size");
    expect_usage(NAMES("--crl-max-size", "32MB", "x.example"), "--crl-max-size");
    expect_usage(NAMES("--crl-max-size", "M", "x.example"), "--crl-max-size");
    expect_usage(NAMES("--bogus", "x.example"), "--bogus");
    expect_usage(NAMES("-t"), "-t");
    expect_usage(NAMES("-q"), "no targets");
}

Test(cli, help_and_version)
{
    struct run_result r;
    cr_assert_eq(run_certsweep(NAMES("--help"), NULL, &r), 0);
    cr_assert_eq(r.status, 0);
    static const char *const options[] = {
        "--targets", "--port", "--warn-days", "--crit-days", "--output", "--format",
        "--concurrency", "--timeout", "--connect-timeout", "--ca-file", "--ca-path",
        "--no-verify", "--sni", "--resolve", "--dns-server", "--now", "--fail-on", "--quiet",
        "--strict-input", "--csv-raw", "--help", "--version"};
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        cr_assert(strstr(r.out, options[i]), "--help lacks %s", options[i]);
    run_result_free(&r);
    cr_assert_eq(run_certsweep(NAMES("--version"), NULL, &r), 0);
    cr_assert_eq(r.status, 0);
    cr_assert(strncmp(r.out, "certsweep ", 10) == 0, "%s", r.out);
    run_result_free(&r);
}

Test(cli, text_table_on_a_pipe_has_no_colour)
{
    struct run_result r;
    scan(&r, NAMES("ok", "expired", "closed"), NULL);
    cr_assert_null(strchr(r.out, '\x1b'), "colour escape on a pipe");
    char *expired = strstr(r.out, "EXPIRED"), *okrow = strstr(r.out, "\nOK");
    cr_assert(expired && okrow && expired < okrow, "most urgent first:\n%s", r.out);
    cr_assert(strstr(r.out, "3 endpoints: 1 OK, 0 WARNING, 0 CRITICAL, 1 EXPIRED, 1 ERROR"),
              "%s", r.out);
    run_result_free(&r);
}

Test(cli, several_reports_from_one_scan)
{
    char *csv, *json, *txt;
    cr_assert(asprintf(&csv, "%s/r.csv", dir) > 0);
    cr_assert(asprintf(&json, "%s/r.json", dir) > 0);
    cr_assert(asprintf(&txt, "%s/r.txt", dir) > 0);
    struct run_result r;
    scan(&r, NAMES("ok", "warning"), "-o", csv, "-o", json, "-o", txt, "-F", "jsonl", NULL);
    size_t lines = 0;
    for (char *p = r.out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 2, "stdout: %s", r.out);
    char *c = slurp(csv, NULL), *j = slurp(json, NULL), *t = slurp(txt, NULL);
    cr_assert(c && j && t);
    cr_assert(strncmp(c, "host,port,address,sni,status,reason,", 36) == 0);
    json_t *doc = json_loads(j, 0, NULL);
    cr_assert_eq(json_array_size(json_object_get(doc, "results")), 2);
    cr_assert(strstr(t, "2 endpoints: 1 OK, 1 WARNING"), "%s", t);
    json_decref(doc);
    free(c);
    free(j);
    free(t);
    run_result_free(&r);
    /* every report is renamed into place whole: nothing else is left beside them */
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        cr_assert(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                      strcmp(de->d_name, "r.csv") == 0 || strcmp(de->d_name, "r.json") == 0 ||
                      strcmp(de->d_name, "r.txt") == 0,
                  "left behind: %s", de->d_name);
    closedir(d);
    /* a report that cannot be created: said, exit 73, and the others are still written */
    unlink(csv);
    const char *bad[] = {"-o", "/nonexistent/dir/r.csv", "-o", csv, "-q", "127.0.0.1:1", NULL};
    cr_assert_eq(run_certsweep(bad, NULL, &r), 0);
    cr_assert_eq(r.status, 73, "exit %d", r.status);
    cr_assert(strstr(r.err, "/nonexistent/dir/r.csv: cannot create report"), "%s", r.err);
    char *c2 = slurp(csv, NULL);
    cr_assert_not_null(c2, "the other report was not written");
    cr_assert(strstr(c2, "127.0.0.1,1,127.0.0.1,,ERROR,connect: connection refused"), "%s", c2);
    free(c2);
    run_result_free(&r);
    free(csv);
    free(json);
    free(txt);
}

Test(cli, sni_override_and_ca_path)
{
    /* The SNI port serves sni-b's certificate only when asked for it by name. */
    const struct fleet_scenario *b = fleet_get(fleet, "sni-b");
    char *target, *hashdir, *link;
    cr_assert(asprintf(&target, "127.0.0.1:%u", b->port) > 0);
    /* --ca-path: a directory of <subject hash>.0 files, as c_rehash makes */
    cr_assert(asprintf(&hashdir, "%s/certs", dir) > 0);
    cr_assert_eq(mkdir(hashdir, 0700), 0);
    cr_assert(asprintf(&link, "%s/%08lx.0", hashdir,
                       X509_subject_name_hash(fleet_root(fleet)->x509)) > 0);
    cr_assert_eq(symlink(fleet_ca_file(fleet), link), 0);
    struct run_result r;
    const char *args[] = {"--sni", b->host, "--ca-path", hashdir, "-F", "csv", target, NULL};
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    char sha[65];
    pki_sha256_hex(b->leaf.x509, sha);
    cr_assert_str_eq(csv_doc_get(&d, 1, "sha256"), sha);
    cr_assert_str_eq(csv_doc_get(&d, 1, "sni"), b->host);
    cr_assert_str_eq(csv_doc_get(&d, 1, "hostname_match"), "true");
    cr_assert_str_eq(csv_doc_get(&d, 1, "verify"), "ok");
    cr_assert_str_eq(csv_doc_get(&d, 1, "status"), "OK", "%s", csv_doc_get(&d, 1, "reason"));
    csv_doc_free(&d);
    run_result_free(&r);
    free(target);
    free(hashdir);
    free(link);
}

Test(cli, ipv6_literal_target)
{
    /* nothing of ours listens on ::1 at this port: refused, and said so */
    const char *args[] = {"-F", "jsonl", "[::1]:9", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    cr_assert_not_null(o, "%s", r.out);
    cr_assert_str_eq(json_string_value(json_object_get(o, "host")), "::1");
    cr_assert_str_eq(json_string_value(json_object_get(o, "address")), "::1");
    cr_assert_str_eq(json_string_value(json_object_get(o, "sni")), "");
    const char *reason = json_string_value(json_object_get(o, "reason"));
    cr_assert(strcmp(reason, "connect: connection refused") == 0 ||
                  strcmp(reason, "connect: address not available") == 0,
              "%s", reason);
    cr_assert_eq(r.status, 3);
    json_decref(o);
    run_result_free(&r);
}

Test(cli, internationalised_name_reports_both_forms)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    char *target, *pin;
    cr_assert(asprintf(&target, "b\xc3\xbc" "cher.example:%u", ok->port) > 0);
    cr_assert(asprintf(&pin, "xn--bcher-kva.example:%u:127.0.0.1", ok->port) > 0);
    const char *args[] = {"--resolve", pin, "--ca-file", fleet_ca_file(fleet), "-F", "jsonl",
                          target, NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    cr_assert_not_null(o, "%s %s", r.out, r.err);
    cr_assert_str_eq(json_string_value(json_object_get(o, "host")), "b\xc3\xbc" "cher.example");
    cr_assert_str_eq(json_string_value(json_object_get(o, "sni")), "xn--bcher-kva.example");
    cr_assert_str_eq(json_string_value(json_object_get(o, "address")), "127.0.0.1");
    /* the fleet's certificate names ok.fleet.test, not this name */
    cr_assert(json_is_false(json_object_get(o, "hostname_match")));
    cr_assert_str_eq(json_string_value(json_object_get(o, "reason")),
                     "hostname mismatch: xn--bcher-kva.example not in the certificate's names");
    json_decref(o);
    run_result_free(&r);
    free(target);
    free(pin);
}

Test(cli, empty_targets_file_is_an_empty_scan)
{
    /* an empty file (or one of comments only) is no error: no record, exit 0,
       and every report still written whole */
    char *path, *json;
    cr_assert(asprintf(&path, "%s/empty.txt", dir) > 0);
    cr_assert(asprintf(&json, "%s/empty.json", dir) > 0);
    cr_assert_eq(spit(path, ""), 0);
    const char *args[] = {"-f", path, "-o", json, "-F", "csv", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    cr_assert_eq(d.nrows, 1, "a header and no row");
    csv_doc_free(&d);
    json_t *doc = json_load_file(json, 0, NULL);
    cr_assert_not_null(doc);
    cr_assert_eq(json_array_size(json_object_get(doc, "results")), 0);
    cr_assert(json_is_true(json_object_get(doc, "complete")));
    json_decref(doc);
    run_result_free(&r);
    cr_assert_eq(spit(path, "# nothing yet\n\n   \n"), 0);
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 0);
    run_result_free(&r);
    free(path);
    free(json);
}

Test(cli, chain_detail_on_request)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    struct run_result r;
    scan(&r, NAMES("ok"), "--chain", "-F", "jsonl", NULL);
    json_t *o = json_loads(r.out, 0, NULL);
    cr_assert_not_null(o, "%s", r.out);
    json_t *chain = json_object_get(o, "chain");
    cr_assert_eq(json_array_size(chain), 1 + ok->chain_len, "%s", r.out);
    X509 *want[8] = {ok->leaf.x509};
    for (size_t i = 0; i < ok->chain_len; i++)
        want[i + 1] = ok->chain[i];
    for (size_t i = 0; i < json_array_size(chain); i++) {
        json_t *c = json_array_get(chain, i);
        char sha[65], na[24], serial[128];
        pki_sha256_hex(want[i], sha);
        pki_serial_hex(want[i], serial, sizeof(serial));
        cs_format_time(pki_not_after(want[i]), na);
        cr_assert_str_eq(json_string_value(json_object_get(c, "sha256")), sha, "cert %zu", i);
        cr_assert_str_eq(json_string_value(json_object_get(c, "serial")), serial, "cert %zu", i);
        cr_assert_str_eq(json_string_value(json_object_get(c, "not_after")), na, "cert %zu", i);
        cr_assert_str_eq(json_string_value(json_object_get(c, "key")), "EC-256", "cert %zu", i);
    }
    /* the leaf's entry and the record agree; the chain comes after every field */
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(chain, 0), "subject")),
                     json_string_value(json_object_get(o, "subject")));
    const char *last_key = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        (void)v;
        last_key = k;
    }
    cr_assert_str_eq(last_key, "chain");
    json_decref(o);
    run_result_free(&r);

    /* the terminal table lists the certificates under the endpoint */
    scan(&r, NAMES("ok"), "--chain", NULL);
    char sha[65];
    pki_sha256_hex(ok->leaf.x509, sha);
    char *leaf_line = strstr(r.out, "    leaf  0  ");
    cr_assert(leaf_line && strstr(leaf_line, sha), "%s", r.out);
    cr_assert(strstr(r.out, "    chain 1  "), "%s", r.out);
    run_result_free(&r);

    /* without --chain: no chain, and CSV never has one */
    scan(&r, NAMES("ok"), "-F", "jsonl", NULL);
    o = json_loads(r.out, 0, NULL);
    cr_assert_null(json_object_get(o, "chain"));
    json_decref(o);
    run_result_free(&r);
    scan(&r, NAMES("ok"), "--chain", "-F", "csv", NULL);
    cr_assert(strncmp(r.out, "host,port,", 10) == 0);
    cr_assert_null(strstr(strchr(r.out, '\n'), "sha256 "), "%s", r.out);
    run_result_free(&r);
}
