/* End to end against a real dovecot on 127.0.0.1: IMAP, POP3 and
 * ManageSieve with STARTTLS, serving a leaf of a throw-away PKI (root,
 * intermediate, leaf for mail.dovecot.test).  The certsweep binary scans
 * imap://, pop3:// and sieve:// targets (and --starttls PROTO targets
 * without a scheme) as a user would, and each record is compared with what
 * the PKI put into the certificate.  A second dovecot with ssl = no shows
 * what each probe reports when STARTTLS is not offered, in dovecot's own
 * words. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/dovecot.h"
#include "tests/support/e2e.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"

#define HOST "mail.dovecot.test"

static char *dir;
static struct e2e_pki pki;
static struct dovecot tls_on = {.pid = -1}, tls_off = {.pid = -1};

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* A dovecot of its own in dir/name: with the PKI's leaf, or ssl = no. */
static void start(struct dovecot *d, const char *name, bool tls)
{
    char *sub = path_in(name);
    cr_assert_eq(mkdir(sub, 0700), 0, "%s: %s", sub, strerror(errno));
    char *chain = path_in("chain.pem"), *key = path_in("leaf.key");
    char err[16384];
    cr_assert_eq(dovecot_start(d, sub, tls ? chain : NULL, tls ? key : NULL, err, sizeof err), 0,
                 "%s", err);
    free(chain);
    free(key);
    free(sub);
}

static void setup(void)
{
    /* a missing server fails the suite: it is part of what is tested */
    cr_assert(access(DOVECOT_BINARY, X_OK) == 0,
              DOVECOT_BINARY " is not installed: the dovecot end-to-end tests need it "
                             "(apt-get install dovecot-imapd dovecot-pop3d dovecot-managesieved)");
    dir = e2e_dir_with_pki(
        &pki,
        &(struct e2e_pki_spec){
            .name = "dovecot", .host = HOST, .days_before = 10, .days = 200, .key = PKI_EC256});
    start(&tls_on, "tls", true);
}

static void teardown(void)
{
    dovecot_stop(&tls_on);
    dovecot_stop(&tls_off);
    e2e_dir_free(&dir, &pki);
}

TestSuite(dovecot, .init = setup, .fini = teardown, .timeout = 120);

/* One scan of targets (each "SCHEME://HOST:PORT" or "HOST:PORT") with every
   port of d pinned to 127.0.0.1 and no name left for a resolver; extra
   options before them.  The reports are read back into s. */
static void scan(struct report_scan *s, const struct dovecot *d, const char *const *extra,
                 const char *const *targets)
{
    e2e_scan(s, &(struct e2e_scan_args){.dir = dir,
                                        .host = HOST,
                                        .ports = (const uint16_t[]){d->imap, d->pop3, d->sieve, 0},
                                        .extra = extra,
                                        .targets = targets});
}

static const char *cell(const struct report_scan *s, uint16_t port, const char *column)
{
    return e2e_cell(s, HOST, port, column);
}

/* The record of port: the PKI's leaf, reached through protocol, in the CSV
   and in the JSON. */
static void check_leaf(const struct report_scan *s, uint16_t port, const char *protocol)
{
    e2e_expect_leaf(s, &(struct e2e_leaf_want){.host = HOST,
                                               .port = port,
                                               .protocol = protocol,
                                               .subject = "CN=" HOST,
                                               .issuer = "CN=certsweep dovecot Intermediate",
                                               .sans = HOST,
                                               .key = "EC-256",
                                               .days = 200,
                                               .leaf = pki.leaf.x509});
}

Test(dovecot, starttls_by_url_scheme)
{
    char imap[64], pop3[64], sieve[64];
    snprintf(imap, sizeof imap, "imap://" HOST ":%u", tls_on.imap);
    snprintf(pop3, sizeof pop3, "pop3://" HOST ":%u", tls_on.pop3);
    snprintf(sieve, sizeof sieve, "sieve://" HOST ":%u", tls_on.sieve);
    struct report_scan s;
    scan(&s, &tls_on, NULL, (const char *const[]){imap, pop3, sieve, NULL});
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    cr_assert_eq(s.csv.nrows, 4, "%s", s.csv_text);
    check_leaf(&s, tls_on.imap, "imap");
    check_leaf(&s, tls_on.pop3, "pop3");
    check_leaf(&s, tls_on.sieve, "sieve");
    json_t *sum = json_object_get(s.json, "summary");
    cr_assert_eq(json_integer_value(json_object_get(sum, "OK")), 3);
    cr_assert_eq(json_integer_value(json_object_get(sum, "ERROR")), 0);
    report_scan_free(&s);
}

/* --starttls PROTO speaks PROTO to a target without a scheme. */
Test(dovecot, starttls_option_without_scheme)
{
    static const char *const protos[] = {"imap", "pop3", "sieve"};
    const uint16_t ports[] = {tls_on.imap, tls_on.pop3, tls_on.sieve};
    for (size_t i = 0; i < 3; i++) {
        char target[64];
        snprintf(target, sizeof target, HOST ":%u", ports[i]);
        struct report_scan s;
        scan(&s, &tls_on, (const char *const[]){"--starttls", protos[i], NULL},
             (const char *const[]){target, NULL});
        cr_assert_eq(s.run.status, 0, "%s: exit %d; stderr: %s\n%s", protos[i], s.run.status,
                     s.run.err, s.csv_text);
        cr_assert_eq(s.csv.nrows, 2, "%s", s.csv_text);
        check_leaf(&s, ports[i], protos[i]);
        report_scan_free(&s);
    }
}

/* Without a probe, TLS from the first byte meets the IMAP greeting. */
Test(dovecot, tls_probe_meets_the_greeting)
{
    char target[64];
    snprintf(target, sizeof target, HOST ":%u", tls_on.imap);
    struct report_scan s;
    scan(&s, &tls_on, NULL, (const char *const[]){target, NULL});
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    cr_assert_str_eq(cell(&s, tls_on.imap, "status"), "ERROR");
    cr_assert_str_eq(cell(&s, tls_on.imap, "protocol"), "tls");
    cr_assert(
        strncmp(cell(&s, tls_on.imap, "reason"), "handshake: not TLS (peer sent \"* OK ", 36) == 0,
        "%s", cell(&s, tls_on.imap, "reason"));
    report_scan_free(&s);
}

/* ssl = no: each protocol says, in dovecot's words, that there is no
   STARTTLS, and nothing else is tried. */
Test(dovecot, starttls_not_offered)
{
    start(&tls_off, "plain", false);
    char imap[64], pop3[64], sieve[64];
    snprintf(imap, sizeof imap, "imap://" HOST ":%u", tls_off.imap);
    snprintf(pop3, sizeof pop3, "pop3://" HOST ":%u", tls_off.pop3);
    snprintf(sieve, sizeof sieve, "sieve://" HOST ":%u", tls_off.sieve);
    struct report_scan s;
    scan(&s, &tls_off, NULL, (const char *const[]){imap, pop3, sieve, NULL});
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    const uint16_t ports[] = {tls_off.imap, tls_off.pop3, tls_off.sieve};
    static const char *const protos[] = {"imap", "pop3", "sieve"};
    static const char *const reasons[] = {
        /* the greeting lists the capabilities, STARTTLS not among them */
        "starttls: server does not offer STARTTLS (\"* OK [CAPABILITY IMAP4rev1 SASL-IR "
        "LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot (Debian) ready.\")",
        "starttls: server does not offer STARTTLS (no STLS in its CAPA list)",
        "starttls: server does not offer STARTTLS (\"OK \\x22Dovecot (Debian) ready.\\x22\")",
    };
    for (size_t i = 0; i < 3; i++) {
        e2e_expect_refused(&s, HOST, ports[i], protos[i], reasons[i]);
        cr_assert_str_eq(cell(&s, ports[i], "tls_version"), "", "%s", protos[i]);
    }
    report_scan_free(&s);
    dovecot_stop(&tls_off);
}
