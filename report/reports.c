/* The writer registry: every report format in one plain array, looked up by
 * name (-F) or by an output file's extension (-o), and the thin wrappers that
 * keep a struct cs_writer's fields set around the format's callbacks. */
#include "report/report.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const struct cs_writer_ops *const writers[] = {
    &cs_writer_text, &cs_writer_csv,    &cs_writer_json, &cs_writer_jsonl,
    &cs_writer_prom, &cs_writer_nagios, &cs_writer_html,
};

#define WRITER_COUNT (sizeof(writers) / sizeof(writers[0]))

const struct cs_writer_ops *cs_writer_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < WRITER_COUNT; i++)
        if (strcmp(writers[i]->name, name) == 0)
            return writers[i];
    return NULL;
}

const struct cs_writer_ops *cs_writer_by_filename(const char *path)
{
    if (path == NULL)
        return NULL;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *ext = strrchr(base, '.');
    if (ext == NULL || ext == base) /* no extension, or a dot file like ".csv" */
        return NULL;
    for (size_t i = 0; i < WRITER_COUNT; i++)
        if (strcasecmp(writers[i]->extension, ext) == 0)
            return writers[i];
    return NULL;
}

void cs_writer_list(FILE *out)
{
    for (size_t i = 0; i < WRITER_COUNT; i++)
        fprintf(out, "  %-8s %s\n", writers[i]->name, writers[i]->extension);
}

int cs_writer_open(struct cs_writer *w, const struct cs_writer_ops *ops, FILE *out,
                   const struct cs_scan_info *info, unsigned flags)
{
    memset(w, 0, sizeof(*w));
    if (ops == NULL || out == NULL || info == NULL)
        return -EINVAL;
    w->ops = ops;
    w->out = out;
    w->info = info;
    w->flags = flags;
    int rc = ops->open(w, out, info);
    if (rc < 0)
        w->ops = NULL; /* open cleaned up after itself; record/close now refuse */
    return rc;
}

int cs_writer_record(struct cs_writer *w, const struct cs_result *r)
{
    if (w->ops == NULL)
        return -EINVAL;
    /* --only, once for every writer: the summary is counted by the caller
       from every record, the rows here only from those kept */
    unsigned only = w->info->only;
    if (only && !w->ops->every_record && !(only & (1u << r->status)))
        return 0;
    return w->ops->record(w, r);
}

int cs_writer_close(struct cs_writer *w, const struct cs_summary *s)
{
    if (w->ops == NULL)
        return -EINVAL;
    int rc = w->ops->close(w, s);
    w->ops = NULL; /* a second close is an error, not a double free */
    w->state = NULL;
    return rc;
}
