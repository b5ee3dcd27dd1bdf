/* Nagios / Icinga plugin output (`-F nagios`): one status line with
 * performance data, then one line per endpoint that is not OK, most urgent
 * first, as the plugin guidelines have it:
 *
 *   CERTSWEEP CRITICAL - 2 critical, 1 warning of 25 endpoints | ok=22 warning=1 ...
 *   CRITICAL: mismatch.example.com:443 - hostname mismatch: ...
 *
 * The state word is the one certsweep's exit code says (the counted
 * statuses under --fail-on; 3 is UNKNOWN), so the line and the code agree.
 * A '|' starts performance data for Nagios, so none may appear in the text:
 * it is written \x7C, as control characters and invalid UTF-8 are. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "report/order.h"
#include "scanner/options.h"

/* Hard cap of one endpoint's line (a host and a reason are far shorter). */
#define NAGIOS_LINE_BYTES ((size_t)64 << 10)

struct nagios_row {
    enum cs_status status;
    char *line;              /* "host:port - reason", escaped */
    struct cs_order_key key; /* most urgent first, as the plugin guidelines have it */
};

struct nagios_state {
    struct nagios_row *rows;
    size_t n, cap;
    int64_t min_days; /* CS_INT_NONE until a certificate is seen */
    uint64_t bad;     /* records of bad target lines */
    struct cs_buf b;
    int err;
};

static void nagios_append(struct cs_buf *b, const char *s, size_t n, int *err)
{
    int rc = cs_buf_append(b, s, n);
    if (rc < 0 && *err == 0)
        *err = rc;
}

/* Appends s with '|', control characters (C0, DEL, C1), bidi controls and
   invalid UTF-8 escaped, so that it stays one line of plugin text. */
static void nagios_text(struct cs_buf *b, const char *s, int *err)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p != '\0';) {
        uint32_t cp = 0;
        size_t len = cs_utf8_decode(p, &cp);
        char esc[16];
        bool pipe = cp == 0x7C; /* '|' would start performance data */
        if (len == 0 || cp < 0x20 || cp == 0x7F || pipe) {
            snprintf(esc, sizeof(esc), "\\x%02X", *p);
            nagios_append(b, esc, strlen(esc), err);
            len = 1;
        } else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
                   (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
            snprintf(esc, sizeof(esc), "\\u%04" PRIX32, cp);
            nagios_append(b, esc, strlen(esc), err);
        } else {
            nagios_append(b, (const char *)p, len, err);
        }
        p += len;
    }
}

/* The state word of a plugin exit code. */
static const char *nagios_state_name(int code)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    return code >= 0 && code <= 3 ? names[code] : "UNKNOWN";
}

static int nagios_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    (void)out, (void)info;
    struct nagios_state *st = cs_xcalloc(1, sizeof(*st));
    st->min_days = CS_INT_NONE;
    cs_buf_init(&st->b, NAGIOS_LINE_BYTES);
    w->state = st;
    return 0;
}

static int nagios_record(struct cs_writer *w, const struct cs_result *r)
{
    struct nagios_state *st = w->state;
    if (r->days_remaining != CS_INT_NONE &&
        (st->min_days == CS_INT_NONE || r->days_remaining < st->min_days))
        st->min_days = r->days_remaining;
    if (r->error && strncmp(r->error, "input: ", 7) == 0)
        st->bad++;
    if (r->status == CS_OK)
        return 0;
    cs_buf_reset(&st->b);
    bool v6 = r->host && strchr(r->host, ':') && r->port != CS_INT_NONE;
    nagios_append(&st->b, "[", v6, &st->err);
    nagios_text(&st->b, r->host, &st->err);
    nagios_append(&st->b, "]", v6, &st->err);
    if (r->port != CS_INT_NONE) {
        char port[24];
        snprintf(port, sizeof(port), ":%" PRId64, r->port);
        nagios_append(&st->b, port, strlen(port), &st->err);
    }
    nagios_append(&st->b, " - ", 3, &st->err);
    nagios_text(&st->b, r->reason && *r->reason ? r->reason : r->error, &st->err);
    if (st->err)
        return st->err;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 16;
        st->rows = cs_xrealloc(st->rows, st->cap * sizeof(*st->rows));
    }
    st->rows[st->n] = (struct nagios_row){
        .status = r->status,
        .line = cs_strndup(st->b.p, st->b.len),
    };
    cs_order_key_set(&st->rows[st->n].key, r, st->n);
    st->n++;
    return 0;
}

/* The exit code certsweep gives these counts (scanner/main.c): a bad target
   line counts as ERROR unless --fail-on never. */
static int nagios_code(const struct nagios_state *st, const struct cs_scan_info *info,
                       const struct cs_summary *s)
{
    int code = (int)cs_exit_code(s->count, info->fail_on);
    if (code == CS_EXIT_OK && st->bad && info->fail_on)
        code = CS_EXIT_ERROR;
    return code;
}

static void nagios_put_status(FILE *out, const struct nagios_state *st,
                              const struct cs_scan_info *info, const struct cs_summary *s)
{
    static const enum cs_status order[] = {CS_EXPIRED, CS_CRITICAL, CS_WARNING, CS_ERROR};
    static const char *const words[] = {"expired", "critical", "warning", "error"};
    uint64_t total = 0;
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        total += s->count[i];
    fprintf(out, "CERTSWEEP %s - ",
            s->complete ? nagios_state_name(nagios_code(st, info, s)) : "UNKNOWN");
    if (!s->complete)
        fputs("scan interrupted: ", out);
    bool listed = false;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (s->count[order[i]]) {
            fprintf(out, "%s%" PRIu64 " %s", listed ? ", " : "", s->count[order[i]], words[i]);
            listed = true;
        }
    if (listed)
        fprintf(out, " of %" PRIu64 " endpoint%s", total, total == 1 ? "" : "s");
    else if (total)
        fprintf(out, "%s%" PRIu64 " endpoint%s OK", total > 1 ? "all " : "", total,
                total == 1 ? "" : "s");
    else
        fputs("no endpoints", out);
    fprintf(out,
            " | ok=%" PRIu64 " warning=%" PRIu64 " critical=%" PRIu64 " expired=%" PRIu64
            " error=%" PRIu64,
            s->count[CS_OK], s->count[CS_WARNING], s->count[CS_CRITICAL], s->count[CS_EXPIRED],
            s->count[CS_ERROR]);
    if (st->min_days == CS_INT_NONE)
        fputs(" min_days=U", out);
    else
        fprintf(out, " min_days=%" PRId64, st->min_days);
    if (st->min_days != CS_INT_NONE && info->warn_secs >= 0 && info->crit_secs >= 0)
        fprintf(out, ";%" PRId64 ";%" PRId64, info->warn_secs / 86400, info->crit_secs / 86400);
    fputc('\n', out);
}

static void nagios_state_free(struct nagios_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->rows[i].line);
        cs_order_key_free(&st->rows[i].key);
    }
    free(st->rows);
    cs_buf_free(&st->b);
    free(st);
}

static int nagios_close(struct cs_writer *w, const struct cs_summary *s)
{
    struct nagios_state *st = w->state;
    int rc = st->err;
    if (rc == 0) {
        nagios_put_status(w->out, st, w->info, s);
        cs_order_sort(st->rows, st->n, sizeof(*st->rows), offsetof(struct nagios_row, key),
                      CS_SORT_URGENCY);
        for (size_t i = 0; i < st->n; i++)
            fprintf(w->out, "%s: %s\n", cs_status_name(st->rows[i].status), st->rows[i].line);
        rc = fflush(w->out) == EOF || ferror(w->out) ? -EIO : 0;
    }
    nagios_state_free(st);
    w->state = NULL;
    return rc;
}

const struct cs_writer_ops cs_writer_nagios = {
    .name = "nagios",
    .extension = ".nagios",
    .open = nagios_open,
    .record = nagios_record,
    .close = nagios_close,
    .every_record = true,
};
