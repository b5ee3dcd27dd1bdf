/* Address ranges and port lists (see ranges.h). */
#include "scanner/ranges.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/util.h"

#define ADDR_TEXT 64

/* A port of a port list: 1-65535, digits only. */
static bool port_number(const char *s, size_t len, uint16_t *port)
{
    if (len == 0 || len > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static int span_cmp(const void *a, const void *b)
{
    const struct cs_port_span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* "443,8443,9000-9010" into ascending, disjoint spans (a port listed twice
   is scanned once). */
static int parse_ports(const char *s, size_t len, struct cs_range *r, char *why, size_t whylen)
{
    size_t items = 1;
    for (size_t i = 0; i < len; i++)
        items += s[i] == ',';
    r->spans = cs_xcalloc(items, sizeof(*r->spans));
    for (size_t i = 0, at = 0; i < items; i++) {
        size_t n = strcspn(s + at, ",");
        if (at + n > len)
            n = len - at;
        const char *item = s + at, *dash = memchr(item, '-', n);
        struct cs_port_span sp;
        size_t lo_len = dash ? (size_t)(dash - item) : n;
        bool ok = port_number(item, lo_len, &sp.lo);
        sp.hi = sp.lo;
        if (ok && dash)
            ok = port_number(dash + 1, n - lo_len - 1, &sp.hi);
        if (!ok) {
            snprintf(why, whylen,
                     "'%.*s' in the port list is not a port or a range of ports "
                     "(1-65535, e.g. 443,8443,9000-9010)",
                     (int)(n > 40 ? 40 : n), item);
            return -1;
        }
        if (sp.hi < sp.lo) {
            snprintf(why, whylen, "port range %u-%u is reversed (give %u-%u)", sp.lo, sp.hi, sp.hi,
                     sp.lo);
            return -1;
        }
        r->spans[r->n_spans++] = sp;
        at += n + 1;
    }
    qsort(r->spans, r->n_spans, sizeof(*r->spans), span_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < r->n_spans; i++) {
        if (kept && r->spans[i].lo <= (uint32_t)r->spans[kept - 1].hi + 1) {
            if (r->spans[i].hi > r->spans[kept - 1].hi)
                r->spans[kept - 1].hi = r->spans[i].hi;
        } else {
            r->spans[kept++] = r->spans[i];
        }
    }
    r->n_spans = kept;
    return 0;
}

/* An address of either family into 16 big-endian bytes: its family or 0. */
static int address(const char *s, size_t len, unsigned char out[16])
{
    char buf[ADDR_TEXT];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(out, 0, 16);
    if (inet_pton(AF_INET, buf, out) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, buf, out) == 1)
        return AF_INET6;
    return 0;
}

static size_t addr_bytes(int family)
{
    return family == AF_INET ? 4 : 16;
}

static void addr_text(int family, const unsigned char *a, char *buf, size_t len)
{
    if (!inet_ntop(family, a, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

/* Adds (or, with delta -1, takes) one to a big-endian number of n bytes. */
static void addr_step(unsigned char *a, size_t n, int delta)
{
    for (size_t i = n; i-- > 0;) {
        unsigned char before = a[i];
        a[i] = (unsigned char)(a[i] + delta);
        if (delta > 0 ? before != 0xff : before != 0)
            return;
    }
}

/* last - first + 1, or UINT64_MAX when it does not fit. */
static uint64_t addr_span(const unsigned char *first, const unsigned char *last, size_t n)
{
    uint64_t hi = 0, lo = 0;
    int borrow = 0;
    unsigned char d[16];
    for (size_t i = n; i-- > 0;) {
        int v = last[i] - first[i] - borrow;
        borrow = v < 0;
        d[i] = (unsigned char)(v + (borrow ? 256 : 0));
    }
    for (size_t i = 0; i < n; i++) {
        if (i + 8 < n)
            hi |= d[i];
        else
            lo = lo << 8 | d[i];
    }
    return hi || lo == UINT64_MAX ? UINT64_MAX : lo + 1;
}

/* A.B.C.D/N or IPv6/N: its addresses, less the network and broadcast
   addresses of an IPv4 network larger than a /31. */
static int parse_cidr(const char *s, size_t len, struct cs_range *r, char *why, size_t whylen)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = (size_t)(slash - s), plen = len - alen - 1;
    int fam = address(s, alen, r->cur);
    if (!fam) {
        snprintf(why, whylen, "'%.*s' before the '/' is not an IP address",
                 (int)(alen > 64 ? 64 : alen), s);
        return -1;
    }
    unsigned bits = (unsigned)addr_bytes(fam) * 8, prefix = 0;
    bool digits = plen > 0 && plen <= 3;
    for (size_t i = 0; i < plen && digits; i++) {
        digits = slash[1 + i] >= '0' && slash[1 + i] <= '9';
        prefix = prefix * 10 + (unsigned)(slash[1 + i] - '0');
    }
    if (!digits) {
        snprintf(why, whylen, "'/%.*s' is not a prefix length (0-%u)", (int)(plen > 8 ? 8 : plen),
                 slash + 1, bits);
        return -1;
    }
    if (prefix > bits) {
        snprintf(why, whylen, "prefix /%u is longer than an %s address (%u bits)", prefix,
                 fam == AF_INET ? "IPv4" : "IPv6", bits);
        return -1;
    }
    memcpy(r->last, r->cur, 16);
    bool host_bits = false;
    for (unsigned b = prefix; b < bits; b++) {
        unsigned char mask = (unsigned char)(0x80 >> (b % 8));
        host_bits = host_bits || (r->cur[b / 8] & mask);
        r->cur[b / 8] &= (unsigned char)~mask;
        r->last[b / 8] |= mask;
    }
    if (host_bits) {
        char net[ADDR_TEXT];
        addr_text(fam, r->cur, net, sizeof(net));
        snprintf(why, whylen, "address has bits set past the /%u prefix (the network is %s/%u)",
                 prefix, net, prefix);
        return -1;
    }
    if (fam == AF_INET && prefix < 31) { /* network and broadcast addresses */
        addr_step(r->cur, 4, 1);
        addr_step(r->last, 4, -1);
    }
    r->family = fam;
    return 0;
}

/* FIRST-LAST (IPv4 also FIRST-D, D the last byte of LAST).  0, 1 if the
   text before the dash is no address (a host name with a dash), -1. */
static int parse_dash(const char *s, size_t len, struct cs_range *r, char *why, size_t whylen)
{
    const char *dash = memchr(s, '-', len);
    size_t alen = (size_t)(dash - s), blen = len - alen - 1;
    int fam = address(s, alen, r->cur);
    if (!fam)
        return 1;
    const char *b = dash + 1;
    int fam2 = address(b, blen, r->last);
    uint16_t octet;
    if (!fam2 && fam == AF_INET && blen <= 3 && port_number(b, blen, &octet) && octet <= 255) {
        memcpy(r->last, r->cur, 16);
        r->last[3] = (unsigned char)octet;
        fam2 = AF_INET;
    } else if (!fam2 && fam == AF_INET && blen == 1 && b[0] == '0') {
        memcpy(r->last, r->cur, 16);
        r->last[3] = 0;
        fam2 = AF_INET;
    }
    if (!fam2) {
        snprintf(why, whylen, "'%.*s' after the '-' is not an IP address",
                 (int)(blen > 64 ? 64 : blen), b);
        return -1;
    }
    if (fam != fam2) {
        snprintf(why, whylen, "range mixes IPv4 and IPv6 addresses");
        return -1;
    }
    if (memcmp(r->last, r->cur, addr_bytes(fam)) < 0) {
        char first[ADDR_TEXT], last[ADDR_TEXT];
        addr_text(fam, r->cur, first, sizeof(first));
        addr_text(fam, r->last, last, sizeof(last));
        snprintf(why, whylen, "range is reversed: %s comes before %s", last, first);
        return -1;
    }
    r->family = fam;
    return 0;
}

/* Splits text into its host part and its port part (either may be empty):
   [host]/N:ports, [host]:ports, host:ports, or a bare IPv6 address (with
   /N or -LAST) and no port.  False if the text is no range (the target
   parser says what is wrong with it). */
static bool split(const char *text, char *host, size_t hostlen, const char **ports, size_t *plen)
{
    size_t len = strlen(text);
    *ports = NULL;
    *plen = 0;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close)
            return false;
        const char *rest = close + 1;
        size_t prefix = 0;
        if (rest[0] == '/')
            prefix = 1 + strcspn(rest + 1, ":");
        size_t hlen = (size_t)(close - text - 1);
        if (hlen + prefix >= hostlen)
            return false;
        memcpy(host, text + 1, hlen);
        memcpy(host + hlen, rest, prefix);
        host[hlen + prefix] = '\0';
        rest += prefix;
        if (rest[0] == ':') {
            *ports = rest + 1;
            *plen = strlen(rest + 1);
        } else if (rest[0]) {
            return false;
        }
        return true;
    }
    const char *colon = strchr(text, ':');
    size_t hlen = len;
    if (colon && !strchr(colon + 1, ':')) {
        hlen = (size_t)(colon - text);
        *ports = colon + 1;
        *plen = len - hlen - 1;
    }
    if (hlen >= hostlen)
        return false;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    return true;
}

int cs_range_parse(const char *text, uint16_t default_port, struct cs_range *r, char *why,
                   size_t whylen)
{
    memset(r, 0, sizeof(*r));
    if (strstr(text, "://"))
        return 0; /* a URL: its path may hold anything */
    const char *ports;
    size_t plen;
    if (!split(text, r->host, sizeof(r->host), &ports, &plen))
        return 0;
    size_t hlen = strlen(r->host);
    bool list = ports && (memchr(ports, ',', plen) || memchr(ports, '-', plen));
    int rc = 1;
    if (strchr(r->host, '/'))
        rc = parse_cidr(r->host, hlen, r, why, whylen);
    else if (strchr(r->host, '-'))
        rc = parse_dash(r->host, hlen, r, why, whylen);
    if (rc < 0)
        return -1;
    if (rc == 1 && !list) { /* one host, one port: a plain target */
        memset(r, 0, sizeof(*r));
        return 0;
    }
    if (rc == 1) /* one host: the target parser reads it as it is written */
        snprintf(r->host, sizeof(r->host), "%.*s", (int)(ports - 1 - text), text);
    if (ports && plen) {
        if (parse_ports(ports, plen, r, why, whylen) < 0) {
            cs_range_free(r);
            return -1;
        }
    } else if (ports) {
        snprintf(why, whylen, "empty port");
        return -1;
    } else {
        r->spans = cs_xcalloc(1, sizeof(*r->spans));
        r->spans[0] = (struct cs_port_span){default_port, default_port};
        r->n_spans = 1;
    }
    uint64_t n_ports = 0;
    for (size_t i = 0; i < r->n_spans; i++)
        n_ports += (uint64_t)r->spans[i].hi - r->spans[i].lo + 1;
    uint64_t n_addrs = r->family ? addr_span(r->cur, r->last, addr_bytes(r->family)) : 1;
    if (r->family && memcmp(r->last, r->cur, addr_bytes(r->family)) < 0)
        n_addrs = 0; /* cannot happen after the checks above; kept safe */
    r->count = n_addrs && n_ports > UINT64_MAX / n_addrs ? UINT64_MAX : n_addrs * n_ports;
    r->done = r->count == 0;
    r->port = r->spans[0].lo;
    return 1;
}

bool cs_range_next(struct cs_range *r, char *addr, size_t addrlen, uint16_t *port)
{
    if (r->done)
        return false;
    if (r->family)
        addr_text(r->family, r->cur, addr, addrlen);
    else if (addrlen)
        addr[0] = '\0';
    *port = (uint16_t)r->port;
    if (r->port < r->spans[r->span].hi) { /* every port of one address, then the next */
        r->port++;
        return true;
    }
    if (++r->span < r->n_spans) {
        r->port = r->spans[r->span].lo;
        return true;
    }
    r->span = 0;
    r->port = r->spans[0].lo;
    size_t n = addr_bytes(r->family);
    if (!r->family || memcmp(r->cur, r->last, n) == 0)
        r->done = true;
    else
        addr_step(r->cur, n, 1);
    return true;
}

void cs_range_key(const struct cs_range *r, char *buf, size_t len)
{
    char first[ADDR_TEXT] = "", last[ADDR_TEXT] = "";
    if (r->family) {
        addr_text(r->family, r->cur, first, sizeof(first));
        addr_text(r->family, r->last, last, sizeof(last));
    }
    /* the port list by a hash of its spans: the key stays short however
       long the list (the caller digests it with the rest of the target) */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < r->n_spans; i++) {
        h = (h ^ r->spans[i].lo) * 1099511628211ull;
        h = (h ^ r->spans[i].hi) * 1099511628211ull;
    }
    snprintf(buf, len, "%s-%s/%zu/%016llx", first, r->family ? last : r->host, r->n_spans,
             (unsigned long long)h);
}

void cs_range_free(struct cs_range *r)
{
    free(r->spans);
    memset(r, 0, sizeof(*r));
}
