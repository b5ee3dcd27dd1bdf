/* HTTP fetches on a libuv loop (see fetch.h): curl's multi interface with
 * its sockets watched by uv_poll handles and its timeout kept in one
 * uv_timer.  Fetches wait in a FIFO queue per host:port of our own (the
 * host of the URL asked for, not of where it redirects) and only enter the
 * multi handle, and start their timeout, when that host has fewer than
 * per_host in flight.  Answers are handed out from the loop (after a
 * socket or timer event; from an idle callback for those known at once: a
 * bad URL, a cancel), except that cs_fetcher_free answers what is left
 * ("cancelled") before it returns, so that its caller may free the
 * callbacks' arguments right after it; a cs_fetch after cs_fetcher_free is
 * answered "cancelled" from the last close callback.
 *
 * curl_global_init() runs once per process, in the first cs_fetcher_new():
 * create the first fetcher before any other thread uses libcurl (the engine
 * creates it on its control thread, before the workers start).  Proxies
 * come from libcurl's usual environment variables (http_proxy, ...). */
#include "scanner/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/result.h"

#define FETCH_INITIAL_BUF 16384 /* first body allocation (never above the cap) */

struct host;

struct fetch {
    struct cs_fetcher *f;
    struct host *host;           /* NULL once out of the host's queue and flight */
    struct fetch *next;          /* host queue, or the ready list */
    struct fetch *aprev, *anext; /* list of fetches in the multi handle */
    CURL *easy;                  /* set while in the multi handle */
    char *url;                   /* until the fetch starts */
    unsigned char *post;         /* copy of the POST body (NULL: GET) */
    size_t post_len;
    char *content_type;
    struct curl_slist *headers; /* Content-Type and "Expect:" for a POST */
    unsigned char *body;        /* what arrived so far, at most lim.max_bytes */
    size_t len, cap;
    bool too_big;        /* the body went past the cap */
    bool status_checked; /* the write callback looked at the status */
    bool status_only;    /* not 2xx: the body was not wanted */
    cs_fetch_cb cb;
    void *arg;
    const char *error; /* the answer: NULL, static text or errtext */
    char errtext[48];  /* "HTTP 500", "larger than N bytes" */
};

/* One host:port with fetches queued or in flight; freed when it has none. */
struct host {
    struct host *next;
    char *key; /* "host:port", compared without case */
    unsigned inflight;
    struct fetch *head, **tail; /* waiting, oldest first */
};

/* A socket curl asked us to watch. */
struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct cs_fetcher *f;
    struct sock *prev, *next;
};

struct cs_fetcher {
    uv_loop_t *loop;
    CURLM *multi;               /* NULL once the fetcher is freed */
    uv_timer_t timer;           /* curl's timeout */
    uv_idle_t idle;             /* delivers answers outside cs_fetch */
    struct cs_fetch_limits lim; /* user_agent points to our copy, resolve is NULL */
    char *user_agent;
    struct curl_slist *resolve; /* CURLOPT_RESOLVE for every fetch */
    struct host *hosts;
    struct fetch *active;              /* in the multi handle */
    struct fetch *ready, **ready_tail; /* answered, waiting for delivery */
    struct sock *socks;
    uint64_t started;
    unsigned handles; /* uv handles not closed yet */
    bool closing;     /* cs_fetcher_free was called */
};

static uv_once_t global_once = UV_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void fetch_free(struct fetch *x)
{
    free(x->url);
    free(x->post);
    free(x->content_type);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x);
}

/* Hands out every ready answer.  A callback may call cs_fetch, cancel or
   free: what that makes ready is delivered by this same loop. */
static void deliver(struct cs_fetcher *f)
{
    static const unsigned char empty[1];
    struct fetch *x;
    while ((x = f->ready)) {
        f->ready = x->next;
        if (!f->ready)
            f->ready_tail = &f->ready;
        if (x->error)
            x->cb(x->arg, x->error, NULL, 0);
        else
            x->cb(x->arg, NULL, x->body ? x->body : empty, x->len);
        fetch_free(x);
    }
    if (!f->closing)
        uv_idle_stop(&f->idle); /* nothing left for it */
}

static void idle_cb(uv_idle_t *h)
{
    struct cs_fetcher *f = h->data;
    uv_idle_stop(h);
    deliver(f);
}

/* Queues x's answer (error NULL for success); delivery is from the loop. */
static void answer(struct cs_fetcher *f, struct fetch *x, const char *error)
{
    x->error = error;
    x->next = NULL;
    *f->ready_tail = x;
    f->ready_tail = &x->next;
    if (!f->closing)
        uv_idle_start(&f->idle, idle_cb);
}

static void handle_closed(uv_handle_t *h)
{
    struct cs_fetcher *f;
    if (h->type == UV_POLL) {
        struct sock *k = h->data;
        f = k->f;
        free(k);
    } else {
        f = h->data;
    }
    if (--f->handles > 0)
        return;
    deliver(f); /* fetches asked for after cs_fetcher_free */
    curl_slist_free_all(f->resolve);
    free(f->user_agent);
    free(f);
}

static void sock_close(struct cs_fetcher *f, struct sock *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        f->socks = k->next;
    if (k->next)
        k->next->prev = k->prev;
    uv_poll_stop(&k->poll);
    uv_close((uv_handle_t *)&k->poll, handle_closed);
}

static const char *curl_phrase(struct fetch *x, CURLcode rc)
{
    long os_errno = 0;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timed out";
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
        return os_errno == ECONNREFUSED ? "connection refused" : "cannot connect";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "cannot resolve host";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "unsupported URL (http and https only)";
    case CURLE_URL_MALFORMAT:
        return "malformed URL";
    case CURLE_TOO_MANY_REDIRECTS:
        return "too many redirects";
    case CURLE_GOT_NOTHING:
        return "empty reply";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return "connection reset";
    case CURLE_FILESIZE_EXCEEDED:
        x->too_big = true;
        break;
    case CURLE_WRITE_ERROR:
        if (x->too_big)
            break;
        return curl_easy_strerror(rc);
    default:
        return curl_easy_strerror(rc);
    }
    snprintf(x->errtext, sizeof(x->errtext), "larger than %zu bytes", x->f->lim.max_bytes);
    return x->errtext;
}

/* The answer to a finished transfer: NULL, or a phrase.  A status outside
   2xx is the answer even when its body was cut short or too large. */
static const char *transfer_phrase(struct fetch *x, CURLcode rc)
{
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    bool status =
        rc == CURLE_OK || x->status_only || (rc == CURLE_FILESIZE_EXCEEDED && code >= 400);
    if (!status)
        return curl_phrase(x, rc);
    if (code >= 200 && code <= 299)
        return NULL;
    snprintf(x->errtext, sizeof(x->errtext), "HTTP %ld", code);
    return x->errtext;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct fetch *x = userp;
    size_t n = size * nmemb, max = x->f->lim.max_bytes;
    if (!x->status_checked) {
        /* an error status is the whole answer: its body is not kept */
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        x->status_checked = true;
        if (code < 200 || code > 299) {
            x->status_only = true;
            return 0;
        }
    }
    if (n > max - x->len) {
        x->too_big = true;
        return 0; /* anything but n aborts the transfer (CURLE_WRITE_ERROR) */
    }
    if (x->len + n > x->cap) {
        size_t cap = x->cap ? x->cap : FETCH_INITIAL_BUF;
        while (cap < x->len + n)
            cap = cap > max / 2 ? max : cap * 2;
        if (cap > max)
            cap = max;
        x->body = cs_xrealloc(x->body, cap);
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    return n;
}

static void active_unlink(struct cs_fetcher *f, struct fetch *x)
{
    if (x->aprev)
        x->aprev->anext = x->anext;
    else
        f->active = x->anext;
    if (x->anext)
        x->anext->aprev = x->aprev;
    x->aprev = x->anext = NULL;
}

/* Takes x out of the multi handle and its host's flight; the caller
   answers it. */
static void transfer_end(struct cs_fetcher *f, struct fetch *x)
{
    curl_multi_remove_handle(f->multi, x->easy);
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
    active_unlink(f, x);
    x->host->inflight--;
    x->host = NULL;
}

static int easy_setup(struct cs_fetcher *f, struct fetch *x)
{
    const struct cs_fetch_limits *lim = &f->lim;
    CURL *e = x->easy;
    long timeout = lim->timeout_ms > LONG_MAX ? LONG_MAX : (long)lim->timeout_ms;
    curl_off_t maxfile =
        lim->max_bytes > (size_t)INT64_MAX ? INT64_MAX : (curl_off_t)lim->max_bytes;
    if (curl_easy_setopt(e, CURLOPT_URL, x->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)lim->max_redirects) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent) != CURLE_OK)
        return -1;
    /* 0 means no limit to curl; the write callback holds a cap of 0 */
    if (maxfile > 0 && curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, maxfile) != CURLE_OK)
        return -1;
    if (f->resolve && curl_easy_setopt(e, CURLOPT_RESOLVE, f->resolve) != CURLE_OK)
        return -1;
    if (x->post) {
        x->headers = curl_slist_append(NULL, "Expect:");
        char *ct = cs_asprintf("Content-Type: %s",
                               x->content_type ? x->content_type : "application/octet-stream");
        struct curl_slist *l = x->headers ? curl_slist_append(x->headers, ct) : NULL;
        free(ct);
        if (!l)
            return -1;
        if (curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->post_len) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->post) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK)
            return -1;
    }
    return 0;
}

/* Moves fetches from h's queue into the multi handle while h has room;
   frees h once it has nothing queued or in flight. */
static void host_pump(struct cs_fetcher *f, struct host *h)
{
    while (h->head && h->inflight < f->lim.per_host) {
        struct fetch *x = h->head;
        h->head = x->next;
        if (!h->head)
            h->tail = &h->head;
        x->next = NULL;
        x->easy = curl_easy_init();
        if (!x->easy || easy_setup(f, x) < 0) {
            if (x->easy)
                curl_easy_cleanup(x->easy);
            x->easy = NULL;
            x->host = NULL;
            answer(f, x, "cannot set up the transfer");
            continue;
        }
        free(x->url);
        x->url = NULL;
        CURLMcode mc = curl_multi_add_handle(f->multi, x->easy);
        if (mc != CURLM_OK) {
            curl_easy_cleanup(x->easy);
            x->easy = NULL;
            x->host = NULL;
            answer(f, x, curl_multi_strerror(mc));
            continue;
        }
        f->started++;
        h->inflight++;
        x->aprev = NULL;
        x->anext = f->active;
        if (f->active)
            f->active->aprev = x;
        f->active = x;
    }
    if (h->head || h->inflight)
        return;
    struct host **pp = &f->hosts;
    while (*pp != h)
        pp = &(*pp)->next;
    *pp = h->next;
    free(h->key);
    free(h);
}

/* Answers every transfer curl has finished, and starts what waited for
   them. */
static void check_done(struct cs_fetcher *f)
{
    CURLMsg *m;
    int left;
    while (f->multi && (m = curl_multi_info_read(f->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = m->data.result; /* m is gone once the handle is removed */
        struct fetch *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        const char *error = transfer_phrase(x, rc);
        struct host *h = x->host;
        transfer_end(f, x);
        answer(f, x, error);
        host_pump(f, h);
    }
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    struct sock *k = p->data;
    struct cs_fetcher *f = k->f;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    if (!f->multi)
        return;
    curl_multi_socket_action(f->multi, k->fd, flags, &running);
    check_done(f);
    deliver(f);
}

static void timer_cb(uv_timer_t *t)
{
    struct cs_fetcher *f = t->data;
    int running;
    if (!f->multi)
        return;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(f);
    deliver(f);
}

/* CURLMOPT_SOCKETFUNCTION: watch s as curl asks. */
static int socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct cs_fetcher *f = userp;
    struct sock *k = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            curl_multi_assign(f->multi, s, NULL);
            sock_close(f, k);
        }
        return 0;
    }
    if (f->closing)
        return 0;
    if (!k) {
        k = cs_xcalloc(1, sizeof(*k));
        if (uv_poll_init_socket(f->loop, &k->poll, s) < 0) {
            free(k);
            return 0; /* the fetch's timeout ends it */
        }
        k->fd = s;
        k->f = f;
        k->poll.data = k;
        f->handles++;
        k->next = f->socks;
        if (f->socks)
            f->socks->prev = k;
        f->socks = k;
        curl_multi_assign(f->multi, s, k);
    }
    int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    if (events)
        uv_poll_start(&k->poll, events, poll_cb);
    else
        uv_poll_stop(&k->poll);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants socket_action(TIMEOUT) after ms
   (-1: never).  Not called into curl from here. */
static int timer_fn(CURLM *multi, long ms, void *userp)
{
    struct cs_fetcher *f = userp;
    (void)multi;
    if (f->closing)
        return 0;
    if (ms < 0)
        uv_timer_stop(&f->timer);
    else
        uv_timer_start(&f->timer, timer_cb, (uint64_t)ms, 0);
    return 0;
}

struct cs_fetcher *cs_fetcher_new(uv_loop_t *loop, const struct cs_fetch_limits *lim, char *err,
                                  size_t errlen)
{
    uv_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(global_rc));
        return NULL;
    }
    struct cs_fetcher *f = cs_xcalloc(1, sizeof(*f));
    f->multi = curl_multi_init();
    if (!f->multi) {
        snprintf(err, errlen, "libcurl: cannot create a multi handle");
        free(f);
        return NULL;
    }
    for (size_t i = 0; i < lim->n_resolve; i++) {
        struct curl_slist *l = curl_slist_append(f->resolve, lim->resolve[i]);
        if (!l) {
            snprintf(err, errlen, "libcurl: out of memory");
            curl_slist_free_all(f->resolve);
            curl_multi_cleanup(f->multi);
            free(f);
            return NULL;
        }
        f->resolve = l;
    }
    f->loop = loop;
    f->lim = *lim;
    if (f->lim.per_host < 1)
        f->lim.per_host = 1;
    f->user_agent = cs_strdup(lim->user_agent ? lim->user_agent : "certsweep");
    f->lim.user_agent = f->user_agent;
    f->lim.resolve = NULL;
    f->lim.n_resolve = 0;
    f->ready_tail = &f->ready;
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    uv_idle_init(loop, &f->idle);
    f->idle.data = f;
    f->handles = 2;
    return f;
}

/* The queue key of an http(s) URL, "host:port"; NULL with *error set if
   the URL is not one we fetch. */
static char *url_key(const char *url, const char **error)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *key = NULL;
    *error = "malformed URL";
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        goto out;
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        *error = "unsupported URL (http and https only)";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    key = cs_asprintf("%s:%s", host, port);
    *error = NULL;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return key;
}

void cs_fetch(struct cs_fetcher *f, const char *url, const void *body, size_t body_len,
              const char *content_type, cs_fetch_cb cb, void *arg)
{
    struct fetch *x = cs_xcalloc(1, sizeof(*x));
    x->f = f;
    x->cb = cb;
    x->arg = arg;
    if (f->closing) {
        answer(f, x, "cancelled");
        return;
    }
    const char *error;
    char *key = url_key(url, &error);
    if (!key) {
        answer(f, x, error);
        return;
    }
    if (body && content_type && strpbrk(content_type, "\r\n")) {
        free(key);
        answer(f, x, "bad content type");
        return;
    }
    x->url = cs_strdup(url);
    if (body) {
        x->post = cs_xmalloc(body_len + 1); /* never NULL, even for an empty body */
        memcpy(x->post, body, body_len);
        x->post_len = body_len;
        x->content_type = cs_strdup(content_type);
    }
    struct host *h = f->hosts;
    while (h && strcasecmp(h->key, key) != 0)
        h = h->next;
    if (h) {
        free(key);
    } else {
        h = cs_xcalloc(1, sizeof(*h));
        h->key = key;
        h->tail = &h->head;
        h->next = f->hosts;
        f->hosts = h;
    }
    x->host = h;
    *h->tail = x;
    h->tail = &x->next;
    host_pump(f, h);
}

void cs_fetcher_cancel(struct cs_fetcher *f)
{
    while (f->active) {
        struct fetch *x = f->active;
        transfer_end(f, x);
        answer(f, x, "cancelled");
    }
    while (f->hosts) {
        struct host *h = f->hosts;
        f->hosts = h->next;
        struct fetch *x;
        while ((x = h->head)) {
            h->head = x->next;
            x->host = NULL;
            answer(f, x, "cancelled");
        }
        free(h->key);
        free(h);
    }
}

uint64_t cs_fetcher_started(const struct cs_fetcher *f)
{
    return f->started;
}

void cs_fetcher_free(struct cs_fetcher *f)
{
    if (!f || f->closing)
        return;
    cs_fetcher_cancel(f);
    f->closing = true;
    /* stop watching curl's sockets before curl closes them */
    while (f->socks) {
        curl_multi_assign(f->multi, f->socks->fd, NULL);
        sock_close(f, f->socks);
    }
    curl_multi_cleanup(f->multi);
    f->multi = NULL;
    uv_close((uv_handle_t *)&f->timer, handle_closed);
    uv_close((uv_handle_t *)&f->idle, handle_closed);
    deliver(f); /* no callback of a fetch asked before comes after this */
}
