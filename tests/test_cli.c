/* The binary as a user runs it: exit codes, --fail-on, --now, bad input,
 * unreadable files, usage errors and the standard-output formats. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "scanner/options.h"
#include "scanner/result.h"
#include "probes/probe.h"
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
        cr_assert_str_eq(csv_doc_get(&d, i, "status"), "OK", "%s: %s", csv_doc_get(&d, i, "host"),
                         csv_doc_get(&d, i, "reason"));
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
    const char *args[] = {"-f", path,  "--resolve", pin, "--ca-file", fleet_ca_file(fleet),
                          "-F", "csv", NULL};
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    char *want;
    cr_assert(asprintf(&want,
                       "%s:3: bad target (IPv6 needs brackets: [addr]:port)\n%s:4: port "
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
    cr_assert(asprintf(&want, "input: %s:3: bad target (IPv6 needs brackets: [addr]:port)", path) >
              0);
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
        "--targets", "--port",        "--warn-days", "--crit-days",       "--output",
        "--format",  "--concurrency", "--timeout",   "--connect-timeout", "--ca-file",
        "--ca-path", "--no-verify",   "--sni",       "--resolve",         "--dns-server",
        "--now",     "--fail-on",     "--quiet",     "--strict-input",    "--allow-empty",
        "--csv-raw", "--help",        "--version"};
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        cr_assert(strstr(r.out, options[i]), "--help lacks %s", options[i]);
    /* the probes and the formats come from their registries */
    cr_assert(strstr(r.out, "\nProbes (") && strstr(r.out, "\n  tls         port 443 "), "%s",
              r.out);
    cr_assert(strstr(r.out, "\nReport formats (") && strstr(r.out, "\n  jsonl    .jsonl\n"), "%s",
              r.out);
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
    cr_assert(strstr(r.out, "3 endpoints: 1 OK, 0 WARNING, 0 CRITICAL, 1 EXPIRED, 1 ERROR"), "%s",
              r.out);
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
    cr_assert(asprintf(&target,
                       "b\xc3\xbc"
                       "cher.example:%u",
                       ok->port) > 0);
    cr_assert(asprintf(&pin, "xn--bcher-kva.example:%u:127.0.0.1", ok->port) > 0);
    const char *args[] = {"--resolve", pin,     "--ca-file", fleet_ca_file(fleet),
                          "-F",        "jsonl", target,      NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    cr_assert_not_null(o, "%s %s", r.out, r.err);
    cr_assert_str_eq(json_string_value(json_object_get(o, "host")), "b\xc3\xbc"
                                                                    "cher.example");
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

Test(cli, empty_target_list_exits_66_unless_allowed)
{
    /* an empty file (or one of comments only) is a broken inventory: said on
       stderr, exit 66; the reports are still written whole, with no record.
       --allow-empty makes it an empty scan that exits 0. */
    char *path, *json;
    cr_assert(asprintf(&path, "%s/empty.txt", dir) > 0);
    cr_assert(asprintf(&json, "%s/empty.json", dir) > 0);
    cr_assert_eq(spit(path, ""), 0);
    const char *args[] = {"-f", path, "-o", json, "-F", "csv", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 66, "exit %d: %s", r.status, r.err);
    char *want;
    cr_assert(asprintf(&want,
                       "certsweep: no target at all: %s holds none (give --allow-empty "
                       "where an empty list is normal)\n",
                       path) > 0);
    cr_assert_str_eq(r.err, want);
    free(want);
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
    cr_assert_eq(r.status, 66, "comments only: exit %d", r.status);
    run_result_free(&r);
    /* standard input that ends before any target, and several empty files */
    const char *in[] = {"-f", "-", "-q", NULL};
    cr_assert_eq(run_certsweep(in, "# none\n", &r), 0);
    cr_assert_eq(r.status, 66, "stdin: exit %d", r.status);
    cr_assert(strstr(r.err, "no target at all: standard input holds none"), "%s", r.err);
    run_result_free(&r);
    const char *two[] = {"-f", path, "-f", path, "-q", NULL};
    cr_assert_eq(run_certsweep(two, NULL, &r), 0);
    cr_assert_eq(r.status, 66);
    run_result_free(&r);

    const char *allow[] = {"-f", path, "-o", json, "-q", "--allow-empty", NULL};
    cr_assert_eq(run_certsweep(allow, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "--allow-empty: exit %d: %s", r.status, r.err);
    cr_assert_str_eq(r.err, "");
    doc = json_load_file(json, 0, NULL);
    cr_assert_eq(json_array_size(json_object_get(doc, "results")), 0);
    json_decref(doc);
    run_result_free(&r);
    /* a target on the command line is a scan of something */
    const char *arg[] = {"-f", path, "-q", "127.0.0.1:1", "--fail-on", "never", NULL};
    cr_assert_eq(run_certsweep(arg, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    free(path);
    free(json);
}

/* A bad target line is an ERROR record, and it fails the run under every
   --fail-on but never: a CI gate does not pass on a broken inventory. */
Test(cli, bad_lines_count_under_every_fail_on)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok"), *w = fleet_get(fleet, "warning");
    char *path, *text;
    cr_assert(asprintf(&path, "%s/targets.txt", dir) > 0);
    cr_assert(asprintf(&text, "127.0.0.1:%u\nnot a target\n", ok->port) > 0);
    cr_assert_eq(spit(path, text), 0);
    static const struct {
        const char *fail_on;
        int want;
    } levels[] = {{"warning", 3}, {"error", 3}, {"critical", 3}, {"never", 0}};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        const char *args[] = {
            "-f", path,  "--ca-file", fleet_ca_file(fleet), "--fail-on", levels[i].fail_on,
            "-F", "csv", NULL};
        struct run_result r;
        cr_assert_eq(run_certsweep(args, NULL, &r), 0);
        cr_assert_eq(r.status, levels[i].want, "--fail-on %s: exit %d, want %d: %s",
                     levels[i].fail_on, r.status, levels[i].want, r.err);
        struct csv_doc d;
        cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
        cr_assert_eq(d.nrows, 3);
        cr_assert_str_eq(csv_doc_get(&d, csv_doc_find(&d, "host", "not a target"), "status"),
                         "ERROR");
        cr_assert_str_eq(csv_doc_get(&d, csv_doc_find(&d, "host", "127.0.0.1"), "status"), "OK");
        csv_doc_free(&d);
        run_result_free(&r);
    }
    /* the precedence stays 2 > 1 > 3: a counted WARNING is still 1 */
    free(text);
    cr_assert(asprintf(&text, "127.0.0.1:%u\nnot a target\n", w->port) > 0);
    cr_assert_eq(spit(path, text), 0);
    const char *warn[] = {"-f", path, "--ca-file", fleet_ca_file(fleet), "-q", NULL};
    const char *crit[] = {"-f", path,        "--ca-file", fleet_ca_file(fleet),
                          "-q", "--fail-on", "critical",  NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(warn, NULL, &r), 0);
    cr_assert_eq(r.status, 1, "exit %d", r.status);
    run_result_free(&r);
    cr_assert_eq(run_certsweep(crit, NULL, &r), 0);
    cr_assert_eq(r.status, 3, "exit %d", r.status);
    run_result_free(&r);
    free(text);
    free(path);
}

/* Starts certsweep with stdin from in_fd (-1: /dev/null) and standard output
   and error to files TAG.out and TAG.err in dir (TAG.out appended to, as
   with >>, when append is set); returns its pid. */
static pid_t spawn_certsweep_to(const char *const *args, int in_fd, const char *tag, bool append)
{
    char *out, *err;
    cr_assert(asprintf(&out, "%s/%s.out", dir, tag) > 0);
    cr_assert(asprintf(&err, "%s/%s.err", dir, tag) > 0);
    size_t argc = 0;
    while (args[argc])
        argc++;
    const char **argv = calloc(argc + 2, sizeof(*argv));
    argv[0] = CS_BINARY;
    memcpy(argv + 1, args, argc * sizeof(*argv));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int in = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        execv(CS_BINARY, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    free(out);
    free(err);
    return pid;
}

static pid_t spawn_certsweep(const char *const *args, int in_fd, const char *tag)
{
    return spawn_certsweep_to(args, in_fd, tag, false);
}

static int wait_exit(pid_t pid)
{
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *spawned_output(const char *tag, const char *ext)
{
    char *path;
    cr_assert(asprintf(&path, "%s/%s.%s", dir, tag, ext) > 0);
    char *text = slurp(path, NULL);
    cr_assert_not_null(text);
    free(path);
    return text;
}

/* A targets source that fails part-way: the records of the lines read are
   in every report, the error is one line naming the input, exit 66. */
Test(cli, read_error_part_way_exits_66_with_the_records_scanned)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok"), *w = fleet_get(fleet, "warning");
    char *text, *csv, *json;
    cr_assert(asprintf(&text, "127.0.0.1:%u\n127.0.0.1:%u\n", ok->port, w->port) > 0);
    cr_assert(asprintf(&csv, "%s/r.csv", dir) > 0);
    cr_assert(asprintf(&json, "%s/r.json", dir) > 0);
    int in = reset_after(text);
    cr_assert_geq(in, 0, "the reset connection could not be made");
    const char *args[] = {"-f", "-",  "--ca-file", fleet_ca_file(fleet), "-o", csv, "-o",
                          json, "-q", NULL};
    pid_t pid = spawn_certsweep(args, in, "reset");
    close(in);
    cr_assert_eq(wait_exit(pid), 66);
    char *err = spawned_output("reset", "err");
    cr_assert_str_eq(err, "certsweep: <stdin>: read error after line 2: Connection reset by "
                          "peer; the rest of the file is not scanned (check the file given to "
                          "-f)\n");
    free(err);
    struct report_scan rs = {0};
    char why[256];
    cr_assert_eq(read_reports(&rs, csv, json, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(rs.csv.nrows, 3);
    cr_assert_eq(json_array_size(json_object_get(rs.json, "results")), 2);
    json_t *rec = json_find_record(json_object_get(rs.json, "results"), "127.0.0.1", w->port);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), "WARNING");
    size_t row = 0;
    for (size_t i = 1; i < rs.csv.nrows; i++)
        if (atoi(csv_doc_get(&rs.csv, i, "port")) == ok->port)
            row = i;
    cr_assert(row);
    cr_assert_str_eq(csv_doc_get(&rs.csv, row, "status"), "OK");
    report_scan_free(&rs);

    /* a directory given to -f: nothing of it, the targets before and after it
       are scanned and reported, exit 66 even under --fail-on never */
    char *after, *ta;
    cr_assert(asprintf(&after, "%s/after.txt", dir) > 0);
    cr_assert(asprintf(&ta, "127.0.0.1:%u\n", w->port) > 0);
    cr_assert_eq(spit(after, ta), 0);
    char *okarg;
    cr_assert(asprintf(&okarg, "127.0.0.1:%u", ok->port) > 0);
    const char *d[] = {"-f",    dir,   "-f", after, "--ca-file", fleet_ca_file(fleet),
                       "-o",    csv,   "-o", json,  "-q",        "--fail-on",
                       "never", okarg, NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(d, NULL, &r), 0);
    cr_assert_eq(r.status, 66, "exit %d: %s", r.status, r.err);
    char *want;
    cr_assert(asprintf(&want,
                       "certsweep: %s: cannot be read: Is a directory; none of its "
                       "targets is scanned (give -f a readable file)\n",
                       dir) > 0);
    cr_assert_str_eq(r.err, want);
    free(want);
    memset(&rs, 0, sizeof(rs));
    cr_assert_eq(read_reports(&rs, csv, json, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(json_array_size(json_object_get(rs.json, "results")), 2);
    cr_assert_not_null(
        json_find_record(json_object_get(rs.json, "results"), "127.0.0.1", ok->port));
    cr_assert_not_null(json_find_record(json_object_get(rs.json, "results"), "127.0.0.1", w->port));
    cr_assert_eq(rs.csv.nrows, 3);
    report_scan_free(&rs);
    run_result_free(&r);

    /* with --strict-input the file is read through first: 66, nothing scanned */
    const char *strict[] = {"-f", dir, "--strict-input", "-q", okarg, NULL};
    uint64_t before = fleet_accepted(fleet, "ok");
    cr_assert_eq(run_certsweep(strict, NULL, &r), 0);
    cr_assert_eq(r.status, 66, "exit %d: %s", r.status, r.err);
    cr_assert_eq(fleet_accepted(fleet, "ok"), before, "--strict-input scanned");
    run_result_free(&r);
    free(okarg);
    free(ta);
    free(after);
    free(text);
    free(csv);
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

/* Names in dir starting with prefix, counted. */
static size_t count_entries(const char *in, const char *prefix)
{
    DIR *d = opendir(in);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* Replacing a report keeps its permission bits; a new one gets 0666 minus
   the umask. */
Test(cli, report_keeps_its_mode)
{
    char *csv, *json;
    cr_assert(asprintf(&csv, "%s/r.csv", dir) > 0);
    cr_assert(asprintf(&json, "%s/r.json", dir) > 0);
    umask(027); /* the binary inherits it */
    struct run_result r;
    scan(&r, NAMES("ok"), "-o", csv, "-o", json, "-q", NULL);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    struct stat st;
    cr_assert_eq(stat(csv, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640, "new report: mode %o", st.st_mode & 07777);
    cr_assert_eq(chmod(csv, 0600), 0);
    cr_assert_eq(chmod(json, 0604), 0);
    ino_t old = st.st_ino;
    umask(022);
    scan(&r, NAMES("ok", "warning"), "-o", csv, "-o", json, "-q", NULL);
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    cr_assert_eq(stat(csv, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "replaced report: mode %o", st.st_mode & 07777);
    cr_assert_neq(st.st_ino, old, "not replaced by a rename");
    cr_assert_eq(stat(json, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0604, "replaced report: mode %o", st.st_mode & 07777);
    struct report_scan rs = {0};
    char why[256];
    cr_assert_eq(read_reports(&rs, csv, json, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(rs.csv.nrows, 3, "the new report");
    report_scan_free(&rs);
    cr_assert_eq(count_entries(dir, "."), 2, "something left beside the reports");
    free(csv);
    free(json);
}

/* A report named by a symbolic link is written to the file the link names,
   atomically in that file's directory; the link stays a link. */
Test(cli, report_through_a_symlink)
{
    char *sub, *real, *link, *abs_real, *abs_link, *dangling, *dangling_to, *json;
    cr_assert(asprintf(&sub, "%s/archive", dir) > 0);
    cr_assert_eq(mkdir(sub, 0755), 0);
    cr_assert(asprintf(&real, "%s/2026-12-01.csv", sub) > 0);
    cr_assert(asprintf(&link, "%s/latest.csv", dir) > 0);
    cr_assert_eq(spit(real, "yesterday\n"), 0);
    cr_assert_eq(chmod(real, 0640), 0);
    cr_assert_eq(symlink("archive/2026-12-01.csv", link), 0); /* relative to the link */
    cr_assert(asprintf(&abs_real, "%s/2026-12-02.json", sub) > 0);
    cr_assert(asprintf(&abs_link, "%s/latest.json", dir) > 0);
    cr_assert_eq(symlink(abs_real, abs_link), 0); /* absolute, and not there yet */
    cr_assert(asprintf(&dangling, "%s/chain.csv", dir) > 0);
    cr_assert(asprintf(&dangling_to, "%s/hop.csv", dir) > 0);
    cr_assert_eq(symlink("hop.csv", dangling), 0); /* a link to a link to the file */
    cr_assert_eq(symlink("archive/new.csv", dangling_to), 0);
    struct run_result r;
    scan(&r, NAMES("ok", "warning"), "-o", link, "-o", abs_link, "-o", dangling, "-q", NULL);
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    run_result_free(&r);

    struct stat st;
    char target[PATH_MAX];
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link became a file");
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    cr_assert_gt(n, 0);
    target[n] = '\0';
    cr_assert_str_eq(target, "archive/2026-12-01.csv");
    cr_assert_eq(stat(real, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
    cr_assert_eq(lstat(abs_link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode));
    cr_assert_eq(lstat(dangling, &st), 0);
    cr_assert(S_ISLNK(st.st_mode));
    cr_assert_eq(lstat(dangling_to, &st), 0);
    cr_assert(S_ISLNK(st.st_mode));
    char *newcsv;
    cr_assert(asprintf(&newcsv, "%s/new.csv", sub) > 0);
    cr_assert(asprintf(&json, "%s", abs_real) > 0);
    struct report_scan rs = {0};
    char why[256];
    cr_assert_eq(read_reports(&rs, real, json, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(rs.csv.nrows, 3, "%s", rs.csv_text);
    cr_assert_eq(json_array_size(json_object_get(rs.json, "results")), 2);
    report_scan_free(&rs);
    char *c = slurp(newcsv, NULL);
    cr_assert(c && strncmp(c, "host,port,", 10) == 0, "%s", c ? c : "(none)");
    free(c);
    /* nothing but the links and the archive in dir, nothing but reports in archive */
    cr_assert_eq(count_entries(dir, ".partial"), 0);
    cr_assert_eq(count_entries(dir, ".") - 2, 0, "a temporary file beside the link");
    cr_assert_eq(count_entries(sub, ".") - 2, 0, "a temporary file beside the target");
    free(newcsv);
    free(sub);
    free(real);
    free(link);
    free(abs_real);
    free(abs_link);
    free(dangling);
    free(dangling_to);
    free(json);
}

/* Waits until a file whose name starts with prefix is in dir; returns its name. */
static char *wait_for_entry(const char *in, const char *prefix)
{
    for (;;) {
        DIR *d = opendir(in);
        cr_assert_not_null(d);
        struct dirent *de;
        char *found = NULL;
        while ((de = readdir(d)) && !found)
            if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                found = strdup(de->d_name);
        closedir(d);
        if (found)
            return found;
        usleep(10000);
    }
}

/* The temporary file of a run that was killed is removed by the next run
   that writes the report; the one of a run still writing is not. */
Test(cli, leftover_partial_of_a_dead_run_removed_not_a_live_ones)
{
    const struct fleet_scenario *silent = fleet_get(fleet, "silent");
    char *csv, *target, *other;
    cr_assert(asprintf(&csv, "%s/r.csv", dir) > 0);
    cr_assert(asprintf(&target, "127.0.0.1:%u", silent->port) > 0);
    /* a run killed while writing r.csv leaves .r.csv.partial-XXXXXX */
    const char *slow[] = {"-o", csv, "-q", "-t", "60", target, NULL};
    pid_t pid = spawn_certsweep(slow, -1, "killed");
    char *dead = wait_for_entry(dir, ".r.csv.partial-");
    cr_assert_eq(kill(pid, SIGKILL), 0);
    cr_assert_eq(wait_exit(pid), 128 + SIGKILL);
    /* another report's leftover is not this report's business */
    cr_assert(asprintf(&other, "%s/.other.csv.partial-AbC123", dir) > 0);
    cr_assert_eq(spit(other, "x"), 0);

    /* a live run writing the same report */
    pid_t live = spawn_certsweep(slow, -1, "live");
    char *mine = NULL;
    while (!mine) {
        DIR *d = opendir(dir);
        struct dirent *de;
        while ((de = readdir(d)) && !mine)
            if (strncmp(de->d_name, ".r.csv.partial-", 15) == 0 && strcmp(de->d_name, dead))
                mine = strdup(de->d_name);
        closedir(d);
        if (!mine)
            usleep(10000);
    }
    char *dead_path, *live_path;
    cr_assert(asprintf(&dead_path, "%s/%s", dir, dead) > 0);
    cr_assert(asprintf(&live_path, "%s/%s", dir, mine) > 0);
    struct stat st;
    /* the live run may have swept the dead one already; put one back as a
       killed run leaves it: unlocked */
    if (stat(dead_path, &st) != 0)
        cr_assert_eq(spit(dead_path, "host,port\n"), 0);

    struct run_result r;
    const char *quick[] = {"-o", csv, "-q", "127.0.0.1:1", NULL};
    cr_assert_eq(run_certsweep(quick, NULL, &r), 0);
    cr_assert_eq(r.status, 3, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    cr_assert_neq(stat(dead_path, &st), 0, "the killed run's %s is still there", dead);
    cr_assert_eq(stat(live_path, &st), 0, "the live run's %s was removed", mine);
    cr_assert_eq(stat(other, &st), 0, "another report's leftover was removed");
    char *c = slurp(csv, NULL);
    cr_assert(c && strstr(c, "127.0.0.1,1,"), "%s", c ? c : "(none)");
    free(c);

    /* the live run, stopped, still puts its (partial) report in place */
    cr_assert_eq(kill(live, SIGTERM), 0);
    cr_assert_eq(wait_exit(live), 143);
    cr_assert_neq(stat(live_path, &st), 0, "the live run left its temporary file");
    c = slurp(csv, NULL);
    char *row;
    cr_assert(asprintf(&row, "127.0.0.1,%u,", silent->port) > 0);
    cr_assert(c && strstr(c, row), "%s", c ? c : "(none)");
    free(row);
    free(c);
    cr_assert_eq(count_entries(dir, ".r.csv."), 0);
    free(dead_path);
    free(live_path);
    free(dead);
    free(mine);
    free(other);
    free(target);
    free(csv);
}

/* -o FORMAT:PATH names the format of a path without an extension; a path
   that is not a regular file is written directly, as the scan goes. */
Test(cli, output_format_prefix_and_direct_paths)
{
    struct run_result r;
    /* standard output: the table gives way to the report */
    scan(&r, NAMES("ok", "warning"), "-o", "jsonl:-", NULL);
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    size_t lines = 0;
    for (char *p = r.out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 2, "%s", r.out);
    json_t *o = json_loads(strchr(r.out, '\n') + 1, 0, NULL);
    cr_assert_not_null(o, "%s", r.out);
    json_decref(o);
    run_result_free(&r);
    scan(&r, NAMES("ok"), "-o", "csv:/dev/stdout", "-q", NULL);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0);
    cr_assert_eq(d.nrows, 2, "%s", r.out);
    cr_assert_str_eq(csv_doc_get(&d, 1, "status"), "OK");
    csv_doc_free(&d);
    run_result_free(&r);
    /* a regular file without an extension */
    char *plain, *arg;
    cr_assert(asprintf(&plain, "%s/report", dir) > 0);
    cr_assert(asprintf(&arg, "json:%s", plain) > 0);
    scan(&r, NAMES("ok"), "-o", arg, "-q", NULL);
    cr_assert_eq(r.status, 0);
    json_t *doc = json_load_file(plain, 0, NULL);
    cr_assert_not_null(doc);
    cr_assert_eq(json_array_size(json_object_get(doc, "results")), 1);
    json_decref(doc);
    run_result_free(&r);
    free(arg);

    /* a FIFO can be followed: the first record arrives while the scan still runs */
    const struct fleet_scenario *ok = fleet_get(fleet, "ok"), *silent = fleet_get(fleet, "silent");
    char *fifo, *t1, *t2;
    cr_assert(asprintf(&fifo, "%s/follow", dir) > 0);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_assert(asprintf(&arg, "jsonl:%s", fifo) > 0);
    cr_assert(asprintf(&t1, "127.0.0.1:%u", ok->port) > 0);
    cr_assert(asprintf(&t2, "127.0.0.1:%u", silent->port) > 0);
    const char *args[] = {"-o", arg, "-q", "-t", "60", "--ca-file", fleet_ca_file(fleet),
                          t1,   t2,  NULL};
    pid_t pid = spawn_certsweep(args, -1, "follow");
    FILE *f = fopen(fifo, "r");
    cr_assert_not_null(f);
    char line[8192];
    cr_assert_not_null(fgets(line, sizeof(line), f));
    int st;
    cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the scan ended before the first record came");
    o = json_loads(line, 0, NULL);
    cr_assert_not_null(o, "%s", line);
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "OK");
    json_decref(o);
    cr_assert_eq(kill(pid, SIGTERM), 0);
    while (fgets(line, sizeof(line), f))
        ;
    fclose(f);
    cr_assert_eq(wait_exit(pid), 143);
    free(t1);
    free(t2);
    free(arg);
    free(fifo);

    /* an open descriptor (/dev/stdout on a file opened with >>) is appended
       to, never replaced.  Named through a link of our own to
       /proc/self/fd/1, as /dev/stdout is, so that a broken build renames
       nothing outside dir. */
    char *out, *fd1, *fd1arg;
    cr_assert(asprintf(&out, "%s/append.out", dir) > 0);
    cr_assert(asprintf(&fd1, "%s/stdout", dir) > 0);
    cr_assert(asprintf(&fd1arg, "csv:%s", fd1) > 0);
    cr_assert_eq(symlink("/proc/self/fd/1", fd1), 0);
    cr_assert_eq(spit(out, "earlier\n"), 0);
    struct stat before, after;
    cr_assert_eq(stat(out, &before), 0);
    const char *app[] = {"-o", fd1arg, "-q", "127.0.0.1:1", NULL};
    cr_assert_eq(wait_exit(spawn_certsweep_to(app, -1, "append", true)), 3);
    cr_assert_eq(stat(out, &after), 0);
    cr_assert_eq(after.st_ino, before.st_ino, "standard output's file was replaced");
    char *text = slurp(out, NULL);
    cr_assert(text && strncmp(text, "earlier\nhost,port,", 18) == 0, "%s", text);
    cr_assert(strstr(text, "\n127.0.0.1,1,"), "%s", text);
    free(text);
    cr_assert_eq(lstat(fd1, &after), 0);
    cr_assert(S_ISLNK(after.st_mode), "the link to standard output was replaced");
    free(fd1arg);
    free(fd1);
    free(out);

    /* a path that names no format */
    const char *none[] = {"-o", "/dev/stdout", "127.0.0.1:1", NULL};
    cr_assert_eq(run_certsweep(none, NULL, &r), 0);
    cr_assert_eq(r.status, 64);
    cr_assert(strstr(r.err, "give FORMAT:/dev/stdout"), "%s", r.err);
    run_result_free(&r);
    const char *empty[] = {"-o", "csv:", "127.0.0.1:1", NULL};
    cr_assert_eq(run_certsweep(empty, NULL, &r), 0);
    cr_assert_eq(r.status, 64);
    run_result_free(&r);
    free(plain);
}

/* certsweep args... exits 64 with exactly this one line on stderr. */
static void expect_usage_line(const char *const *args, const char *line)
{
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 64, "%s: exit %d: %s", args[0], r.status, r.err);
    char *want;
    cr_assert(asprintf(&want, "certsweep: %s (see certsweep --help)\n", line) > 0);
    cr_assert_str_eq(r.err, want);
    cr_assert_str_eq(r.out, "");
    free(want);
    run_result_free(&r);
}

/* Long options by their full name only; a prefix is named in the error. */
Test(cli, unknown_abbreviated_and_ambiguous_options)
{
    expect_usage_line(NAMES("-x", "x.example"), "unknown option '-x'");
    expect_usage_line(NAMES("-\x01", "x.example"), "unknown option '-\\x01'");
    expect_usage_line(NAMES("-q\xc3\xa9", "x.example"), "unknown option '-\\xC3'");
    expect_usage_line(
        NAMES("--c", "x.example"),
        "unknown option '--c': ambiguous, could be --ca-file, --ca-path, "
        "--cert-only, --certs, --chain, --color, --concurrency, --connect-timeout, --crit-days, "
        "--crl, --crl-max-size, --csv-excel, --csv-raw");
    expect_usage_line(NAMES("--cr", "x.example"),
                      "unknown option '--cr': ambiguous, could be --crit-days, --crl, "
                      "--crl-max-size");
    expect_usage_line(NAMES("--tim", "3", "x.example"),
                      "unknown option '--tim': abbreviations are not taken (did you mean "
                      "--timeout?)");
    expect_usage_line(NAMES("--print", "x.example"), "unknown option '--print'");
    expect_usage_line(NAMES("--quiet=yes", "x.example"), "--quiet takes no argument");
    expect_usage_line(NAMES("-t"), "--timeout (-t) needs an argument: SECS");
    expect_usage_line(NAMES("x.example", "--sni"), "--sni needs an argument: NAME");
    /* an exact name that is also a prefix of another is that option */
    struct run_result r;
    cr_assert_eq(
        run_certsweep(NAMES("--timeout=2", "-qo", "/dev/null", "--fail-on", "never", "127.0.0.1:1"),
                      NULL, &r),
        0);
    cr_assert_eq(r.status, 64, "/dev/null names no format: %s", r.err);
    run_result_free(&r);
    char *csv;
    cr_assert(asprintf(&csv, "%s/r.csv", dir) > 0);
    cr_assert_eq(
        run_certsweep(NAMES("--timeout=2", "-qo", csv, "--fail-on", "never", "--", "127.0.0.1:1"),
                      NULL, &r),
        0);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    cr_assert_str_eq(r.err, "");
    char *c = slurp(csv, NULL);
    cr_assert(c && strstr(c, "\n127.0.0.1,1,"), "%s", c ? c : "(none)");
    free(c);
    free(csv);
    run_result_free(&r);
}

/* The bounds in messages come from the table. */
Test(cli, bound_messages)
{
    expect_usage_line(NAMES("-p", "0", "x.example"),
                      "--port: '0' is not a whole number from 1 to 65535");
    expect_usage_line(NAMES("-c", "3651", "x.example"),
                      "--crit-days: '3651' is not a whole number of days from 0 to 3650");
    expect_usage_line(NAMES("--timeout", "86401", "x.example"),
                      "--timeout: '86401' is not a number of seconds from 0.001 to 86400");
    expect_usage_line(NAMES("--crl-max-size", "5G", "x.example"),
                      "--crl-max-size: '5G' is not a size (bytes, or with K, M or G) from 1K "
                      "to 4G");
    expect_usage_line(NAMES("-F", "xml", "x.example"),
                      "--format: 'xml' is not one of text, csv, json, jsonl, prom, nagios or html");
    expect_usage_line(NAMES("--fail-on", "x\ny", "x.example"),
                      "--fail-on: 'x\\x0Ay' is not one of warning, error, critical or never");
}

/* Combinations that contradict themselves are one-line usage errors. */
Test(cli, contradictions_are_usage_errors)
{
    expect_usage_line(NAMES("-w", "5", "-c", "10", "x.example"),
                      "--warn-days 5 is not more than --crit-days 10: WARNING could never be "
                      "reported (give -w above -c)");
    expect_usage_line(NAMES("-c", "7", "-w", "7", "x.example"),
                      "--warn-days 7 is not more than --crit-days 7: WARNING could never be "
                      "reported (give -w above -c)");
    expect_usage_line(NAMES("-q", "-F", "json", "x.example"),
                      "--quiet and --format json: --quiet writes nothing on standard output "
                      "(drop one, or give -o json:FILE)");
    expect_usage_line(NAMES("-F", "csv", "-o", "jsonl:-", "x.example"),
                      "--format csv and --output jsonl:- both choose the report on standard "
                      "output; give one");
    expect_usage_line(NAMES("-o", "a.csv", "-o", "a.csv", "x.example"),
                      "--output: 'a.csv' is given twice; each report needs a file of its own");
    expect_usage_line(NAMES("-o", "a.csv", "-o", "csv:a.csv", "x.example"),
                      "--output: 'a.csv' is given twice; each report needs a file of its own");
    expect_usage_line(NAMES("-o", "jsonl:-", "-o", "csv:-", "x.example"),
                      "--output: two reports to standard output (jsonl:- and csv:-); give the "
                      "other one a file");
    expect_usage_line(NAMES("-f", "-", "-f", "-"),
                      "--targets: '-' (standard input) is given twice; it can be read once");
    /* an error is the only line, without the warnings found before it */
    expect_usage_line(NAMES("-f", "x", "-f", "x", "-p", "1", "-p", "2", "-w", "1", "-c", "2"),
                      "--warn-days 1 is not more than --crit-days 2: WARNING could never be "
                      "reported (give -w above -c)");
}

/* certsweep args... (a refused target, --fail-on never): exit 0, and stderr
   is exactly the warning lines given (NULL-ended). */
static void expect_warnings(const char *const *args, ...)
{
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "%s: exit %d: %s", args[0], r.status, r.err);
    char want[2048] = "";
    va_list ap;
    va_start(ap, args);
    const char *w;
    while ((w = va_arg(ap, const char *)))
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "certsweep: warning: %s\n", w);
    va_end(ap);
    cr_assert_str_eq(r.err, want);
    run_result_free(&r);
}

/* Options that can have no effect are a warning each; the scan goes on. */
Test(cli, pointless_combinations_warn)
{
    expect_warnings(NAMES("-q", "--fail-on", "never", "127.0.0.1:1"),
                    "--quiet without --output writes no report; only the exit code tells", NULL);
    expect_warnings(NAMES("--csv-raw", "-F", "json", "--fail-on", "never", "127.0.0.1:1"),
                    "--csv-raw has no effect: no report is CSV", NULL);
    expect_warnings(NAMES("--chain", "-F", "csv", "--fail-on", "never", "127.0.0.1:1"),
                    "--chain has no effect: no report is JSON, JSON Lines or text (CSV has no "
                    "chain)",
                    NULL);
    expect_warnings(
        NAMES("--fetch-timeout", "3", "--crl-max-size", "1M", "--fail-on", "never", "127.0.0.1:1"),
        "--fetch-timeout has no effect without --ocsp or --crl (nothing is fetched)",
        "--crl-max-size has no effect without --ocsp or --crl (nothing is fetched)", NULL);
    expect_warnings(NAMES("-p", "1", "-p", "2", "-t", "3", "--fail-on", "never", "127.0.0.1"),
                    "--port is given 2 times; the last one counts", NULL);
    /* none of these warns */
    expect_warnings(NAMES("--csv-raw", "-o", "json:/dev/null", "-o", "csv:-", "--chain", "--crl",
                          "--fetch-timeout", "3", "--fail-on", "never", "127.0.0.1:1"),
                    NULL);

    /* a targets file named twice is read once */
    char *path, *want;
    cr_assert(asprintf(&path, "%s/t.txt", dir) > 0);
    cr_assert_eq(spit(path, "127.0.0.1:1\n127.0.0.1:2\n"), 0);
    cr_assert(asprintf(&want, "--targets: '%s' is given twice; it is read once", path) > 0);
    expect_warnings(NAMES("-f", path, "-f", path, "--fail-on", "never", "-F", "jsonl"), want, NULL);
    struct run_result r;
    cr_assert_eq(run_certsweep(NAMES("-f", path, "-f", path, "-F", "jsonl"), NULL, &r), 0);
    size_t lines = 0;
    for (char *p = r.out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 2, "%s", r.out);
    run_result_free(&r);
    free(want);
    free(path);
}

/* --sni is a host name as a target's is: an internationalised one is sent
   as its A-label; anything else is one usage error. */
Test(cli, sni_is_a_host_name)
{
    expect_usage_line(NAMES("--sni", "bad name", "x.example"),
                      "--sni: 'bad name' is not a host name (letters, digits, '-' and '.'; "
                      "labels of 1-63)");
    expect_usage_line(NAMES("--sni", "", "x.example"), "--sni: '' is not a host name: it is empty");
    expect_usage_line(NAMES("--sni", "127.0.0.1", "x.example"),
                      "--sni: '127.0.0.1' is an IP address: a server name is a host name (RFC "
                      "6066)");
    expect_usage_line(NAMES("--sni", "x.example:443", "x.example"),
                      "--sni: 'x.example:443' is not a host name (letters, digits, '-' and '.'; "
                      "labels of 1-63)");
    expect_usage_line(NAMES("--sni", "a..b", "x.example"),
                      "--sni: 'a..b' is not a host name (letters, digits, '-' and '.'; labels "
                      "of 1-63)");
    expect_usage_line(NAMES("--sni", "\xff.example", "x.example"),
                      "--sni: '\\xFF.example' is not a host name: host name is not valid UTF-8");
    static const struct {
        const char *given, *sent;
    } good[] = {
        {"b\xc3\xbc"
         "cher.example",
         "xn--bcher-kva.example"},
        {"www.example.", "www.example"},
        {"www.example", "www.example"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct run_result r;
        cr_assert_eq(
            run_certsweep(NAMES("--sni", good[i].given, "-F", "jsonl", "127.0.0.1:1"), NULL, &r),
            0);
        cr_assert_eq(r.status, 3, "%s: exit %d: %s", good[i].given, r.status, r.err);
        json_t *o = json_loads(r.out, 0, NULL);
        cr_assert_not_null(o, "%s", r.out);
        cr_assert_str_eq(json_string_value(json_object_get(o, "sni")), good[i].sent);
        json_decref(o);
        run_result_free(&r);
    }
}

/* Whether text has word, not as part of a longer option name. */
static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
        if ((p == text || !strchr("-abcdefghijklmnopqrstuvwxyz", p[-1])) && p[n] &&
            !strchr("-abcdefghijklmnopqrstuvwxyz", p[n]))
            return true;
    return false;
}

/* --help, the man page and the bash completion are written from the option
   table: every entry is in each. */
Test(cli, help_man_and_completion_from_the_table)
{
    struct run_result help, man, bash;
    cr_assert_eq(run_certsweep(NAMES("--help"), NULL, &help), 0);
    cr_assert_eq(help.status, 0);
    cr_assert_eq(run_certsweep(NAMES("--print-man"), NULL, &man), 0);
    cr_assert_eq(man.status, 0);
    cr_assert_eq(run_certsweep(NAMES("--print-bash-completion"), NULL, &bash), 0);
    cr_assert_eq(bash.status, 0);
    char *zsh = slurp(CS_BUILD_DIR "/generated/_certsweep", NULL);
    cr_assert(zsh && strncmp(zsh, "#compdef certsweep\n", 19) == 0, "the build wrote no zsh "
                                                                    "completion");
    char *built = slurp(CS_BUILD_DIR "/generated/certsweep.1", NULL);
    cr_assert_not_null(built, "the build wrote no man page");
    cr_assert_str_eq(built, man.out, "the built man page is not --print-man's");
    free(built);
    size_t n = 0;
    char letter;
    const char *metavar, *name;
    for (; (name = cs_cli_option(n, &letter, &metavar)); n++) {
        char want[128], roff[128];
        snprintf(want, sizeof(want), "%c%c%c --%s%s%s", letter ? '-' : ' ', letter ? letter : ' ',
                 letter ? ',' : ' ', name, metavar ? " " : "", metavar ? metavar : "");
        cr_assert(strstr(help.out, want), "--help lacks '%s'", want);
        size_t o = 0;
        for (const char *p = name; *p && o + 3 < sizeof(roff); p++) {
            if (*p == '-')
                roff[o++] = '\\';
            roff[o++] = *p;
        }
        roff[o] = '\0';
        cr_assert(strstr(man.out, roff), "the man page lacks --%s", name);
        snprintf(want, sizeof(want), "--%s", name);
        cr_assert(has_word(bash.out, want), "the bash completion lacks --%s", name);
        cr_assert(has_word(zsh, want), "the zsh completion lacks --%s", name);
    }
    cr_assert_geq(n, 36, "only %zu options", n);
    /* the hidden options are for the build only */
    cr_assert_null(strstr(help.out, "--print-"));
    cr_assert_null(strstr(bash.out, "--print-"));
    /* no help line is wider than a terminal */
    for (const char *p = help.out; *p;) {
        size_t len = strcspn(p, "\n");
        cr_assert_leq(len, 79, "too wide: %.*s", (int)len, p);
        p += len + (p[len] == '\n');
    }
    run_result_free(&help);
    run_result_free(&man);
    run_result_free(&bash);
    free(zsh);
}

/* The man page renders without a warning; the bash completion is valid
   bash and completes an argument from the table's words. */
Test(cli, man_page_renders_and_completion_completes)
{
    const char *groff[] = {"-c", "groff -man -Tascii -ww -P-c -P-b -P-o -P-u \"$0\"",
                           CS_BUILD_DIR "/generated/certsweep.1", NULL};
    struct run_result r;
    cr_assert_eq(run_binary("/bin/sh", groff, NULL, 60, &r), 0);
    cr_assert_eq(r.status, 0, "groff: exit %d: %s", r.status, r.err);
    cr_assert_str_eq(r.err, "", "groff warns");
    cr_assert(strstr(r.out, "CERTSWEEP(1)"), "%s", r.out);
    cr_assert(strstr(r.out, "-t, --timeout SECS"), "%s", r.out);
    cr_assert(strstr(r.out, "EXIT STATUS"), "%s", r.out);
    run_result_free(&r);

    const char *bash[] = {"-c",
                          "source \"$0\" && COMP_WORDS=(certsweep -q -F js) COMP_CWORD=3 && "
                          "_certsweep && echo \"${COMPREPLY[*]}\" && "
                          "COMP_WORDS=(certsweep --fail-on c) COMP_CWORD=2 && _certsweep && "
                          "echo \"${COMPREPLY[*]}\" && "
                          "COMP_WORDS=(certsweep --crl-m) COMP_CWORD=1 && _certsweep && "
                          "echo \"${COMPREPLY[*]}\"",
                          CS_BUILD_DIR "/generated/certsweep.bash", NULL};
    cr_assert_eq(run_binary("/bin/bash", bash, NULL, 60, &r), 0);
    cr_assert_eq(r.status, 0, "bash: exit %d: %s", r.status, r.err);
    cr_assert_str_eq(r.out, "json jsonl\ncritical\n--crl-max-size\n");
    cr_assert_str_eq(r.err, "");
    run_result_free(&r);
}

/* cmake --install puts the binary, the man page and the completions under
   DESTDIR. */
Test(cli, install_into_destdir)
{
    char *dest;
    cr_assert(asprintf(&dest, "%s/root", dir) > 0);
    const char *args[] = {
        "-c",         "DESTDIR=\"$0\" \"$1\" --install \"$2\" --prefix /usr >/dev/null",
        dest,         CS_CMAKE_COMMAND,
        CS_BUILD_DIR, NULL};
    struct run_result r;
    cr_assert_eq(run_binary("/bin/sh", args, NULL, 120, &r), 0);
    cr_assert_eq(r.status, 0, "cmake --install: exit %d: %s", r.status, r.err);
    run_result_free(&r);
    static const char *const files[] = {
        "/usr/bin/certsweep",
        "/usr/share/man/man1/certsweep.1",
        "/usr/share/bash-completion/completions/certsweep",
        "/usr/share/zsh/site-functions/_certsweep",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *path;
        cr_assert(asprintf(&path, "%s%s", dest, files[i]) > 0);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0, "%s not installed", files[i]);
        cr_assert(S_ISREG(st.st_mode) && st.st_size > 0, "%s", files[i]);
        free(path);
    }
    char *bin, *man;
    cr_assert(asprintf(&bin, "%s/usr/bin/certsweep", dest) > 0);
    cr_assert_eq(run_binary(bin, NAMES("--version"), NULL, 60, &r), 0);
    cr_assert_eq(r.status, 0);
    cr_assert(strncmp(r.out, "certsweep ", 10) == 0, "%s", r.out);
    run_result_free(&r);
    cr_assert(asprintf(&man, "%s/usr/share/man/man1/certsweep.1", dest) > 0);
    char *text = slurp(man, NULL);
    cr_assert(text && strncmp(text, ".TH CERTSWEEP 1 ", 16) == 0);
    free(text);
    free(man);
    free(bin);
    free(dest);
}

/* --starttls takes auto or a STARTTLS probe's name; --ehlo a host name or an
   address literal, never anything that could end the EHLO line early. */
Test(cli, starttls_and_ehlo_arguments)
{
    char known[256];
    snprintf(known, sizeof known, "(known: %s)", CS_STARTTLS_WORDS);
    char *line;
    cr_assert(asprintf(&line, "--starttls: 'gopher' is not a STARTTLS protocol %s", known) > 0);
    expect_usage_line(NAMES("--starttls", "gopher", "x.example"), line);
    free(line);
    cr_assert(asprintf(&line, "--starttls: 'tls' is not a STARTTLS protocol %s", known) > 0);
    expect_usage_line(NAMES("--starttls", "tls", "x.example"), line);
    free(line);
    static const char *const bad[] = {"mx.example\r\nMAIL FROM:<x@y>",
                                      "two words",
                                      "a:b",
                                      "[127.0.0.1",
                                      "[IPv6:127.0.0.1]",
                                      "[999.1.1.1]",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_usage(NAMES("--ehlo", bad[i], "x.example"), "--ehlo: ");
    expect_usage_line(NAMES("--ehlo", "192.0.2.1", "x.example"),
                      "--ehlo: '192.0.2.1' is an address: give it as a literal, [192.0.2.1]");
    /* accepted: a name, an internationalised one as its A-label, literals */
    static const char *const good[] = {"scanner.example.com",
                                       "b\xc3\xbc"
                                       "cher.example",
                                       "[192.0.2.1]", "[IPv6:2001:db8::1]"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct run_result r;
        cr_assert_eq(run_certsweep(NAMES("--ehlo", good[i], "--starttls", "auto", "--dns-server",
                                         "127.0.0.1:9", "-t", "1", "-q", "--fail-on", "never",
                                         "127.0.0.1:1"),
                                   NULL, &r),
                     0);
        cr_assert_eq(r.status, 0, "--ehlo %s: exit %d: %s", good[i], r.status, r.err);
        run_result_free(&r);
    }
}
