/* Certificate hygiene policy (see policy.h): the policy file's parser and
 * the rules.  The parser is written by hand and strict: a line it does not
 * understand is an error naming the file and the line, never skipped. */
#include "scanner/policy.h"

#include "scanner/targets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#define DAY 86400
#define TLS_EXT_STATUS_REQUEST 5 /* RFC 6066; the TLS Feature of must-staple (RFC 7633) */
#define CT_SHORT_LIFETIME (180 * (int64_t)DAY)

void cs_policy_init(struct cs_policy *p)
{
    memset(p, 0, sizeof(*p));
}

void cs_policy_free(struct cs_policy *p)
{
    cs_strlist_free(&p->issuers);
    memset(p, 0, sizeof(*p));
}

bool cs_policy_active(const struct cs_policy *p)
{
    return p && (p->baseline || p->min_rsa_bits.level || p->min_ec_bits.level ||
                 p->max_days.level || p->no_wildcards.level || p->allow_issuer.level);
}

/* ---- the policy file -------------------------------------------------------------------- */

enum arg_kind { ARG_NONE, ARG_NUMBER, ARG_STRING };

static const struct rule_def {
    const char *name;
    size_t offset; /* of its struct cs_policy_rule in struct cs_policy */
    enum arg_kind arg;
    uint64_t min, max;
    const char *example;
} rule_defs[] = {
    {"allow-issuer", offsetof(struct cs_policy, allow_issuer), ARG_STRING, 0, 0,
     "allow-issuer \"O=Example,CN=Example CA\""},
    {"max-days", offsetof(struct cs_policy, max_days), ARG_NUMBER, 1, 3650, "max-days 90"},
    {"min-ec-bits", offsetof(struct cs_policy, min_ec_bits), ARG_NUMBER, 160, 571,
     "min-ec-bits 384"},
    {"min-rsa-bits", offsetof(struct cs_policy, min_rsa_bits), ARG_NUMBER, 1024, 16384,
     "min-rsa-bits 3072"},
    {"no-wildcards", offsetof(struct cs_policy, no_wildcards), ARG_NONE, 0, 0, "no-wildcards"},
};
#define N_RULES (sizeof(rule_defs) / sizeof(rule_defs[0]))
#define KNOWN_RULES "allow-issuer, max-days, min-ec-bits, min-rsa-bits, no-wildcards"
#define MAX_WORDS 4

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

struct word {
    char *text; /* owned; a quoted string without its quotes and escapes */
    bool quoted;
};

static void words_free(struct word *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i].text);
}

/* A quoted string at s[*i] (on its opening quote): \" and \\ are the only
   escapes.  The text, or NULL with why in err. */
static char *quoted(const char *s, size_t len, size_t *i, char *err, size_t errlen)
{
    char *out = cs_xmalloc(len + 1);
    size_t n = 0;
    for (size_t k = *i + 1; k < len; k++) {
        if (s[k] == '"') {
            out[n] = '\0';
            *i = k + 1;
            if (*i < len && s[*i] != ' ' && s[*i] != '\t' && s[*i] != '#') {
                free(out);
                fail(err, errlen, "text right after a closing quote (put a blank between)");
                return NULL;
            }
            return out;
        }
        if (s[k] == '\\') {
            if (k + 1 >= len || (s[k + 1] != '"' && s[k + 1] != '\\')) {
                free(out);
                fail(err, errlen, "unknown escape in a quoted string (only \\\" and \\\\)");
                return NULL;
            }
            k++;
        }
        out[n++] = s[k];
    }
    free(out);
    fail(err, errlen, "a quoted string is not closed");
    return NULL;
}

/* Splits a line into at most MAX_WORDS words; '#' outside quotes starts a
   comment.  The number of words, or -1 with why in err. */
static int split(const char *s, size_t len, struct word *w, char *err, size_t errlen)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        if (s[i] == '#')
            break;
        if (n == MAX_WORDS) {
            words_free(w, (size_t)n);
            return fail(err, errlen, "too many words (a rule, its value and 'critical')");
        }
        if (s[i] == '"') {
            char *text = quoted(s, len, &i, err, errlen);
            if (!text) {
                words_free(w, (size_t)n);
                return -1;
            }
            w[n++] = (struct word){text, true};
            continue;
        }
        size_t start = i;
        while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '#') {
            if (s[i] == '"') {
                words_free(w, (size_t)n);
                return fail(err, errlen, "a quote inside a word (quote the whole value)");
            }
            i++;
        }
        w[n++] = (struct word){cs_strndup(s + start, i - start), false};
    }
    return n;
}

static const struct rule_def *rule_by_name(const char *name)
{
    for (size_t i = 0; i < N_RULES; i++)
        if (strcmp(rule_defs[i].name, name) == 0)
            return &rule_defs[i];
    return NULL;
}

static bool whole_number(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9' || strlen(s) > 9)
        return false;
    uint64_t v = strtoull(s, NULL, 10);
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* The rule def with its words w[1..n) (the value and 'critical'). */
static int apply_rule(struct cs_policy *p, const struct rule_def *d, struct word *w, int n,
                      unsigned line, char *err, size_t errlen)
{
    struct cs_policy_rule *rule = (struct cs_policy_rule *)((char *)p + d->offset);
    int at = 1;
    uint64_t value = 0;
    if (d->arg != ARG_NONE) {
        bool want_string = d->arg == ARG_STRING;
        if (at >= n || w[at].quoted != want_string ||
            (!want_string && strcmp(w[at].text, "critical") == 0))
            return fail(err, errlen, "%s needs %s (e.g. %s)", d->name,
                        want_string ? "a quoted issuer name" : "a number", d->example);
        if (want_string && !w[at].text[0])
            return fail(err, errlen, "%s needs a name, not an empty string", d->name);
        if (!want_string && !whole_number(w[at].text, d->min, d->max, &value))
            return fail(err, errlen, "%s takes a whole number from %llu to %llu, not '%s'", d->name,
                        (unsigned long long)d->min, (unsigned long long)d->max, w[at].text);
        at++;
    }
    bool critical = false;
    if (at < n && !w[at].quoted && strcmp(w[at].text, "critical") == 0) {
        critical = true;
        at++;
    }
    if (at < n)
        return fail(err, errlen, "unexpected '%s' after %s (only 'critical' may follow)",
                    w[at].text, d->name);
    if (d->arg == ARG_STRING) {
        if (p->issuers.n >= CS_POLICY_ISSUERS_MAX)
            return fail(err, errlen, "more than %d %s lines", CS_POLICY_ISSUERS_MAX, d->name);
        cs_strlist_add(&p->issuers, w[1].text);
        if (!rule->level)
            rule->line = line;
        if (critical || !rule->level)
            rule->level = critical ? CS_CRITICAL : CS_WARNING;
        return 0;
    }
    if (rule->level)
        return fail(err, errlen, "%s is given twice (first on line %u)", d->name, rule->line);
    *rule = (struct cs_policy_rule){critical ? CS_CRITICAL : CS_WARNING, value, line};
    return 0;
}

int cs_policy_parse_line(struct cs_policy *p, const char *text, size_t len, unsigned line,
                         char *err, size_t errlen)
{
    if (memchr(text, '\0', len))
        return fail(err, errlen, "NUL byte in the line");
    struct word w[MAX_WORDS];
    int n = split(text, len, w, err, errlen);
    if (n <= 0)
        return n;
    int rc;
    const struct rule_def *d = w[0].quoted ? NULL : rule_by_name(w[0].text);
    if (!d) {
        char shown[64];
        cs_escape(w[0].text, strlen(w[0].text), shown, sizeof(shown));
        rc = fail(err, errlen, "unknown rule '%s' (known: %s)", shown, KNOWN_RULES);
    } else {
        rc = apply_rule(p, d, w, n, line, err, errlen);
    }
    words_free(w, (size_t)n);
    return rc;
}

/* Reads one line of at most CS_POLICY_LINE_MAX bytes into buf (its line end
   dropped).  1, 0 at the end of the file, or -1 with why in err. */
static int read_line(FILE *fp, char *buf, size_t *len, char *err, size_t errlen)
{
    int c;
    *len = 0;
    while ((c = getc(fp)) != EOF && c != '\n') {
        if (*len == CS_POLICY_LINE_MAX)
            return fail(err, errlen, "line longer than %d bytes", CS_POLICY_LINE_MAX);
        buf[(*len)++] = (char)c;
    }
    if (ferror(fp))
        return fail(err, errlen, "read error: %s", strerror(errno));
    if (c == EOF && *len == 0)
        return 0;
    if (*len && buf[*len - 1] == '\r')
        (*len)--;
    return 1;
}

int cs_policy_load(struct cs_policy *p, const char *path, char *err, size_t errlen)
{
    char shown[256], why[512];
    cs_escape(path, strlen(path), shown, sizeof(shown));
    FILE *fp = fopen(path, "r");
    if (!fp)
        return fail(err, errlen, "%s: cannot read: %s", shown, strerror(errno));
    char *buf = cs_xmalloc(CS_POLICY_LINE_MAX);
    size_t len;
    unsigned line = 0;
    int rc = 0, got;
    while (rc == 0 && (got = read_line(fp, buf, &len, why, sizeof(why))) != 0) {
        line++;
        const char *text = buf;
        if (line == 1 && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) { /* a BOM */
            text += 3;
            len -= 3;
        }
        if (got < 0 || line > CS_POLICY_LINES_MAX ||
            cs_policy_parse_line(p, text, len, line, why, sizeof(why)) < 0) {
            if (got > 0 && line > CS_POLICY_LINES_MAX)
                snprintf(why, sizeof(why), "more than %d lines", CS_POLICY_LINES_MAX);
            rc = fail(err, errlen, "%s:%u: %s", shown, line, why);
        }
    }
    free(buf);
    fclose(fp);
    return rc;
}

/* ---- the rules ---------------------------------------------------------------------------- */

/* CA/Browser Forum Baseline Requirements 6.3.2: the longest validity of a
   subscriber certificate, by the date it was issued (its notBefore):
   ballot SC-081's schedule, and the 398 days in force since 2020-09-01. */
static const struct {
    int64_t from; /* notBefore on or after, unix seconds, 00:00:00Z */
    int64_t days;
} br_tiers[] = {
    {1868227200, 47},  /* 2029-03-15 */
    {1805068800, 100}, /* 2027-03-15 */
    {1773532800, 200}, /* 2026-03-15 */
    {1598918400, 398}, /* 2020-09-01 */
};
#define BR_BEFORE_2020_DAYS 825 /* from 2018-03-01; nothing older is still valid */

int64_t cs_policy_br_max_days(int64_t not_before)
{
    for (size_t i = 0; i < sizeof(br_tiers) / sizeof(br_tiers[0]); i++)
        if (not_before >= br_tiers[i].from)
            return br_tiers[i].days;
    return BR_BEFORE_2020_DAYS;
}

int64_t cs_policy_validity_days(int64_t not_before, int64_t not_after)
{
    int64_t secs = not_after - not_before + 1; /* notBefore through notAfter, inclusive */
    return secs <= 0 ? 0 : (secs + DAY - 1) / DAY;
}

/* Appends one finding: to the list, to the reason, and to the status. */
static void finding(struct cs_result *r, enum cs_status level, char *text)
{
    cs_strlist_add(&r->findings, text);
    char *reason = cs_asprintf("%s; policy: %s", r->reason ? r->reason : "", text);
    free(r->reason);
    r->reason = reason;
    if (r->status < level)
        r->status = level;
    free(text);
}

/* Embedded SCTs from distinct logs (counted up to cap), or -1 when the
   extension cannot be read.  Their signatures are not checked: that needs
   the logs' keys, which a browser's log list carries. */
static int distinct_sct_logs(X509 *leaf, int cap)
{
    int crit = -1;
    STACK_OF(SCT) *scts = X509_get_ext_d2i(leaf, NID_ct_precert_scts, &crit, NULL);
    if (!scts) {
        ERR_clear_error();
        return crit == -1 ? 0 : -1;
    }
    const unsigned char *ids[8];
    size_t lens[8];
    int n = 0;
    for (int i = 0; i < sk_SCT_num(scts) && n < cap && n < 8; i++) {
        SCT *sct = sk_SCT_value(scts, i);
        unsigned char *id = NULL;
        size_t len = SCT_get_version(sct) == SCT_VERSION_V1 ? SCT_get0_log_id(sct, &id) : 0;
        bool seen = len == 0;
        for (int k = 0; k < n && !seen; k++)
            seen = lens[k] == len && memcmp(ids[k], id, len) == 0;
        if (!seen) {
            ids[n] = id;
            lens[n++] = len;
        }
    }
    SCT_LIST_free(scts);
    return n;
}

/* The leaf asks its server to staple (TLS Feature status_request, RFC 7633). */
static bool must_staple(X509 *leaf)
{
    int crit = -1;
    TLS_FEATURE *features = X509_get_ext_d2i(leaf, NID_tlsfeature, &crit, NULL);
    bool yes = false;
    for (int i = 0; features && i < sk_ASN1_INTEGER_num(features); i++)
        yes = yes || ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)) == TLS_EXT_STATUS_REQUEST;
    sk_ASN1_INTEGER_pop_free(features, ASN1_INTEGER_free);
    ERR_clear_error();
    return yes;
}

static void apply_baseline(const struct cs_policy_input *in, struct cs_result *r)
{
    if (in->trusted) {
        int64_t max = cs_policy_br_max_days(r->not_before);
        int64_t days = cs_policy_validity_days(r->not_before, r->not_after);
        if (days > max) {
            char nb[24];
            cs_format_time(r->not_before, nb);
            finding(r, CS_WARNING,
                    cs_asprintf("validity %lld days exceeds %lld (notBefore %.10s)",
                                (long long)days, (long long)max, nb));
        }
        /* Chrome's and Apple's CT policies: lifetime notAfter - notBefore */
        int need = r->not_after - r->not_before > CT_SHORT_LIFETIME ? 3 : 2;
        int logs = distinct_sct_logs(in->leaf, need);
        if (logs < 0)
            finding(r, CS_WARNING,
                    cs_asprintf("embedded SCT list unreadable, browsers require %d", need));
        else if (logs == 0)
            finding(r, CS_WARNING, cs_asprintf("no embedded SCTs, browsers require %d", need));
        else if (logs < need)
            finding(r, CS_WARNING,
                    cs_asprintf("embedded SCTs from %d log%s, browsers require %d", logs,
                                logs == 1 ? "" : "s", need));
    }
    if (r->ocsp_stapled == 0 && must_staple(in->leaf))
        finding(r, CS_WARNING, cs_strdup("must-staple certificate served without an OCSP staple"));
}

static void apply_key_rules(const struct cs_policy *p, const struct cs_policy_input *in,
                            struct cs_result *r)
{
    EVP_PKEY *key = X509_get0_pubkey(in->leaf);
    if (!key)
        return;
    int bits = EVP_PKEY_get_bits(key);
    const char *shown = r->key ? r->key : "?";
    bool rsa = EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS");
    if (p->min_rsa_bits.level && rsa && (uint64_t)bits < p->min_rsa_bits.value)
        finding(r, p->min_rsa_bits.level,
                cs_asprintf("key %s below min-rsa-bits %llu", shown,
                            (unsigned long long)p->min_rsa_bits.value));
    if (p->min_ec_bits.level && EVP_PKEY_is_a(key, "EC") && (uint64_t)bits < p->min_ec_bits.value)
        finding(r, p->min_ec_bits.level,
                cs_asprintf("key %s below min-ec-bits %llu", shown,
                            (unsigned long long)p->min_ec_bits.value));
}

static void apply_file_rules(const struct cs_policy *p, const struct cs_policy_input *in,
                             struct cs_result *r)
{
    apply_key_rules(p, in, r);
    int64_t days = cs_policy_validity_days(r->not_before, r->not_after);
    if (p->max_days.level && (uint64_t)days > p->max_days.value)
        finding(r, p->max_days.level,
                cs_asprintf("validity %lld days exceeds max-days %llu", (long long)days,
                            (unsigned long long)p->max_days.value));
    if (p->allow_issuer.level) {
        bool allowed = false;
        for (size_t i = 0; i < p->issuers.n && !allowed; i++)
            allowed = r->issuer && strcmp(r->issuer, p->issuers.v[i]) == 0;
        if (!allowed)
            finding(r, p->allow_issuer.level,
                    cs_asprintf("issuer \"%s\" not in allow-issuer", r->issuer ? r->issuer : ""));
    }
    if (p->no_wildcards.level) {
        const char *first = NULL;
        size_t more = 0;
        for (size_t i = 0; i < r->sans.n; i++)
            if (strchr(r->sans.v[i], '*')) {
                more += first != NULL;
                first = first ? first : r->sans.v[i];
            }
        if (first && more)
            finding(r, p->no_wildcards.level,
                    cs_asprintf("wildcard names %s and %zu more (no-wildcards)", first, more));
        else if (first)
            finding(r, p->no_wildcards.level,
                    cs_asprintf("wildcard name %s (no-wildcards)", first));
    }
}

void cs_policy_apply(const struct cs_policy *p, const struct cs_policy_input *in,
                     struct cs_result *r)
{
    if (!cs_policy_active(p) || !in->leaf || r->status == CS_ERROR ||
        r->not_before == CS_INT_NONE || r->not_after == CS_INT_NONE)
        return;
    if (p->baseline)
        apply_baseline(in, r);
    apply_file_rules(p, in, r);
}
