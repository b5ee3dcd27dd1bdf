/* Verdicts as clients reach them, end to end: the certsweep binary scans
 * test fleet endpoints serving certificates made for the purpose (a CN with
 * no DNS name, a partial wildcard, SHA-1 and MD5 signatures, a SHA-1 signed
 * intermediate, RSA-1024 and RSA-512 keys, a leaf for TLS clients only), and
 * the CSV and JSON it wrote are compared with what the test PKI put in. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

#define D 86400

/* The endpoints, one fleet endpoint each. */
enum {
    E_GOOD,
    E_CN_ONLY,     /* CN names the host, no subjectAltName */
    E_PARTIAL,     /* DNS:w*.verdicts.test */
    E_WILDCARD,    /* DNS:*.wild.verdicts.test */
    E_CN_IP,       /* CN=127.0.0.1, a DNS SAN only */
    E_IP_SAN,      /* IP:127.0.0.1 */
    E_SHA1_LEAF,   /* the leaf signed with SHA-1 */
    E_MD5_LEAF,    /* ... with MD5 */
    E_SHA1_INTER,  /* the intermediate signed with SHA-1 */
    E_RSA1024,     /* an RSA-1024 leaf key */
    E_RSA512,      /* an RSA-512 leaf key (TLS 1.2: no RSA-PSS with it) */
    E_WEAK_INTER,  /* an RSA-1024 intermediate */
    E_CLIENT_ONLY, /* extendedKeyUsage clientAuth only */
    N_E,
};

static const char *const names[N_E] = {
    "good",     "cn-only",    "partial", "wildcard", "cn-ip",      "ip-san",      "sha1-leaf",
    "md5-leaf", "sha1-inter", "rsa1024", "rsa512",   "weak-inter", "client-only",
};

static struct fleet *fleet;
static char *dir;
static int64_t now;
static struct pki_cert root, inter, inter_sha1, inter_1024, leafs[N_E];
static char *ca_file;

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static void issue(struct pki_cert *out, struct pki_spec spec, const struct pki_cert *issuer)
{
    spec.not_before = now - 10 * D;
    spec.not_after = now + 200 * D;
    if (pki_issue(out, &spec, issuer) != 0) {
        char why[256];
        ERR_error_string_n(ERR_get_error(), why, sizeof(why));
        cr_assert_fail("pki_issue %s: %s", spec.subject[1], why);
    }
}

#define SUBJECT(...) ((const char *const[]){"CN", __VA_ARGS__, "O", "certsweep verdicts", NULL})
#define SANS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The test PKI: the root (DIR/ca.pem), the intermediates and one leaf per
   endpoint, issuers[e] being leaf e's issuer. */
static const struct pki_cert *issuers[N_E];

static void make_pki(void)
{
    now = (int64_t)time(NULL);
    dir = temp_dir();
    cr_assert_not_null(dir);
    issue(&root,
          (struct pki_spec){
              .subject = SUBJECT("certsweep Verdicts Root"), .key = PKI_RSA2048, .ca = true},
          NULL);
    issue(&inter,
          (struct pki_spec){.subject = SUBJECT("certsweep Verdicts Intermediate"),
                            .key = PKI_RSA2048,
                            .ca = true},
          &root);
    issue(&inter_sha1,
          (struct pki_spec){.subject = SUBJECT("certsweep SHA-1 Intermediate"),
                            .key = PKI_RSA2048,
                            .ca = true,
                            .digest = "SHA1"},
          &root);
    issue(&inter_1024,
          (struct pki_spec){.subject = SUBJECT("certsweep RSA-1024 Intermediate"),
                            .key = PKI_RSA1024,
                            .ca = true},
          &root);

    const struct pki_cert **issuer = issuers;
    struct pki_spec spec[N_E];
    for (size_t i = 0; i < N_E; i++) {
        issuer[i] = &inter;
        spec[i] = (struct pki_spec){.key = PKI_RSA2048};
    }
    spec[E_GOOD].sans = SANS("DNS:good.verdicts.test");
    spec[E_CN_ONLY].subject = SUBJECT("cn-only.verdicts.test");
    spec[E_PARTIAL].sans = SANS("DNS:w*.verdicts.test");
    spec[E_WILDCARD].sans = SANS("DNS:*.wild.verdicts.test");
    spec[E_CN_IP].subject = SUBJECT("127.0.0.1");
    spec[E_CN_IP].sans = SANS("DNS:cn-ip.verdicts.test");
    spec[E_IP_SAN].sans = SANS("IP:127.0.0.1");
    spec[E_SHA1_LEAF].digest = "SHA1";
    spec[E_MD5_LEAF].digest = "MD5";
    issuer[E_SHA1_INTER] = &inter_sha1;
    spec[E_RSA1024].key = PKI_RSA1024;
    spec[E_RSA512].key = PKI_RSA512;
    issuer[E_WEAK_INTER] = &inter_1024;
    spec[E_CLIENT_ONLY].client_auth = true;

    static char sans[N_E][64];
    static const char *san_lists[N_E][2];
    static const char *subjects[N_E][3];
    for (size_t i = 0; i < N_E; i++) {
        if (spec[i].subject == NULL) {
            subjects[i][0] = "CN";
            subjects[i][1] = names[i];
            subjects[i][2] = NULL;
            spec[i].subject = subjects[i];
        }
        if (spec[i].sans == NULL && i != E_CN_ONLY) {
            snprintf(sans[i], sizeof(sans[i]), "DNS:%s.verdicts.test", names[i]);
            san_lists[i][0] = sans[i];
            spec[i].sans = san_lists[i];
        }
        issue(&leafs[i], spec[i], issuer[i]);
    }
    ca_file = path_in("ca.pem");
    cr_assert_eq(pki_write_pem(ca_file, &root.x509, 1), 0);
}

static void free_pki(void)
{
    for (size_t i = 0; i < N_E; i++)
        pki_cert_free(&leafs[i]);
    pki_cert_free(&inter_1024);
    pki_cert_free(&inter_sha1);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    free(ca_file);
    remove_tree(dir);
    free(dir);
}

/* One fleet endpoint per leaf, each with its issuer as chain. */
static void setup(void)
{
    make_pki();
    struct fleet_custom custom[N_E];
    for (size_t i = 0; i < N_E; i++)
        custom[i] = (struct fleet_custom){
            .name = names[i],
            .leaf = &leafs[i],
            .chain = &issuers[i]->x509,
            .chain_len = 1,
            .tls_max = i == E_RSA512 ? TLS1_2_VERSION : 0,
        };
    fleet = fleet_start(&(struct fleet_options){.custom = custom, .n_custom = N_E});
    cr_assert_not_null(fleet, "the test fleet did not start");
}

static void teardown(void)
{
    fleet_stop(fleet);
    free_pki();
}

TestSuite(verdicts, .init = setup, .fini = teardown, .timeout = 120);

static unsigned port_of(size_t e)
{
    uint16_t p = fleet_custom_port(fleet, e, 0);
    cr_assert(p != 0);
    return p;
}

/* What each endpoint is scanned as: E's host (NAME.verdicts.test), plus
   the extra targets below. */
struct extra {
    size_t e;
    const char *host;
};

static const struct extra extras[] = {
    {E_PARTIAL, "www.verdicts.test"},     /* what w*.verdicts.test must not match */
    {E_WILDCARD, "a.wild.verdicts.test"}, /* one label: matches */
    {E_WILDCARD, "a.b.wild.verdicts.test"},
    {E_WILDCARD, "wild.verdicts.test"},
    {E_CN_IP, "127.0.0.1"},
    {E_IP_SAN, "127.0.0.1"},
};

/* certsweep over every endpoint, with the fleet's own root as trust anchor,
   every name pinned to 127.0.0.1, and more arguments (NULL-terminated). */
static void scan(struct report_scan *s, const char *const *more)
{
    char *csv = path_in("out.csv"), *json = path_in("out.json"), *targets = path_in("targets");
    FILE *f = fopen(targets, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < N_E; i++)
        fprintf(f, "%s.verdicts.test:%u\n", names[i], port_of(i));
    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++)
        fprintf(f, "%s:%u\n", extras[i].host, port_of(extras[i].e));
    fclose(f);
    char when[24];
    pki_iso_time(now, when);
    const char *args[32] = {"-f",    targets, "--ca-file", ca_file,
                            "--now", when,    "--resolve", "*.verdicts.test:*:127.0.0.1",
                            "-o",    csv,     "-o",        json,
                            "-q"};
    size_t n = 13;
    for (size_t i = 0; more != NULL && more[i] != NULL; i++)
        args[n++] = more[i];
    args[n] = NULL;
    cr_assert_eq(run_certsweep(args, NULL, &s->run), 0);
    char err[8192];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof(err)), 0, "%s (exit %d); stderr: %s", err,
                 s->run.status, s->run.err);
    free(csv);
    free(json);
    free(targets);
}

/* The CSV cell of the record for host:port. */
static const char *cell(const struct report_scan *s, const char *host, unsigned port,
                        const char *column)
{
    char p[8];
    snprintf(p, sizeof(p), "%u", port);
    for (size_t row = 1; row < s->csv.nrows; row++)
        if (strcmp(csv_doc_get(&s->csv, row, "host"), host) == 0 &&
            strcmp(csv_doc_get(&s->csv, row, "port"), p) == 0) {
            const char *v = csv_doc_get(&s->csv, row, column);
            cr_assert_not_null(v, "%s:%u: no %s cell", host, port, column);
            return v;
        }
    cr_assert_fail("no CSV row for %s:%u:\n%s", host, port, s->csv_text);
    return NULL;
}

static json_t *record(const struct report_scan *s, const char *host, unsigned port)
{
    json_t *r = json_find_record(json_object_get(s->json, "results"), host, port);
    cr_assert_not_null(r, "no JSON record for %s:%u", host, port);
    return r;
}

/* host:port has this status and reason, verify and hostname_match, in the
   CSV and in the JSON alike (match: "true" or "false"). */
static void expect_at(const struct report_scan *s, const char *host, unsigned port,
                      const char *status, const char *reason, const char *verify, const char *match)
{
    cr_assert_str_eq(cell(s, host, port, "status"), status, "%s: %s (%s)", host,
                     cell(s, host, port, "status"), cell(s, host, port, "reason"));
    if (reason != NULL)
        cr_assert_str_eq(cell(s, host, port, "reason"), reason, "%s: %s", host,
                         cell(s, host, port, "reason"));
    cr_assert_str_eq(cell(s, host, port, "verify"), verify, "%s: %s", host,
                     cell(s, host, port, "verify"));
    cr_assert_str_eq(cell(s, host, port, "hostname_match"), match, "%s", host);
    json_t *r = record(s, host, port);
    cr_assert_str_eq(json_string_value(json_object_get(r, "status")), status, "%s", host);
    cr_assert_str_eq(json_string_value(json_object_get(r, "reason")), cell(s, host, port, "reason"),
                     "%s", host);
    cr_assert_str_eq(json_string_value(json_object_get(r, "verify")), verify, "%s", host);
    cr_assert(json_is_boolean(json_object_get(r, "hostname_match")), "%s", host);
    cr_assert_eq(json_is_true(json_object_get(r, "hostname_match")), strcmp(match, "true") == 0,
                 "%s", host);
}

static void expect(const struct report_scan *s, size_t e, const char *status, const char *reason,
                   const char *verify, const char *match)
{
    char host[64];
    snprintf(host, sizeof(host), "%s.verdicts.test", names[e]);
    expect_at(s, host, port_of(e), status, reason, verify, match);
}

static const char *field_of(const struct report_scan *s, size_t e, const char *column)
{
    char host[64];
    snprintf(host, sizeof(host), "%s.verdicts.test", names[e]);
    return cell(s, host, port_of(e), column);
}

/* The leaf's signature algorithm and key as the test PKI made them. */
static void expect_leaf(const struct report_scan *s, size_t e, const char *signature,
                        const char *key)
{
    char sha[65];
    pki_sha256_hex(leafs[e].x509, sha);
    cr_assert_str_eq(field_of(s, e, "sha256"), sha, "%s", names[e]);
    cr_assert_str_eq(field_of(s, e, "signature"), signature, "%s", names[e]);
    cr_assert_str_eq(field_of(s, e, "key"), key, "%s", names[e]);
}

Test(verdicts, names_as_browsers_check_them)
{
    struct report_scan s;
    scan(&s, NULL);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    expect(&s, E_GOOD, "OK", "expires in 200 days", "ok", "true");
    /* the CN names the host, but a CN is never looked at */
    expect(&s, E_CN_ONLY, "CRITICAL", "hostname mismatch: certificate has no DNS names", "ok",
           "false");
    cr_assert_str_eq(field_of(&s, E_CN_ONLY, "sans"), "");
    cr_assert_str_eq(field_of(&s, E_CN_ONLY, "subject"),
                     "O=certsweep verdicts,CN=cn-only.verdicts.test");
    /* w*.verdicts.test: a partial wildcard matches nothing, itself included */
    unsigned p = port_of(E_PARTIAL);
    expect_at(&s, "www.verdicts.test", p, "CRITICAL",
              "hostname mismatch: www.verdicts.test not in the certificate's names", "ok", "false");
    expect(&s, E_PARTIAL, "CRITICAL",
           "hostname mismatch: partial.verdicts.test not in the certificate's names", "ok",
           "false");
    cr_assert_str_eq(field_of(&s, E_PARTIAL, "sans"), "w*.verdicts.test");
    /* *.wild.verdicts.test: exactly one whole leftmost label */
    p = port_of(E_WILDCARD);
    expect_at(&s, "a.wild.verdicts.test", p, "OK", "expires in 200 days", "ok", "true");
    expect_at(&s, "a.b.wild.verdicts.test", p, "CRITICAL",
              "hostname mismatch: a.b.wild.verdicts.test not in the certificate's names", "ok",
              "false");
    expect_at(&s, "wild.verdicts.test", p, "CRITICAL",
              "hostname mismatch: wild.verdicts.test not in the certificate's names", "ok",
              "false");
    /* an IP literal: the IP subjectAltNames only, never a CN that spells it */
    expect_at(&s, "127.0.0.1", port_of(E_CN_IP), "CRITICAL",
              "hostname mismatch: 127.0.0.1 not in the certificate's names", "ok", "false");
    expect(&s, E_CN_IP, "OK", "expires in 200 days", "ok", "true");
    expect_at(&s, "127.0.0.1", port_of(E_IP_SAN), "OK", "expires in 200 days", "ok", "true");
    cr_assert_str_eq(cell(&s, "127.0.0.1", port_of(E_IP_SAN), "sni"), "");
    cr_assert_str_eq(cell(&s, "127.0.0.1", port_of(E_IP_SAN), "sans"), "127.0.0.1");
    report_scan_free(&s);
}

Test(verdicts, chains_judged_at_level_2)
{
    struct report_scan s;
    scan(&s, NULL);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    expect(&s, E_GOOD, "OK", "expires in 200 days", "ok", "true");
    expect_leaf(&s, E_GOOD, "sha256WithRSAEncryption", "RSA-2048");
    expect(&s, E_SHA1_LEAF, "CRITICAL", "untrusted: leaf signed with sha1WithRSAEncryption",
           "leaf signed with sha1WithRSAEncryption", "true");
    expect_leaf(&s, E_SHA1_LEAF, "sha1WithRSAEncryption", "RSA-2048");
    expect(&s, E_MD5_LEAF, "CRITICAL", "untrusted: leaf signed with md5WithRSAEncryption",
           "leaf signed with md5WithRSAEncryption", "true");
    expect_leaf(&s, E_MD5_LEAF, "md5WithRSAEncryption", "RSA-2048");
    expect(&s, E_SHA1_INTER, "CRITICAL",
           "untrusted: intermediate \"certsweep SHA-1 Intermediate\" signed with "
           "sha1WithRSAEncryption",
           "intermediate \"certsweep SHA-1 Intermediate\" signed with sha1WithRSAEncryption",
           "true");
    expect_leaf(&s, E_SHA1_INTER, "sha256WithRSAEncryption", "RSA-2048");
    expect(&s, E_RSA1024, "CRITICAL", "untrusted: leaf key RSA-1024 too weak",
           "leaf key RSA-1024 too weak", "true");
    expect_leaf(&s, E_RSA1024, "sha256WithRSAEncryption", "RSA-1024");
    expect(&s, E_RSA512, "CRITICAL", "untrusted: leaf key RSA-512 too weak",
           "leaf key RSA-512 too weak", "true");
    expect_leaf(&s, E_RSA512, "sha256WithRSAEncryption", "RSA-512");
    cr_assert_str_eq(field_of(&s, E_RSA512, "tls_version"), "TLSv1.2");
    expect(&s, E_WEAK_INTER, "CRITICAL",
           "untrusted: intermediate \"certsweep RSA-1024 Intermediate\" key RSA-1024 too weak",
           "intermediate \"certsweep RSA-1024 Intermediate\" key RSA-1024 too weak", "true");
    /* a leaf for TLS clients only is not a server certificate */
    expect(&s, E_CLIENT_ONLY, "CRITICAL", "untrusted: leaf not for TLS servers",
           "leaf not for TLS servers", "true");
    report_scan_free(&s);
}

/* Level 0: what the old internal PKI has is accepted again; the purpose and
   the names are still checked. */
Test(verdicts, verify_level_0)
{
    struct report_scan s;
    scan(&s, (const char *const[]){"--verify-level", "0", NULL});
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    static const size_t weak[] = {E_SHA1_LEAF, E_MD5_LEAF, E_SHA1_INTER,
                                  E_RSA1024,   E_RSA512,   E_WEAK_INTER};
    for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
        expect(&s, weak[i], "OK", "expires in 200 days", "ok", "true");
    expect(&s, E_CLIENT_ONLY, "CRITICAL", "untrusted: leaf not for TLS servers",
           "leaf not for TLS servers", "true");
    expect(&s, E_CN_ONLY, "CRITICAL", "hostname mismatch: certificate has no DNS names", "ok",
           "false");
    expect_at(&s, "www.verdicts.test", port_of(E_PARTIAL), "CRITICAL",
              "hostname mismatch: www.verdicts.test not in the certificate's names", "ok", "false");
    report_scan_free(&s);
}

/* Level 1 (80 bits): RSA-1024 passes; SHA-1, MD5 and RSA-512 do not. */
Test(verdicts, verify_level_1)
{
    struct report_scan s;
    scan(&s, (const char *const[]){"--verify-level", "1", NULL});
    expect(&s, E_RSA1024, "OK", "expires in 200 days", "ok", "true");
    expect(&s, E_WEAK_INTER, "OK", "expires in 200 days", "ok", "true");
    expect(&s, E_RSA512, "CRITICAL", "untrusted: leaf key RSA-512 too weak",
           "leaf key RSA-512 too weak", "true");
    expect(&s, E_SHA1_LEAF, "CRITICAL", "untrusted: leaf signed with sha1WithRSAEncryption",
           "leaf signed with sha1WithRSAEncryption", "true");
    expect(&s, E_MD5_LEAF, "CRITICAL", "untrusted: leaf signed with md5WithRSAEncryption",
           "leaf signed with md5WithRSAEncryption", "true");
    report_scan_free(&s);
}

/* Level 3 (128 bits): RSA-2048 is too weak, the leaf's first. */
Test(verdicts, verify_level_3)
{
    struct report_scan s;
    scan(&s, (const char *const[]){"--verify-level", "3", NULL});
    expect(&s, E_GOOD, "CRITICAL", "untrusted: leaf key RSA-2048 too weak",
           "leaf key RSA-2048 too weak", "true");
    report_scan_free(&s);
}

/* The text table shows these reasons as it shows any other. */
Test(verdicts, text_table)
{
    char good[64], cn_only[64], rsa1024[64], sha1[64], when[24];
    snprintf(good, sizeof(good), "good.verdicts.test:%u", port_of(E_GOOD));
    snprintf(cn_only, sizeof(cn_only), "cn-only.verdicts.test:%u", port_of(E_CN_ONLY));
    snprintf(rsa1024, sizeof(rsa1024), "rsa1024.verdicts.test:%u", port_of(E_RSA1024));
    snprintf(sha1, sizeof(sha1), "sha1-leaf.verdicts.test:%u", port_of(E_SHA1_LEAF));
    pki_iso_time(now, when);
    struct run_result r;
    const char *args[] = {
        "--ca-file", ca_file, "--now", when, "--resolve", "*.verdicts.test:*:127.0.0.1",
        "--wide", /* whole cells: the reasons are compared in full */
        good,        cn_only, rsa1024, sha1, NULL};
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 2, "exit %d; stderr: %s", r.status, r.err);
    const char *lines[] = {"hostname mismatch: certificate has no DNS names",
                           "untrusted: leaf key RSA-1024 too weak",
                           "untrusted: leaf signed with sha1WithRSAEncryption"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        const char *line = strstr(r.out, lines[i]);
        cr_assert_not_null(line, "no \"%s\" in:\n%s", lines[i], r.out);
        while (line > r.out && line[-1] != '\n')
            line--;
        cr_assert(strncmp(line, "CRITICAL", 8) == 0, "%.*s", (int)strcspn(line, "\n"), line);
    }
    run_result_free(&r);
}

TestSuite(verify_level_option);

/* A level out of 0..5 is a usage error: one line naming the option. */
Test(verify_level_option, bad_values)
{
    static const char *const bad[] = {"6", "-1", "two", "", "2.5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct run_result r;
        const char *args[] = {"--verify-level", bad[i], "127.0.0.1:1", NULL};
        cr_assert_eq(run_certsweep(args, NULL, &r), 0);
        cr_assert_eq(r.status, 64, "'%s': exit %d", bad[i], r.status);
        cr_assert_str_eq(r.out, "");
        cr_assert(strncmp(r.err, "certsweep: --verify-level: ", 27) == 0, "%s", r.err);
        cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
        run_result_free(&r);
    }
    struct run_result r;
    cr_assert_eq(run_certsweep((const char *const[]){"--help", NULL}, NULL, &r), 0);
    cr_assert_eq(r.status, 0);
    cr_assert_not_null(strstr(r.out, "--verify-level N"), "%s", r.out);
    run_result_free(&r);
}

/* ---- the same certificates served by nginx ---- */

static struct nginx web;
static const size_t nginx_sites[] = {E_CN_ONLY, E_PARTIAL, E_SHA1_INTER, E_RSA1024};
#define N_SITES (sizeof(nginx_sites) / sizeof(nginx_sites[0]))

/* Site i on ports[i], serving its leaf and issuer. */
static void nginx_servers(FILE *f, const char *d, const uint16_t *ports, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_SITES; i++)
        fprintf(f,
                "    server {\n"
                "        listen 127.0.0.1:%u ssl;\n"
                "        ssl_certificate %s/%s.fullchain.pem;\n"
                "        ssl_certificate_key %s/%s.key;\n"
                "        location / { return 200 \"%s\\n\"; }\n"
                "    }\n",
                ports[i], d, names[nginx_sites[i]], d, names[nginx_sites[i]],
                names[nginx_sites[i]]);
}

static void nginx_setup(void)
{
    cr_assert(access(NGINX_BINARY, X_OK) == 0,
              NGINX_BINARY " is not installed: the nginx end-to-end tests need it "
                           "(apt-get install nginx)");
    make_pki();
    for (size_t i = 0; i < N_SITES; i++) {
        size_t e = nginx_sites[i];
        char name[64];
        snprintf(name, sizeof(name), "%s.fullchain.pem", names[e]);
        char *p = path_in(name);
        X509 *chain[] = {leafs[e].x509, issuers[e]->x509};
        cr_assert_eq(pki_write_pem(p, chain, 2), 0);
        free(p);
        snprintf(name, sizeof(name), "%s.key", names[e]);
        p = path_in(name);
        cr_assert_eq(pki_write_key(p, leafs[e].key), 0);
        free(p);
    }
    /* nginx loads its certificates at the security level of OpenSSL's
       configuration, which refuses a SHA-1 intermediate and an RSA-1024 key:
       level 0 for nginx only, as an old server would have */
    char *conf = path_in("openssl.cnf");
    cr_assert_eq(spit(conf, "openssl_conf = init\n"
                            "[init]\n"
                            "ssl_conf = ssl\n"
                            "[ssl]\n"
                            "system_default = level0\n"
                            "[level0]\n"
                            "CipherString = DEFAULT:@SECLEVEL=0\n"),
                 0);
    setenv("OPENSSL_CONF", conf, 1);
    char err[8192];
    int rc = nginx_start(&web, dir, N_SITES, nginx_servers, NULL, err, sizeof(err));
    unsetenv("OPENSSL_CONF");
    free(conf);
    cr_assert_eq(rc, 0, "%s", err);
}

static void nginx_teardown(void)
{
    nginx_stop(&web);
    free_pki();
}

TestSuite(verdicts_nginx, .init = nginx_setup, .fini = nginx_teardown, .timeout = 120);

/* certsweep over the nginx sites (scanned as their names, and the partial
   wildcard's site as www.verdicts.test) with more arguments. */
static void scan_nginx(struct report_scan *s, const char *const *more)
{
    char *csv = path_in("out.csv"), *json = path_in("out.json"), when[24];
    char targets[N_SITES][64];
    pki_iso_time(now, when);
    const char *args[32] = {
        "--ca-file", ca_file, "--now", when, "--resolve", "*.verdicts.test:*:127.0.0.1",
        "-o",        csv,     "-o",    json, "-q"};
    size_t n = 11;
    for (size_t i = 0; i < N_SITES; i++) {
        size_t e = nginx_sites[i];
        snprintf(targets[i], sizeof(targets[i]), "%s.verdicts.test:%u",
                 e == E_PARTIAL ? "www" : names[e], web.ports[i]);
        args[n++] = targets[i];
    }
    for (size_t i = 0; more != NULL && more[i] != NULL; i++)
        args[n++] = more[i];
    args[n] = NULL;
    cr_assert_eq(run_certsweep(args, NULL, &s->run), 0);
    char err[8192];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof(err)), 0, "%s (exit %d); stderr: %s", err,
                 s->run.status, s->run.err);
    free(csv);
    free(json);
}

Test(verdicts_nginx, judged_as_clients_judge)
{
    struct report_scan s;
    scan_nginx(&s, NULL);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    expect_at(&s, "cn-only.verdicts.test", web.ports[0], "CRITICAL",
              "hostname mismatch: certificate has no DNS names", "ok", "false");
    expect_at(&s, "www.verdicts.test", web.ports[1], "CRITICAL",
              "hostname mismatch: www.verdicts.test not in the certificate's names", "ok", "false");
    expect_at(&s, "sha1-inter.verdicts.test", web.ports[2], "CRITICAL",
              "untrusted: intermediate \"certsweep SHA-1 Intermediate\" signed with "
              "sha1WithRSAEncryption",
              "intermediate \"certsweep SHA-1 Intermediate\" signed with sha1WithRSAEncryption",
              "true");
    expect_at(&s, "rsa1024.verdicts.test", web.ports[3], "CRITICAL",
              "untrusted: leaf key RSA-1024 too weak", "leaf key RSA-1024 too weak", "true");
    cr_assert_str_eq(cell(&s, "rsa1024.verdicts.test", web.ports[3], "key"), "RSA-1024");
    report_scan_free(&s);

    scan_nginx(&s, (const char *const[]){"--verify-level", "0", NULL});
    expect_at(&s, "sha1-inter.verdicts.test", web.ports[2], "OK", "expires in 200 days", "ok",
              "true");
    expect_at(&s, "rsa1024.verdicts.test", web.ports[3], "OK", "expires in 200 days", "ok", "true");
    expect_at(&s, "cn-only.verdicts.test", web.ports[0], "CRITICAL",
              "hostname mismatch: certificate has no DNS names", "ok", "false");
    report_scan_free(&s);
}
