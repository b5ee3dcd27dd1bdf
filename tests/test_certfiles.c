/* Certificates on disk, end to end: files written from a throw-away PKI
 * (PEM chains, DER, PKCS#12 made with OpenSSL's API, a private key before
 * the certificate, garbage, empty, oversized, a FIFO, a dangling symlink, a
 * password-protected PKCS#12), a certbot-shaped tree (live/ symlinks into
 * archive/, two generations), and a CRL served over loopback HTTP.  The
 * certsweep binary reads them with --certs and file: targets; the fields of
 * its JSON and CSV reports are compared with what the PKI put in. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "tests/support/httpd.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"

#define DAY 86400
#define RUN_LIMIT_S 60
#define MAX_BYTES (1 << 20)

static char *dir;
static int64_t now;
static struct pki_cert root, inter, leaf;
static struct httpd *web;

/* dir/NAME (dir_path) */
#define in_dir(...) dir_path(dir, __VA_ARGS__)

static struct pki_cert issue(const char *cn, int64_t from, int64_t to, const char *crl_uri)
{
    char san[128];
    snprintf(san, sizeof san, "DNS:%s", cn);
    const char *sans[] = {san, NULL};
    const char *subject[] = {"CN", cn, "O", "certsweep files", NULL};
    struct pki_cert c;
    cr_assert_eq(pki_issue(&c,
                           &(struct pki_spec){.subject = subject,
                                              .not_before = from,
                                              .not_after = to,
                                              .key = PKI_EC256,
                                              .sans = sans,
                                              .crl_uri = crl_uri},
                           &inter),
                 0, "issuing %s", cn);
    return c;
}

static void setup(void)
{
    now = (int64_t)time(NULL);
    dir = temp_dir();
    cr_assert_not_null(dir);
    cr_assert_eq(pki_root_and_intermediate(&root, &inter, "certsweep Files Root",
                                           "certsweep Files Intermediate", now),
                 0);
    cr_assert_eq(pki_write_pem(in_dir("ca.pem"), &root.x509, 1), 0);
    cr_assert_eq(mkdir(in_dir("certs"), 0755), 0);
    leaf = issue("files.test", now - DAY, now + 90 * DAY, NULL);
}

static void teardown(void)
{
    if (web)
        httpd_stop(web);
    web = NULL;
    pki_cert_free(&leaf);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    if (dir) {
        remove_tree(dir);
        free(dir);
    }
    dir = NULL;
}

TestSuite(certfiles, .init = setup, .fini = teardown, .timeout = 120);

/* ---- running certsweep ---- */

/* Runs certsweep with the root as trust anchor, opts, and the CSV and JSON
   reports in the test directory, which s gets back. */
static void scan(struct report_scan *s, const char *const *opts)
{
    const char *csv = in_dir("out.csv"), *json = in_dir("out.json");
    const char *args[64];
    size_t k = 0;
    const char *fixed[] = {"--ca-file", in_dir("ca.pem"), "-o", csv, "-o", json, "-q", NULL};
    for (size_t i = 0; fixed[i]; i++)
        args[k++] = fixed[i];
    for (size_t i = 0; opts[i]; i++)
        args[k++] = opts[i];
    args[k] = NULL;
    cr_assert(k < sizeof args / sizeof args[0]);
    memset(s, 0, sizeof *s);
    cr_assert_eq(run_certsweep(args, NULL, &s->run), 0);
    cr_assert_neq(s->run.status, 137, "certsweep hung; stderr: %s", s->run.err);
    cr_assert_lt(s->run.status, 64, "exit %d; stderr: %s", s->run.status, s->run.err);
    char err[4096];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof err), 0, "%s; stderr: %s", err, s->run.err);
    cr_assert_eq(check_record_layout(&s->csv, s->json, err, sizeof err), 0, "%s", err);
}

static size_t n_records(const struct report_scan *s)
{
    return json_array_size(json_object_get(s->json, "results"));
}

/* The record whose host is host (file records have no port). */
static json_t *rec(const struct report_scan *s, const char *host)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(s->json, "results"), i, r)
    {
        const char *h = json_string_value(json_object_get(r, "host"));
        if (h && strcmp(h, host) == 0)
            return r;
    }
    cr_assert_fail("no record for %s", host);
    return NULL;
}

static const char *str(json_t *r, const char *key)
{
    json_t *v = json_object_get(r, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static void is_null(json_t *r, const char *key)
{
    cr_assert(json_is_null(json_object_get(r, key)), "%s is not null", key);
}

/* Every certificate field of r is c's, as the PKI made it, and the record
   is a file's: no port, address, TLS version or key proof. */
static void fields_of(json_t *r, X509 *c, const char *source)
{
    char serial[128], sha[65], nb[24], na[24];
    pki_serial_hex(c, serial, sizeof serial);
    pki_sha256_hex(c, sha);
    pki_iso_time(pki_not_before(c), nb);
    pki_iso_time(pki_not_after(c), na);
    cr_assert_str_eq(str(r, "serial"), serial);
    cr_assert_str_eq(str(r, "sha256"), sha);
    cr_assert_str_eq(str(r, "not_before"), nb);
    cr_assert_str_eq(str(r, "not_after"), na);
    cr_assert_str_eq(str(r, "subject"), "O=certsweep files,CN=files.test");
    cr_assert_str_eq(str(r, "issuer"), "CN=certsweep Files Intermediate");
    json_t *sans = json_object_get(r, "sans");
    cr_assert_eq(json_array_size(sans), 1);
    cr_assert_str_eq(json_string_value(json_array_get(sans, 0)), "files.test");
    cr_assert_str_eq(str(r, "protocol"), "file");
    cr_assert_str_eq(str(r, "source"), source);
    is_null(r, "port");
    is_null(r, "address");
    is_null(r, "tls_version");
    is_null(r, "key_proven");
    is_null(r, "ocsp_stapled");
    is_null(r, "deployed");
    is_null(r, "elapsed_ms");
}

static void ok_file(json_t *r, X509 *c, const char *path)
{
    cr_assert_str_eq(str(r, "status"), "OK", "%s: %s", path, str(r, "reason"));
    cr_assert_str_eq(str(r, "verify"), "ok");
    is_null(r, "hostname_match");
    fields_of(r, c, path);
}

static void error_file(const struct report_scan *s, const char *path, const char *why)
{
    json_t *r = rec(s, path);
    cr_assert_str_eq(str(r, "status"), "ERROR", "%s", path);
    char want[512];
    snprintf(want, sizeof want, "file: %s", why);
    cr_assert_str_eq(str(r, "reason"), want, "%s", path);
    cr_assert_str_eq(str(r, "error"), want);
    cr_assert_str_eq(str(r, "source"), path);
    cr_assert_str_eq(str(r, "protocol"), "file");
    is_null(r, "port");
    is_null(r, "sha256");
}

/* ---- writing files ---- */

/* The leaf and the intermediate as DER, back to back. */
static void write_der(const char *path, X509 *x)
{
    unsigned char *a = NULL, *b = NULL;
    int n = i2d_X509(x, &a), m = i2d_X509(inter.x509, &b);
    cr_assert(n > 0 && m > 0);
    unsigned char *both = malloc((size_t)(n + m));
    memcpy(both, a, (size_t)n);
    memcpy(both + n, b, (size_t)m);
    cr_assert_eq(pki_write_file(path, both, (size_t)(n + m)), 0);
    free(both);
    OPENSSL_free(a);
    OPENSSL_free(b);
}

/* A PKCS#12 of key, cert and the intermediate, password pass ("" for none). */
static void write_p12(const char *path, const struct pki_cert *c, const char *pass)
{
    STACK_OF(X509) *ca = sk_X509_new_null();
    sk_X509_push(ca, inter.x509);
    PKCS12 *p12 = PKCS12_create(pass, "files", c->key, c->x509, ca, 0, 0, 0, 0, 0);
    cr_assert_not_null(p12);
    unsigned char *der = NULL;
    int n = i2d_PKCS12(p12, &der);
    cr_assert_gt(n, 0);
    cr_assert_eq(pki_write_file(path, der, (size_t)n), 0);
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_free(ca);
}

/* The key's PEM followed by cert (and the intermediate): a server's
   combined file. */
static void write_key_first(const char *path, const struct pki_cert *c)
{
    cr_assert_eq(pki_write_key(path, c->key), 0);
    char *key = slurp(path, NULL);
    cr_assert_not_null(key);
    X509 *chain[] = {c->x509, inter.x509};
    const char *tmp = in_dir("tmp.pem");
    cr_assert_eq(pki_write_pem(tmp, chain, 2), 0);
    char *certs = slurp(tmp, NULL);
    unlink(tmp);
    char *both = malloc(strlen(key) + strlen(certs) + 1);
    strcpy(both, key);
    strcat(both, certs);
    cr_assert_eq(spit(path, both), 0);
    free(both);
    free(key);
    free(certs);
}

/* The base64 of the key's PKCS#8 DER, first line: what must never be in a
   report. */
static char *key_text(EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *line = strchr(p, '\n');
    cr_assert_not_null(line);
    char *out = strndup(line + 1, 40);
    cr_assert_lt(40, n);
    BIO_free(b);
    return out;
}

/* ---- the tests ---- */

Test(certfiles, pem_der_pkcs12_and_a_key_first)
{
    X509 *chain[] = {leaf.x509, inter.x509};
    const char *pem = in_dir("certs/chain.pem"), *der = in_dir("certs/leaf.der"),
               *p12 = in_dir("certs/bundle.p12"), *combined = in_dir("certs/combined.pem"),
               *crt = in_dir("certs/leaf-only.crt");
    cr_assert_eq(pki_write_pem(pem, chain, 2), 0);
    write_der(der, leaf.x509);
    write_p12(p12, &leaf, "");
    write_key_first(combined, &leaf);
    cr_assert_eq(pki_write_pem(crt, chain, 1), 0);
    cr_assert_eq(spit(in_dir("certs/notes.txt"), "not a certificate, not read\n"), 0);

    struct report_scan s;
    scan(&s, (const char *[]){"--certs", in_dir("certs"), NULL});
    cr_assert_eq(n_records(&s), 5, "stderr: %s", s.run.err);
    ok_file(rec(&s, pem), leaf.x509, pem);
    ok_file(rec(&s, der), leaf.x509, der);
    ok_file(rec(&s, p12), leaf.x509, p12);
    ok_file(rec(&s, combined), leaf.x509, combined);
    /* the leaf alone: its intermediate is in no file and not in the store */
    json_t *r = rec(&s, crt);
    cr_assert_str_eq(str(r, "status"), "CRITICAL");
    cr_assert_str_eq(str(r, "verify"), "unable to get local issuer certificate");
    fields_of(r, leaf.x509, crt);
    cr_assert_eq(s.run.status, 2);

    /* the private key before the certificate is never in a report */
    char *k = key_text(leaf.key);
    cr_assert_null(strstr(s.csv_text, k));
    char *dump = json_dumps(s.json, 0);
    cr_assert_null(strstr(dump, k));
    cr_assert_null(strstr(dump, "PRIVATE"));
    free(dump);
    free(k);
    report_scan_free(&s);
}

Test(certfiles, a_name_for_the_file)
{
    X509 *chain[] = {leaf.x509, inter.x509};
    const char *pem = in_dir("chain.pem");
    cr_assert_eq(pki_write_pem(pem, chain, 2), 0);
    char good[1200], bad[1200], url[1200];
    snprintf(good, sizeof good, "file:%s?name=FILES.test", pem);
    snprintf(bad, sizeof bad, "file:%s?name=other.test", dir);
    snprintf(url, sizeof url, "file://%s", pem);
    /* the same file under two names is two records; ?name= on a directory
       is read as the file it is not */
    struct report_scan s;
    scan(&s, (const char *[]){good, url, NULL});
    cr_assert_eq(n_records(&s), 2);
    json_t *r = json_array_get(json_object_get(s.json, "results"), 0);
    json_t *r2 = json_array_get(json_object_get(s.json, "results"), 1);
    if (strcmp(str(r, "sni"), "files.test") != 0) {
        json_t *t = r;
        r = r2;
        r2 = t;
    }
    cr_assert_str_eq(str(r, "sni"), "files.test");
    cr_assert(json_is_true(json_object_get(r, "hostname_match")));
    cr_assert_str_eq(str(r, "status"), "OK");
    cr_assert_str_eq(str(r, "host"), pem);
    cr_assert_str_eq(str(r2, "sni"), "");
    is_null(r2, "hostname_match");
    report_scan_free(&s);

    char mismatch[1200];
    snprintf(mismatch, sizeof mismatch, "file:%s?name=other.test", pem);
    scan(&s, (const char *[]){mismatch, bad, NULL});
    r = rec(&s, pem);
    cr_assert(json_is_false(json_object_get(r, "hostname_match")));
    cr_assert_str_eq(str(r, "status"), "CRITICAL");
    cr_assert_str_eq(str(r, "reason"),
                     "hostname mismatch: other.test not in the certificate's names");
    error_file(&s, dir, "is a directory");
    report_scan_free(&s);

    /* --sni names every file */
    scan(&s, (const char *[]){"--sni", "files.test", "--certs", pem, NULL});
    r = rec(&s, pem);
    cr_assert(json_is_true(json_object_get(r, "hostname_match")));
    cr_assert_str_eq(str(r, "sni"), "files.test");
    report_scan_free(&s);
}

Test(certfiles, files_that_are_not_certificates)
{
    const char *garbage = in_dir("certs/garbage.pem"), *empty = in_dir("certs/empty.pem"),
               *key = in_dir("certs/key.pem"), *fifo = in_dir("certs/fifo.pem"),
               *dangling = in_dir("certs/dangling.pem"), *locked = in_dir("certs/locked.p12"),
               *big = in_dir("certs/big.pem"), *fits = in_dir("certs/fits.pem"),
               *bad_pem = in_dir("certs/badblock.pem"), *trailing = in_dir("certs/trailing.der");
    cr_assert_eq(spit(garbage, "this is not a certificate\n"), 0);
    cr_assert_eq(spit(empty, ""), 0);
    cr_assert_eq(pki_write_key(key, leaf.key), 0);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    cr_assert_eq(symlink("nowhere/fullchain9.pem", dangling), 0);
    write_p12(locked, &leaf, "secret");
    cr_assert_eq(spit(bad_pem, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
                 0);
    /* base64 that decodes: to text, and to a SEQUENCE that is no certificate */
    const char *text = in_dir("certs/text.pem"), *seq = in_dir("certs/seq.pem");
    cr_assert_eq(spit(text, "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END "
                            "CERTIFICATE-----\n"),
                 0);
    cr_assert_eq(spit(seq, "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n"),
                 0);
    /* a valid certificate padded with text to one byte over the cap, and
       one padded to exactly the cap */
    X509 *one[] = {leaf.x509, inter.x509};
    cr_assert_eq(pki_write_pem(big, one, 2), 0);
    size_t len = 0;
    char *pem = slurp(big, &len);
    for (int over = 1; over >= 0; over--) {
        size_t total = MAX_BYTES + (size_t)over;
        char *buf = malloc(total + 1);
        memcpy(buf, pem, len);
        memset(buf + len, 'x', total - len);
        buf[total - 1] = '\n';
        buf[total] = '\0';
        cr_assert_eq(spit(over ? big : fits, buf), 0);
        free(buf);
    }
    free(pem);
    unsigned char *der = NULL;
    int n = i2d_X509(leaf.x509, &der);
    unsigned char *padded = malloc((size_t)n + 4);
    memcpy(padded, der, (size_t)n);
    memcpy(padded + n, "junk", 4);
    cr_assert_eq(pki_write_file(trailing, padded, (size_t)n + 4), 0);
    free(padded);
    OPENSSL_free(der);

    struct report_scan s;
    scan(&s, (const char *[]){"--certs", in_dir("certs"), NULL});
    cr_assert_eq(n_records(&s), 12, "stderr: %s", s.run.err);
    error_file(&s, text, "PEM block 1 (CERTIFICATE) is not a readable certificate");
    error_file(&s, seq, "the file's certificate cannot be parsed");
    error_file(&s, garbage, "not a certificate file (neither PEM, DER nor PKCS#12)");
    error_file(&s, empty, "empty file");
    error_file(&s, key, "no certificate in the file, only a private key");
    error_file(&s, fifo, "not a regular file");
    error_file(&s, dangling, "cannot be read: No such file or directory");
    error_file(&s, locked,
               "PKCS#12 file is protected by a password (only files without one are "
               "read)");
    error_file(&s, big, "larger than 1048576 bytes");
    error_file(&s, bad_pem, "PEM block 1 is malformed");
    error_file(&s, trailing, "bytes after the DER certificate 1 that are not one");
    ok_file(rec(&s, fits), leaf.x509, fits);
    cr_assert_eq(s.run.status, 3, "ERROR records count (exit 3); stderr: %s", s.run.err);
    report_scan_free(&s);

    if (geteuid() != 0) { /* root reads any file */
        const char *closed = in_dir("closed.pem");
        cr_assert_eq(pki_write_pem(closed, one, 1), 0);
        cr_assert_eq(chmod(closed, 0), 0);
        scan(&s, (const char *[]){"--certs", closed, NULL});
        error_file(&s, closed, "cannot be read: Permission denied");
        report_scan_free(&s);
    }
}

/* certbot's tree: live/NAME/ symlinks into archive/NAME/, two generations. */
static void certbot_tree(const char *le, const struct pki_cert *gen[2])
{
    char p[1024], t[1024];
    const char *sub[] = {"",      "/live", "/archive",         "/renewal",
                         "/keys", "/csr",  "/live/files.test", "/archive/files.test"};
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        snprintf(p, sizeof p, "%s%s", le, sub[i]);
        cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
    }
    for (int g = 0; g < 2; g++) {
        X509 *chain[] = {gen[g]->x509, inter.x509};
        snprintf(p, sizeof p, "%s/archive/files.test/cert%d.pem", le, g + 1);
        cr_assert_eq(pki_write_pem(p, chain, 1), 0);
        snprintf(p, sizeof p, "%s/archive/files.test/chain%d.pem", le, g + 1);
        cr_assert_eq(pki_write_pem(p, chain + 1, 1), 0);
        snprintf(p, sizeof p, "%s/archive/files.test/fullchain%d.pem", le, g + 1);
        cr_assert_eq(pki_write_pem(p, chain, 2), 0);
        snprintf(p, sizeof p, "%s/archive/files.test/privkey%d.pem", le, g + 1);
        cr_assert_eq(pki_write_key(p, gen[g]->key), 0);
    }
    const char *files[] = {"cert", "chain", "fullchain", "privkey"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/live/files.test/%s.pem", le, files[i]);
        snprintf(t, sizeof t, "../../archive/files.test/%s2.pem", files[i]);
        cr_assert_eq(symlink(t, p), 0);
    }
    snprintf(p, sizeof p, "%s/live/README", le);
    cr_assert_eq(spit(p, "This directory contains your keys and certificates.\n"), 0);
    snprintf(p, sizeof p, "%s/renewal/files.test.conf", le);
    cr_assert_eq(spit(p, "version = 2.1.0\n"), 0);
    snprintf(p, sizeof p, "%s/keys/0000_key-certbot.pem", le);
    cr_assert_eq(pki_write_key(p, gen[0]->key), 0);
}

Test(certfiles, certbot_layout)
{
    struct pki_cert old = issue("files.test", now - 80 * DAY, now + 10 * DAY, NULL);
    const struct pki_cert *gen[] = {&old, &leaf};
    const char *le = in_dir("letsencrypt");
    certbot_tree(le, gen);
    const char *live = in_dir("letsencrypt/live/files.test/fullchain.pem");

    const char *roots[] = {le, in_dir("letsencrypt/live"), in_dir("letsencrypt/live/files.test"),
                           live};
    for (size_t i = 0; i < 4; i++) {
        struct report_scan s;
        scan(&s, (const char *[]){"--certs", roots[i], NULL});
        cr_assert_eq(n_records(&s), 1, "--certs %s: %zu records", roots[i], n_records(&s));
        json_t *r = rec(&s, "files.test");
        ok_file(r, leaf.x509, live); /* the second generation, through the symlink */
        report_scan_free(&s);
    }
    /* the archive read on its own is every file of it */
    struct report_scan s;
    scan(&s, (const char *[]){"--certs", in_dir("letsencrypt/archive"), NULL});
    cr_assert_eq(n_records(&s), 8);
    report_scan_free(&s);
    pki_cert_free(&old);
}

Test(certfiles, symlink_loops_are_walked_once)
{
    X509 *chain[] = {leaf.x509, inter.x509};
    cr_assert_eq(mkdir(in_dir("certs/a"), 0755), 0);
    cr_assert_eq(pki_write_pem(in_dir("certs/a/one.pem"), chain, 2), 0);
    cr_assert_eq(pki_write_pem(in_dir("certs/two.pem"), chain, 2), 0);
    cr_assert_eq(symlink("..", in_dir("certs/a/up")), 0);
    cr_assert_eq(symlink(".", in_dir("certs/a/self")), 0);
    struct report_scan s;
    scan(&s, (const char *[]){"--certs", in_dir("certs"), NULL});
    cr_assert_eq(n_records(&s), 2, "%zu records", n_records(&s));
    ok_file(rec(&s, in_dir("certs/a/one.pem")), leaf.x509, in_dir("certs/a/one.pem"));
    ok_file(rec(&s, in_dir("certs/two.pem")), leaf.x509, in_dir("certs/two.pem"));
    report_scan_free(&s);
}

Test(certfiles, revocation_of_a_file)
{
    web = httpd_start();
    cr_assert_not_null(web);
    char uri[128];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%u/files.crl", httpd_port(web));
    struct pki_cert revoked = issue("files.test", now - DAY, now + 90 * DAY, uri);
    char serial[128];
    pki_serial_hex(revoked.x509, serial, sizeof serial);
    struct pki_crl_entry e = {.serial_hex = serial, .revoked_at = now - 3600, .reason = 1};
    size_t size = 0;
    cr_assert_eq(pki_crl(in_dir("files.crl"),
                         &(struct pki_crl_spec){.issuer = &inter,
                                                .last_update = now - 3600,
                                                .next_update = now + DAY,
                                                .entries = &e,
                                                .n_entries = 1},
                         &size),
                 0);
    char *crl = slurp(in_dir("files.crl"), &size);
    httpd_route(web, "/files.crl", &(struct httpd_answer){.status = 200, .body = crl, .len = size});
    free(crl);
    X509 *chain[] = {revoked.x509, inter.x509};
    const char *pem = in_dir("revoked.pem");
    cr_assert_eq(pki_write_pem(pem, chain, 2), 0);

    struct report_scan s;
    scan(&s, (const char *[]){"--crl", "--certs", pem, NULL});
    json_t *r = rec(&s, pem);
    cr_assert_str_eq(str(r, "status"), "CRITICAL", "%s", str(r, "reason"));
    cr_assert_str_eq(str(r, "revocation"), "revoked");
    cr_assert_str_eq(str(r, "revocation_source"), "crl");
    cr_assert_str_eq(str(r, "revocation_reason"), "keyCompromise");
    cr_assert_eq(httpd_requests(web, "/files.crl"), 1);
    report_scan_free(&s);
    pki_cert_free(&revoked);
}
