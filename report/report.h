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
    /* Sees every record whatever --only says (prom, nagios: monitoring
       wants the whole scan); false: only the statuses --only keeps. */
    bool every_record;
};

/* struct cs_writer flags */
#define CS_WRITER_COLOR 0x1u   /* text: use ANSI colours */
#define CS_WRITER_CSV_RAW 0x2u /* csv: cells as they are, no formula defusing (--csv-raw) */
/* csv: for spreadsheets (--csv-excel): a UTF-8 BOM, CRLF rows, times as
   "YYYY-MM-DD HH:MM:SS" (UTC) */
#define CS_WRITER_CSV_EXCEL 0x4u

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

/* Appends s to b as the text table shows a cell: control characters (C0,
   DEL, C1, bidi controls) and invalid UTF-8 escaped as \xNN / \uNNNN, so
   that nothing in a certificate moves the cursor or recolours a terminal;
   cut to cap columns with "..." (0: no limit).  Returns the columns
   appended; a failed append (b's cap) is noted in *err.  (text.c) */
size_t cs_text_escape(struct cs_buf *b, const char *s, size_t cap, int *err);

extern const struct cs_writer_ops cs_writer_csv;
extern const struct cs_writer_ops cs_writer_json;
extern const struct cs_writer_ops cs_writer_jsonl;
extern const struct cs_writer_ops cs_writer_text;
extern const struct cs_writer_ops cs_writer_prom;
extern const struct cs_writer_ops cs_writer_nagios;
extern const struct cs_writer_ops cs_writer_html;

#endif
