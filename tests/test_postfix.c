/* End to end against a real Postfix on 127.0.0.1 (postfix.h): one master
 * daemon with a configuration, queue and mail log of the test's own, and four
 * smtpd services on ports of their own: a relay (STARTTLS offered), a
 * submission port (STARTTLS required), one with TLS off, and one whose
 * certificate and key do not match (Postfix offers STARTTLS and answers it
 * with 454).  The certsweep binary scans them as smtp:// and submission://
 * targets pinned with --resolve; its reports are compared with what the test
 * PKI put into the certificate, and Postfix's mail log with what the probe
 * said. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/e2e.h"
#include "tests/support/pki.h"
#include "tests/support/postfix.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

#define DAY 86400
#define MX "mx.test.example"

enum { RELAY, SUBMISSION, PLAIN, BROKEN, N_SERVICES };

static char *dir;
static struct e2e_pki pki;
static struct pki_cert stranger;
static struct postfix mta = {.master = -1};

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* dir with the PKI in it, and a stranger: a certificate like the leaf
   whose key does not go with the leaf's (dir/stranger.key). */
static void make_pki(void)
{
    dir = e2e_dir_with_pki(
        &pki, &(struct e2e_pki_spec){
                  .name = "postfix", .host = MX, .days_before = 30, .days = 200, .key = PKI_EC256});
    int64_t now = (int64_t)time(NULL);
    struct pki_spec spec = {
        .subject = (const char *const[]){"CN", MX, NULL},
        .not_before = now - 30 * DAY,
        .not_after = now + 200 * DAY + DAY / 2,
        .key = PKI_EC256,
        .sans = (const char *const[]){"DNS:" MX, NULL},
    };
    cr_assert_eq(pki_issue(&stranger, &spec, &pki.inter), 0);
    char *p = path_in("stranger.key");
    cr_assert_eq(pki_write_key(p, stranger.key), 0);
    free(p);
}

static void setup(void)
{
    make_pki();
    char *extra, *broken_key;
    cr_assert(asprintf(&extra,
                       "myhostname = " MX "\n"
                       "smtpd_tls_cert_file = %s/chain.pem\n"
                       "smtpd_tls_key_file = %s/leaf.key\n"
                       "smtpd_tls_security_level = may\n",
                       dir, dir) > 0);
    cr_assert(asprintf(&broken_key, "smtpd_tls_key_file=%s/stranger.key", dir) > 0);
    const struct postfix_service svc[N_SERVICES] = {
        [RELAY] = {"relay", NULL},
        [SUBMISSION] = {"submission",
                        (const char *const[]){"smtpd_tls_security_level=encrypt", NULL}},
        [PLAIN] = {"plain", (const char *const[]){"smtpd_tls_security_level=none", NULL}},
        [BROKEN] = {"broken", (const char *const[]){broken_key, NULL}},
    };
    char err[16384];
    int rc = postfix_start(&mta, dir, extra, svc, N_SERVICES, err, sizeof err);
    free(extra);
    free(broken_key);
    cr_assert_eq(rc, 0, "%s", err);
}

static void teardown(void)
{
    postfix_stop(&mta);
    pki_cert_free(&stranger);
    e2e_dir_free(&dir, &pki);
}

TestSuite(postfix, .init = setup, .fini = teardown, .timeout = 180);

/* One certsweep run over targets (NULL-terminated), every Postfix port
   pinned to 127.0.0.1, with extra options first. */
static void scan(struct report_scan *s, const char *const *extra, const char *const *targets)
{
    uint16_t ports[N_SERVICES + 1] = {0};
    for (size_t k = 0; k < N_SERVICES; k++)
        ports[k] = mta.ports[k];
    e2e_scan(s, &(struct e2e_scan_args){
                    .dir = dir, .host = MX, .ports = ports, .extra = extra, .targets = targets});
}

static const char *cell(const struct report_scan *s, uint16_t port, const char *column)
{
    return e2e_cell(s, MX, port, column);
}

/* The record of a port Postfix served its certificate on, CSV and JSON
   (key_proven: Postfix signed the handshake with the leaf's key). */
static void check_served(const struct report_scan *s, uint16_t port, const char *protocol)
{
    e2e_expect_leaf(s, &(struct e2e_leaf_want){.host = MX,
                                               .port = port,
                                               .protocol = protocol,
                                               .subject = "CN=" MX,
                                               .issuer = "CN=certsweep postfix Intermediate",
                                               .sans = MX,
                                               .key = "EC-256",
                                               .days = 200,
                                               .tls_version = "TLSv1.3",
                                               .leaf = pki.leaf.x509});
}

/* A port where the preamble failed: ERROR with exactly this reason. */
static void check_failed(const struct report_scan *s, uint16_t port, const char *protocol,
                         const char *reason)
{
    e2e_expect_refused(s, MX, port, protocol, reason);
}

/* Lines of Postfix's mail log that contain needle. */
static size_t logged(const char *needle)
{
    char log[4200];
    return count_lines_with(postfix_log(&mta, log, sizeof log), needle);
}

static char *target(const char *scheme, int service)
{
    char *t;
    cr_assert(asprintf(&t, "%s%s" MX ":%u", scheme ? scheme : "", scheme ? "://" : "",
                       (unsigned)mta.ports[service]) > 0);
    return t;
}

Test(postfix, relay_and_submission)
{
    char *relay = target("smtp", RELAY), *sub = target("submission", SUBMISSION);
    struct report_scan s;
    scan(&s, NULL, (const char *const[]){relay, sub, NULL});
    check_served(&s, mta.ports[RELAY], "smtp");
    check_served(&s, mta.ports[SUBMISSION], "submission");
    cr_assert_eq(s.run.status, 0, "exit %d: %s", s.run.status, s.run.err);
    /* the probe greeted with the target's name and asked for TLS, on both */
    cr_assert_geq(logged("postfix/relay/smtpd"), 1);
    cr_assert_geq(logged("postfix/submission/smtpd"), 1);
    cr_assert_eq(logged(": EHLO " MX), 2, "EHLO lines in the mail log");
    cr_assert_eq(logged(": STARTTLS"), 2);
    cr_assert_eq(logged(": 220 2.0.0 Ready to start TLS"), 2);
    report_scan_free(&s);
    free(relay);
    free(sub);
}

Test(postfix, starttls_option_on_a_bare_target)
{
    char *bare = target(NULL, RELAY);
    struct report_scan s;
    scan(&s, (const char *const[]){"--starttls", "smtp", NULL}, (const char *const[]){bare, NULL});
    check_served(&s, mta.ports[RELAY], "smtp");
    report_scan_free(&s);
    free(bare);
}

Test(postfix, without_starttls_the_bare_target_is_tls)
{
    char *bare = target(NULL, RELAY);
    struct report_scan s;
    scan(&s, NULL, (const char *const[]){bare, NULL});
    cr_assert_str_eq(cell(&s, mta.ports[RELAY], "protocol"), "tls");
    cr_assert_str_eq(cell(&s, mta.ports[RELAY], "status"), "ERROR");
    cr_assert_str_eq(cell(&s, mta.ports[RELAY], "sha256"), "");
    report_scan_free(&s);
    free(bare);
}

Test(postfix, ehlo_names_the_client)
{
    char *relay = target("smtp", RELAY);
    struct report_scan s;
    scan(&s, (const char *const[]){"--ehlo", "probe.certsweep.test", NULL},
         (const char *const[]){relay, NULL});
    check_served(&s, mta.ports[RELAY], "smtp");
    cr_assert_eq(logged(": EHLO probe.certsweep.test"), 1, "the --ehlo name in the mail log");
    cr_assert_eq(logged(": EHLO " MX), 0, "the target's name instead of --ehlo's");
    report_scan_free(&s);
    free(relay);
}

Test(postfix, tls_off)
{
    char *plain = target("smtp", PLAIN);
    struct report_scan s;
    scan(&s, NULL, (const char *const[]){plain, NULL});
    check_failed(&s, mta.ports[PLAIN], "smtp",
                 "starttls: server does not offer STARTTLS (\"250 CHUNKING\")");
    cr_assert_eq(s.run.status, 3, "exit %d: %s", s.run.status, s.run.err);
    /* the probe greeted, and asked for nothing it was not offered */
    cr_assert_eq(logged("postfix/plain/smtpd[") > 0 && logged(": EHLO " MX) == 1, true);
    cr_assert_eq(logged(": STARTTLS"), 0);
    report_scan_free(&s);
    free(plain);
}

Test(postfix, starttls_refused)
{
    char *broken = target("smtp", BROKEN);
    struct report_scan s;
    scan(&s, NULL, (const char *const[]){broken, NULL});
    check_failed(&s, mta.ports[BROKEN], "smtp",
                 "starttls: server refused: \"454 4.7.0 TLS not available due to local "
                 "problem\"");
    /* Postfix says why in its own log */
    cr_assert_geq(logged("key values mismatch"), 1);
    report_scan_free(&s);
    free(broken);
}
