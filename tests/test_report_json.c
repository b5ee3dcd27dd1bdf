/* The JSON writer: the document parsed back with jansson and compared value
 * by value, thresholds, and invalid UTF-8. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/report_fixture.h"

/* ---- JSON -------------------------------------------------------------- */

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
    static const char *const scan_keys[] = {"tool", "version",    "started_at", "finished_at",
                                            "now",  "thresholds", "revocation", "targets"};
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
