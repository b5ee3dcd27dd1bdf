/* Prometheus report: node_exporter's textfile-collector format (the text
 * exposition format, version 0.0.4), for `-o certs.prom` in the collector's
 * directory.  Every sample of a metric must sit in one group under its HELP
 * and TYPE lines, so each record is kept as a small row (its label set
 * rendered once, its status and notAfter) and everything is written at
 * close.  Label values are escaped as the format asks (backslash, double
 * quote, newline) and made valid UTF-8, which Prometheus requires of them;
 * label names and values never come from a certificate unescaped.
 *
 * Endpoints are identified by host, port, sni, protocol and address.  Two
 * records with the same identity (two identical bad target lines) would be
 * one series twice, which the collector refuses for the whole file: the
 * most urgent is kept. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A label value is cut to this many bytes (at a character boundary, with
   "..." after it): a certificate name can be long, a series should not be. */
#define PROM_VALUE_MAX 1024
/* Hard cap of one row's rendered labels, user labels included. */
#define PROM_ROW_BYTES ((size_t)256 << 10)

struct prom_row {
    char *id;   /* host="...",port="...",...: the endpoint's label set */
    char *info; /* subject="...",...: the certificate's, or NULL without one */
    enum cs_status status;
    int64_t not_after;
};

struct prom_state {
    struct prom_row *rows;
    size_t n, cap;
    struct cs_buf b; /* the row being rendered */
    int err;         /* the first failure (CS_ETOOBIG), reported by close */
};

static void prom_append(struct cs_buf *b, const char *s, size_t n, int *err)
{
    int rc = cs_buf_append(b, s, n);
    if (rc < 0 && *err == 0)
        *err = rc;
}

/* Appends s as the inside of a label value: invalid UTF-8 becomes U+FFFD,
   backslash, double quote and newline are escaped, and a value longer than
   PROM_VALUE_MAX bytes is cut. */
static void prom_value(struct cs_buf *b, const char *s, int *err)
{
    size_t used = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p != '\0';) {
        uint32_t cp;
        size_t len = cs_utf8_decode(p, &cp);
        const char *out = (const char *)p;
        size_t out_len = len;
        if (len == 0) {
            out = "\xEF\xBF\xBD";
            out_len = 3;
            len = 1;
        } else if (*p == '\\') {
            out = "\\\\";
            out_len = 2;
        } else if (*p == '"') {
            out = "\\\"";
            out_len = 2;
        } else if (*p == 0x0A) { /* a newline */
            out = "\\n";
            out_len = 2;
        }
        if (used + out_len > PROM_VALUE_MAX) {
            prom_append(b, "...", 3, err);
            return;
        }
        prom_append(b, out, out_len, err);
        used += out_len;
        p += len;
    }
}

static void prom_label(struct cs_buf *b, const char *name, const char *value, int *err)
{
    if (b->len > 0)
        prom_append(b, ",", 1, err);
    prom_append(b, name, strlen(name), err);
    prom_append(b, "=\"", 2, err);
    prom_value(b, value, err);
    prom_append(b, "\"", 1, err);
}

/* Label names certsweep uses itself; a user label of that name is written
   as label_NAME. */
static const char *const prom_own_names[] = {
    "host", "port", "sni", "protocol", "address", "status", "subject", "issuer", "serial", "sha256",
};

/* A user label's name as Prometheus takes one ([a-zA-Z_][a-zA-Z0-9_]*, not
   starting with "__", which is reserved): other characters become '_', and a
   name that would be invalid or one of certsweep's own gets "label_" before
   it. */
static void prom_label_name(const char *name, char *out, size_t len)
{
    bool prefix =
        name[0] == '\0' || (name[0] >= '0' && name[0] <= '9') || strncmp(name, "__", 2) == 0;
    for (size_t i = 0; i < sizeof(prom_own_names) / sizeof(prom_own_names[0]); i++)
        prefix |= strcmp(name, prom_own_names[i]) == 0;
    size_t o = 0;
    if (prefix)
        o = (size_t)snprintf(out, len, "label_");
    for (const char *p = name; *p != '\0' && o + 1 < len; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out[o++] = ok ? c : '_';
    }
    out[o] = '\0';
}

/* User labels (name=value pairs of the target), after certsweep's own. */
static void prom_user_labels(struct cs_buf *b, char *const *name, char *const *value, size_t n,
                             int *err)
{
    for (size_t i = 0; i < n; i++) {
        char label[160];
        prom_label_name(name[i], label, sizeof(label));
        prom_label(b, label, value[i], err);
    }
}

/* The record's labels (a targets line's name=value, an inventory's
   columns), as Prometheus labels. */
static void prom_record_labels(struct cs_buf *b, const struct cs_result *r, int *err)
{
    prom_user_labels(b, r->labels.name, r->labels.value, r->labels.n, err);
}

static char *prom_take(struct cs_buf *b)
{
    char *s = cs_strndup(b->p ? b->p : "", b->len);
    cs_buf_reset(b);
    return s;
}

static int prom_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    (void)out, (void)info;
    struct prom_state *st = cs_xcalloc(1, sizeof(*st));
    cs_buf_init(&st->b, PROM_ROW_BYTES);
    w->state = st;
    return 0;
}

static int prom_record(struct cs_writer *w, const struct cs_result *r)
{
    struct prom_state *st = w->state;
    char port[24] = "";
    if (r->port != CS_INT_NONE)
        snprintf(port, sizeof(port), "%" PRId64, r->port);
    cs_buf_reset(&st->b);
    prom_label(&st->b, "host", r->host, &st->err);
    prom_label(&st->b, "port", port, &st->err);
    prom_label(&st->b, "sni", r->sni, &st->err);
    prom_label(&st->b, "protocol", r->protocol, &st->err);
    prom_label(&st->b, "address", r->address, &st->err);
    prom_record_labels(&st->b, r, &st->err);
    if (st->err)
        return st->err;
    struct prom_row row = {.id = prom_take(&st->b), .status = r->status, .not_after = r->not_after};
    if (r->not_after != CS_INT_NONE) {
        prom_label(&st->b, "subject", r->subject, &st->err);
        prom_label(&st->b, "issuer", r->issuer, &st->err);
        prom_label(&st->b, "serial", r->serial, &st->err);
        prom_label(&st->b, "sha256", r->sha256, &st->err);
        row.info = prom_take(&st->b);
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->rows = cs_xrealloc(st->rows, st->cap * sizeof(*st->rows));
    }
    st->rows[st->n++] = row;
    return st->err;
}

/* By label set, then most urgent first: duplicates are neighbours, and the
   one kept comes first. */
static int prom_compare(const void *pa, const void *pb)
{
    const struct prom_row *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);
    if (c != 0)
        return c;
    return cs_status_urgency(a->status) - cs_status_urgency(b->status);
}

static void prom_family(FILE *out, const char *name, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void prom_put_rows(FILE *out, const struct prom_state *st)
{
    prom_family(out, "certsweep_cert_not_after_timestamp_seconds",
                "When the certificate the endpoint serves expires (its notAfter), in seconds "
                "since the epoch.");
    for (size_t i = 0; i < st->n; i++)
        if (st->rows[i].not_after != CS_INT_NONE)
            fprintf(out, "certsweep_cert_not_after_timestamp_seconds{%s} %" PRId64 "\n",
                    st->rows[i].id, st->rows[i].not_after);
    prom_family(out, "certsweep_endpoint_status",
                "The endpoint's status in the last scan: 1 for its status, 0 for the others.");
    for (size_t i = 0; i < st->n; i++)
        for (int s = 0; s < CS_STATUS_COUNT; s++)
            fprintf(out, "certsweep_endpoint_status{%s,status=\"%s\"} %d\n", st->rows[i].id,
                    cs_status_name((enum cs_status)s), (int)st->rows[i].status == s);
    prom_family(out, "certsweep_cert_info",
                "The certificate the endpoint serves: subject, issuer, serial and SHA-256 "
                "fingerprint (always 1).");
    for (size_t i = 0; i < st->n; i++)
        if (st->rows[i].info)
            fprintf(out, "certsweep_cert_info{%s,%s} 1\n", st->rows[i].id, st->rows[i].info);
}

static void prom_put_scan(FILE *out, const struct cs_scan_info *info, const struct cs_summary *s)
{
    prom_family(out, "certsweep_endpoints", "Endpoints of the last scan by status.");
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        fprintf(out, "certsweep_endpoints{status=\"%s\"} %" PRIu64 "\n",
                cs_status_name((enum cs_status)i), s->count[i]);
    prom_family(out, "certsweep_scan_start_timestamp_seconds",
                "When the last scan started, in seconds since the epoch.");
    fprintf(out, "certsweep_scan_start_timestamp_seconds %" PRId64 "\n", info->started_at);
    prom_family(out, "certsweep_scan_end_timestamp_seconds",
                "When the last scan ended, in seconds since the epoch.");
    fprintf(out, "certsweep_scan_end_timestamp_seconds %" PRId64 "\n", s->finished_at);
    int64_t took = s->finished_at - info->started_at;
    prom_family(out, "certsweep_scan_duration_seconds", "How long the last scan took.");
    fprintf(out, "certsweep_scan_duration_seconds %" PRId64 "\n", took > 0 ? took : 0);
    prom_family(out, "certsweep_scan_complete",
                "1 if the last scan ran to its end, 0 if it was interrupted.");
    fprintf(out, "certsweep_scan_complete %d\n", s->complete ? 1 : 0);
}

static void prom_state_free(struct prom_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->rows[i].id);
        free(st->rows[i].info);
    }
    free(st->rows);
    cs_buf_free(&st->b);
    free(st);
}

static int prom_close(struct cs_writer *w, const struct cs_summary *s)
{
    struct prom_state *st = w->state;
    int rc = st->err;
    if (rc == 0) {
        if (st->n > 0)
            qsort(st->rows, st->n, sizeof(*st->rows), prom_compare);
        size_t kept = 0;
        for (size_t i = 0; i < st->n; i++) {
            if (kept > 0 && strcmp(st->rows[kept - 1].id, st->rows[i].id) == 0) {
                free(st->rows[i].id);
                free(st->rows[i].info);
                continue;
            }
            st->rows[kept++] = st->rows[i];
        }
        st->n = kept;
        prom_put_rows(w->out, st);
        prom_put_scan(w->out, w->info, s);
        rc = fflush(w->out) == EOF || ferror(w->out) ? -EIO : 0;
    }
    prom_state_free(st);
    w->state = NULL;
    return rc;
}

const struct cs_writer_ops cs_writer_prom = {
    .name = "prom",
    .extension = ".prom",
    .open = prom_open,
    .record = prom_record,
    .close = prom_close,
    .every_record = true,
};
