/* CSV reports opened in a real spreadsheet: certsweep scans endpoints of the
 * test fleet (a non-ASCII host and subject, an expired leaf) through a
 * targets file whose labels start with = + - @, LibreOffice (headless, a
 * private profile) converts the CSV to flat ODF (FODS), and expat reads each
 * cell's type, value and text back.  Defused cells are text that equals what
 * certsweep wrote (no formula ran), non-ASCII names arrive byte for byte,
 * port, days_remaining and elapsed_ms are numbers with the written value,
 * and with --csv-excel not_before/not_after are date cells holding the
 * certificate's times (and certsweep merge reads them back); the plain CSV
 * keeps them as ISO 8601 text.  --csv-raw
 * shows the harness can see a formula when there is one. */
#include <criterion/criterion.h>

#include <expat.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/fleet.h"
#include "tests/support/pki.h"
#include "tests/support/reports.h"
#include "tests/support/runner.h"
#include "scanner/util.h"

#define SOFFICE_TIMEOUT_S 240 /* a cold profile takes seconds; a hung one never ends */
#define SHEET_MAX_ROWS 64
#define SHEET_MAX_COLS 128
#define SHEET_TEXT_MAX (256 * 1024) /* a cell's text: 32,767 characters fit */
#define SHEET_FILE_MAX (64u << 20)

/* the filter options: comma-separated, '"'-quoted, UTF-8 (76), from line 1,
   every column "Standard" (numbers and dates detected) */
#define CSV_FILTER "CSV:44,34,76,1"

static const char *const SUBJECT_O = "B\xC3\xBC"
                                     "cherei \xC3\x9Cn\xC3\xAF"
                                     "c\xC3\xB6"
                                     "d\xC3\xA9 "
                                     "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";
static const char *const HOST_U = "b\xC3\xBC"
                                  "cher.sheets.test"; /* bücher */
static const char *const SITE = "Z\xC3\xBCrich";

/* label values a spreadsheet would run as formulas */
static const char *const FORMULAS[] = {"=1+1", "+1+1", "-2+3", "@SUM(1)"};
#define N_FORMULAS (sizeof(FORMULAS) / sizeof(FORMULAS[0]))
/* host cells that would be formulas: a host name that starts with '-'
   (scanned: its sni cell too), and bad targets lines, whose host cell is
   the line */
static const char *const DASH_HOST = "-cmd.sheets.test";
static const char *const BAD_LINES[] = {"=2+2", "@SUM(2)", "+HOST"};
#define N_BAD (sizeof(BAD_LINES) / sizeof(BAD_LINES[0]))

enum { E_UNICODE, E_EXPIRED, N_E };

static struct pki_cert root, inter, leafs[N_E];
static struct fleet *fleet;
static char *dir;
static pid_t soffice_pgid = -1;

/* ---- the fleet ---- */

static void issue_leaf(size_t e, int64_t now)
{
    static const char *const sub_unicode[] = {"CN", "xn--bcher-kva.sheets.test", "O", NULL, NULL};
    static const char *const sans_unicode[] = {"DNS:xn--bcher-kva.sheets.test", NULL};
    static const char *const sub_expired[] = {"CN", "expired.sheets.test", NULL};
    static const char *const sans_expired[] = {"DNS:expired.sheets.test", NULL};
    const char *sub[5];
    memcpy(sub, sub_unicode, sizeof(sub));
    sub[3] = SUBJECT_O;
    struct pki_spec spec = {
        .subject = e == E_UNICODE ? sub : sub_expired,
        .sans = e == E_UNICODE ? sans_unicode : sans_expired,
        /* not on a midnight, so a date cell must carry the time too */
        .not_before = now - 40 * 86400 - 3723,
        .not_after = e == E_UNICODE ? now + 200 * 86400 + 4567 : now - 3 * 86400 - 1234,
        .key = PKI_EC256,
    };
    cr_assert_eq(pki_issue(&leafs[e], &spec, &inter), 0, "cannot issue leaf %zu", e);
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    dir = temp_dir();
    cr_assert_not_null(dir);
    int64_t now = time(NULL);
    cr_assert_eq(
        pki_root_and_intermediate(&root, &inter, "Sheets Root", "Sheets Intermediate", now), 0);
    for (size_t e = 0; e < N_E; e++)
        issue_leaf(e, now);
    struct fleet_custom custom[N_E];
    for (size_t e = 0; e < N_E; e++)
        custom[e] = (struct fleet_custom){.leaf = &leafs[e], .chain = &inter.x509, .chain_len = 1};
    fleet = fleet_start(&(struct fleet_options){.custom = custom, .n_custom = N_E});
    cr_assert_not_null(fleet, "the test fleet did not start");
    cr_assert_eq(pki_write_pem(dir_path(dir, "ca.pem"), &root.x509, 1), 0);
}

static void teardown(void)
{
    if (soffice_pgid > 0) { /* a conversion that outlived its test */
        kill(-soffice_pgid, SIGKILL);
        while (waitpid(-soffice_pgid, NULL, 0) > 0)
            ;
        soffice_pgid = -1;
    }
    fleet_stop(fleet);
    fleet = NULL;
    for (size_t e = 0; e < N_E; e++)
        pki_cert_free(&leafs[e]);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    if (dir != NULL)
        remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(spreadsheet, .init = setup, .fini = teardown, .timeout = 600);

/* ---- certsweep ---- */

/* Scans both endpoints through a labelled targets file into report.csv (and
   report.json), with extra (NULL-terminated) options; returns the CSV text. */
static char *scan_csv(const char *const *extra, size_t *len)
{
    char targets[1024];
    snprintf(targets, sizeof(targets),
             "%s:%u owner=\"%s\" env=\"%s\" site=%s\n"
             "expired.sheets.test:%u owner=\"%s\" env=\"%s\" site=plain\n"
             "%s:%u\n%s\n%s\n%s\n",
             HOST_U, fleet_custom_port(fleet, E_UNICODE, 0), FORMULAS[0], FORMULAS[1], SITE,
             fleet_custom_port(fleet, E_EXPIRED, 0), FORMULAS[2], FORMULAS[3], DASH_HOST,
             fleet_custom_port(fleet, E_UNICODE, 0), BAD_LINES[0], BAD_LINES[1], BAD_LINES[2]);
    cr_assert_eq(spit(dir_path(dir, "targets.txt"), targets), 0);
    const char *args[24];
    size_t k = 0;
    const char *fixed[] = {
        "--ca-file", dir_path(dir, "ca.pem"),      "--resolve", "*:*:127.0.0.1",
        "-f",        dir_path(dir, "targets.txt"), "-o",        dir_path(dir, "report.csv"),
        "-o",        dir_path(dir, "report.json"), "-q",        NULL};
    for (size_t i = 0; fixed[i] != NULL; i++)
        args[k++] = fixed[i];
    for (size_t i = 0; extra[i] != NULL; i++)
        args[k++] = extra[i];
    args[k] = NULL;
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    /* the expired leaf, the bad lines */
    cr_assert(r.status != 0 && r.status < 128, "exit %d; stderr: %s", r.status, r.err);
    run_result_free(&r);
    char *text = slurp(dir_path(dir, "report.csv"), len);
    cr_assert_not_null(text, "no CSV report");
    return text;
}

/* ---- LibreOffice ---- */

/* Converts dir/NAME.csv to dir/NAME.fods with soffice in a session of its
   own (so a hung one is killed whole), within SOFFICE_TIMEOUT_S. */
static void soffice_convert(const char *name)
{
    char profile[600], in[600], log[600];
    snprintf(profile, sizeof(profile), "-env:UserInstallation=file://%s/lo-profile", dir);
    snprintf(in, sizeof(in), "%s/%s.csv", dir, name);
    snprintf(log, sizeof(log), "%s/soffice.log", dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setsid();
        FILE *l = freopen(log, "w", stdout);
        if (l == NULL || dup2(fileno(stdout), 2) < 0)
            _exit(126);
        execlp("soffice", "soffice", profile, "--headless", "--norestore", "--convert-to", "fods",
               "--infilter=" CSV_FILTER, "--outdir", dir, in, (char *)NULL);
        _exit(127);
    }
    soffice_pgid = pid;
    int st = 0;
    for (int waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited++) {
        if (waited >= SOFFICE_TIMEOUT_S * 10) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            soffice_pgid = -1;
            cr_assert_fail("soffice did not finish converting %s in %d s", in, SOFFICE_TIMEOUT_S);
        }
        usleep(100 * 1000);
    }
    kill(-pid, SIGKILL); /* anything it left behind in its session */
    soffice_pgid = -1;
    cr_assert(!WIFEXITED(st) || WEXITSTATUS(st) != 127,
              "no soffice to run: install libreoffice-calc-nogui (samples/install-deps.sh)");
    char *out = slurp(log, NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "soffice failed (status %d): %s", st,
              out ? out : "");
    free(out);
}

/* ---- reading FODS with expat ---- */

struct cell {
    char type[16]; /* office:value-type: "string", "float", "date", ... ("" for empty) */
    char *value;   /* office:value (float), office:date-value (date), or NULL */
    bool formula;  /* table:formula present */
    struct cs_buf text;
};

struct sheet {
    struct cell cells[SHEET_MAX_ROWS][SHEET_MAX_COLS];
    size_t ncols[SHEET_MAX_ROWS];
    size_t nrows;
    int tables; /* table:table elements opened (only the first is read) */
    bool in_row, in_cell, in_p;
    size_t paragraphs; /* text:p seen in the current cell */
    size_t repeat;     /* table:number-columns-repeated of the current cell */
    bool overflow;
};

static const char *sheet_attr(const XML_Char **atts, const char *name)
{
    for (size_t i = 0; atts[i] != NULL; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

static void sheet_text(struct sheet *s, const char *p, size_t n)
{
    struct cell *c = &s->cells[s->nrows - 1][s->ncols[s->nrows - 1] - 1];
    if (cs_buf_append(&c->text, p, n) < 0)
        s->overflow = true;
}

/* A new cell in the current row; table:number-columns-repeated copies of it
   are made when it ends (sheet_cell_end). */
static void sheet_cell(struct sheet *s, const XML_Char **atts)
{
    size_t row = s->nrows - 1;
    const char *rep = sheet_attr(atts, "table:number-columns-repeated");
    const char *type = sheet_attr(atts, "office:value-type");
    if (s->ncols[row] == SHEET_MAX_COLS) {
        s->overflow |= type != NULL; /* only empty cells may go: a row's tail */
        s->in_cell = false;
        return;
    }
    struct cell *c = &s->cells[row][s->ncols[row]++];
    cs_buf_init(&c->text, SHEET_TEXT_MAX);
    cs_buf_append(&c->text, "", 0);
    snprintf(c->type, sizeof(c->type), "%s", type ? type : "");
    const char *v = sheet_attr(atts, "office:value");
    if (v == NULL)
        v = sheet_attr(atts, "office:date-value");
    c->value = v ? strdup(v) : NULL;
    c->formula = sheet_attr(atts, "table:formula") != NULL;
    s->repeat = rep != NULL ? (size_t)strtoul(rep, NULL, 10) : 1;
    s->in_cell = true;
    s->paragraphs = 0;
}

/* The repeated copies of the cell that ends, as far as SHEET_MAX_COLS. */
static void sheet_cell_end(struct sheet *s)
{
    size_t row = s->nrows - 1;
    const struct cell *c = &s->cells[row][s->ncols[row] - 1];
    for (size_t i = 1; i < s->repeat; i++) {
        if (s->ncols[row] == SHEET_MAX_COLS) {
            s->overflow |= c->type[0] != '\0';
            break;
        }
        struct cell *d = &s->cells[row][s->ncols[row]++];
        memcpy(d->type, c->type, sizeof(d->type));
        d->value = c->value ? strdup(c->value) : NULL;
        d->formula = c->formula;
        cs_buf_init(&d->text, SHEET_TEXT_MAX);
        cs_buf_append(&d->text, c->text.p, c->text.len);
    }
    s->repeat = 1;
}

static void XMLCALL sheet_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    struct sheet *s = data;
    if (strcmp(name, "table:table") == 0)
        s->tables++;
    if (s->tables != 1)
        return;
    if (strcmp(name, "table:table-row") == 0) {
        if (s->nrows == SHEET_MAX_ROWS) {
            s->in_row = false; /* the trailing empty rows a sheet ends in */
            return;
        }
        s->ncols[s->nrows++] = 0;
        s->in_row = true;
    } else if (s->in_row && (strcmp(name, "table:table-cell") == 0 ||
                             strcmp(name, "table:covered-table-cell") == 0)) {
        sheet_cell(s, atts);
    } else if (s->in_cell && strcmp(name, "text:p") == 0) {
        if (s->paragraphs++ > 0)
            sheet_text(s, "\n", 1);
        s->in_p = true;
    } else if (s->in_p && strcmp(name, "text:s") == 0) { /* runs of spaces */
        const char *c = sheet_attr(atts, "text:c");
        for (long i = c ? strtol(c, NULL, 10) : 1; i > 0 && !s->overflow; i--)
            sheet_text(s, " ", 1);
    } else if (s->in_p && strcmp(name, "text:tab") == 0) {
        sheet_text(s, "\t", 1);
    } else if (s->in_p && strcmp(name, "text:line-break") == 0) {
        sheet_text(s, "\n", 1);
    }
}

static void XMLCALL sheet_end(void *data, const XML_Char *name)
{
    struct sheet *s = data;
    if (s->tables != 1)
        return;
    if (strcmp(name, "table:table-row") == 0)
        s->in_row = false;
    else if (s->in_cell && (strcmp(name, "table:table-cell") == 0 ||
                            strcmp(name, "table:covered-table-cell") == 0)) {
        sheet_cell_end(s);
        s->in_cell = s->in_p = false;
    } else if (strcmp(name, "text:p") == 0)
        s->in_p = false;
}

static void XMLCALL sheet_chars(void *data, const XML_Char *p, int n)
{
    struct sheet *s = data;
    if (s->tables == 1 && s->in_p)
        sheet_text(s, p, (size_t)n);
}

static struct sheet *sheet_load(const char *name)
{
    size_t len;
    char *xml = slurp(dir_path(dir, "%s.fods", name), &len);
    cr_assert_not_null(xml, "LibreOffice wrote no %s.fods", name);
    cr_assert_leq(len, SHEET_FILE_MAX);
    struct sheet *s = calloc(1, sizeof(*s));
    XML_Parser p = XML_ParserCreate("UTF-8");
    XML_SetUserData(p, s);
    XML_SetElementHandler(p, sheet_start, sheet_end);
    XML_SetCharacterDataHandler(p, sheet_chars);
    enum XML_Status st = XML_Parse(p, xml, (int)len, 1);
    cr_assert_eq(st, XML_STATUS_OK, "%s.fods: %s at line %lu", name,
                 XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p));
    XML_ParserFree(p);
    free(xml);
    cr_assert(!s->overflow, "%s.fods: a cell or row over the test's caps", name);
    return s;
}

static void sheet_free(struct sheet *s)
{
    for (size_t r = 0; r < s->nrows; r++)
        for (size_t c = 0; c < s->ncols[r]; c++) {
            free(s->cells[r][c].value);
            cs_buf_free(&s->cells[r][c].text);
        }
    free(s);
}

/* The cell of column `header` in the sheet row whose host column is host. */
static const struct cell *sheet_get(const struct sheet *s, const char *host, const char *header)
{
    size_t col = SIZE_MAX, hostcol = SIZE_MAX;
    for (size_t c = 0; s->nrows > 0 && c < s->ncols[0]; c++) {
        if (strcmp(s->cells[0][c].text.p, header) == 0)
            col = c;
        if (strcmp(s->cells[0][c].text.p, "host") == 0)
            hostcol = c;
    }
    cr_assert_neq(col, SIZE_MAX, "no column %s in the sheet's first row", header);
    cr_assert_neq(hostcol, SIZE_MAX, "no host column in the sheet's first row");
    for (size_t r = 1; r < s->nrows; r++)
        if (hostcol < s->ncols[r] && strcmp(s->cells[r][hostcol].text.p, host) == 0) {
            cr_assert_lt(col, s->ncols[r], "row of %s has no column %s", host, header);
            return &s->cells[r][col];
        }
    cr_assert_fail("no sheet row for %s", host);
    return NULL;
}

/* ---- the checks ---- */

static const char *host_of(size_t e)
{
    return e == E_UNICODE ? HOST_U : "expired.sheets.test";
}

/* Text columns: a string cell, no formula, text byte for byte what the CSV
   (parsed with libcsv) holds. */
static void expect_text(const struct sheet *s, const struct csv_doc *csv, size_t e,
                        const char *column)
{
    size_t row = csv_doc_find(csv, "host", host_of(e));
    cr_assert_neq(row, 0, "no CSV row for %s", host_of(e));
    const char *want = csv_doc_get(csv, row, column);
    const struct cell *c = sheet_get(s, host_of(e), column);
    cr_assert(!c->formula, "%s %s: LibreOffice made a formula of '%s'", host_of(e), column, want);
    cr_assert_str_eq(c->type, "string", "%s %s: a %s cell, want text '%s'", host_of(e), column,
                     c->type, want);
    cr_assert_str_eq(c->text.p, want, "%s %s", host_of(e), column);
}

/* Number columns: a float cell whose value is the CSV's integer. */
static long long expect_number(const struct sheet *s, const struct csv_doc *csv, size_t e,
                               const char *column)
{
    size_t row = csv_doc_find(csv, "host", host_of(e));
    const char *want = csv_doc_get(csv, row, column);
    cr_assert(want != NULL && want[0] != '\0', "%s %s: empty in the CSV", host_of(e), column);
    const struct cell *c = sheet_get(s, host_of(e), column);
    cr_assert_str_eq(c->type, "float", "%s %s: a %s cell '%s', want a number", host_of(e), column,
                     c->type, c->text.p);
    cr_assert_not_null(c->value);
    cr_assert_str_eq(c->value, want, "%s %s", host_of(e), column);
    return strtoll(c->value, NULL, 10);
}

/* not_before/not_after: with excel, a date cell holding the certificate's
   time; else text, the ISO 8601 the CSV holds. */
static void expect_time(const struct sheet *s, size_t e, const char *column, int64_t t, bool excel)
{
    char iso[24];
    pki_iso_time(t, iso); /* YYYY-MM-DDTHH:MM:SSZ */
    const struct cell *c = sheet_get(s, host_of(e), column);
    if (!excel) {
        cr_assert_str_eq(c->type, "string", "%s %s", host_of(e), column);
        cr_assert_str_eq(c->text.p, iso, "%s %s", host_of(e), column);
        return;
    }
    iso[19] = '\0'; /* a spreadsheet date has no zone */
    cr_assert_str_eq(c->type, "date", "%s %s: a %s cell '%s', want a date", host_of(e), column,
                     c->type, c->text.p);
    cr_assert_not_null(c->value);
    cr_assert_str_eq(c->value, iso, "%s %s", host_of(e), column);
}

/* The scan's classification time, from the JSON report of the same run. */
static int64_t scan_now(void)
{
    json_error_t je;
    json_t *doc = json_load_file(dir_path(dir, "report.json"), 0, &je);
    cr_assert_not_null(doc, "report.json: %s", je.text);
    int64_t now;
    const char *t = json_string_value(json_object_get(json_object_get(doc, "scan"), "now"));
    cr_assert(t != NULL && cs_parse_time(t, &now) == 0, "scan.now: %s", t ? t : "none");
    json_decref(doc);
    return now;
}

/* (not_after - now) / 1 day rounded toward zero, the README's days_remaining */
static long long days_left(int64_t not_after, int64_t now)
{
    return (long long)((not_after - now) / 86400);
}

static void expect_sheet(const struct sheet *s, const struct csv_doc *csv, bool excel)
{
    int64_t now = scan_now();
    cr_assert_eq(s->nrows >= 1 + N_E + 1 + N_BAD, true, "%zu sheet rows", s->nrows);
    /* the header row: every field name as text, the first without a BOM */
    for (size_t i = 0; i < n_expected_fields; i++) {
        cr_assert_lt(i, s->ncols[0]);
        cr_assert_str_eq(s->cells[0][i].text.p, expected_fields[i], "header cell %zu", i);
    }
    for (size_t e = 0; e < N_E; e++) {
        expect_text(s, csv, e, "host");
        expect_text(s, csv, e, "subject");
        expect_text(s, csv, e, "reason");
        expect_text(s, csv, e, "owner");
        expect_text(s, csv, e, "env");
        expect_text(s, csv, e, "site");
        cr_assert_eq(expect_number(s, csv, e, "port"), fleet_custom_port(fleet, e, 0));
        expect_number(s, csv, e, "elapsed_ms");
        long long days = expect_number(s, csv, e, "days_remaining");
        cr_assert_eq(days, days_left(pki_not_after(leafs[e].x509), now), "%s", host_of(e));
        cr_assert(e == E_EXPIRED ? days < 0 : days > 0, "%s: %lld days", host_of(e), days);
        expect_time(s, e, "not_before", pki_not_before(leafs[e].x509), excel);
        expect_time(s, e, "not_after", pki_not_after(leafs[e].x509), excel);
    }
    /* what certsweep meant: the label defused, kept as text in the sheet */
    for (size_t i = 0; i < N_FORMULAS; i++) {
        const struct cell *c = sheet_get(s, host_of(i / 2), i % 2 ? "env" : "owner");
        cr_assert_eq(c->text.p[0], '\'', "'%s' reached the sheet undefused", c->text.p);
        cr_assert_str_eq(c->text.p + 1, FORMULAS[i]);
    }
    /* host (and sni) cells that start a formula: text, defused */
    char defused[64];
    for (size_t i = 0; i <= N_BAD; i++) {
        const char *h = i < N_BAD ? BAD_LINES[i] : DASH_HOST;
        snprintf(defused, sizeof(defused), "'%s", h);
        const struct cell *c = sheet_get(s, defused, "host");
        cr_assert(!c->formula && strcmp(c->type, "string") == 0, "host %s: a %s cell", h, c->type);
        if (i == N_BAD)
            cr_assert_str_eq(sheet_get(s, defused, "sni")->text.p, defused);
    }
    /* the non-ASCII names as the certificate and the targets file have them */
    cr_assert_str_eq(sheet_get(s, HOST_U, "host")->text.p, HOST_U);
    cr_assert_str_eq(sheet_get(s, HOST_U, "site")->text.p, SITE);
    const char *subject = sheet_get(s, HOST_U, "subject")->text.p;
    char want[256];
    snprintf(want, sizeof(want), "O=%s", SUBJECT_O);
    cr_assert(strstr(subject, want) != NULL, "subject '%s' lost '%s'", subject, want);
}

static void check_csv(const char *name, const char *const *extra, bool excel)
{
    size_t len;
    char *text = scan_csv(extra, &len);
    const char *body = text;
    if (excel) {
        cr_assert(len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0, "no UTF-8 BOM");
        body += 3;
        /* every row ends in CRLF: no bare LF (no cell here holds a newline) */
        for (const char *p = body; (p = strchr(p, '\n')) != NULL; p++)
            cr_assert(p > body && p[-1] == '\r', "a bare LF at byte %td", p - text);
    } else {
        cr_assert(memcmp(text, "host,", 5) == 0 && strchr(text, '\r') == NULL);
    }
    struct csv_doc csv;
    cr_assert_eq(csv_doc_parse(body, len - (size_t)(body - text), &csv), 0, "the CSV: %s", text);
    cr_assert_str_eq(csv_doc_get(&csv, 0, "host"), "host");
    char *fixed = strdup(dir_path(dir, "%s.csv", name));
    cr_assert_eq(rename(dir_path(dir, "report.csv"), fixed), 0);
    free(fixed);
    soffice_convert(name);
    struct sheet *s = sheet_load(name);
    expect_sheet(s, &csv, excel);
    sheet_free(s);
    csv_doc_free(&csv);
    free(text);
}

Test(spreadsheet, plain_csv_cells_as_written)
{
    check_csv("plain", (const char *[]){NULL}, false);
}

/* certsweep reads its --csv-excel CSV back (merge, diff): the BOM skipped,
   the spreadsheet times parsed as the certificate's. */
static void expect_merge_reads(const char *csv)
{
    const char *json = dir_path(dir, "merged.json");
    const char *args[] = {"merge", csv, "-o", json, "-q", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert(r.status != 0 && r.status < 128, "merge: exit %d: %s", r.status, r.err);
    run_result_free(&r);
    json_error_t je;
    json_t *doc = json_load_file(json, 0, &je);
    cr_assert_not_null(doc, "%s", je.text);
    json_t *results = json_object_get(doc, "results");
    cr_assert_eq(json_array_size(results), N_E + 1 + N_BAD);
    for (size_t e = 0; e < N_E; e++) {
        json_t *rec = json_find_record(results, host_of(e), fleet_custom_port(fleet, e, 0));
        cr_assert_not_null(rec, "merge lost %s", host_of(e));
        char iso[24];
        pki_iso_time(pki_not_after(leafs[e].x509), iso);
        cr_assert_str_eq(json_string_value(json_object_get(rec, "not_after")), iso);
    }
    json_decref(doc);
}

Test(spreadsheet, csv_excel_bom_crlf_and_dates)
{
    check_csv("excel", (const char *[]){"--csv-excel", NULL}, true);
    expect_merge_reads(dir_path(dir, "excel.csv"));
}

/* The harness sees a formula when there is one: without the defusing
   (--csv-raw) LibreOffice runs "=1+1". */
Test(spreadsheet, raw_csv_runs_formulas)
{
    size_t len;
    free(scan_csv((const char *[]){"--csv-raw", NULL}, &len));
    cr_assert_eq(rename(dir_path(dir, "report.csv"), dir_path(dir, "raw.csv")), 0);
    soffice_convert("raw");
    struct sheet *s = sheet_load("raw");
    const struct cell *c = sheet_get(s, HOST_U, "owner");
    cr_assert(c->formula, "'%s' is not a formula", c->text.p);
    cr_assert_str_eq(c->type, "float");
    cr_assert_str_eq(c->value, "2");
    c = sheet_get(s, "4", "host"); /* "=2+2" */
    cr_assert(c->formula && strcmp(c->type, "float") == 0, "host '=2+2' not run: %s", c->text.p);
    sheet_free(s);
}
