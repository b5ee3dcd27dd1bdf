/* JSON report: one document (the README's "JSON document"),
 *   {"scan": {...}, "summary": {...}, "complete": true, "results": [...]}
 * written at close, indented by two spaces.  Until then each record is kept
 * as its compact JSON text (a few hundred bytes), not as a jansson object
 * tree (several times that), so a scan of 10^6 endpoints stays affordable;
 * --sort orders them at close (completion order without it).
 * Also home of the record -> json_t conversion the jsonl writer shares.
 * Local names start with jsonw_: json_ is jansson's namespace. */
#include "report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_record.h"
#include "report/order.h"

struct jsonw_state {
    struct cs_order_buf rec; /* compact JSON text of each record, in completion order */
};

/* A copy of s with every byte that is not part of a valid UTF-8 sequence
 * replaced by U+FFFD. */
static char *jsonw_utf8_repair(const char *s)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    size_t n = strlen(s);
    char *out = cs_xmalloc(3 * n + 1); /* worst case: every byte replaced */
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        uint32_t cp;
        size_t len = cs_utf8_decode(p, &cp);
        if (len == 0) {
            memcpy(out + o, fffd, 3);
            o += 3;
            p++;
        } else {
            memcpy(out + o, p, len);
            o += len;
            p += len;
        }
    }
    out[o] = '\0';
    return out;
}

json_t *cs__json_string(const char *s)
{
    if (s == NULL)
        return json_null();
    json_t *j = json_string(s);
    if (j == NULL) {
        char *fixed = jsonw_utf8_repair(s);
        j = json_string(fixed);
        free(fixed);
    }
    return j;
}

static json_t *jsonw_time(int64_t t)
{
    if (t == CS_INT_NONE)
        return json_null();
    char buf[24];
    cs_format_time(t, buf);
    return json_string(buf);
}

static json_t *jsonw_value(const struct cs_value *v)
{
    switch (v->kind) {
    case CS_FK_STR:
    case CS_FK_STATUS:
    case CS_FK_TIME:
        return v->null ? json_null() : cs__json_string(v->s);
    case CS_FK_INT:
        return v->null ? json_null() : json_integer((json_int_t)v->i);
    case CS_FK_BOOL:
        return v->null ? json_null() : json_boolean(v->i);
    case CS_FK_LIST: {
        json_t *a = json_array();
        for (size_t i = 0; a != NULL && v->list != NULL && i < v->list->n; i++) {
            if (json_array_append_new(a, cs__json_string(v->list->v[i])) < 0) {
                json_decref(a);
                a = NULL;
            }
        }
        return a;
    }
    }
    return json_null();
}

/* The presented chain (--chain) as an array of objects, leaf first. */
static json_t *jsonw_chain(const struct cs_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < r->chain_n; i++) {
        const struct cs_chain_cert *c = &r->chain[i];
        char nb[24], na[24];
        cs_format_time(c->not_before, nb);
        cs_format_time(c->not_after, na);
        json_t *o = json_object();
        if (o == NULL || json_object_set_new(o, "subject", cs__json_string(c->subject)) < 0 ||
            json_object_set_new(o, "issuer", cs__json_string(c->issuer)) < 0 ||
            json_object_set_new(o, "serial", cs__json_string(c->serial)) < 0 ||
            json_object_set_new(o, "sha256", cs__json_string(c->sha256)) < 0 ||
            json_object_set_new(o, "key", cs__json_string(c->key)) < 0 ||
            json_object_set_new(o, "not_before",
                                c->not_before == CS_INT_NONE ? json_null() : cs__json_string(nb)) <
                0 ||
            json_object_set_new(o, "not_after",
                                c->not_after == CS_INT_NONE ? json_null() : cs__json_string(na)) <
                0 ||
            json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *cs__json_record(const struct cs_result *r)
{
    json_t *o = json_object();
    for (int f = 0; o != NULL && f < CS_FIELD_COUNT; f++) {
        struct cs_value v;
        cs_result_get(r, (enum cs_field)f, &v);
        /* json_object_set_new steals (and on failure frees) the value */
        if (json_object_set_new(o, cs_field_names[f], jsonw_value(&v)) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
    /* after every field: the labels, always (an empty object for none) */
    json_t *labels = o != NULL ? json_object() : NULL;
    for (size_t i = 0; labels != NULL && i < r->labels.n; i++)
        if (json_object_set_new(labels, r->labels.name[i], cs__json_string(r->labels.value[i])) <
            0) {
            json_decref(labels);
            labels = NULL;
        }
    if (o != NULL && (labels == NULL || json_object_set_new(o, "labels", labels) < 0)) {
        json_decref(o);
        o = NULL;
    }
    /* then an extension, never in the table's order */
    if (o != NULL && r->chain_n && json_object_set_new(o, "chain", jsonw_chain(r)) < 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Writes j indented by two spaces per level, as if it sat at nesting depth
 * `depth` of a larger document.  JSON text has no raw newlines inside
 * strings, so every '\n' of the dump starts a new line of structure. */
static int jsonw_put_nested(FILE *out, const json_t *j, int depth)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return -ENOMEM;
    for (const char *p = text; *p != '\0'; p++) {
        if (fputc(*p, out) == EOF)
            break;
        if (*p == '\n')
            fprintf(out, "%*s", 2 * depth, "");
    }
    free(text);
    return ferror(out) ? -EIO : 0;
}

/* --only's statuses, in the summary's order. */
static json_t *jsonw_only(unsigned only)
{
    json_t *a = json_array();
    for (int i = 0; a != NULL && i < CS_STATUS_COUNT; i++)
        if ((only & (1u << i)) &&
            json_array_append_new(a, json_string(cs_status_name((enum cs_status)i))) < 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

static json_t *jsonw_scan(const struct cs_scan_info *info, const struct cs_summary *s)
{
    json_t *th = json_object();
    json_t *scan = json_object();
    if (th == NULL || scan == NULL) {
        json_decref(th);
        json_decref(scan);
        return NULL;
    }
    bool warn_fixed = info->warn_secs >= 0, crit_fixed = info->crit_secs >= 0;
    const char *mode = warn_fixed && crit_fixed     ? "fixed"
                       : !warn_fixed && !crit_fixed ? "lifetime-aware"
                                                    : "mixed";
    int rc = 0;
    rc |= json_object_set_new(th, "warn_days",
                              warn_fixed ? json_integer(info->warn_secs / 86400) : json_null());
    rc |= json_object_set_new(th, "crit_days",
                              crit_fixed ? json_integer(info->crit_secs / 86400) : json_null());
    rc |= json_object_set_new(th, "mode", json_string(mode));
    json_t *rev = json_object();
    if (rev == NULL) {
        json_decref(th);
        json_decref(scan);
        return NULL;
    }
    rc |= json_object_set_new(rev, "staple", json_true());
    rc |= json_object_set_new(rev, "ocsp", json_boolean(info->ocsp));
    rc |= json_object_set_new(rev, "crl", json_boolean(info->crl));
    rc |= json_object_set_new(rev, "required", json_boolean(info->require_revocation));
    rc |= json_object_set_new(rev, "ocsp_fetches", json_integer((json_int_t)s->ocsp_fetches));
    rc |= json_object_set_new(rev, "crl_fetches", json_integer((json_int_t)s->crl_fetches));

    uint64_t targets = s->targets ? s->targets : info->targets;
    rc |= json_object_set_new(scan, "tool", cs__json_string(info->tool));
    rc |= json_object_set_new(scan, "version", cs__json_string(info->version));
    rc |= json_object_set_new(scan, "started_at", jsonw_time(info->started_at));
    rc |= json_object_set_new(scan, "finished_at", jsonw_time(s->finished_at));
    rc |= json_object_set_new(scan, "now", jsonw_time(info->now));
    rc |= json_object_set_new(scan, "thresholds", th);
    rc |= json_object_set_new(scan, "revocation", rev);
    rc |= json_object_set_new(scan, "targets", json_integer((json_int_t)targets));
    if (info->only) /* --only: results holds these statuses; summary counts every one */
        rc |= json_object_set_new(scan, "only", jsonw_only(info->only));
    if (rc != 0) {
        json_decref(scan);
        return NULL;
    }
    return scan;
}

static json_t *jsonw_summary(const struct cs_summary *s)
{
    json_t *o = json_object();
    for (int i = 0; o != NULL && i < CS_STATUS_COUNT; i++) {
        if (json_object_set_new(o, cs_status_name((enum cs_status)i),
                                json_integer((json_int_t)s->count[i])) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
    const struct cs_history_summary *h = s->history;
    if (o != NULL && h != NULL &&
        json_object_set_new(o, "gone",
                            h->gone_known ? json_integer((json_int_t)h->gone) : json_null()) < 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* --history: {"scan_id", "previous_scan_id", "changes": {"new": N, ...},
   "gone": N or null, "gone_endpoints": [{...}, ...]} */
static json_t *jsonw_history(const struct cs_history_summary *h)
{
    json_t *o = json_object(), *changes = json_object(), *gone = json_array();
    int rc = o && changes && gone ? 0 : -1;
    for (int i = 0; rc == 0 && i < CS_CHANGE_COUNT; i++)
        rc |= json_object_set_new(changes, cs_change_name((enum cs_change)i),
                                  json_integer((json_int_t)h->changes[i]));
    for (size_t i = 0; rc == 0 && i < h->gone_n; i++) {
        const struct cs_gone *g = &h->gone_list[i];
        json_t *e = json_object();
        rc |= e ? 0 : -1;
        rc |= json_object_set_new(e, "host", cs__json_string(g->host));
        rc |= json_object_set_new(e, "port", json_integer((json_int_t)g->port));
        rc |= json_object_set_new(e, "sni", cs__json_string(g->sni));
        rc |= json_object_set_new(e, "protocol", cs__json_string(g->protocol));
        rc |= json_object_set_new(e, "address", cs__json_string(g->address));
        rc |= json_object_set_new(e, "status", json_string(cs_status_name(g->status)));
        rc |= json_object_set_new(e, "not_after", jsonw_time(g->not_after));
        rc |= json_object_set_new(e, "last_seen", jsonw_time(g->last_seen));
        rc |= json_array_append_new(gone, e);
    }
    if (rc == 0) {
        rc |= json_object_set_new(o, "scan_id", json_integer(h->scan_id));
        rc |= json_object_set_new(o, "previous_scan_id",
                                  h->previous_scan_id ? json_integer(h->previous_scan_id)
                                                      : json_null());
        rc |= json_object_set_new(o, "changes", changes);
        rc |= json_object_set_new(o, "gone",
                                  h->gone_known ? json_integer((json_int_t)h->gone) : json_null());
        rc |= json_object_set_new(o, "gone_endpoints", gone);
        if (rc == 0)
            return o;
        changes = gone = NULL; /* o holds them */
    }
    json_decref(o);
    json_decref(changes);
    json_decref(gone);
    return NULL;
}

static void jsonw_state_free(struct jsonw_state *st)
{
    if (st == NULL)
        return;
    cs_order_buf_free(&st->rec);
    free(st);
}

static int jsonw_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    (void)out;
    (void)info;
    struct jsonw_state *st = cs_xcalloc(1, sizeof(*st));
    cs_order_buf_init(&st->rec, 0); /* as before --sort: bounded by the targets only */
    w->state = st;
    return 0;
}

static int jsonw_record(struct cs_writer *w, const struct cs_result *r)
{
    struct jsonw_state *st = w->state;
    json_t *rec = cs__json_record(r);
    if (rec == NULL)
        return -ENOMEM;
    char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rec);
    if (text == NULL)
        return -ENOMEM;
    return cs_order_add(&st->rec, r, text, strlen(text));
}

static int jsonw_write_results(FILE *out, const struct cs_order_buf *b)
{
    if (b->n == 0) {
        fputs("[]", out);
        return 0;
    }
    fputs("[\n    ", out);
    for (size_t i = 0; i < b->n; i++) {
        json_t *rec = json_loads(b->items[i].text, 0, NULL);
        if (rec == NULL)
            return -ENOMEM; /* we wrote that text ourselves: only memory can fail */
        int rc = jsonw_put_nested(out, rec, 2);
        json_decref(rec);
        if (rc < 0)
            return rc;
        fputs(i + 1 < b->n ? ",\n    " : "\n  ]", out);
    }
    return 0;
}

static int jsonw_close(struct cs_writer *w, const struct cs_summary *s)
{
    struct jsonw_state *st = w->state;
    FILE *out = w->out;
    json_t *scan = jsonw_scan(w->info, s);
    json_t *summary = jsonw_summary(s);
    int rc = scan != NULL && summary != NULL ? 0 : -ENOMEM;

    if (rc == 0) {
        fputs("{\n  \"scan\": ", out);
        rc = jsonw_put_nested(out, scan, 1);
    }
    if (rc == 0) {
        fputs(",\n  \"summary\": ", out);
        rc = jsonw_put_nested(out, summary, 1);
    }
    if (rc == 0 && s->history != NULL) {
        json_t *history = jsonw_history(s->history);
        fputs(",\n  \"history\": ", out);
        rc = history != NULL ? jsonw_put_nested(out, history, 1) : -ENOMEM;
        json_decref(history);
    }
    if (rc == 0) {
        fprintf(out, ",\n  \"complete\": %s,\n  \"results\": ", s->complete ? "true" : "false");
        cs_order_buf_sort(&st->rec, (enum cs_sort)w->info->sort);
        rc = jsonw_write_results(out, &st->rec);
    }
    if (rc == 0)
        fputs("\n}\n", out);
    if (rc == 0 && (fflush(out) == EOF || ferror(out)))
        rc = -EIO;
    json_decref(scan);
    json_decref(summary);
    jsonw_state_free(st);
    w->state = NULL;
    return rc;
}

const struct cs_writer_ops cs_writer_json = {
    .name = "json",
    .extension = ".json",
    .open = jsonw_open,
    .record = jsonw_record,
    .close = jsonw_close,
};
