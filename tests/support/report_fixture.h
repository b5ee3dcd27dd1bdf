/* What the report writer suites share: a scan's information, three awkward
 * records (healthy and full of characters to quote, hostile, an ERROR full
 * of nulls), a writer run into memory, and the checks of a JSON record.  Built into each test_report_*
 * program (it asserts with criterion), not into the support library. */
#ifndef CS_TEST_REPORT_FIXTURE_H
#define CS_TEST_REPORT_FIXTURE_H

#include <jansson.h>
#include <stddef.h>

#include "report/report.h"
#include "scanner/result.h"

#define T_2025_01_01 1735689600 /* 2025-01-01T00:00:00Z */
#define T_2026_03_01 1772323200 /* 2026-03-01T00:00:00Z */
#define DAY 86400
#define NREC 3

/* classified at T_2026_03_01, lifetime-aware thresholds */
extern const struct cs_scan_info test_info;

/* Replaces *field with a copy of s (NULL: none). */
void set_str(char **field, const char *s);
/* A healthy record with every field filled, full of characters that need
 * quoting or escaping. */
void make_ok(struct cs_result *r);
/* An expired certificate whose names carry newlines, CR, control characters,
 * terminal escapes and a spreadsheet formula. */
void make_hostile(struct cs_result *r);
/* An ERROR without a certificate: nulls everywhere. */
void make_error(struct cs_result *r);
/* The three above, in that order. */
void make_all(struct cs_result recs[NREC]);
void free_all(struct cs_result *recs, size_t n);
/* The summary of a complete scan of recs. */
struct cs_summary summarize(const struct cs_result *recs, size_t n);
/* Runs a writer over recs into memory; returns the bytes written.  flags:
 * CS_WRITER_COLOR, CS_WRITER_CSV_RAW. */
char *run_writer(const struct cs_writer_ops *ops, const struct cs_scan_info *info, unsigned flags,
                 const struct cs_result *recs, size_t n, size_t *len);

/* The keys of o, in document order, must be exactly names[0..n). */
void assert_keys(json_t *o, const char *const *names, size_t n);
/* Compares a parsed JSON record with the struct it came from, field by field. */
void assert_record(json_t *o, const struct cs_result *r);

#endif
