/* The notifier (notify.h): a bounded summary of the records, rendered as a
 * JSON document for webhooks and as a plain-text mail.
 *
 * What reaches a chat message or a mail header is kept from acting there:
 * the chat text puts every value that came from a target or a server
 * inside a code span, with backticks replaced and &, < and > written as
 * entities (Slack's <!channel> and <URL|text> syntax, Mattermost's
 * mentions and links do nothing inside one); the mail's only header values
 * are validated addresses and certsweep's own words; control characters
 * are escaped everywhere. */
#include "scanner/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/json_record.h"
#include "report/order.h"
#include "version.h"

extern char **environ;

/* One endpoint as the summary names it. */
struct entry {
    struct cs_order_key key; /* status, days, notAfter, port, the host as received */
    int rank;                /* changes: how notable (worse first) */
    char *host;              /* escaped for one line */
    char *sni;
    char *address;
    char *protocol;
    char *reason;
    char *change; /* NULL when records carry no change */
};

/* The K smallest entries by a key, in no order; `worst` is the largest of
   them once full, so most records cost one comparison. */
struct topk {
    struct entry *v;
    size_t n;
    size_t worst;
    uint64_t seen;
};

struct cs_notify {
    int change_field; /* the index of the "change" field, or -1 */
    bool history;     /* some record had a change: the scan kept a history */
    uint64_t count[CS_STATUS_COUNT];
    uint64_t changed;          /* records whose change is not "same" */
    uint64_t change_counts[6]; /* by rank */
    uint64_t records;          /* seen so far: each entry's completion order */
    struct topk problems, changes;
};

static const char *const change_names[] = {"worse", "new", "replaced", "renewed", "better"};
#define N_CHANGE_NAMES (sizeof(change_names) / sizeof(change_names[0]))

static int change_rank(const char *c)
{
    for (size_t i = 0; i < N_CHANGE_NAMES; i++)
        if (strcmp(c, change_names[i]) == 0)
            return (int)i;
    return (int)N_CHANGE_NAMES; /* a kind this build does not name */
}

/* A copy of s on one line: control characters (C0, DEL, C1), bidi controls
   and invalid UTF-8 written as \xNN or \uNNNN. */
static char *one_line(const char *s)
{
    struct cs_buf b;
    cs_buf_init(&b, 0);
    cs_buf_puts(&b, "");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p != '\0';) {
        uint32_t cp = 0;
        size_t len = cs_utf8_decode(p, &cp);
        char esc[16];
        if (len == 0 || cp < 0x20 || cp == 0x7F) {
            snprintf(esc, sizeof(esc), "\\x%02X", *p);
            cs_buf_puts(&b, esc);
            len = 1;
        } else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
                   (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
            snprintf(esc, sizeof(esc), "\\u%04" PRIX32, cp);
            cs_buf_puts(&b, esc);
        } else {
            cs_buf_append(&b, (const char *)p, len);
        }
        p += len;
    }
    char *out = cs_strndup(b.p, b.len);
    cs_buf_free(&b);
    return out;
}

static void entry_free(struct entry *e)
{
    cs_order_key_free(&e->key);
    free(e->host);
    free(e->sni);
    free(e->address);
    free(e->protocol);
    free(e->reason);
    free(e->change);
    memset(e, 0, sizeof(*e));
}

/* Problems in the report's urgency order (report/order.h), so the
   message lists them as the table does. */
static int problem_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    return cs_order_compare(&a->key, &b->key, CS_SORT_URGENCY);
}

/* Changes: the most notable kind first (worse, new, ...), then by name. */
static int change_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return cs_order_compare(&a->key, &b->key, CS_SORT_HOST);
}

/* Keeps e (taking it) if it is among the CS_NOTIFY_MAX_LISTED smallest. */
static void topk_offer(struct topk *t, struct entry *e, int (*cmp)(const void *, const void *))
{
    t->seen++;
    if (t->v == NULL)
        t->v = cs_xcalloc(CS_NOTIFY_MAX_LISTED, sizeof(*t->v));
    if (t->n < CS_NOTIFY_MAX_LISTED) {
        t->v[t->n++] = *e;
    } else if (cmp(e, &t->v[t->worst]) < 0) {
        entry_free(&t->v[t->worst]);
        t->v[t->worst] = *e;
    } else {
        entry_free(e);
        return;
    }
    if (t->n == CS_NOTIFY_MAX_LISTED) {
        t->worst = 0;
        for (size_t i = 1; i < t->n; i++)
            if (cmp(&t->v[i], &t->v[t->worst]) > 0)
                t->worst = i;
    }
}

struct cs_notify *cs_notify_new(void)
{
    struct cs_notify *n = cs_xcalloc(1, sizeof(*n));
    n->change_field = -1;
    for (int f = 0; f < CS_FIELD_COUNT; f++)
        if (strcmp(cs_field_names[f], "change") == 0)
            n->change_field = f;
    return n;
}

/* The record's change ("new", "renewed", ...), or NULL without one. */
static const char *record_change(const struct cs_notify *n, const struct cs_result *r)
{
    if (n->change_field < 0)
        return NULL;
    struct cs_value v;
    cs_result_get(r, (enum cs_field)n->change_field, &v);
    return v.null || v.s == NULL || *v.s == '\0' ? NULL : v.s;
}

static struct entry entry_of(const struct cs_result *r, const char *change, uint64_t seq)
{
    struct entry e = {
        .host = one_line(r->host),
        .sni = one_line(r->sni),
        .address = one_line(r->address),
        .protocol = r->protocol ? one_line(r->protocol) : NULL,
        .reason = one_line(r->reason && *r->reason ? r->reason : r->error),
        .change = change ? one_line(change) : NULL,
        .rank = change ? change_rank(change) : 0,
    };
    cs_order_key_set(&e.key, r, seq);
    return e;
}

void cs_notify_record(struct cs_notify *n, const struct cs_result *r)
{
    if ((unsigned)r->status >= CS_STATUS_COUNT)
        return;
    n->count[r->status]++;
    uint64_t seq = n->records++;
    const char *change = record_change(n, r);
    if (r->status != CS_OK) {
        struct entry e = entry_of(r, change, seq);
        topk_offer(&n->problems, &e, problem_cmp);
    }
    n->history |= change != NULL;
    if (change && strcmp(change, "same") != 0) {
        n->changed++;
        n->change_counts[change_rank(change)]++;
        struct entry e = entry_of(r, change, seq);
        topk_offer(&n->changes, &e, change_cmp);
    }
}

bool cs_notify_due(const struct cs_notify *n, enum cs_notify_on on)
{
    switch (on) {
    case CS_NOTIFY_ALWAYS:
        return true;
    case CS_NOTIFY_CHANGES:
        return n->changed > 0;
    default:
        return n->problems.seen > 0;
    }
}

void cs_notify_free(struct cs_notify *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->problems.n; i++)
        entry_free(&n->problems.v[i]);
    for (size_t i = 0; i < n->changes.n; i++)
        entry_free(&n->changes.v[i]);
    free(n->problems.v);
    free(n->changes.v);
    free(n);
}

/* ---- the summary in words ------------------------------------------------------------------ */

/* The worst status seen (urgency order), OK when none. */
static enum cs_status worst_status(const struct cs_notify *n)
{
    static const enum cs_status order[] = {CS_EXPIRED, CS_CRITICAL, CS_WARNING, CS_ERROR};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (n->count[order[i]])
            return order[i];
    return CS_OK;
}

/* "CRITICAL - 2 critical, 1 warning of 25 endpoints": certsweep's own words
   only, so it may go into a mail's Subject. */
static void headline(struct cs_buf *b, const struct cs_notify *n, const struct cs_summary *s)
{
    static const enum cs_status order[] = {CS_EXPIRED, CS_CRITICAL, CS_WARNING, CS_ERROR};
    static const char *const words[] = {"expired", "critical", "warning", "error"};
    uint64_t total = 0;
    char tmp[64];
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        total += n->count[i];
    cs_buf_puts(b, cs_status_name(worst_status(n)));
    cs_buf_puts(b, " - ");
    bool listed = false;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (n->count[order[i]]) {
            snprintf(tmp, sizeof(tmp), "%s%" PRIu64 " %s", listed ? ", " : "", n->count[order[i]],
                     words[i]);
            cs_buf_puts(b, tmp);
            listed = true;
        }
    if (listed)
        snprintf(tmp, sizeof(tmp), " of %" PRIu64 " endpoint%s", total, total == 1 ? "" : "s");
    else
        snprintf(tmp, sizeof(tmp), "%" PRIu64 " endpoint%s OK", total, total == 1 ? "" : "s");
    cs_buf_puts(b, tmp);
    if (n->history && n->changed) {
        snprintf(tmp, sizeof(tmp), "; %" PRIu64 " changed", n->changed);
        cs_buf_puts(b, tmp);
    }
    if (!s->complete)
        cs_buf_puts(b, " (PARTIAL: the scan was interrupted)");
}

/* Appends a value from a target or a server.  For chat (code): & < > as
   entities and a backtick as ', so it cannot end the code span it is in. */
static void put_value(struct cs_buf *b, const char *s, bool chat)
{
    for (; *s != '\0'; s++) {
        const char *rep = NULL;
        if (chat && *s == '&')
            rep = "&amp;";
        else if (chat && *s == '<')
            rep = "&lt;";
        else if (chat && *s == '>')
            rep = "&gt;";
        else if (chat && *s == '`')
            rep = "'";
        if (rep)
            cs_buf_puts(b, rep);
        else
            cs_buf_append(b, s, 1);
    }
}

/* "host:port" ([host]:port for an IPv6 literal) as one value. */
static void put_endpoint(struct cs_buf *b, const struct entry *e, bool chat)
{
    bool v6 = strchr(e->host, ':') != NULL && e->key.port != CS_INT_NONE;
    cs_buf_puts(b, v6 ? "[" : "");
    put_value(b, e->host, chat);
    cs_buf_puts(b, v6 ? "]" : "");
    if (e->key.port != CS_INT_NONE) {
        char tmp[24];
        snprintf(tmp, sizeof(tmp), ":%" PRId64, e->key.port);
        cs_buf_puts(b, tmp);
    }
}

/* Sorted copies of a top-k's entries (borrowed strings). */
static struct entry *sorted(const struct topk *t, int (*cmp)(const void *, const void *))
{
    struct entry *v = cs_xcalloc(t->n ? t->n : 1, sizeof(*v));
    if (t->n)
        memcpy(v, t->v, t->n * sizeof(*v));
    qsort(v, t->n, sizeof(*v), cmp);
    return v;
}

/* The summary as text: the headline, a line per problem and per change (at
   most `max` of each), and how many more there are.  chat: for a chat
   webhook (values in code spans, see put_value). */
static char *summary_text(const struct cs_notify *n, const struct cs_summary *s, size_t max,
                          bool chat)
{
    struct cs_buf b;
    cs_buf_init(&b, 0);
    cs_buf_puts(&b, "certsweep: ");
    headline(&b, n, s);
    cs_buf_puts(&b, "\n");
    const char *q = chat ? "`" : "";
    char tmp[96];
    struct entry *p = sorted(&n->problems, problem_cmp);
    size_t shown = n->problems.n < max ? n->problems.n : max;
    for (size_t i = 0; i < shown; i++) {
        cs_buf_puts(&b, cs_status_name(p[i].key.status));
        cs_buf_puts(&b, " ");
        cs_buf_puts(&b, q);
        put_endpoint(&b, &p[i], chat);
        cs_buf_puts(&b, " - ");
        put_value(&b, p[i].reason, chat);
        cs_buf_puts(&b, q);
        cs_buf_puts(&b, "\n");
    }
    free(p);
    if (n->problems.seen > shown) {
        snprintf(tmp, sizeof(tmp), "... and %" PRIu64 " more not OK (see the reports)\n",
                 n->problems.seen - shown);
        cs_buf_puts(&b, tmp);
    }
    if (n->changes.seen) {
        cs_buf_puts(&b, "Changes since the last scan:");
        for (size_t i = 0; i <= N_CHANGE_NAMES; i++)
            if (n->change_counts[i]) {
                snprintf(tmp, sizeof(tmp), " %" PRIu64 " %s", n->change_counts[i],
                         i < N_CHANGE_NAMES ? change_names[i] : "other");
                cs_buf_puts(&b, tmp);
            }
        cs_buf_puts(&b, "\n");
        struct entry *c = sorted(&n->changes, change_cmp);
        shown = n->changes.n < max ? n->changes.n : max;
        for (size_t i = 0; i < shown; i++) {
            cs_buf_puts(&b, q);
            put_value(&b, c[i].change, chat);
            cs_buf_puts(&b, " ");
            put_endpoint(&b, &c[i], chat);
            cs_buf_puts(&b, q);
            cs_buf_puts(&b, " now ");
            cs_buf_puts(&b, cs_status_name(c[i].key.status));
            cs_buf_puts(&b, "\n");
        }
        free(c);
        if (n->changes.seen > shown) {
            snprintf(tmp, sizeof(tmp), "... and %" PRIu64 " more changes\n",
                     n->changes.seen - shown);
            cs_buf_puts(&b, tmp);
        }
    }
    char *out = cs_strndup(b.p, b.len);
    cs_buf_free(&b);
    return out;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static json_t *time_json(int64_t t)
{
    if (t == CS_INT_NONE)
        return json_null();
    char buf[24];
    cs_format_time(t, buf);
    return json_string(buf);
}

static json_t *int_json(int64_t v)
{
    return v == CS_INT_NONE ? json_null() : json_integer((json_int_t)v);
}

static json_t *entry_json(const struct entry *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "host", cs__json_string(e->host));
    json_object_set_new(o, "port", int_json(e->key.port));
    json_object_set_new(o, "sni", cs__json_string(e->sni));
    json_object_set_new(o, "address", cs__json_string(e->address));
    json_object_set_new(o, "protocol", cs__json_string(e->protocol));
    json_object_set_new(o, "status", json_string(cs_status_name(e->key.status)));
    json_object_set_new(o, "reason", cs__json_string(e->reason));
    json_object_set_new(o, "days_remaining", int_json(e->key.days));
    json_object_set_new(o, "not_after", time_json(e->key.not_after));
    if (e->change)
        json_object_set_new(o, "change", cs__json_string(e->change));
    return o;
}

static json_t *entries_json(const struct topk *t, int (*cmp)(const void *, const void *))
{
    json_t *a = json_array();
    struct entry *v = sorted(t, cmp);
    for (size_t i = 0; i < t->n; i++)
        json_array_append_new(a, entry_json(&v[i]));
    free(v);
    return a;
}

char *cs_notify_json(const struct cs_notify *n, const struct cs_scan_info *info,
                     const struct cs_summary *s)
{
    json_t *o = json_object(), *counts = json_object();
    char *text = summary_text(n, s, CS_NOTIFY_MAX_TEXT_LINES, true);
    uint64_t total = 0;
    for (int i = 0; i < CS_STATUS_COUNT; i++) {
        total += n->count[i];
        json_object_set_new(counts, cs_status_name((enum cs_status)i),
                            json_integer((json_int_t)n->count[i]));
    }
    json_object_set_new(o, "text", cs__json_string(text));
    free(text);
    json_object_set_new(o, "tool", json_string(info->tool ? info->tool : "certsweep"));
    json_object_set_new(o, "version", cs__json_string(info->version));
    json_object_set_new(o, "started_at", time_json(info->started_at));
    json_object_set_new(o, "finished_at", time_json(s->finished_at));
    json_object_set_new(o, "complete", json_boolean(s->complete));
    json_object_set_new(o, "status", json_string(cs_status_name(worst_status(n))));
    json_object_set_new(o, "endpoints", json_integer((json_int_t)total));
    json_object_set_new(o, "counts", counts);
    json_object_set_new(o, "problems", entries_json(&n->problems, problem_cmp));
    json_object_set_new(o, "problems_omitted",
                        json_integer((json_int_t)(n->problems.seen - n->problems.n)));
    if (n->history) {
        json_object_set_new(o, "changed", json_integer((json_int_t)n->changed));
        json_object_set_new(o, "changes", entries_json(&n->changes, change_cmp));
        json_object_set_new(o, "changes_omitted",
                            json_integer((json_int_t)(n->changes.seen - n->changes.n)));
    }
    char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

/* ---- the webhook ------------------------------------------------------------------------- */

/* "scheme://host[:port]" of url, never its path or query (a webhook's path
   is its secret). */
static void url_origin(const char *url, char *buf, size_t len)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        snprintf(buf, len, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
    } else {
        snprintf(buf, len, "the webhook");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

const char *cs_notify_check_url(const char *url)
{
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return "not a URL (spaces, control characters and non-ASCII bytes are not taken)";
    CURLU *u = curl_url();
    char *scheme = NULL;
    const char *why = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        why = "not a URL (e.g. https://hooks.example.com/services/...)";
    else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
        why = "not an http:// or https:// URL";
    curl_free(scheme);
    curl_url_cleanup(u);
    return why;
}

struct answer {
    char head[200]; /* the start of the answer, for the reason */
    size_t len;     /* bytes received */
    bool over;      /* past CS_NOTIFY_MAX_ANSWER: abandoned */
};

static size_t on_answer(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;
    if (a->len + n > CS_NOTIFY_MAX_ANSWER) {
        a->over = true;
        return 0; /* abandons the transfer (CURLE_WRITE_ERROR) */
    }
    if (a->len < sizeof(a->head) - 1) {
        size_t k = sizeof(a->head) - 1 - a->len < n ? sizeof(a->head) - 1 - a->len : n;
        memcpy(a->head + a->len, data, k);
        a->head[a->len + k] = '\0';
    }
    a->len += n;
    return n;
}

int cs_notify_post(const struct cs_notify *n, const char *url, const struct cs_scan_info *info,
                   const struct cs_summary *s, char *err, size_t errlen)
{
    char origin[512];
    url_origin(url, origin, sizeof(origin));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "webhook at %s: libcurl cannot start", origin);
        return CS_EINTERNAL;
    }
    char *body = cs_notify_json(n, info, s);
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:"); /* the body goes at once */
    struct answer a = {.len = 0};
    char agent[64], cerr[CURL_ERROR_SIZE] = "";
    snprintf(agent, sizeof(agent), "certsweep/%s", info->version ? info->version : "");
    int rc = 0;
    if (!c || !body || !headers) {
        snprintf(err, errlen, "webhook at %s: out of memory", origin);
        rc = -ENOMEM;
    } else {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CS_NOTIFY_CONNECT_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)CS_NOTIFY_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (cc == CURLE_WRITE_ERROR && a.over) {
            snprintf(err, errlen, "webhook at %s: answer longer than %zu bytes", origin,
                     CS_NOTIFY_MAX_ANSWER);
            rc = CS_ETOOBIG;
        } else if (cc != CURLE_OK) {
            snprintf(err, errlen, "webhook at %s: %s", origin,
                     cerr[0] ? cerr : curl_easy_strerror(cc));
            rc = -EIO;
        } else if (status < 200 || status > 299) {
            char *said = one_line(a.head);
            snprintf(err, errlen, "webhook at %s: HTTP %ld%s%.120s%s", origin, status,
                     said[0] ? " (\"" : "", said, said[0] ? "\")" : "");
            free(said);
            rc = -EIO;
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    free(body);
    return rc;
}

/* ---- mail -------------------------------------------------------------------------------- */

static bool is_atext(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* A dot-atom of atext (RFC 5322 3.2.3), at most max bytes. */
static bool dot_atom(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
            return false;
    return true;
}

/* A host name: labels of letters, digits and '-' (not first or last), 1-63. */
static bool host_name(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

const char *cs_notify_check_addr(const char *addr)
{
    const char *at = strrchr(addr, '@');
    if (!at || !dot_atom(addr, (size_t)(at - addr), 64))
        return "not an address like ops@example.com (a local part of letters, digits and "
               "!#$%&'*+/=?^_`{|}~.- , no quotes, no name, one address)";
    if (!host_name(at + 1))
        return "not an address like ops@example.com (the domain must be a host name)";
    return NULL;
}

/* The whole message: headers (validated addresses and certsweep's own
   words only), a blank line, the plain-text summary. */
static char *mail_message(const struct cs_notify *n, char *const *to, size_t n_to,
                          const struct cs_summary *s)
{
    struct cs_buf b;
    cs_buf_init(&b, 0);
    cs_buf_puts(&b, "To: ");
    for (size_t i = 0; i < n_to; i++) {
        cs_buf_puts(&b, i ? ", " : "");
        cs_buf_puts(&b, to[i]);
    }
    cs_buf_puts(&b, "\nSubject: certsweep: ");
    headline(&b, n, s);
    cs_buf_puts(&b, "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
                    "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n");
    char *text = summary_text(n, s, CS_NOTIFY_MAX_LISTED, false);
    /* SMTP lines stop at 998 bytes: longer ones are cut */
    for (const char *p = text; *p != '\0';) {
        size_t len = strcspn(p, "\n");
        cs_buf_append(&b, p, len > 900 ? 900 : len);
        cs_buf_puts(&b, len > 900 ? "...\n" : "\n");
        p += len + (p[len] == '\n');
    }
    free(text);
    char *out = cs_strndup(b.p, b.len);
    cs_buf_free(&b);
    return out;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feeds msg to the child's standard input and keeps the start of what it
   says on stderr, until both pipes close or the deadline.  0 or -ETIMEDOUT. */
static int talk(int in, int errfd, const char *msg, char *said, size_t saidlen, int64_t deadline)
{
    size_t off = 0, len = strlen(msg), got = 0;
    fcntl(in, F_SETFL, O_NONBLOCK);
    while (in >= 0 || errfd >= 0) {
        struct pollfd p[2] = {{.fd = in, .events = POLLOUT}, {.fd = errfd, .events = POLLIN}};
        int64_t left = deadline - now_ms();
        if (left <= 0 || poll(p, 2, (int)left) < 0) {
            if (left > 0 && errno == EINTR)
                continue;
            return -ETIMEDOUT;
        }
        if (in >= 0 && p[0].revents) {
            ssize_t k = write(in, msg + off, len - off);
            if (k > 0)
                off += (size_t)k;
            if ((k < 0 && errno != EAGAIN) || off == len) {
                close(in); /* end of the message (or the child stopped reading) */
                in = -1;
            }
        }
        if (errfd >= 0 && p[1].revents) {
            char buf[512];
            ssize_t k = read(errfd, buf, sizeof(buf));
            if (k <= 0 && !(k < 0 && errno == EINTR)) {
                close(errfd);
                errfd = -1;
            } else if (k > 0 && got + 1 < saidlen) {
                size_t take = (size_t)k < saidlen - 1 - got ? (size_t)k : saidlen - 1 - got;
                memcpy(said + got, buf, take);
                got += take;
                said[got] = '\0';
            }
        }
    }
    return 0;
}

/* Waits for pid until the deadline, then kills it.  Its wait status, or -1. */
static int reap(pid_t pid, int64_t deadline)
{
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int cs_notify_mail(const struct cs_notify *n, const char *sendmail, char *const *to, size_t n_to,
                   const struct cs_scan_info *info, const struct cs_summary *s, char *err,
                   size_t errlen)
{
    (void)info;
    const char *path = sendmail ? sendmail : CS_NOTIFY_SENDMAIL;
    for (size_t i = 0; i < n_to; i++)
        if (cs_notify_check_addr(to[i]) != NULL) { /* the command line checked; so does this */
            snprintf(err, errlen, "mail: a recipient is not an address");
            return CS_EFORMAT;
        }
    int in[2], ep[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return snprintf(err, errlen, "mail: pipe: %s", strerror(errno)), -errno;
    if (pipe2(ep, O_CLOEXEC) < 0) {
        int e = errno;
        close(in[0]), close(in[1]);
        return snprintf(err, errlen, "mail: pipe: %s", strerror(e)), -e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    char *argv[] = {(char *)path, "-t", "-i", NULL};
    pid_t pid;
    int e = posix_spawn(&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(ep[1]);
    if (e != 0) {
        close(in[1]);
        close(ep[0]);
        snprintf(err, errlen, "mail: cannot run %s: %s", path, strerror(e));
        return -e;
    }
    char *msg = mail_message(n, to, n_to, s);
    char said[512] = "";
    int64_t deadline = now_ms() + CS_NOTIFY_SENDMAIL_TIMEOUT_MS;
    int rc = talk(in[1], ep[0], msg, said, sizeof(said), deadline);
    free(msg);
    int status = reap(pid, rc < 0 ? now_ms() : deadline);
    said[strcspn(said, "\n")] = '\0';
    char *shown = one_line(said);
    if (rc < 0 || status < 0) {
        snprintf(err, errlen, "mail: %s did not finish within %d s", path,
                 CS_NOTIFY_SENDMAIL_TIMEOUT_MS / 1000);
        rc = -ETIMEDOUT;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "mail: %s %s %d%s%.200s%s", path,
                 WIFEXITED(status) ? "exited with" : "was killed by signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), shown[0] ? " (\"" : "",
                 shown, shown[0] ? "\")" : "");
        rc = -EIO;
    }
    free(shown);
    return rc;
}
