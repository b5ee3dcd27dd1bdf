/* Target input (see targets.h).  Lines are read with a hard cap, so a file
 * with a gigabyte on one line costs no more than a short one. */
#include "scanner/targets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <openssl/evp.h>

#include "probes/probe.h"
#include "scanner/inventory.h"
#include "scanner/ranges.h"
#include "scanner/certfiles.h"

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
    struct cs_targets *ts;
    struct cs_inventory *inv; /* a CSV inventory's reader, or NULL: a targets file */
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
    /* a line that expands (a range, a port list), walked one target at a
       time by next_expanded; tmpl is its host for a port list */
    struct cs_range range;
    struct cs_target tmpl;
    bool expanding;
    struct cs_labels expand_labels; /* the expanding line's labels, for each target */
    struct cs_strlist names;        /* label names, in first-seen order */
    bool names_fixed;               /* cs_targets_label_names was called */
    struct cs_certwalk *certs;      /* --certs, walked after the other targets */
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
    char key[720];
    const char *probe = t->probe ? t->probe : ts->opt->probe_name ? ts->opt->probe_name : "tls";
    int n = snprintf(key, sizeof(key), "%s%c%u%c%s%c%s%c%s", t->host, 0, t->port, 0,
                     t->sni ? t->sni : "", 0, probe, 0, t->address ? t->address : "");
    bool file = strcmp(probe, CS_FILE_PROBE) == 0; /* a path's case counts */
    for (int i = 0; i < n && !file; i++)
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

/* file:PATH or file:PATH?name=NAME (file:///PATH too): a certificate file,
   checked against NAME (else --sni, else no name). */
static const char *parse_file_target(const char *path, const char *sni, struct cs_target *t)
{
    if (strncmp(path, "///", 3) == 0)
        path += 2;
    const char *q = NULL;
    for (const char *p = strstr(path, "?name="); p; p = strstr(p + 1, "?name="))
        q = p;
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    if (plen == 0)
        return "file: target names no path";
    if (q) {
        const char *name = q + 6;
        char *alabel = NULL;
        const char *why = cs_idna_to_ascii(name, strlen(name), &alabel);
        if (why)
            return why;
        size_t alen = strlen(alabel);
        if (alen && alabel[alen - 1] == '.')
            alabel[--alen] = '\0';
        if (!valid_hostname(alabel, alen)) {
            free(alabel);
            return "file: ?name= is not a host name";
        }
        t->sni = alabel;
    } else if (sni) {
        t->sni = cs_strdup(sni);
    }
    t->host = cs_xmalloc(plen + 1);
    memcpy(t->host, path, plen);
    t->host[plen] = '\0';
    t->probe = CS_FILE_PROBE;
    return NULL;
}

const char *cs_target_parse(const char *text, uint16_t default_port, const char *sni,
                            struct cs_target *t)
{
    memset(t, 0, sizeof(*t));
    const char *s = text;
    size_t len = strlen(s);
    if (strncmp(s, "file:", 5) == 0)
        return parse_file_target(s + 5, sni, t);
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

void cs_target_copy(struct cs_target *dst, const struct cs_target *src)
{
    *dst = *src;
    dst->host = src->host ? cs_strdup(src->host) : NULL;
    dst->unicode = src->unicode ? cs_strdup(src->unicode) : NULL;
    dst->sni = src->sni ? cs_strdup(src->sni) : NULL;
    dst->bad = src->bad ? cs_strdup(src->bad) : NULL;
    dst->address = src->address ? cs_strdup(src->address) : NULL;
    memset(&dst->labels, 0, sizeof(dst->labels));
    cs_labels_copy(&dst->labels, &src->labels);
}

void cs_target_free(struct cs_target *t)
{
    free(t->host);
    free(t->unicode);
    free(t->sni);
    free(t->bad);
    free(t->address);
    cs_labels_free(&t->labels);
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

/* ---- labels on a targets line ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

const char *cs_label_name_check(const char *name, size_t len)
{
    if (len == 0)
        return "a label name is empty";
    if (len > CS_LABEL_NAME_MAX)
        return "a label name is longer than 64 characters";
    for (size_t i = 0; i < len; i++)
        if (!hostname_char(name[i]))
            return "a label name is letters, digits, '_', '.' and '-'";
    for (int f = 0; f < CS_FIELD_COUNT; f++)
        if (strlen(cs_field_names[f]) == len && strncasecmp(name, cs_field_names[f], len) == 0)
            return "a label cannot be named as a field of the record (host, port, status, ...)";
    return NULL;
}

/* Where a bad line's text ends: before its comment ('#' outside a quoted
   value), without trailing blanks. */
static size_t text_end(const char *line, size_t len)
{
    bool quoted = false;
    size_t i;
    for (i = 0; i < len && (quoted || line[i] != '#'); i++)
        if (line[i] == '"')
            quoted = !quoted;
    while (i && is_blank(line[i - 1]))
        i--;
    return i;
}

/* Why a token without '=' after the target makes the line bad. */
static const char *bare_token(const char *tok, size_t len, char *why, size_t whylen)
{
    char text[LINE_MAX_BYTES + 1], esc[80];
    memcpy(text, tok, len);
    text[len] = '\0';
    struct cs_target t;
    const char *bad = cs_target_parse(text, 443, NULL, &t);
    cs_target_free(&t);
    if (!bad)
        return "more than one target on the line";
    cs_escape(tok, len, esc, sizeof(esc));
    snprintf(why, whylen, "'%s' is neither a label (name=value) nor a target", esc);
    return why;
}

/* Reads one label, name=value or name="value", from line[*i]; the value
   goes into value (CS_LABEL_VALUE_MAX + 1 bytes).  NULL, or why not. */
static const char *read_label(const char *line, size_t len, size_t *i, char *value,
                              struct cs_labels *labels, char *why, size_t whylen)
{
    size_t start = *i, k = *i;
    while (k < len && !is_blank(line[k]) && line[k] != '#' && line[k] != '=')
        k++;
    if (k == len || line[k] != '=') {
        while (k < len && !is_blank(line[k]) && line[k] != '#')
            k++;
        *i = k;
        return bare_token(line + start, k - start, why, whylen);
    }
    const char *name = line + start;
    size_t nlen = k - start, vlen = 0;
    char esc[CS_LABEL_NAME_MAX * 4 + 8];
    cs_escape(name, nlen < 80 ? nlen : 80, esc, sizeof(esc));
    const char *bad = cs_label_name_check(name, nlen);
    if (bad) {
        snprintf(why, whylen, "label '%s': %s", esc, bad);
        return why;
    }
    bool over = false;
    k++;                             /* '=' */
    if (k < len && line[k] == '"') { /* a quoted value: blanks and '#' kept, "" is one " */
        for (k++;; k++) {
            if (k == len) {
                snprintf(why, whylen, "label '%s': quoted value without its closing '\"'", esc);
                return why;
            }
            if (line[k] == '"' && !(k + 1 < len && line[k + 1] == '"'))
                break;
            k += line[k] == '"';
            if (vlen < CS_LABEL_VALUE_MAX)
                value[vlen++] = line[k];
            else
                over = true;
        }
        k++; /* the closing quote */
        if (k < len && !is_blank(line[k]) && line[k] != '#') {
            snprintf(why, whylen,
                     "label '%s': text after the closing quote (a '\"' inside a quoted value "
                     "is written '\"\"')",
                     esc);
            return why;
        }
    } else {
        for (; k < len && !is_blank(line[k]) && line[k] != '#'; k++) {
            if (vlen < CS_LABEL_VALUE_MAX)
                value[vlen++] = line[k];
            else
                over = true;
        }
    }
    *i = k;
    if (over) {
        snprintf(why, whylen, "label '%s': value longer than %d bytes", esc, CS_LABEL_VALUE_MAX);
        return why;
    }
    value[vlen] = '\0';
    char nbuf[CS_LABEL_NAME_MAX + 1];
    memcpy(nbuf, name, nlen);
    nbuf[nlen] = '\0';
    if (cs_labels_get(labels, nbuf)) {
        snprintf(why, whylen, "label '%s' given twice", esc);
        return why;
    }
    if (labels->n == CS_LABELS_MAX) {
        snprintf(why, whylen, "more than %d labels on the line", CS_LABELS_MAX);
        return why;
    }
    cs_labels_add(labels, nbuf, value);
    return NULL;
}

static bool is_url(const char *s, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++)
        if (memcmp(s + i, "://", 3) == 0)
            return true;
    return false;
}

const char *cs_target_line(const char *line, size_t len, struct cs_line_parts *lp, char *why,
                           size_t whylen)
{
    memset(lp, 0, sizeof(*lp));
    size_t i = 0;
    while (i < len && is_blank(line[i]))
        i++;
    lp->text = line + i;
    lp->target = line + i;
    while (i < len && !is_blank(line[i]) && line[i] != '#')
        i++;
    lp->target_len = (size_t)(line + i - lp->target);
    lp->text_len = text_end(lp->text, len - (size_t)(lp->text - line));
    if (memchr(lp->target, '=', lp->target_len) && !is_url(lp->target, lp->target_len))
        return "the line starts with a label: the target comes first, then its labels (name=value)";
    char value[CS_LABEL_VALUE_MAX + 1];
    for (;;) {
        while (i < len && is_blank(line[i]))
            i++;
        if (i == len || line[i] == '#')
            return NULL;
        const char *bad = read_label(line, len, &i, value, &lp->labels, why, whylen);
        if (bad)
            return bad;
    }
}

const char *cs_sni_check(const char *name, char **sent)
{
    *sent = NULL;
    if (strpbrk(name, ":[]/ \t"))
        return "not a host name (letters, digits, '-' and '.'; labels of 1-63)";
    struct cs_target t;
    const char *why = cs_target_parse(name, 443, NULL, &t);
    if (!why && t.family)
        why = "an IP address: a server name is a host name (RFC 6066)";
    if (!why) {
        *sent = t.host;
        t.host = NULL;
    }
    cs_target_free(&t);
    return why;
}

/* Adds a label name to the scan's list; NULL, or why not (past the cap). */
static const char *note_name(struct cs_targets *ts, const char *name, const char *where)
{
    for (size_t i = 0; i < ts->names.n; i++)
        if (strcmp(ts->names.v[i], name) == 0)
            return NULL;
    if (ts->names.n >= CS_LABEL_NAMES_MAX)
        return "more than 256 label names in the scan";
    cs_strlist_add(&ts->names, name);
    if (ts->names_fixed) /* names are checked: nothing to escape */
        notify(ts, CS_NOTICE_LABEL,
               "%s: label '%s' is not a column of CSV reports (their columns are fixed before "
               "standard input and pipes are read); JSON reports carry it",
               where, name);
    return NULL;
}

void cs_targets_label_names(struct cs_targets *ts, struct cs_strlist *names)
{
    memset(names, 0, sizeof(*names));
    for (size_t i = 0; i < ts->names.n; i++)
        cs_strlist_add(names, ts->names.v[i]);
    ts->names_fixed = true;
}

void cs_targets_on_notice(struct cs_targets *ts, cs_notice_fn fn, void *arg)
{
    ts->notice = fn;
    ts->notice_arg = arg;
}

static int open_source(struct cs_targets *ts, struct source *src, char *err, size_t errlen);

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
    for (size_t i = 0; i < ts->n_sources; i++) {
        ts->sources[i].ts = ts;
        if (open_source(ts, &ts->sources[i], err, errlen) < 0) {
            cs_targets_close(ts);
            return NULL;
        }
    }
    if (o->n_certs)
        ts->certs = cs_certwalk_new(o->certs, o->n_certs);
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

static bool is_csv(const struct cs_options *o, const char *name)
{
    if (o->targets_format)
        return strcmp(o->targets_format, "csv") == 0;
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".csv") == 0;
}

static int inv_byte(void *arg)
{
    struct source *src = arg;
    int c = src_getc(src->ts, src);
    return c == EOF ? -1 : c;
}

/* Gathers the label names of a regular targets file, read through once and
   rewound; standard input and pipes cannot be read twice. */
static void prescan(struct cs_targets *ts, struct source *src)
{
    struct stat st;
    if (fstat(src->fd, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    int too_long, nul;
    long n;
    char why[320];
    for (uint64_t line = 1; (n = read_line(ts, src, &too_long, &nul)) >= 0; line++) {
        const char *s = ts->line_buf;
        size_t len = (size_t)n;
        if (line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            len -= 3;
        }
        struct cs_line_parts lp;
        if (too_long || nul)
            continue;
        if (!cs_target_line(s, len, &lp, why, sizeof(why)))
            for (size_t i = 0; i < lp.labels.n; i++)
                note_name(ts, lp.labels.name[i], src->name);
        cs_labels_free(&lp.labels);
    }
    if (lseek(src->fd, 0, SEEK_SET) == 0) {
        src->pos = src->len = 0;
        src->eof = false;
        src->error = 0;
    }
}

static int open_source(struct cs_targets *ts, struct source *src, char *err, size_t errlen)
{
    const char *name = strcmp(src->name, "-") ? src->name : "<stdin>";
    if (!is_csv(ts->opt, src->name)) {
        prescan(ts, src);
        return 0;
    }
    char why[512];
    src->inv = cs_inventory_open(inv_byte, src, why, sizeof(why));
    if (!src->inv) {
        snprintf(err, errlen, "%s: %s", name, why);
        return -1;
    }
    const char *const *names;
    size_t n = cs_inventory_labels(src->inv, &names);
    for (size_t i = 0; i < n; i++) {
        const char *bad = note_name(ts, names[i], name);
        if (bad) {
            snprintf(err, errlen, "%s: %s", name, bad);
            return -1;
        }
    }
    return 0;
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

/* The end of a source: says why when it could not be read to its end. */
static void end_source(struct cs_targets *ts, struct source *src)
{
    if (src->error) {
        const char *name = strcmp(src->name, "-") ? src->name : "<stdin>";
        uint64_t line = src->inv ? cs_inventory_lines(src->inv) : ts->line;
        if (line == 0)
            notify(ts, CS_NOTICE_INPUT,
                   "%s: cannot be read: %s; none of its targets is scanned (give -f a "
                   "readable file)",
                   name, strerror(src->error));
        else
            notify(ts, CS_NOTICE_INPUT,
                   "%s: read error after line %llu: %s; the rest of the file is not "
                   "scanned (check the file given to -f)",
                   name, (unsigned long long)line, strerror(src->error));
        ts->failed++;
    }
    ts->cur++;
    ts->line = 0;
}

/* A new target: 1; a duplicate: -1 (t is freed). */
static int hand_out(struct cs_targets *ts, struct cs_target *t)
{
    if (remember(ts, t)) {
        ts->count++;
        return 1;
    }
    cs_target_free(t);
    return -1;
}

static int take_text(struct cs_targets *ts, struct cs_target *t, const char *where,
                     const char *text, size_t len);

/* The next line of a targets file: 1 (a target or a bad line), -1 (nothing:
   a blank line, a duplicate) or 0 at the end of the file. */
static int text_next(struct cs_targets *ts, struct source *src, struct cs_target *t)
{
    char where[512];
    int too_long, nul;
    long n = read_line(ts, src, &too_long, &nul);
    if (n < 0)
        return 0;
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
    struct cs_line_parts lp;
    char why[320], text[LINE_MAX_BYTES + 1];
    const char *bad = cs_target_line(s, len, &lp, why, sizeof(why));
    if (!bad && lp.target_len == 0) {
        cs_labels_free(&lp.labels);
        return -1;
    }
    for (size_t i = 0; !bad && i < lp.labels.n; i++)
        bad = note_name(ts, lp.labels.name[i], where);
    if (bad) { /* a bad line carries no labels: which of them were meant is unsure */
        cs_labels_free(&lp.labels);
        return bad_target(ts, t, where, lp.text, lp.text_len, bad, NULL);
    }
    memcpy(text, lp.target, lp.target_len);
    text[lp.target_len] = '\0';
    /* a range or port list hands its labels to each of its targets */
    ts->expand_labels = lp.labels;
    int r = take_text(ts, t, where, text, lp.target_len);
    if (!ts->expanding) {
        if (r > 0 && !t->bad)
            cs_labels_copy(&t->labels, &ts->expand_labels);
        cs_labels_free(&ts->expand_labels);
    }
    return r > 0 ? 1 : -1;
}

/* Whether a target text names its port: host:port, [IPv6]:port, a URL
   whose authority has one. */
static bool names_port(const char *s)
{
    const char *scheme = strstr(s, "://");
    if (scheme)
        s = scheme + 3;
    size_t len = strcspn(s, "/?#");
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        return close && close + 1 < s + len && close[1] == ':';
    }
    const char *colon = memchr(s, ':', len);
    return colon && !memchr(colon + 1, ':', len - (size_t)(colon + 1 - s));
}

/* An inventory row's known columns, applied to the target its host cell
   names.  NULL, or why the row is bad (t then holds no target). */
static const char *row_target(struct cs_targets *ts, const struct cs_inv_row *row,
                              struct cs_target *t, char *why, size_t whylen)
{
    const char *host = row->col[CS_INV_HOST], *cell;
    char esc[80];
    memset(t, 0, sizeof(*t));
    if (!host)
        return "empty host cell";
    const struct cs_probe *probe = NULL;
    if ((cell = row->col[CS_INV_PROTOCOL]) != NULL) {
        char name[16];
        size_t n = strlen(cell);
        for (size_t i = 0; i <= n && n < sizeof(name); i++)
            name[i] = cell[i] >= 'A' && cell[i] <= 'Z' ? (char)(cell[i] + 32) : cell[i];
        if (n < sizeof(name))
            probe = cs_probe_by_name(strcmp(name, "postgresql") ? name : "postgres");
        if (!probe) {
            cs_escape(cell, n < 40 ? n : 40, esc, sizeof(esc));
            snprintf(why, whylen,
                     "protocol column: unknown protocol '%s' (tls, or a --starttls protocol's "
                     "name)",
                     esc);
            return why;
        }
    }
    uint16_t port = 0;
    if ((cell = row->col[CS_INV_PORT]) != NULL) {
        const char *bad = parse_port(cell, strlen(cell), &port);
        if (bad) {
            snprintf(why, whylen, "port column: %s", bad);
            return why;
        }
    }
    char *sni = NULL;
    if ((cell = row->col[CS_INV_SNI]) != NULL) {
        const char *bad = cs_sni_check(cell, &sni);
        if (bad) {
            snprintf(why, whylen, "sni column: %s", bad);
            return why;
        }
    }
    const char *bad =
        cs_target_parse(host, probe ? probe->default_port : ts->port, sni ? sni : ts->opt->sni, t);
    free(sni);
    if (bad)
        return bad;
    if (probe && t->probe && strcmp(t->probe, probe->name) != 0)
        bad = "the host's URL scheme and the protocol column name different protocols";
    else if (probe)
        t->probe = probe->name;
    if (!bad && port && names_port(host) && t->port != port)
        bad = "the host names another port than the port column";
    else if (port)
        t->port = port;
    if (!bad && (cell = row->col[CS_INV_ADDRESS]) != NULL) {
        char addr[64], out[INET6_ADDRSTRLEN];
        unsigned char bin[16];
        size_t n = strlen(cell);
        if (n >= 2 && cell[0] == '[' && cell[n - 1] == ']')
            cell++, n -= 2;
        int af = 0;
        if (n < sizeof(addr)) {
            memcpy(addr, cell, n);
            addr[n] = '\0';
            af = inet_pton(AF_INET, addr, bin) == 1    ? AF_INET
                 : inet_pton(AF_INET6, addr, bin) == 1 ? AF_INET6
                                                       : 0;
        }
        if (!af || !inet_ntop(af, bin, out, sizeof(out)))
            bad = "address column: not an IPv4 or IPv6 address";
        else
            t->address = cs_strdup(out);
    }
    if (bad) {
        uint16_t p = t->port;
        cs_target_free(t);
        t->port = p;
        t->port_known = true;
    }
    return bad;
}

/* The next row of a CSV inventory: as text_next. */
static int csv_next(struct cs_targets *ts, struct source *src, struct cs_target *t)
{
    struct cs_inv_row row;
    if (!cs_inventory_next(src->inv, &row))
        return 0;
    char where[512], why[320];
    ts->line = row.line;
    snprintf(where, sizeof(where), "%s:%llu", strcmp(src->name, "-") ? src->name : "<stdin>",
             (unsigned long long)row.line);
    const char *bad = row.bad ? row.bad : row_target(ts, &row, t, why, sizeof(why));
    if (bad) {
        const char *text = row.bad || !row.col[CS_INV_HOST] ? row.text : row.col[CS_INV_HOST];
        size_t len = text == row.text ? row.text_len : strlen(text);
        return bad_target(ts, t, where, text, len, bad, row.bad ? NULL : t);
    }
    const char *const *names;
    size_t n = cs_inventory_labels(src->inv, &names);
    for (size_t i = 0; i < n; i++)
        cs_labels_add(&t->labels, names[i], row.label[i]);
    return hand_out(ts, t);
}

/* Why -4 or -6 excludes an address of family, or NULL. */
static const char *family_excluded(const struct cs_options *o, int family, bool range)
{
    if (o->ipv4 && family == AF_INET6)
        return range ? "an IPv6 range, but -4 restricts the scan to IPv4"
                     : "an IPv6 address, but -4 restricts the scan to IPv4";
    if (o->ipv6 && family == AF_INET)
        return range ? "an IPv4 range, but -6 restricts the scan to IPv6"
                     : "an IPv4 address, but -6 restricts the scan to IPv6";
    return NULL;
}

/* The next target of the line being expanded: 1 and *t, or 0 once it is
   done (and nothing is left of it). */
static int next_expanded(struct cs_targets *ts, struct cs_target *t)
{
    struct cs_range *r = &ts->range;
    char addr[64];
    uint16_t port;
    while (!atomic_load(&ts->abort) && cs_range_next(r, addr, sizeof(addr), &port)) {
        if (r->family) {
            /* an address of a range: not remembered one by one (see
               take_range), so a /8 costs the reader no memory per target */
            memset(t, 0, sizeof(*t));
            t->host = cs_strdup(addr);
            t->family = r->family;
            t->port = port;
            t->port_known = true;
            if (ts->opt->sni)
                t->sni = cs_strdup(ts->opt->sni);
            cs_labels_copy(&t->labels, &ts->expand_labels);
            ts->count++;
            return 1;
        }
        cs_target_copy(t, &ts->tmpl);
        t->port = port;
        cs_labels_copy(&t->labels, &ts->expand_labels);
        if (remember(ts, t)) {
            ts->count++;
            return 1;
        }
        cs_target_free(t);
    }
    cs_range_free(r);
    cs_target_free(&ts->tmpl);
    cs_labels_free(&ts->expand_labels);
    ts->expanding = false;
    return 0;
}

/* Starts walking a range or port list that parsed into ts->range: 1 and
   the first target (or a bad line) in *t, 0 if it gives none. */
static int take_range(struct cs_targets *ts, struct cs_target *t, const char *where,
                      const char *text, size_t len)
{
    const struct cs_options *o = ts->opt;
    struct cs_range *r = &ts->range;
    const char *why = family_excluded(o, r->family, true);
    uint64_t max = o->max_expand ? o->max_expand : CS_DEFAULT_MAX_EXPAND;
    char buf[256];
    if (!why && r->count > max) {
        if (r->count == UINT64_MAX)
            snprintf(buf, sizeof(buf),
                     "expands to 2^64 targets or more, more than --max-expand %llu allows",
                     (unsigned long long)max);
        else
            snprintf(buf, sizeof(buf),
                     "expands to %llu targets, more than --max-expand %llu allows (raise "
                     "--max-expand, or split the range)",
                     (unsigned long long)r->count, (unsigned long long)max);
        why = buf;
    }
    if (!why && !r->family) { /* a port list on one host: parsed as a target */
        why = cs_target_parse(r->host, ts->port, o->sni, &ts->tmpl);
        if (!why)
            why = family_excluded(o, ts->tmpl.family, false);
    }
    if (why) {
        cs_range_free(r);
        cs_target_free(&ts->tmpl);
        return bad_target(ts, t, where, text, len, why, NULL);
    }
    if (r->family) {
        /* the range is remembered as a whole: the same range twice is
           scanned once, but an address inside two ranges (or inside a
           range and on a line of its own) is scanned for each */
        char key[256];
        cs_range_key(r, key, sizeof(key));
        struct cs_target whole = {.host = key, .sni = o->sni};
        if (!remember(ts, &whole)) {
            cs_range_free(r);
            return 0;
        }
    }
    ts->expanding = true;
    return next_expanded(ts, t);
}

/* One target text (an argument, or a line without its comment): 1 and *t
   (a target, or a bad line), or 0 if it gives none (a duplicate, an empty
   range). */
static int take_text(struct cs_targets *ts, struct cs_target *t, const char *where,
                     const char *text, size_t len)
{
    const struct cs_options *o = ts->opt;
    char why_buf[256];
    /* a file target's path is a path, whatever '-', '/' or ',' it holds */
    int kind = strncmp(text, "file:", 5) == 0
                   ? 0
                   : cs_range_parse(text, ts->port, &ts->range, why_buf, sizeof(why_buf));
    if (kind < 0)
        return bad_target(ts, t, where, text, len, why_buf, NULL);
    if (kind > 0)
        return take_range(ts, t, where, text, len);
    const char *why = cs_target_parse(text, ts->port, o->sni, t);
    if (why)
        return bad_target(ts, t, where, text, len, why, t);
    if ((why = family_excluded(o, t->family, false))) {
        struct cs_target parsed = {.port = t->port, .port_known = t->port_known};
        cs_target_free(t);
        return bad_target(ts, t, where, text, len, why, &parsed);
    }
    if (remember(ts, t)) {
        ts->count++;
        return 1;
    }
    cs_target_free(t);
    return 0;
}

static int next_target(struct cs_targets *ts, struct cs_target *t)
{
    const struct cs_options *o = ts->opt;
    char where[512];
    if (ts->expanding && next_expanded(ts, t))
        return 1;
    while (ts->next_arg < o->n_targets) {
        const char *arg = o->targets[ts->next_arg++];
        snprintf(where, sizeof(where), "argument %zu", ts->next_arg);
        if (take_text(ts, t, where, arg, strlen(arg)))
            return 1;
    }
    while (ts->cur < ts->n_sources) {
        struct source *src = &ts->sources[ts->cur];
        int r = src->inv ? csv_next(ts, src, t) : text_next(ts, src, t);
        if (r > 0)
            return 1;
        if (r == 0)
            end_source(ts, src);
    }
    char *path;
    while (ts->certs && !atomic_load(&ts->abort) && cs_certwalk_next(ts->certs, &path)) {
        memset(t, 0, sizeof(*t));
        t->host = path;
        t->sni = o->sni ? cs_strdup(o->sni) : NULL;
        t->probe = CS_FILE_PROBE;
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
        cs_inventory_close(ts->sources[i].inv);
    }
    free(ts->sources);
    cs_range_free(&ts->range);
    cs_target_free(&ts->tmpl);
    cs_labels_free(&ts->expand_labels);
    cs_certwalk_free(ts->certs);
    for (size_t i = 0; i < SET_PARTS; i++)
        free(ts->seen.part[i].keys);
    EVP_MD_CTX_free(ts->seen.md);
    EVP_MD_free(ts->seen.sha256);
    cs_strlist_free(&ts->names);
    free(ts);
}
