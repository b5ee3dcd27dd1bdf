/* Text report: a table for people at a terminal, most urgent endpoint first,
 * then a one-line summary and when the scan ran.  The table needs every row
 * before it can sort and size its columns, so each record is kept as a small
 * row (a few values, not the whole record) until close.  Everything printed
 * passes through text_next(), which escapes control characters (C0, DEL, C1,
 * bidi overrides) and invalid UTF-8 as \xNN / \uNNNN: a certificate subject
 * cannot move the cursor, recolour the terminal or reorder the line.  Widths
 * are counted in terminal columns, not bytes.  --label NAME adds a column
 * per label, before REASON, with the record's value of that label.
 *
 * The table fits the width it is given (cs_scan_info: the terminal's, or 80):
 * STATUS, DAYS and NOT AFTER keep their width; HOST:PORT, ISSUER and
 * REVOCATION take what their longest value needs up to a cap; REASON gets
 * what is left.  When the line is too long, the columns and REASON give room
 * back by weight, down to a minimum each; when even the minimums do not fit,
 * REASON goes under its row, indented and wrapped.  A host is shortened in the middle ("api-\u2026.example.com:443")
 * so that its domain and port stay; other cells are cut at the end with
 * "...".  --wide cuts nothing. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/order.h"
#include "scanner/targets.h"

/* Column caps, the widths columns shrink to at most when the width is short,
   and their weights: when columns must shrink, the one widest for its
   weight gives a column first, so REASON keeps 5/2 of ISSUER's width and
   HOST:PORT twice it, down to their minimums. */
#define TEXT_HOST_CAP 64
#define TEXT_HOST_MIN 20
#define TEXT_HOST_WEIGHT 4
#define TEXT_ISSUER_CAP 32
#define TEXT_ISSUER_MIN 8
#define TEXT_ISSUER_WEIGHT 2
#define TEXT_REVOCATION_CAP 40
#define TEXT_REVOCATION_MIN 8
#define TEXT_REVOCATION_WEIGHT 2
#define TEXT_REASON_MIN 20
#define TEXT_REASON_WEIGHT 5
#define TEXT_LABEL_CAP 32 /* label columns do not shrink below it */
#define TEXT_DEFAULT_WIDTH 80
#define TEXT_BELOW_INDENT "    " /* a REASON under its row */
#define TEXT_SEP "  "
#define TEXT_ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column */
/* Hard caps of the buffers (cs_buf): a cell is at most a few hundred bytes
   but for zero-width characters, which take bytes and no column; a line is
   seven cells.  Past a cap the report fails (CS_ETOOBIG) rather than grow. */
#define TEXT_CELL_BYTES ((size_t)1 << 20)
#define TEXT_LINE_BYTES ((size_t)8 << 20)

enum {
    TEXT_C_STATUS,
    TEXT_C_HOST,
    TEXT_C_DAYS,
    TEXT_C_NOT_AFTER,
    TEXT_C_ISSUER,
    TEXT_C_REVOCATION, /* only when --ocsp or --crl asked */
    TEXT_C_REASON,
    TEXT_C_COUNT
};

static const char *const text_headers[TEXT_C_COUNT] = {
    "STATUS", "HOST:PORT", "DAYS", "NOT AFTER", "ISSUER", "REVOCATION", "REASON",
};

static const char *const text_colors[CS_STATUS_COUNT] = {
    [CS_OK] = "\x1b[32m",      [CS_WARNING] = "\x1b[33m", [CS_CRITICAL] = "\x1b[31m",
    [CS_EXPIRED] = "\x1b[31m", [CS_ERROR] = "\x1b[35m",
};
#define TEXT_COLOR_RESET "\x1b[0m"

struct text_row {
    enum cs_status status;
    int64_t port;      /* CS_INT_NONE when absent */
    int64_t days;      /* days_remaining, CS_INT_NONE when absent */
    int64_t not_after; /* CS_INT_NONE when absent */
    char *host;
    char *host_cell;  /* "host:port", "[v6]:port", an IDN's " (xn--...)" after */
    size_t host_tail; /* columns the middle cut keeps at the end: an IDN's
                         ":port (xn--...)", so its A-label stays whole */
    char *issuer;     /* the issuer's CN, or the whole issuer; NULL when absent */
    char *revocation; /* the record's revocation, or NULL */
    char *reason;     /* reason, or error when reason is "" */
    char *chain;      /* --chain: the certificates' lines, escaped, or NULL */
    char **labels;    /* the value of each --label, NULL when the record has none */

    /* where the row goes (--sort, urgency by default) */
    struct cs_order_key key;
};

struct text_state {
    struct text_row *rows;
    size_t n;
    size_t cap;
    struct cs_buf cell;  /* one rendered cell, reused */
    struct cs_buf line;  /* the table line being built, reused */
    bool revocation;     /* show the REVOCATION column */
    char *const *labels; /* --label names: a column each (ids TEXT_C_COUNT + k) */
    size_t nlabels;
    size_t width;    /* the columns the table fits in; 0: --wide, nothing is cut */
    unsigned hidden; /* bit (1 << column): left out to give REASON its room */
    int64_t started_at, now;
    int err; /* the first failure (CS_ETOOBIG), reported by close */

    /* --sort; urgency when not given */
    enum cs_sort sort;
};

/* Where the columns ended up: each one's width (what its cells are cut to),
   and whether REASON goes under its row. */
struct text_layout {
    size_t *colw;
    bool reason_below;
};

/* Appends to b, noting a failure in *err (the first one is kept). */
static void text_append(struct cs_buf *b, const char *s, size_t n, int *err)
{
    int rc = cs_buf_append(b, s, n);
    if (rc < 0 && *err == 0)
        *err = rc;
}

static void text_puts(struct cs_buf *b, const char *s, int *err)
{
    text_append(b, s, strlen(s), err);
}

/* Code points a terminal acts on rather than shows: C0, DEL, C1 (U+009B is
 * a one-byte CSI on some terminals), and the bidi embedding, override and
 * isolate controls that reorder what follows them. */
static bool text_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Terminal columns of a printable code point: 0 for combining marks and
 * zero-width characters, 2 for East Asian wide and emoji, else 1 (a small
 * wcwidth() that does not depend on the process locale). */
static size_t text_cp_width(uint32_t cp)
{
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
        (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x200B && cp <= 0x200D) ||
        (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
        (cp >= 0xFE20 && cp <= 0xFE2F) || cp == 0xFEFF)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
        (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

/* One unit of output: a printable code point as it is, or a control
   character or invalid byte as its escape.  A cut falls between units, never
   inside a UTF-8 sequence or an escape. */
struct text_unit {
    const char *text; /* what is printed: into the source, or esc */
    size_t len;       /* bytes of text */
    size_t width;     /* its terminal columns */
    size_t step;      /* source bytes it stands for */
    char esc[16];
};

/* The unit at p (not at the terminating NUL). */
static void text_next(const unsigned char *p, struct text_unit *u)
{
    uint32_t cp = 0;
    size_t len = cs_utf8_decode(p, &cp);
    if (len == 0 || (cp < 0x80 && text_is_control(cp))) {
        snprintf(u->esc, sizeof(u->esc), "\\x%02X", *p);
        len = 1;
    } else if (text_is_control(cp)) {
        snprintf(u->esc, sizeof(u->esc), "\\u%04" PRIX32, cp);
    } else {
        u->text = (const char *)p;
        u->len = len;
        u->width = text_cp_width(cp);
        u->step = len;
        return;
    }
    u->text = u->esc;
    u->len = u->width = strlen(u->esc);
    u->step = len;
}

/* Terminal columns of s once escaped. */
static size_t text_measure(const char *s)
{
    size_t width = 0;
    struct text_unit u;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p += u.step) {
        text_next(p, &u);
        width += u.width;
    }
    return width;
}

/* Appends the units of s[0..end) (end NULL: all of s) to b; returns their
   columns. */
static size_t text_emit(struct cs_buf *b, const unsigned char *s, const unsigned char *end,
                        int *err)
{
    size_t width = 0;
    struct text_unit u;
    for (const unsigned char *p = s; *p != '\0' && (end == NULL || p < end); p += u.step) {
        text_next(p, &u);
        text_append(b, u.text, u.len, err);
        width += u.width;
    }
    return width;
}

/* Appends s to b, escaped, cut to at most `cap` columns with "..." (cap 0:
 * no limit); returns the columns appended.  A failed append is noted in *err. */
static size_t text_render(struct cs_buf *b, const char *s, size_t cap, int *err)
{
    size_t start = b->len, width = 0;
    size_t fit_len = b->len, fit_width = 0; /* the longest prefix that leaves room for "..." */
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0' && (cap == 0 || width <= cap)) {
        struct text_unit u;
        text_next(p, &u);
        text_append(b, u.text, u.len, err);
        width += u.width;
        p += u.step;
        if (cap > 3 && width <= cap - 3) {
            fit_len = b->len;
            fit_width = width;
        }
    }
    if (cap != 0 && width > cap) {
        b->len = fit_len;
        b->p[b->len] = '\0';
        text_puts(b, "...", err);
        width = fit_width + 3;
    }
    if (b->len == start)
        text_append(b, "", 0, err); /* b->p is never NULL after a render */
    return width;
}

/* The same escaping for other text that reaches a terminal (report.h). */
size_t cs_text_escape(struct cs_buf *b, const char *s, size_t cap, int *err)
{
    return text_render(b, s, cap, err);
}

/* Appends s to b, escaped; past `cap` columns (0: no limit) its middle gives
   way to one ellipsis, a quarter of the room kept for the head and the rest
   for the tail (at least min_tail columns when there is room for them), where
   a host name keeps its domain and port.  Returns the columns appended. */
static size_t text_render_middle(struct cs_buf *b, const char *s, size_t cap, size_t min_tail,
                                 int *err)
{
    size_t total = text_measure(s);
    if (cap == 0 || total <= cap)
        return text_render(b, s, 0, err);
    size_t keep = cap - 1, head = keep / 4, tail = keep - head, width = 0, skipped = 0;
    if (min_tail > tail && min_tail < keep) { /* a column of head at least */
        tail = min_tail;
        head = keep - tail;
    }
    const unsigned char *p = (const unsigned char *)s;
    struct text_unit u;
    for (; *p != '\0'; p += u.step) { /* the head: whole units that fit */
        text_next(p, &u);
        if (width + u.width > head)
            break;
        width += u.width;
    }
    text_emit(b, (const unsigned char *)s, p, err);
    for (skipped = width; *p != '\0' && total - skipped > tail; p += u.step) {
        text_next(p, &u); /* the middle: dropped, whole units until the tail fits */
        skipped += u.width;
    }
    text_puts(b, TEXT_ELLIPSIS, err);
    return width + 1 + text_emit(b, p, NULL, err);
}

/* Appends s to b as lines of at most `avail` columns (0: one line), each
   after `indent`, broken at a blank where there is one. */
static void text_render_wrapped(struct cs_buf *b, const char *s, const char *indent, size_t avail,
                                int *err)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        const unsigned char *q = p, *blank = NULL;
        size_t width = 0;
        struct text_unit u;
        for (; *q != '\0'; q += u.step) {
            text_next(q, &u);
            if (avail != 0 && width > 0 && width + u.width > avail)
                break;
            if (*q == ' ')
                blank = q;
            width += u.width;
        }
        const unsigned char *end = *q != '\0' && blank != NULL && blank > p ? blank : q;
        text_puts(b, indent, err);
        text_emit(b, p, end, err);
        text_puts(b, "\n", err);
        for (p = end; *p == ' ';)
            p++;
    }
}

/* The issuer's cell: its first CN, or the whole name when it has none. */
static char *text_issuer_cn(const char *dn)
{
    char *cn = cs_dn_first_cn(dn);
    return cn ? cn : cs_strdup(dn);
}

/* Renders column c of row into b (which is reset), cut to cap columns (0:
   not cut); returns its width. */
static size_t text_cell(struct cs_buf *b, const struct text_row *row, int c, size_t cap, int *err)
{
    char tmp[32];
    cs_buf_reset(b);
    switch (c) {
    case TEXT_C_STATUS:
        return text_render(b, cs_status_name(row->status), 0, err);
    case TEXT_C_HOST:
        return text_render_middle(b, row->host_cell, cap, row->host_tail, err);
    case TEXT_C_DAYS:
        if (row->days == CS_INT_NONE)
            return text_render(b, "-", 0, err);
        snprintf(tmp, sizeof(tmp), "%" PRId64, row->days);
        return text_render(b, tmp, 0, err);
    case TEXT_C_NOT_AFTER:
        if (row->not_after == CS_INT_NONE)
            return text_render(b, "-", 0, err);
        cs_format_time(row->not_after, tmp);
        tmp[10] = '\0'; /* YYYY-MM-DD */
        return text_render(b, tmp, 0, err);
    case TEXT_C_ISSUER:
        return text_render(b, row->issuer ? row->issuer : "-", cap, err);
    case TEXT_C_REVOCATION:
        return text_render(b, row->revocation ? row->revocation : "-", cap, err);
    case TEXT_C_REASON:
        return text_render(b, row->reason, cap, err);
    }
    const char *label = row->labels ? row->labels[c - TEXT_C_COUNT] : NULL;
    return text_render(b, label ? label : "-", cap, err);
}

/* The column shown at position d: the fixed ones, the label columns just
 * before REASON, REASON last. */
static int text_column(const struct text_state *st, size_t d)
{
    if (d < TEXT_C_REASON)
        return (int)d;
    if (d < TEXT_C_REASON + st->nlabels)
        return TEXT_C_COUNT + (int)(d - TEXT_C_REASON);
    return TEXT_C_REASON;
}

/* A label column's header: its name in capitals, as the other headers. */
static size_t text_label_header(struct cs_buf *b, const char *name, int *err)
{
    char up[80];
    size_t n = 0;
    for (; name[n] != '\0' && n + 1 < sizeof(up); n++)
        up[n] = name[n] >= 'a' && name[n] <= 'z' ? (char)(name[n] - 32) : name[n];
    up[n] = '\0';
    return text_render(b, up, TEXT_LABEL_CAP, err);
}

/* The table's order: --sort's, most urgent first when it is not given. */
static void text_sort(struct text_state *st)
{
    cs_order_sort(st->rows, st->n, sizeof(*st->rows), offsetof(struct text_row, key),
                  st->sort != CS_SORT_NONE ? st->sort : CS_SORT_URGENCY);
}

static void text_pad(struct cs_buf *line, size_t n, int *err)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        text_append(line, spaces, k, err);
        n -= k;
    }
}

/* Appends a rendered cell, padded to colw columns (DAYS right-aligned), to
 * the line being built. */
static void text_put_cell(struct cs_buf *line, const struct cs_buf *b, size_t width, size_t colw,
                          int c, const char *color, int *err)
{
    if (c > 0)
        text_puts(line, TEXT_SEP, err);
    size_t pad = colw > width ? colw - width : 0;
    if (c == TEXT_C_DAYS)
        text_pad(line, pad, err);
    if (color != NULL)
        text_puts(line, color, err);
    text_append(line, b->p, b->len, err);
    if (color != NULL)
        text_puts(line, TEXT_COLOR_RESET, err);
    if (c != TEXT_C_DAYS)
        text_pad(line, pad, err);
}

/* Writes the line without the padding after its last non-empty cell. */
static void text_end_line(FILE *out, struct cs_buf *line)
{
    while (line->len > 0 && line->p[line->len - 1] == ' ')
        line->len--;
    if (line->len > 0)
        fwrite(line->p, 1, line->len, out);
    fputc('\n', out);
    cs_buf_reset(line);
}

/* Whether column c is shown. */
static bool text_shown(const struct text_state *st, int c)
{
    if (c < TEXT_C_COUNT && (st->hidden & (1u << c)))
        return false;
    return c != TEXT_C_REVOCATION || st->revocation;
}

/* The columns a short width leaves out, first to last, before REASON goes
   under its row: what DAYS, STATUS and REASON already say in part. */
static const int text_droppable[] = {TEXT_C_ISSUER, TEXT_C_REVOCATION, TEXT_C_NOT_AFTER};
#define TEXT_DROPPABLE (sizeof(text_droppable) / sizeof(text_droppable[0]))

/* The cap of column c, the width it may shrink to and its weight; all 0 for
   a column that keeps the width of its longest value (STATUS, DAYS, NOT
   AFTER).  REASON has no cap: it gets what is left. */
struct text_bounds {
    size_t cap, min, weight;
};

static struct text_bounds text_bounds(int c)
{
    switch (c) {
    case TEXT_C_HOST:
        return (struct text_bounds){TEXT_HOST_CAP, TEXT_HOST_MIN, TEXT_HOST_WEIGHT};
    case TEXT_C_ISSUER:
        return (struct text_bounds){TEXT_ISSUER_CAP, TEXT_ISSUER_MIN, TEXT_ISSUER_WEIGHT};
    case TEXT_C_REVOCATION:
        return (struct text_bounds){TEXT_REVOCATION_CAP, TEXT_REVOCATION_MIN,
                                    TEXT_REVOCATION_WEIGHT};
    case TEXT_C_REASON:
        return (struct text_bounds){0, TEXT_REASON_MIN, TEXT_REASON_WEIGHT};
    case TEXT_C_STATUS:
    case TEXT_C_DAYS:
    case TEXT_C_NOT_AFTER:
        return (struct text_bounds){0, 0, 0};
    }
    /* inventory text keeps what it had */
    return (struct text_bounds){TEXT_LABEL_CAP, 0, 0};
}

/* Takes one column at a time from the column widest for its weight (among
   those above their minimum) until *used is at most target or every column
   is at its minimum. */
static void text_shrink(size_t *colw, const size_t *minw, const size_t *weight, size_t ncols,
                        size_t *used, size_t target)
{
    while (*used > target) {
        size_t widest = ncols;
        for (size_t c = 0; c < ncols; c++)
            if (weight[c] != 0 && colw[c] > minw[c] &&
                (widest == ncols || colw[c] * weight[widest] > colw[widest] * weight[c]))
                widest = c;
        if (widest == ncols)
            return;
        colw[widest]--;
        (*used)--;
    }
}

/* A minimum below the width a column has: the smaller of the two, and never
   below its header. */
static size_t text_floor(size_t colw, size_t min, size_t header)
{
    min = min > header ? min : header;
    return colw < min ? colw : min;
}

/* Sets the columns (REASON too, unless below) to what their values need,
   capped, REASON to what nine reasons in ten need (an outlier does not
   squeeze every host), then shrinks them by weight to the width; returns
   the columns the line then takes. */
static size_t text_fill(const struct text_state *st, const size_t *natural, const size_t *header,
                        size_t ncols, size_t typical, bool below, struct text_layout *lay)
{
    size_t *minw = cs_xcalloc(ncols, sizeof(*minw));
    size_t *weight = cs_xcalloc(ncols, sizeof(*weight));
    size_t used = 0, shown = 0;
    for (int c = 0; c < (int)ncols; c++) {
        if (!text_shown(st, c) || (c == TEXT_C_REASON && below))
            continue;
        struct text_bounds bd = text_bounds(c);
        size_t want = c != TEXT_C_REASON ? natural[c] : typical > header[c] ? typical : header[c];
        if (want > st->width)
            want = st->width; /* no column is wider than the line */
        lay->colw[c] = bd.cap != 0 && want > bd.cap ? bd.cap : want;
        minw[c] = text_floor(lay->colw[c], bd.min, header[c]);
        weight[c] = bd.weight;
        used += lay->colw[c];
        shown++;
    }
    used += strlen(TEXT_SEP) * (shown - 1);
    text_shrink(lay->colw, minw, weight, ncols, &used, st->width);
    free(minw);
    free(weight);
    return used;
}

/* The width of each column from the widths its values and its header need
   (a header is never cut).  What is left after the fill goes to REASON,
   whose outliers may then show whole.  When even the minimums do not fit,
   ISSUER, then REVOCATION, then NOT AFTER are left out (text_put_hidden
   says so under the table); when that is not enough either, REASON goes
   under its row and the row leaves out as few of them as it can (at worst
   it takes what it can). */
static void text_fit(struct text_state *st, const size_t *natural, const size_t *header,
                     size_t ncols, size_t typical, struct text_layout *lay)
{
    for (size_t k = 0; k <= TEXT_DROPPABLE; k++) {
        if (k > 0)
            st->hidden |= 1u << text_droppable[k - 1];
        memset(lay->colw, 0, ncols * sizeof(*lay->colw));
        size_t used = text_fill(st, natural, header, ncols, typical, false, lay);
        if (used <= st->width) {
            lay->colw[TEXT_C_REASON] += st->width - used;
            return;
        }
    }
    lay->reason_below = true; /* and the row leaves out what it must, in the same order */
    for (size_t k = 0; k <= TEXT_DROPPABLE; k++) {
        st->hidden = 0;
        for (size_t j = 0; j < k; j++)
            st->hidden |= 1u << text_droppable[j];
        memset(lay->colw, 0, ncols * sizeof(*lay->colw));
        if (text_fill(st, natural, header, ncols, typical, true, lay) <= st->width)
            return;
    }
}

static int text_size_compare(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return a < b ? -1 : a > b;
}

/* The width that shows nine reasons in ten whole. */
static size_t text_typical_reason(const struct text_state *st)
{
    if (st->n == 0)
        return 0;
    size_t *w = cs_xcalloc(st->n, sizeof(*w));
    for (size_t i = 0; i < st->n; i++)
        w[i] = text_measure(st->rows[i].reason);
    qsort(w, st->n, sizeof(*w), text_size_compare);
    size_t typical = w[(st->n * 9 + 9) / 10 - 1];
    free(w);
    return typical;
}

/* The widths the columns' headers and values need, uncut, then the layout
   for the table's width. */
static void text_layout(struct text_state *st, size_t ncols, struct text_layout *lay)
{
    lay->colw = cs_xcalloc(ncols, sizeof(*lay->colw));
    lay->reason_below = false;
    size_t *natural = cs_xcalloc(ncols, sizeof(*natural));
    size_t *header = cs_xcalloc(ncols, sizeof(*header));
    for (size_t d = 0; d < ncols; d++) {
        int c = text_column(st, d);
        cs_buf_reset(&st->cell);
        header[c] = c < TEXT_C_COUNT
                        ? strlen(text_headers[c])
                        : text_label_header(&st->cell, st->labels[c - TEXT_C_COUNT], &st->err);
        natural[c] = header[c];
    }
    for (size_t i = 0; i < st->n; i++)
        for (int c = 0; c < (int)ncols; c++) {
            if (!text_shown(st, c))
                continue;
            size_t w = text_cell(&st->cell, &st->rows[i], c, 0, &st->err);
            if (w > natural[c])
                natural[c] = w;
        }
    if (st->width == 0)
        memcpy(lay->colw, natural, ncols * sizeof(*natural));
    else
        text_fit(st, natural, header, ncols, text_typical_reason(st), lay);
    free(natural);
    free(header);
}

static void text_put_table(FILE *out, struct text_state *st, int color)
{
    size_t ncols = TEXT_C_COUNT + st->nlabels;
    struct text_layout lay;
    text_layout(st, ncols, &lay);
    if (st->err) {
        free(lay.colw);
        return; /* a value past its cap: nothing is written half */
    }

    for (size_t d = 0; d < ncols; d++) {
        int c = text_column(st, d);
        if (!text_shown(st, c) || (c == TEXT_C_REASON && lay.reason_below))
            continue;
        cs_buf_reset(&st->cell);
        size_t w = c < TEXT_C_COUNT
                       ? text_render(&st->cell, text_headers[c], 0, &st->err)
                       : text_label_header(&st->cell, st->labels[c - TEXT_C_COUNT], &st->err);
        text_put_cell(&st->line, &st->cell, w, lay.colw[c], c, NULL, &st->err);
    }
    text_end_line(out, &st->line);
    for (size_t i = 0; i < st->n; i++) {
        for (size_t d = 0; d < ncols; d++) {
            int c = text_column(st, d);
            if (!text_shown(st, c) || (c == TEXT_C_REASON && lay.reason_below))
                continue;
            size_t w = text_cell(&st->cell, &st->rows[i], c, st->width ? lay.colw[c] : 0, &st->err);
            enum cs_status status = st->rows[i].status;
            const char *sgr = color && c == TEXT_C_STATUS && (unsigned)status < CS_STATUS_COUNT
                                  ? text_colors[status]
                                  : NULL;
            text_put_cell(&st->line, &st->cell, w, lay.colw[c], c, sgr, &st->err);
        }
        text_end_line(out, &st->line);
        if (lay.reason_below) {
            size_t indent = strlen(TEXT_BELOW_INDENT);
            text_render_wrapped(&st->line, st->rows[i].reason, TEXT_BELOW_INDENT,
                                st->width > indent ? st->width - indent : 1, &st->err);
            fwrite(st->line.p, 1, st->line.len, out);
            cs_buf_reset(&st->line);
        }
        if (st->rows[i].chain)
            fputs(st->rows[i].chain, out);
    }
    free(lay.colw);
}

/* When the scan ran and the time its days are counted from (--now may set
   it apart), so that a report read later is not misread. */
static void text_put_when(FILE *out, const struct text_state *st)
{
    char started[24], now[24];
    cs_format_time(st->started_at, started);
    cs_format_time(st->now, now);
    char line[96];
    int n = snprintf(line, sizeof(line), "scanned at %s, days counted from %s\n", started, now);
    if (st->width != 0 && (size_t)n - 1 > st->width) /* two lines on a narrow terminal */
        snprintf(line, sizeof(line), "scanned at %s\ndays counted from %s\n", started, now);
    fputs(line, out);
}

/* Which columns the width left out, if any: "not shown: ISSUER,
   REVOCATION (--wide shows them)". */
static void text_put_hidden(FILE *out, const struct text_state *st)
{
    if (st->hidden == 0)
        return;
    fputs("not shown:", out);
    const char *sep = " ";
    for (size_t k = 0; k < TEXT_DROPPABLE; k++)
        if ((st->hidden & (1u << text_droppable[k])) &&
            (text_droppable[k] != TEXT_C_REVOCATION || st->revocation)) {
            fprintf(out, "%s%s", sep, text_headers[text_droppable[k]]);
            sep = ", ";
        }
    fputs(" (--wide shows them)\n", out);
}

static void text_put_summary(FILE *out, const struct cs_summary *s)
{
    uint64_t total = 0;
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        total += s->count[i];
    fprintf(out, "%" PRIu64 " endpoint%s:", total, total == 1 ? "" : "s");
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        fprintf(out, "%s %" PRIu64 " %s", i > 0 ? "," : "", s->count[i],
                cs_status_name((enum cs_status)i));
    if (!s->complete)
        fputs(" (PARTIAL: the scan was interrupted)", out);
    fputc('\n', out);
}

/* --history: one line of changes since the previous scan, then one line per
   endpoint gone (names escaped as in the table). */
static void text_put_history(FILE *out, const struct cs_history_summary *h, struct cs_buf *line,
                             int *err)
{
    fputs("since the last scan:", out);
    for (int i = 0; i < CS_CHANGE_COUNT; i++)
        fprintf(out, "%s %" PRIu64 " %s", i > 0 ? "," : "", h->changes[i],
                cs_change_name((enum cs_change)i));
    if (h->gone_known)
        fprintf(out, ", %" PRIu64 " gone\n", h->gone);
    else
        fputs("; gone unknown (the scan is partial)\n", out);
    for (size_t i = 0; i < h->gone_n; i++) {
        const struct cs_gone *g = &h->gone_list[i];
        char when[24], tail[96];
        cs_format_time(g->last_seen, when);
        cs_buf_reset(line);
        text_puts(line, "GONE      ", err);
        text_render(line, g->host, 0, err);
        snprintf(tail, sizeof(tail), ":%" PRId64 " (", g->port);
        text_puts(line, tail, err);
        text_render(line, g->protocol, 0, err);
        snprintf(tail, sizeof(tail), "), last seen %s, %s", when, cs_status_name(g->status));
        text_puts(line, tail, err);
        text_puts(line, "\n", err);
        if (*err == 0)
            fputs(line->p, out);
    }
    if (h->gone > h->gone_n)
        fprintf(out, "GONE      ... and %" PRIu64 " more (see the history database)\n",
                h->gone - h->gone_n);
}

static void text_state_free(struct text_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++) {
        free(st->rows[i].host);
        free(st->rows[i].host_cell);
        free(st->rows[i].issuer);
        free(st->rows[i].reason);
        free(st->rows[i].revocation);
        free(st->rows[i].chain);
        for (size_t k = 0; st->rows[i].labels && k < st->nlabels; k++)
            free(st->rows[i].labels[k]);
        free(st->rows[i].labels);
        cs_order_key_free(&st->rows[i].key);
    }
    free(st->rows);
    cs_buf_free(&st->cell);
    cs_buf_free(&st->line);
    free(st);
}

static int text_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    struct text_state *st = cs_xcalloc(1, sizeof(*st));
    cs_buf_init(&st->cell, TEXT_CELL_BYTES);
    cs_buf_init(&st->line, TEXT_LINE_BYTES);
    st->revocation = info->ocsp || info->crl;
    st->labels = info->text_labels;
    st->nlabels = info->text_labels ? info->n_text_labels : 0;
    st->sort = (enum cs_sort)info->sort;
    unsigned width = out == stdout ? info->text_width_stdout : info->text_width;
    st->width = info->text_wide ? 0 : width ? width : TEXT_DEFAULT_WIDTH;
    st->started_at = info->started_at;
    st->now = info->now;
    w->state = st;
    return 0;
}

/* The lines under an endpoint for --chain: one per certificate sent, leaf
   first: its notAfter date, key, subject and issuer, and fingerprint. */
static char *text_chain_lines(const struct cs_result *r, int *err)
{
    struct cs_buf b;
    cs_buf_init(&b, TEXT_LINE_BYTES);
    for (size_t i = 0; i < r->chain_n; i++) {
        const struct cs_chain_cert *c = &r->chain[i];
        char date[24] = "-", head[96];
        if (c->not_after != CS_INT_NONE) {
            cs_format_time(c->not_after, date);
            date[10] = '\0';
        }
        snprintf(head, sizeof(head), "    %s %zu  %s  ", i ? "chain" : "leaf ", i, date);
        text_puts(&b, head, err);
        text_render(&b, c->key ? c->key : "", 0, err);
        text_puts(&b, "  ", err);
        text_render(&b, c->subject ? c->subject : "", 0, err);
        text_puts(&b, "  <- ", err);
        text_render(&b, c->issuer ? c->issuer : "", 0, err);
        text_puts(&b, "  sha256 ", err);
        text_render(&b, c->sha256 ? c->sha256 : "", 0, err);
        text_puts(&b, "\n", err);
    }
    return b.p;
}

/* The HOST:PORT cell, unescaped: an IPv6 literal in brackets, and a name
   written with non-ASCII letters followed by its A-label (the xn-- form the
   scan sent), since such a name can read exactly like another one. */
static char *text_host_cell(const struct cs_result *r, size_t *tail)
{
    const char *host = r->host ? r->host : "";
    bool v6 = cs_is_ipv6_literal(host);
    char port[32] = "";
    if (r->port != CS_INT_NONE)
        snprintf(port, sizeof(port), ":%" PRId64, r->port);
    char *alabel = NULL;
    for (const char *p = host; *p != '\0' && r->source == NULL; p++)
        if ((unsigned char)*p >= 0x80) {
            if (cs_idna_to_ascii(host, strlen(host), &alabel) != NULL)
                alabel = NULL; /* not a name (a bad line): shown as it is */
            break;
        }
    size_t n = strlen(host) + strlen(port) + (alabel ? strlen(alabel) + 3 : 0) + 3;
    char *cell = cs_xmalloc(n);
    snprintf(cell, n, "%s%s%s%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "", port,
             alabel ? " (" : "", alabel ? alabel : "", alabel ? ")" : "");
    *tail = alabel ? strlen(port) + strlen(alabel) + 3 : 0; /* ASCII: a byte a column */
    free(alabel);
    return cell;
}

static int text_record(struct cs_writer *w, const struct cs_result *r)
{
    struct text_state *st = w->state;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->rows = cs_xrealloc(st->rows, st->cap * sizeof(*st->rows));
    }
    const char *reason = r->reason && r->reason[0] ? r->reason : r->error;
    size_t host_tail = 0;
    char *host_cell = text_host_cell(r, &host_tail); /* before: initialisers are unsequenced */
    st->rows[st->n++] = (struct text_row){
        .status = r->status,
        .port = r->port,
        .days = r->days_remaining,
        .not_after = r->not_after,
        .host = cs_strdup(r->host ? r->host : ""),
        .host_cell = host_cell,
        .host_tail = host_tail,
        .issuer = r->issuer ? text_issuer_cn(r->issuer) : NULL,
        .reason = cs_strdup(reason ? reason : ""),
        .revocation = cs_strdup(r->revocation),
        .chain = r->chain_n ? text_chain_lines(r, &st->err) : NULL,
    };
    cs_order_key_set(&st->rows[st->n - 1].key, r, st->n - 1);
    if (st->nlabels) {
        char **v = cs_xcalloc(st->nlabels, sizeof(*v));
        for (size_t k = 0; k < st->nlabels; k++)
            v[k] = cs_strdup(cs_labels_get(&r->labels, st->labels[k]));
        st->rows[st->n - 1].labels = v;
    }
    return 0;
}

static int text_close(struct cs_writer *w, const struct cs_summary *s)
{
    struct text_state *st = w->state;
    if (st->n > 0) {
        text_sort(st);
        text_put_table(w->out, st, (w->flags & CS_WRITER_COLOR) != 0);
    }
    if (st->err == 0) {
        text_put_summary(w->out, s);
        text_put_when(w->out, st);
        text_put_hidden(w->out, st);
    }
    if (st->err == 0 && s->history != NULL)
        text_put_history(w->out, s->history, &st->line, &st->err);
    int err = st->err;
    text_state_free(st);
    w->state = NULL;
    if (fflush(w->out) == EOF || ferror(w->out))
        return -EIO;
    return err;
}

const struct cs_writer_ops cs_writer_text = {
    .name = "text",
    .extension = ".txt",
    .open = text_open,
    .record = text_record,
    .close = text_close,
};
