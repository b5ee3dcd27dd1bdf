/* c-ares on the engine's loop (see resolve.h). */
#include "scanner/resolve.h"

#include <ares.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/result.h"

struct waiter {
    cs_resolve_cb cb;
    void *arg;
    struct waiter *next;
};

struct entry {
    struct cs_resolver *r;
    struct entry *next; /* hash chain */
    char *name;
    bool done;
    const char *error;              /* static text; NULL on success */
    struct sockaddr_storage *addrs; /* n of them, as many as the answer had (up to the limit) */
    size_t n;
    struct waiter *waiters;
};

struct sock {
    uv_poll_t poll;
    ares_socket_t fd;
    struct cs_resolver *r;
    struct sock *next;
};

struct delivery {
    struct entry *e;
    struct waiter *w;
    struct delivery *next;
};

struct cs_resolver {
    uv_loop_t *loop;
    ares_channel ch;
    uv_timer_t timer;
    uv_idle_t idle; /* delivers answers outside cs_resolve() */
    struct sock *socks;
    struct entry **buckets;
    size_t nbuckets, nentries;
    struct delivery *ready, **ready_tail;
    unsigned long queries;
    int closing_handles;
    int family;       /* AF_UNSPEC, or the one family asked for (-4, -6) */
    size_t max_addrs; /* kept per name */
};

static void resolver_update_timer(struct cs_resolver *r);

static void sock_close_cb(uv_handle_t *h)
{
    free(h->data);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    struct cs_resolver *r = s->r;
    ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
    if (status < 0 || events & UV_READABLE)
        rfd = s->fd;
    if (status < 0 || events & UV_WRITABLE)
        wfd = s->fd;
    ares_process_fd(r->ch, rfd, wfd);
    resolver_update_timer(r);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    struct cs_resolver *r = data;
    struct sock **pp = &r->socks, *s;
    while ((s = *pp) && s->fd != fd)
        pp = &s->next;
    if (!readable && !writable) {
        if (s) {
            *pp = s->next;
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, sock_close_cb);
        }
        return;
    }
    if (!s) {
        s = cs_xcalloc(1, sizeof(*s));
        s->fd = fd;
        s->r = r;
        if (uv_poll_init_socket(r->loop, &s->poll, fd) < 0) {
            free(s);
            return; /* c-ares times the query out */
        }
        s->poll.data = s;
        s->next = r->socks;
        r->socks = s;
    }
    uv_poll_start(&s->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), poll_cb);
}

static void timer_cb(uv_timer_t *t)
{
    struct cs_resolver *r = t->data;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    resolver_update_timer(r);
}

static void resolver_update_timer(struct cs_resolver *r)
{
    struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
    if (!tvp) {
        uv_timer_stop(&r->timer);
        return;
    }
    uint64_t ms = (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000;
    uv_timer_start(&r->timer, timer_cb, ms ? ms : 1, 0);
}

static void deliver_ready(struct cs_resolver *r)
{
    struct delivery *d;
    while ((d = r->ready)) {
        r->ready = d->next;
        if (!r->ready)
            r->ready_tail = &r->ready;
        struct entry *e = d->e;
        struct waiter *w = d->w;
        free(d);
        w->cb(w->arg, e->error, e->error ? NULL : e->addrs, e->error ? 0 : e->n);
        free(w);
    }
}

static void idle_cb(uv_idle_t *h)
{
    struct cs_resolver *r = h->data;
    uv_idle_stop(h);
    deliver_ready(r);
}

static void queue_waiter(struct cs_resolver *r, struct entry *e, struct waiter *w)
{
    struct delivery *d = cs_xmalloc(sizeof(*d));
    d->e = e;
    d->w = w;
    d->next = NULL;
    *r->ready_tail = d;
    r->ready_tail = &d->next;
    if (r->loop)
        uv_idle_start(&r->idle, idle_cb);
}

static const char *ares_phrase(int status)
{
    switch (status) {
    case ARES_ENOTFOUND:
        return "NXDOMAIN";
    case ARES_ENODATA:
        return "no address";
    case ARES_ETIMEOUT:
        return "timeout";
    case ARES_ESERVFAIL:
        return "SERVFAIL";
    case ARES_EREFUSED:
        return "REFUSED";
    case ARES_ECONNREFUSED:
        return "server refused or unreachable";
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
        return "cancelled";
    case ARES_EBADNAME:
        return "bad name";
    default:
        return "lookup failed";
    }
}

static void addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    struct entry *e = arg;
    (void)timeouts;
    e->done = true;
    e->n = 0;
    if (status == ARES_SUCCESS && ai) {
        size_t max = e->r->max_addrs;
        e->addrs = cs_xcalloc(max, sizeof(*e->addrs));
        /* IPv4 first, then IPv6, in the order the server gave them; more
           than max are dropped (a name with hundreds of records costs no
           more than max) */
        for (int fam = 0; fam < 2; fam++)
            for (struct ares_addrinfo_node *n = ai->nodes; n; n = n->ai_next) {
                if (e->n == max)
                    break;
                if (n->ai_family != (fam ? AF_INET6 : AF_INET) ||
                    n->ai_addrlen > sizeof(e->addrs[0]))
                    continue;
                bool dup = false;
                for (size_t i = 0; i < e->n && !dup; i++)
                    dup = memcmp(&e->addrs[i], n->ai_addr, n->ai_addrlen) == 0;
                if (dup)
                    continue;
                memset(&e->addrs[e->n], 0, sizeof(e->addrs[0]));
                memcpy(&e->addrs[e->n], n->ai_addr, n->ai_addrlen);
                e->n++;
            }
        e->error = e->n ? NULL : "no address";
    } else {
        e->error = ares_phrase(status);
    }
    if (ai)
        ares_freeaddrinfo(ai);
    struct waiter *w = e->waiters;
    e->waiters = NULL;
    while (w) {
        struct waiter *next = w->next;
        queue_waiter(e->r, e, w);
        w = next;
    }
}

int cs_resolver_new(struct cs_resolver **out, uv_loop_t *loop, const char *server,
                    unsigned timeout_ms, char *err, size_t errlen)
{
    static int lib_ready;
    if (!lib_ready) {
        int rc = ares_library_init(ARES_LIB_INIT_ALL);
        if (rc != ARES_SUCCESS) {
            snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
            return -1;
        }
        lib_ready = 1;
    }
    struct cs_resolver *r = cs_xcalloc(1, sizeof(*r));
    struct ares_options ao;
    memset(&ao, 0, sizeof(ao));
    ao.sock_state_cb = sock_state_cb;
    ao.sock_state_cb_data = r;
    ao.timeout = (int)timeout_ms;
    ao.tries = 2;
    /* targets are absolute names: no search domains, whatever resolv.conf
       says (ndots:5 would otherwise try every name under each domain first) */
    ao.flags = ARES_FLAG_NOSEARCH;
    int rc = ares_init_options(
        &r->ch, &ao, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
        free(r);
        return -1;
    }
    if (server && (rc = ares_set_servers_ports_csv(r->ch, server)) != ARES_SUCCESS) {
        snprintf(err, errlen, "--dns-server %s: %s", server, ares_strerror(rc));
        ares_destroy(r->ch);
        free(r);
        return -1;
    }
    r->loop = loop;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_idle_init(loop, &r->idle);
    r->idle.data = r;
    r->nbuckets = 1024;
    r->buckets = cs_xcalloc(r->nbuckets, sizeof(*r->buckets));
    r->ready_tail = &r->ready;
    r->family = AF_UNSPEC;
    r->max_addrs = CS_RESOLVE_MAX_ADDRS;
    *out = r;
    return 0;
}

static size_t hash_name(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211ull;
    }
    return h;
}

static void grow(struct cs_resolver *r)
{
    size_t nb = r->nbuckets * 2;
    struct entry **b = cs_xcalloc(nb, sizeof(*b));
    for (size_t i = 0; i < r->nbuckets; i++) {
        struct entry *e = r->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            size_t h = hash_name(e->name) & (nb - 1);
            e->next = b[h];
            b[h] = e;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = nb;
}

void cs_resolve(struct cs_resolver *r, const char *host, cs_resolve_cb cb, void *arg)
{
    size_t h = hash_name(host) & (r->nbuckets - 1);
    struct entry *e = r->buckets[h];
    while (e && strcasecmp(e->name, host) != 0)
        e = e->next;
    struct waiter *w = cs_xmalloc(sizeof(*w));
    w->cb = cb;
    w->arg = arg;
    w->next = NULL;
    if (e) {
        if (e->done) {
            queue_waiter(r, e, w);
        } else {
            w->next = e->waiters;
            e->waiters = w;
        }
        return;
    }
    if (r->nentries + 1 > r->nbuckets) {
        grow(r);
        h = hash_name(host) & (r->nbuckets - 1);
    }
    e = cs_xcalloc(1, sizeof(*e));
    e->r = r;
    e->name = cs_strdup(host);
    e->waiters = w;
    e->next = r->buckets[h];
    r->buckets[h] = e;
    r->nentries++;
    r->queries++;
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = r->family;
    hints.ai_flags = ARES_AI_NOSORT;
    ares_getaddrinfo(r->ch, host, NULL, &hints, addrinfo_cb, e);
    resolver_update_timer(r);
}

void cs_resolver_cancel(struct cs_resolver *r)
{
    if (r)
        ares_cancel(r->ch); /* every lookup ends as "cancelled" */
}

void cs_resolver_limit(struct cs_resolver *r, int family, size_t max)
{
    r->family = family;
    r->max_addrs = max < 1 ? 1 : max > CS_RESOLVE_MAX_ALL ? CS_RESOLVE_MAX_ALL : max;
}

unsigned long cs_resolver_queries(const struct cs_resolver *r)
{
    return r->queries;
}

static void resolver_handle_closed(uv_handle_t *h)
{
    struct cs_resolver *r = h->data;
    if (--r->closing_handles == 0)
        free(r);
}

void cs_resolver_close(struct cs_resolver *r)
{
    if (!r)
        return;
    ares_destroy(r->ch); /* pending lookups end as "cancelled" */
    deliver_ready(r);
    while (r->socks) {
        struct sock *s = r->socks;
        r->socks = s->next;
        uv_poll_stop(&s->poll);
        uv_close((uv_handle_t *)&s->poll, sock_close_cb);
    }
    for (size_t i = 0; i < r->nbuckets; i++) {
        struct entry *e = r->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e->name);
            free(e->addrs);
            free(e);
        }
    }
    free(r->buckets);
    r->buckets = NULL;
    r->closing_handles = 2;
    uv_close((uv_handle_t *)&r->timer, resolver_handle_closed);
    uv_close((uv_handle_t *)&r->idle, resolver_handle_closed);
}
