/* The helpers apart from the record (scanner/util.h): the capped buffer,
 * owned strings and string lists, UTF-8 decoding, the ISO 8601 time helpers
 * the documents rely on; and the error convention's texts (scanner/error.h). */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "scanner/error.h"
#include "scanner/util.h"

/* ---- cs_buf ------------------------------------------------------------ */

/* an append past the cap that were let through would grow forever: end it */
TestSuite(buf, .timeout = 5);

Test(buf, appends_and_stays_terminated)
{
    struct cs_buf b;
    cs_buf_init(&b, 0);
    cr_assert_eq(cs_buf_append(&b, "", 0), 0);
    cr_assert_not_null(b.p);
    cr_assert_str_eq(b.p, "");
    cr_assert_eq(cs_buf_puts(&b, "abc"), 0);
    cr_assert_eq(cs_buf_append(&b, "def\0ghi", 7), 0);
    cr_assert_eq(b.len, 10);
    cr_assert_eq(memcmp(b.p, "abcdef\0ghi", 11), 0);
    cs_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.p, "");
    cs_buf_free(&b);
    cr_assert_null(b.p);
}

Test(buf, zeroed_buffer_has_the_default_cap)
{
    struct cs_buf b = {0};
    cr_assert_eq(cs_buf_puts(&b, "x"), 0);
    char *big = malloc(CS_BUF_MAX_DEFAULT);
    memset(big, 'a', CS_BUF_MAX_DEFAULT);
    cr_assert_eq(cs_buf_append(&b, big, CS_BUF_MAX_DEFAULT - 1), 0);
    cr_assert_eq(b.len, CS_BUF_MAX_DEFAULT);
    cr_assert_eq(cs_buf_append(&b, "y", 1), CS_ETOOBIG);
    cr_assert_eq(b.len, CS_BUF_MAX_DEFAULT);
    free(big);
    cs_buf_free(&b);
}

Test(buf, exactly_the_cap_fits)
{
    struct cs_buf b;
    cs_buf_init(&b, 8);
    cr_assert_eq(cs_buf_puts(&b, "12345678"), 0);
    cr_assert_str_eq(b.p, "12345678");
    cr_assert_leq(b.cap, 9, "storage past the cap: %zu bytes", b.cap);
    cr_assert_eq(cs_buf_append(&b, "", 0), 0, "nothing more always fits");
    cs_buf_free(&b);
}

Test(buf, append_past_the_cap_fails_and_leaves_it_as_it_was)
{
    struct cs_buf b;
    cs_buf_init(&b, 10);
    cr_assert_eq(cs_buf_puts(&b, "hello"), 0);
    char *before = b.p;
    size_t cap = b.cap;
    cr_assert_eq(cs_buf_puts(&b, "world!"), CS_ETOOBIG);
    cr_assert_eq(b.len, 5);
    cr_assert_eq(b.p, before);
    cr_assert_eq(b.cap, cap);
    cr_assert_str_eq(b.p, "hello");
    /* a smaller append still fits afterwards */
    cr_assert_eq(cs_buf_puts(&b, "world"), 0);
    cr_assert_str_eq(b.p, "helloworld");
    cr_assert_eq(cs_buf_puts(&b, "!"), CS_ETOOBIG);
    cr_assert_str_eq(b.p, "helloworld");
    cs_buf_free(&b);
}

Test(buf, huge_lengths_do_not_wrap)
{
    struct cs_buf b;
    cs_buf_init(&b, 16);
    cr_assert_eq(cs_buf_puts(&b, "abc"), 0);
    cr_assert_eq(cs_buf_append(&b, "x", SIZE_MAX), CS_ETOOBIG);
    cr_assert_eq(cs_buf_append(&b, "x", SIZE_MAX - 2), CS_ETOOBIG);
    cr_assert_str_eq(b.p, "abc");
    cs_buf_free(&b);
}

Test(buf, first_append_past_the_cap_allocates_nothing)
{
    struct cs_buf b;
    cs_buf_init(&b, 4);
    cr_assert_eq(cs_buf_puts(&b, "too long"), CS_ETOOBIG);
    cr_assert_null(b.p);
    cr_assert_eq(b.len, 0);
    cs_buf_free(&b);
}

Test(buf, grows_by_doubling_up_to_the_cap)
{
    struct cs_buf b;
    cs_buf_init(&b, 1000);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(cs_buf_append(&b, "z", 1), 0, "append %d", i);
    cr_assert_eq(b.len, 1000);
    cr_assert_eq(b.cap, 1001);
    cr_assert_eq(cs_buf_append(&b, "z", 1), CS_ETOOBIG);
    cs_buf_reset(&b);
    cr_assert_eq(b.cap, 1001, "reset keeps the storage");
    cr_assert_eq(cs_buf_puts(&b, "again"), 0);
    cs_buf_free(&b);
    cr_assert_eq(b.max, 1000, "free keeps the cap");
}

/* ---- strings ----------------------------------------------------------- */

Test(strings, dup_and_printf)
{
    cr_assert_null(cs_strdup(NULL));
    char *s = cs_strndup("abcdef", 3);
    cr_assert_str_eq(s, "abc");
    free(s);
    s = cs_asprintf("%s-%d", "RSA", 2048);
    cr_assert_str_eq(s, "RSA-2048");
    free(s);
}

Test(strings, list_grows_and_frees)
{
    struct cs_strlist l = {0};
    char name[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        cs_strlist_add(&l, name);
    }
    cr_assert_eq(l.n, 1000);
    cr_assert_str_eq(l.v[0], "n0");
    cr_assert_str_eq(l.v[999], "n999");
    cs_strlist_free(&l);
    cr_assert_eq(l.n, 0);
    cr_assert_null(l.v);
}

/* ---- UTF-8 ------------------------------------------------------------- */

Test(utf8, valid_sequences)
{
    uint32_t cp;
    cr_assert_eq(cs_utf8_decode((const unsigned char *)"A", &cp), 1);
    cr_assert_eq(cp, 'A');
    cr_assert_eq(cs_utf8_decode((const unsigned char *)"\xC3\xA9", &cp), 2);
    cr_assert_eq(cp, 0xE9);
    cr_assert_eq(cs_utf8_decode((const unsigned char *)"\xE2\x80\xA6", &cp), 3);
    cr_assert_eq(cp, 0x2026);
    cr_assert_eq(cs_utf8_decode((const unsigned char *)"\xF0\x9F\x94\x92", &cp), 4);
    cr_assert_eq(cp, 0x1F512);
}

Test(utf8, invalid_sequences)
{
    static const char *const bad[] = {
        "\x80",             /* a lone continuation byte */
        "\xC0\xAF",         /* overlong */
        "\xE0\x80\xAF",     /* overlong */
        "\xED\xA0\x80",     /* a surrogate */
        "\xF4\x90\x80\x80", /* past U+10FFFF */
        "\xC3",             /* cut short by the NUL */
        "\xF5\x80\x80\x80",
    };
    uint32_t cp;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(cs_utf8_decode((const unsigned char *)bad[i], &cp), 0, "sequence %zu", i);
}

/* ---- the record's time format ------------------------------------------ */

#define T_2026_03_01 1772323200 /* 2026-03-01T00:00:00Z */
#define DAY 86400

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

/* ---- the error convention ---------------------------------------------- */

Test(error, own_codes_are_named_and_apart_from_libuv)
{
#define X(name, off, text)                                                                         \
    cr_assert_lt(CS_##name, UV_EOF);                                                               \
    cr_assert_str_eq(cs_strerror(CS_##name), text);
    CS_ERRORS(X)
#undef X
    cr_assert_str_eq(cs_strerror(0), "success");
}

Test(error, libuv_codes_and_negated_errno_pass_through)
{
    cr_assert_str_eq(cs_strerror(UV_ECONNREFUSED), uv_strerror(UV_ECONNREFUSED));
    cr_assert_str_eq(cs_strerror(-ENOENT), uv_strerror(UV_ENOENT));
    cr_assert_eq(-ENOENT, UV_ENOENT);
    cr_assert_str_eq(cs_strerror(UV_EOF), "end of file");
}
