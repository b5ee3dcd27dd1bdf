/* The real-server suites' shared scan and record checks (e2e.h). */
#include "tests/support/e2e.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scanner/targets.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"

#define DAY 86400

void e2e_pki_make(struct e2e_pki *p, const char *dir, const struct e2e_pki_spec *spec)
{
    int64_t now = (int64_t)time(NULL);
    char root_cn[128], inter_cn[128], san[300];
    snprintf(root_cn, sizeof root_cn, "certsweep %s Root", spec->name);
    snprintf(inter_cn, sizeof inter_cn, "certsweep %s Intermediate", spec->name);
    snprintf(san, sizeof san, "DNS:%s", spec->host);
    cr_assert_eq(pki_root_and_intermediate(&p->root, &p->inter, root_cn, inter_cn, now), 0);
    const char *const cn[] = {"CN", spec->host, NULL};
    cr_assert_eq(pki_issue(&p->leaf,
                           &(struct pki_spec){
                               .subject = spec->subject != NULL ? spec->subject : cn,
                               .not_before = now - spec->days_before * DAY,
                               .not_after = now + spec->days * DAY + DAY / 2,
                               .key = spec->key,
                               .sans = (const char *const[]){san, NULL},
                           },
                           &p->inter),
                 0, "cannot issue the leaf for %s", spec->host);
    char *root_pem = e2e_path(dir, "root.pem"), *chain = e2e_path(dir, "chain.pem");
    char *key = e2e_path(dir, "leaf.key");
    cr_assert_eq(pki_write_pem(root_pem, &p->root.x509, 1), 0, "%s", root_pem);
    cr_assert_eq(pki_write_pem(chain, (X509 *const[]){p->leaf.x509, p->inter.x509}, 2), 0, "%s",
                 chain);
    cr_assert_eq(pki_write_key(key, p->leaf.key), 0, "%s", key);
    free(root_pem);
    free(chain);
    free(key);
}

void e2e_pki_free(struct e2e_pki *p)
{
    pki_cert_free(&p->leaf);
    pki_cert_free(&p->inter);
    pki_cert_free(&p->root);
}

char *e2e_dir_with_pki(struct e2e_pki *p, const struct e2e_pki_spec *spec)
{
    char *dir = temp_dir();
    cr_assert_not_null(dir, "no temporary directory");
    e2e_pki_make(p, dir, spec);
    return dir;
}

void e2e_dir_free(char **dir, struct e2e_pki *p)
{
    e2e_pki_free(p);
    if (*dir != NULL)
        remove_tree(*dir);
    free(*dir);
    *dir = NULL;
}

void e2e_scan(struct report_scan *s, const struct e2e_scan_args *a)
{
    char *csv = e2e_path(a->dir, "r.csv"), *json = e2e_path(a->dir, "r.json");
    char *ca = a->ca_file == NULL ? e2e_path(a->dir, "root.pem") : NULL;
    unlink(csv);
    unlink(json);
    char pins[8][300];
    const char *args[64];
    size_t n = 0;
    const char *ca_file = ca != NULL ? ca : a->ca_file;
    const char *fixed[] = {"--ca-file", ca_file, "--dns-server", "127.0.0.1:9", "-o", json, "-o",
                           csv,         "-q"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        args[n++] = fixed[i];
    for (size_t i = 0; a->ports[i] != 0; i++) {
        cr_assert_lt(i, sizeof pins / sizeof pins[0], "too many ports to pin");
        snprintf(pins[i], sizeof pins[i], "%s:%u:127.0.0.1", a->host, (unsigned)a->ports[i]);
        args[n++] = "--resolve";
        args[n++] = pins[i];
    }
    for (size_t i = 0; a->extra != NULL && a->extra[i] != NULL; i++)
        args[n++] = a->extra[i];
    for (size_t i = 0; a->targets[i] != NULL; i++) {
        cr_assert_lt(n + 1, sizeof args / sizeof args[0], "too many arguments");
        args[n++] = a->targets[i];
    }
    args[n] = NULL;
    cr_assert_eq(run_binary(CS_BINARY, args, NULL, 120, &s->run), 0, "cannot run %s", CS_BINARY);
    char err[8192];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof err), 0, "%s (exit %d); stderr: %s", err,
                 s->run.status, s->run.err);
    cr_assert_eq(check_record_layout(&s->csv, s->json, err, sizeof err), 0, "%s", err);
    cr_assert(json_is_true(json_object_get(s->json, "complete")),
              "the JSON report does not say the scan is complete (exit %d); stderr: %s",
              s->run.status, s->run.err);
    free(csv);
    free(json);
    free(ca);
}

const char *e2e_cell(const struct report_scan *s, const char *host, uint16_t port,
                     const char *column)
{
    char p[8];
    snprintf(p, sizeof p, "%u", (unsigned)port);
    for (size_t row = 1; row < s->csv.nrows; row++) {
        const char *h = csv_doc_get(&s->csv, row, "host"), *q = csv_doc_get(&s->csv, row, "port");
        if (h != NULL && q != NULL && strcmp(h, host) == 0 && strcmp(q, p) == 0) {
            const char *v = csv_doc_get(&s->csv, row, column);
            cr_assert_not_null(v, "%s:%s: no %s cell", host, p, column);
            return v;
        }
    }
    cr_assert_fail("no CSV row for %s:%s:\n%s", host, p, s->csv_text);
    return NULL;
}

json_t *e2e_record(const struct report_scan *s, const char *host, uint16_t port)
{
    json_t *r = json_find_record(json_object_get(s->json, "results"), host, port);
    cr_assert_not_null(r, "no JSON record for %s:%u", host, (unsigned)port);
    return r;
}

const char *e2e_jstr(const struct report_scan *s, const char *host, uint16_t port, const char *key)
{
    json_t *v = json_object_get(e2e_record(s, host, port), key);
    cr_assert(json_is_string(v), "%s:%u: JSON %s is not a string", host, (unsigned)port, key);
    return json_string_value(v);
}

/* CSV cell column of host:port is want. */
static void expect_cell(const struct report_scan *s, const char *host, uint16_t port,
                        const char *column, const char *want)
{
    const char *got = e2e_cell(s, host, port, column);
    cr_assert_str_eq(got, want, "%s:%u: CSV %s is \"%s\", not \"%s\"", host, (unsigned)port, column,
                     got, want);
}

/* JSON string key of host:port is want. */
static void expect_jstr(const struct report_scan *s, const char *host, uint16_t port,
                        const char *key, const char *want)
{
    const char *got = e2e_jstr(s, host, port, key);
    cr_assert_str_eq(got, want, "%s:%u: JSON %s is \"%s\", not \"%s\"", host, (unsigned)port, key,
                     got, want);
}

void e2e_expect_leaf(const struct report_scan *s, const struct e2e_leaf_want *w)
{
    const char *host = w->host;
    uint16_t port = w->port;
    unsigned u = port;
    char reason[64], days[24], portstr[8], serial[256], sha[65], not_before[24], not_after[24];
    snprintf(reason, sizeof reason, "expires in %ld days", w->days);
    snprintf(days, sizeof days, "%ld", w->days);
    snprintf(portstr, sizeof portstr, "%u", u);
    pki_serial_hex(w->leaf, serial, sizeof serial);
    pki_sha256_hex(w->leaf, sha);
    pki_iso_time(pki_not_before(w->leaf), not_before);
    pki_iso_time(pki_not_after(w->leaf), not_after);

    const char *status = e2e_cell(s, host, port, "status");
    cr_assert_str_eq(status, "OK", "%s:%u (%s): %s: %s", host, u, w->protocol, status,
                     e2e_cell(s, host, port, "reason"));
    const char *version = e2e_cell(s, host, port, "tls_version");
    if (w->tls_version != NULL)
        expect_cell(s, host, port, "tls_version", w->tls_version);
    else
        cr_assert(strncmp(version, "TLSv1.", 6) == 0, "%s:%u (%s): tls_version \"%s\"", host, u,
                  w->protocol, version);
    const struct {
        const char *field, *want;
    } text[] = {
        {"reason", reason},
        {"protocol", w->protocol},
        {"host", host},
        {"address", "127.0.0.1"},
        {"sni", host},
        {"subject", w->subject},
        {"issuer", w->issuer},
        {"serial", serial},
        {"sha256", sha},
        {"not_before", not_before},
        {"not_after", not_after},
        {"chain_not_after", not_after}, /* the leaf ends first */
        {"key", w->key},
        {"verify", "ok"},
        {"error", ""},
        {"tls_version", version},
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        expect_cell(s, host, port, text[i].field, text[i].want);
        /* the JSON record says the same, typed */
        expect_jstr(s, host, port, text[i].field, text[i].want);
    }
    expect_cell(s, host, port, "status", "OK");
    expect_jstr(s, host, port, "status", "OK");
    expect_cell(s, host, port, "port", portstr);
    expect_cell(s, host, port, "sans", w->sans);
    expect_cell(s, host, port, "days_remaining", days);
    expect_cell(s, host, port, "hostname_match", "true");
    expect_cell(s, host, port, "key_proven", "true");

    json_t *r = e2e_record(s, host, port);
    cr_assert_eq(json_integer_value(json_object_get(r, "port")), port, "%s:%u: JSON port", host, u);
    long got_days = (long)json_integer_value(json_object_get(r, "days_remaining"));
    cr_assert(json_is_integer(json_object_get(r, "days_remaining")) && got_days == w->days,
              "%s:%u: JSON days_remaining is %ld, not %ld", host, u, got_days, w->days);
    cr_assert(json_is_true(json_object_get(r, "hostname_match")),
              "%s:%u: JSON hostname_match is not true", host, u);
    cr_assert(json_is_true(json_object_get(r, "key_proven")),
              "%s:%u (%s): JSON key_proven is not true: the server did not prove its key", host, u,
              w->protocol);
}

void e2e_expect_refused(const struct report_scan *s, const char *host, uint16_t port,
                        const char *protocol, const char *reason)
{
    const char *status = e2e_cell(s, host, port, "status");
    cr_assert_str_eq(status, "ERROR", "%s:%u (%s): %s: %s", host, (unsigned)port, protocol, status,
                     e2e_cell(s, host, port, "reason"));
    expect_cell(s, host, port, "reason", reason);
    expect_cell(s, host, port, "error", reason);
    expect_cell(s, host, port, "protocol", protocol);
    expect_cell(s, host, port, "sha256", "");
    expect_jstr(s, host, port, "status", "ERROR");
    expect_jstr(s, host, port, "reason", reason);
    expect_jstr(s, host, port, "protocol", protocol);
    cr_assert(json_is_null(json_object_get(e2e_record(s, host, port), "key_proven")),
              "%s:%u: JSON key_proven is not null", host, (unsigned)port);
}

char *e2e_path(const char *dir, const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

void e2e_scan_one(struct report_scan *s, const char *dir, const char *host, uint16_t port,
                  const char *target, const char *starttls)
{
    e2e_scan(s, &(struct e2e_scan_args){
                    .dir = dir,
                    .host = host,
                    .ports = (const uint16_t[]){port, 0},
                    .extra = starttls ? (const char *const[]){"--starttls", starttls, NULL} : NULL,
                    .targets = (const char *const[]){target, NULL}});
    cr_assert_eq(s->csv.nrows, 2, "%s", s->csv_text);
}

void e2e_expect_registered(const struct cs_probe *probe, const char *const *schemes)
{
    uint16_t port = probe->default_port;
    cr_assert_eq(cs_probe_by_name(probe->name), probe);
    cr_assert_eq(cs_probe_for(NULL, "auto", port), probe, "--starttls auto at %u", port);
    cr_assert_eq(cs_probe_for(NULL, probe->name, 443), probe);
    for (size_t i = 0; schemes[i]; i++) {
        char url[64];
        snprintf(url, sizeof url, "%s://db.example.net", schemes[i]);
        struct cs_target t;
        const char *why = cs_target_parse(url, 443, NULL, &t);
        cr_assert_null(why, "%s: %s", url, why);
        cr_assert_str_eq(t.probe, probe->name, "%s", url);
        cr_assert_eq(t.port, port, "%s: the probe's port is the scheme's default", url);
        cs_target_free(&t);
    }
}
