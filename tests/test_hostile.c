/* Hostile servers: every hostile scenario of the test fleet (peers that drip,
 * stall, spew noise, reset, hang up, alert, speak SSH or SMTP, never accept;
 * certificates built to break parsers and terminals; a stapling TLS 1.2 server
 * that goes quiet after its Certificate) scanned in ONE certsweep
 * run together with a few good endpoints.  Each must end in exactly one record
 * with a clear reason within the deadline, and the good endpoints must come out
 * exactly as they do in a run without the hostile ones. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/runner.h"

#define DEADLINE_MS 3000

/* Scanned alongside the hostile ones; must not notice them. */
static const char *const good[] = {"ok", "rsa", "warning", "expired", "tls12"};
#define N_GOOD (sizeof good / sizeof good[0])

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx_setup_with(&(struct fleet_options){.hostile = true});
}

TestSuite(hostile, .init = setup, .fini = fx_teardown, .timeout = 120);

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", fx_dir, name) > 0);
    return p;
}

struct scan {
    struct run_result run;
    json_t *json;
    struct csv_doc csv;
};

/* Scans the scenarios (by name) in one run: JSON and CSV reports, the text
   table on standard output. */
static void scan(struct scan *sc, const char *tag, const struct fleet_scenario *const *list,
                 size_t n, const char *extra)
{
    char name[64];
    snprintf(name, sizeof name, "%s.txt", tag);
    char *targets = path_in(name);
    snprintf(name, sizeof name, "%s.json", tag);
    char *json = path_in(name);
    snprintf(name, sizeof name, "%s.csv", tag);
    char *csv = path_in(name);
    FILE *f = fopen(targets, "w");
    cr_assert_not_null(f);
    const char **args = calloc(2 * n + 32, sizeof *args);
    char **pins = calloc(n, sizeof *pins);
    char now[24];
    cs_format_time(fleet_now(fx_fleet), now);
    size_t a = 0;
    const char *fixed[] = {"-f",
                           targets,
                           "--ca-file",
                           fleet_ca_file(fx_fleet),
                           "--now",
                           now,
                           "-t",
                           "3",
                           "--connect-timeout",
                           "1",
                           "-o",
                           json,
                           "-o",
                           csv,
                           "-F",
                           "text"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        args[a++] = fixed[i];
    if (extra)
        args[a++] = extra;
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s:%u\n", list[i]->host, list[i]->port);
        cr_assert(asprintf(&pins[i], "%s:%u:127.0.0.1", list[i]->host, list[i]->port) > 0);
        args[a++] = "--resolve";
        args[a++] = pins[i];
    }
    args[a] = NULL;
    fclose(f);

    cr_assert_eq(run_certsweep(args, NULL, &sc->run), 0);
    cr_assert_lt(sc->run.status, 4, "exit %d; stderr: %s", sc->run.status, sc->run.err);
    json_error_t jerr;
    /* jansson rejects a document that is not valid UTF-8 */
    sc->json = json_load_file(json, 0, &jerr);
    cr_assert_not_null(sc->json, "JSON report does not parse (%s); stderr: %s", jerr.text,
                       sc->run.err);
    size_t len;
    char *text = slurp(csv, &len);
    cr_assert_not_null(text);
    cr_assert_eq(csv_doc_parse(text, len, &sc->csv), 0, "CSV report does not parse");
    free(text);
    for (size_t i = 0; i < n; i++)
        free(pins[i]);
    free(pins);
    free(args);
    free(targets);
    free(json);
    free(csv);
}

static void scan_free(struct scan *sc)
{
    run_result_free(&sc->run);
    json_decref(sc->json);
    csv_doc_free(&sc->csv);
}

/* Scenarios whose chain arrives but whose key is never proven: ERROR records
   with every certificate field. */
static bool proof_fails(const char *name)
{
    static const char *const names[] = {"keyless", "wrong-key", "wrong-key-tls12",
                                        "wrong-key-rsa-kx", "staple-stall"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static json_t *record(const struct scan *sc, const struct fleet_scenario *s)
{
    json_t *r = json_find_record(json_object_get(sc->json, "results"), s->host, s->port);
    cr_assert_not_null(r, "no record for %s (%s:%u)", s->name, s->host, s->port);
    return r;
}

static const char *str(json_t *rec, const char *key)
{
    const char *v = json_string_value(json_object_get(rec, key));
    return v != NULL ? v : "(null)";
}

static const char *csv_cell(const struct scan *sc, const struct fleet_scenario *s,
                            const char *column)
{
    char port[8];
    snprintf(port, sizeof port, "%u", s->port);
    for (size_t i = 1; i < sc->csv.nrows; i++)
        if (strcmp(csv_doc_get(&sc->csv, i, "host"), s->host) == 0 &&
            strcmp(csv_doc_get(&sc->csv, i, "port"), port) == 0)
            return csv_doc_get(&sc->csv, i, column);
    cr_assert_fail("no CSV row for %s", s->name);
    return NULL;
}

/* Well-formed UTF-8 (overlongs and surrogates aside: what matters here is
   that no stray byte reaches a reader). */
static bool valid_utf8(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k;
        if (c < 0x80)
            k = 0;
        else if (c >= 0xc2 && c <= 0xdf)
            k = 1;
        else if ((c & 0xf0) == 0xe0)
            k = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3;
        else
            return false;
        if (k > n - i - 1)
            return false;
        for (size_t j = 1; j <= k; j++)
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

static void expect(const struct scan *sc, const char *name, const char *status, const char *reason)
{
    const struct fleet_scenario *s = fleet_get(fx_fleet, name);
    cr_assert_not_null(s, "%s", name);
    json_t *r = record(sc, s);
    cr_assert_str_eq(str(r, "status"), status, "%s: %s (%s)", name, str(r, "status"),
                     str(r, "reason"));
    if (reason != NULL)
        cr_assert_str_eq(str(r, "reason"), reason, "%s", name);
}

/* Days as the record's reason counts them for a date in the past. */
static long long days_ago(int64_t t)
{
    return (long long)((fleet_now(fx_fleet) - t) / 86400);
}

Test(hostile, one_run_with_good_endpoints)
{
    const struct fleet_scenario *list[64];
    size_t n = 0;
    for (size_t i = 0; i < fleet_count(fx_fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fx_fleet, i);
        if (s->hostile || strcmp(s->name, "silent") == 0 || strcmp(s->name, "http") == 0 ||
            strcmp(s->name, "reset") == 0)
            list[n++] = s;
    }
    size_t n_hostile = n;
    cr_assert_geq(n_hostile, 24, "%zu hostile scenarios", n_hostile);
    const struct fleet_scenario *good_list[N_GOOD];
    for (size_t i = 0; i < N_GOOD; i++) {
        good_list[i] = fleet_get(fx_fleet, good[i]);
        list[n++] = good_list[i];
    }

    struct scan all, base;
    scan(&all, "all", list, n, NULL);
    scan(&base, "base", good_list, N_GOOD, NULL);

    /* The run ends although hostile peers never would (the suite's timeout is
       the watchdog; how close to the deadline it ends is measured by
       tests/bench/run, not asserted here). */
    /* Worst is EXPIRED (expired, year-1950): exit 2. */
    cr_assert_eq(all.run.status, 2, "exit %d; stderr: %s", all.run.status, all.run.err);

    /* Exactly one record per target, with the status and reason its scenario
       expects (a slow peer's is the timeout of its phase). */
    json_t *results = json_object_get(all.json, "results");
    cr_assert_eq(json_array_size(results), n, "%zu records for %zu targets",
                 json_array_size(results), n);
    cr_assert_eq(all.csv.nrows, n + 1);
    for (size_t i = 0; i < n; i++) {
        const struct fleet_scenario *s = list[i];
        size_t seen = 0;
        for (size_t k = 0; k < json_array_size(results); k++) {
            json_t *r = json_array_get(results, k);
            if (strcmp(str(r, "host"), s->host) == 0 &&
                json_integer_value(json_object_get(r, "port")) == s->port)
                seen++;
        }
        cr_assert_eq(seen, 1, "%s: %zu records", s->name, seen);
        json_t *r = record(&all, s);
        cr_assert_str_eq(str(r, "status"), s->expect_status, "%s: %s (%s)", s->name,
                         str(r, "status"), str(r, "reason"));
        cr_assert_str_neq(str(r, "reason"), "", "%s: no reason", s->name);
        /* an ERROR names its cause in `error`; a classified record has none */
        if (strcmp(s->expect_status, "ERROR") == 0) {
            cr_assert_str_eq(str(r, "error"), str(r, "reason"), "%s", s->name);
            /* a chain whose key was not proven is still reported in full */
            cr_assert(json_is_null(json_object_get(r, "not_after")) == !proof_fails(s->name), "%s",
                      s->name);
        } else {
            cr_assert_str_eq(str(r, "error"), "", "%s", s->name);
        }
        /* probed once per run (the good ones ran twice; the backlog listener
           never accepts: nothing to count) */
        uint64_t want = i < n_hostile ? 1 : 2;
        if (s->behaviour != FLEET_BACKLOG)
            cr_assert_eq(fleet_accepted(fx_fleet, s->name), want, "%s accepted %llu times", s->name,
                         (unsigned long long)fleet_accepted(fx_fleet, s->name));
    }

    /* The good endpoints come out exactly as without the hostile ones. */
    for (size_t i = 0; i < N_GOOD; i++) {
        json_t *with = json_deep_copy(record(&all, good_list[i]));
        json_t *without = json_deep_copy(record(&base, good_list[i]));
        json_object_del(with, "elapsed_ms");
        json_object_del(without, "elapsed_ms");
        char *a = json_dumps(with, JSON_SORT_KEYS), *b = json_dumps(without, JSON_SORT_KEYS);
        cr_assert_str_eq(a, b, "%s differs next to the hostile endpoints", good[i]);
        free(a);
        free(b);
        json_decref(with);
        json_decref(without);
    }

    /* Peers: the reason says what happened. */
    expect(&all, "silent", "ERROR", "timeout during handshake");
    expect(&all, "drip", "ERROR", "timeout during handshake");
    expect(&all, "hello-stall", "ERROR", "timeout during handshake");
    expect(&all, "hello-reset", "ERROR", "handshake: connection reset by peer");
    expect(&all, "reset", "ERROR", "handshake: connection reset by peer");
    expect(&all, "hangup", "ERROR", "handshake: connection closed by peer");
    expect(&all, "backlog", "ERROR", "timeout during connect");
    expect(&all, "alert", "ERROR", "handshake: server sent alert: handshake failure");
    /* Not TLS at all: the reason quotes what the peer sent (its first line) */
    expect(&all, "http", "ERROR", "handshake: not TLS (peer sent \"HTTP/1.1 400 Bad Request\")");
    const char *not_tls[] = {"ssh", "smtp", "noise"};
    const char *why;
    for (size_t i = 0; i < sizeof not_tls / sizeof not_tls[0]; i++) {
        expect(&all, not_tls[i], "ERROR", NULL);
        why = str(record(&all, fleet_get(fx_fleet, not_tls[i])), "reason");
        cr_assert(strncmp(why, "handshake: not TLS (peer sent \"", 31) == 0, "%s: %s", not_tls[i],
                  why);
    }
    why = str(record(&all, fleet_get(fx_fleet, "ssh")), "reason");
    cr_assert(strstr(why, "(peer sent \"SSH-2.0-"), "%s", why);
    why = str(record(&all, fleet_get(fx_fleet, "smtp")), "reason");
    cr_assert(strstr(why, "(peer sent \"220 "), "%s", why);
    /* the slow peers were cut at the deadline, the full backlog at the connect timeout */
    json_int_t ms = json_integer_value(
        json_object_get(record(&all, fleet_get(fx_fleet, "drip")), "elapsed_ms"));
    cr_assert_geq(ms, DEADLINE_MS - 100, "drip ended after %lld ms", (long long)ms);
    json_int_t drip_ms = ms;
    ms = json_integer_value(
        json_object_get(record(&all, fleet_get(fx_fleet, "backlog")), "elapsed_ms"));
    /* the 1 s connect timeout ended it ("timeout during connect" above), not
       the 3 s deadline that ended the drip */
    cr_assert(ms >= 900 && ms < drip_ms, "backlog ended after %lld ms, the drip after %lld ms",
              (long long)ms, (long long)drip_ms);

    /* Certificates. */
    expect(&all, "long-chain", "CRITICAL", "untrusted: certificate chain too long");
    cr_assert_eq(fleet_get(fx_fleet, "long-chain")->chain_len, 110);
    cr_assert_str_eq(str(record(&all, fleet_get(fx_fleet, "long-chain")), "verify"),
                     "certificate chain too long");

    const struct fleet_scenario *s = fleet_get(fx_fleet, "big-chain");
    size_t bytes = (size_t)i2d_X509(s->leaf.x509, NULL);
    for (size_t i = 0; i < s->chain_len; i++)
        bytes += (size_t)i2d_X509(s->chain[i], NULL);
    cr_assert_gt(bytes, 100 * 1024, "the big chain is only %zu bytes", bytes);
    expect(&all, "big-chain", "OK", "expires in 200 days");
    char sha[65];
    pki_sha256_hex(s->leaf.x509, sha);
    cr_assert_str_eq(str(record(&all, s), "sha256"), sha);

    /* 10,000 SANs: all of them in JSON, a capped CSV cell that says how many are left out */
    s = fleet_get(fx_fleet, "many-sans");
    expect(&all, "many-sans", "OK", "expires in 200 days");
    json_t *sans = json_object_get(record(&all, s), "sans");
    cr_assert_eq(json_array_size(sans), 10000);
    cr_assert_str_eq(json_string_value(json_array_get(sans, 0)), s->host);
    cr_assert_str_eq(json_string_value(json_array_get(sans, 9999)), "san-09999.fleet.test");
    const char *cell = csv_cell(&all, s, "sans");
    cr_assert_leq(strlen(cell), 32767);
    const char *more = strstr(cell, " (+");
    cr_assert_not_null(more, "CSV sans cell not capped: %.80s...", cell);
    unsigned long left_out = strtoul(more + 3, NULL, 10);
    cr_assert(strcmp(cell + strlen(cell) - 6, " more)") == 0, "%s", cell + strlen(cell) - 40);
    size_t listed = 0;
    for (const char *p = cell; p < more; p++)
        listed += *p == ' ';
    /* "a b c … (+N more)": the names listed and the N left out make 10,000 */
    cr_assert_eq(listed + left_out, 10000, "%zu listed + %lu more", listed, left_out);

    /* NUL in the CN: no match for good.example, the NUL shown escaped */
    s = fleet_get(fx_fleet, "nul-cn");
    expect(&all, "nul-cn", "CRITICAL", "hostname mismatch: certificate has no DNS names");
    json_t *r = record(&all, s);
    cr_assert(json_is_false(json_object_get(r, "hostname_match")));
    cr_assert_eq(json_string_length(json_object_get(r, "subject")), strlen(str(r, "subject")),
                 "a raw NUL in the subject");
    cr_assert_str_eq(str(r, "subject"), "CN=good.example\\00.evil.example,O=certsweep test fleet");
    cr_assert_eq(json_array_size(json_object_get(r, "sans")), 0);
    /* ... and in the only DNS SAN */
    s = fleet_get(fx_fleet, "nul-san");
    expect(&all, "nul-san", "CRITICAL",
           "hostname mismatch: good.example not in the certificate's names");
    r = record(&all, s);
    cr_assert(json_is_false(json_object_get(r, "hostname_match")));
    sans = json_object_get(r, "sans");
    cr_assert_eq(json_array_size(sans), 1);
    cr_assert_str_eq(json_string_value(json_array_get(sans, 0)), "good.example\\x00.evil.example");
    cr_assert_str_eq(csv_cell(&all, s, "sans"), "good.example\\x00.evil.example");

    /* T61String bytes 0xe9 0xff 0xfe: read as Latin-1, written as UTF-8 */
    expect(&all, "non-utf8", "OK", "expires in 200 days");
    cr_assert_str_eq(str(record(&all, fleet_get(fx_fleet, "non-utf8")), "subject"),
                     "O=caf\xc3\xa9 \xc3\xbf\xc3\xbe T61,CN=non-utf8.fleet.test");
    cr_assert_str_eq(csv_cell(&all, fleet_get(fx_fleet, "non-utf8"), "subject"),
                     "O=caf\xc3\xa9 \xc3\xbf\xc3\xbe T61,CN=non-utf8.fleet.test");

    /* Escape sequences: RFC 4514-escaped in the reports, never raw in the text table */
    s = fleet_get(fx_fleet, "ansi");
    expect(&all, "ansi", "OK", "expires in 200 days");
    r = record(&all, s);
    cr_assert_null(strchr(str(r, "subject"), 0x1b), "raw ESC in the subject");
    cr_assert_null(strchr(str(r, "issuer"), 0x1b), "raw ESC in the issuer");
    cr_assert(strstr(str(r, "subject"), "O=\\1B[5mBlink\\1B[0m \\1B[31mRed\\1B[0m\\0D\\08\\7F"),
              "%s", str(r, "subject"));
    cr_assert(strstr(str(r, "issuer"), "O=\\1B]0\\;pwned\\07\\1B[2J\\1B[H"), "%s",
              str(r, "issuer"));
    const char *out = all.run.out;
    cr_assert(strstr(out, "ansi.fleet.test"), "no text table on stdout");
    static const char *const raw[] = {"\x1b", "\x07",     "\x08",     "\x7f",
                                      "\r",   "\xc2\x9b", "\xc2\x9d", "\xe2\x80\xae"};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        cr_assert_null(strstr(out, raw[i]), "text table holds raw byte(s) %02x",
                       (unsigned char)raw[i][0]);
    cr_assert(valid_utf8((const unsigned char *)out, strlen(out)), "text table is not UTF-8");

    /* Serials */
    char want[128];
    pki_serial_hex(fleet_get(fx_fleet, "negative-serial")->leaf.x509, want, sizeof want);
    cr_assert_str_eq(want, "-0123456789ABCDEF");
    expect(&all, "negative-serial", "OK", "expires in 200 days");
    cr_assert_str_eq(str(record(&all, fleet_get(fx_fleet, "negative-serial")), "serial"), want);
    pki_serial_hex(fleet_get(fx_fleet, "long-serial")->leaf.x509, want, sizeof want);
    cr_assert_eq(strlen(want), 80);
    expect(&all, "long-serial", "OK", "expires in 200 days");
    cr_assert_str_eq(str(record(&all, fleet_get(fx_fleet, "long-serial")), "serial"), want);

    /* Dates at the edges of UTCTime and GeneralizedTime */
    s = fleet_get(fx_fleet, "year-9999");
    expect(&all, "year-9999", "OK", NULL);
    r = record(&all, s);
    cr_assert_str_eq(str(r, "not_after"), "9999-12-31T23:59:59Z");
    cr_assert_eq(json_integer_value(json_object_get(r, "days_remaining")),
                 (253402300799 - fleet_now(fx_fleet)) / 86400);
    cr_assert(strncmp(str(r, "reason"), "expires in ", 11) == 0, "%s", str(r, "reason"));
    s = fleet_get(fx_fleet, "year-1950");
    r = record(&all, s);
    cr_assert_str_eq(str(r, "not_before"), "1950-01-01T00:00:00Z");
    cr_assert_str_eq(str(r, "not_after"), "1950-12-31T23:59:59Z");
    snprintf(want, sizeof want, "expired %lld days ago", days_ago(-599616001));
    expect(&all, "year-1950", "EXPIRED", want);

    /* A TLS 1.2 server that announced a staple (status_request in its ServerHello)
       and went quiet after its Certificate: it never proved it holds the key, so
       the record is an ERROR at the deadline, with the chain it sent (the
       --cert-only wait of one second is in key_possession below). */
    s = fleet_get(fx_fleet, "staple-stall");
    cr_assert_not_null(s);
    expect(&all, "staple-stall", "ERROR",
           "handshake: timeout waiting for the server to prove possession of its key");
    r = record(&all, s);
    cr_assert_str_eq(str(r, "tls_version"), "TLSv1.2");
    cr_assert_str_eq(str(r, "verify"), "ok"); /* the intermediate came too */
    pki_sha256_hex(s->leaf.x509, sha);
    cr_assert_str_eq(str(r, "sha256"), sha);
    cr_assert(json_is_false(json_object_get(r, "key_proven")));
    cr_assert_eq(fleet_status_requests(fx_fleet, "staple-stall"), 1,
                 "status_request seen %llu times",
                 (unsigned long long)fleet_status_requests(fx_fleet, "staple-stall"));

    /* Reports stay valid UTF-8 byte for byte (jansson checked the JSON on load). */
    char *csv_path = path_in("all.csv");
    size_t len;
    char *csv_text = slurp(csv_path, &len);
    cr_assert(valid_utf8((const unsigned char *)csv_text, len), "CSV is not UTF-8");
    free(csv_text);
    free(csv_path);

    scan_free(&all);
    scan_free(&base);
}

/* The record of scenario name, scanned alone with extra (or NULL). */
static void expect_key(const struct scan *sc, const char *name, const char *status,
                       const char *reason, bool proven)
{
    const struct fleet_scenario *s = fleet_get(fx_fleet, name);
    json_t *r = record(sc, s);
    char sha[65], when[24];
    cr_assert_str_eq(str(r, "status"), status, "%s: %s (%s)", name, str(r, "status"),
                     str(r, "reason"));
    cr_assert_str_eq(str(r, "reason"), reason, "%s", name);
    cr_assert_eq(json_is_true(json_object_get(r, "key_proven")), proven, "%s", name);
    cr_assert(json_is_boolean(json_object_get(r, "key_proven")), "%s", name);
    /* every certificate field is there, from the certificate the server sent */
    pki_sha256_hex(s->leaf.x509, sha);
    cr_assert_str_eq(str(r, "sha256"), sha, "%s", name);
    pki_iso_time(pki_not_after(s->leaf.x509), when);
    cr_assert_str_eq(str(r, "not_after"), when, "%s", name);
    cr_assert_eq(json_integer_value(json_object_get(r, "days_remaining")),
                 (pki_not_after(s->leaf.x509) - fleet_now(fx_fleet)) / 86400, "%s", name);
    cr_assert_str_eq(str(r, "verify"), "ok", "%s", name);
    cr_assert(json_is_true(json_object_get(r, "hostname_match")), "%s", name);
    cr_assert_str_eq(csv_cell(sc, s, "key_proven"), proven ? "true" : "false", "%s", name);
}

/* Proof of key possession: a server that sends a healthy, trusted chain and
   then closes (TLS 1.2, as a key-less impostor would), one whose certificate
   names another key than the one it signs with (TLS 1.3 CertificateVerify,
   TLS 1.2 ServerKeyExchange), and one that goes quiet after its chain, each
   beside good servers; then the same with --cert-only, which takes the chain
   and proves nothing. */
Test(hostile, key_possession)
{
    static const char *const names[] = {
        "keyless", "wrong-key", "wrong-key-tls12", "wrong-key-rsa-kx", "staple-stall", "ok",
        "tls12",   "rsa",       "ed25519",         "rsa-kx",           "dhe",          "tls10"};
    enum { N = sizeof names / sizeof names[0], N_BAD = 5 };
    const struct fleet_scenario *list[N];
    for (size_t i = 0; i < N; i++)
        cr_assert_not_null(list[i] = fleet_get(fx_fleet, names[i]), "%s", names[i]);
    struct scan sc, fast;
    scan(&sc, "key", list, N, NULL);
    expect_key(&sc, "keyless", "ERROR",
               "handshake: server closed before proving possession of its key", false);
    expect_key(&sc, "wrong-key", "ERROR",
               "handshake: server signature does not verify with the certificate's key", false);
    expect_key(&sc, "wrong-key-tls12", "ERROR",
               "handshake: server signature does not verify with the certificate's key", false);
    /* RSA key transport: the server cannot decrypt what was sent to the key its
       certificate names, and the handshake fails before its Finished */
    json_t *r = record(&sc, list[3]);
    cr_assert(strstr(str(r, "reason"), "(after the server's certificate)"), "%s", str(r, "reason"));
    expect_key(&sc, "wrong-key-rsa-kx", "ERROR", str(r, "reason"), false);
    expect_key(&sc, "staple-stall", "ERROR",
               "handshake: timeout waiting for the server to prove possession of its key", false);
    for (size_t i = N_BAD; i < N; i++)
        expect_key(&sc, names[i], "OK", "expires in 200 days", true);
    cr_assert_str_eq(str(record(&sc, list[1]), "tls_version"), "TLSv1.3");
    cr_assert_str_eq(str(record(&sc, list[2]), "tls_version"), "TLSv1.2");
    cr_assert_str_eq(str(record(&sc, fleet_get(fx_fleet, "tls10")), "tls_version"), "TLSv1");
    cr_assert_eq(sc.run.status, 3, "exit %d", sc.run.status);

    scan(&fast, "key-fast", list, N, "--cert-only");
    for (size_t i = 0; i < N; i++)
        expect_key(&fast, names[i], "OK", "expires in 200 days", false);
    /* --cert-only: the TLS 1.2 server that announced a staple and went quiet
       gets the engine's one-second wait for its CertificateStatus
       (STATUS_WAIT_MS), not the -t timeout; no staple came */
    r = record(&fast, list[4]);
    cr_assert(json_is_false(json_object_get(r, "ocsp_stapled")));
    cr_assert_str_eq(str(r, "revocation"), "unchecked");
    json_int_t ms = json_integer_value(json_object_get(r, "elapsed_ms"));
    cr_assert(ms >= 900, "staple-stall ended after %lld ms: not the 1 s wait for the staple",
              (long long)ms);
    cr_assert_eq(fast.run.status, 0, "exit %d", fast.run.status);
    scan_free(&sc);
    scan_free(&fast);
}

/* RSA-16384: a suite of its own, because making the key takes about four
   minutes of one core.  It is made once per machine and cached (see
   pki_cached_rsa16384: $CS_TEST_CACHE or /tmp/certsweep-test-cache); the long
   timeout covers that first run, later runs load it in milliseconds. */
static void setup_rsa16384(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx_setup_with(&(struct fleet_options){.rsa16384 = true});
}

TestSuite(hostile_rsa16384, .init = setup_rsa16384, .fini = fx_teardown, .timeout = 540);

Test(hostile_rsa16384, rsa16384_leaf)
{
    const struct fleet_scenario *list[] = {fleet_get(fx_fleet, "rsa16384"),
                                           fleet_get(fx_fleet, "ok")};
    cr_assert_not_null(list[0]);
    struct scan sc;
    scan(&sc, "rsa16384", list, 2, NULL);
    expect(&sc, "rsa16384", "OK", "expires in 200 days");
    json_t *r = record(&sc, list[0]);
    cr_assert_str_eq(str(r, "key"), "RSA-16384");
    cr_assert_str_eq(str(r, "verify"), "ok");
    expect(&sc, "ok", "OK", "expires in 200 days");
    scan_free(&sc);
}
