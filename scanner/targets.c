/* Target input (see targets.h).  Lines are read with a hard cap, so a file
 * with a gigabyte on one line costs no more than a short one. */
#include "scanner/targets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <openssl/evp.h>

#include "probes/probe.h"

#define LINE_MAX_BYTES 4096
#define HOST_MAX 253                 /* characters in a host name (A-label form) */
#define IDN_INPUT_MAX (4 * HOST_MAX) /* bytes of UTF-8 that can still fit in HOST_MAX */

#define READ_CHUNK 65536

/* A targets file, read through its descriptor with a buffer of its own, so
   that a wait for a pipe's next bytes can be given up (cs_targets_abort). */
struct source {
    const char *name; /* file name, "-" for stdin */
    int fd;
    char *buf;
    size_t pos, len;
    bool eof;
    int error; /* errno of a failed read */
};

/* The targets seen so far, as 64-bit digests (truncated SHA-256 of host,
   port and SNI) in 256 open-addressing tables chosen by the digest's top
   byte, each kept at most 7/8 full: about 9 to 18 bytes per distinct target,
   and a table that grows copies only 1/256 of the set.  Two distinct targets
   share a digest with a probability of about n^2 / 2^64 (3e-8 for a million
   targets). */
#define SET_PARTS 256

struct digest_part {
    uint64_t *keys;  /* 0 = empty slot */
    size_t capacity; /* a power of two */
    size_t used;
};

struct digest_set {
    struct digest_part part[SET_PARTS];
    EVP_MD *sha256; /* fetched once */
    EVP_MD_CTX *md;
};

struct cs_targets {
    const struct cs_options *opt;
    size_t next_arg;
    struct source *sources;
    size_t n_sources, cur;
    uint64_t line;     /* line number in the current source */
    atomic_bool abort; /* give up reading (cs_targets_abort) */
    struct digest_set seen;
    uint64_t count, bad;
    unsigned failed; /* sources that could not be read to their end */
    uint16_t port;   /* the default port: -p, or the probe's */
    bool not_ours;   /* the bad line just read is another shard's (--shard) */
    cs_notice_fn notice;
    void *notice_arg;
    char line_buf[LINE_MAX_BYTES + 1];
};

void cs_escape(const char *s, size_t slen, char *buf, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < slen && o + 5 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\') {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02X", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    buf[o < len ? o : len - 1] = '\0';
}

static void set_put(uint64_t *keys, size_t capacity, uint64_t key)
{
    size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull) & (capacity - 1);
    while (keys[h])
        h = (h + 1) & (capacity - 1);
    keys[h] = key;
}

/* 1 if key was not in the set (and now is), 0 if it was. */
static int set_insert(struct digest_set *set, uint64_t key)
{
    struct digest_part *s = &set->part[key >> 56];
    if ((s->used + 1) * 8 > s->capacity * 7) {
        size_t ncap = s->capacity ? s->capacity * 2 : 16;
        uint64_t *nkeys = cs_xcalloc(ncap, sizeof(*nkeys));
        for (size_t i = 0; i < s->capacity; i++)
            if (s->keys[i])
                set_put(nkeys, ncap, s->keys[i]);
        free(s->keys);
        s->keys = nkeys;
        s->capacity = ncap;
    }
    for (size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull) & (s->capacity - 1);;
         h = (h + 1) & (s->capacity - 1)) {
        if (s->keys[h] == key)
            return 0;
        if (!s->keys[h]) {
            s->keys[h] = key;
            s->used++;
            return 1;
        }
    }
}

/* 1 if the target is new, 0 if it was seen already. */
static int remember(struct cs_targets *ts, const struct cs_target *t)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char key[640];
    const char *probe = t->probe ? t->probe : ts->opt->probe_name ? ts->opt->probe_name : "tls";
    int n = snprintf(key, sizeof(key), "%s%c%u%c%s%c%s", t->host, 0, t->port, 0,
                     t->sni ? t->sni : "", 0, probe);
    for (int i = 0; i < n; i++)
        if (key[i] >= 'A' && key[i] <= 'Z')
            key[i] = (char)(key[i] - 'A' + 'a');
    struct digest_set *set = &ts->seen;
    if (!set->md) {
        set->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        set->md = EVP_MD_CTX_new();
    }
    if (!set->sha256 || !set->md || !EVP_DigestInit_ex2(set->md, set->sha256, NULL) ||
        !EVP_DigestUpdate(set->md, key, (size_t)n) || !EVP_DigestFinal_ex(set->md, md, &mdlen))
        return 1; /* cannot tell: probe it */
    uint64_t digest;
    memcpy(&digest, md, sizeof(digest));
    return set_insert(set, digest | 1); /* never the empty marker */
}

static int valid_hostname(const char *h, size_t len)
{
    if (len == 0 || len > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
        if (++label > 63)
            return 0;
    }
    return 1;
}

static int hostname_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* Why libidn2 refused a name, in the words of a user error. */
static const char *idn_reason(int rc)
{
    switch (rc) {
    case IDN2_ENCODING_ERROR:
        return "host name is not valid UTF-8";
    case IDN2_NOT_NFC:
    case IDN2_NFC:
        return "host name cannot be normalised to Unicode NFC";
    case IDN2_TOO_BIG_LABEL:
    case IDN2_PUNYCODE_BIG_OUTPUT:
    case IDN2_PUNYCODE_OVERFLOW:
        return "a label is longer than 63 characters in its xn-- A-label form";
    case IDN2_TOO_BIG_DOMAIN:
        return "host name longer than 253 characters in its xn-- A-label form";
    case IDN2_DISALLOWED:
    case IDN2_UNASSIGNED:
        return "host name has a character that IDNA does not allow in names (e.g. a symbol, "
               "control or unassigned code point)";
    case IDN2_2HYPHEN:
        return "a label has '--' in the third and fourth positions";
    case IDN2_HYPHEN_STARTEND:
        return "a label starts or ends with '-'";
    case IDN2_LEADING_COMBINING:
        return "a label starts with a combining mark";
    case IDN2_CONTEXTJ:
    case IDN2_CONTEXTJ_NO_RULE:
    case IDN2_CONTEXTO:
    case IDN2_CONTEXTO_NO_RULE:
        return "host name has a joiner or context-dependent character where IDNA forbids it";
    case IDN2_BIDI:
        return "host name mixes right-to-left and left-to-right text as IDNA forbids";
    default:
        return "not a valid internationalised host name (IDNA 2008)";
    }
}

const char *cs_idna_to_ascii(const char *name, size_t len, char **alabel)
{
    char in[IDN_INPUT_MAX + 1];
    *alabel = NULL;
    if (len > IDN_INPUT_MAX)
        return "host name longer than 253 characters";
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x80 && !hostname_char(name[i]))
            return "not a host name (letters, digits, '-' and '.'; labels of 1-63)";
    memcpy(in, name, len);
    in[len] = '\0';
    char *out = NULL;
    int rc = idn2_to_ascii_8z(in, &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK) {
        idn2_free(out);
        return idn_reason(rc);
    }
    *alabel = cs_strdup(out);
    idn2_free(out);
    return NULL;
}

static const char *parse_port(const char *s, size_t len, uint16_t *port)
{
    if (len == 0)
        return "empty port";
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return "port is not a number";
    if (len > 5)
        return "port out of range (1-65535)";
    unsigned v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    if (v == 0 || v > 65535)
        return "port out of range (1-65535)";
    *port = (uint16_t)v;
    return NULL;
}

const char *cs_target_parse(const char *text, uint16_t default_port, const char *sni,
                            struct cs_target *t)
{
    memset(t, 0, sizeof(*t));
    const char *s = text;
    size_t len = strlen(s);
    const char *scheme = strstr(s, "://");
    if (scheme) { /* a URL: keep its authority; the scheme gives the probe and the port */
        static const struct {
            const char *name;
            uint16_t port;
            const char *probe;
        } schemes[] = {{"https", 443, "tls"}, {"imaps", 993, "tls"}, {"pop3s", 995, "tls"},
                       {"smtps", 465, "tls"}, {"ldaps", 636, "tls"}, {"ftps", 990, "tls"},
                       {"wss", 443, "tls"},   {"tls", 443, "tls"}};
        size_t slen = (size_t)(scheme - s), i;
        for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
            if (strlen(schemes[i].name) == slen && strncasecmp(s, schemes[i].name, slen) == 0)
                break;
        if (i < sizeof(schemes) / sizeof(schemes[0])) {
            default_port = schemes[i].port;
            t->probe = schemes[i].probe;
        } else { /* a STARTTLS protocol's name: smtp://, imap://, postgres://, ... */
            char name[16];
            const struct cs_probe *pr = NULL;
            if (slen < sizeof(name)) {
                for (size_t k = 0; k <= slen; k++)
                    name[k] = k < slen && s[k] >= 'A' && s[k] <= 'Z' ? (char)(s[k] + 32)
                              : k < slen                             ? s[k]
                                                                     : '\0';
                pr = cs_probe_by_name(strcmp(name, "postgresql") ? name : "postgres");
            }
            if (!pr || pr == &cs_probe_direct)
                return "unknown URL scheme (known: https, imaps, pop3s, smtps, ldaps, ftps, wss, "
                       "tls, and each --starttls protocol's name)";
            default_port = pr->default_port;
            t->probe = pr->name;
        }
        s = scheme + 3;
        len = strcspn(s, "/?#");
    }
    const char *host = s, *port = NULL;
    size_t hlen = len, plen = 0;
    char addr[64];
    unsigned char bin[16];
    uint16_t p = default_port;

    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return "IPv6 literal without closing ']'";
        host = s + 1;
        hlen = (size_t)(close - host);
        const char *rest = close + 1;
        size_t rlen = len - (size_t)(rest - s);
        if (rlen) {
            if (rest[0] != ':')
                return "unexpected text after ']' (want [IPv6]:port)";
            port = rest + 1;
            plen = rlen - 1;
        }
        if (hlen >= sizeof(addr))
            return "bad IPv6 literal";
        memcpy(addr, host, hlen);
        addr[hlen] = '\0';
        if (inet_pton(AF_INET6, addr, bin) != 1)
            return "bad IPv6 literal";
        t->family = AF_INET6;
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
            /* more than one colon: only a bare IPv6 address makes sense */
            if (len >= sizeof(addr))
                return "bad target (IPv6 needs brackets: [addr]:port)";
            memcpy(addr, s, len);
            addr[len] = '\0';
            if (inet_pton(AF_INET6, addr, bin) != 1)
                return "bad target (IPv6 needs brackets: [addr]:port)";
            t->family = AF_INET6;
        } else {
            if (colon) {
                hlen = (size_t)(colon - s);
                port = colon + 1;
                plen = len - hlen - 1;
            }
            if (hlen && hlen < sizeof(addr)) {
                memcpy(addr, host, hlen);
                addr[hlen] = '\0';
                if (inet_pton(AF_INET, addr, bin) == 1)
                    t->family = AF_INET;
            }
        }
    }
    if (port) {
        const char *why = parse_port(port, plen, &p);
        if (why)
            return why;
        t->port_known = true;
    }
    t->port = p;
    char *alabel = NULL;
    if (!t->family) {
        if (hlen && host[hlen - 1] == '.')
            hlen--; /* a fully-qualified name's root dot */
        if (hlen == 0)
            return "empty host";
        for (size_t i = 0; i < hlen && !alabel; i++)
            if ((unsigned char)host[i] >= 0x80) {
                const char *why = cs_idna_to_ascii(host, hlen, &alabel);
                if (why)
                    return why;
            }
        const char *name = alabel ? alabel : host;
        size_t nlen = alabel ? strlen(alabel) : hlen;
        const char *why = NULL;
        if (nlen > HOST_MAX)
            why = "host name longer than 253 characters";
        else if (!valid_hostname(name, nlen))
            why = "not a host name (letters, digits, '-' and '.'; labels of 1-63)";
        if (why) {
            free(alabel);
            return why;
        }
    }
    if (alabel) { /* resolved, sent and checked as the A-label; reported as written */
        t->host = alabel;
        t->unicode = cs_strndup(host, hlen);
    } else {
        t->host = cs_strndup(host, hlen);
    }
    t->port_known = true;
    if (sni)
        t->sni = cs_strdup(sni);
    else if (!t->family)
        t->sni = cs_strdup(t->host);
    return NULL;
}

void cs_target_free(struct cs_target *t)
{
    free(t->host);
    free(t->unicode);
    free(t->sni);
    free(t->bad);
    memset(t, 0, sizeof(*t));
}

static void notify(struct cs_targets *ts, enum cs_notice kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void notify(struct cs_targets *ts, enum cs_notice kind, const char *fmt, ...)
{
    if (!ts->notice)
        return;
    char line[LINE_MAX_BYTES + 1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ts->notice(ts->notice_arg, kind, line);
}

void cs_targets_on_notice(struct cs_targets *ts, cs_notice_fn fn, void *arg)
{
    ts->notice = fn;
    ts->notice_arg = arg;
}

struct cs_targets *cs_targets_open(const struct cs_options *o, char *err, size_t errlen)
{
    struct cs_targets *ts = cs_xcalloc(1, sizeof(*ts));
    ts->opt = o;
    const struct cs_probe *probe = cs_probe_choose(o->probe_name);
    ts->port = o->port ? o->port : probe ? probe->default_port : 0;
    ts->sources = cs_xcalloc(o->n_files ? o->n_files : 1, sizeof(*ts->sources));
    for (size_t i = 0; i < o->n_files; i++) {
        struct source *src = &ts->sources[ts->n_sources++];
        src->name = o->files[i];
        src->buf = cs_xmalloc(READ_CHUNK);
        if (strcmp(src->name, "-") == 0) {
            src->fd = STDIN_FILENO;
            continue;
        }
        src->fd = open(src->name, O_RDONLY | O_CLOEXEC);
        if (src->fd < 0) {
            snprintf(err, errlen, "%s: %s (check the path given to -f)", src->name,
                     strerror(errno));
            cs_targets_close(ts);
            return NULL;
        }
    }
    return ts;
}

/* The next byte of src, or EOF at its end, on a read error, or once
   cs_targets_abort was called.  Waits for a pipe in slices of 100 ms. */
static int src_getc(struct cs_targets *ts, struct source *src)
{
    while (src->pos == src->len) {
        if (src->eof || src->error || atomic_load(&ts->abort))
            return EOF;
        struct pollfd pfd = {.fd = src->fd, .events = POLLIN};
        int r = poll(&pfd, 1, 100);
        if (r < 0 && errno != EINTR) {
            src->error = errno;
            return EOF;
        }
        if (r <= 0)
            continue;
        ssize_t n = read(src->fd, src->buf, READ_CHUNK);
        if (n > 0) {
            src->pos = 0;
            src->len = (size_t)n;
        } else if (n == 0) {
            src->eof = true;
        } else if (errno != EINTR && errno != EAGAIN) {
            src->error = errno;
        }
    }
    return (unsigned char)src->buf[src->pos++];
}

void cs_targets_abort(struct cs_targets *ts)
{
    atomic_store(&ts->abort, true);
}

/* Reads one line into ts->line_buf; returns its length, or -1 at EOF.
   *too_long and *nul tell what was cut or found. */
static long read_line(struct cs_targets *ts, struct source *src, int *too_long, int *nul)
{
    size_t n = 0;
    int c, any = 0;
    *too_long = *nul = 0;
    while ((c = src_getc(ts, src)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (c == '\0')
            *nul = 1;
        if (n < LINE_MAX_BYTES)
            ts->line_buf[n++] = (char)c;
        else
            *too_long = 1;
    }
    if (!any)
        return -1;
    ts->line_buf[n] = '\0';
    return (long)n;
}

/* Whether a bad line's text is this shard's (--shard, below). */
static bool bad_in_shard(struct cs_targets *ts, const char *text);

static int bad_target(struct cs_targets *ts, struct cs_target *t, const char *where,
                      const char *text, size_t tlen, const char *why, const struct cs_target *p)
{
    char esc[LINE_MAX_BYTES * 4 + 1];
    bool port_known = p && p->port_known;
    uint16_t port = p ? p->port : 0;
    cs_escape(text, tlen, esc, sizeof(esc));
    if (strlen(esc) > 253)
        esc[253] = '\0';
    memset(t, 0, sizeof(*t));
    t->host = cs_strdup(esc);
    t->bad = cs_asprintf("%s: %s", where, why);
    t->port = port;
    t->port_known = port_known;
    ts->count++;
    if (!bad_in_shard(ts, esc))
        return 1; /* another shard's: said and counted there */
    notify(ts, CS_NOTICE_BAD_LINE, "%s: %s", where, why);
    ts->bad++;
    return 1;
}

static void trim(char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t' || **s == '\r' || **s == '\v' || **s == '\f')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' || (*s)[*len - 1] == '\r' ||
                    (*s)[*len - 1] == '\v' || (*s)[*len - 1] == '\f'))
        (*len)--;
}

static int next_target(struct cs_targets *ts, struct cs_target *t)
{
    const struct cs_options *o = ts->opt;
    char where[512];
    while (ts->next_arg < o->n_targets) {
        const char *arg = o->targets[ts->next_arg++];
        snprintf(where, sizeof(where), "argument %zu", ts->next_arg);
        const char *why = cs_target_parse(arg, ts->port, o->sni, t);
        if (why)
            return bad_target(ts, t, where, arg, strlen(arg), why, t);
        if (remember(ts, t)) {
            ts->count++;
            return 1;
        }
        cs_target_free(t);
    }
    while (ts->cur < ts->n_sources) {
        struct source *src = &ts->sources[ts->cur];
        int too_long, nul;
        long n = read_line(ts, src, &too_long, &nul);
        if (n < 0) {
            if (src->error) {
                const char *name = strcmp(src->name, "-") ? src->name : "<stdin>";
                if (ts->line == 0)
                    notify(ts, CS_NOTICE_INPUT,
                           "%s: cannot be read: %s; none of its targets is scanned (give -f a "
                           "readable file)",
                           name, strerror(src->error));
                else
                    notify(ts, CS_NOTICE_INPUT,
                           "%s: read error after line %llu: %s; the rest of the file is not "
                           "scanned (check the file given to -f)",
                           name, (unsigned long long)ts->line, strerror(src->error));
                ts->failed++;
            }
            ts->cur++;
            ts->line = 0;
            continue;
        }
        ts->line++;
        char *s = ts->line_buf;
        size_t len = (size_t)n;
        if (ts->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3; /* UTF-8 byte order mark */
            len -= 3;
        }
        snprintf(where, sizeof(where), "%s:%llu", strcmp(src->name, "-") ? src->name : "<stdin>",
                 (unsigned long long)ts->line);
        if (too_long)
            return bad_target(ts, t, where, s, len, "line longer than 4096 bytes", NULL);
        if (nul)
            return bad_target(ts, t, where, s, len, "NUL byte in line", NULL);
        char *hash = memchr(s, '#', len);
        if (hash)
            len = (size_t)(hash - s);
        trim(&s, &len);
        if (len == 0)
            continue;
        s[len] = '\0';
        for (size_t i = 0; i < len; i++)
            if (s[i] == ' ' || s[i] == '\t')
                return bad_target(ts, t, where, s, len, "more than one target on the line", NULL);
        const char *why = cs_target_parse(s, ts->port, o->sni, t);
        if (why)
            return bad_target(ts, t, where, s, len, why, t);
        if (remember(ts, t)) {
            ts->count++;
            return 1;
        }
        cs_target_free(t);
    }
    return 0;
}

/* ---- --shard K/N ---------------------------------------------------------------------------
 * Each target belongs to one shard: the first 8 bytes (big-endian) of the
 * SHA-256 of its identity, modulo N.  The identity is what makes two lines
 * one target (host as its A-label, port, SNI, probe; lower case), so a
 * target lands in the same shard whatever file, line or order it comes in,
 * on any machine, in any version.  A bad line belongs to the shard of its
 * text (escaped and cut as its record's host), so exactly one shard reports
 * it; every shard reads (and counts toward "no target at all") the whole
 * input. */

static bool shard_has(const struct cs_targets *ts, const char *key, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL))
        return true; /* cannot tell: every shard scans it rather than none */
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | md[i];
    return h % ts->opt->shard_n == ts->opt->shard_k;
}

static bool in_shard(struct cs_targets *ts, const struct cs_target *t)
{
    if (!ts->opt->shard_n)
        return true;
    const struct cs_options *o = ts->opt;
    char key[640];
    const char *probe = t->probe ? t->probe : o->probe_name ? o->probe_name : "tls";
    int n = snprintf(key, sizeof(key), "%s%c%u%c%s%c%s", t->host, 0, t->port, 0,
                     t->sni ? t->sni : "", 0, probe);
    for (int i = 0; i < n; i++)
        if (key[i] >= 'A' && key[i] <= 'Z')
            key[i] = (char)(key[i] - 'A' + 'a');
    return shard_has(ts, key, n < (int)sizeof(key) ? (size_t)n : sizeof(key) - 1);
}

static bool bad_in_shard(struct cs_targets *ts, const char *text)
{
    bool in = !ts->opt->shard_n || shard_has(ts, text, strlen(text));
    ts->not_ours = !in;
    return in;
}

/* The next target of this shard (all of them without --shard). */
int cs_targets_next(struct cs_targets *ts, struct cs_target *t)
{
    for (;;) {
        ts->not_ours = false;
        int rc = next_target(ts, t);
        if (rc <= 0 || (t->bad ? !ts->not_ours : in_shard(ts, t)))
            return rc;
        cs_target_free(t);
    }
}

uint64_t cs_targets_count(const struct cs_targets *ts)
{
    return ts->count;
}

uint64_t cs_targets_bad(const struct cs_targets *ts)
{
    return ts->bad;
}

unsigned cs_targets_failed(const struct cs_targets *ts)
{
    return ts->failed;
}

void cs_targets_close(struct cs_targets *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n_sources; i++) {
        if (ts->sources[i].fd > STDIN_FILENO)
            close(ts->sources[i].fd);
        free(ts->sources[i].buf);
    }
    free(ts->sources);
    for (size_t i = 0; i < SET_PARTS; i++)
        free(ts->seen.part[i].keys);
    EVP_MD_CTX_free(ts->seen.md);
    EVP_MD_free(ts->seen.sha256);
    free(ts);
}
