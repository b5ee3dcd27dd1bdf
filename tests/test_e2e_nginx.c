/* End to end against a real nginx on 127.0.0.1: a throw-away PKI (root, RSA
 * intermediate, an ECDSA and an RSA leaf) served by two SNI-selected server
 * blocks on one port; the certsweep binary scans them as a user would and
 * every field of its CSV and JSON reports is compared with what the PKI put
 * into the certificates. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "scanner/util.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

#define DAY 86400

static char *dir;
static struct pki_cert root, inter, www, api;
static uint16_t port, http_port;
static struct nginx web = {.pid = -1};
static char *root_pem;

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* run_certsweep() without depending on the working directory: the support
   library is built without CS_BINARY, so its default is a relative path. */
static int certsweep(const char *const *args, struct run_result *r)
{
    return run_binary(CS_BINARY, args, NULL, 120, r);
}

static void write_key(const char *name, EVP_PKEY *key)
{
    char *p = path_in(name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s: %s", p, strerror(errno));
    cr_assert(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
    cr_assert_eq(fclose(f), 0);
    free(p);
}

static void write_chain(const char *name, X509 *leaf, X509 *ca)
{
    char *p = path_in(name);
    X509 *const certs[] = {leaf, ca};
    cr_assert_eq(pki_write_pem(p, certs, ca ? 2 : 1), 0, "%s", p);
    free(p);
}

static void make_pki(void)
{
    int64_t now = (int64_t)time(NULL);
    /* notAfter half a day past a whole number of days, so days_remaining
       does not depend on how many seconds pass before the scan */
    cr_assert_eq(pki_issue(&root,
                           &(struct pki_spec){
                               .subject = (const char *const[]){"CN", "certsweep e2e Root", "O",
                                                                "certsweep tests", NULL},
                               .not_before = now - 400 * DAY,
                               .not_after = now + 3650 * DAY,
                               .key = PKI_EC256,
                               .ca = true,
                           },
                           NULL),
                 0);
    cr_assert_eq(pki_issue(&inter,
                           &(struct pki_spec){
                               .subject = (const char *const[]){"CN", "certsweep e2e Intermediate",
                                                                "O", "certsweep tests", NULL},
                               .not_before = now - 350 * DAY,
                               .not_after = now + 100 * DAY + DAY / 2,
                               .key = PKI_RSA2048,
                               .ca = true,
                           },
                           &root),
                 0);
    cr_assert_eq(
        pki_issue(&www,
                  &(struct pki_spec){
                      .subject = (const char *const[]){"CN", "www.nginx.test", NULL},
                      .not_before = now - 300 * DAY,
                      .not_after = now + 20 * DAY + DAY / 2,
                      .key = PKI_EC256,
                      .sans = (const char *const[]){"DNS:www.nginx.test", "IP:127.0.0.1", NULL},
                      .ocsp_uri = "http://ocsp.nginx.test/www",
                      .crl_uri = "http://crl.nginx.test/intermediate.crl",
                  },
                  &inter),
        0);
    cr_assert_eq(pki_issue(&api,
                           &(struct pki_spec){
                               .subject = (const char *const[]){"CN", "api.nginx.test", NULL},
                               .not_before = now - 100 * DAY,
                               .not_after = now + 200 * DAY + DAY / 2,
                               .key = PKI_RSA2048,
                               .sans = (const char *const[]){"DNS:api.nginx.test", NULL},
                           },
                           &inter),
                 0);
    root_pem = path_in("root.pem");
    write_chain("root.pem", root.x509, NULL);
    write_chain("www.fullchain.pem", www.x509, inter.x509);
    write_chain("api.fullchain.pem", api.x509, inter.x509);
    write_key("www.key", www.key);
    write_key("api.key", api.key);
}

/* ports[0]: the www and api server blocks, told apart by SNI; ports[1]:
   plain HTTP. */
static void nginx_servers(FILE *f, const char *d, const uint16_t *ports, void *arg)
{
    (void)arg;
    fprintf(f, "    ssl_protocols TLSv1.2 TLSv1.3;\n");
    static const char *const names[] = {"www", "api"};
    for (size_t i = 0; i < 2; i++)
        fprintf(f,
                "    server {\n"
                "        listen 127.0.0.1:%u ssl;\n"
                "        server_name %s.nginx.test;\n"
                "        ssl_certificate %s/%s.fullchain.pem;\n"
                "        ssl_certificate_key %s/%s.key;\n"
                "        location / { return 200 \"%s\\n\"; }\n"
                "    }\n",
                ports[0], names[i], d, names[i], d, names[i], names[i]);
    fprintf(f,
            "    server {\n"
            "        listen 127.0.0.1:%u;\n"
            "        server_name plain.nginx.test;\n"
            "        location / { return 200 \"plain\\n\"; }\n"
            "    }\n",
            ports[1]);
}

static void setup(void)
{
    cr_assert(access(NGINX_BINARY, X_OK) == 0,
              NGINX_BINARY " is not installed: the nginx end-to-end tests need it "
                           "(apt-get install nginx)");
    dir = temp_dir();
    cr_assert_not_null(dir);
    make_pki();
    char err[8192];
    cr_assert_eq(nginx_start(&web, dir, 2, nginx_servers, NULL, err, sizeof err), 0, "%s", err);
    port = web.ports[0];
    http_port = web.ports[1];
}

static void teardown(void)
{
    nginx_stop(&web);
    pki_cert_free(&api);
    pki_cert_free(&www);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    free(root_pem);
    root_pem = NULL;
    remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(nginx, .init = setup, .fini = teardown, .timeout = 120);

/* One certsweep run and the reports it wrote. */
static void scan_run(struct report_scan *s, const char *const *extra)
{
    char *csv = path_in("out.csv"), *json = path_in("out.json");
    char target_www[64], target_api[64], pin_www[64], pin_api[64];
    snprintf(target_www, sizeof(target_www), "www.nginx.test:%u", port);
    snprintf(target_api, sizeof(target_api), "api.nginx.test:%u", port);
    snprintf(pin_www, sizeof(pin_www), "www.nginx.test:%u:127.0.0.1", port);
    snprintf(pin_api, sizeof(pin_api), "api.nginx.test:%u:127.0.0.1", port);
    unlink(csv);
    unlink(json);
    const char *args[32];
    size_t n = 0;
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    const char *fixed[] = {"--resolve", pin_www, "--resolve", pin_api,    "-o",      csv,
                           "-o",        json,    "-q",        target_www, target_api};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        args[n++] = fixed[i];
    args[n] = NULL;
    cr_assert_eq(certsweep(args, &s->run), 0);
    cr_assert_str_eq(s->run.out, "", "-q wrote to standard output");
    char err[8192];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof err), 0, "%s (exit %d); stderr: %s", err,
                 s->run.status, s->run.err);
    free(csv);
    free(json);
}

static size_t row_of(const struct report_scan *s, const char *host)
{
    size_t row = csv_doc_find(&s->csv, "host", host);
    cr_assert(row > 0, "no CSV row for %s:\n%s", host, s->csv_text);
    return row;
}

static const char *cell(const struct report_scan *s, const char *host, const char *column)
{
    const char *v = csv_doc_get(&s->csv, row_of(s, host), column);
    cr_assert_not_null(v, "%s: no %s cell", host, column);
    return v;
}

static json_t *record(const struct report_scan *s, const char *host)
{
    json_t *r = json_find_record(json_object_get(s->json, "results"), host, port);
    cr_assert_not_null(r, "no JSON record for %s:%u", host, port);
    return r;
}

static const char *jstr(const struct report_scan *s, const char *host, const char *key)
{
    json_t *v = json_object_get(record(s, host), key);
    cr_assert(json_is_string(v), "%s: JSON %s is not a string", host, key);
    return json_string_value(v);
}

/* The RSA leaf outlives its intermediate (100.5 days): the reason says so. */
#define API_REASON                                                                                 \
    "expires in 200 days; intermediate \"certsweep e2e Intermediate\" expires first, in 100 days"

/* Every certificate-derived field of one host, in the CSV and in the JSON. */
static void check_host(const struct report_scan *s, const char *host, const struct pki_cert *leaf,
                       const char *status, const char *reason, long days, const char *sans,
                       const char *ocsp, const char *crl, const char *key)
{
    char want[256], sha[65], portstr[8];
    X509 *x = leaf->x509;
    snprintf(portstr, sizeof(portstr), "%u", port);

    cr_assert_str_eq(cell(s, host, "status"), status, "%s: %s (%s)", host, cell(s, host, "status"),
                     cell(s, host, "reason"));
    cr_assert_str_eq(cell(s, host, "reason"), reason, "%s", host);
    cr_assert_str_eq(cell(s, host, "port"), portstr);
    cr_assert_str_eq(cell(s, host, "address"), "127.0.0.1", "%s", host);
    cr_assert_str_eq(cell(s, host, "sni"), host);
    snprintf(want, sizeof(want), "%ld", days);
    cr_assert_str_eq(cell(s, host, "days_remaining"), want, "%s", host);
    pki_iso_time(pki_not_before(x), want);
    cr_assert_str_eq(cell(s, host, "not_before"), want, "%s", host);
    pki_iso_time(pki_not_after(x), want);
    cr_assert_str_eq(cell(s, host, "not_after"), want, "%s", host);
    snprintf(want, sizeof(want), "CN=%s", host);
    cr_assert_str_eq(cell(s, host, "subject"), want, "%s", host);
    cr_assert_str_eq(cell(s, host, "issuer"), "O=certsweep tests,CN=certsweep e2e Intermediate",
                     "%s", host);
    cr_assert(strstr(cell(s, host, "issuer"), "CN=certsweep e2e Intermediate"));
    cr_assert_str_eq(cell(s, host, "sans"), sans, "%s", host);
    cr_assert_str_eq(cell(s, host, "ocsp_uris"), ocsp, "%s", host);
    cr_assert_str_eq(cell(s, host, "crl_uris"), crl, "%s", host);
    pki_serial_hex(x, want, sizeof(want));
    cr_assert_str_eq(cell(s, host, "serial"), want, "%s", host);
    pki_sha256_hex(x, sha);
    cr_assert_str_eq(cell(s, host, "sha256"), sha, "%s", host);
    cr_assert_str_eq(cell(s, host, "key"), key, "%s", host);
    cr_assert_str_eq(cell(s, host, "signature"), "sha256WithRSAEncryption", "%s", host);
    cr_assert_str_eq(cell(s, host, "tls_version"), "TLSv1.3", "%s", host);
    int64_t chain =
        pki_not_after(x) < pki_not_after(inter.x509) ? pki_not_after(x) : pki_not_after(inter.x509);
    pki_iso_time(chain, want);
    cr_assert_str_eq(cell(s, host, "chain_not_after"), want, "%s", host);
    cr_assert_str_eq(cell(s, host, "verify"), "ok", "%s", host);
    cr_assert_str_eq(cell(s, host, "hostname_match"), "true", "%s", host);
    const char *elapsed = cell(s, host, "elapsed_ms");
    char *end;
    long ms = strtol(elapsed, &end, 10);
    /* a record takes no longer than the scan that wrote it, as the document
       dates the scan (whole seconds: one more for the rounding) */
    json_t *scan = json_object_get(s->json, "scan");
    int64_t started, finished;
    cr_assert_eq(cs_parse_time(json_string_value(json_object_get(scan, "started_at")), &started),
                 0);
    cr_assert_eq(cs_parse_time(json_string_value(json_object_get(scan, "finished_at")), &finished),
                 0);
    cr_assert(*elapsed && !*end && ms >= 0 && ms <= (finished - started + 1) * 1000,
              "%s: elapsed_ms %s in a scan of %lld s", host, elapsed,
              (long long)(finished - started));
    cr_assert_str_eq(cell(s, host, "error"), "", "%s", host);
    /* this nginx staples nothing, and no check was asked for */
    cr_assert_str_eq(cell(s, host, "ocsp_stapled"), "false", "%s", host);
    cr_assert_str_eq(cell(s, host, "revocation"), "unchecked", "%s", host);
    static const char *const no_revocation[] = {"revocation_source", "revoked_at",
                                                "revocation_reason", "revocation_this_update",
                                                "revocation_next_update"};
    for (size_t n = 0; n < sizeof(no_revocation) / sizeof(no_revocation[0]); n++)
        cr_assert_str_eq(cell(s, host, no_revocation[n]), "", "%s: %s", host, no_revocation[n]);
    /* nginx signed this handshake with the leaf's key */
    cr_assert_str_eq(cell(s, host, "key_proven"), "true", "%s", host);
    cr_assert_str_eq(cell(s, host, "protocol"), "tls", "%s", host);

    /* the JSON record: same values, typed */
    json_t *r = record(s, host);
    char err[512];
    cr_assert_eq(check_record_layout(&s->csv, s->json, err, sizeof err), 0, "%s: %s", host, err);
    cr_assert_eq(json_integer_value(json_object_get(r, "port")), port);
    cr_assert(json_is_integer(json_object_get(r, "days_remaining")));
    cr_assert_eq(json_integer_value(json_object_get(r, "days_remaining")), days, "%s", host);
    cr_assert(json_is_true(json_object_get(r, "hostname_match")), "%s", host);
    cr_assert(json_is_integer(json_object_get(r, "elapsed_ms")), "%s", host);
    cr_assert(json_is_false(json_object_get(r, "ocsp_stapled")), "%s", host);
    for (size_t n = 0; n < sizeof(no_revocation) / sizeof(no_revocation[0]); n++)
        cr_assert(json_is_null(json_object_get(r, no_revocation[n])), "%s: %s", host,
                  no_revocation[n]);
    static const char *const strings[] = {
        "address", "sni",    "status",      "reason",          "not_before", "not_after",
        "subject", "issuer", "serial",      "sha256",          "key",        "signature",
        "verify",  "error",  "tls_version", "chain_not_after", "revocation",
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        cr_assert_str_eq(jstr(s, host, strings[i]), cell(s, host, strings[i]), "%s: %s", host,
                         strings[i]);
    static const char *const lists[] = {"sans", "ocsp_uris", "crl_uris"};
    for (size_t i = 0; i < 3; i++) {
        json_t *a = json_object_get(r, lists[i]);
        cr_assert(json_is_array(a), "%s: JSON %s is not an array", host, lists[i]);
        char joined[512] = "";
        size_t j;
        json_t *e;
        json_array_foreach(a, j, e)
        {
            cr_assert(json_is_string(e));
            if (j)
                strcat(joined, " ");
            strcat(joined, json_string_value(e));
        }
        cr_assert_str_eq(joined, cell(s, host, lists[i]), "%s: %s", host, lists[i]);
    }
}

static void check_summary(const struct report_scan *s, long ok, long warning, long critical)
{
    json_t *sum = json_object_get(s->json, "summary");
    cr_assert(json_is_object(sum));
    cr_assert_eq(json_integer_value(json_object_get(sum, "OK")), ok);
    cr_assert_eq(json_integer_value(json_object_get(sum, "WARNING")), warning);
    cr_assert_eq(json_integer_value(json_object_get(sum, "CRITICAL")), critical);
    cr_assert_eq(json_integer_value(json_object_get(sum, "EXPIRED")), 0);
    cr_assert_eq(json_integer_value(json_object_get(sum, "ERROR")), 0);
    cr_assert(json_is_true(json_object_get(s->json, "complete")));
    cr_assert_eq(json_array_size(json_object_get(s->json, "results")), 2);
    cr_assert_eq(s->csv.nrows, 3, "%zu CSV rows:\n%s", s->csv.nrows, s->csv_text);
}

Test(nginx, two_sni_servers_every_field)
{
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ca-file", root_pem, NULL});
    cr_assert_eq(s.run.status, 1, "exit %d, want 1 (worst is WARNING); stderr: %s\n%s",
                 s.run.status, s.run.err, s.csv_text);

    /* the header row and each record's keys are the README's record fields, in order */
    char err[512];
    cr_assert_eq(check_record_layout(&s.csv, s.json, err, sizeof err), 0, "%s", err);

    check_host(&s, "www.nginx.test", &www, "WARNING", "expires in 20 days", 20,
               "www.nginx.test 127.0.0.1", "http://ocsp.nginx.test/www",
               "http://crl.nginx.test/intermediate.crl", "EC-256");
    check_host(&s, "api.nginx.test", &api, "OK", API_REASON, 200, "api.nginx.test", "", "",
               "RSA-2048");
    /* SNI picked a different certificate on the same port */
    cr_assert_str_neq(cell(&s, "www.nginx.test", "sha256"), cell(&s, "api.nginx.test", "sha256"));
    /* the RSA leaf outlives its intermediate: the chain ends first */
    char want[24];
    pki_iso_time(pki_not_after(inter.x509), want);
    cr_assert_str_eq(cell(&s, "api.nginx.test", "chain_not_after"), want);
    pki_iso_time(pki_not_after(www.x509), want);
    cr_assert_str_eq(cell(&s, "www.nginx.test", "chain_not_after"), want);
    check_summary(&s, 1, 1, 0);

    json_t *scan = json_object_get(s.json, "scan");
    cr_assert(json_is_object(scan));
    cr_assert_str_eq(json_string_value(json_object_get(scan, "tool")), "certsweep");
    cr_assert_eq(json_integer_value(json_object_get(scan, "targets")), 2);
    static const char *const stamps[] = {"started_at", "finished_at", "now"};
    for (size_t i = 0; i < 3; i++) {
        const char *t = json_string_value(json_object_get(scan, stamps[i]));
        struct tm tm;
        cr_assert(t && strlen(t) == 20 && strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm), "scan.%s: %s",
                  stamps[i], t ? t : "(not a string)");
    }
    json_t *thresholds = json_object_get(scan, "thresholds");
    cr_assert(json_is_null(json_object_get(thresholds, "warn_days")), "default warn_days");
    report_scan_free(&s);
}

Test(nginx, fail_on_critical_exits_zero)
{
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ca-file", root_pem, "--fail-on", "critical", NULL});
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    /* the statuses themselves do not change */
    cr_assert_str_eq(cell(&s, "www.nginx.test", "status"), "WARNING");
    cr_assert_str_eq(cell(&s, "api.nginx.test", "status"), "OK");
    check_summary(&s, 1, 1, 0);
    report_scan_free(&s);
}

Test(nginx, warn_days_10_makes_20_days_ok)
{
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ca-file", root_pem, "-w", "10", NULL});
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    check_host(&s, "www.nginx.test", &www, "OK", "expires in 20 days", 20,
               "www.nginx.test 127.0.0.1", "http://ocsp.nginx.test/www",
               "http://crl.nginx.test/intermediate.crl", "EC-256");
    check_host(&s, "api.nginx.test", &api, "OK", API_REASON, 200, "api.nginx.test", "", "",
               "RSA-2048");
    check_summary(&s, 2, 0, 0);
    json_t *thresholds = json_object_get(json_object_get(s.json, "scan"), "thresholds");
    cr_assert_eq(json_integer_value(json_object_get(thresholds, "warn_days")), 10);
    report_scan_free(&s);
}

Test(nginx, system_store_does_not_trust_the_test_root)
{
    struct report_scan s;
    scan_run(&s, NULL);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    static const char *const hosts[] = {"www.nginx.test", "api.nginx.test"};
    for (size_t i = 0; i < 2; i++) {
        cr_assert_str_eq(cell(&s, hosts[i], "status"), "CRITICAL", "%s", hosts[i]);
        cr_assert_str_eq(cell(&s, hosts[i], "reason"),
                         "untrusted: unable to get local issuer certificate", "%s", hosts[i]);
        cr_assert_str_eq(cell(&s, hosts[i], "verify"), "unable to get local issuer certificate");
        cr_assert_str_eq(cell(&s, hosts[i], "hostname_match"), "true");
    }
    /* without the trusted path, the chain is what the server sent */
    char want[24];
    pki_iso_time(pki_not_after(inter.x509), want);
    cr_assert_str_eq(cell(&s, "api.nginx.test", "chain_not_after"), want);
    check_summary(&s, 0, 0, 2);
    report_scan_free(&s);

    /* --no-verify: the same failures no longer change the status */
    scan_run(&s, (const char *const[]){"--no-verify", NULL});
    cr_assert_eq(s.run.status, 1, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    cr_assert_str_eq(cell(&s, "www.nginx.test", "status"), "WARNING");
    cr_assert_str_eq(cell(&s, "api.nginx.test", "status"), "OK");
    cr_assert_str_eq(cell(&s, "api.nginx.test", "verify"),
                     "unable to get local issuer certificate");
    report_scan_free(&s);
}

Test(nginx, ip_literal_target_sends_no_sni)
{
    char target[32], portstr[8];
    snprintf(target, sizeof(target), "127.0.0.1:%u", port);
    snprintf(portstr, sizeof(portstr), "%u", port);
    struct run_result r;
    char *csv = path_in("ip.csv");
    const char *args[] = {"--ca-file", root_pem, "-o", csv, "-q", target, NULL};
    cr_assert_eq(certsweep(args, &r), 0);
    size_t len;
    char *text = slurp(csv, &len);
    cr_assert_not_null(text, "no CSV report (exit %d); stderr: %s", r.status, r.err);
    cr_assert_eq(r.status, 1, "exit %d; stderr: %s\n%s", r.status, r.err, text);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(text, len, &d), 0);
    cr_assert_eq(d.nrows, 2);
    cr_assert_str_eq(csv_doc_get(&d, 1, "host"), "127.0.0.1");
    cr_assert_str_eq(csv_doc_get(&d, 1, "port"), portstr);
    cr_assert_str_eq(csv_doc_get(&d, 1, "sni"), "");
    cr_assert_str_eq(csv_doc_get(&d, 1, "address"), "127.0.0.1");
    /* nginx's default server (the first block) answers; its IP SAN matches */
    char sha[65];
    pki_sha256_hex(www.x509, sha);
    cr_assert_str_eq(csv_doc_get(&d, 1, "sha256"), sha);
    cr_assert_str_eq(csv_doc_get(&d, 1, "hostname_match"), "true");
    cr_assert_str_eq(csv_doc_get(&d, 1, "verify"), "ok");
    cr_assert_str_eq(csv_doc_get(&d, 1, "status"), "WARNING", "%s", csv_doc_get(&d, 1, "reason"));
    csv_doc_free(&d);
    free(text);
    free(csv);
    run_result_free(&r);
}

Test(nginx, plain_http_port_is_an_error)
{
    char target[64], pin[64];
    snprintf(target, sizeof(target), "plain.nginx.test:%u", http_port);
    snprintf(pin, sizeof(pin), "plain.nginx.test:%u:127.0.0.1", http_port);
    struct run_result r;
    const char *args[] = {"--ca-file", root_pem, "--resolve", pin, "-F", "csv", target, NULL};
    cr_assert_eq(certsweep(args, &r), 0);
    cr_assert_eq(r.status, 3, "exit %d; stderr: %s", r.status, r.err);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &d), 0, "%s", r.out);
    cr_assert_eq(d.nrows, 2, "%s", r.out);
    cr_assert_str_eq(csv_doc_get(&d, 1, "status"), "ERROR");
    cr_assert_str_eq(csv_doc_get(&d, 1, "reason"),
                     "handshake: not TLS (peer sent \"HTTP/1.1 400 Bad Request\")");
    cr_assert_str_eq(csv_doc_get(&d, 1, "error"), csv_doc_get(&d, 1, "reason"));
    cr_assert_str_eq(csv_doc_get(&d, 1, "address"), "127.0.0.1");
    cr_assert_str_eq(csv_doc_get(&d, 1, "days_remaining"), "");
    cr_assert_str_eq(csv_doc_get(&d, 1, "not_after"), "");
    cr_assert_str_eq(csv_doc_get(&d, 1, "sha256"), "");
    csv_doc_free(&d);
    run_result_free(&r);
}
