/* The order of report rows: one sort key and one comparator for every writer
 * that orders its rows (the text table and the Nagios lines always, JSON,
 * CSV and JSON Lines when --sort asks; certsweep merge writes through the
 * same writers), and the bounded buffer in which the streaming formats (CSV,
 * JSON Lines) hold their rows back until close when --sort asks them to. */
#ifndef CS_REPORT_ORDER_H
#define CS_REPORT_ORDER_H

#include <stdint.h>
#include <stdio.h>

#include "scanner/result.h"

/* --sort; CS_SORT_NONE: not given (the text table and Nagios sort by
   urgency, the other formats keep completion order) */
enum cs_sort {
    CS_SORT_NONE = 0,
    CS_SORT_URGENCY,   /* status (EXPIRED, CRITICAL, WARNING, ERROR, OK), days, notAfter, host */
    CS_SORT_HOST,      /* host (ASCII case-insensitive), then port */
    CS_SORT_NOT_AFTER, /* soonest notAfter first, none last, then host */
};

/* What a row is ordered by: copied from its record. */
struct cs_order_key {
    enum cs_status status;
    int64_t days;      /* days_remaining; CS_INT_NONE: no certificate */
    int64_t not_after; /* CS_INT_NONE: no certificate */
    int64_t port;      /* CS_INT_NONE: none (a bad target line) */
    char *host;        /* owned, never NULL */
    uint64_t seq;      /* completion order: the last tie-break, so every order is total */
};

void cs_order_key_set(struct cs_order_key *k, const struct cs_result *r, uint64_t seq);
void cs_order_key_free(struct cs_order_key *k);
/* <0, 0, >0 as a comes before, with or after b; CS_SORT_NONE is urgency. */
int cs_order_compare(const struct cs_order_key *a, const struct cs_order_key *b, enum cs_sort by);
/* Sorts n rows of `size` bytes, each holding its key at key_offset. */
void cs_order_sort(void *rows, size_t n, size_t size, size_t key_offset, enum cs_sort by);
/* "urgency", "host", "not_after"; CS_SORT_NONE for anything else. */
enum cs_sort cs_sort_parse(const char *s);
/* The --sort word of by, or NULL for CS_SORT_NONE. */
const char *cs_sort_name(enum cs_sort by);

/* Rows held back until close, each its finished text and its key. */
struct cs_order_item {
    struct cs_order_key key;
    char *text; /* owned */
    size_t len;
};

/* What the streaming formats hold at most under --sort: past it the report
   fails with CS_ESORTBUF (said once, no partial file left in place). */
#define CS_ORDER_MAX_BYTES ((size_t)2 << 30)

struct cs_order_buf {
    struct cs_order_item *items;
    size_t n, cap;
    size_t bytes;     /* held so far: texts, hosts and items */
    size_t max_bytes; /* 0: no cap */
    FILE *row;        /* the row being written (open_memstream) */
    char *row_p;
    size_t row_len;
};

void cs_order_buf_init(struct cs_order_buf *b, size_t max_bytes);
/* A stream to write one row's text to; NULL when it cannot be made. */
FILE *cs_order_row_begin(struct cs_order_buf *b);
/* Ends the row begun and keeps it under r's key.  0, CS_ESORTBUF past the
   cap (the row is dropped), or -EIO. */
int cs_order_row_end(struct cs_order_buf *b, const struct cs_result *r);
/* Keeps text (len bytes, owned from now on) under r's key.  0 or CS_ESORTBUF
   (text is freed). */
int cs_order_add(struct cs_order_buf *b, const struct cs_result *r, char *text, size_t len);
/* Sorts the rows; CS_SORT_NONE leaves completion order. */
void cs_order_buf_sort(struct cs_order_buf *b, enum cs_sort by);
/* Writes every row's text, in the buffer's order: 0 or -EIO. */
int cs_order_buf_write(const struct cs_order_buf *b, FILE *out);
void cs_order_buf_free(struct cs_order_buf *b);

#endif
