/* CSV report: a header row of the field names, then one row per endpoint, in
 * completion order (README.md, "Reports").  RFC 4180 quoting is
 * libcsv's (csv_fwrite); a field is quoted only when it needs it.  Rows end in
 * LF, not RFC 4180's CRLF: Excel, LibreOffice and every CSV library read
 * both, and LF is what Unix tools (grep, cut, diff) expect (--csv-excel
 * writes CRLF, below).  Lists are joined with a single space (findings,
 * phrases with spaces, with "; "), booleans are true/false, null is an empty
 * cell.
 * A text cell that a spreadsheet would run as a formula (starting with
 * = + - @ TAB or CR) gets a leading apostrophe (OWASP "CSV injection"),
 * unless the writer has CS_WRITER_CSV_RAW (--csv-raw); numeric cells never
 * do.  No cell is longer than a spreadsheet cell can be (32,767 characters,
 * counted as spreadsheets count them: UTF-16 code units, an invalid byte as
 * one): a longer list is cut between entries and ends in " ... (+N more)", a
 * longer text is cut between characters and ends in "... (+N more
 * characters)" (with U+2026 for the dots).  JSON keeps everything.
 * After the fields, a column per label name the scan knew before the first
 * record (cs_scan_info.label_names): the record's value, or an empty cell;
 * label cells are text cells, defused and cut as any other.
 * --sort holds the rows back (report/order.h, at most CS_ORDER_MAX_BYTES)
 * and writes them in its order at close; without it each row is written as
 * its endpoint completes.
 * With CS_WRITER_CSV_EXCEL (--csv-excel) the same cells are written for
 * spreadsheets: a UTF-8 byte order mark first (without it Excel on Windows
 * reads the file in the system's ANSI code page and garbles every non-ASCII
 * name), rows end in CRLF (RFC 4180), and times are "YYYY-MM-DD HH:MM:SS",
 * UTC: Excel and LibreOffice make that a date cell, while ISO 8601 with its
 * "Z" stays text in both.
 * Local names start with csvw_: csv_ is libcsv's namespace. */
#include "report/report.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/order.h"

#define CSVW_CELL_MAX 32767 /* characters in a spreadsheet cell (Excel, LibreOffice) */
#define CSVW_TAIL_MAX 48    /* room kept for the "... (+N more characters)" tail */
#define CSVW_ELLIPSIS "\xE2\x80\xA6"
/* the cell buffer's hard cap: a cut cell is at most 3 bytes per counted
   character (a 4-byte sequence counts 2), its tail and the apostrophe, so a
   cell never reaches it; reaching it fails the record rather than growing */
#define CSVW_CELL_BYTES (4 * CSVW_CELL_MAX + 64)

#define CSVW_BOM "\xEF\xBB\xBF"

struct csvw_state {
    struct cs_buf cell;              /* the cell being built, reused for every cell */
    bool excel;                      /* CS_WRITER_CSV_EXCEL */
    const struct cs_strlist *labels; /* the label columns, or NULL */
    enum cs_sort sort;               /* --sort: rows wait in `sorted` until close */
    struct cs_order_buf sorted;
};

static bool csvw_needs_quotes(const char *s, size_t n)
{
    if (n == 0)
        return false;
    /* libcsv, like many readers, trims blanks around unquoted fields */
    if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
        return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
            return true;
    return false;
}

static bool csvw_is_formula(const char *s)
{
    return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

/* Length of the character at p (a valid UTF-8 sequence, else one byte) and,
 * in *units, what a spreadsheet counts for it: 2 past U+FFFF, else 1.  p is
 * NUL-terminated, so no byte past a NUL is read. */
static size_t csvw_char(const unsigned char *p, size_t *units)
{
    uint32_t cp;
    size_t len = cs_utf8_decode(p, &cp);
    *units = len && cp > 0xFFFF ? 2 : 1;
    return len ? len : 1;
}

/* Characters in s, as a spreadsheet counts them. */
static size_t csvw_units(const char *s)
{
    size_t total = 0, u;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        p += csvw_char(p, &u);
        total += u;
    }
    return total;
}

/* Appends text s to a cell that already holds `used` characters, cut so that
 * the cell stays within CSVW_CELL_MAX.  0 or CS_ETOOBIG. */
static int csvw_put_text(struct csvw_state *st, const char *s, size_t used)
{
    size_t total = csvw_units(s);
    if (used + total <= CSVW_CELL_MAX)
        return cs_buf_puts(&st->cell, s);
    size_t budget = CSVW_CELL_MAX - CSVW_TAIL_MAX - used, kept = 0, u, len;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p != '\0'; p += len) {
        len = csvw_char(p, &u);
        if (kept + u > budget)
            break;
        kept += u;
    }
    if (cs_buf_append(&st->cell, s, (size_t)((const char *)p - s)) < 0)
        return CS_ETOOBIG;
    char tail[CSVW_TAIL_MAX];
    snprintf(tail, sizeof(tail), CSVW_ELLIPSIS " (+%zu more characters)", total - kept);
    return cs_buf_puts(&st->cell, tail);
}

/* Appends list l joined with sep (a single space; "; " for lists of
 * phrases, whose entries hold spaces) to a cell that already holds `used`
 * characters; cut between entries so that the cell stays within
 * CSVW_CELL_MAX.  0 or CS_ETOOBIG. */
static int csvw_put_list(struct csvw_state *st, const struct cs_strlist *l, size_t used,
                         const char *sep)
{
    size_t n = l != NULL ? l->n : 0, total = used, seplen = strlen(sep);
    for (size_t i = 0; i < n; i++)
        total += (i > 0) * seplen + csvw_units(l->v[i] ? l->v[i] : "");
    size_t budget = total <= CSVW_CELL_MAX ? CSVW_CELL_MAX : CSVW_CELL_MAX - CSVW_TAIL_MAX;
    size_t i;
    for (i = 0; i < n; i++) {
        const char *e = l->v[i] ? l->v[i] : "";
        size_t u = (i > 0) * seplen + csvw_units(e);
        if (used + u > budget)
            break;
        if ((i > 0 && cs_buf_puts(&st->cell, sep) < 0) || cs_buf_puts(&st->cell, e) < 0)
            return CS_ETOOBIG;
        used += u;
    }
    if (i < n) {
        char tail[CSVW_TAIL_MAX];
        snprintf(tail, sizeof(tail), "%s" CSVW_ELLIPSIS " (+%zu more)", i > 0 ? sep : "", n - i);
        return cs_buf_puts(&st->cell, tail);
    }
    return 0;
}

static int csvw_put_cell(FILE *out, const char *s, size_t n)
{
    if (csvw_needs_quotes(s, n))
        return csv_fwrite(out, s, n) == 0 ? 0 : -EIO;
    return fwrite(s, 1, n, out) == n ? 0 : -EIO;
}

/* Appends time t ("YYYY-MM-DDTHH:MM:SSZ") as a spreadsheet reads a date:
 * "YYYY-MM-DD HH:MM:SS", without the zone (a cell has none; the README says
 * it is UTC).  0 or CS_ETOOBIG. */
static int csvw_put_excel_time(struct csvw_state *st, const char *t)
{
    size_t n = strlen(t);
    if (n != 20 || t[10] != 'T' || t[19] != 'Z')
        return cs_buf_puts(&st->cell, t); /* not ours to reshape */
    if (cs_buf_append(&st->cell, t, 10) < 0 || cs_buf_puts(&st->cell, " ") < 0)
        return CS_ETOOBIG;
    return cs_buf_append(&st->cell, t + 11, 8) < 0 ? CS_ETOOBIG : 0;
}

/* Builds field f of r as cell text into st->cell.p; raw: no formula defusing.
 * 0 or CS_ETOOBIG (the cell is then incomplete). */
static int csvw_format_field(struct csvw_state *st, const struct cs_result *r, enum cs_field f,
                             bool raw)
{
    struct cs_value v;
    char num[32];

    cs_buf_reset(&st->cell);
    if (cs_buf_append(&st->cell, "", 0) < 0)
        return CS_ETOOBIG;
    cs_result_get(r, f, &v);
    switch (v.kind) {
    case CS_FK_STR:
    case CS_FK_STATUS:
        if (v.null)
            return 0;
        if (!raw && csvw_is_formula(v.s)) {
            if (cs_buf_puts(&st->cell, "'") < 0)
                return CS_ETOOBIG;
        }
        return csvw_put_text(st, v.s, st->cell.len);
    case CS_FK_TIME:
        if (v.null)
            return 0;
        return st->excel ? csvw_put_excel_time(st, v.s) : cs_buf_puts(&st->cell, v.s);
    case CS_FK_INT:
        if (v.null)
            return 0;
        snprintf(num, sizeof(num), "%" PRId64, v.i);
        return cs_buf_puts(&st->cell, num);
    case CS_FK_BOOL:
        return v.null ? 0 : cs_buf_puts(&st->cell, v.i ? "true" : "false");
    case CS_FK_LIST:
        /* the joined text starts with the first entry's first byte */
        if (!raw && v.list != NULL && v.list->n > 0 && v.list->v[0] != NULL &&
            csvw_is_formula(v.list->v[0])) {
            if (cs_buf_puts(&st->cell, "'") < 0)
                return CS_ETOOBIG;
        }
        return csvw_put_list(st, v.list, st->cell.len, f == CS_F_FINDINGS ? "; " : " ");
    }
    return 0;
}

/* Builds the cell of label `name` of r into st->cell.p (empty when r has
 * none), defused unless raw.  0 or CS_ETOOBIG. */
static int csvw_format_label(struct csvw_state *st, const struct cs_result *r, const char *name,
                             bool raw)
{
    cs_buf_reset(&st->cell);
    if (cs_buf_append(&st->cell, "", 0) < 0)
        return CS_ETOOBIG;
    const char *v = cs_labels_get(&r->labels, name);
    if (v == NULL)
        return 0;
    if (!raw && csvw_is_formula(v) && cs_buf_puts(&st->cell, "'") < 0)
        return CS_ETOOBIG;
    return csvw_put_text(st, v, st->cell.len);
}

static int csvw_end_row(FILE *out, bool excel)
{
    if ((excel && fputc('\r', out) == EOF) || fputc('\n', out) == EOF || ferror(out))
        return -EIO;
    return 0;
}

static int csvw_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    w->state = NULL;
    bool excel = (w->flags & CS_WRITER_CSV_EXCEL) != 0;
    if (excel && fputs(CSVW_BOM, out) == EOF)
        return -EIO;
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        if (f > 0 && fputc(',', out) == EOF)
            return -EIO;
        const char *name = cs_field_names[f];
        if (csvw_put_cell(out, name, strlen(name)) < 0)
            return -EIO;
    }
    /* label names are checked when read: never a formula, never too long */
    const struct cs_strlist *labels = info != NULL ? info->label_names : NULL;
    for (size_t i = 0; labels != NULL && i < labels->n; i++)
        if (fputc(',', out) == EOF || csvw_put_cell(out, labels->v[i], strlen(labels->v[i])) < 0)
            return -EIO;
    if (csvw_end_row(out, excel) < 0)
        return -EIO;
    struct csvw_state *st = cs_xcalloc(1, sizeof(*st));
    cs_buf_init(&st->cell, CSVW_CELL_BYTES);
    st->labels = labels;
    st->sort = (enum cs_sort)info->sort;
    cs_order_buf_init(&st->sorted, CS_ORDER_MAX_BYTES);
    st->excel = excel;
    w->state = st;
    return 0;
}

static int csvw_row(struct cs_writer *w, FILE *out, const struct cs_result *r)
{
    struct csvw_state *st = w->state;
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        if (f > 0 && fputc(',', out) == EOF)
            return -EIO;
        int rc = csvw_format_field(st, r, (enum cs_field)f, (w->flags & CS_WRITER_CSV_RAW) != 0);
        if (rc < 0)
            return rc;
        if (csvw_put_cell(out, st->cell.p, st->cell.len) < 0)
            return -EIO;
    }
    for (size_t i = 0; st->labels != NULL && i < st->labels->n; i++) {
        int rc = csvw_format_label(st, r, st->labels->v[i], (w->flags & CS_WRITER_CSV_RAW) != 0);
        if (rc < 0)
            return rc;
        if (fputc(',', out) == EOF || csvw_put_cell(out, st->cell.p, st->cell.len) < 0)
            return -EIO;
    }
    return csvw_end_row(out, st->excel);
}

static int csvw_record(struct cs_writer *w, const struct cs_result *r)
{
    struct csvw_state *st = w->state;
    if (st->sort == CS_SORT_NONE)
        return csvw_row(w, w->out, r);
    FILE *row = cs_order_row_begin(&st->sorted);
    if (row == NULL)
        return -ENOMEM;
    int rc = csvw_row(w, row, r);
    int kept = cs_order_row_end(&st->sorted, r);
    return rc < 0 ? rc : kept;
}

static int csvw_close(struct cs_writer *w, const struct cs_summary *s)
{
    (void)s;
    struct csvw_state *st = w->state;
    int rc = 0;
    if (st != NULL) {
        cs_order_buf_sort(&st->sorted, st->sort);
        rc = cs_order_buf_write(&st->sorted, w->out);
        cs_order_buf_free(&st->sorted);
        cs_buf_free(&st->cell);
    }
    free(st);
    w->state = NULL;
    if (rc < 0 || fflush(w->out) == EOF || ferror(w->out))
        return -EIO;
    return 0;
}

const struct cs_writer_ops cs_writer_csv = {
    .name = "csv",
    .extension = ".csv",
    .open = csvw_open,
    .record = csvw_record,
    .close = csvw_close,
};
