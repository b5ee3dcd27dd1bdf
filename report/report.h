/* Report writers: one file per format behind one interface (report/README.md).  A writer turns records into one output format; it never
 * closes the FILE it was given and never calls exit. */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdio.h>

#include "scanner/result.h"

struct cs_writer;

struct cs_writer_ops {
    const char *name;      /* "csv", "json", "jsonl", "text", "prom", "nagios", "html" */
    const char *extension; /* ".csv", ... : picks the format of an -o file */
    /* Called once before any record; info stays valid until close.  Returns 0
       or a negative errno-style code. */
    int (*open)(struct cs_writer *w, FILE *out, const struct cs_scan_info *info);
    /* Called once per endpoint, in completion order.  r is only borrowed:
       a writer that keeps records (text, json) copies what it needs. */
    int (*record)(struct cs_writer *w, const struct cs_result *r);
    /* Called once after the last record; writes any trailer and frees the
       writer's state (but not w itself and not the FILE). */
    int (*close)(struct cs_writer *w, const struct cs_summary *s);
};

/* struct cs_writer flags */
#define CS_WRITER_COLOR 0x1u   /* text: use ANSI colours */
#define CS_WRITER_CSV_RAW 0x2u /* csv: cells as they are, no formula defusing (--csv-raw) */

struct cs_writer {
    const struct cs_writer_ops *ops;
    FILE *out;
    const struct cs_scan_info *info;
    unsigned flags; /* CS_WRITER_* */
    void *state;    /* the format's own state */
};

/* Looks a format up by name ("csv") or by a file name's extension
 * ("report.csv"); NULL if none matches. */
const struct cs_writer_ops *cs_writer_by_name(const char *name);
const struct cs_writer_ops *cs_writer_by_filename(const char *path);
/* Prints "name (.ext)" lines for --help. */
void cs_writer_list(FILE *out);

/* Convenience wrappers that keep w->out/info set. */
int cs_writer_open(struct cs_writer *w, const struct cs_writer_ops *ops, FILE *out,
                   const struct cs_scan_info *info, unsigned flags);
int cs_writer_record(struct cs_writer *w, const struct cs_result *r);
int cs_writer_close(struct cs_writer *w, const struct cs_summary *s);

extern const struct cs_writer_ops cs_writer_csv;
extern const struct cs_writer_ops cs_writer_json;
extern const struct cs_writer_ops cs_writer_jsonl;
extern const struct cs_writer_ops cs_writer_text;
extern const struct cs_writer_ops cs_writer_prom;
extern const struct cs_writer_ops cs_writer_nagios;
extern const struct cs_writer_ops cs_writer_html;

#endif
