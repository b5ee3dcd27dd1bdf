/* Address ranges and port lists in target text: 10.0.0.0/24,
 * 192.0.2.10-192.0.2.40, [2001:db8::]/120, each with an optional port list
 * (:443,8443,9000-9010), and a port list on one host (api.example.com:443,8443).
 * A range is walked one target at a time: whatever its size it costs the
 * few bytes below and its port list, never a table of its addresses. */
#ifndef CS_RANGES_H
#define CS_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most targets one line may expand to unless --max-expand says otherwise. */
#define CS_DEFAULT_MAX_EXPAND 65536
#define CS_MAX_MAX_EXPAND ((uint64_t)1 << 32)

struct cs_port_span {
    uint16_t lo, hi;
};

struct cs_range {
    /* AF_INET or AF_INET6: an address range, walked from cur to last
       (addresses big-endian; IPv4 in the first 4 bytes).  0: one host, the
       text in host, expanded by its port list only. */
    int family;
    unsigned char cur[16], last[16];
    char host[260];
    struct cs_port_span *spans; /* ascending, disjoint */
    size_t n_spans, span;
    uint32_t port;  /* the next port, within spans[span] */
    uint64_t count; /* targets in all, UINT64_MAX when more than that */
    bool done;
};

/* Parses text (trimmed, no comment) as a range or a port list.  0: it is
   neither (parse it as one target); 1: *r is ready to walk (free it with
   cs_range_free); -1: why says what is wrong with it. */
int cs_range_parse(const char *text, uint16_t default_port, struct cs_range *r, char *why,
                   size_t whylen);
/* The next target of r: true with its address (as text, for an address
   range) and port; false at the end. */
bool cs_range_next(struct cs_range *r, char *addr, size_t addrlen, uint16_t *port);
/* A text naming r's addresses and ports exactly (for duplicate detection). */
void cs_range_key(const struct cs_range *r, char *buf, size_t len);
void cs_range_free(struct cs_range *r);

#endif
