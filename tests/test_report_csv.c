/* The CSV writer: awkward records written, parsed back with libcsv and
 * compared value by value; quoting, formula defusing and the cell cap. */
#include <criterion/criterion.h>

#include <csv.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/report_fixture.h"

/* The cell text the CSV spec asks for, computed independently of csv.c. */
static char *expected_cell(const struct cs_result *r, enum cs_field f)
{
    struct cs_value v;
    cs_result_get(r, f, &v);
    if (v.kind == CS_FK_LIST) {
        char *s = cs_strdup("");
        for (size_t i = 0; i < v.list->n; i++) {
            char *t = cs_asprintf("%s%s%s", s, i ? " " : "", v.list->v[i]);
            free(s);
            s = t;
        }
        if (strchr("=+-@\t\r", s[0]) && s[0]) {
            char *t = cs_asprintf("'%s", s);
            free(s);
            s = t;
        }
        return s;
    }
    if (v.null)
        return cs_strdup("");
    switch (v.kind) {
    case CS_FK_INT:
        return cs_asprintf("%" PRId64, v.i);
    case CS_FK_BOOL:
        return cs_strdup(v.i ? "true" : "false");
    case CS_FK_STR:
        if (v.s[0] && strchr("=+-@\t\r", v.s[0]))
            return cs_asprintf("'%s", v.s);
        return cs_strdup(v.s);
    default:
        return cs_strdup(v.s);
    }
}

/* ---- CSV --------------------------------------------------------------- */

struct cells_table {
    char *cell[16][CS_FIELD_COUNT + 4];
    size_t ncell[16];
    size_t nrow;
};

static void cells_on_cell(void *s, size_t len, void *data)
{
    struct cells_table *t = data;
    cr_assert_lt(t->nrow, 16);
    cr_assert_lt(t->ncell[t->nrow], CS_FIELD_COUNT + 4);
    t->cell[t->nrow][t->ncell[t->nrow]++] = cs_strndup(s ? s : "", s ? len : 0);
}

static void cells_on_row(int c, void *data)
{
    (void)c;
    struct cells_table *t = data;
    t->nrow++;
}

static void parse_csv(const char *buf, size_t len, struct cells_table *t)
{
    struct csv_parser p;
    memset(t, 0, sizeof(*t));
    cr_assert_eq(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI), 0);
    cr_assert_eq(csv_parse(&p, buf, len, cells_on_cell, cells_on_row, t), len, "csv: %s",
                 csv_strerror(csv_error(&p)));
    cr_assert_eq(csv_fini(&p, cells_on_cell, cells_on_row, t), 0);
    csv_free(&p);
}

static void cells_table_free(struct cells_table *t)
{
    for (size_t i = 0; i < 16; i++)
        for (size_t j = 0; j < t->ncell[i]; j++)
            free(t->cell[i][j]);
}

TestSuite(csv);

Test(csv, header_and_round_trip)
{
    struct cs_result recs[NREC];
    make_all(recs);
    size_t len;
    char *out = run_writer(&cs_writer_csv, &test_info, 0, recs, NREC, &len);
    struct cells_table t;
    parse_csv(out, len, &t);

    cr_assert_eq(t.nrow, 1 + NREC);
    for (size_t row = 0; row < t.nrow; row++)
        cr_assert_eq(t.ncell[row], CS_FIELD_COUNT, "row %zu has %zu cells", row, t.ncell[row]);
    for (int f = 0; f < CS_FIELD_COUNT; f++)
        cr_assert_str_eq(t.cell[0][f], cs_field_names[f]);
    for (size_t i = 0; i < NREC; i++)
        for (int f = 0; f < CS_FIELD_COUNT; f++) {
            char *want = expected_cell(&recs[i], (enum cs_field)f);
            cr_assert_str_eq(t.cell[1 + i][f], want, "record %zu field %s", i, cs_field_names[f]);
            free(want);
        }

    /* a few values spelled out, so the test does not only agree with itself */
    cr_assert_str_eq(t.cell[1][CS_F_SUBJECT],
                     "CN=www.example.com,O=Acme\\, \"Quoted\" Inc.,L=Montr\xc3\xa9"
                     "al,C=CA");
    cr_assert_str_eq(t.cell[1][CS_F_SANS], "www.example.com example.com \xe6\x97\xa5\xe6\x9c\xac"
                                           ".example");
    cr_assert_str_eq(t.cell[1][CS_F_OCSP_URIS], "http://r3.o.lencr.org");
    cr_assert_str_eq(t.cell[1][CS_F_CRL_URIS], "");
    cr_assert_str_eq(t.cell[1][CS_F_NOT_BEFORE], "2025-01-01T00:00:00Z");
    cr_assert_str_eq(t.cell[1][CS_F_NOT_AFTER], "2026-04-30T01:00:00Z");
    cr_assert_str_eq(t.cell[1][CS_F_HOSTNAME_MATCH], "true");
    cr_assert_str_eq(t.cell[1][CS_F_STATUS], "OK");
    cr_assert_str_eq(t.cell[1][CS_F_PORT], "443");
    cr_assert_str_eq(t.cell[2][CS_F_DAYS_REMAINING], "-3");
    cr_assert_str_eq(t.cell[2][CS_F_SUBJECT], "CN=line1\nline2\r\nline3,O=\"q\",OU=a\x01"
                                              "b\x1b[31mred\x1b[0m");
    cr_assert_str_eq(t.cell[2][CS_F_SANS], "'=HYPERLINK(\"http://evil\")");
    cr_assert_str_eq(t.cell[2][CS_F_OCSP_URIS], "");
    cr_assert_str_eq(t.cell[2][CS_F_CRL_URIS], "http://a/1.crl http://b/2.crl http://c/3.crl");
    cr_assert_str_eq(t.cell[2][CS_F_HOSTNAME_MATCH], "false");
    cr_assert_str_eq(t.cell[2][CS_F_SNI], "");
    cr_assert_str_eq(t.cell[3][CS_F_NOT_BEFORE], "");
    cr_assert_str_eq(t.cell[3][CS_F_DAYS_REMAINING], "");
    cr_assert_str_eq(t.cell[3][CS_F_SUBJECT], "");
    cr_assert_str_eq(t.cell[3][CS_F_HOSTNAME_MATCH], "");
    cr_assert_str_eq(t.cell[3][CS_F_STATUS], "ERROR");
    cr_assert_str_eq(t.cell[3][CS_F_ERROR], "connect: connection refused");

    cells_table_free(&t);
    free(out);
    free_all(recs, NREC);
}

Test(csv, lf_line_ends_and_minimal_quoting)
{
    struct cs_result r;
    make_ok(&r);
    char *out = run_writer(&cs_writer_csv, &test_info, 0, &r, 1, NULL);
    /* the header needs no quoting and ends in a bare LF */
    char *nl = strchr(out, '\n');
    cr_assert_not_null(nl);
    cr_assert_neq(nl[-1], '\r');
    cr_assert_eq(strncmp(out, "host,port,address,sni,status,", 29), 0);
    cr_assert_eq(strchr(out, '\r'), NULL);
    /* plain cells are bare, cells with commas or quotes are quoted */
    cr_assert_not_null(strstr(nl + 1, "www.example.com,443,93.184.216.34,"));
    cr_assert_not_null(strstr(out, ",\"CN=www.example.com,O=Acme\\, \"\"Quoted\"\" Inc."));
    cr_assert_eq(out[strlen(out) - 1], '\n');
    free(out);
    cs_result_free(&r);
}

Test(csv, blanks_at_the_edges_survive)
{
    struct cs_result r;
    make_ok(&r);
    set_str(&r.reason, "  padded\t");
    set_str(&r.subject, "+1 and @2");
    set_str(&r.issuer, "-3");
    size_t len;
    char *out = run_writer(&cs_writer_csv, &test_info, 0, &r, 1, &len);
    struct cells_table t;
    parse_csv(out, len, &t);
    cr_assert_str_eq(t.cell[1][CS_F_REASON], "  padded\t");
    cr_assert_str_eq(t.cell[1][CS_F_SUBJECT], "'+1 and @2");
    cr_assert_str_eq(t.cell[1][CS_F_ISSUER], "'-3");
    cells_table_free(&t);
    free(out);
    cs_result_free(&r);
}

/* Text cells that a spreadsheet would run as formulas get a leading
 * apostrophe; --csv-raw (CS_WRITER_CSV_RAW) leaves them as they are; numeric
 * cells are numbers in both. */
Test(csv, formulas_defused_unless_raw)
{
    struct cs_result r;
    make_hostile(&r); /* days_remaining -3 */
    set_str(&r.host, "\tcmd.example");
    set_str(&r.subject, "=1+1");
    set_str(&r.issuer, "@SUM(A1:A9)");
    set_str(&r.reason, "-2+3");
    set_str(&r.verify, "\rok");
    set_str(&r.error, "+cmd|' /C calc'!A0");
    cs_strlist_add(&r.ocsp_uris, "-http://x");
    cs_strlist_add(&r.ocsp_uris, "=second");
    static const struct {
        enum cs_field f;
        const char *text;
    } cells[] = {
        {CS_F_HOST, "\tcmd.example"},
        {CS_F_SUBJECT, "=1+1"},
        {CS_F_ISSUER, "@SUM(A1:A9)"},
        {CS_F_REASON, "-2+3"},
        {CS_F_VERIFY, "\rok"},
        {CS_F_ERROR, "+cmd|' /C calc'!A0"},
        {CS_F_SANS, "=HYPERLINK(\"http://evil\")"},
        {CS_F_OCSP_URIS, "-http://x =second"},
    };
    for (unsigned raw = 0; raw < 2; raw++) {
        size_t len;
        char *out =
            run_writer(&cs_writer_csv, &test_info, raw ? CS_WRITER_CSV_RAW : 0, &r, 1, &len);
        struct cells_table t;
        parse_csv(out, len, &t);
        cr_assert_eq(t.nrow, 2);
        for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
            char *want = raw ? cs_strdup(cells[i].text) : cs_asprintf("'%s", cells[i].text);
            cr_assert_str_eq(t.cell[1][cells[i].f], want, "%s, raw %u", cs_field_names[cells[i].f],
                             raw);
            free(want);
        }
        /* numbers stay numbers: a negative count of days is no formula */
        cr_assert_str_eq(t.cell[1][CS_F_DAYS_REMAINING], "-3");
        cr_assert_str_eq(t.cell[1][CS_F_PORT], "8443");
        cr_assert_str_eq(t.cell[1][CS_F_ELAPSED_MS], "0");
        cr_assert_str_eq(t.cell[1][CS_F_NOT_AFTER], "2026-02-26T00:00:00Z");
        cr_assert_str_eq(t.cell[1][CS_F_HOSTNAME_MATCH], "false");
        cells_table_free(&t);
        free(out);
    }
    cs_result_free(&r);
}

/* Characters as a spreadsheet counts them (UTF-16 code units); -1 if s is
 * not valid UTF-8. */
static long utf16_units(const char *s)
{
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int len = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC2 ? 2 : 0;
        if (len == 0)
            return -1;
        for (int i = 1; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return -1;
        n += len == 4 ? 2 : 1;
        p += len;
    }
    return n;
}

#define CELL_MAX 32767
#define MANY_SANS 10000

/* 10,000 SANs: the CSV cell is cut between entries and says how many are
 * left out; JSON keeps every one. */
Test(csv, ten_thousand_sans_cut_with_a_count)
{
    struct cs_result r;
    make_ok(&r);
    cs_strlist_free(&r.sans);
    char name[64];
    for (int i = 0; i < MANY_SANS; i++) {
        snprintf(name, sizeof(name), "host-%05d.fleet.example.com", i);
        cs_strlist_add(&r.sans, name);
    }
    size_t len;
    char *out = run_writer(&cs_writer_csv, &test_info, 0, &r, 1, &len);
    struct cells_table t;
    parse_csv(out, len, &t);
    cr_assert_eq(t.nrow, 2);
    cr_assert_eq(t.ncell[1], CS_FIELD_COUNT);
    const char *cell = t.cell[1][CS_F_SANS];
    long units = utf16_units(cell);
    cr_assert_gt(units, 0, "not valid UTF-8");
    cr_assert_leq(units, CELL_MAX);
    cr_assert_gt(units, CELL_MAX - 100, "cut far too early: %ld", units);

    const char *tail = strstr(cell, " \xe2\x80\xa6 (+");
    cr_assert_not_null(tail, "no ' ... (+N more)' in the cell");
    unsigned long more = 0;
    int end = 0;
    cr_assert_eq(sscanf(tail, " \xe2\x80\xa6 (+%lu more)%n", &more, &end), 1);
    cr_assert_eq(tail[end], '\0', "text after the count: '%s'", tail + end);
    /* the kept entries are the first ones, whole and in order */
    unsigned long kept = 0;
    for (const char *p = cell; p < tail;) {
        snprintf(name, sizeof(name), "host-%05lu.fleet.example.com", kept);
        cr_assert_eq(strncmp(p, name, strlen(name)), 0, "entry %lu", kept);
        p += strlen(name);
        kept++;
        if (p == tail)
            break;
        cr_assert(*p == ' ', "entry %lu is cut", kept);
        p++;
    }
    cr_assert_eq(kept + more, MANY_SANS, "%lu kept + %lu more", kept, more);
    cells_table_free(&t);
    free(out);

    out = run_writer(&cs_writer_json, &test_info, 0, &r, 1, &len);
    json_error_t err;
    json_t *doc = json_loadb(out, len, 0, &err);
    cr_assert_not_null(doc, "%s", err.text);
    json_t *sans = json_object_get(json_array_get(json_object_get(doc, "results"), 0), "sans");
    cr_assert_eq(json_array_size(sans), MANY_SANS);
    cr_assert_str_eq(json_string_value(json_array_get(sans, MANY_SANS - 1)),
                     "host-09999.fleet.example.com");
    json_decref(doc);
    free(out);
    cs_result_free(&r);
}

/* A list that just fits is not cut; one entry more is. */
Test(csv, list_at_the_limit)
{
    struct cs_result r;
    make_ok(&r);
    cs_strlist_free(&r.sans);
    char entry[1024];
    memset(entry, 'x', 1023);
    entry[1023] = '\0';
    for (int i = 0; i < 32; i++) /* 32 * 1023 + 31 spaces = 32767 */
        cs_strlist_add(&r.sans, entry);
    size_t len;
    char *out = run_writer(&cs_writer_csv, &test_info, 0, &r, 1, &len);
    struct cells_table t;
    parse_csv(out, len, &t);
    cr_assert_eq(strlen(t.cell[1][CS_F_SANS]), CELL_MAX);
    cr_assert_null(strstr(t.cell[1][CS_F_SANS], "more)"));
    cells_table_free(&t);
    free(out);

    cs_strlist_add(&r.sans, "y");
    out = run_writer(&cs_writer_csv, &test_info, 0, &r, 1, &len);
    parse_csv(out, len, &t);
    cr_assert_leq(strlen(t.cell[1][CS_F_SANS]), CELL_MAX);
    const char *tail = strstr(t.cell[1][CS_F_SANS], " \xe2\x80\xa6 (+2 more)");
    cr_assert_not_null(tail, "%s", t.cell[1][CS_F_SANS] + 31 * 1024);
    cr_assert_eq(tail - t.cell[1][CS_F_SANS], 31 * 1024 - 1);
    cells_table_free(&t);
    free(out);

    /* a single entry too long for a cell: nothing but the count */
    cs_strlist_free(&r.sans);
    char *huge = malloc(40001);
    memset(huge, 'z', 40000);
    huge[40000] = '\0';
    cs_strlist_add(&r.sans, huge);
    free(huge);
    out = run_writer(&cs_writer_csv, &test_info, 0, &r, 1, &len);
    parse_csv(out, len, &t);
    cr_assert_str_eq(t.cell[1][CS_F_SANS], "\xe2\x80\xa6 (+1 more)");
    cells_table_free(&t);
    free(out);
    cs_result_free(&r);
}

/* A long text cell is cut between characters, never inside a UTF-8
 * sequence, and says how many characters are left out. */
Test(csv, long_text_cut_at_a_character)
{
    static const struct {
        const char *ch; /* repeated */
        size_t units;   /* UTF-16 code units per character */
    } kinds[] = {{"a", 1}, {"\xc3\xa9", 1}, {"\xe6\x97\xa5", 1}, {"\xf0\x9f\x94\x92", 2}};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct cs_result r;
        make_ok(&r);
        size_t clen = strlen(kinds[k].ch), nchars = 40000;
        char *subject = malloc(nchars * clen + 2);
        subject[0] = '=';
        for (size_t i = 0; i < nchars; i++)
            memcpy(subject + 1 + i * clen, kinds[k].ch, clen);
        subject[1 + nchars * clen] = '\0';
        set_str(&r.subject, subject);
        size_t len;
        char *out = run_writer(&cs_writer_csv, &test_info, 0, &r, 1, &len);
        struct cells_table t;
        parse_csv(out, len, &t);
        const char *cell = t.cell[1][CS_F_SUBJECT];
        long units = utf16_units(cell);
        cr_assert_gt(units, 0, "kind %zu: cut inside a character", k);
        cr_assert_leq(units, CELL_MAX, "kind %zu: %ld", k, units);
        cr_assert_eq(strncmp(cell, "'=", 2), 0, "still defused");
        const char *tail = strstr(cell, "\xe2\x80\xa6 (+");
        cr_assert_not_null(tail);
        unsigned long more = 0;
        int end = 0;
        cr_assert_eq(sscanf(tail, "\xe2\x80\xa6 (+%lu more characters)%n", &more, &end), 1);
        cr_assert_eq(tail[end], '\0');
        size_t kept_bytes = (size_t)(tail - cell) - 2; /* without "'=" */
        cr_assert_eq(kept_bytes % clen, 0);
        cr_assert_eq(memcmp(cell + 2, subject + 1, kept_bytes), 0);
        /* "+N" counts characters the way the limit does */
        cr_assert_eq(kept_bytes / clen * kinds[k].units + more, nchars * kinds[k].units, "kind %zu",
                     k);
        cells_table_free(&t);
        free(out);
        free(subject);
        cs_result_free(&r);
    }
}

Test(csv, no_records_is_just_the_header)
{
    size_t len;
    char *out = run_writer(&cs_writer_csv, &test_info, 0, NULL, 0, &len);
    struct cells_table t;
    parse_csv(out, len, &t);
    cr_assert_eq(t.nrow, 1);
    cr_assert_eq(t.ncell[0], CS_FIELD_COUNT);
    cells_table_free(&t);
    free(out);
}
