/* The JSON Lines writer: one object per record, nothing for no records. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/report_fixture.h"

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
