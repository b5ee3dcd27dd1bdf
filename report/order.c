/* Report row order and the --sort buffer (order.h). */
#include "report/order.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/error.h"

static const char *const order_names[] = {
    [CS_SORT_URGENCY] = "urgency",
    [CS_SORT_HOST] = "host",
    [CS_SORT_NOT_AFTER] = "not_after",
};

enum cs_sort cs_sort_parse(const char *s)
{
    for (int i = CS_SORT_URGENCY; s && i <= CS_SORT_NOT_AFTER; i++)
        if (strcmp(s, order_names[i]) == 0)
            return (enum cs_sort)i;
    return CS_SORT_NONE;
}

const char *cs_sort_name(enum cs_sort by)
{
    return by > CS_SORT_NONE && by <= CS_SORT_NOT_AFTER ? order_names[by] : NULL;
}

void cs_order_key_set(struct cs_order_key *k, const struct cs_result *r, uint64_t seq)
{
    *k = (struct cs_order_key){
        .status = r->status,
        .days = r->days_remaining,
        .not_after = r->not_after,
        .port = r->port,
        .host = cs_strdup(r->host ? r->host : ""),
        .seq = seq,
    };
}

void cs_order_key_free(struct cs_order_key *k)
{
    free(k->host);
    k->host = NULL;
}

static int order_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Ascending, a missing value (CS_INT_NONE) after every present one. */
static int order_present_first(int64_t a, int64_t b)
{
    if (a == b)
        return 0;
    if (a == CS_INT_NONE)
        return 1;
    if (b == CS_INT_NONE)
        return -1;
    return order_i64(a, b);
}

/* host in ASCII case-insensitive order (an internationalised host is
   compared by its bytes past ASCII), then byte order for a stable tie,
   then port */
static int order_host(const struct cs_order_key *a, const struct cs_order_key *b)
{
    int c = strcasecmp(a->host, b->host);
    if (c == 0)
        c = strcmp(a->host, b->host);
    return c ? c : order_i64(a->port, b->port);
}

int cs_order_compare(const struct cs_order_key *a, const struct cs_order_key *b, enum cs_sort by)
{
    int c = 0;
    switch (by) {
    case CS_SORT_HOST:
        c = order_host(a, b);
        break;
    case CS_SORT_NOT_AFTER:
        c = order_present_first(a->not_after, b->not_after);
        if (c == 0)
            c = order_host(a, b);
        break;
    default: /* urgency */
        c = order_i64(cs_status_urgency(a->status), cs_status_urgency(b->status));
        if (c == 0)
            c = order_present_first(a->days, b->days);
        if (c == 0)
            c = order_present_first(a->not_after, b->not_after);
        if (c == 0)
            c = order_host(a, b);
        break;
    }
    return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct order_how {
    size_t key_offset;
    enum cs_sort by;
};

static int order_rows(const void *pa, const void *pb, void *arg)
{
    const struct order_how *how = arg;
    const struct cs_order_key *a = (const void *)((const char *)pa + how->key_offset);
    const struct cs_order_key *b = (const void *)((const char *)pb + how->key_offset);
    return cs_order_compare(a, b, how->by);
}

void cs_order_sort(void *rows, size_t n, size_t size, size_t key_offset, enum cs_sort by)
{
    struct order_how how = {key_offset, by};
    if (n > 1)
        qsort_r(rows, n, size, order_rows, &how);
}

void cs_order_buf_init(struct cs_order_buf *b, size_t max_bytes)
{
    memset(b, 0, sizeof(*b));
    b->max_bytes = max_bytes;
}

FILE *cs_order_row_begin(struct cs_order_buf *b)
{
    if (b->row == NULL) {
        b->row_p = NULL;
        b->row_len = 0;
        b->row = open_memstream(&b->row_p, &b->row_len);
    }
    return b->row;
}

int cs_order_row_end(struct cs_order_buf *b, const struct cs_result *r)
{
    if (b->row == NULL)
        return -EIO;
    int bad = ferror(b->row);
    int closed = fclose(b->row); /* sets row_p and row_len */
    b->row = NULL;
    char *text = b->row_p;
    b->row_p = NULL;
    if (bad || closed != 0 || text == NULL) {
        free(text);
        return -EIO;
    }
    return cs_order_add(b, r, text, b->row_len);
}

int cs_order_add(struct cs_order_buf *b, const struct cs_result *r, char *text, size_t len)
{
    size_t host = r->host ? strlen(r->host) + 1 : 1;
    size_t cost = len + host + sizeof(struct cs_order_item);
    if (b->max_bytes && cost > b->max_bytes - b->bytes) {
        free(text);
        return CS_ESORTBUF;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->items = cs_xrealloc(b->items, b->cap * sizeof(*b->items));
    }
    struct cs_order_item *it = &b->items[b->n];
    cs_order_key_set(&it->key, r, b->n);
    it->text = text;
    it->len = len;
    b->n++;
    b->bytes += cost;
    return 0;
}

void cs_order_buf_sort(struct cs_order_buf *b, enum cs_sort by)
{
    if (by != CS_SORT_NONE)
        cs_order_sort(b->items, b->n, sizeof(*b->items), offsetof(struct cs_order_item, key), by);
}

int cs_order_buf_write(const struct cs_order_buf *b, FILE *out)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].len && fwrite(b->items[i].text, 1, b->items[i].len, out) != b->items[i].len)
            return -EIO;
    return ferror(out) ? -EIO : 0;
}

void cs_order_buf_free(struct cs_order_buf *b)
{
    for (size_t i = 0; i < b->n; i++) {
        cs_order_key_free(&b->items[i].key);
        free(b->items[i].text);
    }
    free(b->items);
    if (b->row != NULL)
        fclose(b->row);
    free(b->row_p);
    memset(b, 0, sizeof(*b));
}
