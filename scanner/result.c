/* The result record's field table, its value accessor and the small owned-
 * string helpers every module uses. */
#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const cs_field_names[CS_FIELD_COUNT] = {
#define X(id, name, kind, member) name,
    CS_FIELDS(X)
#undef X
};

static const char *const status_names[CS_STATUS_COUNT] = {
#define X(name) #name,
    CS_STATUS_MAP(X)
#undef X
};

const char *cs_status_name(enum cs_status s)
{
    return (unsigned)s < CS_STATUS_COUNT ? status_names[s] : "?";
}

int cs_status_parse(const char *s)
{
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        if (strcasecmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

int cs_status_urgency(enum cs_status s)
{
    static const int rank[CS_STATUS_COUNT] = {
        [CS_EXPIRED] = 0, [CS_CRITICAL] = 1, [CS_WARNING] = 2, [CS_ERROR] = 3, [CS_OK] = 4,
    };
    return (unsigned)s < CS_STATUS_COUNT ? rank[s] : 5;
}

static void set_str(struct cs_value *v, const char *s)
{
    v->s = s;
    v->null = s == NULL;
}

static void set_int(struct cs_value *v, int64_t i)
{
    v->i = i;
    v->null = i == CS_INT_NONE;
}

static void set_time(struct cs_value *v, int64_t t)
{
    set_int(v, t);
    if (!v->null) {
        cs_format_time(t, v->buf);
        v->s = v->buf;
    }
}

static void set_list(struct cs_value *v, const struct cs_strlist *l)
{
    v->list = l;
}

static void set_bool(struct cs_value *v, int b)
{
    v->i = b > 0;
    v->null = b < 0;
}

static void set_status(struct cs_value *v, enum cs_status s)
{
    v->s = cs_status_name(s);
}

#define SETTER_CS_FK_STR set_str
#define SETTER_CS_FK_INT set_int
#define SETTER_CS_FK_TIME set_time
#define SETTER_CS_FK_LIST(v, m) set_list(v, &(m))
#define SETTER_CS_FK_BOOL set_bool
#define SETTER_CS_FK_STATUS set_status

void cs_result_get(const struct cs_result *r, enum cs_field f, struct cs_value *v)
{
    memset(v, 0, sizeof(*v));
    switch (f) {
#define X(id, name, kind_, member)                                                                 \
    case CS_F_##id:                                                                                \
        v->kind = kind_;                                                                           \
        SETTER_##kind_(v, r->member);                                                              \
        break;
        CS_FIELDS(X)
#undef X
    default:
        v->null = true;
        break;
    }
}

/* Days from civil date (proleptic Gregorian), after H. Hinnant's algorithm. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void cs_format_time(int64_t t, char buf[24])
{
    const int64_t min = days_from_civil(0, 1, 1) * 86400;
    const int64_t max = days_from_civil(9999, 12, 31) * 86400 + 86399;
    if (t < min)
        t = min;
    if (t > max)
        t = max;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* every value is already in range; the modulos only let the compiler see
       that the text fits (-Wformat-truncation at -O2) */
    unsigned sod = (unsigned)secs % 86400u;
    snprintf(buf, 24, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u, m % 100u, d % 100u,
             sod / 3600u, sod / 60u % 60u, sod % 60u);
}

/* True if s[i] is an ASCII digit for every i in [from, to); sscanf's %d alone
 * would also take blanks and signs ("2026-01- 1", "T-1:00:00"). */
static bool all_digits(const char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int cs_parse_time(const char *s, int64_t *t)
{
    int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
    size_t len = strlen(s);
    if (len < 10 || !all_digits(s, 0, 4) || !all_digits(s, 5, 7) || !all_digits(s, 8, 10))
        return -1;
    if (len > 10 &&
        (len < 19 || !all_digits(s, 11, 13) || !all_digits(s, 14, 16) || !all_digits(s, 17, 19)))
        return -1;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    if (len > 10) {
        int n2 = 0;
        if ((s[10] != 'T' && s[10] != ' ') ||
            sscanf(s + 11, "%2d:%2d:%2d%n", &h, &mi, &se, &n2) != 3 || n2 != 8)
            return -1;
        const char *rest = s + 19;
        if (!(rest[0] == '\0' || (rest[0] == 'Z' && rest[1] == '\0')))
            return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 0)
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > mdays[mo - 1])
        return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    *t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

void *cs_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("certsweep: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *cs_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) {
        fputs("certsweep: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *cs_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("certsweep: out of memory\n", stderr);
        abort();
    }
    return p;
}

char *cs_strndup(const char *s, size_t n)
{
    char *p = cs_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cs_strdup(const char *s)
{
    return s ? cs_strndup(s, strlen(s)) : NULL;
}

char *cs_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = cs_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void cs_strlist_add(struct cs_strlist *l, const char *s)
{
    /* The capacity is implicit: the smallest power of two >= n, so the array
       grows by doubling (a 10,000-SAN leaf is 14 reallocs, not 10,000). */
    if ((l->n & (l->n - 1)) == 0)
        l->v = cs_xrealloc(l->v, (l->n ? 2 * l->n : 1) * sizeof(*l->v));
    l->v[l->n++] = cs_strdup(s);
}

/* Decodes one RFC 3629 UTF-8 sequence at p into *cp; returns its length, or
 * 0 if p does not start a valid sequence. */
size_t cs_utf8_decode(const unsigned char *p, uint32_t *cp)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        if ((p[1] & 0xC0) != 0x80)
            return 0;
        *cp = (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
            return 0;
        *cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
            return 0;
        *cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
              (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

void cs_buf_append(struct cs_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = cs_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void cs_buf_puts(struct cs_buf *b, const char *s)
{
    cs_buf_append(b, s, strlen(s));
}

void cs_strlist_free(struct cs_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void cs_result_init(struct cs_result *r)
{
    memset(r, 0, sizeof(*r));
    r->host = cs_strdup("");
    r->port = CS_INT_NONE;
    r->address = cs_strdup("");
    r->sni = cs_strdup("");
    r->status = CS_ERROR;
    r->reason = cs_strdup("");
    r->days_remaining = CS_INT_NONE;
    r->not_before = CS_INT_NONE;
    r->not_after = CS_INT_NONE;
    r->chain_not_after = CS_INT_NONE;
    r->hostname_match = -1;
    r->key_proven = -1;
    r->elapsed_ms = CS_INT_NONE; /* no connection tried */
    r->error = cs_strdup("");
    r->ocsp_stapled = -1;
    r->revoked_at = CS_INT_NONE;
    r->revocation_this_update = CS_INT_NONE;
    r->revocation_next_update = CS_INT_NONE;
}

static void copy_list(struct cs_strlist *d, const struct cs_strlist *s)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < s->n; i++)
        cs_strlist_add(d, s->v[i]);
}

#define COPY_CS_FK_STR(d, s) d = cs_strdup(s)
#define COPY_CS_FK_INT(d, s) d = s
#define COPY_CS_FK_TIME(d, s) d = s
#define COPY_CS_FK_BOOL(d, s) d = s
#define COPY_CS_FK_STATUS(d, s) d = s
#define COPY_CS_FK_LIST(d, s) copy_list(&(d), &(s))

void cs_chain_copy(struct cs_result *dst, const struct cs_result *src)
{
    cs_chain_free(dst);
    if (!src->chain_n)
        return;
    dst->chain = cs_xcalloc(src->chain_n, sizeof(*dst->chain));
    for (size_t i = 0; i < src->chain_n; i++) {
        const struct cs_chain_cert *s = &src->chain[i];
        dst->chain[i] = (struct cs_chain_cert){
            .subject = cs_strdup(s->subject),
            .issuer = cs_strdup(s->issuer),
            .serial = cs_strdup(s->serial),
            .sha256 = cs_strdup(s->sha256),
            .key = cs_strdup(s->key),
            .not_before = s->not_before,
            .not_after = s->not_after,
        };
    }
    dst->chain_n = src->chain_n;
}

void cs_chain_free(struct cs_result *r)
{
    for (size_t i = 0; i < r->chain_n; i++) {
        struct cs_chain_cert *c = &r->chain[i];
        free(c->subject);
        free(c->issuer);
        free(c->serial);
        free(c->sha256);
        free(c->key);
    }
    free(r->chain);
    r->chain = NULL;
    r->chain_n = 0;
}

void cs_result_copy(struct cs_result *dst, const struct cs_result *src)
{
#define X(id, name, kind, member) COPY_##kind(dst->member, src->member);
    CS_FIELDS(X)
#undef X
    dst->chain = NULL;
    dst->chain_n = 0;
    cs_chain_copy(dst, src);
}

#define FREE_CS_FK_STR(m) (free(m), (m) = NULL)
#define FREE_CS_FK_INT(m) (void)0
#define FREE_CS_FK_TIME(m) (void)0
#define FREE_CS_FK_BOOL(m) (void)0
#define FREE_CS_FK_STATUS(m) (void)0
#define FREE_CS_FK_LIST(m) cs_strlist_free(&(m))

void cs_result_free(struct cs_result *r)
{
#define X(id, name, kind, member) FREE_##kind(r->member);
    CS_FIELDS(X)
#undef X
    cs_chain_free(r);
}
