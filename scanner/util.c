/* The small helpers every module uses, apart from the record: owned strings
 * and allocators, string lists, the capped growable buffer, UTF-8 decoding,
 * the record's time format and what the reports read out of its names. */
#include "scanner/util.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

void cs_buf_init(struct cs_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

static size_t buf_max(const struct cs_buf *b)
{
    return b->max ? b->max : CS_BUF_MAX_DEFAULT;
}

int cs_buf_append(struct cs_buf *b, const char *s, size_t n)
{
    /* len <= max always holds, so max - len cannot wrap */
    if (n > buf_max(b) - b->len)
        return CS_ETOOBIG;
    if (b->len + n + 1 > b->cap) {
        /* never more storage than the cap allows: max bytes and the NUL */
        size_t limit = buf_max(b) < SIZE_MAX ? buf_max(b) + 1 : SIZE_MAX;
        size_t cap = b->cap ? b->cap : 128;
        if (cap > limit)
            cap = limit;
        while (cap < b->len + n + 1)
            cap = cap > limit / 2 ? limit : cap * 2;
        b->p = cs_xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int cs_buf_puts(struct cs_buf *b, const char *s)
{
    return cs_buf_append(b, s, strlen(s));
}

void cs_buf_reset(struct cs_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void cs_buf_free(struct cs_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void cs_strlist_free(struct cs_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int util_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The value at p (just past "CN="), up to the next unescaped ',' or '+',
   unescaped; NULL when empty or when it holds an escaped NUL. */
static char *util_dn_value(const char *p)
{
    char *out = cs_xmalloc(strlen(p) + 1);
    size_t o = 0;
    for (; *p != '\0' && *p != ',' && *p != '+'; p++) {
        int hi = *p == '\\' ? util_hexval(p[1]) : -1;
        int lo = hi >= 0 ? util_hexval(p[2]) : -1;
        if (lo >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            p += 2;
        } else if (*p == '\\' && p[1] != '\0') {
            out[o++] = *++p;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    if (o > 0 && strlen(out) == o)
        return out;
    free(out);
    return NULL;
}

char *cs_dn_first_cn(const char *dn)
{
    const char *p = dn;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        if (strncasecmp(p, "CN=", 3) == 0)
            return util_dn_value(p + 3);
        for (; *p != '\0' && *p != ',' && *p != '+'; p++)
            if (*p == '\\' && p[1] != '\0')
                p++;
        if (*p != '\0')
            p++;
    }
    return NULL;
}

bool cs_is_ipv6_literal(const char *host)
{
    size_t n = strspn(host, "0123456789abcdefABCDEF:.");
    return memchr(host, ':', n) != NULL && (host[n] == '\0' || host[n] == '%');
}
