/* The scripted HTTP test server (see httpd.h): a listener and its
 * connections on a libuv loop of its own thread; the route table and the
 * counters are shared with the test's thread under one mutex. */
#include "tests/support/httpd.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uv.h>

#define MAX_HEADERS 65536            /* request line and headers, at most */
#define MAX_BODY (32u * 1024 * 1024) /* request body, at most */
#define READ_CHUNK 65536
#define CHUNK_SIZE 4096 /* of a chunked answer */

struct route {
    char *path;
    struct httpd_answer a; /* location and body point to our own copies */
    unsigned requests;
    char *last; /* the last request, as received */
    size_t last_len;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* the answer's delay */
    uv_write_t wr;
    struct httpd *h;
    struct conn *prev, *next;
    char *in; /* the request so far */
    size_t len, cap;
    char scratch[4096]; /* where bytes after the request (or past the limits) go */
    bool handled;       /* the request is complete (answered or not) */
    bool keep_alive;    /* after this answer, wait for the next request */
    size_t reqlen;      /* of the request being answered */
    bool closing;
    int handles; /* open uv handles */
    char *out;   /* the answer */
    size_t outlen;
};

struct httpd {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop;
    uv_thread_t thread;
    uv_mutex_t mu; /* guards what follows */
    struct route *routes;
    size_t nroutes;
    unsigned total, open, max_open, accepted;
    struct conn *conns; /* the loop thread's only */
    uint16_t port;
};

static void conn_closed(uv_handle_t *hd)
{
    struct conn *c = hd->data;
    if (--c->handles > 0)
        return;
    free(c->in);
    free(c->out);
    free(c);
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct httpd *h = c->h;
    uv_mutex_lock(&h->mu);
    h->open--;
    uv_mutex_unlock(&h->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void process(struct conn *c);

static void write_cb(uv_write_t *wr, int status)
{
    struct conn *c = wr->data;
    if (status < 0 || !c->keep_alive) {
        conn_close(c);
        return;
    }
    /* ready for the next request on this connection */
    memmove(c->in, c->in + c->reqlen, c->len - c->reqlen);
    c->len -= c->reqlen;
    c->in[c->len] = '\0';
    c->outlen = 0;
    c->handled = false;
    process(c);
}

static void send_answer(struct conn *c)
{
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->outlen);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, write_cb) < 0)
        conn_close(c);
}

static void delay_cb(uv_timer_t *t)
{
    send_answer(t->data);
}

static void out_append(struct conn *c, size_t *cap, const void *p, size_t n)
{
    if (!n)
        return;
    if (c->outlen + n > *cap) {
        while (c->outlen + n > *cap)
            *cap = *cap ? *cap * 2 : 1024;
        c->out = realloc(c->out, *cap);
        if (!c->out)
            abort();
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 404:
        return "Not Found";
    case 500:
        return "Internal Server Error";
    default:
        return "Something";
    }
}

static char *dup_bytes(const void *p, size_t n);

/* Builds the answer to a complete request of reqlen bytes in c->in; returns
   the delay, -1 to stay silent or -2 to hang up. */
static long build_answer(struct conn *c, size_t reqlen)
{
    struct httpd *h = c->h;
    const char *target = memchr(c->in, ' ', reqlen);
    target = target ? target + 1 : c->in + reqlen;
    size_t plen = strcspn(target, " ?\r\n");
    struct httpd_answer nf = {.status = 404, .body = "not found", .len = 9};
    const struct httpd_answer *a = &nf;
    long delay;
    size_t cap = 0;

    uv_mutex_lock(&h->mu);
    h->total++;
    for (size_t i = 0; i < h->nroutes; i++)
        if (strlen(h->routes[i].path) == plen && memcmp(h->routes[i].path, target, plen) == 0) {
            h->routes[i].requests++;
            free(h->routes[i].last);
            h->routes[i].last = dup_bytes(c->in, reqlen);
            h->routes[i].last_len = reqlen;
            a = &h->routes[i].a;
            break;
        }
    delay = a->status == 0 ? -1 : a->status < 0 ? -2 : (long)a->delay_ms;
    if (a->status > 0) {
        const char *body = a->echo ? c->in : (const char *)a->body;
        size_t len = a->echo ? reqlen : a->len;
        char head[1024];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d %s\r\nConnection: %s\r\n"
                         "Content-Type: application/octet-stream\r\n",
                         a->status, reason(a->status), a->keep_alive ? "keep-alive" : "close");
        c->keep_alive = a->keep_alive;
        out_append(c, &cap, head, (size_t)n);
        if (a->location) {
            n = snprintf(head, sizeof(head), "Location: %s\r\n", a->location);
            out_append(c, &cap, head, (size_t)n);
        }
        if (a->chunked)
            n = snprintf(head, sizeof(head), "Transfer-Encoding: chunked\r\n\r\n");
        else
            n = snprintf(head, sizeof(head), "Content-Length: %zu\r\n\r\n", len);
        out_append(c, &cap, head, (size_t)n);
        if (!a->chunked) {
            out_append(c, &cap, body, len);
        } else {
            for (size_t off = 0; off < len; off += CHUNK_SIZE) {
                size_t k = len - off < CHUNK_SIZE ? len - off : CHUNK_SIZE;
                n = snprintf(head, sizeof(head), "%zx\r\n", k);
                out_append(c, &cap, head, (size_t)n);
                out_append(c, &cap, body + off, k);
                out_append(c, &cap, "\r\n", 2);
            }
            out_append(c, &cap, "0\r\n\r\n", 5);
        }
    }
    uv_mutex_unlock(&h->mu);
    return delay;
}

/* The length of the complete request in c->in, 0 if more is to come, or
   (size_t)-1 if it is past the limits. */
static size_t request_length(const struct conn *c)
{
    const char *end = NULL;
    for (size_t i = 0; i + 4 <= c->len; i++)
        if (memcmp(c->in + i, "\r\n\r\n", 4) == 0) {
            end = c->in + i + 4;
            break;
        }
    if (!end)
        return c->len > MAX_HEADERS ? (size_t)-1 : 0;
    size_t hlen = (size_t)(end - c->in), body = 0;
    for (const char *p = c->in; p < end - 2; p++) {
        if (p[0] == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
            body = strtoul(p + 16, NULL, 10);
            break;
        }
    }
    if (body > MAX_BODY)
        return (size_t)-1;
    return c->len >= hlen + body ? hlen + body : 0;
}

static void alloc_cb(uv_handle_t *hd, size_t suggested, uv_buf_t *b)
{
    struct conn *c = hd->data;
    (void)suggested;
    if (c->handled || c->len >= MAX_HEADERS + MAX_BODY) {
        *b = uv_buf_init(c->scratch, sizeof(c->scratch));
        return;
    }
    if (c->cap - c->len < READ_CHUNK) {
        c->cap = c->cap ? c->cap * 2 : 2 * READ_CHUNK;
        c->in = realloc(c->in, c->cap + 1);
        if (!c->in)
            abort();
    }
    *b = uv_buf_init(c->in + c->len, (unsigned)(c->cap - c->len));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (c->handled || nread == 0 || b->base == c->scratch)
        return;
    c->len += (size_t)nread;
    c->in[c->len] = '\0';
    process(c);
}

/* Answers the request in c->in once it is complete. */
static void process(struct conn *c)
{
    size_t reqlen = request_length(c);
    if (reqlen == (size_t)-1) {
        conn_close(c);
        return;
    }
    if (!reqlen)
        return;
    c->handled = true;
    c->reqlen = reqlen;
    long delay = build_answer(c, reqlen);
    if (delay > 0)
        uv_timer_start(&c->timer, delay_cb, (uint64_t)delay, 0);
    else if (delay == 0)
        send_answer(c);
    else if (delay == -2)
        conn_close(c);
}

static void connection_cb(uv_stream_t *server, int status)
{
    struct httpd *h = server->data;
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->h = h;
    uv_tcp_init(&h->loop, &c->tcp);
    uv_timer_init(&h->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    uv_mutex_lock(&h->mu);
    h->accepted++;
    if (++h->open > h->max_open)
        h->max_open = h->open;
    uv_mutex_unlock(&h->mu);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) < 0)
        conn_close(c);
}

static void stop_cb(uv_async_t *a)
{
    struct httpd *h = a->data;
    while (h->conns)
        conn_close(h->conns);
    uv_close((uv_handle_t *)&h->listener, NULL);
    uv_close((uv_handle_t *)&h->stop, NULL);
}

static void thread_main(void *arg)
{
    struct httpd *h = arg;
    uv_run(&h->loop, UV_RUN_DEFAULT);
}

struct httpd *httpd_start(void)
{
    signal(SIGPIPE, SIG_IGN);
    struct httpd *h = calloc(1, sizeof(*h));
    struct sockaddr_in sa;
    struct sockaddr_storage ss;
    int sslen = sizeof(ss), rc;
    if (!h)
        return NULL;
    if ((rc = uv_loop_init(&h->loop)) < 0) {
        fprintf(stderr, "httpd: %s\n", uv_strerror(rc));
        free(h);
        return NULL;
    }
    uv_mutex_init(&h->mu);
    uv_tcp_init(&h->loop, &h->listener);
    h->listener.data = h;
    uv_async_init(&h->loop, &h->stop, stop_cb);
    h->stop.data = h;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    if ((rc = uv_tcp_bind(&h->listener, (struct sockaddr *)&sa, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&h->listener, 128, connection_cb)) < 0 ||
        (rc = uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &sslen)) < 0 ||
        (rc = uv_thread_create(&h->thread, thread_main, h)) < 0) {
        fprintf(stderr, "httpd: cannot serve on 127.0.0.1: %s\n", uv_strerror(rc));
        uv_close((uv_handle_t *)&h->listener, NULL);
        uv_close((uv_handle_t *)&h->stop, NULL);
        uv_run(&h->loop, UV_RUN_DEFAULT);
        uv_loop_close(&h->loop);
        uv_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return h;
}

uint16_t httpd_port(const struct httpd *h)
{
    return h->port;
}

static char *dup_bytes(const void *p, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort();
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

void httpd_route(struct httpd *h, const char *path, const struct httpd_answer *a)
{
    struct httpd_answer copy = *a;
    copy.location = a->location ? dup_bytes(a->location, strlen(a->location)) : NULL;
    copy.body = a->body ? dup_bytes(a->body, a->len) : NULL;
    if (!copy.body)
        copy.len = 0;
    uv_mutex_lock(&h->mu);
    size_t i = 0;
    while (i < h->nroutes && strcmp(h->routes[i].path, path) != 0)
        i++;
    if (i == h->nroutes) {
        h->routes = realloc(h->routes, (h->nroutes + 1) * sizeof(*h->routes));
        if (!h->routes)
            abort();
        h->routes[i].path = dup_bytes(path, strlen(path));
        h->routes[i].requests = 0;
        h->routes[i].last = NULL;
        h->routes[i].last_len = 0;
        h->nroutes++;
    } else {
        free((char *)h->routes[i].a.location);
        free((void *)h->routes[i].a.body);
    }
    h->routes[i].a = copy;
    uv_mutex_unlock(&h->mu);
}

void httpd_route_text(struct httpd *h, const char *path, int status, const char *body)
{
    struct httpd_answer a = {.status = status, .body = body, .len = body ? strlen(body) : 0};
    httpd_route(h, path, &a);
}

unsigned httpd_requests(struct httpd *h, const char *path)
{
    unsigned n = 0;
    uv_mutex_lock(&h->mu);
    if (!path)
        n = h->total;
    for (size_t i = 0; path && i < h->nroutes; i++)
        if (strcmp(h->routes[i].path, path) == 0)
            n = h->routes[i].requests;
    uv_mutex_unlock(&h->mu);
    return n;
}

char *httpd_last_request(struct httpd *h, const char *path, size_t *len)
{
    char *copy = NULL;
    uv_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->nroutes; i++)
        if (strcmp(h->routes[i].path, path) == 0 && h->routes[i].last) {
            copy = dup_bytes(h->routes[i].last, h->routes[i].last_len);
            if (len)
                *len = h->routes[i].last_len;
        }
    uv_mutex_unlock(&h->mu);
    return copy;
}

unsigned httpd_open(struct httpd *h)
{
    uv_mutex_lock(&h->mu);
    unsigned n = h->open;
    uv_mutex_unlock(&h->mu);
    return n;
}

unsigned httpd_accepted(struct httpd *h)
{
    uv_mutex_lock(&h->mu);
    unsigned n = h->accepted;
    uv_mutex_unlock(&h->mu);
    return n;
}

unsigned httpd_max_open(struct httpd *h)
{
    uv_mutex_lock(&h->mu);
    unsigned n = h->max_open;
    uv_mutex_unlock(&h->mu);
    return n;
}

void httpd_stop(struct httpd *h)
{
    if (!h)
        return;
    uv_async_send(&h->stop);
    uv_thread_join(&h->thread);
    uv_loop_close(&h->loop);
    uv_mutex_destroy(&h->mu);
    for (size_t i = 0; i < h->nroutes; i++) {
        free(h->routes[i].path);
        free((char *)h->routes[i].a.location);
        free((void *)h->routes[i].a.body);
        free(h->routes[i].last);
    }
    free(h->routes);
    free(h);
}
