/* Certificate hygiene policy (--policy baseline, --policy-file): the policy
 * file's parser, the rules on real certificates of a throw-away PKI, and
 * end to end: leafs dated at each Baseline Requirements boundary, with and
 * without embedded SCTs and must-staple, served by the test fleet on
 * 127.0.0.1 and scanned by the certsweep binary at a --now that makes them
 * valid; the findings of its CSV and JSON reports are compared with what
 * the PKI put in. */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/policy.h"
#include "tests/support/fleet.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"

#define DAY 86400
#define T_SCAN 1796083200LL   /* 2026-12-01T00:00:00Z: the scan time of most runs */
#define CA_FROM 1420070400LL  /* 2015-01-01: the test CAs are valid across every BR date */
#define CA_UNTIL 2366841600LL /* 2045-01-01 */
#define MAX_CASES 48
#define MAX_FINDINGS 3

static char *dir;
static struct pki_cert root, inter, other_inter, stray;
static struct fleet *fleet;

/* ---- small helpers ---- */

static const char *in_dir(const char *name)
{
    static char bufs[8][4096];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void iso(int64_t t, char buf[24])
{
    pki_iso_time(t, buf);
}

/* ---- unit tests: the policy file ---- */

static char err[1024];

static int parse(struct cs_policy *p, const char *line)
{
    return cs_policy_parse_line(p, line, strlen(line), 7, err, sizeof err);
}

Test(policy_file, rules_and_critical)
{
    struct cs_policy p;
    cs_policy_init(&p);
    cr_assert_not(cs_policy_active(&p));
    cr_assert_eq(parse(&p, "min-rsa-bits 3072 critical  # a comment"), 0, "%s", err);
    cr_assert_eq(parse(&p, "\tmin-ec-bits\t384"), 0, "%s", err);
    cr_assert_eq(parse(&p, "max-days 90"), 0, "%s", err);
    cr_assert_eq(parse(&p, "no-wildcards critical"), 0, "%s", err);
    cr_assert_eq(parse(&p, "allow-issuer \"C=US,O=Let's Encrypt,CN=R11\""), 0, "%s", err);
    cr_assert_eq(parse(&p, "allow-issuer \"O=a \\\"quoted\\\" # not a comment\\\\,CN=x\" critical"),
                 0, "%s", err);
    cr_assert_eq(parse(&p, "   # only a comment"), 0, "%s", err);
    cr_assert_eq(parse(&p, ""), 0, "%s", err);
    cr_assert(cs_policy_active(&p));
    cr_assert_eq(p.min_rsa_bits.level, CS_CRITICAL);
    cr_assert_eq(p.min_rsa_bits.value, 3072);
    cr_assert_eq(p.min_ec_bits.level, CS_WARNING);
    cr_assert_eq(p.min_ec_bits.value, 384);
    cr_assert_eq(p.max_days.level, CS_WARNING);
    cr_assert_eq(p.max_days.value, 90);
    cr_assert_eq(p.no_wildcards.level, CS_CRITICAL);
    cr_assert_eq(p.allow_issuer.level, CS_CRITICAL, "one critical allow-issuer line makes it so");
    cr_assert_eq(p.issuers.n, 2);
    cr_assert_str_eq(p.issuers.v[0], "C=US,O=Let's Encrypt,CN=R11");
    cr_assert_str_eq(p.issuers.v[1], "O=a \"quoted\" # not a comment\\,CN=x");
    cr_assert_not(p.baseline);
    cs_policy_free(&p);
}

Test(policy_file, bad_lines_say_why)
{
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"min-rsa 2048", "unknown rule 'min-rsa' (known: allow-issuer, max-days, min-ec-bits, "
                         "min-rsa-bits, no-wildcards)"},
        {"\"max-days\" 90", "unknown rule 'max-days' (known: allow-issuer, max-days, min-ec-bits, "
                            "min-rsa-bits, no-wildcards)"},
        {"min-rsa-bits", "min-rsa-bits needs a number (e.g. min-rsa-bits 3072)"},
        {"min-rsa-bits critical", "min-rsa-bits needs a number (e.g. min-rsa-bits 3072)"},
        {"min-rsa-bits \"3072\"", "min-rsa-bits needs a number (e.g. min-rsa-bits 3072)"},
        {"min-rsa-bits 3072bits", "min-rsa-bits takes a whole number from 1024 to 16384, not "
                                  "'3072bits'"},
        {"min-rsa-bits 512", "min-rsa-bits takes a whole number from 1024 to 16384, not '512'"},
        {"min-ec-bits 1000", "min-ec-bits takes a whole number from 160 to 571, not '1000'"},
        {"max-days 0", "max-days takes a whole number from 1 to 3650, not '0'"},
        {"max-days -5", "max-days takes a whole number from 1 to 3650, not '-5'"},
        {"max-days 99999999999999999999", "max-days takes a whole number from 1 to 3650, not "
                                          "'99999999999999999999'"},
        {"max-days 90 warning", "unexpected 'warning' after max-days (only 'critical' may "
                                "follow)"},
        {"max-days 90 critical critical", "unexpected 'critical' after max-days (only "
                                          "'critical' may follow)"},
        {"no-wildcards yes", "unexpected 'yes' after no-wildcards (only 'critical' may follow)"},
        {"allow-issuer CN=R11", "allow-issuer needs a quoted issuer name (e.g. allow-issuer "
                                "\"O=Example,CN=Example CA\")"},
        {"allow-issuer", "allow-issuer needs a quoted issuer name (e.g. allow-issuer "
                         "\"O=Example,CN=Example CA\")"},
        {"allow-issuer \"\"", "allow-issuer needs a name, not an empty string"},
        {"allow-issuer \"CN=R11", "a quoted string is not closed"},
        {"allow-issuer \"CN=R11\"critical", "text right after a closing quote (put a blank "
                                            "between)"},
        {"allow-issuer \"CN=\\R11\"", "unknown escape in a quoted string (only \\\" and \\\\)"},
        {"allow-issuer CN=\"R11\"", "a quote inside a word (quote the whole value)"},
        {"max-days 90 critical extra words", "too many words (a rule, its value and "
                                             "'critical')"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cs_policy p;
        cs_policy_init(&p);
        err[0] = '\0';
        cr_assert_eq(parse(&p, bad[i].line), -1, "'%s' was taken", bad[i].line);
        cr_assert_str_eq(err, bad[i].why, "'%s'", bad[i].line);
        cs_policy_free(&p);
    }
    struct cs_policy p;
    cs_policy_init(&p);
    cr_assert_eq(cs_policy_parse_line(&p, "max-days 9\0", 11, 1, err, sizeof err), -1);
    cr_assert_str_eq(err, "NUL byte in the line");
    cr_assert_eq(cs_policy_parse_line(&p, "max-days 90", 11, 4, err, sizeof err), 0);
    cr_assert_eq(cs_policy_parse_line(&p, "max-days 30", 11, 9, err, sizeof err), -1);
    cr_assert_str_eq(err, "max-days is given twice (first on line 4)");
    cs_policy_free(&p);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

Test(policy_file, load_names_file_and_line)
{
    dir = temp_dir();
    cr_assert_not_null(dir);
    const char *path = in_dir("rules.policy");
    char want[4200];
    struct cs_policy p;

    /* a BOM, CRLF ends, comments: all fine */
    static const char good[] = "\xEF\xBB\xBFmin-rsa-bits 2048\r\n# comment\r\n\r\nmax-days 200\n"
                               "no-wildcards";
    write_file(path, good, sizeof good - 1);
    cs_policy_init(&p);
    cr_assert_eq(cs_policy_load(&p, path, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.min_rsa_bits.value, 2048);
    cr_assert_eq(p.max_days.value, 200);
    cr_assert_eq(p.max_days.line, 4);
    cr_assert_eq(p.no_wildcards.level, CS_WARNING);
    cs_policy_free(&p);

    static const char third[] = "min-rsa-bits 2048\n\nmin-ecc-bits 256\nmax-days 90\n";
    write_file(path, third, sizeof third - 1);
    cs_policy_init(&p);
    cr_assert_eq(cs_policy_load(&p, path, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s:3: unknown rule 'min-ecc-bits' (known: allow-issuer, max-days, "
             "min-ec-bits, min-rsa-bits, no-wildcards)",
             path);
    cr_assert_str_eq(err, want);
    cs_policy_free(&p);

    /* a line past the cap is refused, not read into a growing buffer */
    char *longline = malloc(CS_POLICY_LINE_MAX + 100);
    memset(longline, ' ', CS_POLICY_LINE_MAX + 100);
    memcpy(longline, "max-days 90\n", 12);
    longline[CS_POLICY_LINE_MAX + 99] = '\n';
    write_file(path, longline, CS_POLICY_LINE_MAX + 100);
    free(longline);
    cs_policy_init(&p);
    cr_assert_eq(cs_policy_load(&p, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: line longer than %d bytes", path, CS_POLICY_LINE_MAX);
    cr_assert_str_eq(err, want);
    cs_policy_free(&p);

    /* a line of exactly the cap is fine */
    char *exact = malloc(CS_POLICY_LINE_MAX + 1);
    memset(exact, ' ', CS_POLICY_LINE_MAX);
    memcpy(exact, "max-days 90", 11);
    exact[CS_POLICY_LINE_MAX] = '\n';
    write_file(path, exact, CS_POLICY_LINE_MAX + 1);
    free(exact);
    cs_policy_init(&p);
    cr_assert_eq(cs_policy_load(&p, path, err, sizeof err), 0, "%s", err);
    cs_policy_free(&p);

    static const char nul[] = "max-days 90\nno-wild\0cards\n";
    write_file(path, nul, sizeof nul - 1);
    cs_policy_init(&p);
    cr_assert_eq(cs_policy_load(&p, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: NUL byte in the line", path);
    cr_assert_str_eq(err, want);
    cs_policy_free(&p);

    cs_policy_init(&p);
    cr_assert_eq(cs_policy_load(&p, in_dir("missing.policy"), err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory",
             in_dir("missing.policy"));
    cr_assert_str_eq(err, want);
    cs_policy_free(&p);
    remove_tree(dir);
    free(dir);
    dir = NULL;
}

Test(policy_file, caps)
{
    struct cs_policy p;
    cs_policy_init(&p);
    char line[64];
    for (int i = 0; i < CS_POLICY_ISSUERS_MAX; i++) {
        snprintf(line, sizeof line, "allow-issuer \"CN=CA %d\"", i);
        cr_assert_eq(parse(&p, line), 0, "%s", err);
    }
    cr_assert_eq(parse(&p, "allow-issuer \"CN=one too many\""), -1);
    cr_assert_str_eq(err, "more than 1000 allow-issuer lines");
    cr_assert_eq(p.issuers.n, CS_POLICY_ISSUERS_MAX);
    cs_policy_free(&p);

    dir = temp_dir();
    cr_assert_not_null(dir);
    const char *path = in_dir("many.policy");
    size_t n = CS_POLICY_LINES_MAX + 1;
    char *text = malloc(n + 16);
    memset(text, '\n', n);
    memcpy(text + n, "max-days 90\n", 12);
    write_file(path, text, n + 12);
    free(text);
    cs_policy_init(&p);
    cr_assert_eq(cs_policy_load(&p, path, err, sizeof err), -1);
    char want[4200];
    snprintf(want, sizeof want, "%s:%d: more than %d lines", path, CS_POLICY_LINES_MAX + 1,
             CS_POLICY_LINES_MAX);
    cr_assert_str_eq(err, want);
    cs_policy_free(&p);
    remove_tree(dir);
    free(dir);
    dir = NULL;
}

/* ---- unit tests: the Baseline Requirements arithmetic ---- */

Test(policy_rules, br_maximum_by_not_before)
{
    static const struct {
        int64_t from, max, before;
    } tiers[] = {
        {1598918400, 398, 825}, /* 2020-09-01 */
        {1773532800, 200, 398}, /* 2026-03-15 */
        {1805068800, 100, 200}, /* 2027-03-15 */
        {1868227200, 47, 100},  /* 2029-03-15 */
    };
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
        cr_assert_eq(cs_policy_br_max_days(tiers[i].from), tiers[i].max);
        cr_assert_eq(cs_policy_br_max_days(tiers[i].from - 1), tiers[i].before);
        cr_assert_eq(cs_policy_br_max_days(tiers[i].from + DAY), tiers[i].max);
    }
    cr_assert_eq(cs_policy_br_max_days(4102444800LL), 47); /* 2100 */
}

Test(policy_rules, validity_counts_both_ends)
{
    /* notBefore through notAfter inclusive: 398 days is notAfter = nb + 398 d - 1 s */
    cr_assert_eq(cs_policy_validity_days(0, 398LL * DAY - 1), 398);
    cr_assert_eq(cs_policy_validity_days(0, 398LL * DAY), 399);
    cr_assert_eq(cs_policy_validity_days(0, 398LL * DAY - 2), 398);
    cr_assert_eq(cs_policy_validity_days(0, 397LL * DAY - 1), 397);
    cr_assert_eq(cs_policy_validity_days(0, 0), 1);
    cr_assert_eq(cs_policy_validity_days(10, 0), 0);
}

/* ---- the PKI ---- */

static void authority(struct pki_cert *out, const char *cn, const struct pki_cert *issuer)
{
    cr_assert_eq(pki_issue(out,
                           &(struct pki_spec){
                               .subject = (const char *const[]){"CN", cn, "O",
                                                                "certsweep policy tests", NULL},
                               .not_before = CA_FROM,
                               .not_after = CA_UNTIL,
                               .key = PKI_EC256,
                               .ca = true,
                           },
                           issuer),
                 0, "%s", cn);
}

static void make_cas(void)
{
    authority(&root, "certsweep policy Root", NULL);
    authority(&inter, "certsweep policy Intermediate", &root);
    authority(&other_inter, "certsweep policy Other CA", &root);
    authority(&stray, "certsweep policy Stray Root", NULL); /* trusted by nobody */
    cr_assert_eq(pki_write_pem(in_dir("root.pem"), &root.x509, 1), 0);
}

/* A leaf for NAME.policy.test (and extra_san), as spec says, issued by issuer. */
static void issue_leaf(struct pki_cert *out, const char *name, struct pki_spec spec,
                       const char *extra_san, const struct pki_cert *issuer)
{
    char cn[128], dns[140];
    snprintf(cn, sizeof cn, "%s.policy.test", name);
    snprintf(dns, sizeof dns, "DNS:%s", cn);
    spec.subject = (const char *const[]){"CN", cn, NULL};
    spec.sans = (const char *const[]){dns, extra_san, NULL};
    cr_assert_eq(pki_issue(out, &spec, issuer), 0, "leaf %s", name);
}

/* ---- unit tests: the rules on real certificates ---- */

/* A record as classification left it, for a leaf of the test PKI. */
static void record_of(struct cs_result *r, X509 *leaf, enum cs_status status, const char *reason,
                      const char *key, const char *issuer, bool stapled)
{
    cs_result_init(r);
    r->status = status;
    free(r->reason);
    r->reason = cs_strdup(reason);
    r->not_before = pki_not_before(leaf);
    r->not_after = pki_not_after(leaf);
    r->key = cs_strdup(key);
    r->issuer = cs_strdup(issuer);
    r->ocsp_stapled = stapled;
}

Test(policy_rules, raise_never_lower)
{
    dir = temp_dir();
    make_cas();
    struct pki_cert leaf;
    int64_t nb = T_SCAN - 10 * DAY;
    issue_leaf(
        &leaf, "rsa",
        (struct pki_spec){
            .not_before = nb, .not_after = nb + 500 * DAY, .key = PKI_RSA2048, .must_staple = true},
        "DNS:*.rsa.policy.test", &inter);
    struct cs_policy p;
    cs_policy_init(&p);
    p.baseline = true;
    cr_assert_eq(parse(&p, "min-rsa-bits 3072 critical"), 0, "%s", err);
    cr_assert_eq(parse(&p, "no-wildcards"), 0, "%s", err);
    struct cs_policy_input in = {leaf.x509, true};
    static const char *const want[] = {
        "validity 501 days exceeds 200 (notBefore 2026-11-21)",
        "no embedded SCTs, browsers require 3",
        "must-staple certificate served without an OCSP staple",
        "key RSA-2048 below min-rsa-bits 3072",
        "wildcard name *.rsa.policy.test (no-wildcards)",
    };
    static const enum cs_status from[] = {CS_OK, CS_WARNING, CS_CRITICAL, CS_EXPIRED};
    static const enum cs_status to[] = {CS_CRITICAL, CS_CRITICAL, CS_CRITICAL, CS_EXPIRED};
    for (size_t k = 0; k < 4; k++) {
        struct cs_result r;
        record_of(&r, leaf.x509, from[k], "expires in 490 days", "RSA-2048", "CN=x", false);
        cs_strlist_add(&r.sans, "rsa.policy.test");
        cs_strlist_add(&r.sans, "*.rsa.policy.test");
        cs_policy_apply(&p, &in, &r);
        cr_assert_eq(r.status, to[k], "%s became %s", cs_status_name(from[k]),
                     cs_status_name(r.status));
        cr_assert_eq(r.findings.n, 5);
        char reason[2048] = "expires in 490 days";
        for (size_t i = 0; i < 5; i++) {
            cr_assert_str_eq(r.findings.v[i], want[i]);
            strcat(reason, "; policy: ");
            strcat(reason, want[i]);
        }
        cr_assert_str_eq(r.reason, reason);
        cs_result_free(&r);
    }

    /* an untrusted chain: no Baseline Requirements finding, must-staple still */
    struct cs_result r;
    record_of(&r, leaf.x509, CS_OK, "expires in 490 days", "RSA-2048", "CN=x", false);
    in.trusted = false;
    p.min_rsa_bits.level = CS_OK;
    p.no_wildcards.level = CS_OK;
    cs_policy_apply(&p, &in, &r);
    cr_assert_eq(r.findings.n, 1);
    cr_assert_str_eq(r.findings.v[0], "must-staple certificate served without an OCSP staple");
    cr_assert_eq(r.status, CS_WARNING);
    cs_result_free(&r);

    /* stapled: no must-staple finding */
    record_of(&r, leaf.x509, CS_OK, "expires in 490 days", "RSA-2048", "CN=x", true);
    cs_policy_apply(&p, &in, &r);
    cr_assert_eq(r.findings.n, 0);
    cr_assert_eq(r.status, CS_OK);
    cr_assert_str_eq(r.reason, "expires in 490 days");
    cs_result_free(&r);

    /* no policy, an inactive one, or an ERROR record: nothing changes */
    struct cs_policy off;
    cs_policy_init(&off);
    in.trusted = true;
    const struct cs_policy *none[] = {NULL, &off};
    for (size_t i = 0; i < 2; i++) {
        record_of(&r, leaf.x509, CS_OK, "expires in 490 days", "RSA-2048", "CN=x", false);
        cs_policy_apply(none[i], &in, &r);
        cr_assert_eq(r.findings.n, 0);
        cr_assert_eq(r.status, CS_OK);
        cr_assert_str_eq(r.reason, "expires in 490 days");
        cs_result_free(&r);
    }
    record_of(&r, leaf.x509, CS_ERROR, "handshake: server closed", "RSA-2048", "CN=x", false);
    cs_policy_apply(&p, &in, &r);
    cr_assert_eq(r.findings.n, 0);
    cr_assert_eq(r.status, CS_ERROR);
    cs_result_free(&r);
    cs_policy_free(&p);
    pki_cert_free(&leaf);
    pki_cert_free(&root);
    pki_cert_free(&inter);
    pki_cert_free(&other_inter);
    pki_cert_free(&stray);
    remove_tree(dir);
    free(dir);
    dir = NULL;
}

/* ---- end to end ---- */

/* How a leaf is served: most share one endpoint (a port each, all EC keys:
   an SSL takes one leaf per key type, so an RSA leaf gets an endpoint of
   its own), the others have one each. */
enum chain_kind { CH_INTER, CH_OTHER, CH_STRAY, CH_STAPLED, CH_RSA, N_CHAINS };

struct leaf_case {
    char name[40];
    int64_t nb, na;
    enum pki_key key;
    unsigned scts, repeats;
    bool must_staple;
    const char *extra_san;
    enum chain_kind chain;
    int group;          /* which run scans it */
    const char *status; /* with the run's policy */
    char findings[MAX_FINDINGS][160];
    size_t n_findings;
    bool untrusted; /* the reason is "untrusted: ..." */
    struct pki_cert cert;
    uint16_t port;
};

enum { G_BR2020, G_BR2026, G_BR2027, G_BR2029, G_CT, G_FILE, N_GROUPS };
static const int64_t br_dates[] = {1598918400, 1773532800, 1805068800, 1868227200};
static const int64_t br_max[] = {398, 200, 100, 47};
static const int64_t br_before[] = {825, 398, 200, 100};

static struct leaf_case cases[MAX_CASES];
static size_t n_cases;

static struct leaf_case *add_case(const char *name, int group, int64_t nb, int64_t na)
{
    cr_assert(n_cases < MAX_CASES);
    struct leaf_case *c = &cases[n_cases++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->group = group;
    c->nb = nb;
    c->na = na;
    c->key = PKI_EC256;
    c->scts = 3;
    c->status = "OK";
    return c;
}

static void expect_finding(struct leaf_case *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void expect_finding(struct leaf_case *c, const char *fmt, ...)
{
    cr_assert(c->n_findings < MAX_FINDINGS);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->findings[c->n_findings++], sizeof c->findings[0], fmt, ap);
    va_end(ap);
    if (strcmp(c->status, "OK") == 0)
        c->status = "WARNING";
}

/* Four leafs at each BR boundary D: issued a second before it (judged by
   the old maximum) and at it (the new one), each valid for exactly the
   maximum and for one second more. */
static void br_cases(void)
{
    for (int t = 0; t < 4; t++) {
        int64_t d = br_dates[t];
        char name[40], date[24];
        struct leaf_case *c;
        iso(d - 1, date);
        snprintf(name, sizeof name, "br%d-old-max", t);
        add_case(name, G_BR2020 + t, d - 1, d - 1 + br_before[t] * DAY - 1);
        snprintf(name, sizeof name, "br%d-old-over", t);
        c = add_case(name, G_BR2020 + t, d - 1, d - 1 + br_before[t] * DAY);
        expect_finding(c, "validity %lld days exceeds %lld (notBefore %.10s)",
                       (long long)br_before[t] + 1, (long long)br_before[t], date);
        iso(d, date);
        snprintf(name, sizeof name, "br%d-new-max", t);
        add_case(name, G_BR2020 + t, d, d + br_max[t] * DAY - 1);
        snprintf(name, sizeof name, "br%d-new-over", t);
        c = add_case(name, G_BR2020 + t, d, d + br_max[t] * DAY);
        expect_finding(c, "validity %lld days exceeds %lld (notBefore %.10s)",
                       (long long)br_max[t] + 1, (long long)br_max[t], date);
    }
}

/* SCT counts around Chrome's and Apple's 180-day line, must-staple, an
   untrusted chain, and a leaf with two findings. */
static void ct_cases(void)
{
    int64_t nb = T_SCAN - 10 * DAY;
    struct leaf_case *c;
    c = add_case("ct-180d-2", G_CT, nb, nb + 180 * DAY);
    c->scts = 2;
    c = add_case("ct-180d1s-2", G_CT, nb, nb + 180 * DAY + 1);
    c->scts = 2;
    expect_finding(c, "embedded SCTs from 2 logs, browsers require 3");
    c = add_case("ct-180d1s-3", G_CT, nb, nb + 180 * DAY + 1);
    c = add_case("ct-one-log-thrice", G_CT, nb, nb + 90 * DAY);
    c->scts = 1;
    c->repeats = 2;
    expect_finding(c, "embedded SCTs from 1 log, browsers require 2");
    c = add_case("ct-none", G_CT, nb, nb + 90 * DAY);
    c->scts = 0;
    expect_finding(c, "no embedded SCTs, browsers require 2");
    c = add_case("must-staple", G_CT, nb, nb + 90 * DAY);
    c->must_staple = true;
    expect_finding(c, "must-staple certificate served without an OCSP staple");
    c = add_case("must-staple-stapled", G_CT, nb, nb + 90 * DAY);
    c->must_staple = true;
    c->chain = CH_STAPLED;
    c = add_case("two-findings", G_CT, nb, nb + 90 * DAY);
    c->must_staple = true;
    c->scts = 0;
    expect_finding(c, "no embedded SCTs, browsers require 2");
    expect_finding(c, "must-staple certificate served without an OCSP staple");
    /* publicly trusted means: the chain verifies; this one does not */
    c = add_case("untrusted", G_CT, nb, nb + 1000 * DAY);
    c->scts = 0;
    c->chain = CH_STRAY;
    c->status = "CRITICAL";
    c->untrusted = true;
}

/* Leafs for the policy file's rules; the expectations are set per run. */
static void file_cases(void)
{
    int64_t nb = T_SCAN - 10 * DAY;
    struct leaf_case *c;
    c = add_case("f-rsa2048", G_FILE, nb, nb + 60 * DAY);
    c->key = PKI_RSA2048;
    c->chain = CH_RSA;
    add_case("f-ec256", G_FILE, nb, nb + 60 * DAY);
    add_case("f-90d", G_FILE, nb, nb + 90 * DAY - 1);
    add_case("f-90d1s", G_FILE, nb, nb + 90 * DAY);
    c = add_case("f-wild", G_FILE, nb, nb + 60 * DAY);
    c->extra_san = "DNS:*.wild.policy.test";
    c = add_case("f-other-ca", G_FILE, nb, nb + 60 * DAY);
    c->chain = CH_OTHER;
}

static const struct pki_cert *issuer_of(const struct leaf_case *c)
{
    return c->chain == CH_STRAY ? &stray : c->chain == CH_OTHER ? &other_inter : &inter;
}

static unsigned char *staple;
static size_t staple_len;

/* The fleet: custom endpoint 0 serves the shared leafs (port k serves the
   k-th), 1 the other CA's leaf, 2 the stray leaf alone, 3 the stapled
   must-staple leaf with its OCSP response, 4 the RSA leaf. */
static void start_fleet(void)
{
    struct pki_cert by_inter[MAX_CASES];
    size_t n_inter = 0, idx_inter[MAX_CASES];
    const struct pki_cert *single[N_CHAINS] = {NULL};
    for (size_t i = 0; i < n_cases; i++) {
        struct leaf_case *c = &cases[i];
        issue_leaf(&c->cert, c->name,
                   (struct pki_spec){.not_before = c->nb,
                                     .not_after = c->na,
                                     .key = c->key,
                                     .scts = c->scts,
                                     .sct_repeats = c->repeats,
                                     .must_staple = c->must_staple},
                   c->extra_san, issuer_of(c));
        if (c->chain == CH_INTER) {
            idx_inter[n_inter] = i;
            by_inter[n_inter++] = c->cert;
        } else {
            single[c->chain] = &c->cert;
        }
    }
    struct leaf_case *stapled = NULL;
    for (size_t i = 0; i < n_cases; i++)
        if (cases[i].chain == CH_STAPLED)
            stapled = &cases[i];
    cr_assert(stapled && single[CH_STRAY] && single[CH_OTHER] && single[CH_RSA]);
    cr_assert_eq(pki_ocsp_response(&(struct pki_ocsp_spec){.leaf = stapled->cert.x509,
                                                           .issuer = inter.x509,
                                                           .status = PKI_OCSP_GOOD,
                                                           .this_update = T_SCAN - 3600,
                                                           .next_update = T_SCAN + 4 * DAY,
                                                           .signer = &inter},
                                   &staple, &staple_len),
                 0);
    X509 *inter_chain[] = {inter.x509}, *other_chain[] = {other_inter.x509};
    struct fleet_custom custom[] = {
        {.name = "policy",
         .leafs = by_inter,
         .chain = inter_chain,
         .chain_len = 1,
         .n_ports = n_inter},
        {.name = "other-ca", .leaf = single[CH_OTHER], .chain = other_chain, .chain_len = 1},
        {.name = "stray", .leaf = single[CH_STRAY]},
        {.name = "stapled",
         .leaf = single[CH_STAPLED],
         .chain = inter_chain,
         .chain_len = 1,
         .staple = staple,
         .staple_len = staple_len},
        {.name = "rsa", .leaf = single[CH_RSA], .chain = inter_chain, .chain_len = 1},
    };
    fleet = fleet_start(&(struct fleet_options){.custom = custom, .n_custom = N_CHAINS});
    cr_assert_not_null(fleet, "the test fleet did not start");
    for (size_t k = 0; k < n_inter; k++)
        cases[idx_inter[k]].port = fleet_custom_port(fleet, 0, k);
    for (size_t i = 0; i < n_cases; i++) {
        struct leaf_case *c = &cases[i];
        if (c->chain != CH_INTER)
            c->port = fleet_custom_port(fleet, c->chain, 0);
        cr_assert(c->port != 0, "%s has no port", c->name);
    }
}

static void setup(void)
{
    dir = temp_dir();
    cr_assert_not_null(dir);
    make_cas();
    n_cases = 0;
    br_cases();
    ct_cases();
    file_cases();
    start_fleet();
}

static void teardown(void)
{
    if (fleet)
        fleet_stop(fleet);
    fleet = NULL;
    for (size_t i = 0; i < n_cases; i++)
        pki_cert_free(&cases[i].cert);
    n_cases = 0;
    free(staple);
    staple = NULL;
    pki_cert_free(&root);
    pki_cert_free(&inter);
    pki_cert_free(&other_inter);
    pki_cert_free(&stray);
    if (dir)
        remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(policy_e2e, .init = setup, .fini = teardown, .timeout = 300);

/* Scans the leafs of group at time when, with the extra arguments; the
   reports are read back into s.  Returns the exit status. */
static int scan(struct report_scan *s, int group, int64_t when, const char *const *more)
{
    const char *targets = in_dir("targets"), *csv = in_dir("out.csv"), *json = in_dir("out.json");
    char t_path[4096], c_path[4096], j_path[4096];
    snprintf(t_path, sizeof t_path, "%s", targets);
    snprintf(c_path, sizeof c_path, "%s", csv);
    snprintf(j_path, sizeof j_path, "%s", json);
    FILE *f = fopen(t_path, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < n_cases; i++)
        if (cases[i].group == group)
            fprintf(f, "%s.policy.test:%u\n", cases[i].name, cases[i].port);
    fclose(f);
    char now_s[24], ca[4096];
    iso(when, now_s);
    snprintf(ca, sizeof ca, "%s", in_dir("root.pem"));
    const char *args[32] = {
        "-f", t_path, "--ca-file", ca,     "--now", now_s, "--resolve", "*.policy.test:*:127.0.0.1",
        "-o", c_path, "-o",        j_path, "-q"};
    size_t n = 13;
    for (size_t i = 0; more && more[i]; i++)
        args[n++] = more[i];
    args[n] = NULL;
    cr_assert_eq(run_certsweep(args, NULL, &s->run), 0);
    char why[8192];
    cr_assert_eq(read_reports(s, c_path, j_path, why, sizeof why), 0, "%s (exit %d); stderr: %s",
                 why, s->run.status, s->run.err);
    char layout[1024];
    cr_assert_eq(check_record_layout(&s->csv, s->json, layout, sizeof layout), 0, "%s", layout);
    return s->run.status;
}

/* The record of c in both reports: status, reason and findings as
   expected (none when with_policy is false). */
static void expect_case(const struct report_scan *s, const struct leaf_case *c, int64_t when,
                        bool with_policy)
{
    char host[128];
    snprintf(host, sizeof host, "%s.policy.test", c->name);
    json_t *rec = json_find_record(json_object_get(s->json, "results"), host, c->port);
    cr_assert_not_null(rec, "no JSON record for %s", host);
    size_t row = csv_doc_find(&s->csv, "host", host);
    cr_assert(row > 0, "no CSV row for %s", host);
    size_t nf = with_policy ? c->n_findings : 0;
    const char *status = with_policy ? c->status : c->untrusted ? "CRITICAL" : "OK";

    char reason[1024];
    int64_t days = (c->na - when) / DAY;
    snprintf(reason, sizeof reason, "expires in %lld day%s", (long long)days, days == 1 ? "" : "s");
    char cell[1024] = "";
    for (size_t i = 0; i < nf; i++) {
        strcat(reason, "; policy: ");
        strcat(reason, c->findings[i]);
        if (i)
            strcat(cell, "; ");
        strcat(cell, c->findings[i]);
    }
    const char *got_reason = json_string_value(json_object_get(rec, "reason"));
    cr_assert_not_null(got_reason);
    if (c->untrusted)
        cr_assert(strncmp(got_reason, "untrusted: ", 11) == 0 && !strstr(got_reason, "policy"),
                  "%s: reason \"%s\"", host, got_reason);
    else
        cr_assert_str_eq(got_reason, reason, "%s: \"%s\", want \"%s\"", host, got_reason, reason);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), status, "%s: %s", host,
                     got_reason);

    json_t *findings = json_object_get(rec, "findings");
    cr_assert(json_is_array(findings), "%s: findings is not an array", host);
    cr_assert_eq(json_array_size(findings), nf, "%s: %zu findings, want %zu (%s)", host,
                 json_array_size(findings), nf, got_reason);
    for (size_t i = 0; i < nf; i++)
        cr_assert_str_eq(json_string_value(json_array_get(findings, i)), c->findings[i], "%s",
                         host);
    cr_assert_str_eq(csv_doc_get(&s->csv, row, "findings"), cell, "%s", host);
    cr_assert_str_eq(csv_doc_get(&s->csv, row, "reason"), got_reason, "%s", host);
    cr_assert_str_eq(csv_doc_get(&s->csv, row, "status"), status, "%s", host);
}

static size_t group_size(int group)
{
    size_t n = 0;
    for (size_t i = 0; i < n_cases; i++)
        n += cases[i].group == group;
    return n;
}

static void check_group(int group, int64_t when, const char *const *more, bool with_policy,
                        int want_exit)
{
    struct report_scan s;
    int rc = scan(&s, group, when, more);
    cr_assert_eq(json_array_size(json_object_get(s.json, "results")), group_size(group));
    for (size_t i = 0; i < n_cases; i++)
        if (cases[i].group == group)
            expect_case(&s, &cases[i], when, with_policy);
    cr_assert_eq(rc, want_exit, "exit %d, want %d; stderr: %s", rc, want_exit, s.run.err);
    report_scan_free(&s);
}

Test(policy_e2e, baseline_validity_at_each_boundary)
{
    const char *const baseline[] = {"--policy", "baseline", NULL};
    for (int t = 0; t < 4; t++) /* a day after the boundary: every leaf of it is valid */
        check_group(G_BR2020 + t, br_dates[t] + DAY, baseline, true, 1);
}

Test(policy_e2e, default_off_changes_nothing)
{
    for (int t = 0; t < 4; t++)
        check_group(G_BR2020 + t, br_dates[t] + DAY, NULL, false, 0);
    check_group(G_CT, T_SCAN, NULL, false, 2);
}

Test(policy_e2e, baseline_scts_must_staple_and_trust)
{
    const char *const baseline[] = {"--policy", "baseline", NULL};
    check_group(G_CT, T_SCAN, baseline, true, 2);
}

/* The file group with one policy file: name's findings (and status) are set
   by the caller beforehand. */
static void file_run(const char *rules, int want_exit)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", in_dir("org.policy"));
    cr_assert_eq(spit(path, rules), 0);
    const char *const more[] = {"--policy-file", path, NULL};
    check_group(G_FILE, T_SCAN, more, true, want_exit);
}

static struct leaf_case *case_named(const char *name)
{
    for (size_t i = 0; i < n_cases; i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    cr_assert_fail("no case %s", name);
    return NULL;
}

static void reset_file_expectations(void)
{
    for (size_t i = 0; i < n_cases; i++)
        if (cases[i].group == G_FILE) {
            cases[i].n_findings = 0;
            cases[i].status = "OK";
        }
}

Test(policy_e2e, file_key_sizes)
{
    reset_file_expectations();
    struct leaf_case *c = case_named("f-rsa2048");
    expect_finding(c, "key RSA-2048 below min-rsa-bits 3072");
    c->status = "CRITICAL";
    file_run("# keys\nmin-rsa-bits 3072 critical\n", 2);

    reset_file_expectations();
    file_run("min-rsa-bits 2048\n", 0);

    reset_file_expectations();
    static const char *const ec[] = {"f-ec256", "f-90d", "f-90d1s", "f-wild", "f-other-ca"};
    for (size_t i = 0; i < sizeof ec / sizeof ec[0]; i++)
        expect_finding(case_named(ec[i]), "key EC-256 below min-ec-bits 384");
    file_run("min-ec-bits 384\n", 1);
}

Test(policy_e2e, file_max_days_wildcards_issuers)
{
    reset_file_expectations();
    expect_finding(case_named("f-90d1s"), "validity 91 days exceeds max-days 90");
    file_run("max-days 90\n", 1);

    reset_file_expectations();
    struct leaf_case *c = case_named("f-wild");
    expect_finding(c, "wildcard name *.wild.policy.test (no-wildcards)");
    c->status = "CRITICAL";
    file_run("no-wildcards critical\n", 2);

    reset_file_expectations();
    /* the issuer as the record's issuer field writes it (RFC 4514: last RDN first) */
    expect_finding(case_named("f-other-ca"),
                   "issuer \"O=certsweep policy tests,CN=certsweep policy Other CA\" not in "
                   "allow-issuer");
    file_run("allow-issuer \"O=certsweep policy tests,CN=certsweep policy Intermediate\"\n"
             "allow-issuer \"CN=certsweep policy Intermediate\"\n",
             1);
}

/* ---- the command line ---- */

/* certsweep args... with nothing to scan but what the arguments give: the
   exit status, and stderr in *err_out (static storage). */
static int run_cli(const char *const *args, char *err_out, size_t len)
{
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    snprintf(err_out, len, "%s", r.err);
    int status = r.status;
    run_result_free(&r);
    return status;
}

Test(policy_cli, bad_policy_and_policy_file_are_usage_errors)
{
    dir = temp_dir();
    cr_assert_not_null(dir);
    char stderr_text[8192], want[8192], path[4096];

    const char *const bad_name[] = {"--policy", "strict", "127.0.0.1:1", NULL};
    cr_assert_eq(run_cli(bad_name, stderr_text, sizeof stderr_text), 64);
    cr_assert_str_eq(stderr_text, "certsweep: --policy: 'strict' is not one of baseline (see "
                                  "certsweep --help)\n");

    snprintf(path, sizeof path, "%s", in_dir("org.policy"));
    cr_assert_eq(spit(path, "min-rsa-bits 2048\nno-wildcards\nno-wildcards critical\n"), 0);
    const char *const twice[] = {"--policy-file", path, "127.0.0.1:1", NULL};
    cr_assert_eq(run_cli(twice, stderr_text, sizeof stderr_text), 64);
    snprintf(want, sizeof want,
             "certsweep: --policy-file: %s:3: no-wildcards is given twice (first on line 2) "
             "(see certsweep --help)\n",
             path);
    cr_assert_str_eq(stderr_text, want);

    const char *const missing[] = {"--policy-file", in_dir("nowhere.policy"), "127.0.0.1:1", NULL};
    cr_assert_eq(run_cli(missing, stderr_text, sizeof stderr_text), 64);
    snprintf(want, sizeof want,
             "certsweep: --policy-file: %s: cannot read: No such file or directory (see "
             "certsweep --help)\n",
             in_dir("nowhere.policy"));
    cr_assert_str_eq(stderr_text, want);
    remove_tree(dir);
    free(dir);
    dir = NULL;
}

Test(policy_cli, a_file_without_rules_warns)
{
    dir = temp_dir();
    cr_assert_not_null(dir);
    char path[4096], stderr_text[8192], want[8192];
    snprintf(path, sizeof path, "%s", in_dir("empty.policy"));
    cr_assert_eq(spit(path, "# nothing yet\n\n"), 0);
    /* port 1 of 127.0.0.1 refuses: one ERROR record, exit 3, and the warning */
    const char *const args[] = {"--policy-file", path, "-q", "127.0.0.1:1", NULL};
    cr_assert_eq(run_cli(args, stderr_text, sizeof stderr_text), 3);
    snprintf(want, sizeof want, "certsweep: warning: --policy-file: '%s' has no rules\n", path);
    cr_assert(strstr(stderr_text, want) != NULL, "stderr: %s", stderr_text);
    remove_tree(dir);
    free(dir);
    dir = NULL;
}
