/* The report loaders: what the end-to-end suites read back from a run's
 * reports, parsed (CSV with libcsv, JSON with jansson) and checked against
 * the record's layout, written here independently of the writers. */
#ifndef CS_TEST_REPORTS_H
#define CS_TEST_REPORTS_H

#include <stddef.h>

#include <jansson.h>

#include "tests/support/runner.h"

/* A parsed CSV document: rows of cells. */
struct csv_doc {
    char ***rows;   /* rows[i][j] */
    size_t *ncells; /* cells per row */
    size_t nrows;
};
int csv_doc_parse(const char *text, size_t len, struct csv_doc *d);
void csv_doc_free(struct csv_doc *d);
/* Cell of row (1-based data row; 0 is the header) by header name; NULL if absent. */
const char *csv_doc_get(const struct csv_doc *d, size_t row, const char *column);
/* First data row whose `column` equals value, or 0 if none. */
size_t csv_doc_find(const struct csv_doc *d, const char *column, const char *value);

/* The fields of a record, in the order of the CSV header and of a JSON
   record's keys: the README's record table.
   Spelled out here, not taken from the scanner's field table, so that the
   tests hold the code's order against an independent list. */
extern const char *const expected_fields[];
extern const size_t n_expected_fields;
/* Whether a run's reports have that layout: the CSV header is
   expected_fields (then the scan's label columns), every CSV row has as many
   cells, and every record in the JSON document's "results" has those keys
   in that order, then a "labels" object.  0, or -1 with the first
   difference in err. */
int check_record_layout(const struct csv_doc *csv, json_t *doc, char *err, size_t errlen);

/* One certsweep run and the CSV and JSON reports it wrote. */
struct report_scan {
    struct run_result run;
    char *csv_text;     /* the CSV as written */
    struct csv_doc csv; /* ... and parsed */
    json_t *json;
};

/* Reads back the reports of s's run: the CSV at csv_path and the JSON at
   json_path.  0, or -1 with what failed in err and no report kept. */
int read_reports(struct report_scan *s, const char *csv_path, const char *json_path, char *err,
                 size_t errlen);
/* Frees the run and its reports. */
void report_scan_free(struct report_scan *s);

/* JSON Schema validation (report/schema/, by tests/support/validate_report.py
   with python3-jsonschema): every JSON and JSON Lines report the tests make
   is checked against the shipped schemas.  read_reports validates the JSON it
   loads, and run_binary validates every JSON and JSON Lines report a
   certsweep run wrote (validate_run_reports), so a report that drifts from
   the schema fails the test that made it, with the validator's message. */

/* Validates n reports: kinds[i] "json" (a document) or "jsonl" (JSON Lines),
   at paths[i], against the schemas in $CS_TEST_SCHEMA_DIR (a test's own
   variant), else report/schema/.  0, or -1 with the validator's lines in
   err. */
int validate_reports(const char *const *kinds, const char *const *paths, size_t n, char *err,
                     size_t errlen);
/* Validates what a certsweep run with args (as given to run_binary, without
   the program name) wrote as JSON or JSON Lines: each -o/--output report by
   its FORMAT: prefix or extension, and standard output with -F json/jsonl or
   -o FORMAT:-.  Runs that were killed, subcommands other than merge, and
   reports that were not written are skipped.  0, or -1 with why in err. */
int validate_run_reports(const char *const *args, const struct run_result *r, char *err,
                         size_t errlen);

/* The record in a JSON document's "results" (or a JSONL array of records)
   whose host and port match; NULL if none. */
json_t *json_find_record(json_t *results, const char *host, long port);

#endif
