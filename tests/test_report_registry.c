/* The writer registry (lookup by name and by file name, the --help list)
 * and the wrappers around a writer's callbacks. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/report_fixture.h"

/* ---- registry ---------------------------------------------------------- */

TestSuite(reports);

Test(reports, lookup)
{
    cr_assert_eq(cs_writer_by_name("csv"), &cs_writer_csv);
    cr_assert_eq(cs_writer_by_name("json"), &cs_writer_json);
    cr_assert_eq(cs_writer_by_name("jsonl"), &cs_writer_jsonl);
    cr_assert_eq(cs_writer_by_name("text"), &cs_writer_text);
    cr_assert_eq(cs_writer_by_name("prom"), &cs_writer_prom);
    cr_assert_eq(cs_writer_by_name("nagios"), &cs_writer_nagios);
    cr_assert_eq(cs_writer_by_name("html"), &cs_writer_html);
    cr_assert_null(cs_writer_by_name("xml"));
    cr_assert_null(cs_writer_by_name(""));
    cr_assert_eq(cs_writer_by_filename("out/report.csv"), &cs_writer_csv);
    cr_assert_eq(cs_writer_by_filename("REPORT.CSV"), &cs_writer_csv);
    cr_assert_eq(cs_writer_by_filename("a.b/report.json"), &cs_writer_json);
    cr_assert_eq(cs_writer_by_filename("report.jsonl"), &cs_writer_jsonl);
    cr_assert_eq(cs_writer_by_filename("/tmp/report.txt"), &cs_writer_text);
    cr_assert_eq(cs_writer_by_filename("/var/lib/node_exporter/certs.prom"), &cs_writer_prom);
    cr_assert_eq(cs_writer_by_filename("/srv/www/Report.HTML"), &cs_writer_html);
    cr_assert_null(cs_writer_by_filename("report.htm"));
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
    cr_assert_str_eq(buf, "  text     .txt\n  csv      .csv\n  json     .json\n  jsonl    .jsonl\n"
                          "  prom     .prom\n  nagios   .nagios\n  html     .html\n");
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
