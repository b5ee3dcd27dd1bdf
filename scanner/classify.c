/* Classification (see classify.h).  Thresholds compare seconds, never the
 * rounded days_remaining.  Every span of time a reason names is written by
 * one function (classify_span) with one rule, the one days_remaining uses:
 * whole units rounded toward zero, so DAYS and REASON always say the same
 * number, and under a day the reason counts hours, minutes or seconds. */
#include "scanner/classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

int64_t cs_days_left(int64_t not_after, int64_t now)
{
    return (not_after - now) / DAY; /* C division rounds toward zero */
}

/* "N days" (or hours, minutes, seconds under a day) in the span `secs`
   (its magnitude), rounded toward zero in the largest unit that is not 0. */
static void classify_span(int64_t secs, char *buf, size_t len)
{
    static const struct {
        int64_t secs;
        const char *name;
    } units[] = {{DAY, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
    uint64_t mag = secs < 0 ? -(uint64_t)secs : (uint64_t)secs;
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && mag < (uint64_t)units[u].secs)
        u++;
    uint64_t n = mag / (uint64_t)units[u].secs;
    snprintf(buf, len, "%llu %s%s", (unsigned long long)n, units[u].name, n == 1 ? "" : "s");
}

/* "expires in N days" or "expired N days ago" for the span from now to t. */
static void classify_when(int64_t t, int64_t now, char *buf, size_t len)
{
    char span[48];
    classify_span(t - now, span, sizeof(span));
    if (t > now)
        snprintf(buf, len, "expires in %s", span);
    else
        snprintf(buf, len, "expired %s ago", span);
}

char *cs_classify_expiry(int64_t not_after, int64_t now)
{
    char when[64];
    classify_when(not_after, now, when, sizeof(when));
    return cs_strdup(when);
}

static void set(struct cs_result *r, enum cs_status s, char *reason)
{
    r->status = s;
    free(r->reason);
    r->reason = reason;
}

void cs_classify_error(struct cs_result *r, const char *why)
{
    set(r, CS_ERROR, cs_strdup(why));
    free(r->error);
    r->error = cs_strdup(why);
}

void cs_classify(struct cs_result *r, const struct cs_chain_facts *f, int64_t now,
                 const struct cs_thresholds *th)
{
    int64_t left = r->not_after - now;
    int64_t lifetime = r->not_after - r->not_before;
    char span[80];
    r->days_remaining = cs_days_left(r->not_after, now);
    if (lifetime < 0)
        lifetime = 0;

    if (left <= 0) {
        classify_when(r->not_after, now, span, sizeof(span));
        set(r, CS_EXPIRED, cs_strdup(span));
        return;
    }
    if (f->expired_name[0]) {
        classify_when(f->expired_at, now, span, sizeof(span)); /* expired_at <= now */
        set(r, CS_EXPIRED, cs_asprintf("intermediate \"%s\" %s", f->expired_name, span));
        return;
    }
    if (r->revocation && strcmp(r->revocation, "revoked") == 0) {
        char when[24] = "";
        if (r->revoked_at != CS_INT_NONE)
            cs_format_time(r->revoked_at, when);
        set(r, CS_CRITICAL,
            cs_asprintf("revoked (%s)%s%s",
                        r->revocation_reason ? r->revocation_reason : "unspecified",
                        when[0] ? " at " : "", when));
        return;
    }
    if (r->not_before > now) {
        char when[24];
        cs_format_time(r->not_before, when);
        set(r, CS_CRITICAL, cs_asprintf("not yet valid (valid from %s)", when));
        return;
    }
    if (th->verify && !f->verify_ok) {
        set(r, CS_CRITICAL, cs_asprintf("untrusted: %s", r->verify));
        return;
    }
    if (th->verify && r->hostname_match == 0) {
        /* the name checked: the SNI sent, else (an IP literal) the host */
        bool ip = !r->sni || !r->sni[0];
        const char *name = ip ? r->host : r->sni;
        if (!ip && f->no_dns_names)
            set(r, CS_CRITICAL, cs_strdup("hostname mismatch: certificate has no DNS names"));
        else
            set(r, CS_CRITICAL,
                cs_asprintf("hostname mismatch: %s not in the certificate's names",
                            name ? name : ""));
        return;
    }
    if (th->require_revocation && (!r->revocation || strcmp(r->revocation, "good") != 0)) {
        set(r, CS_CRITICAL,
            cs_asprintf("revocation %s", r->revocation ? r->revocation : "unchecked"));
        return;
    }

    int64_t warn = th->warn_secs, crit = th->crit_secs;
    bool warn_life = false, crit_life = false;
    if (warn < 0) {
        warn = 30 * DAY;
        if (lifetime / 3 < warn) {
            warn = lifetime / 3;
            warn_life = true;
        }
    }
    if (crit < 0) {
        crit = 7 * DAY;
        if (lifetime / 10 < crit) {
            crit = lifetime / 10;
            crit_life = true;
        }
    }
    int64_t life_days = (lifetime + DAY / 2) / DAY;
    enum cs_status status = CS_OK;
    const char *why = NULL; /* which lifetime rule fired, if one did */
    if (left <= crit) {
        status = CS_CRITICAL;
        why = crit_life ? "renewal failing: <1/10" : NULL;
    } else if (left <= warn) {
        status = CS_WARNING;
        why = warn_life ? "renewal overdue: <1/3" : NULL;
    }
    classify_when(r->not_after, now, span, sizeof(span));
    if (why)
        set(r, status,
            cs_asprintf("%s (%s of %lld-day lifetime left)", span, why, (long long)life_days));
    else
        set(r, status, cs_strdup(span));
    /* chain health: an intermediate that expires before the leaf is named;
       within -w/-c (default 30/7 days) it sets the status */
    if (f->soonest_at != CS_INT_NONE && f->soonest_at < r->not_after) {
        int64_t ileft = f->soonest_at - now;
        int64_t iwarn = th->warn_secs >= 0 ? th->warn_secs : 30 * DAY;
        int64_t icrit = th->crit_secs >= 0 ? th->crit_secs : 7 * DAY;
        enum cs_status ist = ileft <= icrit ? CS_CRITICAL : ileft <= iwarn ? CS_WARNING : CS_OK;
        char *reason, ispan[48];
        classify_span(ileft, ispan, sizeof(ispan));
        if (ist > r->status)
            reason = cs_asprintf("intermediate \"%s\" expires in %s; leaf %s", f->soonest_name,
                                 ispan, r->reason);
        else
            reason = cs_asprintf("%s; intermediate \"%s\" expires first, in %s", r->reason,
                                 f->soonest_name, ispan);
        set(r, ist > r->status ? ist : r->status, reason);
    }
    if (f->extra_expired[0]) {
        char *reason = cs_asprintf("%s; extra certificate \"%s\" sent by the server expired",
                                   r->reason, f->extra_expired);
        set(r, r->status == CS_OK ? CS_WARNING : r->status, reason);
    }
    if (f->staple_problem[0]) {
        char *reason = cs_asprintf("%s; stapled OCSP response %s", r->reason, f->staple_problem);
        set(r, r->status == CS_OK ? CS_WARNING : r->status, reason);
    }
}

void cs_classify_not_deployed(struct cs_result *r, const char *path, int64_t renewed)
{
    char when[24];
    cs_format_time(renewed, when);
    when[10] = '\0'; /* the date */
    if (r->status == CS_OK)
        set(r, CS_WARNING,
            cs_asprintf("serving an older certificate than %s (renewed %s, not deployed); %s", path,
                        when, r->reason));
    else
        set(r, r->status,
            cs_asprintf("%s; serving an older certificate than %s (renewed %s, not deployed)",
                        r->reason, path, when));
}
