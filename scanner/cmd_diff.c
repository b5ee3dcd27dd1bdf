/* certsweep diff OLD NEW: what changed between two scans' reports (any mix
 * of JSON, JSON Lines and CSV), as a change report in text, CSV, JSON or
 * JSON Lines.  Endpoints are matched on host (in any case), port, SNI and
 * protocol, and on the address when a report holds several records for one
 * such endpoint.  OLD is kept in memory in a compact form (about 150 bytes an
 * endpoint); NEW is streamed; only the changes are kept for the report.
 * Exit 1 when an endpoint got worse, so diff gates a pipeline on
 * regressions; 0 otherwise. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sqlite3.h>

#include "report/json_record.h"
#include "report/outfile.h"
#include "report/read.h"
#include "report/report.h"
#include "scanner/commands.h"
#include "scanner/error.h"
#include "scanner/history.h"
#include "scanner/options.h"
#include "scanner/targets.h"

/* The kinds of change, in the order reports list them. */
#define DIFF_KINDS(X)                                                                              \
    X(WORSE, "worse")                                                                              \
    X(BETTER, "better")                                                                            \
    X(RENEWED, "renewed")                                                                          \
    X(REPLACED, "replaced")                                                                        \
    X(NEW, "new")                                                                                  \
    X(GONE, "gone")                                                                                \
    X(SAME, "same")

enum diff_kind {
#define X(id, name) DIFF_##id,
    DIFF_KINDS(X)
#undef X
        DIFF_KIND_COUNT
};

static const char *const diff_kind_names[] = {
#define X(id, name) name,
    DIFF_KINDS(X)
#undef X
};

/* One endpoint of OLD, or the NEW side of a change. */
struct diff_ep {
    char *blob; /* "host\0sni\0protocol\0address\0": one allocation */
    int64_t port;
    int64_t not_after;
    enum cs_status status;
    bool has_sha;
    bool matched;
    unsigned char sha[32];
    uint64_t hash; /* of host (lower case), port, sni, protocol */
};

struct diff_change {
    enum diff_kind kind;
    struct diff_ep old, cur; /* cur: NEW's (blob NULL for gone); old: blob NULL for new */
    char *reason;            /* NEW's reason (OLD's for gone) */
};

struct diff_state {
    struct diff_ep *eps; /* OLD */
    size_t n, cap;
    uint32_t *index; /* open addressing into eps, +1 (0: empty) */
    size_t index_cap;
    struct diff_change *changes;
    size_t n_changes, cap_changes;
    uint64_t count[DIFF_KIND_COUNT];
};

static const char *ep_host(const struct diff_ep *e)
{
    return e->blob;
}
static const char *ep_sni(const struct diff_ep *e)
{
    return e->blob + strlen(e->blob) + 1;
}
static const char *ep_protocol(const struct diff_ep *e)
{
    const char *s = ep_sni(e);
    return s + strlen(s) + 1;
}
static const char *ep_address(const struct diff_ep *e)
{
    const char *p = ep_protocol(e);
    return p + strlen(p) + 1;
}

static uint64_t diff_hash(const struct cs_result *r)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    const char *parts[] = {r->host, r->sni, r->protocol};
    for (size_t i = 0; i < 3; i++) {
        for (const char *p = parts[i] ? parts[i] : ""; *p; p++) {
            unsigned char c = (unsigned char)*p;
            h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 0x100000001b3ull;
        }
        h = (h ^ 0xffu) * 0x100000001b3ull;
    }
    return (h ^ (uint64_t)r->port) * 0x100000001b3ull;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void ep_from(struct diff_ep *e, const struct cs_result *r)
{
    const char *parts[] = {r->host ? r->host : "", r->sni ? r->sni : "",
                           r->protocol ? r->protocol : "", r->address ? r->address : ""};
    size_t len = 0;
    for (size_t i = 0; i < 4; i++)
        len += strlen(parts[i]) + 1;
    memset(e, 0, sizeof(*e));
    e->blob = cs_xmalloc(len);
    for (size_t i = 0, o = 0; i < 4; i++) {
        size_t n = strlen(parts[i]) + 1;
        memcpy(e->blob + o, parts[i], n);
        o += n;
    }
    e->port = r->port;
    e->not_after = r->not_after;
    e->status = r->status;
    e->hash = diff_hash(r);
    if (r->sha256 && strlen(r->sha256) == 64) {
        e->has_sha = true;
        for (size_t i = 0; i < 32 && e->has_sha; i++) {
            int hi = hexval(r->sha256[2 * i]), lo = hexval(r->sha256[2 * i + 1]);
            e->has_sha = hi >= 0 && lo >= 0;
            e->sha[i] = (unsigned char)(hi << 4 | lo);
        }
    }
}

/* Whether e is the endpoint of r, address aside. */
static bool ep_same(const struct diff_ep *e, const struct cs_result *r)
{
    return e->port == r->port && strcasecmp(ep_host(e), r->host ? r->host : "") == 0 &&
           strcmp(ep_sni(e), r->sni ? r->sni : "") == 0 &&
           strcmp(ep_protocol(e), r->protocol ? r->protocol : "") == 0;
}

static void index_put(uint32_t *index, size_t cap, const struct diff_ep *eps, uint32_t i)
{
    size_t h = (size_t)(eps[i].hash * 0x9E3779B97F4A7C15ull) & (cap - 1);
    while (index[h])
        h = (h + 1) & (cap - 1);
    index[h] = i + 1;
}

static void diff_add_old(struct diff_state *d, const struct cs_result *r)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 1024;
        d->eps = cs_xrealloc(d->eps, d->cap * sizeof(*d->eps));
    }
    ep_from(&d->eps[d->n], r);
    if ((d->n + 1) * 2 > d->index_cap) {
        free(d->index);
        d->index_cap = d->index_cap ? 2 * d->index_cap : 2048;
        d->index = cs_xcalloc(d->index_cap, sizeof(*d->index));
        for (size_t i = 0; i < d->n; i++)
            index_put(d->index, d->index_cap, d->eps, (uint32_t)i);
    }
    index_put(d->index, d->index_cap, d->eps, (uint32_t)d->n);
    d->n++;
}

/* OLD's endpoint for NEW's record r: the unmatched one with r's address, or
   else the only one of that endpoint; NULL if none. */
static struct diff_ep *diff_match(struct diff_state *d, const struct cs_result *r)
{
    if (!d->index_cap)
        return NULL;
    uint64_t h = diff_hash(r);
    struct diff_ep *only = NULL;
    size_t same = 0;
    for (size_t k = (size_t)(h * 0x9E3779B97F4A7C15ull) & (d->index_cap - 1); d->index[k];
         k = (k + 1) & (d->index_cap - 1)) {
        struct diff_ep *e = &d->eps[d->index[k] - 1];
        if (e->hash != h || !ep_same(e, r))
            continue;
        if (!e->matched && strcmp(ep_address(e), r->address ? r->address : "") == 0)
            return e;
        only = e;
        same++;
    }
    return same == 1 && !only->matched ? only : NULL;
}

static enum diff_kind diff_classify(const struct diff_ep *old, const struct diff_ep *cur)
{
    int was = cs_status_urgency(old->status), is = cs_status_urgency(cur->status);
    if (is < was)
        return DIFF_WORSE;
    if (old->has_sha && cur->has_sha && memcmp(old->sha, cur->sha, 32) != 0)
        return cur->not_after != CS_INT_NONE &&
                       (old->not_after == CS_INT_NONE || cur->not_after > old->not_after)
                   ? DIFF_RENEWED
                   : DIFF_REPLACED;
    return is > was ? DIFF_BETTER : DIFF_SAME;
}

static void diff_note(struct diff_state *d, enum diff_kind kind, const struct diff_ep *old,
                      const struct diff_ep *cur, const char *reason)
{
    d->count[kind]++;
    if (kind == DIFF_SAME)
        return;
    if (d->n_changes == d->cap_changes) {
        d->cap_changes = d->cap_changes ? 2 * d->cap_changes : 64;
        d->changes = cs_xrealloc(d->changes, d->cap_changes * sizeof(*d->changes));
    }
    struct diff_change *c = &d->changes[d->n_changes++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    if (old) {
        c->old = *old;
        size_t len = 0; /* the blob's four strings */
        for (int i = 0; i < 4; i++)
            len += strlen(old->blob + len) + 1;
        c->old.blob = cs_xmalloc(len);
        memcpy(c->old.blob, old->blob, len);
    }
    if (cur)
        c->cur = *cur; /* takes its blob */
    c->reason = cs_strdup(reason ? reason : "");
}

/* ---- the change report -------------------------------------------------------------------- */

static const struct diff_ep *chg_ep(const struct diff_change *c)
{
    return c->cur.blob ? &c->cur : &c->old;
}

static int chg_cmp(const void *a, const void *b)
{
    const struct diff_change *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = strcasecmp(ep_host(chg_ep(x)), ep_host(chg_ep(y)));
    if (c)
        return c;
    if (chg_ep(x)->port != chg_ep(y)->port)
        return chg_ep(x)->port < chg_ep(y)->port ? -1 : 1;
    return strcmp(ep_address(chg_ep(x)), ep_address(chg_ep(y)));
}

static void fmt_time(int64_t t, char buf[24])
{
    if (t == CS_INT_NONE)
        strcpy(buf, "");
    else
        cs_format_time(t, buf);
}

static const char *status_of(const struct diff_ep *e)
{
    return e->blob ? cs_status_name(e->status) : "";
}

static void sha_hex(const struct diff_ep *e, char out[65])
{
    out[0] = '\0';
    if (!e->blob || !e->has_sha)
        return;
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02X", e->sha[i]);
}

struct diff_report {
    const char *old_name, *new_name;
    const struct diff_state *d;
    uint64_t endpoints; /* NEW's and gone ones */
    bool partial;       /* NEW was interrupted: nothing is called gone */
};

static void text_row(FILE *out, const struct diff_change *c)
{
    const struct diff_ep *e = chg_ep(c);
    char host[300], ep[340], reason[200], st[40], na[60], a[24], b[24];
    cs_escape(ep_host(e), strlen(ep_host(e)), host, 120);
    if (e->port == CS_INT_NONE) /* a bad target line's */
        snprintf(ep, sizeof(ep), "%s", host);
    else
        snprintf(ep, sizeof(ep), "%s:%lld", host, (long long)e->port);
    cs_escape(c->reason, strlen(c->reason), reason, 80);
    fmt_time(c->old.blob ? c->old.not_after : CS_INT_NONE, a);
    fmt_time(c->cur.blob ? c->cur.not_after : CS_INT_NONE, b);
    a[10] = b[10] = '\0'; /* the date is enough in a table */
    snprintf(st, sizeof(st), "%s -> %s", c->old.blob ? status_of(&c->old) : "-",
             c->cur.blob ? status_of(&c->cur) : "-");
    snprintf(na, sizeof(na), "%s -> %s", *a ? a : "-", *b ? b : "-");
    fprintf(out, "%-9s %-38s %-11s %-21s %-24s %s\n", diff_kind_names[c->kind], ep,
            ep_protocol(e)[0] ? ep_protocol(e) : "-", st, na, reason);
}

static void write_text(FILE *out, const struct diff_report *rp)
{
    const struct diff_state *d = rp->d;
    fprintf(out, "%-9s %-38s %-11s %-21s %-24s %s\n", "CHANGE", "HOST:PORT", "PROTOCOL", "STATUS",
            "NOT AFTER", "REASON");
    for (size_t i = 0; i < d->n_changes; i++)
        text_row(out, &d->changes[i]);
    fprintf(out, "%zu changed of %llu endpoints:", d->n_changes, (unsigned long long)rp->endpoints);
    for (int k = 0; k < DIFF_KIND_COUNT; k++)
        fprintf(out, "%s %llu %s",
                k == 0           ? ""
                : k == DIFF_SAME ? ";"
                                 : ",",
                (unsigned long long)d->count[k], diff_kind_names[k]);
    fputs(rp->partial ? " (NEW is partial: nothing is called gone)\n" : "\n", out);
}

/* One CSV cell: quoted when it must be, a formula's first character
   defused as the scan's CSV is. */
static void diff_csv_cell(FILE *out, const char *s, bool last)
{
    bool formula = s[0] && strchr("=+-@\t\r", s[0]);
    bool quote = s[0] && (strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[strlen(s) - 1] == ' ');
    if (quote)
        fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    if (quote)
        fputc('"', out);
    fputc(last ? '\n' : ',', out);
}

#define DIFF_COLUMNS                                                                               \
    "change", "host", "port", "sni", "protocol", "address", "old_status", "new_status",            \
        "old_not_after", "new_not_after", "old_sha256", "new_sha256", "reason"

/* The change's cells, in DIFF_COLUMNS order, into bufs. */
static void change_cells(const struct diff_change *c, const char *cells[13], char port[24],
                         char t[2][24], char sha[2][65])
{
    const struct diff_ep *e = chg_ep(c);
    snprintf(port, 24, "%lld", (long long)e->port);
    if (e->port == CS_INT_NONE)
        port[0] = '\0';
    fmt_time(c->old.blob ? c->old.not_after : CS_INT_NONE, t[0]);
    fmt_time(c->cur.blob ? c->cur.not_after : CS_INT_NONE, t[1]);
    sha_hex(&c->old, sha[0]);
    sha_hex(&c->cur, sha[1]);
    const char *v[13] = {diff_kind_names[c->kind],
                         ep_host(e),
                         port,
                         ep_sni(e),
                         ep_protocol(e),
                         ep_address(e),
                         status_of(&c->old),
                         status_of(&c->cur),
                         t[0],
                         t[1],
                         sha[0],
                         sha[1],
                         c->reason};
    memcpy(cells, v, sizeof(v));
}

static void write_csv(FILE *out, const struct diff_report *rp)
{
    static const char *const cols[] = {DIFF_COLUMNS};
    for (size_t j = 0; j < 13; j++)
        fprintf(out, "%s%c", cols[j], j + 1 < 13 ? ',' : '\n');
    for (size_t i = 0; i < rp->d->n_changes; i++) {
        const char *cells[13];
        char port[24], t[2][24], sha[2][65];
        change_cells(&rp->d->changes[i], cells, port, t, sha);
        for (size_t j = 0; j < 13; j++)
            diff_csv_cell(out, cells[j], j + 1 == 13);
    }
}

/* A change as a JSON object: nulls where a side or a value is absent. */
static json_t *change_json(const struct diff_change *c)
{
    static const char *const cols[] = {DIFF_COLUMNS};
    const char *cells[13];
    char port[24], t[2][24], sha[2][65];
    change_cells(c, cells, port, t, sha);
    json_t *o = json_object();
    for (size_t j = 0; o && j < 13; j++) {
        json_t *v;
        if (j == 2)
            v = port[0] ? json_integer((json_int_t)chg_ep(c)->port) : json_null();
        else if (j >= 6 && j <= 11 && !cells[j][0])
            v = json_null(); /* a side, a date or a certificate that is not there */
        else
            v = cs__json_string(cells[j]);
        if (json_object_set_new(o, cols[j], v) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

static int write_json(FILE *out, const struct diff_report *rp, bool lines)
{
    const struct diff_state *d = rp->d;
    if (lines) {
        for (size_t i = 0; i < d->n_changes; i++) {
            json_t *o = change_json(&d->changes[i]);
            if (!o ||
                json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0) {
                json_decref(o);
                return -ENOMEM;
            }
            json_decref(o);
            fputc('\n', out);
        }
        return 0;
    }
    json_t *doc = json_object(), *sum = json_object(), *arr = json_array();
    int rc = doc && sum && arr ? 0 : -1;
    for (int k = 0; !rc && k < DIFF_KIND_COUNT; k++)
        rc = json_object_set_new(sum, diff_kind_names[k], json_integer((json_int_t)d->count[k]));
    for (size_t i = 0; !rc && i < d->n_changes; i++)
        rc = json_array_append_new(arr, change_json(&d->changes[i]));
    if (!rc)
        rc = json_object_set_new(doc, "old", json_string(rp->old_name)) |
             json_object_set_new(doc, "new", json_string(rp->new_name)) |
             json_object_set_new(doc, "endpoints", json_integer((json_int_t)rp->endpoints)) |
             json_object_set_new(doc, "partial", json_boolean(rp->partial)) |
             json_object_set_new(doc, "summary", sum) | json_object_set_new(doc, "changes", arr);
    else {
        json_decref(sum);
        json_decref(arr);
    }
    if (!rc)
        rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (!rc)
        fputc('\n', out);
    return rc ? -ENOMEM : 0;
}

static int write_report(FILE *out, const char *format, const struct diff_report *rp)
{
    int rc = 0;
    if (strcmp(format, "csv") == 0)
        write_csv(out, rp);
    else if (strcmp(format, "json") == 0 || strcmp(format, "jsonl") == 0)
        rc = write_json(out, rp, format[4] == 'l');
    else
        write_text(out, rp);
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = errno ? -errno : -EIO;
    return rc;
}

/* ---- reading and matching ----------------------------------------------------------------- */

/* Opens a report to compare.  One written with --only lists some endpoints
   only: the others would read as gone or new, and an endpoint that left the
   filter as gone rather than renewed or better, so it is refused (NULL,
   said). */
static struct cs_report_reader *diff_open(const char *path)
{
    char err[1024];
    struct cs_report_reader *rd = cs_report_open(path, err, sizeof(err));
    if (!rd) {
        fprintf(stderr, "certsweep: %s\n", err);
        return NULL;
    }
    unsigned only = cs_report_meta(rd)->only;
    if (only) {
        char words[64];
        cs_report_only_words(only, words, sizeof(words));
        fprintf(stderr,
                "certsweep: %s: written with --only %s, so it lists some endpoints only: diff "
                "reports of scans without --only\n",
                path, words);
        cs_report_close(rd);
        return NULL;
    }
    return rd;
}

static int diff_read_old(struct diff_state *d, const char *path)
{
    char err[1024];
    struct cs_report_reader *rd = diff_open(path);
    if (!rd)
        return CS_EXIT_NOINPUT;
    struct cs_result r;
    int got;
    while ((got = cs_report_next(rd, &r, err, sizeof(err))) > 0) {
        diff_add_old(d, &r);
        cs_result_free(&r);
    }
    cs_report_close(rd);
    if (got < 0) {
        fprintf(stderr, "certsweep: %s\n", err);
        return CS_EXIT_NOINPUT;
    }
    return 0;
}

/* One record of NEW, matched with OLD's. */
static void diff_take_new(struct diff_state *d, const struct cs_result *r, struct diff_report *rp)
{
    struct diff_ep cur;
    ep_from(&cur, r);
    struct diff_ep *old = diff_match(d, r);
    enum diff_kind kind = DIFF_NEW;
    if (old) {
        old->matched = true;
        kind = diff_classify(old, &cur);
    }
    diff_note(d, kind, old, &cur, r->reason);
    if (kind == DIFF_SAME)
        free(cur.blob);
    rp->endpoints++;
}

/* OLD's endpoints NEW did not have (unless NEW is partial). */
static void diff_gone(struct diff_state *d, struct diff_report *rp)
{
    for (size_t i = 0; i < d->n && !rp->partial; i++)
        if (!d->eps[i].matched) {
            diff_note(d, DIFF_GONE, &d->eps[i], NULL, "");
            rp->endpoints++;
        }
}

/* The observations of one scan of a history database, each to take(). */
static int history_scan(sqlite3 *db, int64_t scan, struct diff_state *d, struct diff_report *rp)
{
    static const char sql[] =
        "SELECT e.host, e.port, e.sni, e.protocol, o.address, o.status, o.reason, o.not_after,"
        " o.serial, o.sha256, o.issuer FROM observations o"
        " JOIN endpoints e ON e.id = o.endpoint_id WHERE o.scan_id = ?1 ORDER BY o.id";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, scan);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cs_result r;
        cs_result_init(&r);
        char **str[] = {&r.host,   NULL, &r.sni,    &r.protocol, &r.address, NULL,
                        &r.reason, NULL, &r.serial, &r.sha256,   &r.issuer};
        for (int c = 0; c < 11; c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            if (str[c] && t) {
                free(*str[c]);
                *str[c] = cs_strdup((const char *)t);
            }
        }
        r.port = sqlite3_column_int64(st, 1);
        const unsigned char *status = sqlite3_column_text(st, 5);
        int status_v = status ? cs_status_parse((const char *)status) : -1;
        r.status = status_v >= 0 ? (enum cs_status)status_v : CS_ERROR;
        r.not_after =
            sqlite3_column_type(st, 7) == SQLITE_NULL ? CS_INT_NONE : sqlite3_column_int64(st, 7);
        if (rp)
            diff_take_new(d, &r, rp);
        else
            diff_add_old(d, &r);
        cs_result_free(&r);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* --history FILE.db: its last two complete scans, as OLD and NEW. */
static int diff_read_history(struct diff_state *d, const char *path, struct diff_report *rp)
{
    enum cs_history_fault fault;
    char err[1024];
    sqlite3 *db = cs_history_open_readonly(path, &fault, err, sizeof(err));
    if (!db) {
        fprintf(stderr, "certsweep: %s\n", err);
        return CS_EXIT_NOINPUT;
    }
    int64_t scans[2];
    int n = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id FROM scans WHERE complete = 1 ORDER BY id DESC LIMIT 2",
                           -1, &st, NULL) == SQLITE_OK) {
        while (n < 2 && sqlite3_step(st) == SQLITE_ROW)
            scans[n++] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    int rc = 0;
    if (n < 2) {
        fprintf(stderr, "certsweep: %s: %d complete scan%s recorded; diff needs two\n", path, n,
                n == 1 ? "" : "s");
        rc = CS_EXIT_NOINPUT;
    } else if (history_scan(db, scans[1], d, NULL) < 0 || history_scan(db, scans[0], d, rp) < 0) {
        fprintf(stderr, "certsweep: %s: cannot be read: %s\n", path, sqlite3_errmsg(db));
        rc = CS_EXIT_NOINPUT;
    } else {
        diff_gone(d, rp);
    }
    sqlite3_close(db);
    return rc;
}

static int diff_read_new(struct diff_state *d, const char *path, struct diff_report *rp)
{
    char err[1024];
    struct cs_report_reader *rd = diff_open(path);
    if (!rd)
        return CS_EXIT_NOINPUT;
    rp->partial = !cs_report_meta(rd)->complete;
    struct cs_result r;
    int got;
    while ((got = cs_report_next(rd, &r, err, sizeof(err))) > 0) {
        diff_take_new(d, &r, rp);
        cs_result_free(&r);
    }
    cs_report_close(rd);
    if (got < 0) {
        fprintf(stderr, "certsweep: %s\n", err);
        return CS_EXIT_NOINPUT;
    }
    diff_gone(d, rp);
    return 0;
}

static void diff_free(struct diff_state *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->eps[i].blob);
    for (size_t i = 0; i < d->n_changes; i++) {
        free(d->changes[i].old.blob);
        free(d->changes[i].cur.blob);
        free(d->changes[i].reason);
    }
    free(d->eps);
    free(d->index);
    free(d->changes);
}

static void diff_usage(FILE *out)
{
    fputs("usage: certsweep diff OLD NEW [-o FILE]... [-F FORMAT] [-q]\n"
          "       certsweep diff --history FILE.db [-o FILE]... [-F FORMAT] [-q]\n"
          "What changed between two reports (JSON, JSON Lines or CSV, any mix): endpoints "
          "that got worse, better, renewed, replaced, new and gone, with their old and new "
          "status and notAfter; with --history, the last two complete scans of a history "
          "database.  Exit 1 when an endpoint got worse, 0 otherwise.\n",
          out);
}

/* Writes the change report to every -o file and standard output. */
static int diff_write(const struct cs_options *o, const struct diff_report *rp)
{
    int rc = 0;
    bool to_stdout = false;
    for (size_t i = 0; i < o->n_outputs; i++) {
        const char *path = o->outputs[i].path;
        to_stdout |= strcmp(path, "-") == 0;
        struct cs_outfile of;
        int e = cs_outfile_open(&of, path);
        if (e < 0) {
            fprintf(stderr, "certsweep: %s: cannot create report: %s\n", path, cs_strerror(e));
            rc = rc ? rc : CS_EXIT_CANTCREAT;
            continue;
        }
        e = write_report(of.f, o->outputs[i].ops->name, rp);
        if (e < 0)
            cs_outfile_abandon(&of);
        else
            e = cs_outfile_commit(&of);
        if (e < 0 && e != -EPIPE) {
            fprintf(stderr, "certsweep: %s: writing the report failed: %s\n", path, cs_strerror(e));
            rc = rc ? rc : CS_EXIT_IOERR;
        }
    }
    if (!o->quiet && !to_stdout) {
        int e = write_report(stdout, o->stdout_format->name, rp);
        if (e < 0 && e != -EPIPE) {
            fprintf(stderr, "certsweep: standard output: writing the report failed: %s\n",
                    cs_strerror(e));
            rc = rc ? rc : CS_EXIT_IOERR;
        }
    }
    return rc;
}

static int diff_run(int argc, char **argv)
{
    static const char *const allowed[] = {"format", "help", "history", "output", "quiet", NULL};
    struct cs_options o;
    cs_options_init(&o);
    struct cs_cli_notes notes;
    enum cs_cli_result what = cs_cli_parse_command("diff", allowed, &o, argc, argv, &notes);
    if (what == CS_CLI_USAGE)
        fprintf(stderr, "certsweep diff: %s (see certsweep diff --help)\n", notes.error);
    cs_cli_notes_free(&notes);
    if (what == CS_CLI_OK && o.history && o.n_targets) {
        fprintf(stderr, "certsweep diff: --history or two reports, not both (see certsweep diff "
                        "--help)\n");
        what = CS_CLI_USAGE;
    } else if (what == CS_CLI_OK && !o.history && o.n_targets != 2) {
        fprintf(stderr,
                "certsweep diff: %s (give two reports: OLD NEW; see certsweep diff --help)\n",
                o.n_targets < 2 ? "too few reports" : "too many reports");
        what = CS_CLI_USAGE;
    }
    if (what != CS_CLI_OK) {
        if (what == CS_CLI_HELP)
            diff_usage(stdout);
        cs_options_free(&o);
        return what == CS_CLI_HELP ? CS_EXIT_OK : CS_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    struct diff_state d = {0};
    char old_name[64] = "the scan before the last", new_name[64] = "the last scan";
    struct diff_report rp = {.old_name = o.history ? old_name : o.targets[0],
                             .new_name = o.history ? new_name : o.targets[1],
                             .d = &d};
    int rc = o.history ? diff_read_history(&d, o.history, &rp) : diff_read_old(&d, o.targets[0]);
    if (!rc && !o.history)
        rc = diff_read_new(&d, o.targets[1], &rp);
    if (!rc) {
        if (rp.partial)
            fprintf(stderr,
                    "certsweep: %s: its scan was interrupted (\"complete\": false): endpoints "
                    "it lacks are not called gone\n",
                    o.targets[1]);
        if (d.n_changes) /* qsort wants an array, even of none */
            qsort(d.changes, d.n_changes, sizeof(*d.changes), chg_cmp);
        rc = diff_write(&o, &rp);
        if (!rc && d.count[DIFF_WORSE])
            rc = 1; /* the regression gate */
    }
    diff_free(&d);
    cs_options_free(&o);
    return rc;
}

const struct cs_command cs_command_diff = {
    .name = "diff",
    .usage = "OLD NEW [-o FILE]... [-F FORMAT]",
    .summary = "what changed between two reports; exit 1 when something got worse",
    .run = diff_run,
};
