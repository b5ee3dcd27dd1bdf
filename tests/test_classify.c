/* Classification rules, thresholds and reasons. */
#include <criterion/criterion.h>
#include <string.h>

#include "scanner/classify.h"

#define DAY 86400
#define NOW 1790000000LL /* 2026-09-21T14:13:20Z */

TestSuite(classify);

struct case_ {
    int64_t nb, na; /* relative to NOW, seconds */
    bool untrusted;
    bool mismatch;
    const char *expired_name;
    const char *extra_expired;
    int64_t intermediate_na; /* relative to NOW; 0: none expires before the leaf */
    int64_t warn, crit;      /* 0: lifetime-aware */
    bool no_verify;
    const char *revocation; /* NULL: the field is null */
    const char *revoked_reason;
    int64_t revoked_at; /* relative to NOW; 0: null */
    const char *staple_problem;
    bool require_revocation;
    const char *sni;     /* the SNI sent; NULL: none (an IP-literal target) */
    const char *host;    /* the target; NULL: "www.example.com" */
    bool no_dns_names;   /* the leaf has no DNS subjectAltName */
    int64_t expired_ago; /* when expired_name expired, seconds before NOW; 0: 2 days */
};

static void run(const struct case_ *c, enum cs_status want, const char *reason)
{
    struct cs_result r;
    cs_result_init(&r);
    r.not_before = NOW + c->nb;
    r.not_after = NOW + c->na;
    r.hostname_match = !c->mismatch;
    free(r.host);
    r.host = cs_strdup(c->host ? c->host : "www.example.com");
    free(r.sni);
    r.sni = cs_strdup(c->sni ? c->sni : "");
    free(r.verify);
    r.verify = cs_strdup(c->untrusted ? "unable to get local issuer certificate" : "ok");
    struct cs_chain_facts f;
    memset(&f, 0, sizeof(f));
    f.verify_ok = !c->untrusted;
    f.no_dns_names = c->no_dns_names;
    if (c->expired_name) {
        strcpy(f.expired_name, c->expired_name);
        f.expired_at = NOW - (c->expired_ago ? c->expired_ago : 2 * DAY);
    }
    if (c->extra_expired)
        strcpy(f.extra_expired, c->extra_expired);
    f.soonest_at = CS_INT_NONE;
    if (c->intermediate_na) {
        strcpy(f.soonest_name, "R11");
        f.soonest_at = NOW + c->intermediate_na;
    }
    r.revocation = c->revocation ? cs_strdup(c->revocation) : NULL;
    r.revocation_reason = c->revoked_reason ? cs_strdup(c->revoked_reason) : NULL;
    r.revoked_at = c->revoked_at ? NOW + c->revoked_at : CS_INT_NONE;
    if (c->staple_problem)
        strcpy(f.staple_problem, c->staple_problem);
    struct cs_thresholds th = {c->warn ? c->warn : -1, c->crit ? c->crit : -1, !c->no_verify,
                               c->require_revocation};
    cs_classify(&r, &f, NOW, &th);
    cr_assert_eq(r.status, want, "status %s, want %s (%s)", cs_status_name(r.status),
                 cs_status_name(want), r.reason);
    cr_assert_str_eq(r.reason, reason);
    cs_result_free(&r);
}

Test(classify, rules_in_order)
{
    run(&(struct case_){.nb = -10 * DAY, .na = 200 * DAY}, CS_OK, "expires in 200 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 20 * DAY}, CS_WARNING, "expires in 20 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 3 * DAY}, CS_CRITICAL, "expires in 3 days");
    run(&(struct case_){.nb = -300 * DAY, .na = DAY}, CS_CRITICAL, "expires in 1 day");
    run(&(struct case_){.nb = -300 * DAY, .na = -3 * DAY}, CS_EXPIRED, "expired 3 days ago");
    run(&(struct case_){.nb = -300 * DAY, .na = 0}, CS_EXPIRED, "expired 0 seconds ago");
    run(&(struct case_){.nb = -300 * DAY, .na = 100 * DAY, .expired_name = "R11"}, CS_EXPIRED,
        "intermediate \"R11\" expired 2 days ago");
    run(&(struct case_){.nb = 5 * DAY, .na = 300 * DAY}, CS_CRITICAL,
        "not yet valid (valid from 2026-09-26T14:13:20Z)");
    run(&(struct case_){.nb = -10 * DAY, .na = 200 * DAY, .untrusted = true}, CS_CRITICAL,
        "untrusted: unable to get local issuer certificate");
    run(
        &(struct case_){
            .nb = -10 * DAY, .na = 200 * DAY, .mismatch = true, .sni = "www.example.com"},
        CS_CRITICAL, "hostname mismatch: www.example.com not in the certificate's names");
    /* expiry beats trust: an expired self-signed certificate is EXPIRED */
    run(&(struct case_){.nb = -300 * DAY, .na = -DAY, .untrusted = true}, CS_EXPIRED,
        "expired 1 day ago");
}

/* The name that was checked, and whether the leaf had any DNS name at all. */
Test(classify, hostname_mismatch_reasons)
{
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .mismatch = true,
                        .sni = "www.example.com",
                        .no_dns_names = true},
        CS_CRITICAL, "hostname mismatch: certificate has no DNS names");
    /* an IP literal is checked against the IP addresses: named, whatever DNS names */
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .mismatch = true,
                        .host = "192.0.2.10",
                        .no_dns_names = true},
        CS_CRITICAL, "hostname mismatch: 192.0.2.10 not in the certificate's names");
    /* --sni for an IP literal: the SNI is the name checked */
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .mismatch = true,
                        .host = "192.0.2.10",
                        .sni = "api.example.com"},
        CS_CRITICAL, "hostname mismatch: api.example.com not in the certificate's names");
    /* a trust failure comes first */
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .mismatch = true,
                        .untrusted = true,
                        .sni = "www.example.com"},
        CS_CRITICAL, "untrusted: unable to get local issuer certificate");
}

/* Exactly crit (or warn) seconds left is already CRITICAL (WARNING); one
   second more is not. */
Test(classify, threshold_boundaries)
{
    run(&(struct case_){.nb = -300 * DAY, .na = 7 * DAY, .warn = 30 * DAY, .crit = 7 * DAY},
        CS_CRITICAL, "expires in 7 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 7 * DAY + 1, .warn = 30 * DAY, .crit = 7 * DAY},
        CS_WARNING, "expires in 7 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 30 * DAY, .warn = 30 * DAY, .crit = 7 * DAY},
        CS_WARNING, "expires in 30 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 30 * DAY + 1, .warn = 30 * DAY, .crit = 7 * DAY},
        CS_OK, "expires in 30 days");
    /* lifetime-aware: 60-day lifetime, crit = 6 days */
    run(&(struct case_){.nb = -54 * DAY, .na = 6 * DAY}, CS_CRITICAL,
        "expires in 6 days (renewal failing: <1/10 of 60-day lifetime left)");
    run(&(struct case_){.nb = -54 * DAY, .na = 6 * DAY + 1}, CS_WARNING,
        "expires in 6 days (renewal overdue: <1/3 of 60-day lifetime left)");
}

Test(classify, no_verify_skips_rule_4_only)
{
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .untrusted = true,
                        .mismatch = true,
                        .no_verify = true},
        CS_OK, "expires in 200 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 3 * DAY, .untrusted = true, .no_verify = true},
        CS_CRITICAL, "expires in 3 days");
}

Test(classify, lifetime_aware_thresholds)
{
    /* 6-day certificate: warn = 2 days, crit = 0.6 days */
    run(&(struct case_){.nb = -3 * DAY, .na = 3 * DAY}, CS_OK, "expires in 3 days");
    run(&(struct case_){.nb = -(6 * DAY - 2.9 * DAY), .na = 2.9 * DAY}, CS_OK, "expires in 2 days");
    run(&(struct case_){.nb = -(6 * DAY - 1.5 * DAY), .na = 1.5 * DAY}, CS_WARNING,
        "expires in 1 day (renewal overdue: <1/3 of 6-day lifetime left)");
    run(&(struct case_){.nb = -(6 * DAY - DAY / 2), .na = DAY / 2}, CS_CRITICAL,
        "expires in 12 hours (renewal failing: <1/10 of 6-day lifetime left)");
    /* 47-day certificate with 12 days left */
    run(&(struct case_){.nb = -35 * DAY, .na = 12 * DAY}, CS_WARNING,
        "expires in 12 days (renewal overdue: <1/3 of 47-day lifetime left)");
    /* 90-day certificate: 30 days is exactly a third: the 30-day cap applies */
    run(&(struct case_){.nb = -61 * DAY, .na = 29 * DAY}, CS_WARNING, "expires in 29 days");
    run(&(struct case_){.nb = -59 * DAY, .na = 31 * DAY}, CS_OK, "expires in 31 days");
}

Test(classify, explicit_thresholds_are_fixed)
{
    run(&(struct case_){.nb = -3 * DAY, .na = 3 * DAY, .warn = 7 * DAY, .crit = 2 * DAY},
        CS_WARNING, "expires in 3 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 20 * DAY, .warn = 10 * DAY}, CS_OK,
        "expires in 20 days");
    run(&(struct case_){.nb = -300 * DAY, .na = 20 * DAY, .warn = 30 * DAY, .crit = 21 * DAY},
        CS_CRITICAL, "expires in 20 days");
    /* seconds, not rounded days: 7 days and 1 second left is not within -c 7 */
    run(&(struct case_){.nb = -300 * DAY, .na = 7 * DAY + 1, .warn = 8 * DAY, .crit = 7 * DAY},
        CS_WARNING, "expires in 7 days");
}

Test(classify, extra_expired_certificate_warns)
{
    run(&(struct case_){.nb = -10 * DAY, .na = 200 * DAY, .extra_expired = "Old Root"}, CS_WARNING,
        "expires in 200 days; extra certificate \"Old Root\" sent by the server expired");
}

Test(classify, error_record)
{
    struct cs_result r;
    cs_result_init(&r);
    cs_classify_error(&r, "dns: NXDOMAIN");
    cr_assert_eq(r.status, CS_ERROR);
    cr_assert_str_eq(r.reason, "dns: NXDOMAIN");
    cr_assert_str_eq(r.error, "dns: NXDOMAIN");
    cr_assert_eq(r.days_remaining, CS_INT_NONE);
    cs_result_free(&r);
}

Test(classify, intermediate_expiring_first_is_named)
{
    run(&(struct case_){.nb = -10 * DAY, .na = 80 * DAY, .intermediate_na = 5 * DAY}, CS_CRITICAL,
        "intermediate \"R11\" expires in 5 days; leaf expires in 80 days");
    run(&(struct case_){.nb = -10 * DAY, .na = 80 * DAY, .intermediate_na = 20 * DAY}, CS_WARNING,
        "intermediate \"R11\" expires in 20 days; leaf expires in 80 days");
    run(&(struct case_){.nb = -10 * DAY, .na = 80 * DAY, .intermediate_na = 60 * DAY}, CS_OK,
        "expires in 80 days; intermediate \"R11\" expires first, in 60 days");
    /* a leaf already CRITICAL stays so, and says why first */
    run(&(struct case_){.nb = -300 * DAY, .na = 3 * DAY, .intermediate_na = 2 * DAY}, CS_CRITICAL,
        "expires in 3 days; intermediate \"R11\" expires first, in 2 days");
    /* explicit thresholds apply to the intermediate too */
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 80 * DAY,
                        .intermediate_na = 20 * DAY,
                        .warn = 10 * DAY,
                        .crit = 2 * DAY},
        CS_OK, "expires in 80 days; intermediate \"R11\" expires first, in 20 days");
}

Test(classify, revoked_ranks_right_after_expired)
{
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .revocation = "revoked",
                        .revoked_reason = "keyCompromise",
                        .revoked_at = -2 * DAY},
        CS_CRITICAL, "revoked (keyCompromise) at 2026-09-19T14:13:20Z");
    /* before every other CRITICAL rule */
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .untrusted = true,
                        .revocation = "revoked",
                        .revoked_at = -DAY},
        CS_CRITICAL, "revoked (unspecified) at 2026-09-20T14:13:20Z");
    /* an expired leaf stays EXPIRED */
    run(&(struct case_){.nb = -300 * DAY,
                        .na = -DAY,
                        .revocation = "revoked",
                        .revoked_reason = "superseded",
                        .revoked_at = -2 * DAY},
        CS_EXPIRED, "expired 1 day ago");
}

Test(classify, failed_check_changes_nothing_unless_required)
{
    run(&(struct case_){.nb = -10 * DAY, .na = 200 * DAY, .revocation = "error: ocsp: timed out"},
        CS_OK, "expires in 200 days");
    run(&(struct case_){.nb = -10 * DAY, .na = 200 * DAY, .revocation = "unknown"}, CS_OK,
        "expires in 200 days");
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .revocation = "error: ocsp: timed out",
                        .require_revocation = true},
        CS_CRITICAL, "revocation error: ocsp: timed out");
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .revocation = "unchecked",
                        .require_revocation = true},
        CS_CRITICAL, "revocation unchecked");
    run(
        &(struct case_){
            .nb = -10 * DAY, .na = 200 * DAY, .revocation = "good", .require_revocation = true},
        CS_OK, "expires in 200 days");
}

Test(classify, untrustworthy_staple_warns)
{
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 200 * DAY,
                        .revocation = "good",
                        .staple_problem = "expired (nextUpdate 2026-09-20T14:13:20Z)"},
        CS_WARNING,
        "expires in 200 days; stapled OCSP response expired (nextUpdate 2026-09-20T14:13:20Z)");
    run(&(struct case_){.nb = -300 * DAY,
                        .na = 3 * DAY,
                        .staple_problem = "signature does not verify"},
        CS_CRITICAL, "expires in 3 days; stapled OCSP response signature does not verify");
}

/* The record for a leaf valid from 300 days before NOW to NOW + na,
   classified with lifetime-aware thresholds. */
static struct cs_result classified(int64_t na)
{
    struct cs_result r;
    cs_result_init(&r);
    r.not_before = NOW - 300 * DAY;
    r.not_after = NOW + na;
    r.hostname_match = 1;
    free(r.verify);
    r.verify = cs_strdup("ok");
    struct cs_chain_facts f;
    memset(&f, 0, sizeof(f));
    f.verify_ok = true;
    f.soonest_at = CS_INT_NONE;
    struct cs_thresholds th = {-1, -1, true, false};
    cs_classify(&r, &f, NOW, &th);
    return r;
}

/* The whole days a reason says ("expires in 3 days", "expired 1 day ago");
   0 when it counts hours, minutes or seconds. */
static long long reason_days(const char *reason)
{
    long long n = 0;
    char unit[16] = "";
    if (sscanf(reason, "expires in %lld %15s", &n, unit) != 2 &&
        sscanf(reason, "expired %lld %15s", &n, unit) != 2)
        cr_assert_fail("no span in \"%s\"", reason);
    if (strncmp(unit, "day", 3) != 0)
        return 0;
    return strncmp(reason, "expired", 7) == 0 ? -n : n;
}

struct wording {
    int64_t na; /* seconds from NOW to notAfter */
    enum cs_status status;
    int64_t days; /* days_remaining */
    const char *reason;
};

/* One rounding rule for DAYS and REASON: whole units toward zero; under a
   day the reason counts hours, then minutes, then seconds. */
Test(classify, days_and_reason_agree_at_the_boundaries)
{
    static const struct wording cases[] = {
        {60, CS_CRITICAL, 0, "expires in 1 minute"},
        {61, CS_CRITICAL, 0, "expires in 1 minute"},
        {119, CS_CRITICAL, 0, "expires in 1 minute"},
        {120, CS_CRITICAL, 0, "expires in 2 minutes"},
        {59, CS_CRITICAL, 0, "expires in 59 seconds"},
        {1, CS_CRITICAL, 0, "expires in 1 second"},
        {3600, CS_CRITICAL, 0, "expires in 1 hour"},
        {5 * 3600, CS_CRITICAL, 0, "expires in 5 hours"},
        {5 * 3600 + 3599, CS_CRITICAL, 0, "expires in 5 hours"},
        {DAY - 1, CS_CRITICAL, 0, "expires in 23 hours"},
        {DAY, CS_CRITICAL, 1, "expires in 1 day"},
        {2 * DAY - 1, CS_CRITICAL, 1, "expires in 1 day"},
        {2 * DAY, CS_CRITICAL, 2, "expires in 2 days"},
        {0, CS_EXPIRED, 0, "expired 0 seconds ago"},
        {-1, CS_EXPIRED, 0, "expired 1 second ago"},
        {-60, CS_EXPIRED, 0, "expired 1 minute ago"},
        {-20 * 60, CS_EXPIRED, 0, "expired 20 minutes ago"},
        {-20 * 60 - 59, CS_EXPIRED, 0, "expired 20 minutes ago"},
        {-3600, CS_EXPIRED, 0, "expired 1 hour ago"},
        {-(DAY - 1), CS_EXPIRED, 0, "expired 23 hours ago"},
        {-DAY, CS_EXPIRED, -1, "expired 1 day ago"},
        {-(DAY + DAY / 2), CS_EXPIRED, -1, "expired 1 day ago"},
        {-(3 * DAY + DAY / 2), CS_EXPIRED, -3, "expired 3 days ago"},
        {-4 * DAY, CS_EXPIRED, -4, "expired 4 days ago"},
        {19 * DAY + DAY / 2, CS_WARNING, 19, "expires in 19 days"},
        {199 * DAY + 23 * 3600, CS_OK, 199, "expires in 199 days"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct wording *c = &cases[i];
        struct cs_result r = classified(c->na);
        cr_assert_eq(r.status, c->status, "%lld s: status %s", (long long)c->na,
                     cs_status_name(r.status));
        cr_assert_str_eq(r.reason, c->reason, "%lld s", (long long)c->na);
        cr_assert_eq(r.days_remaining, c->days, "%lld s: days_remaining %lld, want %lld",
                     (long long)c->na, (long long)r.days_remaining, (long long)c->days);
        cr_assert_eq(reason_days(r.reason), r.days_remaining, "%lld s: \"%s\" beside DAYS %lld",
                     (long long)c->na, r.reason, (long long)r.days_remaining);
        cr_assert_eq(cs_days_left(r.not_after, NOW), r.days_remaining);
        cs_result_free(&r);
    }
}

/* Intermediates are worded by the same rule. */
Test(classify, intermediates_follow_the_same_rounding)
{
    run(&(struct case_){.nb = -10 * DAY, .na = 80 * DAY, .intermediate_na = 5 * 3600}, CS_CRITICAL,
        "intermediate \"R11\" expires in 5 hours; leaf expires in 80 days");
    run(&(struct case_){.nb = -10 * DAY, .na = 80 * DAY, .intermediate_na = 2 * DAY + 3600},
        CS_CRITICAL, "intermediate \"R11\" expires in 2 days; leaf expires in 80 days");
    run(&(struct case_){.nb = -10 * DAY, .na = 80 * DAY, .intermediate_na = 60}, CS_CRITICAL,
        "intermediate \"R11\" expires in 1 minute; leaf expires in 80 days");
    run(&(struct case_){.nb = -10 * DAY,
                        .na = 80 * DAY,
                        .expired_name = "R11",
                        .expired_ago = 3 * DAY + DAY / 2},
        CS_EXPIRED, "intermediate \"R11\" expired 3 days ago");
    run(
        &(struct case_){
            .nb = -10 * DAY, .na = 80 * DAY, .expired_name = "R11", .expired_ago = 1200},
        CS_EXPIRED, "intermediate \"R11\" expired 20 minutes ago");
}
