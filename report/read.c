/* Reading reports back into records (read.h).  Local names start with rd_:
 * json_ is jansson's namespace and csv_ libcsv's. */
#include "report/read.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define RD_CHUNK 65536
#define RD_CELLS_MAX 1024 /* cells in a CSV row */
#define RD_CHAIN_MAX 4096 /* certificates in a record's chain */

/* Where each field lives in the record, and its kind. */
static const struct {
    enum cs_field_kind kind;
    size_t offset;
} rd_fields[CS_FIELD_COUNT] = {
#define X(id, name, kind_, member) [CS_F_##id] = {kind_, offsetof(struct cs_result, member)},
    CS_FIELDS(X)
#undef X
};

struct rd_csv {
    struct csv_parser p;
    bool started;
    int col_field[RD_CELLS_MAX]; /* the field of each header column, or -1 */
    size_t n_cols;
    bool header_done;
    char *cells[RD_CELLS_MAX]; /* the row being read */
    size_t n_cells;
    uint64_t row;            /* rows finished (the header is row 1) */
    uint64_t fed, row_fed;   /* bytes fed in all; ... when the last row ended */
    struct cs_result *queue; /* rows turned into records, not handed out yet */
    size_t q_head, q_len, q_cap;
    char why[512]; /* the first failure in a callback */
};

struct cs_report_reader {
    char *name; /* as said in errors */
    FILE *f;
    bool own_f;
    char *buf; /* RD_CHUNK bytes read ahead */
    size_t pos, len;
    bool eof;
    int read_errno;
    struct cs_buf line; /* the current JSON line (capped) */
    bool pending;       /* line holds the first line, not handed out yet */
    uint64_t line_no;
    struct cs_report_meta meta;
    json_t *doc; /* a JSON document: results, index */
    size_t doc_i;
    struct rd_csv *csv;
    bool done;
};

static void rd_fail(char *err, size_t errlen, const struct cs_report_reader *rd, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
static void rd_fail(char *err, size_t errlen, const struct cs_report_reader *rd, const char *fmt,
                    ...)
{
    int n = snprintf(err, errlen, "%s: ", rd->name);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- bytes and lines ---------------------------------------------------------------------- */

/* Refills buf: 1, or 0 at the end (or on a read error, kept in read_errno). */
static int rd_fill(struct cs_report_reader *rd)
{
    if (rd->eof)
        return 0;
    size_t n = fread(rd->buf, 1, RD_CHUNK, rd->f);
    rd->pos = 0;
    rd->len = n;
    if (n == 0) {
        rd->eof = true;
        if (ferror(rd->f))
            rd->read_errno = errno ? errno : EIO;
        return 0;
    }
    return 1;
}

/* The next line into rd->line (without its LF or CR LF): 1, 0 at the end,
   -1 when it is longer than CS_READ_LINE_MAX (the rest is not read). */
static int rd_line(struct cs_report_reader *rd)
{
    cs_buf_reset(&rd->line);
    bool any = false;
    for (;;) {
        if (rd->pos == rd->len && !rd_fill(rd))
            break;
        any = true;
        const char *start = rd->buf + rd->pos;
        const char *nl = memchr(start, '\n', rd->len - rd->pos);
        size_t take = nl ? (size_t)(nl - start) : rd->len - rd->pos;
        if (cs_buf_append(&rd->line, start, take) < 0)
            return -1;
        rd->pos += take + (nl != NULL);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    if (cs_buf_append(&rd->line, "", 0) < 0) /* a NUL-terminated "" for an empty line */
        return -1;
    if (rd->line.len && rd->line.p[rd->line.len - 1] == '\r')
        rd->line.p[--rd->line.len] = '\0';
    rd->line_no++;
    return 1;
}

/* ---- JSON values into record fields ------------------------------------------------------- */

static const char *rd_json_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int rd_wrong(char *why, size_t len, const char *key, const json_t *v, const char *want)
{
    snprintf(why, len, "\"%s\" is %s, not %s", key, rd_json_type(v), want);
    return -1;
}

static int rd_time(const char *key, const char *s, int64_t *t, char *why, size_t len)
{
    if (cs_parse_time(s, t) < 0) {
        char esc[64];
        snprintf(esc, sizeof(esc), "%.40s", s);
        for (char *p = esc; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                *p = '?';
        snprintf(why, len, "\"%s\" is not a time like 2026-01-31T12:00:00Z (\"%s\")", key, esc);
        return -1;
    }
    return 0;
}

/* Sets field f of r from JSON value v (null: the field's null). */
static int rd_set_json(struct cs_result *r, int f, const json_t *v, char *why, size_t len)
{
    void *at = (char *)r + rd_fields[f].offset;
    const char *key = cs_field_names[f];
    if (v == NULL || json_is_null(v)) {
        switch (rd_fields[f].kind) {
        case CS_FK_INT:
        case CS_FK_TIME:
            *(int64_t *)at = CS_INT_NONE;
            return 0;
        case CS_FK_BOOL:
            *(int *)at = -1;
            return 0;
        case CS_FK_STATUS:
            snprintf(why, len, "\"%s\" is missing or null", key);
            return -1;
        default:
            return 0; /* a string keeps its empty value ("" or NULL), a list stays empty */
        }
    }
    switch (rd_fields[f].kind) {
    case CS_FK_STR:
        if (!json_is_string(v))
            return rd_wrong(why, len, key, v, "a string");
        free(*(char **)at);
        *(char **)at = cs_strndup(json_string_value(v), json_string_length(v));
        return 0;
    case CS_FK_INT:
        if (!json_is_integer(v) || json_integer_value(v) == CS_INT_NONE)
            return rd_wrong(why, len, key, v, "a whole number");
        *(int64_t *)at = json_integer_value(v);
        return 0;
    case CS_FK_TIME:
        if (!json_is_string(v))
            return rd_wrong(why, len, key, v, "a time string");
        return rd_time(key, json_string_value(v), (int64_t *)at, why, len);
    case CS_FK_BOOL:
        if (!json_is_boolean(v))
            return rd_wrong(why, len, key, v, "true or false");
        *(int *)at = json_is_true(v);
        return 0;
    case CS_FK_STATUS: {
        int s = json_is_string(v) ? cs_status_parse(json_string_value(v)) : -1;
        if (s < 0)
            return rd_wrong(why, len, key, v, "OK, WARNING, CRITICAL, EXPIRED or ERROR");
        *(enum cs_status *)at = (enum cs_status)s;
        return 0;
    }
    case CS_FK_LIST: {
        if (!json_is_array(v))
            return rd_wrong(why, len, key, v, "an array of strings");
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item))
                return rd_wrong(why, len, key, item, "a string in the array");
            cs_strlist_add((struct cs_strlist *)at, json_string_value(item));
        }
        return 0;
    }
    }
    return 0;
}

static char *rd_opt_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? cs_strdup(json_string_value(v)) : NULL;
}

static int64_t rd_opt_time(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    int64_t t;
    return json_is_string(v) && cs_parse_time(json_string_value(v), &t) == 0 ? t : CS_INT_NONE;
}

/* --chain's array, leaf first. */
static int rd_chain(struct cs_result *r, const json_t *a, char *why, size_t len)
{
    if (!json_is_array(a))
        return rd_wrong(why, len, "chain", a, "an array");
    size_t n = json_array_size(a);
    if (n > RD_CHAIN_MAX) {
        snprintf(why, len, "\"chain\" has more than %d certificates", RD_CHAIN_MAX);
        return -1;
    }
    if (n == 0)
        return 0;
    r->chain = cs_xcalloc(n, sizeof(*r->chain));
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(a, i);
        if (!json_is_object(c))
            return rd_wrong(why, len, "chain", c, "an object in the array");
        r->chain[i] = (struct cs_chain_cert){
            .subject = rd_opt_str(c, "subject"),
            .issuer = rd_opt_str(c, "issuer"),
            .serial = rd_opt_str(c, "serial"),
            .sha256 = rd_opt_str(c, "sha256"),
            .key = rd_opt_str(c, "key"),
            .not_before = rd_opt_time(c, "not_before"),
            .not_after = rd_opt_time(c, "not_after"),
        };
        r->chain_n = i + 1;
    }
    return 0;
}

/* A JSON record object into *r (initialised here; freed on failure). */
static int rd_record_json(const json_t *o, struct cs_result *r, char *why, size_t len)
{
    cs_result_init(r);
    if (!json_is_object(o)) {
        snprintf(why, len, "a record is %s, not an object", rd_json_type(o));
        cs_result_free(r);
        return -1;
    }
    if (!json_is_string(json_object_get(o, "host"))) {
        snprintf(why, len, "not a certsweep record: no \"host\" string");
        cs_result_free(r);
        return -1;
    }
    for (int f = 0; f < CS_FIELD_COUNT; f++)
        if (rd_set_json(r, f, json_object_get(o, cs_field_names[f]), why, len) < 0) {
            cs_result_free(r);
            return -1;
        }
    const json_t *chain = json_object_get(o, "chain");
    if (chain && rd_chain(r, chain, why, len) < 0) {
        cs_result_free(r);
        return -1;
    }
    return 0;
}

/* ---- the JSON document -------------------------------------------------------------------- */

struct rd_feed {
    struct cs_report_reader *rd;
    size_t pending_off; /* of the first line (and its LF) already handed to jansson */
    uint64_t total;
    bool too_big;
};

/* jansson's source: the first line read for detection, then the file. */
static size_t rd_json_feed(void *buffer, size_t buflen, void *data)
{
    struct rd_feed *fd = data;
    struct cs_report_reader *rd = fd->rd;
    size_t n = 0;
    if (rd->pending && fd->pending_off <= rd->line.len) {
        size_t left = rd->line.len + 1 - fd->pending_off; /* the line and its LF */
        n = left < buflen ? left : buflen;
        for (size_t i = 0; i < n; i++, fd->pending_off++)
            ((char *)buffer)[i] =
                fd->pending_off < rd->line.len ? rd->line.p[fd->pending_off] : '\n';
    } else {
        if (rd->pos == rd->len && !rd_fill(rd))
            return 0;
        n = rd->len - rd->pos < buflen ? rd->len - rd->pos : buflen;
        memcpy(buffer, rd->buf + rd->pos, n);
        rd->pos += n;
    }
    fd->total += n;
    if (fd->total > CS_READ_DOC_MAX) {
        fd->too_big = true;
        return (size_t)-1;
    }
    return n;
}

/* scan.only: an array of status names (json.c's jsonw_only).  0, or -1 and
   why (a filter this reader cannot name would be read as no filter). */
static int rd_only(const json_t *scan, unsigned *only, char *why, size_t len)
{
    const json_t *a = json_object_get(scan, "only");
    *only = 0;
    if (a == NULL || json_is_null(a))
        return 0;
    if (!json_is_array(a) || json_array_size(a) == 0) {
        snprintf(why, len, "\"scan.only\" is %s, not a list of statuses", rd_json_type(a));
        return -1;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v)
    {
        int st = json_is_string(v) ? cs_status_parse(json_string_value(v)) : -1;
        if (st < 0) {
            snprintf(why, len, "\"scan.only\" names no status certsweep knows (item %zu)", i);
            return -1;
        }
        *only |= 1u << st;
    }
    return 0;
}

void cs_report_only_words(unsigned only, char *buf, size_t len)
{
    unsigned problems = ((1u << CS_STATUS_COUNT) - 1) & ~(1u << CS_OK);
    snprintf(buf, len, "%s", only == problems ? "problems" : "");
    for (int i = 0; only != problems && i < CS_STATUS_COUNT; i++)
        if (only & (1u << i)) {
            size_t used = strlen(buf);
            snprintf(buf + used, len - used, "%s%s", used ? "," : "",
                     cs_status_name((enum cs_status)i));
        }
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static void rd_meta_from_doc(struct cs_report_meta *m, const json_t *doc)
{
    const json_t *scan = json_object_get(doc, "scan");
    const json_t *c = json_object_get(doc, "complete");
    m->complete = !json_is_false(c);
    if (json_is_object(scan)) {
        m->has_scan = true;
        m->started_at = rd_opt_time(scan, "started_at");
        m->finished_at = rd_opt_time(scan, "finished_at");
        m->now = rd_opt_time(scan, "now");
        const json_t *th = json_object_get(scan, "thresholds");
        const json_t *w = json_object_get(th, "warn_days"), *k = json_object_get(th, "crit_days");
        m->warn_secs = json_is_integer(w) ? json_integer_value(w) * 86400 : -1;
        m->crit_secs = json_is_integer(k) ? json_integer_value(k) * 86400 : -1;
        const json_t *rev = json_object_get(scan, "revocation");
        m->ocsp = json_is_true(json_object_get(rev, "ocsp"));
        m->crl = json_is_true(json_object_get(rev, "crl"));
        m->require_revocation = json_is_true(json_object_get(rev, "required"));
        const json_t *of = json_object_get(rev, "ocsp_fetches");
        const json_t *cf = json_object_get(rev, "crl_fetches");
        m->ocsp_fetches = json_is_integer(of) ? (uint64_t)json_integer_value(of) : 0;
        m->crl_fetches = json_is_integer(cf) ? (uint64_t)json_integer_value(cf) : 0;
    }
    const json_t *sum = json_object_get(doc, "summary");
    for (int i = 0; i < CS_STATUS_COUNT; i++) {
        const json_t *v = json_object_get(sum, cs_status_name((enum cs_status)i));
        m->summary[i] = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    }
}

static int rd_open_doc(struct cs_report_reader *rd, char *err, size_t errlen)
{
    struct rd_feed fd = {.rd = rd};
    json_error_t je;
    rd->doc = json_load_callback(rd_json_feed, &fd, JSON_REJECT_DUPLICATES, &je);
    rd->pending = false;
    if (fd.too_big) {
        rd_fail(err, errlen, rd, "JSON document larger than %llu bytes (give JSON Lines)",
                (unsigned long long)CS_READ_DOC_MAX);
        return -1;
    }
    if (rd->read_errno) {
        rd_fail(err, errlen, rd, "read error: %s", strerror(rd->read_errno));
        return -1;
    }
    if (!rd->doc) {
        rd_fail(err, errlen, rd, "not valid JSON at line %d, column %d: %s", je.line, je.column,
                je.text);
        return -1;
    }
    if (!json_is_object(rd->doc) || !json_is_array(json_object_get(rd->doc, "results"))) {
        rd_fail(err, errlen, rd,
                "not a certsweep JSON report: no \"results\" array (a JSON Lines report is "
                "one record per line, named .jsonl)");
        return -1;
    }
    const json_t *c = json_object_get(rd->doc, "complete");
    if (c && !json_is_boolean(c)) {
        rd_fail(err, errlen, rd, "\"complete\" is %s, not true or false", rd_json_type(c));
        return -1;
    }
    rd_meta_from_doc(&rd->meta, rd->doc);
    char why[256];
    if (rd_only(json_object_get(rd->doc, "scan"), &rd->meta.only, why, sizeof(why)) < 0) {
        rd_fail(err, errlen, rd, "%s", why);
        return -1;
    }
    return 0;
}

static int rd_next_doc(struct cs_report_reader *rd, struct cs_result *r, char *err, size_t errlen)
{
    const json_t *results = json_object_get(rd->doc, "results");
    if (rd->doc_i >= json_array_size(results))
        return 0;
    char why[512];
    size_t i = rd->doc_i++;
    if (rd_record_json(json_array_get(results, i), r, why, sizeof(why)) < 0) {
        rd_fail(err, errlen, rd, "record %zu: %s", i + 1, why);
        return -1;
    }
    return 1;
}

/* ---- JSON Lines --------------------------------------------------------------------------- */

static int rd_next_jsonl(struct cs_report_reader *rd, struct cs_result *r, char *err, size_t errlen)
{
    for (;;) {
        int got = 1;
        if (!rd->pending)
            got = rd_line(rd);
        rd->pending = false;
        if (got < 0) {
            rd_fail(err, errlen, rd, "line %llu: longer than %zu bytes",
                    (unsigned long long)rd->line_no + 1, CS_READ_LINE_MAX);
            return -1;
        }
        if (got == 0) {
            if (rd->read_errno) {
                rd_fail(err, errlen, rd, "read error after line %llu: %s",
                        (unsigned long long)rd->line_no, strerror(rd->read_errno));
                return -1;
            }
            return 0;
        }
        size_t skip = strspn(rd->line.p, " \t");
        if (rd->line.p[skip] == '\0')
            continue; /* a blank line */
        json_error_t je;
        json_t *o = json_loadb(rd->line.p, rd->line.len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            rd_fail(err, errlen, rd, "line %llu: not valid JSON at column %d: %s",
                    (unsigned long long)rd->line_no, je.column, je.text);
            return -1;
        }
        char why[512];
        int rc = rd_record_json(o, r, why, sizeof(why));
        json_decref(o);
        if (rc < 0) {
            rd_fail(err, errlen, rd, "line %llu: %s", (unsigned long long)rd->line_no, why);
            return -1;
        }
        return 1;
    }
}

/* ---- CSV ---------------------------------------------------------------------------------- */

/* Sets field f of r from a CSV cell ("" is null). */
static int rd_set_cell(struct cs_result *r, int f, const char *s, char *why, size_t len)
{
    void *at = (char *)r + rd_fields[f].offset;
    const char *key = cs_field_names[f];
    if (*s == '\0')
        return rd_set_json(r, f, NULL, why, len);
    switch (rd_fields[f].kind) {
    case CS_FK_STR:
        if (s[0] == '\'' && s[1] && strchr("=+-@\t\r", s[1]))
            s++; /* the writer's formula defusing */
        free(*(char **)at);
        *(char **)at = cs_strdup(s);
        return 0;
    case CS_FK_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || end == s || v == CS_INT_NONE) {
            snprintf(why, len, "\"%s\" is not a whole number", key);
            return -1;
        }
        *(int64_t *)at = v;
        return 0;
    }
    case CS_FK_TIME:
        return rd_time(key, s, (int64_t *)at, why, len);
    case CS_FK_BOOL:
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0) {
            snprintf(why, len, "\"%s\" is not true or false", key);
            return -1;
        }
        *(int *)at = s[0] == 't';
        return 0;
    case CS_FK_STATUS: {
        int st = cs_status_parse(s);
        if (st < 0) {
            snprintf(why, len, "\"%s\" is not OK, WARNING, CRITICAL, EXPIRED or ERROR", key);
            return -1;
        }
        *(enum cs_status *)at = (enum cs_status)st;
        return 0;
    }
    case CS_FK_LIST:
        if (s[0] == '\'' && s[1] && strchr("=+-@\t\r", s[1]))
            s++;
        for (const char *p = s; *p;) {
            size_t n = strcspn(p, " ");
            if (n) {
                char *item = cs_strndup(p, n);
                cs_strlist_add((struct cs_strlist *)at, item);
                free(item);
            }
            p += n + (p[n] == ' ');
        }
        return 0;
    }
    return 0;
}

static void rd_csv_cell(void *s, size_t len, void *data)
{
    struct rd_csv *c = data;
    if (c->why[0])
        return;
    if (c->n_cells == RD_CELLS_MAX) {
        snprintf(c->why, sizeof(c->why), "row %llu: more than %d cells",
                 (unsigned long long)c->row + 1, RD_CELLS_MAX);
        return;
    }
    c->cells[c->n_cells++] = cs_strndup(s ? s : "", s ? len : 0);
}

static void rd_csv_header(struct rd_csv *c)
{
    bool host = false, status = false;
    /* a UTF-8 byte order mark, as --csv-excel and spreadsheets write it */
    if (c->n_cells > 0 && strncmp(c->cells[0], "\xEF\xBB\xBF", 3) == 0)
        memmove(c->cells[0], c->cells[0] + 3, strlen(c->cells[0] + 3) + 1);
    for (size_t j = 0; j < c->n_cells; j++) {
        c->col_field[j] = -1;
        for (int f = 0; f < CS_FIELD_COUNT; f++)
            if (strcmp(c->cells[j], cs_field_names[f]) == 0) {
                bool dup = false;
                for (size_t k = 0; k < j; k++)
                    dup |= c->col_field[k] == f;
                c->col_field[j] = dup ? -1 : f;
                host |= f == CS_F_HOST;
                status |= f == CS_F_STATUS;
            }
    }
    c->n_cols = c->n_cells;
    c->header_done = true;
    if (!host || !status)
        snprintf(c->why, sizeof(c->why),
                 "not a certsweep CSV report: its first row names no host and status columns");
}

static void rd_csv_row(int term, void *data)
{
    (void)term;
    struct rd_csv *c = data;
    c->row++;
    c->row_fed = c->fed;
    if (!c->why[0] && !c->header_done) {
        rd_csv_header(c);
    } else if (!c->why[0] && c->n_cells != c->n_cols) {
        snprintf(c->why, sizeof(c->why), "row %llu: %zu cells, the header has %zu",
                 (unsigned long long)c->row, c->n_cells, c->n_cols);
    } else if (!c->why[0]) {
        if (c->q_len == c->q_cap) {
            c->q_cap = c->q_cap ? 2 * c->q_cap : 64;
            c->queue = cs_xrealloc(c->queue, c->q_cap * sizeof(*c->queue));
        }
        struct cs_result *r = &c->queue[c->q_len];
        cs_result_init(r);
        char why[400] = "";
        for (size_t j = 0; j < c->n_cells && !why[0]; j++)
            if (c->col_field[j] >= 0)
                rd_set_cell(r, c->col_field[j], c->cells[j], why, sizeof(why));
        if (why[0]) {
            snprintf(c->why, sizeof(c->why), "row %llu: %s", (unsigned long long)c->row, why);
            cs_result_free(r);
        } else {
            c->q_len++;
        }
    }
    for (size_t j = 0; j < c->n_cells; j++)
        free(c->cells[j]);
    c->n_cells = 0;
}

/* Feeds libcsv until a record is queued or the input ends: 1, 0 or -1. */
static int rd_csv_feed(struct cs_report_reader *rd, char *err, size_t errlen)
{
    struct rd_csv *c = rd->csv;
    while (c->q_head == c->q_len && !rd->done) {
        c->q_head = c->q_len = 0;
        if (rd->pending) { /* the first line, read to tell the format */
            rd->pending = false;
            csv_parse(&c->p, rd->line.p, rd->line.len, rd_csv_cell, rd_csv_row, c);
            csv_parse(&c->p, "\n", 1, rd_csv_cell, rd_csv_row, c);
            c->fed += rd->line.len + 1;
        } else if (rd->pos < rd->len || rd_fill(rd)) {
            size_t n = rd->len - rd->pos;
            if (csv_parse(&c->p, rd->buf + rd->pos, n, rd_csv_cell, rd_csv_row, c) != n &&
                !c->why[0])
                snprintf(c->why, sizeof(c->why), "row %llu: %s", (unsigned long long)c->row + 1,
                         csv_strerror(csv_error(&c->p)));
            rd->pos = rd->len;
            c->fed += n;
        } else {
            if (rd->read_errno)
                snprintf(c->why, sizeof(c->why), "read error after row %llu: %s",
                         (unsigned long long)c->row, strerror(rd->read_errno));
            else if (csv_fini(&c->p, rd_csv_cell, rd_csv_row, c) != 0 && !c->why[0])
                snprintf(c->why, sizeof(c->why), "row %llu: %s", (unsigned long long)c->row + 1,
                         csv_strerror(csv_error(&c->p)));
            rd->done = true;
        }
        if (!c->why[0] && c->fed - c->row_fed > CS_READ_LINE_MAX)
            snprintf(c->why, sizeof(c->why), "row %llu: longer than %zu bytes",
                     (unsigned long long)c->row + 1, CS_READ_LINE_MAX);
        if (c->why[0]) {
            rd_fail(err, errlen, rd, "%s", c->why);
            rd->done = true;
            return -1;
        }
    }
    return c->q_head < c->q_len ? 1 : 0;
}

static int rd_next_csv(struct cs_report_reader *rd, struct cs_result *r, char *err, size_t errlen)
{
    struct rd_csv *c = rd->csv;
    int rc = rd_csv_feed(rd, err, errlen);
    if (rc <= 0)
        return rc;
    *r = c->queue[c->q_head++];
    return 1;
}

static void rd_csv_free(struct rd_csv *c)
{
    if (!c)
        return;
    if (c->started)
        csv_free(&c->p);
    for (size_t j = 0; j < c->n_cells; j++)
        free(c->cells[j]);
    for (size_t i = c->q_head; i < c->q_len; i++)
        cs_result_free(&c->queue[i]);
    free(c->queue);
    free(c);
}

/* ---- opening ------------------------------------------------------------------------------ */

static bool rd_ends_with(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* The format from the first line (already in rd->line): a JSON object on a
   line of its own is JSON Lines unless it holds "results"; any other JSON
   start is a document; a header naming host is CSV. */
static int rd_sniff(struct cs_report_reader *rd, enum cs_report_format *fmt)
{
    const char *p = rd->line.p + strspn(rd->line.p, " \t");
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    if (*p == '{' || *p == '[') {
        json_t *o = json_loadb(rd->line.p, rd->line.len, 0, NULL);
        *fmt = json_is_object(o) && !json_object_get(o, "results") ? CS_READ_JSONL : CS_READ_JSON;
        json_decref(o);
        return 0;
    }
    if (strncmp(p, "host,", 5) == 0 || strstr(p, ",host,") || strstr(p, "\"host\"")) {
        *fmt = CS_READ_CSV;
        return 0;
    }
    return -1;
}

struct cs_report_reader *cs_report_open(const char *path, char *err, size_t errlen)
{
    struct cs_report_reader *rd = cs_xcalloc(1, sizeof(*rd));
    rd->name = cs_strdup(strcmp(path, "-") ? path : "<stdin>");
    rd->meta = (struct cs_report_meta){.complete = true,
                                       .started_at = CS_INT_NONE,
                                       .finished_at = CS_INT_NONE,
                                       .now = CS_INT_NONE,
                                       .warn_secs = -1,
                                       .crit_secs = -1};
    cs_buf_init(&rd->line, CS_READ_LINE_MAX);
    rd->buf = cs_xmalloc(RD_CHUNK);
    if (strcmp(path, "-") == 0) {
        rd->f = stdin;
    } else {
        rd->f = fopen(path, "r");
        rd->own_f = true;
        if (!rd->f) {
            rd_fail(err, errlen, rd, "cannot be read: %s", strerror(errno));
            cs_report_close(rd);
            return NULL;
        }
    }
    enum cs_report_format fmt;
    int got = rd_line(rd);
    rd->pending = got > 0;
    if (got < 0) {
        rd_fail(err, errlen, rd, "line 1: longer than %zu bytes", CS_READ_LINE_MAX);
    } else if (got == 0) {
        rd_fail(err, errlen, rd, rd->read_errno ? "cannot be read: %s" : "empty: not a report%s",
                rd->read_errno ? strerror(rd->read_errno) : "");
    } else if (rd_ends_with(path, ".json")) {
        fmt = CS_READ_JSON;
    } else if (rd_ends_with(path, ".jsonl")) {
        fmt = CS_READ_JSONL;
    } else if (rd_ends_with(path, ".csv")) {
        fmt = CS_READ_CSV;
    } else if (rd_sniff(rd, &fmt) < 0) {
        rd_fail(err, errlen, rd,
                "not a certsweep report: neither JSON, JSON Lines nor CSV with a host column");
        got = -1;
    }
    if (got <= 0) {
        cs_report_close(rd);
        return NULL;
    }
    rd->meta.format = fmt;
    int rc = 0;
    if (fmt == CS_READ_JSON) {
        rc = rd_open_doc(rd, err, errlen);
    } else if (fmt == CS_READ_CSV) {
        rd->csv = cs_xcalloc(1, sizeof(*rd->csv));
        rc = csv_init(&rd->csv->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
        rd->csv->started = rc == 0;
        if (rc == 0) /* a long cell grows by 64 KiB at a time, not libcsv's 128 bytes */
            csv_set_blk_size(&rd->csv->p, RD_CHUNK);
        if (rc != 0)
            rd_fail(err, errlen, rd, "out of memory");
    }
    if (rc != 0) {
        cs_report_close(rd);
        return NULL;
    }
    return rd;
}

const struct cs_report_meta *cs_report_meta(const struct cs_report_reader *rd)
{
    return &rd->meta;
}

int cs_report_next(struct cs_report_reader *rd, struct cs_result *r, char *err, size_t errlen)
{
    if (rd->done && !(rd->csv && rd->csv->q_head < rd->csv->q_len))
        return 0;
    int rc;
    switch (rd->meta.format) {
    case CS_READ_JSON:
        rc = rd_next_doc(rd, r, err, errlen);
        break;
    case CS_READ_JSONL:
        rc = rd_next_jsonl(rd, r, err, errlen);
        break;
    default:
        return rd_next_csv(rd, r, err, errlen);
    }
    if (rc <= 0)
        rd->done = true;
    return rc;
}

void cs_report_close(struct cs_report_reader *rd)
{
    if (!rd)
        return;
    if (rd->own_f && rd->f)
        fclose(rd->f);
    json_decref(rd->doc);
    rd_csv_free(rd->csv);
    cs_buf_free(&rd->line);
    free(rd->buf);
    free(rd->name);
    free(rd);
}
