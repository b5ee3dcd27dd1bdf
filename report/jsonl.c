/* JSON Lines report: one compact record object per line, written and flushed
 * as each endpoint completes, nothing else (the README's "JSON Lines").
 * On a stream that is not a regular file (standard output, a FIFO) a
 * consumer can follow it while the scan runs; a report file is renamed into
 * place at the end (outfile.h).  --sort holds the lines back instead
 * (report/order.h, at most CS_ORDER_MAX_BYTES) and writes them in its order
 * at close. */
#include "report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_record.h"
#include "report/order.h"

static int jsonl_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    (void)out;
    w->state = NULL;
    if (info->sort != CS_SORT_NONE) {
        struct cs_order_buf *b = cs_xmalloc(sizeof(*b));
        cs_order_buf_init(b, CS_ORDER_MAX_BYTES);
        w->state = b;
    }
    return 0;
}

static int jsonl_record(struct cs_writer *w, const struct cs_result *r)
{
    json_t *rec = cs__json_record(r);
    if (rec == NULL)
        return -ENOMEM;
    if (w->state != NULL) { /* --sort: the line waits for close */
        char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(rec);
        if (text == NULL)
            return -ENOMEM;
        size_t n = strlen(text);
        text = cs_xrealloc(text, n + 2);
        memcpy(text + n, "\n", 2);
        return cs_order_add(w->state, r, text, n + 1);
    }
    int rc = json_dumpf(rec, w->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rec);
    if (rc < 0 || fputc('\n', w->out) == EOF || fflush(w->out) == EOF)
        return -EIO;
    return 0;
}

static int jsonl_close(struct cs_writer *w, const struct cs_summary *s)
{
    (void)s;
    int rc = 0;
    struct cs_order_buf *b = w->state;
    if (b != NULL) {
        cs_order_buf_sort(b, (enum cs_sort)w->info->sort);
        rc = cs_order_buf_write(b, w->out);
        cs_order_buf_free(b);
        free(b);
        w->state = NULL;
    }
    return rc < 0 || fflush(w->out) == EOF || ferror(w->out) ? -EIO : 0;
}

const struct cs_writer_ops cs_writer_jsonl = {
    .name = "jsonl",
    .extension = ".jsonl",
    .open = jsonl_open,
    .record = jsonl_record,
    .close = jsonl_close,
};
