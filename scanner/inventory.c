/* CSV inventories (see inventory.h).  libcsv is a push parser, so it is fed
 * one byte at a time and the reader stops at each row's end: nothing past the
 * row being read is held, and a row is cut off (and skipped to its line's
 * end) once it passes CS_INV_ROW_MAX, before libcsv's own buffer can grow
 * with it.  Cells are copied into one arena sized for the largest row. */
#include "scanner/inventory.h"

#include <csv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/targets.h"

/* a row's bytes, its line end (CR LF) included */
#define ROW_BYTES (CS_INV_ROW_MAX + 2)
/* cells of a row at most: one per byte, and one more */
#define CELLS_MAX (ROW_BYTES + 1)
/* every cell's bytes and its NUL */
#define ARENA_BYTES (ROW_BYTES + CELLS_MAX)

static const char *const known_names[CS_INV_N] = {"host", "port", "sni", "protocol", "address"};

#define ROLE_IGNORED (-1)
/* role of a column: ROLE_IGNORED, a known column (enum cs_inv_col), or
   CS_INV_N + k for label k */

struct cs_inventory {
    cs_inv_byte_fn next;
    void *arg;
    struct csv_parser p;
    bool eof, bom_checked;
    int pending[3]; /* bytes read to look for a byte order mark, not one */
    size_t npending, pending_at;
    uint64_t lines; /* the line being read, from 1 */
    /* the header */
    int *role;
    size_t ncols;
    char **names; /* label names, in column order */
    size_t nlabels;
    /* the row being read */
    char arena[ARENA_BYTES];
    size_t arena_len;
    size_t cell_off[CELLS_MAX], cell_len[CELLS_MAX];
    size_t ncells;
    char raw[ROW_BYTES];
    size_t raw_len;
    bool row_done, too_long, nul;
    const char **label_vals;
    char why[256];
};

static void on_cell(void *s, size_t len, void *data)
{
    struct cs_inventory *inv = data;
    if (inv->ncells >= CELLS_MAX || inv->arena_len + len + 1 > ARENA_BYTES) {
        inv->too_long = true; /* cannot happen within ROW_BYTES; refused rather than grown */
        return;
    }
    inv->cell_off[inv->ncells] = inv->arena_len;
    inv->cell_len[inv->ncells] = len;
    if (len)
        memcpy(inv->arena + inv->arena_len, s, len);
    inv->arena[inv->arena_len + len] = '\0';
    inv->arena_len += len + 1;
    inv->ncells++;
}

static void on_row(int c, void *data)
{
    (void)c;
    struct cs_inventory *inv = data;
    inv->row_done = true;
}

static int next_byte(struct cs_inventory *inv)
{
    if (inv->pending_at < inv->npending)
        return inv->pending[inv->pending_at++];
    if (!inv->bom_checked) { /* a UTF-8 byte order mark, as spreadsheets write it */
        inv->bom_checked = true;
        static const int bom[3] = {0xEF, 0xBB, 0xBF};
        while (inv->npending < 3) {
            int c = inv->next(inv->arg);
            if (c < 0)
                break;
            inv->pending[inv->npending++] = c;
            if (c != bom[inv->npending - 1])
                break;
        }
        if (inv->npending == 3 && inv->pending[2] == 0xBF)
            inv->npending = 0;
        return next_byte(inv);
    }
    return inv->next(inv->arg);
}

/* Skips the rest of a row cut off at its cap: to the end of its line (a
   quoted line end cannot be told from a real one any more). */
static void skip_line(struct cs_inventory *inv)
{
    int c;
    while ((c = next_byte(inv)) >= 0 && c != '\n')
        ;
    if (c < 0)
        inv->eof = true;
    else
        inv->lines++;
    csv_free(&inv->p);
    csv_init(&inv->p, 0);
}

/* Reads one row of cells.  0 and *line set, or -1 at the end. */
static int read_row(struct cs_inventory *inv, uint64_t *line)
{
    inv->arena_len = inv->ncells = inv->raw_len = 0;
    inv->row_done = inv->too_long = inv->nul = false;
    bool started = false;
    while (!inv->row_done) {
        if (inv->eof)
            return -1;
        int c = next_byte(inv);
        if (c < 0) {
            inv->eof = true;
            csv_fini(&inv->p, on_cell, on_row, inv);
            if (!started)
                return -1;
            break;
        }
        if (!started && (c == '\n' || c == '\r')) { /* blank lines, a CRLF's LF */
            inv->lines += c == '\n';
            continue;
        }
        if (!started) {
            started = true;
            *line = inv->lines;
        }
        inv->lines += c == '\n';
        if (c == 0)
            inv->nul = true;
        if (inv->raw_len == ROW_BYTES) {
            inv->too_long = true;
            if (c != '\n')
                skip_line(inv);
            return 0;
        }
        inv->raw[inv->raw_len++] = (char)c;
        unsigned char ch = (unsigned char)c;
        if (csv_parse(&inv->p, &ch, 1, on_cell, on_row, inv) != 1) {
            inv->too_long = true; /* libcsv could not grow its buffer */
            skip_line(inv);
            return 0;
        }
    }
    while (inv->raw_len &&
           (inv->raw[inv->raw_len - 1] == '\n' || inv->raw[inv->raw_len - 1] == '\r'))
        inv->raw_len--;
    if (inv->raw_len > CS_INV_ROW_MAX) /* its line end aside, as a targets file's line */
        inv->too_long = true;
    return 0;
}

static const char *cell(const struct cs_inventory *inv, size_t i)
{
    return inv->arena + inv->cell_off[i];
}

static bool is_field_name(const char *s)
{
    for (int f = 0; f < CS_FIELD_COUNT; f++)
        if (strcasecmp(s, cs_field_names[f]) == 0)
            return true;
    return false;
}

/* Gives each header cell its role; 0, or -1 and why in err. */
static int read_header(struct cs_inventory *inv, char *err, size_t errlen)
{
    uint64_t line = 1;
    if (read_row(inv, &line) < 0)
        return 0; /* no row at all: an empty inventory */
    if (inv->too_long) {
        snprintf(err, errlen, "the header row is longer than %d bytes", CS_INV_ROW_MAX);
        return -1;
    }
    if (inv->nul) {
        snprintf(err, errlen, "NUL byte in the header row");
        return -1;
    }
    inv->ncols = inv->ncells;
    inv->role = cs_xcalloc(inv->ncols, sizeof(*inv->role));
    inv->names = cs_xcalloc(inv->ncols, sizeof(*inv->names));
    bool have[CS_INV_N] = {false};
    for (size_t i = 0; i < inv->ncols; i++) {
        const char *name = cell(inv, i);
        char esc[CS_LABEL_NAME_MAX * 4 + 8];
        cs_escape(name, inv->cell_len[i], esc, sizeof(esc));
        inv->role[i] = ROLE_IGNORED;
        int k;
        for (k = 0; k < CS_INV_N && strcasecmp(name, known_names[k]) != 0; k++)
            ;
        if (k < CS_INV_N) {
            if (have[k]) {
                snprintf(err, errlen, "the header row names column '%s' twice", known_names[k]);
                return -1;
            }
            have[k] = true;
            inv->role[i] = k;
            continue;
        }
        /* an empty header cell (a spreadsheet's trailing column), or a
           record field's name (a certsweep report read back): not a label */
        if (!name[0] || is_field_name(name))
            continue;
        const char *why = cs_label_name_check(name, inv->cell_len[i]);
        if (why) {
            snprintf(err, errlen, "header column %zu ('%s'): %s", i + 1, esc, why);
            return -1;
        }
        for (size_t j = 0; j < inv->nlabels; j++)
            if (strcmp(inv->names[j], name) == 0) {
                snprintf(err, errlen, "the header row names column '%s' twice", esc);
                return -1;
            }
        if (inv->nlabels == CS_LABELS_MAX) {
            snprintf(err, errlen, "more than %d label columns", CS_LABELS_MAX);
            return -1;
        }
        inv->role[i] = CS_INV_N + (int)inv->nlabels;
        inv->names[inv->nlabels++] = cs_strdup(name);
    }
    if (!have[CS_INV_HOST]) {
        snprintf(err, errlen,
                 "the header row has no 'host' column (a CSV inventory starts with a header row "
                 "naming its columns: host, and port, sni, protocol, address or labels)");
        return -1;
    }
    return 0;
}

struct cs_inventory *cs_inventory_open(cs_inv_byte_fn next, void *arg, char *err, size_t errlen)
{
    struct cs_inventory *inv = cs_xcalloc(1, sizeof(*inv));
    inv->next = next;
    inv->arg = arg;
    inv->lines = 1;
    if (csv_init(&inv->p, 0) != 0) {
        snprintf(err, errlen, "out of memory");
        free(inv);
        return NULL;
    }
    if (read_header(inv, err, errlen) < 0) {
        cs_inventory_close(inv);
        return NULL;
    }
    inv->label_vals = cs_xcalloc(inv->nlabels ? inv->nlabels : 1, sizeof(*inv->label_vals));
    return inv;
}

size_t cs_inventory_labels(const struct cs_inventory *inv, const char *const **names)
{
    *names = (const char *const *)inv->names;
    return inv->nlabels;
}

uint64_t cs_inventory_lines(const struct cs_inventory *inv)
{
    return inv->lines - 1;
}

/* Fills row from the cells read; false if every cell is empty. */
static bool make_row(struct cs_inventory *inv, struct cs_inv_row *row)
{
    bool any = false;
    for (size_t i = 0; i < inv->ncells; i++)
        any |= inv->cell_len[i] > 0;
    if (!any && !inv->too_long && !inv->nul)
        return false;
    row->text = inv->raw;
    row->text_len = inv->raw_len;
    if (inv->too_long) {
        snprintf(inv->why, sizeof(inv->why), "row longer than %d bytes", CS_INV_ROW_MAX);
        row->bad = inv->why;
        return true;
    }
    if (inv->nul) {
        row->bad = "NUL byte in row";
        return true;
    }
    if (inv->ncells > inv->ncols) {
        snprintf(inv->why, sizeof(inv->why), "row has %zu cells, the header %zu", inv->ncells,
                 inv->ncols);
        row->bad = inv->why;
        return true;
    }
    for (size_t k = 0; k < inv->nlabels; k++)
        inv->label_vals[k] = "";
    /* a short row (a spreadsheet drops trailing empty cells): the rest are empty */
    for (size_t i = 0; i < inv->ncells; i++) {
        int role = inv->role[i];
        if (role == ROLE_IGNORED)
            continue;
        if (role < CS_INV_N) {
            row->col[role] = inv->cell_len[i] ? cell(inv, i) : NULL;
            continue;
        }
        size_t k = (size_t)(role - CS_INV_N);
        if (inv->cell_len[i] > CS_LABEL_VALUE_MAX) {
            snprintf(inv->why, sizeof(inv->why), "label '%s' longer than %d bytes", inv->names[k],
                     CS_LABEL_VALUE_MAX);
            row->bad = inv->why;
            return true;
        }
        inv->label_vals[k] = cell(inv, i);
    }
    row->label = inv->label_vals;
    return true;
}

int cs_inventory_next(struct cs_inventory *inv, struct cs_inv_row *row)
{
    if (!inv->ncols)
        return 0;
    for (;;) {
        memset(row, 0, sizeof(*row));
        if (read_row(inv, &row->line) < 0)
            return 0;
        if (make_row(inv, row))
            return 1;
    }
}

void cs_inventory_close(struct cs_inventory *inv)
{
    if (!inv)
        return;
    csv_free(&inv->p);
    for (size_t i = 0; i < inv->nlabels; i++)
        free(inv->names[i]);
    free(inv->names);
    free(inv->role);
    free(inv->label_vals);
    free(inv);
}
