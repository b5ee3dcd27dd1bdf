/* JSON Lines report: one compact record object per line, written and flushed
 * as each endpoint completes, nothing else (the README's "JSON Lines").
 * On a stream that is not a regular file (standard output, a FIFO) a
 * consumer can follow it while the scan runs; a report file is renamed into
 * place at the end (outfile.h). */
#include "report/report.h"

#include <errno.h>

#include "report/json_record.h"

static int jsonl_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    (void)out;
    (void)info;
    w->state = NULL;
    return 0;
}

static int jsonl_record(struct cs_writer *w, const struct cs_result *r)
{
    json_t *rec = cs__json_record(r);
    if (rec == NULL)
        return -ENOMEM;
    int rc = json_dumpf(rec, w->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rec);
    if (rc < 0 || fputc('\n', w->out) == EOF || fflush(w->out) == EOF)
        return -EIO;
    return 0;
}

static int jsonl_close(struct cs_writer *w, const struct cs_summary *s)
{
    (void)s;
    return fflush(w->out) == EOF || ferror(w->out) ? -EIO : 0;
}

const struct cs_writer_ops cs_writer_jsonl = {
    .name = "jsonl",
    .extension = ".jsonl",
    .open = jsonl_open,
    .record = jsonl_record,
    .close = jsonl_close,
};
