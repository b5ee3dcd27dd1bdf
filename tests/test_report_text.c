/* The text writer: order, columns, colour, and what may reach a terminal. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/report_fixture.h"

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
