/* CSV report: a header row of the field names, then one row per endpoint, in
 * completion order (DESIGN.md, "Report documents").  RFC 4180 quoting is
 * libcsv's (csv_fwrite); a field is quoted only when it needs it.  Rows end in
 * LF, not RFC 4180's CRLF: Excel, LibreOffice and every CSV library read
 * both, and LF is what Unix tools (grep, cut, diff) expect.  Lists are joined
 * with a single space, booleans are true/false, null is an empty cell.
 * A text cell that a spreadsheet would run as a formula (starting with
 * = + - @ TAB or CR) gets a leading apostrophe (OWASP "CSV injection").
 * Local names start with csvw_: csv_ is libcsv's namespace. */
#include "report.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct csvw_state {
    char *buf; /* the cell being built, reused for every cell */
    size_t len;
    size_t cap;
};

static void csvw_buf_append(struct csvw_state *st, const char *s, size_t n)
{
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 256;
        while (cap < st->len + n + 1)
            cap *= 2;
        st->buf = cs_xrealloc(st->buf, cap);
        st->cap = cap;
    }
    memcpy(st->buf + st->len, s, n);
    st->len += n;
    st->buf[st->len] = '\0';
}

static void csvw_buf_puts(struct csvw_state *st, const char *s)
{
    csvw_buf_append(st, s, strlen(s));
}

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

static int csvw_put_cell(FILE *out, const char *s, size_t n)
{
    if (csvw_needs_quotes(s, n))
        return csv_fwrite(out, s, n) == 0 ? 0 : -EIO;
    return fwrite(s, 1, n, out) == n ? 0 : -EIO;
}

/* Builds field f of r as cell text into st->buf. */
static void csvw_format_field(struct csvw_state *st, const struct cs_result *r, enum cs_field f)
{
    struct cs_value v;
    char num[32];

    st->len = 0;
    csvw_buf_append(st, "", 0);
    cs_result_get(r, f, &v);
    switch (v.kind) {
    case CS_FK_STR:
    case CS_FK_STATUS:
        if (v.null)
            break;
        if (csvw_is_formula(v.s))
            csvw_buf_puts(st, "'");
        csvw_buf_puts(st, v.s);
        break;
    case CS_FK_TIME:
        if (!v.null)
            csvw_buf_puts(st, v.s);
        break;
    case CS_FK_INT:
        if (!v.null) {
            snprintf(num, sizeof(num), "%" PRId64, v.i);
            csvw_buf_puts(st, num);
        }
        break;
    case CS_FK_BOOL:
        if (!v.null)
            csvw_buf_puts(st, v.i ? "true" : "false");
        break;
    case CS_FK_LIST:
        for (size_t i = 0; v.list != NULL && i < v.list->n; i++) {
            if (i > 0)
                csvw_buf_puts(st, " ");
            csvw_buf_puts(st, v.list->v[i] ? v.list->v[i] : "");
        }
        if (csvw_is_formula(st->buf)) {
            /* prefix the joined text: shift it right by one byte */
            csvw_buf_append(st, "'", 1);
            memmove(st->buf + 1, st->buf, st->len - 1);
            st->buf[0] = '\'';
        }
        break;
    }
}

static int csvw_end_row(FILE *out)
{
    if (fputc('\n', out) == EOF || ferror(out))
        return -EIO;
    return 0;
}

static int csvw_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    (void)info;
    w->state = NULL;
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        if (f > 0 && fputc(',', out) == EOF)
            return -EIO;
        const char *name = cs_field_names[f];
        if (csvw_put_cell(out, name, strlen(name)) < 0)
            return -EIO;
    }
    if (csvw_end_row(out) < 0)
        return -EIO;
    w->state = cs_xcalloc(1, sizeof(struct csvw_state));
    return 0;
}

static int csvw_record(struct cs_writer *w, const struct cs_result *r)
{
    struct csvw_state *st = w->state;
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        if (f > 0 && fputc(',', w->out) == EOF)
            return -EIO;
        csvw_format_field(st, r, (enum cs_field)f);
        if (csvw_put_cell(w->out, st->buf, st->len) < 0)
            return -EIO;
    }
    return csvw_end_row(w->out);
}

static int csvw_close(struct cs_writer *w, const struct cs_summary *s)
{
    (void)s;
    struct csvw_state *st = w->state;
    if (st != NULL)
        free(st->buf);
    free(st);
    w->state = NULL;
    if (fflush(w->out) == EOF || ferror(w->out))
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
