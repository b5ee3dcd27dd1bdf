/* Reading reports back: a JSON document, JSON Lines or CSV report, as
 * certsweep's own writers make them, turned back into struct cs_result
 * records one at a time (certsweep diff and certsweep merge read them).
 *
 * Fields are taken by name, so a report from a version with fewer fields
 * (missing keys or columns are null) or more (unknown ones are ignored)
 * reads.  JSON Lines and CSV are streamed: one line or row at a time, each
 * under a hard cap, so a report of a million records costs one record's
 * memory.  A JSON document is one value and is loaded whole by jansson
 * (several KB per record while it is read); give JSON Lines for big ones.
 * CSV gives back what a CSV can hold: an empty cell is null, a text cell's
 * formula-defusing apostrophe is taken off, a cell the writer cut keeps its
 * cut text, and there is no chain.
 *
 * Any input that is not such a report (truncated JSON, a line or row over
 * its cap, a value of the wrong type) ends the reading with one line in err:
 * "FILE: line 7: "port" is a string, not a number". */
#ifndef CS_REPORT_READ_H
#define CS_REPORT_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "scanner/result.h"

/* The longest JSON line or CSV row taken (a record with a 10,000-name
   certificate and its whole chain is well below it).  A CSV row is measured
   as libcsv is fed, 64 KiB at a time, so one may pass it by less than that
   before it is refused. */
#define CS_READ_LINE_MAX ((size_t)16 << 20)
/* The largest JSON document taken. */
#define CS_READ_DOC_MAX ((uint64_t)4 << 30)

enum cs_report_format { CS_READ_JSON, CS_READ_JSONL, CS_READ_CSV };

/* What a report says about its scan besides its records.  Only a JSON
   document has a header: for JSON Lines and CSV, has_scan is false, the
   times are CS_INT_NONE, the thresholds -1 and complete true (nothing in
   them says otherwise). */
struct cs_report_meta {
    enum cs_report_format format;
    bool has_scan;
    bool complete;
    int64_t started_at, finished_at, now;
    int64_t warn_secs, crit_secs; /* -1: lifetime-aware */
    bool ocsp, crl, require_revocation;
    uint64_t ocsp_fetches, crl_fetches;
    uint64_t summary[CS_STATUS_COUNT]; /* the document's own summary */
    /* scan.only: bit (1 << status) per status the document's results were
       filtered to by --only (its summary still counts every record); 0:
       not filtered, or a format that cannot say (JSON Lines, CSV) */
    unsigned only;
};

struct cs_report_reader;

/* Opens path ("-": standard input).  The format comes from the extension
   (.json, .jsonl, .csv) or else from the first line.  A JSON document is
   read and checked here, whole.  NULL and "FILE: why" in err. */
struct cs_report_reader *cs_report_open(const char *path, char *err, size_t errlen);
const struct cs_report_meta *cs_report_meta(const struct cs_report_reader *rd);
/* The next record into *r (free it with cs_result_free): 1, 0 at the end,
   or -1 and "FILE: line N: why" in err (the reader is then done). */
int cs_report_next(struct cs_report_reader *rd, struct cs_result *r, char *err, size_t errlen);
void cs_report_close(struct cs_report_reader *rd);

/* --only's words for a filter: "problems" for every status but OK, else the
   statuses joined by commas ("expired,critical"); "" for 0. */
void cs_report_only_words(unsigned only, char *buf, size_t len);

#endif
