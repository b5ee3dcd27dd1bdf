/* libFuzzer target: the report writers on arbitrary records.  Records are
 * built from the input bytes (strings with any byte, invalid UTF-8 and
 * control characters included, nulls, long repeated strings, lists longer
 * than a CSV cell, any integer), written by every writer into memory, and the
 * output is checked:
 *   - CSV parses with libcsv (strict) into a header and one row per record,
 *     every text cell reads back as written (plus the defusing apostrophe
 *     unless CS_WRITER_CSV_RAW), no text cell starts a formula, and no cell
 *     is longer than 32,767 characters; label columns (after the fields)
 *     likewise;
 *   - JSON parses with jansson, with one result per record and every valid
 *     UTF-8 string kept exactly, labels included; JSON Lines is one
 *     parsable object a line;
 *   - the text table without colour holds no C0 byte but '\n', no DEL, no
 *     C1 control and no bidi control; with colour, ESC only starts our SGR
 *     codes.
 * Any violation aborts, which libFuzzer reports as a finding. */
#include <csv.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define FUZZ_MAX_RECORDS 4
#define FUZZ_CELL_MAX 32767

/* The label columns of the CSV report and the text table; records draw their
   label names from these and one that is none of them. */
static const char *const fuzz_label_columns[] = {"owner", "env", "queue"};
#define FUZZ_LABEL_COLUMNS 3
static const char *const fuzz_label_names[] = {"owner", "env", "queue", "other"};

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_writers: check failed: %s (line %d)\n", #cond, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- records from bytes ------------------------------------------------- */

struct fuzz_reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t fuzz_byte(struct fuzz_reader *rd)
{
    if (rd->n == 0)
        return 0;
    rd->n--;
    return *rd->p++;
}

/* 0xFF: NULL; 0xFE: a long string (a short pattern repeated up to 64 KiB,
 * past the CSV cell limit); else that many bytes of input. */
static char *fuzz_string(struct fuzz_reader *rd)
{
    uint8_t tag = fuzz_byte(rd);
    if (tag == 0xFF)
        return NULL;
    if (tag == 0xFE) {
        size_t len = (size_t)fuzz_byte(rd) << 8;
        len |= fuzz_byte(rd);
        size_t plen = fuzz_byte(rd) % 8 + 1;
        char pat[8];
        for (size_t i = 0; i < plen; i++)
            pat[i] = (char)fuzz_byte(rd);
        char *s = cs_xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
            s[i] = pat[i % plen];
        s[len] = '\0';
        return s; /* may hold NULs: then it ends at the first */
    }
    size_t len = tag < rd->n ? tag : rd->n;
    char *s = cs_strndup((const char *)rd->p, len);
    rd->p += len;
    rd->n -= len;
    return s;
}

static void fuzz_set(char **field, struct fuzz_reader *rd)
{
    free(*field);
    *field = fuzz_string(rd);
}

static int64_t fuzz_int(struct fuzz_reader *rd)
{
    static const int64_t edges[] = {0,
                                    -1,
                                    1,
                                    INT64_MAX,
                                    INT64_MIN + 1,
                                    253402300799,
                                    -62167219200,
                                    -62167219201,
                                    253402300800,
                                    86400};
    uint8_t tag = fuzz_byte(rd);
    switch (tag % 4) {
    case 0:
        return CS_INT_NONE;
    case 1:
        return (int8_t)fuzz_byte(rd);
    case 2: {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | fuzz_byte(rd);
        return (int64_t)v;
    }
    default:
        return edges[(tag >> 2) % (sizeof(edges) / sizeof(edges[0]))];
    }
}

static void fuzz_list(struct cs_strlist *l, struct fuzz_reader *rd)
{
    uint8_t tag = fuzz_byte(rd);
    if (tag == 0xFF) { /* a list past the CSV cell limit, as of a 10,000-SAN leaf: 2,000
                          copies of one entry of 16 to 64 bytes (fewer, longer entries
                          than 10,000 keep the fuzzer fast) */
        char *s = fuzz_string(rd);
        char entry[65];
        size_t len = s ? strlen(s) : 0;
        if (len == 0)
            strcpy(entry, "x");
        else
            snprintf(entry, sizeof(entry), "%s", s);
        for (size_t el = strlen(entry); el < 16; el *= 2) { /* double it: at most 30 */
            memcpy(entry + el, entry, el);
            entry[2 * el] = '\0';
        }
        for (int i = 0; i < 2000; i++)
            cs_strlist_add(l, entry);
        free(s);
        return;
    }
    for (unsigned i = 0; i < tag % 8; i++) {
        char *s = fuzz_string(rd);
        cs_strlist_add(l, s ? s : "");
        free(s);
    }
}

static void fuzz_record(struct cs_result *r, struct fuzz_reader *rd)
{
    cs_result_init(r);
    fuzz_set(&r->host, rd);
    r->port = fuzz_int(rd);
    fuzz_set(&r->address, rd);
    fuzz_set(&r->sni, rd);
    r->status = (enum cs_status)(fuzz_byte(rd) % CS_STATUS_COUNT);
    fuzz_set(&r->reason, rd);
    r->days_remaining = fuzz_int(rd);
    r->not_before = fuzz_int(rd);
    r->not_after = fuzz_int(rd);
    fuzz_set(&r->subject, rd);
    fuzz_set(&r->issuer, rd);
    fuzz_list(&r->sans, rd);
    fuzz_list(&r->ocsp_uris, rd);
    fuzz_list(&r->crl_uris, rd);
    fuzz_set(&r->serial, rd);
    fuzz_set(&r->sha256, rd);
    fuzz_set(&r->key, rd);
    fuzz_set(&r->signature, rd);
    fuzz_set(&r->tls_version, rd);
    r->chain_not_after = fuzz_int(rd);
    fuzz_set(&r->verify, rd);
    r->hostname_match = fuzz_byte(rd) % 3 - 1;
    r->elapsed_ms = fuzz_int(rd);
    fuzz_set(&r->error, rd);
    for (size_t n = fuzz_byte(rd) % 5, i = 0; i < n; i++) {
        const char *name = fuzz_label_names[fuzz_byte(rd) % 4];
        char *value = fuzz_string(rd);
        if (!cs_labels_get(&r->labels, name))
            cs_labels_add(&r->labels, name, value ? value : "");
        free(value);
    }
}

/* ---- running a writer --------------------------------------------------- */

/* The text table's width for this input: 0 (--wide) or 1..255 columns. */
static unsigned fuzz_text_width;

static char *fuzz_write(const struct cs_writer_ops *ops, unsigned flags,
                        const struct cs_result *recs, size_t n, size_t *len)
{
    static struct cs_strlist columns;
    if (!columns.n)
        for (size_t i = 0; i < FUZZ_LABEL_COLUMNS; i++)
            cs_strlist_add(&columns, fuzz_label_columns[i]);
    const struct cs_scan_info info = {
        .label_names = &columns,
        .text_labels = (char *const *)fuzz_label_columns,
        .n_text_labels = FUZZ_LABEL_COLUMNS,
        .tool = "certsweep",
        .version = "fuzz",
        .started_at = 1772323200,
        .now = 1772323200,
        .warn_secs = -1,
        .crit_secs = -1,
        .text_width = fuzz_text_width, /* the table's shrinking and wrapping too */
        .text_wide = fuzz_text_width == 0,
    };
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    FUZZ_CHECK(f != NULL);
    struct cs_writer w;
    struct cs_summary s = {.finished_at = 1772323260, .targets = n, .complete = n % 2 == 0};
    for (size_t i = 0; i < n; i++)
        s.count[recs[i].status]++;
    FUZZ_CHECK(cs_writer_open(&w, ops, f, &info, flags) == 0);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(cs_writer_record(&w, &recs[i]) == 0);
    FUZZ_CHECK(cs_writer_close(&w, &s) == 0);
    FUZZ_CHECK(fclose(f) == 0);
    *len = size;
    return buf;
}

/* ---- UTF-8 -------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 if none. */
static size_t fuzz_utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t need = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (need == 0 || need > avail)
        return 0;
    for (size_t i = 1; i < need; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] >= 0x90))
        return 0;
    return need;
}

static bool fuzz_valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t l = fuzz_utf8_len((const unsigned char *)s + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

/* Characters as a spreadsheet counts them: UTF-16 code units, an invalid
 * byte as one. */
static size_t fuzz_units(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n;) {
        size_t l = fuzz_utf8_len((const unsigned char *)s + i, n - i);
        units += l == 4 ? 2 : 1;
        i += l ? l : 1;
    }
    return units;
}

/* ---- CSV ---------------------------------------------------------------- */

struct fuzz_csv {
    const struct cs_result *recs;
    size_t nrec;
    bool raw;
    size_t row, col;
    bool failed;
};

static void fuzz_csv_cell(void *s, size_t len, void *data)
{
    struct fuzz_csv *c = data;
    const char *cell = s ? s : "";
    if (!s)
        len = 0;
    FUZZ_CHECK(c->col < CS_FIELD_COUNT + FUZZ_LABEL_COLUMNS);
    FUZZ_CHECK(fuzz_units(cell, len) <= FUZZ_CELL_MAX);
    if (c->col >= CS_FIELD_COUNT) { /* a label column */
        const char *name = fuzz_label_columns[c->col - CS_FIELD_COUNT];
        if (c->row == 0) {
            FUZZ_CHECK(len == strlen(name) && memcmp(cell, name, len) == 0);
        } else {
            const char *v = cs_labels_get(&c->recs[c->row - 1].labels, name);
            if (!c->raw && len > 0)
                FUZZ_CHECK(strchr("=+-@\t\r", cell[0]) == NULL);
            if (!v)
                v = "";
            bool defuse = !c->raw && v[0] && strchr("=+-@\t\r", v[0]);
            size_t vlen = strlen(v);
            if (fuzz_units(v, vlen) + defuse <= FUZZ_CELL_MAX) {
                FUZZ_CHECK(len == vlen + defuse);
                FUZZ_CHECK(!defuse || cell[0] == '\'');
                FUZZ_CHECK(memcmp(cell + defuse, v, vlen) == 0);
            }
        }
        c->col++;
        return;
    }
    if (c->row == 0) {
        FUZZ_CHECK(len == strlen(cs_field_names[c->col]) &&
                   memcmp(cell, cs_field_names[c->col], len) == 0);
    } else {
        FUZZ_CHECK(c->row <= c->nrec);
        struct cs_value v;
        cs_result_get(&c->recs[c->row - 1], (enum cs_field)c->col, &v);
        bool text = v.kind == CS_FK_STR || v.kind == CS_FK_LIST;
        if (text && !c->raw && len > 0)
            FUZZ_CHECK(strchr("=+-@\t\r", cell[0]) == NULL);
        if ((v.kind == CS_FK_STR || v.kind == CS_FK_STATUS) && !v.null) {
            /* a text cell reads back as written, unless it was cut */
            bool defuse = !c->raw && v.s[0] && strchr("=+-@\t\r", v.s[0]);
            size_t vlen = strlen(v.s);
            if (fuzz_units(v.s, vlen) + defuse <= FUZZ_CELL_MAX) {
                FUZZ_CHECK(len == vlen + defuse);
                FUZZ_CHECK(!defuse || cell[0] == '\'');
                FUZZ_CHECK(memcmp(cell + defuse, v.s, vlen) == 0);
            }
        }
        if (v.kind == CS_FK_INT && v.null)
            FUZZ_CHECK(len == 0);
    }
    c->col++;
}

static void fuzz_csv_row(int term, void *data)
{
    (void)term;
    struct fuzz_csv *c = data;
    FUZZ_CHECK(c->col == CS_FIELD_COUNT + FUZZ_LABEL_COLUMNS);
    c->row++;
    c->col = 0;
}

static void fuzz_check_csv(const char *out, size_t len, const struct cs_result *recs, size_t n,
                           bool raw)
{
    struct csv_parser p;
    struct fuzz_csv c = {.recs = recs, .nrec = n, .raw = raw};
    FUZZ_CHECK(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) == 0);
    csv_set_blk_size(&p, 1 << 16); /* libcsv grows a cell 128 bytes at a time by default */
    FUZZ_CHECK(csv_parse(&p, out, len, fuzz_csv_cell, fuzz_csv_row, &c) == len);
    FUZZ_CHECK(csv_fini(&p, fuzz_csv_cell, fuzz_csv_row, &c) == 0);
    csv_free(&p);
    FUZZ_CHECK(c.row == n + 1);
}

/* ---- JSON --------------------------------------------------------------- */

static void fuzz_check_json_record(json_t *o, const struct cs_result *r)
{
    FUZZ_CHECK(json_is_object(o));
    FUZZ_CHECK(json_object_size(o) == CS_FIELD_COUNT + 1); /* the fields, then labels */
    json_t *labels = json_object_get(o, "labels");
    FUZZ_CHECK(json_is_object(labels) && json_object_size(labels) == r->labels.n);
    for (size_t i = 0; i < r->labels.n; i++) {
        json_t *j = json_object_get(labels, r->labels.name[i]);
        FUZZ_CHECK(json_is_string(j));
        if (fuzz_valid_utf8(r->labels.value[i]))
            FUZZ_CHECK(strcmp(json_string_value(j), r->labels.value[i]) == 0);
    }
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        json_t *j = json_object_get(o, cs_field_names[f]);
        FUZZ_CHECK(j != NULL);
        struct cs_value v;
        cs_result_get(r, (enum cs_field)f, &v);
        if (v.kind == CS_FK_LIST) {
            FUZZ_CHECK(json_is_array(j) && json_array_size(j) == v.list->n);
            for (size_t i = 0; i < v.list->n; i++) {
                json_t *e = json_array_get(j, i);
                FUZZ_CHECK(json_is_string(e));
                if (fuzz_valid_utf8(v.list->v[i]))
                    FUZZ_CHECK(strcmp(json_string_value(e), v.list->v[i]) == 0);
            }
        } else if (v.null) {
            FUZZ_CHECK(json_is_null(j));
        } else if (v.kind == CS_FK_INT) {
            FUZZ_CHECK(json_is_integer(j) && json_integer_value(j) == v.i);
        } else if (v.kind == CS_FK_BOOL) {
            FUZZ_CHECK(json_is_boolean(j));
        } else {
            FUZZ_CHECK(json_is_string(j));
            if (fuzz_valid_utf8(v.s))
                FUZZ_CHECK(strcmp(json_string_value(j), v.s) == 0);
        }
    }
}

static void fuzz_check_json(const char *out, size_t len, const struct cs_result *recs, size_t n)
{
    json_error_t err;
    json_t *doc = json_loadb(out, len, 0, &err);
    if (!doc)
        fprintf(stderr, "fuzz_writers: JSON: %s\n", err.text);
    FUZZ_CHECK(doc != NULL);
    json_t *results = json_object_get(doc, "results");
    FUZZ_CHECK(json_is_array(results) && json_array_size(results) == n);
    for (size_t i = 0; i < n; i++)
        fuzz_check_json_record(json_array_get(results, i), &recs[i]);
    json_decref(doc);
}

static void fuzz_check_jsonl(const char *out, size_t len, const struct cs_result *recs, size_t n)
{
    size_t lines = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(out + off, '\n', len - off);
        FUZZ_CHECK(nl != NULL);
        json_error_t err;
        json_t *rec = json_loadb(out + off, (size_t)(nl - out) - off, 0, &err);
        FUZZ_CHECK(rec != NULL);
        FUZZ_CHECK(lines < n);
        fuzz_check_json_record(rec, &recs[lines]);
        json_decref(rec);
        lines++;
        off = (size_t)(nl - out) + 1;
    }
    FUZZ_CHECK(lines == n);
}

/* ---- text --------------------------------------------------------------- */

static void fuzz_check_text(const char *out, size_t len, bool color)
{
    static const char *const sgr[] = {"\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[35m", "\x1b[0m"};
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c == 0x1b && color) {
            bool ours = false;
            for (size_t k = 0; k < sizeof(sgr) / sizeof(sgr[0]); k++)
                ours |= len - i >= strlen(sgr[k]) && memcmp(out + i, sgr[k], strlen(sgr[k])) == 0;
            FUZZ_CHECK(ours);
            continue;
        }
        FUZZ_CHECK(c >= 0x20 || c == '\n');
        FUZZ_CHECK(c != 0x7f);
        /* C1 controls (U+0080-U+009F) and bidi controls, UTF-8 encoded */
        if (c == 0xC2 && i + 1 < len)
            FUZZ_CHECK((unsigned char)out[i + 1] < 0x80 || (unsigned char)out[i + 1] > 0x9F);
        if (c == 0xE2 && i + 2 < len && (unsigned char)out[i + 1] == 0x80)
            FUZZ_CHECK(!((unsigned char)out[i + 2] >= 0xAA && (unsigned char)out[i + 2] <= 0xAE) &&
                       (unsigned char)out[i + 2] != 0x8E && (unsigned char)out[i + 2] != 0x8F);
        if (c == 0xE2 && i + 2 < len && (unsigned char)out[i + 1] == 0x81)
            FUZZ_CHECK(!((unsigned char)out[i + 2] >= 0xA6 && (unsigned char)out[i + 2] <= 0xA9));
    }
}

/* The HTML page: whatever the records hold, the page's own script is its
   only one, no record text makes a tag, and no control character but the
   line feed reaches the file. */
static void fuzz_check_html(const char *out, size_t len)
{
    size_t scripts = 0;
    for (const char *p = out; (p = strstr(p, "<script")) != NULL; p++)
        scripts++;
    FUZZ_CHECK(scripts == 1);
    FUZZ_CHECK(strstr(out, "<img") == NULL);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK((unsigned char)out[i] >= 0x20 || out[i] == '\n');
    FUZZ_CHECK(len >= 8 && strcmp(out + len - 8, "</html>\n") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader rd = {data, size};
    uint8_t mode = fuzz_byte(&rd);
    fuzz_text_width = fuzz_byte(&rd);
    struct cs_result recs[FUZZ_MAX_RECORDS];
    size_t n = 0;
    while (n < FUZZ_MAX_RECORDS && (n == 0 || rd.n > 0))
        fuzz_record(&recs[n++], &rd);

    size_t len;
    bool raw = mode & 1;
    char *out = fuzz_write(&cs_writer_csv, raw ? CS_WRITER_CSV_RAW : 0, recs, n, &len);
    fuzz_check_csv(out, len, recs, n, raw);
    free(out);
    out = fuzz_write(&cs_writer_json, 0, recs, n, &len);
    fuzz_check_json(out, len, recs, n);
    free(out);
    out = fuzz_write(&cs_writer_jsonl, 0, recs, n, &len);
    fuzz_check_jsonl(out, len, recs, n);
    free(out);
    out = fuzz_write(&cs_writer_text, 0, recs, n, &len);
    fuzz_check_text(out, len, false);
    free(out);
    out = fuzz_write(&cs_writer_text, CS_WRITER_COLOR, recs, n, &len);
    fuzz_check_text(out, len, true);
    free(out);
    out = fuzz_write(&cs_writer_html, 0, recs, n, &len);
    fuzz_check_html(out, len);
    free(out);

    for (size_t i = 0; i < n; i++)
        cs_result_free(&recs[i]);
    return 0;
}
