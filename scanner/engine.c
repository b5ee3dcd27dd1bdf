/* The scan engine (see engine.h).  Each job owns its TCP handle and one
 * timer, and is freed only in the last close callback. */
#include "engine.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "classify.h"
#include "cert.h"
#include "probes/probe.h"
#include "resolve.h"

#define READ_BUF_BYTES 65536
#define MAX_CHAIN_BYTES (1 << 20)

enum phase { PH_RESOLVE, PH_CONNECT, PH_HANDSHAKE, PH_DONE };

struct engine {
    uv_loop_t loop;
    const struct cs_options *opt;
    int64_t now;
    struct cs_targets *targets;
    struct cs_resolver *resolver;
    SSL_CTX *ssl_ctx;
    const struct cs_probe *probe;
    struct cs_thresholds thresholds;
    cs_result_cb cb;
    void *arg;
    unsigned in_flight;
    bool eof;                    /* no more targets will be taken */
    bool filling, refill;        /* fill() re-entrancy guard */
    enum cs_engine_status status;
    struct job *jobs;            /* in flight, for an interrupt */
    uv_signal_t sigint, sigterm;
    struct cs_engine_stats *stats;
    char read_buf[READ_BUF_BYTES];
};

struct job {
    struct cs_conn conn;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect_req;
    struct engine *eng;
    struct job *prev, *next;
    struct cs_target target;
    enum phase phase;
    struct sockaddr_storage addrs[CS_RESOLVE_MAX_ADDRS];
    size_t n_addrs, cur_addr;
    uint64_t started_ns;         /* first connect attempt */
    uint64_t deadline_ms;        /* loop time */
    bool tcp_open, reading, resolving, finished;
    int handles;                 /* open handles left to close */
};

struct write_req {
    uv_write_t req;
    char data[];
};

static void fill(struct engine *e);
static void job_connect(struct job *j);

static void job_handle_closed(uv_handle_t *h)
{
    struct job *j = h->data;
    if (--j->handles == 0 && !j->resolving) {
        cs_target_free(&j->target);
        free(j);
    }
}

/* Emits the record and releases everything but the memory of j. */
static void job_finish(struct job *j, const char *error)
{
    struct engine *e = j->eng;
    if (j->finished)
        return;
    j->finished = true;
    j->phase = PH_DONE;

    struct cs_result r;
    cs_result_init(&r);
    free(r.host);
    r.host = cs_strdup(j->target.host);
    r.port = j->target.port;
    free(r.sni);
    r.sni = cs_strdup(j->target.sni ? j->target.sni : "");
    if (j->n_addrs) {
        char ip[INET6_ADDRSTRLEN] = "";
        uv_ip_name((const struct sockaddr *)&j->addrs[j->cur_addr], ip, sizeof(ip));
        free(r.address);
        r.address = cs_strdup(ip);
    }
    if (j->started_ns)
        r.elapsed_ms = (int64_t)((uv_hrtime() - j->started_ns) / 1000000);

    STACK_OF(X509) *chain = !error && j->conn.ssl ? SSL_get_peer_cert_chain(j->conn.ssl) : NULL;
    if (!error && sk_X509_num(chain) < 1)
        error = "handshake: server sent no certificate";
    if (!error) {
        const struct cs_target *t = &j->target;
        struct cs_verify_input in = {
            .store = SSL_CTX_get_cert_store(e->ssl_ctx),
            .name = t->sni ? t->sni : t->host,
            .name_is_ip = !t->sni && t->family != 0,
            .now = e->now,
        };
        struct cs_chain_facts facts;
        cs_cert_analyse(&r, &facts, chain, &in);
        free(r.tls_version);
        r.tls_version = cs_strdup(SSL_get_version(j->conn.ssl));
        if (r.not_after == CS_INT_NONE || r.not_before == CS_INT_NONE)
            cs_classify_error(&r, "certificate: unreadable validity dates");
        else
            cs_classify(&r, &facts, e->now, &e->thresholds);
        cs__tls_shutdown(&j->conn); /* Finished and close_notify, politely */
    } else {
        cs_classify_error(&r, error);
    }
    e->cb(e->arg, &r);
    cs_result_free(&r);

    if (j->conn.ssl)
        cs__tls_free(&j->conn);
    uv_timer_stop(&j->timer);
    if (j->reading)
        uv_read_stop((uv_stream_t *)&j->tcp);
    if (j->tcp_open) {
        j->tcp_open = false;
        uv_close((uv_handle_t *)&j->tcp, job_handle_closed);
    }
    uv_close((uv_handle_t *)&j->timer, job_handle_closed);

    if (j->prev)
        j->prev->next = j->next;
    else
        e->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    e->in_flight--;
    fill(e);
}

static void timer_cb(uv_timer_t *t)
{
    struct job *j = t->data;
    switch (j->phase) {
    case PH_CONNECT:
        job_finish(j, "timeout during connect");
        break;
    case PH_HANDSHAKE:
        job_finish(j, j->conn.ssl ? "timeout during handshake" : "timeout during starttls");
        break;
    default:
        break;
    }
}

static void arm_timer(struct job *j, uint64_t limit_ms)
{
    uint64_t now = uv_now(&j->eng->loop);
    uint64_t left = j->deadline_ms > now ? j->deadline_ms - now : 1;
    uv_timer_start(&j->timer, timer_cb, limit_ms && limit_ms < left ? limit_ms : left, 0);
}

static void write_cb(uv_write_t *req, int status)
{
    (void)status; /* a failed write shows up as a read error */
    free(req);
}

static int conn_write(struct cs_conn *c, const void *buf, size_t len)
{
    struct job *j = c->owner;
    if (!j->tcp_open || j->finished)
        return UV_ECANCELED;
    struct write_req *w = cs_xmalloc(sizeof(*w) + len);
    memcpy(w->data, buf, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&j->tcp, &b, 1, write_cb);
    if (rc < 0)
        free(w);
    return rc;
}

static void conn_done(struct cs_conn *c, const char *error)
{
    job_finish(c->owner, error);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct job *j = h->data;
    (void)suggested;
    *buf = uv_buf_init(j->eng->read_buf, sizeof(j->eng->read_buf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct job *j = s->data;
    if (j->finished || n == 0)
        return;
    if (n < 0) {
        if (j->conn.ssl) {
            cs__tls_eof(&j->conn, (int)n);
        } else {
            char why[128];
            snprintf(why, sizeof(why), "starttls: %s",
                     n == UV_EOF ? "connection closed by peer" : uv_strerror((int)n));
            job_finish(j, why);
        }
        return;
    }
    if (j->conn.ssl) {
        cs__tls_feed(&j->conn, buf->base, (size_t)n);
    } else if (j->conn.probe->on_read(&j->conn, buf->base, (size_t)n) < 0 && !j->finished) {
        job_finish(j, "starttls: unexpected reply");
    }
}

static const char *connect_error(int status)
{
    switch (status) {
    case UV_ECONNREFUSED:
        return "connect: connection refused";
    case UV_ETIMEDOUT:
        return "timeout during connect";
    case UV_ENETUNREACH:
        return "connect: network unreachable";
    case UV_EHOSTUNREACH:
        return "connect: host unreachable";
    case UV_ECONNRESET:
        return "connect: connection reset by peer";
    case UV_EADDRNOTAVAIL:
        return "connect: address not available";
    case UV_EMFILE:
    case UV_ENFILE:
        return "connect: out of file descriptors (lower -j)";
    default:
        return NULL;
    }
}

static void connect_failed(struct job *j, int status);

static void reconnect_closed_cb(uv_handle_t *h)
{
    struct job *j = h->data;
    if (j->finished) { /* the deadline passed while the handle closed */
        job_handle_closed(h);
        return;
    }
    j->handles--;
    job_connect(j);
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct job *j = req->data;
    if (j->finished)
        return;
    if (status < 0) {
        connect_failed(j, status);
        return;
    }
    j->phase = PH_HANDSHAKE;
    arm_timer(j, 0);
    if (uv_read_start((uv_stream_t *)&j->tcp, alloc_cb, read_cb) < 0) {
        job_finish(j, "connect: cannot read from socket");
        return;
    }
    j->reading = true;
    j->conn.probe = j->eng->probe;
    j->conn.ssl_ctx = j->eng->ssl_ctx;
    j->conn.sni = j->target.sni;
    j->conn.write = conn_write;
    j->conn.done = conn_done;
    j->conn.owner = j;
    if (j->conn.probe->start(&j->conn) < 0 && !j->finished)
        job_finish(j, "handshake: cannot start TLS");
}

static void connect_failed(struct job *j, int status)
{
    if (j->cur_addr + 1 < j->n_addrs && uv_now(&j->eng->loop) < j->deadline_ms) {
        j->cur_addr++;
        j->tcp_open = false;
        uv_close((uv_handle_t *)&j->tcp, reconnect_closed_cb);
        return;
    }
    const char *why = connect_error(status);
    char buf[128];
    if (!why) {
        snprintf(buf, sizeof(buf), "connect: %s", uv_strerror(status));
        why = buf;
    }
    job_finish(j, why);
}

static void job_connect(struct job *j)
{
    struct engine *e = j->eng;
    if (!j->started_ns) {
        j->started_ns = uv_hrtime();
        j->deadline_ms = uv_now(&e->loop) + e->opt->timeout_ms;
    }
    j->phase = PH_CONNECT;
    arm_timer(j, e->opt->connect_timeout_ms);
    int rc = uv_tcp_init(&e->loop, &j->tcp);
    if (rc < 0) {
        job_finish(j, "connect: cannot create socket");
        return;
    }
    j->tcp.data = j;
    j->tcp_open = true;
    j->handles++;
    uv_tcp_nodelay(&j->tcp, 1);
    j->connect_req.data = j;
    if (e->stats)
        e->stats->probes++;
    rc = uv_tcp_connect(&j->connect_req, &j->tcp, (const struct sockaddr *)&j->addrs[j->cur_addr],
                        connect_cb);
    if (rc < 0)
        connect_failed(j, rc);
}

static void resolved_cb(void *arg, const char *error, const struct sockaddr_storage *addrs,
                        size_t n)
{
    struct job *j = arg;
    j->resolving = false;
    if (j->finished) { /* interrupted while resolving */
        if (j->handles == 0) {
            cs_target_free(&j->target);
            free(j);
        }
        return;
    }
    if (error) {
        char why[128];
        snprintf(why, sizeof(why), "dns: %s", error);
        job_finish(j, why);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        j->addrs[i] = addrs[i];
        if (addrs[i].ss_family == AF_INET)
            ((struct sockaddr_in *)&j->addrs[i])->sin_port = htons(j->target.port);
        else
            ((struct sockaddr_in6 *)&j->addrs[i])->sin6_port = htons(j->target.port);
    }
    j->n_addrs = n;
    job_connect(j);
}

static int set_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(ip, ':'))
        return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss);
    return uv_ip4_addr(ip, port, (struct sockaddr_in *)ss);
}

static const struct cs_pin *find_pin(const struct cs_options *o, const char *host, uint16_t port)
{
    size_t hlen = strlen(host);
    for (size_t i = 0; i < o->n_pins; i++) {
        const struct cs_pin *p = &o->pins[i];
        if (p->port >= 0 && p->port != port)
            continue;
        if (strcmp(p->host, "*") == 0 || strcasecmp(p->host, host) == 0)
            return p;
        size_t plen = strlen(p->host);
        if (plen > 2 && p->host[0] == '*' && p->host[1] == '.' && hlen > plen - 1 &&
            strcasecmp(host + hlen - (plen - 1), p->host + 1) == 0)
            return p;
    }
    return NULL;
}

static void emit_bad_target(struct engine *e, struct cs_target *t)
{
    struct cs_result r;
    cs_result_init(&r);
    free(r.host);
    r.host = cs_strdup(t->host);
    r.port = t->port_known ? t->port : CS_INT_NONE;
    char *why = cs_asprintf("input: %s", t->bad);
    cs_classify_error(&r, why);
    free(why);
    e->cb(e->arg, &r);
    cs_result_free(&r);
}

static void job_start(struct engine *e, struct cs_target *t)
{
    struct job *j = cs_xcalloc(1, sizeof(*j));
    j->eng = e;
    j->target = *t;
    memset(t, 0, sizeof(*t));
    uv_timer_init(&e->loop, &j->timer);
    j->timer.data = j;
    j->handles = 1;
    j->next = e->jobs;
    if (e->jobs)
        e->jobs->prev = j;
    e->jobs = j;
    e->in_flight++;
    if (e->stats && e->in_flight > e->stats->peak_in_flight)
        e->stats->peak_in_flight = e->in_flight;

    const struct cs_pin *pin;
    if (j->target.family) {
        set_addr(&j->addrs[0], j->target.host, j->target.port);
        j->n_addrs = 1;
        job_connect(j);
    } else if ((pin = find_pin(e->opt, j->target.host, j->target.port))) {
        set_addr(&j->addrs[0], pin->addr, j->target.port);
        j->n_addrs = 1;
        job_connect(j);
    } else {
        j->phase = PH_RESOLVE;
        j->resolving = true;
        cs_resolve(e->resolver, j->target.host, resolved_cb, j);
    }
}

static void fill(struct engine *e)
{
    if (e->filling) {
        e->refill = true;
        return;
    }
    e->filling = true;
    do {
        e->refill = false;
        while (!e->eof && e->in_flight < e->opt->concurrency) {
            struct cs_target t;
            if (cs_targets_next(e->targets, &t) <= 0) {
                e->eof = true;
                break;
            }
            if (t.bad) {
                if (e->opt->strict_input) {
                    e->status = CS_ENGINE_USAGE;
                    e->eof = true;
                    cs_target_free(&t);
                    break;
                }
                emit_bad_target(e, &t);
                cs_target_free(&t);
                continue;
            }
            job_start(e, &t);
        }
    } while (e->refill);
    e->filling = false;
    if (e->eof && e->in_flight == 0 && e->resolver) {
        if (e->stats)
            e->stats->dns_queries = cs_resolver_queries(e->resolver);
        cs_resolver_close(e->resolver);
        e->resolver = NULL;
        uv_close((uv_handle_t *)&e->sigint, NULL);
        uv_close((uv_handle_t *)&e->sigterm, NULL);
    }
}

static void signal_cb(uv_signal_t *s, int signum)
{
    struct engine *e = s->data;
    (void)signum;
    e->eof = true;
    e->status = CS_ENGINE_INTERRUPTED;
    /* end every probe in flight; their records say so */
    while (e->jobs)
        job_finish(e->jobs, "interrupted");
    fill(e);
}

static SSL_CTX *make_ssl_ctx(const struct cs_options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    /* A scanner must see whatever a server offers, however weak or old. */
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_LEGACY_SERVER_CONNECT |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* verified after the handshake */
    SSL_CTX_set_max_cert_list(ctx, MAX_CHAIN_BYTES);
    int ok = o->ca_file || o->ca_path ? SSL_CTX_load_verify_locations(ctx, o->ca_file, o->ca_path)
                                      : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        unsigned long err = ERR_get_error();
        fprintf(stderr, "certsweep: %s: cannot load trust anchors: %s (give a PEM file)\n",
                o->ca_file ? o->ca_file : o->ca_path ? o->ca_path : "system store",
                err ? ERR_reason_error_string(err) : "unknown error");
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

/* Raises the open-file limit to its hard limit and clamps the window to it. */
static unsigned fit_concurrency(unsigned want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t reserve = 64; /* stdio, reports, DNS sockets, trust store */
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)want + reserve > rl.rlim_cur) {
        unsigned fit = rl.rlim_cur > reserve + 1 ? (unsigned)(rl.rlim_cur - reserve) : 1;
        fprintf(stderr,
                "certsweep: -j %u needs more open files than allowed (%llu); using -j %u "
                "(raise 'ulimit -n')\n",
                want, (unsigned long long)rl.rlim_cur, fit);
        return fit;
    }
    return want;
}

enum cs_engine_status cs_engine_run(const struct cs_options *opt, int64_t now,
                                    struct cs_targets *targets, cs_result_cb cb, void *arg,
                                    struct cs_engine_stats *stats)
{
    struct engine *e = cs_xcalloc(1, sizeof(*e));
    struct cs_options o = *opt;
    enum cs_engine_status status = CS_ENGINE_OK;
    o.concurrency = fit_concurrency(opt->concurrency);
    e->opt = &o;
    e->now = now;
    e->targets = targets;
    e->cb = cb;
    e->arg = arg;
    e->stats = stats;
    e->probe = cs_probe_by_name(opt->probe ? opt->probe : "tls");
    e->thresholds = (struct cs_thresholds){opt->warn_secs, opt->crit_secs, !opt->no_verify};
    if (!e->probe) {
        free(e);
        return CS_ENGINE_INTERNAL;
    }
    e->ssl_ctx = make_ssl_ctx(opt);
    if (!e->ssl_ctx) {
        free(e);
        return CS_ENGINE_INPUT;
    }
    if (uv_loop_init(&e->loop) < 0) {
        SSL_CTX_free(e->ssl_ctx);
        free(e);
        return CS_ENGINE_INTERNAL;
    }
    char err[256];
    if (cs_resolver_new(&e->resolver, &e->loop, opt->dns_server, (unsigned)opt->dns_timeout_ms,
                        err, sizeof(err)) < 0) {
        fprintf(stderr, "certsweep: %s\n", err);
        status = CS_ENGINE_USAGE;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_signal_init(&e->loop, &e->sigint);
    uv_signal_init(&e->loop, &e->sigterm);
    e->sigint.data = e->sigterm.data = e;
    uv_signal_start_oneshot(&e->sigint, signal_cb, SIGINT);
    uv_signal_start_oneshot(&e->sigterm, signal_cb, SIGTERM);
    uv_unref((uv_handle_t *)&e->sigint);
    uv_unref((uv_handle_t *)&e->sigterm);

    fill(e);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    status = e->status;
out:
    if (e->resolver) {
        cs_resolver_close(e->resolver);
        e->resolver = NULL;
    }
    uv_run(&e->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&e->loop) != 0)
        status = status ? status : CS_ENGINE_INTERNAL;
    SSL_CTX_free(e->ssl_ctx);
    free(e);
    return status;
}
