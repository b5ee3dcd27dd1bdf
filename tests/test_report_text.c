/* The text writer: order, columns, colour, and what may reach a terminal. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/report_fixture.h"

#define ELLIPSIS "\xe2\x80\xa6"
#define WHEN_LINE "scanned at 2026-03-01T00:00:00Z, days counted from 2026-03-01T00:00:00Z\n"

/* ---- text -------------------------------------------------------------- */

/* Terminal columns of the first `bytes` bytes of s (test inputs hold only
 * ASCII, 2-byte Latin and Cyrillic, the ellipsis U+2026, and 3-byte CJK
 * characters). */
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
            cols += strncmp(s + i, ELLIPSIS, 3) == 0 ? 1 : 2;
            i += 3;
        }
    }
    return cols;
}

/* The scan information with the table this many columns wide. */
static struct cs_scan_info info_width(unsigned width)
{
    struct cs_scan_info info = test_info;
    info.text_width = width;
    return info;
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
    struct cs_scan_info info = info_width(120);
    char *out = run_writer(&cs_writer_text, &info, 0, recs, 7, NULL);

    const char *order[] = {"exp.example",    "crit.example", "warn5.example", "aaa-warn10.example",
                           "warn10.example", "err.example",  "ok.example"};
    cr_assert_eq(count_lines(out), 1 + 7 + 2, "%s", out);
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
    cr_assert_str_eq(last,
                     "7 endpoints: 1 OK, 3 WARNING, 1 CRITICAL, 1 EXPIRED, 1 ERROR\n" WHEN_LINE);
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

    struct cs_scan_info info = info_width(120);
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
    cr_assert_str_eq(out,
                     "0 endpoints: 0 OK, 0 WARNING, 0 CRITICAL, 0 EXPIRED, 0 ERROR\n" WHEN_LINE);
    free(out);
}

Test(text, one_endpoint_is_singular)
{
    struct cs_result r;
    make_ok(&r);
    char *out = run_writer(&cs_writer_text, &test_info, 0, &r, 1, NULL);
    cr_assert_str_eq(nth_line(out, 2),
                     "1 endpoint: 1 OK, 0 WARNING, 0 CRITICAL, 0 EXPIRED, 0 ERROR\n" WHEN_LINE);
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
    struct cs_scan_info info = info_width(200);
    char *out = run_writer(&cs_writer_text, &info, 0, recs, NREC, NULL);
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
    struct cs_scan_info info = info_width(200);
    char *out = run_writer(&cs_writer_text, &info, 0, recs, NREC, NULL);
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
    /* a name in non-ASCII letters, and its A-label (as idn2(1) writes it) */
    cr_assert_not_null(strstr(out, "  \xc3\xa9t\xc3\xa9.example:8443 (xn--t-9fab.example)  "), "%s",
                       out);
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
    struct cs_scan_info info = info_width(120);
    char *out = run_writer(&cs_writer_text, &info, 0, recs, 4, NULL);
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
    struct cs_scan_info info = info_width(200);
    char *out = run_writer(&cs_writer_text, &info, 0, &r, 1, NULL);
    const char *row = nth_line(out, 1);
    /* the host at its cap of 64: 15 columns of head, the ellipsis, 48 of
       tail; the issuer whole; REASON the rest */
    char want_host[96];
    snprintf(want_host, sizeof(want_host), "  %.15s" ELLIPSIS "%.44s:443  ", long_host, long_host);
    cr_assert_not_null(strstr(row, want_host), "%s", row);
    cr_assert_not_null(strstr(row, "  O=No Common Name Org,C=US  "), "%s", row);
    /* REASON takes the rest of the 200 columns, cut with "..." */
    const char *nl = strchr(row, '\n');
    cr_assert_eq(visible_cols(row, (size_t)(nl - row)), 200, "%s", row);
    cr_assert_eq(strncmp(nl - 3, "...", 3), 0, "%s", row);
    cr_assert_eq(nl[-4], 'r');
    free(out);

    r.reason[60] = '\0'; /* with room for the whole reason, the host has its cap of 64 */
    out = run_writer(&cs_writer_text, &info, 0, &r, 1, NULL);
    row = nth_line(out, 1);
    snprintf(want_host, sizeof(want_host), "  %.15s" ELLIPSIS "%.44s:443  ", long_host, long_host);
    cr_assert_not_null(strstr(row, want_host), "%s", row);
    cr_assert_not_null(strstr(row, "  O=No Common Name Org,C=US  "), "%s", row);
    cr_assert_not_null(strstr(row, "  rrrrrrrrrr"), "%s", row);
    cr_assert_eq(strlen(strstr(row, "  rrrrrrrrrr")), 2 + 60 + 1 + strlen(nth_line(out, 2)));
    free(out);

    info.text_wide = true; /* --wide: nothing cut */
    out = run_writer(&cs_writer_text, &info, 0, &r, 1, NULL);
    row = nth_line(out, 1);
    char want[320];
    snprintf(want, sizeof(want), "  %s:443  ", long_host);
    cr_assert_not_null(strstr(row, want), "%s", row);
    snprintf(want, sizeof(want), "  %s\n", r.reason);
    cr_assert_not_null(strstr(row, want), "%s", row);
    cr_assert_null(strstr(out, ELLIPSIS));
    free(out);
    cs_result_free(&r);
}

Test(text, issuer_cn_unescaped)
{
    struct cs_result r;
    make_ok(&r);
    set_str(&r.issuer, "C=US,O=Acme,CN=Acme\\, Inc. \\22Root\\22 CA+OU=x");
    struct cs_scan_info info = info_width(120);
    char *out = run_writer(&cs_writer_text, &info, 0, &r, 1, NULL);
    cr_assert_not_null(strstr(out, "  Acme, Inc. \"Root\" CA  "), "%s", out);
    free(out);
    cs_result_free(&r);
}

/* Zero-width characters take bytes but no column, so the column cap cannot
   bound them: the buffer's hard cap does, and the report fails, with nothing
   half-written, rather than grow without bound. */
Test(text, a_cell_past_its_byte_cap_fails_the_report)
{
    struct cs_result r;
    make_ok(&r);
    size_t n = 400000; /* U+200B ZERO WIDTH SPACE, 3 bytes each: 1.2 MB */
    char *reason = malloc(3 * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(reason + 3 * i, "\xe2\x80\x8b", 3);
    reason[3 * n] = '\0';
    set_str(&r.reason, reason);
    free(reason);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    struct cs_writer w;
    struct cs_summary s = summarize(&r, 1);
    cr_assert_eq(cs_writer_open(&w, &cs_writer_text, f, &test_info, 0), 0);
    cr_assert_eq(cs_writer_record(&w, &r), 0);
    cr_assert_eq(cs_writer_close(&w, &s), CS_ETOOBIG);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(size, 0, "%zu bytes written", size);
    free(buf);
    cs_result_free(&r);
}

/* ---- fitting the width ------------------------------------------------- */

#define LONG_HOST "api-gateway-internal-eu-west-1-production-cluster.services.example.com"
#define LONG_REASON "hostname mismatch: api.example.org not in the certificate's names"

/* Four endpoints as a fleet has them: a long host, a long reason, a long
   issuer, and a short one. */
static void make_fleet(struct cs_result recs[4])
{
    make_status(&recs[0], LONG_HOST, CS_CRITICAL, 199);
    set_str(&recs[0].reason, LONG_REASON);
    make_status(&recs[1], "warning.example", CS_WARNING, 19);
    set_str(&recs[1].reason, "expires in 19 days (renewal overdue: <1/3 of 90-day lifetime left)");
    make_status(&recs[2], "ok.example", CS_OK, 80);
    set_str(&recs[2].issuer, "CN=An Issuing Certification Authority With A Long Name G2,O=X");
    set_str(&recs[2].reason, "expires in 80 days");
    make_status(&recs[3], "silent.example", CS_ERROR, CS_INT_NONE);
}

/* Asserts that no line of out is wider than width columns; returns the
   widest. */
static size_t assert_lines_fit(const char *out, size_t width)
{
    size_t widest = 0;
    for (const char *line = out; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        cr_assert_not_null(nl);
        size_t cols = visible_cols(line, (size_t)(nl - line));
        cr_assert_leq(cols, width, "a line of %zu columns at %zu:\n%s", cols, width, out);
        widest = cols > widest ? cols : widest;
        line = nl + 1;
    }
    return widest;
}

/* The row (a copy, without its newline) that holds needle. */
static char *row_with(const char *out, const char *needle)
{
    const char *at = strstr(out, needle);
    cr_assert_not_null(at, "no %s in:\n%s", needle, out);
    const char *start = at;
    while (start > out && start[-1] != '\n')
        start--;
    return cs_strndup(start, (size_t)(strchr(at, '\n') - start));
}

Test(text, the_table_fits_80_120_and_200_columns)
{
    struct cs_result recs[4];
    make_fleet(recs);
    static const size_t widths[] = {80, 120, 200};
    for (size_t k = 0; k < 3; k++) {
        struct cs_scan_info info = info_width((unsigned)widths[k]);
        char *out = run_writer(&cs_writer_text, &info, 0, recs, 4, NULL);
        size_t widest = assert_lines_fit(out, widths[k]);
        cr_assert_gt(widest, widths[k] - 10, "the table leaves room unused at %zu:\n%s", widths[k],
                     out);
        /* the host keeps its end: the domain and the port */
        char *row = row_with(out, "example.com:443  ");
        cr_assert_eq(strncmp(row, "CRITICAL  api-", 14), 0, "%s", row);
        cr_assert_not_null(strstr(row, ELLIPSIS), "%s", row);
        if (widths[k] > 80)
            cr_assert_not_null(strstr(row, "services.example.com:443  "), "%s", row);
        free(row);
        if (widths[k] >= 120) { /* room for the shorter reasons */
            cr_assert_not_null(strstr(out, "  timeout during handshake\n"), "%s", out);
            cr_assert_not_null(strstr(out, "  expires in 80 days\n"), "%s", out);
        }
        if (widths[k] == 200) { /* and for every one */
            cr_assert_not_null(strstr(out, "  expires in 19 days (renewal overdue: <1/3 of 90-day "
                                           "lifetime left)\n"),
                               "%s", out);
            cr_assert_not_null(strstr(out, "  " LONG_REASON "\n"), "%s", out);
            cr_assert_not_null(strstr(out, "  An Issuing Certification Auth...  "), "%s", out);
        }
        free(out);
    }
    free_all(recs, 4);
}

Test(text, wide_cuts_nothing)
{
    struct cs_result recs[4];
    make_fleet(recs);
    struct cs_scan_info info = info_width(80);
    info.text_wide = true;
    char *out = run_writer(&cs_writer_text, &info, 0, recs, 4, NULL);
    cr_assert_null(strstr(out, ELLIPSIS), "%s", out);
    cr_assert_null(strstr(out, "..."), "%s", out);
    char *row = row_with(out, LONG_HOST ":443  ");
    cr_assert_not_null(strstr(row, "  " LONG_REASON), "%s", row);
    free(row);
    cr_assert_not_null(strstr(out, "  An Issuing Certification Authority With A Long Name G2  "));
    free(out);
    free_all(recs, 4);
}

/* When even the narrowest columns leave REASON too little, it goes under its
   row, indented and wrapped at blanks, all of it. */
Test(text, reason_goes_under_its_row_when_the_width_is_short)
{
    struct cs_result recs[4];
    make_fleet(recs);
    struct cs_scan_info info = info_width(52);
    char *out = run_writer(&cs_writer_text, &info, 0, recs, 4, NULL);
    /* the table fits (the summary line under it is not cut) */
    char *table = cs_strndup(out, (size_t)(strstr(out, "4 endpoints:") - out));
    assert_lines_fit(table, 52);
    free(table);
    cr_assert_null(strstr(out, "REASON"), "%s", out);
    const char *row = strstr(out, "\nCRITICAL  ");
    cr_assert_not_null(row, "%s", out);
    /* the reason's lines, joined again: at the blank a line was broken at,
       or as they are after a word longer than a line, cut at the width */
    char joined[512] = "";
    const char *line = strchr(row + 1, '\n') + 1;
    size_t n_lines = 0, last_cols = 0;
    for (; strncmp(line, "    ", 4) == 0; line = strchr(line, '\n') + 1, n_lines++) {
        const char *nl = strchr(line, '\n');
        cr_assert_neq(line[4], ' ', "%s", out);
        if (joined[0] && last_cols < 52)
            strcat(joined, " ");
        strncat(joined, line + 4, (size_t)(nl - line - 4));
        last_cols = (size_t)(nl - line);
    }
    cr_assert_str_eq(joined, LONG_REASON);
    cr_assert_eq(n_lines, 2, "%s", out);
    cr_assert_eq(strncmp(line, "WARNING   ", 10), 0, "%s", out);
    free(out);
    free_all(recs, 4);
}

/* Before REASON leaves its row, ISSUER, then REVOCATION, then NOT AFTER
   make room, and a line under the table says which are not shown. */
Test(text, a_short_width_leaves_columns_out_before_reason_leaves_its_row)
{
    struct cs_result recs[4];
    make_fleet(recs);
    for (int k = 0; k < 4; k++)
        set_str(&recs[k].revocation, k == 3 ? NULL : "unchecked");
    static const struct {
        unsigned width;
        bool crl;
        const char *not_shown; /* NULL: every column */
    } cases[] = {
        {120, true, NULL},
        {80, false, NULL},
        {80, true, "not shown: ISSUER, REVOCATION (--wide shows them)\n"},
        {64, false, "not shown: ISSUER, NOT AFTER (--wide shows them)\n"},
        {64, true, "not shown: ISSUER, REVOCATION, NOT AFTER (--wide shows them)\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cs_scan_info info = info_width(cases[i].width);
        info.crl = cases[i].crl;
        char *out = run_writer(&cs_writer_text, &info, 0, recs, 4, NULL);
        assert_lines_fit(out, cases[i].width);
        char *head = row_with(out, "STATUS");
        cr_assert_not_null(strstr(head, "REASON"), "REASON left its row at %u:\n%s", cases[i].width,
                           out);
        bool issuer = cases[i].not_shown == NULL || !strstr(cases[i].not_shown, "ISSUER");
        bool revocation = cases[i].crl &&
                          (cases[i].not_shown == NULL || !strstr(cases[i].not_shown, "REVOCATION"));
        bool not_after = cases[i].not_shown == NULL || !strstr(cases[i].not_shown, "NOT AFTER");
        cr_assert_eq(strstr(head, "ISSUER") != NULL, issuer, "%s", out);
        cr_assert_eq(strstr(head, "REVOCATION") != NULL, revocation, "%s", out);
        cr_assert_eq(strstr(head, "NOT AFTER") != NULL, not_after, "%s", out);
        free(head);
        if (cases[i].not_shown)
            cr_assert_not_null(strstr(out, cases[i].not_shown), "%s", out);
        else
            cr_assert_null(strstr(out, "not shown:"), "%s", out);
        /* the short reasons are whole in their row */
        cr_assert_not_null(strstr(out, "  expires in 80 days\n"), "%s", out);
        free(out);
    }
    free_all(recs, 4);
}

/* A host cut in the middle loses whole characters and whole escapes: never
   a part of a UTF-8 sequence (which would show as \xNN) or of an escape. */
Test(text, the_middle_cut_keeps_characters_and_escapes_whole)
{
    struct cs_result r[2];
    make_status(&r[0], "", CS_OK, 30);
    /* 70 Cyrillic letters (2 bytes each): not a valid name, so no A-label */
    char cyr[141 + 16] = "";
    for (int i = 0; i < 70; i++)
        strcat(cyr, i % 2 ? "\xd0\xb4" : "\xd0\xb6"); /* д ж */
    strcat(cyr, ".e");
    set_str(&r[0].host, cyr);
    r[0].source = cs_strdup("/certs/a.pem"); /* a file: its path, never an A-label */
    make_status(&r[1], "", CS_OK, 40);
    /* escapes of 4 columns on both sides of where the cut falls */
    set_str(&r[1].host, "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
                        "\x01\x01.example");
    struct cs_scan_info info = info_width(200);
    char *out = run_writer(&cs_writer_text, &info, 0, r, 2, NULL);
    /* 64 columns: 15 of head, the ellipsis, 48 of tail */
    char want[512] = "\nOK      ";
    for (int i = 0; i < 15; i++)
        strcat(want, i % 2 ? "\xd0\xb4" : "\xd0\xb6");
    strcat(want, ELLIPSIS);
    for (int i = 70 - 42; i < 70; i++)
        strcat(want, i % 2 ? "\xd0\xb4" : "\xd0\xb6");
    strcat(want, ".e:443  ");
    cr_assert_not_null(strstr(out, want), "want %s in:\n%s", want, out);
    /* 15 columns of head hold three whole escapes (12); 48 of tail, nine
       and ".example:443"; the cell is 61 columns, padded to 64 */
    cr_assert_not_null(strstr(out, "\nOK      \\x01\\x01\\x01" ELLIPSIS
                                   "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01.example:443     "
                                   "  40  "),
                       "%s", out);
    cr_assert_null(strstr(out, "\\xD0"), "a cut inside a character:\n%s", out);
    free(out);
    free_all(r, 2);
}

Test(text, an_ascii_name_has_no_a_label)
{
    struct cs_result r;
    make_status(&r, "xn--n1aae7f7o.example", CS_OK, 30);
    struct cs_scan_info info = info_width(120);
    char *out = run_writer(&cs_writer_text, &info, 0, &r, 1, NULL);
    cr_assert_not_null(strstr(out, "  xn--n1aae7f7o.example:443  "), "%s", out);
    cr_assert_null(strstr(out, "("), "%s", out);
    free(out);
    cs_result_free(&r);
}

/* A name in non-ASCII letters cut to fit keeps its port and its whole
   A-label: the cut falls in the name as written. */
Test(text, a_cut_idn_name_keeps_its_a_label)
{
    struct cs_result r;
    make_status(&r, "\xd1\x95\xd1\x80\xd0\xbe\xd0\xbe\xd2\x93-payments-gateway.example", CS_OK, 30);
    set_str(&r.reason, "expires in 30 days (this reason leaves little room for the host)");
    struct cs_scan_info info = info_width(160);
    char *out = run_writer(&cs_writer_text, &info, 0, &r, 1, NULL);
    assert_lines_fit(out, 160);
    /* the A-label as idn2(1) writes it */
    char *row = row_with(out, ELLIPSIS ":443 (xn---payments-gateway-ycoa2b68ar9b.example)  ");
    cr_assert_not_null(strstr(row, "OK      \xd1\x95\xd1\x80\xd0\xbe\xd0\xbe\xd2\x93-"), "%s", row);
    free(row);
    free(out);
    cs_result_free(&r);
}
