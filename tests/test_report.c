/* Report writers: every format writes awkward records, and the test parses
 * what was written (CSV with libcsv, JSON with jansson) and compares values.
 * Also the registry, and the ISO 8601 time helpers the documents rely on. */
#include <criterion/criterion.h>

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"

/* ---- fixtures ---------------------------------------------------------- */

#define T_2025_01_01 1735689600 /* 2025-01-01T00:00:00Z */
#define T_2026_03_01 1772323200 /* 2026-03-01T00:00:00Z */
#define DAY 86400

static const struct cs_scan_info test_info = {
    .tool = "certsweep",
    .version = "0.1.0",
    .started_at = T_2026_03_01,
    .now = T_2026_03_01,
    .warn_secs = -1,
    .crit_secs = -1,
    .targets = 0,
};

static void set_str(char **field, const char *s)
{
    free(*field);
    *field = s ? cs_strdup(s) : NULL;
}

/* A healthy record with every field filled, full of characters that need
 * quoting or escaping. */
static void make_ok(struct cs_result *r)
{
    cs_result_init(r);
    set_str(&r->host, "www.example.com");
    r->port = 443;
    set_str(&r->address, "93.184.216.34");
    set_str(&r->sni, "www.example.com");
    r->status = CS_OK;
    set_str(&r->reason, "expires in 60 days");
    r->days_remaining = 60;
    r->not_before = T_2025_01_01;
    r->not_after = T_2026_03_01 + 60 * DAY + 3600;
    set_str(&r->subject, "CN=www.example.com,O=Acme\\, \"Quoted\" Inc.,L=Montr\xc3\xa9"
                         "al,C=CA");
    set_str(&r->issuer, "CN=R3,O=Let's Encrypt,C=US");
    cs_strlist_add(&r->sans, "www.example.com");
    cs_strlist_add(&r->sans, "example.com");
    cs_strlist_add(&r->sans, "\xe6\x97\xa5\xe6\x9c\xac.example"); /* 日本 */
    cs_strlist_add(&r->ocsp_uris, "http://r3.o.lencr.org");
    set_str(&r->serial, "04A1B2C3D4E5F6");
    set_str(&r->sha256, "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08");
    set_str(&r->key, "EC-256");
    set_str(&r->signature, "ecdsa-with-SHA256");
    set_str(&r->tls_version, "TLSv1.3");
    r->chain_not_after = T_2026_03_01 + 60 * DAY;
    set_str(&r->verify, "ok");
    r->hostname_match = 1;
    r->elapsed_ms = 123;
    r->ocsp_stapled = 1;
    set_str(&r->revocation, "revoked");
    set_str(&r->revocation_source, "staple");
    r->revoked_at = T_2026_03_01 - DAY;
    set_str(&r->revocation_reason, "keyCompromise");
    r->revocation_this_update = T_2026_03_01 - 3600;
    r->revocation_next_update = T_2026_03_01 + 7 * DAY;
}

/* An expired certificate whose names carry newlines, CR, control characters,
 * terminal escapes and a spreadsheet formula. */
static void make_hostile(struct cs_result *r)
{
    cs_result_init(r);
    set_str(&r->host, "\xc3\xa9t\xc3\xa9.example"); /* été */
    r->port = 8443;
    set_str(&r->address, "192.0.2.7");
    set_str(&r->sni, "");
    r->status = CS_EXPIRED;
    set_str(&r->reason, "expired 3 days ago");
    r->days_remaining = -3;
    r->not_before = T_2025_01_01;
    r->not_after = T_2026_03_01 - 3 * DAY;
    set_str(&r->subject, "CN=line1\nline2\r\nline3,O=\"q\",OU=a\x01"
                         "b\x1b[31mred\x1b[0m");
    set_str(&r->issuer, "CN=\x1b]0;pwned\x07\xc2\x9b"
                        "31m Evil \xe6\x97\xa5\xe6\x9c\xac CA,O=x");
    cs_strlist_add(&r->sans, "=HYPERLINK(\"http://evil\")");
    /* ocsp_uris: empty list; crl_uris: three entries */
    cs_strlist_add(&r->crl_uris, "http://a/1.crl");
    cs_strlist_add(&r->crl_uris, "http://b/2.crl");
    cs_strlist_add(&r->crl_uris, "http://c/3.crl");
    set_str(&r->serial, "");
    set_str(&r->sha256, "");
    set_str(&r->key, "RSA-2048");
    set_str(&r->signature, "sha256WithRSAEncryption");
    set_str(&r->tls_version, "TLSv1.2");
    r->chain_not_after = T_2026_03_01 - 3 * DAY;
    set_str(&r->verify, "certificate has expired");
    r->hostname_match = 0;
    r->elapsed_ms = 0;
}

/* An ERROR without a certificate: nulls everywhere. */
static void make_error(struct cs_result *r)
{
    cs_result_init(r);
    set_str(&r->host, "2001:db8::1");
    r->port = 443;
    set_str(&r->address, "2001:db8::1");
    r->status = CS_ERROR;
    set_str(&r->reason, "connect: connection refused");
    set_str(&r->error, "connect: connection refused");
    r->elapsed_ms = 5;
}

#define NREC 3

static void make_all(struct cs_result recs[NREC])
{
    make_ok(&recs[0]);
    make_hostile(&recs[1]);
    make_error(&recs[2]);
}

static void free_all(struct cs_result *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cs_result_free(&recs[i]);
}

static struct cs_summary summarize(const struct cs_result *recs, size_t n)
{
    struct cs_summary s = {.finished_at = T_2026_03_01 + 90, .targets = n, .complete = true};
    for (size_t i = 0; i < n; i++)
        s.count[recs[i].status]++;
    return s;
}

/* Runs a writer over recs into memory; returns the bytes written.  flags:
 * CS_WRITER_COLOR, CS_WRITER_CSV_RAW. */
static char *run_writer(const struct cs_writer_ops *ops, const struct cs_scan_info *info,
                        unsigned flags, const struct cs_result *recs, size_t n, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    cr_assert_not_null(f);
    struct cs_writer w;
    struct cs_summary s = summarize(recs, n);
    cr_assert_eq(cs_writer_open(&w, ops, f, info, flags), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(cs_writer_record(&w, &recs[i]), 0);
    cr_assert_eq(cs_writer_close(&w, &s), 0);
    cr_assert_eq(fclose(f), 0);
    if (len)
        *len = size;
    return buf;
}

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
        {CS_F_HOST, "\tcmd.example"}, {CS_F_SUBJECT, "=1+1"},   {CS_F_ISSUER, "@SUM(A1:A9)"},
        {CS_F_REASON, "-2+3"},        {CS_F_VERIFY, "\rok"},    {CS_F_ERROR, "+cmd|' /C calc'!A0"},
        {CS_F_SANS, "=HYPERLINK(\"http://evil\")"},              {CS_F_OCSP_URIS, "-http://x =second"},
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
        cr_assert_eq(kept_bytes / clen * kinds[k].units + more, nchars * kinds[k].units,
                     "kind %zu", k);
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

/* ---- JSON -------------------------------------------------------------- */

/* The keys of o, in document order, must be exactly names[0..n). */
static void assert_keys(json_t *o, const char *const *names, size_t n)
{
    cr_assert(json_is_object(o));
    cr_assert_eq(json_object_size(o), n);
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        (void)v;
        cr_assert_lt(i, n);
        cr_assert_str_eq(key, names[i], "key %zu: %s, want %s", i, key, names[i]);
        i++;
    }
    cr_assert_eq(i, n);
}

/* Compares a parsed record with the struct it came from, field by field. */
static void assert_record(json_t *o, const struct cs_result *r)
{
    assert_keys(o, cs_field_names, CS_FIELD_COUNT);
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        const char *name = cs_field_names[f];
        json_t *j = json_object_get(o, name);
        struct cs_value v;
        cs_result_get(r, (enum cs_field)f, &v);
        if (v.kind == CS_FK_LIST) {
            cr_assert(json_is_array(j), "%s", name);
            cr_assert_eq(json_array_size(j), v.list->n, "%s", name);
            for (size_t i = 0; i < v.list->n; i++)
                cr_assert_str_eq(json_string_value(json_array_get(j, i)), v.list->v[i]);
            continue;
        }
        if (v.null) {
            cr_assert(json_is_null(j), "%s should be null", name);
            continue;
        }
        switch (v.kind) {
        case CS_FK_INT:
            cr_assert(json_is_integer(j), "%s", name);
            cr_assert_eq(json_integer_value(j), v.i, "%s", name);
            break;
        case CS_FK_BOOL:
            cr_assert(json_is_boolean(j), "%s", name);
            cr_assert_eq(json_is_true(j), v.i != 0, "%s", name);
            break;
        default:
            cr_assert(json_is_string(j), "%s", name);
            cr_assert_str_eq(json_string_value(j), v.s, "%s", name);
            break;
        }
    }
}

TestSuite(json);

Test(json, document_round_trip)
{
    struct cs_result recs[NREC];
    make_all(recs);
    size_t len;
    char *out = run_writer(&cs_writer_json, &test_info, 0, recs, NREC, &len);
    json_error_t err;
    json_t *doc = json_loadb(out, len, 0, &err);
    cr_assert_not_null(doc, "line %d: %s", err.line, err.text);

    static const char *const top[] = {"scan", "summary", "complete", "results"};
    assert_keys(doc, top, 4);

    json_t *scan = json_object_get(doc, "scan");
    static const char *const scan_keys[] = {"tool",       "version",    "started_at", "finished_at",
                                            "now",        "thresholds", "revocation", "targets"};
    assert_keys(scan, scan_keys, 8);
    json_t *rev = json_object_get(scan, "revocation");
    static const char *const rev_keys[] = {"staple",   "ocsp",         "crl",
                                           "required", "ocsp_fetches", "crl_fetches"};
    assert_keys(rev, rev_keys, 6);
    cr_assert(json_is_true(json_object_get(rev, "staple")));
    cr_assert(json_is_false(json_object_get(rev, "ocsp")));
    cr_assert(json_is_false(json_object_get(rev, "crl")));
    cr_assert(json_is_false(json_object_get(rev, "required")));
    cr_assert_eq(json_integer_value(json_object_get(rev, "crl_fetches")), 0);
    cr_assert_str_eq(json_string_value(json_object_get(scan, "tool")), "certsweep");
    cr_assert_str_eq(json_string_value(json_object_get(scan, "version")), "0.1.0");
    cr_assert_str_eq(json_string_value(json_object_get(scan, "started_at")),
                     "2026-03-01T00:00:00Z");
    cr_assert_str_eq(json_string_value(json_object_get(scan, "finished_at")),
                     "2026-03-01T00:01:30Z");
    cr_assert_str_eq(json_string_value(json_object_get(scan, "now")), "2026-03-01T00:00:00Z");
    cr_assert_eq(json_integer_value(json_object_get(scan, "targets")), NREC);
    json_t *th = json_object_get(scan, "thresholds");
    static const char *const th_keys[] = {"warn_days", "crit_days", "mode"};
    assert_keys(th, th_keys, 3);
    cr_assert(json_is_null(json_object_get(th, "warn_days")));
    cr_assert(json_is_null(json_object_get(th, "crit_days")));
    cr_assert_str_eq(json_string_value(json_object_get(th, "mode")), "lifetime-aware");

    json_t *summary = json_object_get(doc, "summary");
    static const char *const sum_keys[] = {"OK", "WARNING", "CRITICAL", "EXPIRED", "ERROR"};
    assert_keys(summary, sum_keys, 5);
    cr_assert_eq(json_integer_value(json_object_get(summary, "OK")), 1);
    cr_assert_eq(json_integer_value(json_object_get(summary, "WARNING")), 0);
    cr_assert_eq(json_integer_value(json_object_get(summary, "CRITICAL")), 0);
    cr_assert_eq(json_integer_value(json_object_get(summary, "EXPIRED")), 1);
    cr_assert_eq(json_integer_value(json_object_get(summary, "ERROR")), 1);
    cr_assert(json_is_true(json_object_get(doc, "complete")));

    json_t *results = json_object_get(doc, "results");
    cr_assert(json_is_array(results));
    cr_assert_eq(json_array_size(results), NREC);
    for (size_t i = 0; i < NREC; i++)
        assert_record(json_array_get(results, i), &recs[i]);

    /* spelled out: nulls, booleans, negative days, exotic strings */
    json_t *err_rec = json_array_get(results, 2);
    cr_assert(json_is_null(json_object_get(err_rec, "not_before")));
    cr_assert(json_is_null(json_object_get(err_rec, "days_remaining")));
    cr_assert(json_is_null(json_object_get(err_rec, "hostname_match")));
    cr_assert(json_is_null(json_object_get(err_rec, "subject")));
    cr_assert_eq(json_array_size(json_object_get(err_rec, "sans")), 0);
    json_t *hostile = json_array_get(results, 1);
    cr_assert_eq(json_integer_value(json_object_get(hostile, "days_remaining")), -3);
    cr_assert(json_is_false(json_object_get(hostile, "hostname_match")));
    cr_assert_str_eq(json_string_value(json_object_get(hostile, "issuer")),
                     "CN=\x1b]0;pwned\x07\xc2\x9b"
                     "31m Evil \xe6\x97\xa5\xe6\x9c\xac CA,O=x");
    cr_assert(json_is_true(json_object_get(json_array_get(results, 0), "hostname_match")));

    /* the text is exactly what jansson would write for the whole document */
    char *again = json_dumps(doc, JSON_INDENT(2));
    cr_assert_not_null(again);
    cr_assert_eq(strlen(again) + 1, len);
    cr_assert_eq(strncmp(out, again, strlen(again)), 0, "layout differs:\n%s\n---\n%s", out, again);
    cr_assert_eq(out[len - 1], '\n');
    /* control characters are escaped, never raw */
    for (size_t i = 0; i < len; i++)
        cr_assert(out[i] == '\n' || (unsigned char)out[i] >= 0x20, "raw control 0x%02x at %zu",
                  out[i], i);

    free(again);
    json_decref(doc);
    free(out);
    free_all(recs, NREC);
}

Test(json, fixed_thresholds_and_empty_results)
{
    struct cs_scan_info info = test_info;
    info.warn_secs = 30 * DAY;
    info.crit_secs = 7 * DAY;
    info.targets = 9;
    size_t len;
    char *out = run_writer(&cs_writer_json, &info, 0, NULL, 0, &len);
    json_error_t err;
    json_t *doc = json_loadb(out, len, 0, &err);
    cr_assert_not_null(doc, "%s", err.text);
    json_t *th = json_object_get(json_object_get(doc, "scan"), "thresholds");
    cr_assert_eq(json_integer_value(json_object_get(th, "warn_days")), 30);
    cr_assert_eq(json_integer_value(json_object_get(th, "crit_days")), 7);
    cr_assert_str_eq(json_string_value(json_object_get(th, "mode")), "fixed");
    /* summary.targets is 0 here: the scan info's count is used */
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "scan"), "targets")), 9);
    json_t *results = json_object_get(doc, "results");
    cr_assert(json_is_array(results));
    cr_assert_eq(json_array_size(results), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "summary"), "OK")), 0);
    char *again = json_dumps(doc, JSON_INDENT(2));
    cr_assert_eq(strncmp(out, again, strlen(again)), 0);
    free(again);
    json_decref(doc);
    free(out);
}

Test(json, invalid_utf8_is_repaired_not_dropped)
{
    struct cs_result r;
    make_ok(&r);
    set_str(&r.subject, "CN=bad\xff\xfe utf8 \xc3");
    set_str(&r.issuer, "CN=overlong \xc0\xaf surrogate \xed\xa0\x80 ok \xc3\xa9");
    cs_strlist_add(&r.sans, "x\x80y");
    size_t len;
    char *out = run_writer(&cs_writer_json, &test_info, 0, &r, 1, &len);
    json_error_t err;
    json_t *doc = json_loadb(out, len, 0, &err);
    cr_assert_not_null(doc, "%s", err.text);
    json_t *rec = json_array_get(json_object_get(doc, "results"), 0);
    cr_assert_not_null(rec);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "subject")),
                     "CN=bad\xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd");
    cr_assert_str_eq(json_string_value(json_object_get(rec, "issuer")),
                     "CN=overlong \xef\xbf\xbd\xef\xbf\xbd surrogate "
                     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok \xc3\xa9");
    json_t *sans = json_object_get(rec, "sans");
    cr_assert_eq(json_array_size(sans), 4);
    cr_assert_str_eq(json_string_value(json_array_get(sans, 3)), "x\xef\xbf\xbdy");
    cr_assert_str_eq(json_string_value(json_object_get(rec, "host")), "www.example.com");
    json_decref(doc);
    free(out);
    cs_result_free(&r);
}

/* ---- JSONL ------------------------------------------------------------- */

TestSuite(jsonl);

Test(jsonl, one_object_per_line)
{
    struct cs_result recs[NREC];
    make_all(recs);
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    struct cs_writer w;
    struct cs_summary s = summarize(recs, NREC);
    cr_assert_eq(cs_writer_open(&w, &cs_writer_jsonl, f, &test_info, 1), 0);
    for (size_t i = 0; i < NREC; i++) {
        cr_assert_eq(cs_writer_record(&w, &recs[i]), 0);
        /* written and flushed as each record arrives */
        long pos = ftell(f);
        cr_assert_gt(pos, 0);
    }
    cr_assert_eq(cs_writer_close(&w, &s), 0);
    rewind(f);

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t count = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        cr_assert_lt(count, NREC);
        cr_assert_eq(line[n - 1], '\n', "line %zu is not terminated", count);
        cr_assert_eq(memchr(line, '\n', (size_t)n - 1), NULL);
        json_error_t err;
        json_t *o = json_loadb(line, (size_t)n, 0, &err);
        cr_assert_not_null(o, "line %zu: %s", count, err.text);
        assert_record(o, &recs[count]);
        /* compact: no blank after separators outside strings at the start */
        cr_assert_eq(strncmp(line, "{\"host\":", 8), 0);
        json_decref(o);
        count++;
    }
    cr_assert_eq(count, NREC);
    free(line);
    fclose(f);
    free_all(recs, NREC);
}

Test(jsonl, nothing_for_no_records)
{
    size_t len;
    char *out = run_writer(&cs_writer_jsonl, &test_info, 0, NULL, 0, &len);
    cr_assert_eq(len, 0);
    free(out);
}

/* ---- text -------------------------------------------------------------- */

/* Terminal columns of the first `bytes` bytes of s (test inputs hold only
 * ASCII, 2-byte Latin and 3-byte CJK characters). */
static size_t visible_cols(const char *s, size_t bytes)
{
    size_t cols = 0;
    for (size_t i = 0; i < bytes;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            cols++;
            i++;
        } else if (c < 0xE0) {
            cols++;
            i += 2;
        } else {
            cols += 2;
            i += 3;
        }
    }
    return cols;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static const char *nth_line(const char *s, size_t n)
{
    while (n-- > 0 && s) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    return s;
}

static void make_status(struct cs_result *r, const char *host, enum cs_status st, int64_t days)
{
    make_ok(r);
    set_str(&r->host, host);
    r->status = st;
    r->days_remaining = days;
    r->not_after = days == CS_INT_NONE ? CS_INT_NONE : T_2026_03_01 + days * DAY;
    if (days == CS_INT_NONE) {
        set_str(&r->issuer, NULL);
        set_str(&r->reason, "");
        set_str(&r->error, "timeout during handshake");
    }
}

TestSuite(text);

Test(text, most_urgent_first_and_summary)
{
    struct cs_result recs[7];
    make_status(&recs[0], "ok.example", CS_OK, 80);
    make_status(&recs[1], "warn10.example", CS_WARNING, 10);
    make_status(&recs[2], "err.example", CS_ERROR, CS_INT_NONE);
    make_status(&recs[3], "warn5.example", CS_WARNING, 5);
    make_status(&recs[4], "crit.example", CS_CRITICAL, 2);
    make_status(&recs[5], "exp.example", CS_EXPIRED, -1);
    make_status(&recs[6], "aaa-warn10.example", CS_WARNING, 10);
    set_str(&recs[0].reason, ""); /* an empty last column leaves no padding behind */
    char *out = run_writer(&cs_writer_text, &test_info, 0, recs, 7, NULL);

    const char *order[] = {"exp.example",    "crit.example", "warn5.example", "aaa-warn10.example",
                           "warn10.example", "err.example",  "ok.example"};
    cr_assert_eq(count_lines(out), 1 + 7 + 1, "%s", out);
    cr_assert_eq(strncmp(out, "STATUS", 6), 0);
    for (size_t i = 0; i < 7; i++) {
        const char *line = nth_line(out, 1 + i);
        char *nl = strchr(line, '\n');
        char *row = cs_strndup(line, (size_t)(nl - line));
        cr_assert_not_null(strstr(row, order[i]), "row %zu is %s", i, row);
        free(row);
    }
    cr_assert_not_null(strstr(out, "\nEXPIRED   exp.example:443 "));
    cr_assert_not_null(strstr(out, "timeout during handshake")); /* error stands in for reason */
    cr_assert_not_null(strstr(out, "  R3  "));                   /* issuer CN, not the whole DN */
    cr_assert_null(strstr(out, "Let's Encrypt"));
    cr_assert_not_null(strstr(out, "  2026-05-20  ")); /* NOT AFTER, date only */
    cr_assert_null(strstr(out, " \n"), "trailing blanks in:\n%s", out);
    const char *last = nth_line(out, 8);
    cr_assert_str_eq(last, "7 endpoints: 1 OK, 3 WARNING, 1 CRITICAL, 1 EXPIRED, 1 ERROR\n");
    free(out);
    free_all(recs, 7);
}

Test(text, revocation_column_only_when_asked)
{
    struct cs_result recs[2];
    make_status(&recs[0], "good.example", CS_OK, 80);
    set_str(&recs[0].revocation, "good");
    make_status(&recs[1], "slow.example", CS_OK, 70);
    set_str(&recs[1].revocation, "error: crl: timed out");
    char *out = run_writer(&cs_writer_text, &test_info, 0, recs, 2, NULL);
    cr_assert_null(strstr(out, "REVOCATION"), "%s", out);
    cr_assert_null(strstr(out, "timed out"), "%s", out);
    free(out);

    struct cs_scan_info info = test_info;
    info.crl = true;
    out = run_writer(&cs_writer_text, &info, 0, recs, 2, NULL);
    cr_assert_eq(strncmp(out, "STATUS", 6), 0);
    const char *head = strstr(out, "REVOCATION");
    cr_assert_not_null(head, "%s", out);
    size_t col = (size_t)(head - out);
    /* fewer days left first */
    const char *row1 = nth_line(out, 1), *row2 = nth_line(out, 2);
    cr_assert_eq(strncmp(row1 + col, "error: crl: timed out  ", 23), 0, "%s", out);
    cr_assert_eq(strncmp(row2 + col, "good  ", 6), 0, "%s", out);
    free(out);
    free_all(recs, 2);
}

Test(text, zero_records_print_only_the_summary)
{
    char *out = run_writer(&cs_writer_text, &test_info, 1, NULL, 0, NULL);
    cr_assert_str_eq(out, "0 endpoints: 0 OK, 0 WARNING, 0 CRITICAL, 0 EXPIRED, 0 ERROR\n");
    free(out);
}

Test(text, one_endpoint_is_singular)
{
    struct cs_result r;
    make_ok(&r);
    char *out = run_writer(&cs_writer_text, &test_info, 0, &r, 1, NULL);
    cr_assert_str_eq(nth_line(out, 2),
                     "1 endpoint: 1 OK, 0 WARNING, 0 CRITICAL, 0 EXPIRED, 0 ERROR\n");
    free(out);
    cs_result_free(&r);
}

Test(text, hostile_values_cannot_reach_the_terminal)
{
    struct cs_result recs[NREC];
    make_all(recs);
    set_str(&recs[0].reason, "reason with \x1b[2J clear and \r return and \xc2\x9b"
                             "CSI");
    set_str(&recs[2].host, "evil\x1b]8;;http://x\x07link");
    set_str(&recs[1].error, "e\x7f");
    char *out = run_writer(&cs_writer_text, &test_info, 0, recs, NREC, NULL);
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
        cr_assert(*p == '\n' || (*p >= 0x20 && *p != 0x7f), "raw control byte 0x%02x in:\n%s", *p,
                  out);
        cr_assert(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f), "raw C1 control in:\n%s", out);
    }
    cr_assert_not_null(strstr(out, "reason with \\x1B[2J clear and \\x0D return and \\u009BCSI"));
    cr_assert_not_null(strstr(out, "evil\\x1B]8;;http://x\\x07link:443"));
    /* the hostile issuer's CN, escaped */
    cr_assert_not_null(strstr(out, "  \\x1B]0;pwned\\x07\\u009B31m Evi...  "), "%s", out);
    free(out);
    free_all(recs, NREC);
}

Test(text, colour_uses_only_our_sgr_codes)
{
    struct cs_result recs[NREC + 2];
    make_all(recs);
    make_status(&recs[3], "warn.example", CS_WARNING, 4);
    make_status(&recs[4], "crit.example", CS_CRITICAL, 1);
    char *out = run_writer(&cs_writer_text, &test_info, 1, recs, NREC + 2, NULL);
    static const char *const ours[] = {"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[0m"};
    size_t n_esc = 0;
    for (size_t at = 0; out[at] != '\0'; at++) {
        if (out[at] != '\x1b')
            continue;
        bool known = false;
        for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
            known = known || strncmp(out + at, ours[i], strlen(ours[i])) == 0;
        cr_assert(known, "unknown escape at offset %zu", at);
        n_esc++;
    }
    cr_assert_eq(n_esc, 2 * (NREC + 2)); /* one colour and one reset per row */
    cr_assert_not_null(strstr(out, "\x1b[31mEXPIRED\x1b[0m   "));
    cr_assert_not_null(strstr(out, "\x1b[31mCRITICAL\x1b[0m  "));
    cr_assert_not_null(strstr(out, "\x1b[33mWARNING\x1b[0m   "));
    cr_assert_not_null(strstr(out, "\x1b[35mERROR\x1b[0m     "));
    cr_assert_not_null(strstr(out, "\x1b[32mOK\x1b[0m        "));
    cr_assert_null(strstr(out, "\x1b]"));
    free(out);
    free_all(recs, NREC + 2);
}

Test(text, columns_align_by_visible_width)
{
    struct cs_result recs[NREC];
    make_all(recs);
    char *out = run_writer(&cs_writer_text, &test_info, 0, recs, NREC, NULL);
    /* "NOT AFTER" and every row's date start in the same terminal column */
    const char *hdr_at = strstr(out, "NOT AFTER");
    cr_assert_not_null(hdr_at);
    size_t col = visible_cols(out, (size_t)(hdr_at - out));
    const char *dates[] = {"2026-04-30", "2026-02-26", "-"};
    for (size_t i = 0; i < NREC; i++) {
        const char *line = nth_line(out, 1 + i);
        /* rows are sorted: EXPIRED, ERROR, OK */
        size_t which = i == 0 ? 1 : i == 1 ? 2 : 0;
        const char *at = line;
        size_t bytes = 0, cols = 0;
        while (cols < col) {
            unsigned char c = (unsigned char)at[bytes];
            size_t step = c < 0x80 ? 1 : c < 0xE0 ? 2 : 3;
            cols = visible_cols(at, bytes + step);
            bytes += step;
        }
        cr_assert_eq(strncmp(at + bytes, dates[which], strlen(dates[which])), 0, "row %zu: %.40s",
                     i, at + bytes);
    }
    cr_assert_not_null(strstr(out, "[2001:db8::1]:443"));
    cr_assert_not_null(strstr(out, "\xc3\xa9t\xc3\xa9.example:8443"));
    free(out);
    free_all(recs, NREC);
}

Test(text, only_ipv6_literals_are_bracketed)
{
    struct cs_result recs[4];
    make_status(&recs[0], "fe80::1%eth0", CS_OK, 10);
    make_status(&recs[1], "::ffff:192.0.2.1", CS_OK, 11);
    make_status(&recs[2], "bad:line here", CS_ERROR, CS_INT_NONE);
    recs[2].port = CS_INT_NONE;
    make_status(&recs[3], "192.0.2.9", CS_OK, 12);
    char *out = run_writer(&cs_writer_text, &test_info, 0, recs, 4, NULL);
    cr_assert_not_null(strstr(out, "  [fe80::1%eth0]:443  "), "%s", out);
    cr_assert_not_null(strstr(out, "  [::ffff:192.0.2.1]:443  "), "%s", out);
    cr_assert_not_null(strstr(out, "  bad:line here  "), "%s", out);
    cr_assert_not_null(strstr(out, "  192.0.2.9:443  "), "%s", out);
    free(out);
    free_all(recs, 4);
}

Test(text, placeholder_for_absent_values)
{
    struct cs_result recs[1];
    make_error(&recs[0]);
    char *out = run_writer(&cs_writer_text, &test_info, 0, recs, 1, NULL);
    cr_assert_not_null(strstr(out, "\nERROR   [2001:db8::1]:443     -  -          -       connect: "
                                   "connection refused\n"),
                       "%s", out);
    free(out);
    free_all(recs, 1);
}

Test(text, long_values_are_cut)
{
    struct cs_result r;
    make_ok(&r);
    char long_reason[201], long_host[101];
    memset(long_reason, 'r', 200);
    long_reason[200] = '\0';
    memset(long_host, 'h', 100);
    long_host[100] = '\0';
    set_str(&r.reason, long_reason);
    set_str(&r.host, long_host);
    set_str(&r.issuer, "O=No Common Name Org,C=US");
    char *out = run_writer(&cs_writer_text, &test_info, 0, &r, 1, NULL);
    const char *row = nth_line(out, 1);
    char want_host[64], want_reason[64];
    snprintf(want_host, sizeof(want_host), "%.45s...:443  ", long_host);
    snprintf(want_reason, sizeof(want_reason), "  %.57s...\n", long_reason);
    cr_assert_not_null(strstr(row, want_host), "%s", row);
    cr_assert_not_null(strstr(row, want_reason), "%s", row);
    cr_assert_not_null(strstr(row, "O=No Common Name Org,C=US"));
    free(out);
    cs_result_free(&r);
}

Test(text, issuer_cn_unescaped)
{
    struct cs_result r;
    make_ok(&r);
    set_str(&r.issuer, "C=US,O=Acme,CN=Acme\\, Inc. \\22Root\\22 CA+OU=x");
    char *out = run_writer(&cs_writer_text, &test_info, 0, &r, 1, NULL);
    cr_assert_not_null(strstr(out, "  Acme, Inc. \"Root\" CA  "), "%s", out);
    free(out);
    cs_result_free(&r);
}

/* ---- registry ---------------------------------------------------------- */

TestSuite(reports);

Test(reports, lookup)
{
    cr_assert_eq(cs_writer_by_name("csv"), &cs_writer_csv);
    cr_assert_eq(cs_writer_by_name("json"), &cs_writer_json);
    cr_assert_eq(cs_writer_by_name("jsonl"), &cs_writer_jsonl);
    cr_assert_eq(cs_writer_by_name("text"), &cs_writer_text);
    cr_assert_null(cs_writer_by_name("xml"));
    cr_assert_null(cs_writer_by_name(""));
    cr_assert_eq(cs_writer_by_filename("out/report.csv"), &cs_writer_csv);
    cr_assert_eq(cs_writer_by_filename("REPORT.CSV"), &cs_writer_csv);
    cr_assert_eq(cs_writer_by_filename("a.b/report.json"), &cs_writer_json);
    cr_assert_eq(cs_writer_by_filename("report.jsonl"), &cs_writer_jsonl);
    cr_assert_eq(cs_writer_by_filename("/tmp/report.txt"), &cs_writer_text);
    cr_assert_null(cs_writer_by_filename("report"));
    cr_assert_null(cs_writer_by_filename("reports.csv/out"));
    cr_assert_null(cs_writer_by_filename(".csv"));
    cr_assert_null(cs_writer_by_filename("report.csv.gz"));
}

Test(reports, list)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    cs_writer_list(f);
    fclose(f);
    cr_assert_str_eq(buf, "text (.txt)\ncsv (.csv)\njson (.json)\njsonl (.jsonl)\n");
    free(buf);
}

Test(reports, wrappers_refuse_misuse)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    struct cs_writer w;
    struct cs_summary s = {0};
    cr_assert_eq(cs_writer_open(&w, NULL, f, &test_info, 0), -EINVAL);
    cr_assert_eq(cs_writer_open(&w, &cs_writer_json, f, &test_info, 0), 0);
    cr_assert_eq(w.out, f);
    cr_assert_eq(w.info, &test_info);
    cr_assert_eq(cs_writer_close(&w, &s), 0);
    cr_assert_eq(cs_writer_close(&w, &s), -EINVAL);
    struct cs_result r;
    make_ok(&r);
    cr_assert_eq(cs_writer_record(&w, &r), -EINVAL);
    cs_result_free(&r);
    fclose(f);
    free(buf);
}

/* ---- time -------------------------------------------------------------- */

TestSuite(time);

Test(time, round_trips)
{
    static const char *const ok[] = {
        "1970-01-01T00:00:00Z", "1950-01-01T00:00:00Z", "2049-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z", "2024-02-29T12:34:56Z", "2000-02-29T00:00:00Z",
        "0000-01-01T00:00:00Z", "2026-03-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t t = 0;
        char buf[24];
        cr_assert_eq(cs_parse_time(ok[i], &t), 0, "%s", ok[i]);
        cs_format_time(t, buf);
        cr_assert_str_eq(buf, ok[i]);
    }
    int64_t t;
    cr_assert_eq(cs_parse_time("1970-01-01T00:00:00Z", &t), 0);
    cr_assert_eq(t, 0);
    cr_assert_eq(cs_parse_time("1950-01-01T00:00:00Z", &t), 0);
    cr_assert_eq(t, -631152000);
    cr_assert_eq(cs_parse_time("2049-12-31T23:59:59Z", &t), 0);
    cr_assert_eq(t, 2524607999);
    cr_assert_eq(cs_parse_time("2026-03-01T00:00:00Z", &t), 0);
    cr_assert_eq(t, T_2026_03_01);
    cr_assert_eq(cs_parse_time("2026-03-01", &t), 0);
    cr_assert_eq(t, T_2026_03_01);
    cr_assert_eq(cs_parse_time("2026-03-01T00:00:01", &t), 0);
    cr_assert_eq(t, T_2026_03_01 + 1);
    cr_assert_eq(cs_parse_time("2024-02-29", &t), 0);
    cr_assert_eq(cs_parse_time("2024-03-01", &t), 0);
    int64_t leap_day;
    cr_assert_eq(cs_parse_time("2024-02-29", &leap_day), 0);
    cr_assert_eq(t - leap_day, DAY);
}

Test(time, clamps_out_of_range)
{
    char buf[24];
    cs_format_time(INT64_MAX / 2, buf);
    cr_assert_str_eq(buf, "9999-12-31T23:59:59Z");
    cs_format_time(-INT64_MAX / 2, buf);
    cr_assert_str_eq(buf, "0000-01-01T00:00:00Z");
    cs_format_time(-1, buf);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59Z");
}

Test(time, rejects_invalid)
{
    static const char *const bad[] = {
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-01-32",
        "1900-02-29",
        "garbage",
        "",
        "2026-1-01",
        "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z",
        "2026-01-01T00:00Z",
        "2026-01-01T00:00:00+01:00",
        "2026-01-01Tx",
        "2026-01-01T00:00:00ZZ",
        "2026-01-01x",
        " 026-01-01",
        "+026-01-01",
        "2026-01- 1",
        "2026-01-01T-1:00:00Z",
        "2026-01-01T00:-0:00Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t = 42;
        cr_assert_eq(cs_parse_time(bad[i], &t), -1, "accepted \"%s\"", bad[i]);
        cr_assert_eq(t, 42, "%s changed the output", bad[i]);
    }
}
