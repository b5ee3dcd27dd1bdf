/* --expect end to end: the test fleet serves certificates of a throw-away
 * PKI on 127.0.0.1 (an old generation, the newest, one for a name nothing
 * on disk covers, an old one about to expire), while a certbot-shaped tree
 * on disk (live/ symlinks into archive/, two generations) and a plain
 * directory hold what should be served.  certsweep scans the endpoints;
 * deployed, status and reason of its JSON and CSV reports are compared with
 * what the PKI put where. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/fleet.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"

#define DAY 86400

static char *dir;
static int64_t now;
static struct pki_cert root, inter;
static X509 *inter_chain[1];
static struct fleet *fleet;

enum { OLD_A, NEW_A, NEW_B, OTHER_C, OLD_D, NEW_D, N_CERTS };
static struct pki_cert certs[N_CERTS];

/* dir/NAME (dir_path) */
#define in_dir(...) dir_path(dir, __VA_ARGS__)

static void issue(struct pki_cert *c, const char *name, int64_t from, int64_t to)
{
    char san[128];
    snprintf(san, sizeof san, "DNS:%s", name);
    const char *sans[] = {san, NULL};
    const char *subject[] = {"CN", name, NULL};
    cr_assert_eq(pki_issue(c,
                           &(struct pki_spec){.subject = subject,
                                              .not_before = from,
                                              .not_after = to,
                                              .key = PKI_EC256,
                                              .sans = sans},
                           &inter),
                 0);
}

static void setup(void)
{
    now = (int64_t)time(NULL);
    dir = temp_dir();
    cr_assert_not_null(dir);
    cr_assert_eq(pki_root_and_intermediate(&root, &inter, "certsweep Expect Root",
                                           "certsweep Expect Intermediate", now),
                 0);
    inter_chain[0] = inter.x509;
    cr_assert_eq(pki_write_pem(in_dir("ca.pem"), &root.x509, 1), 0);
    /* half days, so that the days left do not depend on when the scan runs */
    int64_t h = DAY / 2;
    issue(&certs[OLD_A], "a.deploy.test", now - 50 * DAY, now + 40 * DAY + h);
    issue(&certs[NEW_A], "a.deploy.test", now - 2 * DAY, now + 88 * DAY + h);
    issue(&certs[NEW_B], "b.deploy.test", now - 5 * DAY, now + 85 * DAY + h);
    issue(&certs[OTHER_C], "c.deploy.test", now - 5 * DAY, now + 85 * DAY + h);
    issue(&certs[OLD_D], "d.deploy.test", now - 87 * DAY, now + 3 * DAY + h);
    issue(&certs[NEW_D], "d.deploy.test", now - 1 * DAY, now + 89 * DAY + h);
    /* served: the old a, the new b, c, the old d */
    struct fleet_custom custom[] = {
        {.name = "a", .leaf = &certs[OLD_A], .chain = inter_chain, .chain_len = 1},
        {.name = "b", .leaf = &certs[NEW_B], .chain = inter_chain, .chain_len = 1},
        {.name = "c", .leaf = &certs[OTHER_C], .chain = inter_chain, .chain_len = 1},
        {.name = "d", .leaf = &certs[OLD_D], .chain = inter_chain, .chain_len = 1},
    };
    fleet = fleet_start(&(struct fleet_options){.custom = custom, .n_custom = 4});
    cr_assert_not_null(fleet, "the test fleet did not start");
}

static void teardown(void)
{
    if (fleet)
        fleet_stop(fleet);
    fleet = NULL;
    for (size_t i = 0; i < N_CERTS; i++)
        pki_cert_free(&certs[i]);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    if (dir) {
        remove_tree(dir);
        free(dir);
    }
    dir = NULL;
}

TestSuite(expect, .init = setup, .fini = teardown, .timeout = 120);

/* A certbot tree under DIR/le: each lineage with generations gens (oldest
   first), live/NAME/ pointing at the last. */
static void lineage(const char *name, const int *gens, size_t n)
{
    char p[1024], t[1024];
    snprintf(p, sizeof p, "%s/le/archive/%s", dir, name);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/le/live/%s", dir, name);
    cr_assert_eq(mkdir(p, 0755), 0);
    for (size_t g = 0; g < n; g++) {
        X509 *chain[] = {certs[gens[g]].x509, inter.x509};
        snprintf(p, sizeof p, "%s/le/archive/%s/fullchain%zu.pem", dir, name, g + 1);
        cr_assert_eq(pki_write_pem(p, chain, 2), 0);
        snprintf(p, sizeof p, "%s/le/archive/%s/privkey%zu.pem", dir, name, g + 1);
        cr_assert_eq(pki_write_key(p, certs[gens[g]].key), 0);
    }
    const char *files[] = {"fullchain", "privkey"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/le/live/%s/%s.pem", dir, name, files[i]);
        snprintf(t, sizeof t, "../../archive/%s/%s%zu.pem", name, files[i], n);
        cr_assert_eq(symlink(t, p), 0);
    }
}

static void certbot_tree(void)
{
    cr_assert_eq(mkdir(in_dir("le"), 0755), 0);
    cr_assert_eq(mkdir(in_dir("le/live"), 0755), 0);
    cr_assert_eq(mkdir(in_dir("le/archive"), 0755), 0);
    lineage("a.deploy.test", (const int[]){OLD_A, NEW_A}, 2);
    lineage("b.deploy.test", (const int[]){NEW_B}, 1);
    lineage("d.deploy.test", (const int[]){OLD_D, NEW_D}, 2);
}

/* Scans the four endpoints with --expect paths; s gets the reports. */
static void scan(struct report_scan *s, const char *const *expect)
{
    const char *csv = in_dir("out.csv"), *json = in_dir("out.json");
    char targets[4][64];
    const char *args[64];
    size_t k = 0;
    const char *fixed[] = {"--ca-file", in_dir("ca.pem"),
                           "--resolve", "*.deploy.test:*:127.0.0.1",
                           "-o",        csv,
                           "-o",        json,
                           "-q",        NULL};
    for (size_t i = 0; fixed[i]; i++)
        args[k++] = fixed[i];
    for (size_t i = 0; expect[i]; i++) {
        args[k++] = "--expect";
        args[k++] = expect[i];
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(targets[i], sizeof targets[i], "%c.deploy.test:%u", (char)('a' + i),
                 fleet_custom_port(fleet, i, 0));
        args[k++] = targets[i];
    }
    args[k] = NULL;
    memset(s, 0, sizeof *s);
    cr_assert_eq(run_certsweep(args, NULL, &s->run), 0);
    cr_assert_lt(s->run.status, 64, "exit %d; stderr: %s", s->run.status, s->run.err);
    char err[4096];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof err), 0, "%s; stderr: %s", err, s->run.err);
    cr_assert_eq(check_record_layout(&s->csv, s->json, err, sizeof err), 0, "%s", err);
    cr_assert_eq(json_array_size(json_object_get(s->json, "results")), 4);
}

static json_t *rec(const struct report_scan *s, char which)
{
    char host[32];
    snprintf(host, sizeof host, "%c.deploy.test", which);
    json_t *r = json_find_record(json_object_get(s->json, "results"), host,
                                 fleet_custom_port(fleet, (size_t)(which - 'a'), 0));
    cr_assert_not_null(r, "no record for %s", host);
    return r;
}

static const char *str(json_t *r, const char *key)
{
    json_t *v = json_object_get(r, key);
    cr_assert(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static void served(json_t *r, X509 *x)
{
    char sha[65];
    pki_sha256_hex(x, sha);
    cr_assert_str_eq(str(r, "sha256"), sha);
}

/* "serving an older certificate than PATH (renewed DATE, not deployed)" */
static const char *older_than(const char *path, X509 *newest)
{
    static char buf[1200];
    char when[24];
    pki_iso_time(pki_not_before(newest), when);
    when[10] = '\0';
    snprintf(buf, sizeof buf, "serving an older certificate than %s (renewed %s, not deployed)",
             path, when);
    return buf;
}

/* The CSV row of host says what the JSON record says. */
static void csv_agrees(const struct report_scan *s, json_t *r)
{
    size_t row = csv_doc_find(&s->csv, "sha256", str(r, "sha256"));
    cr_assert_neq(row, 0, "no CSV row with sha256 %s", str(r, "sha256"));
    cr_assert_str_eq(csv_doc_get(&s->csv, row, "reason"), str(r, "reason"));
    cr_assert_str_eq(csv_doc_get(&s->csv, row, "status"), str(r, "status"));
    json_t *d = json_object_get(r, "deployed");
    cr_assert_str_eq(csv_doc_get(&s->csv, row, "deployed"), json_is_null(d)   ? ""
                                                            : json_is_true(d) ? "true"
                                                                              : "false");
}

Test(expect, a_certbot_live_directory)
{
    certbot_tree();
    struct report_scan s;
    scan(&s, (const char *[]){in_dir("le/live"), NULL});

    json_t *a = rec(&s, 'a');
    served(a, certs[OLD_A].x509);
    cr_assert(json_is_false(json_object_get(a, "deployed")));
    cr_assert_str_eq(str(a, "status"), "WARNING");
    char want[1400];
    snprintf(want, sizeof want, "%s; expires in 40 days",
             older_than(in_dir("le/live/a.deploy.test/fullchain.pem"), certs[NEW_A].x509));
    cr_assert_str_eq(str(a, "reason"), want);
    csv_agrees(&s, a);

    json_t *b = rec(&s, 'b');
    served(b, certs[NEW_B].x509);
    cr_assert(json_is_true(json_object_get(b, "deployed")));
    cr_assert_str_eq(str(b, "status"), "OK");
    cr_assert_str_eq(str(b, "reason"), "expires in 85 days");
    csv_agrees(&s, b);

    json_t *c = rec(&s, 'c');
    cr_assert(json_is_null(json_object_get(c, "deployed")));
    cr_assert_str_eq(str(c, "status"), "OK");
    csv_agrees(&s, c);

    /* within -c already: CRITICAL stays, and the reason says both */
    json_t *d = rec(&s, 'd');
    served(d, certs[OLD_D].x509);
    cr_assert(json_is_false(json_object_get(d, "deployed")));
    cr_assert_str_eq(str(d, "status"), "CRITICAL");
    snprintf(want, sizeof want, "expires in 3 days; %s",
             older_than(in_dir("le/live/d.deploy.test/fullchain.pem"), certs[NEW_D].x509));
    cr_assert_str_eq(str(d, "reason"), want);
    csv_agrees(&s, d);
    cr_assert_eq(s.run.status, 2);
    report_scan_free(&s);
}

Test(expect, plain_files_newest_by_not_before)
{
    /* both generations of a, in a directory and as a file; the newest is a
       DER file, whatever the order the directory lists them in */
    cr_assert_eq(mkdir(in_dir("plain"), 0755), 0);
    X509 *old[] = {certs[OLD_A].x509};
    cr_assert_eq(pki_write_pem(in_dir("plain/a-old.pem"), old, 1), 0);
    unsigned char *der = NULL;
    int n = i2d_X509(certs[NEW_A].x509, &der);
    cr_assert_eq(pki_write_file(in_dir("plain/a-new.der"), der, (size_t)n), 0);
    OPENSSL_free(der);
    X509 *b[] = {certs[NEW_B].x509};
    cr_assert_eq(pki_write_pem(in_dir("b.pem"), b, 1), 0);
    cr_assert_eq(spit(in_dir("plain/broken.pem"), "not a certificate\n"), 0);

    struct report_scan s;
    scan(&s, (const char *[]){in_dir("plain"), in_dir("b.pem"), NULL});
    json_t *a = rec(&s, 'a');
    cr_assert(json_is_false(json_object_get(a, "deployed")));
    cr_assert_str_eq(str(a, "status"), "WARNING");
    char want[1400];
    snprintf(want, sizeof want, "%s; expires in 40 days",
             older_than(in_dir("plain/a-new.der"), certs[NEW_A].x509));
    cr_assert_str_eq(str(a, "reason"), want);
    cr_assert(json_is_true(json_object_get(rec(&s, 'b'), "deployed")));
    cr_assert(json_is_null(json_object_get(rec(&s, 'c'), "deployed")));
    cr_assert(json_is_null(json_object_get(rec(&s, 'd'), "deployed")));
    /* the unreadable file is said once on stderr; the scan goes on */
    cr_assert_not_null(strstr(s.run.err, "warning: --expect: 1 file not read (first: "),
                       "stderr: %s", s.run.err);
    report_scan_free(&s);
}

Test(expect, nothing_to_expect_is_an_input_error)
{
    cr_assert_eq(mkdir(in_dir("none"), 0755), 0);
    const char *args[] = {"--expect", in_dir("none"), "a.deploy.test", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 66);
    char want[1200];
    snprintf(want, sizeof want, "certsweep: --expect: no certificate found in %s\n",
             in_dir("none"));
    cr_assert_str_eq(r.err, want);
    run_result_free(&r);
}

Test(expect, without_expect_deployed_is_null)
{
    struct report_scan s;
    scan(&s, (const char *[]){NULL});
    for (char w = 'a'; w <= 'd'; w++) {
        json_t *r = rec(&s, w);
        cr_assert(json_is_null(json_object_get(r, "deployed")));
        cr_assert(json_is_null(json_object_get(r, "source")));
    }
    cr_assert_str_eq(str(rec(&s, 'a'), "status"), "OK");
    report_scan_free(&s);
}
