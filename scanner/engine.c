/* The scan engine (see engine.h).  Each worker owns a loop, its jobs and its
 * SSL_CTX; workers share the target reader, the record callback, the trust
 * store and the chain cache, each behind a lock taken once per target.  The
 * calling thread runs a control loop with the one resolver (so each name is
 * asked once per scan, whichever worker needs it), the one revocation
 * service (each CRL and OCSP answer fetched once per scan) and the signal
 * handlers.
 * A job owns its TCP handle and one timer and is freed only in the last
 * close callback. */
#include "engine.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "chain_cache.h"
#include "classify.h"
#include "probes/probe.h"
#include "resolve.h"
#include "revoker.h"
#include "version.h"

#define READ_BUF_BYTES 65536
#define MAX_CHAIN_BYTES (1 << 20)
#define CHAIN_CACHE_ENTRIES 8192
#define ADDR_BUCKETS 4096
#define READ_AHEAD 1024          /* targets parsed ahead of the workers */
#define STATUS_WAIT_MS 1000      /* TLS 1.2: the rest of the flight after the chain */
#define DNS_MAX_OUTSTANDING 256  /* lookups in progress at once: a burst of
                                    thousands overflows a resolver's socket */

/* An address as a job keeps it: a sockaddr_storage would be 128 bytes. */
union cs_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

enum phase { PH_RESOLVE, PH_WAIT_ADDRESS, PH_CONNECT, PH_HANDSHAKE, PH_DONE };

struct scan {
    const struct cs_options *opt;
    int64_t now;
    uv_mutex_t lock;             /* the queue and intake flags, the callback */
    struct cs_targets *targets;  /* read by the reader thread only */
    uv_thread_t reader;
    uv_cond_t reader_room;       /* the queue has room, or the intake stopped */
    struct cs_target *queue;     /* targets read ahead of the workers, a ring */
    size_t q_head, q_len;
    bool reader_eof;             /* the reader has read everything */
    bool intake_stopped;         /* take no more targets (signal, --strict-input) */
    atomic_bool interrupted;     /* stop taking targets; grace for the rest */
    atomic_bool abort_now;       /* a second signal: end every probe now */
    atomic_int signal;
    enum cs_engine_status status;
    cs_result_cb cb;
    void *arg;
    X509_STORE *store;           /* trust anchors, loaded once */
    struct cs_chain_cache *chains;
    const struct cs_probe *probe;
    struct cs_thresholds thresholds;
    struct worker *workers;
    unsigned n_workers;
    uv_loop_t main_loop;         /* the control loop: DNS, signals */
    uv_async_t all_done;         /* a worker finished */
    atomic_uint finished_workers;
    struct cs_resolver *resolver;
    uv_mutex_t dns_lock;         /* dns_queue */
    struct dns_req *dns_queue;   /* names the workers want resolved */
    uv_async_t dns_async;
    struct dns_req *dns_backlog, **dns_backlog_tail; /* control loop only: waiting */
    unsigned dns_outstanding;    /* control loop only: lookups in progress */
    struct cs_revoker *revoker;  /* NULL without --ocsp and --crl */
    uv_mutex_t rev_lock;         /* rev_queue */
    struct rev_wait *rev_queue;  /* leafs the workers want checked */
    uv_async_t rev_async;
    uv_timer_t grace_timer;
};

/* A record whose connection is over and that waits for its revocation
   answer: sent to the control loop, answered back to its worker.  It counts
   in the worker's window until then. */
struct rev_wait {
    struct cs_rev_query q;
    struct worker *w;
    struct cs_result r;
    struct cs_chain_facts facts;
    struct cs_rev_answer staple;
    struct cs_chain_objs objs;
    struct rev_wait *next;
};

/* A name a job wants resolved: sent to the control loop, answered back to
   the job's worker. */
struct dns_req {
    struct job *job;
    struct worker *w;
    const char *error;           /* static text, NULL on success */
    struct sockaddr_storage addrs[CS_RESOLVE_MAX_ADDRS];
    size_t n;
    struct dns_req *next;
};

/* Connections in flight to one address, and jobs waiting for a slot. */
struct addr_slot {
    union cs_sockaddr addr;
    unsigned in_flight;
    struct job *waiting, **waiting_tail;
    struct addr_slot *next;
};

struct worker {
    uv_loop_t loop;
    struct scan *scan;
    unsigned window;             /* this worker's share of -j */
    unsigned in_flight;
    bool eof, closed;
    bool starved;                /* under scan->lock: waiting for the reader */
    bool filling, refill;        /* fill() re-entrancy guard */
    SSL_CTX *ssl_ctx;
    struct job *jobs;            /* in flight, for an interrupt */
    uv_async_t wake;             /* DNS answers arrived, or an interrupt */
    uv_mutex_t inbox_lock;
    struct dns_req *inbox;       /* answered names */
    struct rev_wait *rev_inbox;  /* answered revocation checks */
    unsigned dns_pending;        /* names asked and not yet answered */
    uv_timer_t rate_timer;
    double tokens, rate;         /* this worker's share of --rate */
    uint64_t tokens_at;          /* loop time of the last refill */
    unsigned per_address;
    struct addr_slot *slots[ADDR_BUCKETS];
    uv_thread_t thread;
    uint64_t probes;
    unsigned peak;
    char read_buf[READ_BUF_BYTES];
};

struct job {
    struct cs_conn conn;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect_req;
    struct worker *w;
    struct job *prev, *next;     /* the worker's jobs in flight */
    struct job *next_waiting;    /* in an address slot's queue */
    struct addr_slot *slot;      /* held while connected */
    struct cs_target target;
    enum phase phase;
    union cs_sockaddr addrs[CS_RESOLVE_MAX_ADDRS];
    size_t n_addrs, cur_addr;
    uint64_t started_ns;         /* first connect attempt */
    uint64_t deadline_ms;        /* loop time */
    bool tcp_open, reading, resolving, finished;
    bool status_wait;            /* TLS 1.2: waiting for the CertificateStatus */
    int handles;                 /* open handles left to close */
};

struct write_req {
    uv_write_t req;
    char data[];
};

static void fill(struct worker *w);
static void job_connect(struct job *j);

static void emit(struct scan *s, const struct cs_result *r)
{
    uv_mutex_lock(&s->lock);
    s->cb(s->arg, r);
    uv_mutex_unlock(&s->lock);
}

/* ---- per-address slots ---- */

static size_t addr_hash(const union cs_sockaddr *a)
{
    const unsigned char *p;
    size_t n;
    if (a->sa.sa_family == AF_INET) {
        p = (const unsigned char *)&a->v4.sin_addr;
        n = 4;
    } else {
        p = (const unsigned char *)&a->v6.sin6_addr;
        n = 16;
    }
    size_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h % ADDR_BUCKETS;
}

static bool same_ip(const union cs_sockaddr *a, const union cs_sockaddr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return false;
    if (a->sa.sa_family == AF_INET)
        return memcmp(&a->v4.sin_addr, &b->v4.sin_addr, 4) == 0;
    return memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16) == 0;
}

static struct addr_slot *slot_get(struct worker *w, const union cs_sockaddr *a)
{
    struct addr_slot **pp = &w->slots[addr_hash(a)];
    for (struct addr_slot *s = *pp; s; s = s->next)
        if (same_ip(&s->addr, a))
            return s;
    struct addr_slot *s = cs_xcalloc(1, sizeof(*s));
    s->addr = *a;
    s->waiting_tail = &s->waiting;
    s->next = *pp;
    *pp = s;
    return s;
}

static void slot_drop_if_idle(struct worker *w, struct addr_slot *s)
{
    if (s->in_flight || s->waiting)
        return;
    struct addr_slot **pp = &w->slots[addr_hash(&s->addr)];
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    free(s);
}

/* Releases j's slot and starts the next job waiting for that address. */
static void slot_release(struct job *j)
{
    struct addr_slot *s = j->slot;
    if (!s)
        return;
    j->slot = NULL;
    s->in_flight--;
    struct job *next = s->waiting;
    if (next) {
        s->waiting = next->next_waiting;
        if (!s->waiting)
            s->waiting_tail = &s->waiting;
        next->next_waiting = NULL;
        s->in_flight++;
        next->slot = s;
        job_connect(next);
        return;
    }
    slot_drop_if_idle(j->w, s);
}

/* Takes a job that waits for a slot out of its address's queue. */
static void slot_forget_waiter(struct job *j)
{
    struct addr_slot *s = slot_get(j->w, &j->addrs[j->cur_addr]);
    struct job **pp = &s->waiting;
    while (*pp && *pp != j)
        pp = &(*pp)->next_waiting;
    if (*pp) {
        *pp = j->next_waiting;
        if (!*pp)
            s->waiting_tail = pp;
    }
    slot_drop_if_idle(j->w, s);
}

/* ---- jobs ---- */

static void job_free(struct job *j)
{
    cs_target_free(&j->target);
    free(j);
}

static void job_handle_closed(uv_handle_t *h)
{
    struct job *j = h->data;
    if (--j->handles == 0 && !j->resolving)
        job_free(j);
}

/* The revocation outcome from what the sources said, then the status. */
static void finish_record(struct scan *s, struct cs_result *r, const struct cs_chain_facts *facts,
                          const struct cs_rev_answer *staple, const struct cs_rev_query *q)
{
    struct cs_rev_answer parts[3], a;
    size_t n = 0;
    parts[n++] = *staple;
    if (q) {
        parts[n++] = q->ocsp_answer;
        parts[n++] = q->crl_answer;
    }
    cs_rev_combine(&a, parts, n);
    cs_rev_to_record(r, &a);
    cs_classify(r, facts, s->now, &s->thresholds);
}

/* Whether the server proved, in this handshake, that it holds the private
   key of the leaf it presented: its signature checked with the leaf's key
   (decoded once per chain by the chain cache), or, for RSA key transport,
   a handshake OpenSSL completed.  0 with the reason in why, else 1. */
static int key_proven(const struct cs_conn *c, X509 *leaf, char *why, size_t len)
{
    if (c->proof.kind == CS_PROOF_FINISHED && c->handshake_complete)
        return 1;
    return cs_key_proof_check(&c->proof, X509_get0_pubkey(leaf), why, len);
}

/* Fills r from the chain and classifies it, or, when a responder or a CRL
   must be asked first, returns the wait that carries it on (r is then
   moved into it by the caller).  A chain that came with an error (its proof
   failed or never came) still fills every certificate field; *error is then
   the record's reason, and why is room for one made here. */
static struct rev_wait *fill_record(struct job *j, struct cs_result *r, const char **error,
                                    char *why, size_t why_len)
{
    struct scan *s = j->w->scan;
    const struct cs_target *t = &j->target;
    if (j->conn.chain.n < 1) {
        if (!*error)
            *error = "handshake: server sent no certificate";
        return NULL;
    }
    struct cs_verify_input in = {.store = s->store, .now = s->now, .level = s->opt->verify_level};
    struct cs_chain_facts facts;
    struct cs_chain_objs objs;
    bool stapled = j->conn.staple != NULL;
    if (cs_chain_cache_analyse(s->chains, r, &facts, &j->conn.chain, &in, s->opt->chain,
                               stapled || s->revoker, &objs) < 0) {
        if (!*error)
            *error = "certificate: the server's certificate cannot be parsed";
        return NULL;
    }
    r->hostname_match =
        cs_cert_name_matches(objs.leaf, t->sni ? t->sni : t->host, !t->sni && t->family != 0);
    free(r->tls_version);
    r->tls_version = cs_strdup(j->conn.tls_version);
    if (r->not_after == CS_INT_NONE || r->not_before == CS_INT_NONE) {
        if (!*error)
            *error = "certificate: unreadable validity dates";
        cs_chain_objs_free(&objs);
        return NULL;
    }
    r->days_remaining = cs_days_left(r->not_after, s->now);
    r->key_proven = 0;
    if (!*error && !s->opt->cert_only) {
        r->key_proven = key_proven(&j->conn, objs.leaf, why, why_len);
        if (!r->key_proven)
            *error = why;
    }
    r->ocsp_stapled = stapled;
    if (*error) {
        cs_chain_objs_free(&objs);
        return NULL;
    }
    struct cs_rev_subject subject = {objs.leaf, objs.issuer, objs.certs, s->store, s->now,
                                     facts.verify_ok};
    struct cs_rev_answer staple;
    cs_rev_answer_init(&staple, CS_SRC_STAPLE);
    if (stapled) {
        cs_chain_cache_staple(s->chains, objs.key, j->conn.staple, j->conn.staple_len, &subject,
                              &staple);
        if (staple.state == CS_REV_ERROR)
            snprintf(facts.staple_problem, sizeof(facts.staple_problem), "%s", staple.error);
    }
    /* a valid staple is the responder's own answer: no need to ask again;
       nobody answers for a self-signed leaf (it stays unchecked) */
    bool self_signed = !objs.issuer && X509_self_signed(objs.leaf, 0) == 1;
    bool ask_ocsp = s->opt->ocsp && r->ocsp_uris.n && !self_signed &&
                    staple.state != CS_REV_GOOD && staple.state != CS_REV_REVOKED;
    bool ask_crl = s->opt->crl && r->crl_uris.n && !self_signed;
    if (!s->revoker || (!ask_ocsp && !ask_crl)) {
        finish_record(s, r, &facts, &staple, NULL);
        cs_chain_objs_free(&objs);
        return NULL;
    }
    struct rev_wait *rw = cs_xcalloc(1, sizeof(*rw));
    rw->w = j->w;
    rw->facts = facts;
    rw->staple = staple;
    rw->objs = objs;
    rw->q.subject = subject;
    rw->q.ocsp = ask_ocsp;
    rw->q.crl = ask_crl;
    return rw;
}

static void rev_answered(struct cs_rev_query *q);

/* Hands a record to the control loop's revocation service. */
static void rev_post(struct rev_wait *rw, struct cs_result *r)
{
    struct scan *s = rw->w->scan;
    rw->r = *r; /* the record moves */
    cs_result_init(r);
    rw->q.ocsp_uris = &rw->r.ocsp_uris;
    rw->q.crl_uris = &rw->r.crl_uris;
    rw->q.done = rev_answered;
    uv_mutex_lock(&s->rev_lock);
    rw->next = s->rev_queue;
    s->rev_queue = rw;
    uv_mutex_unlock(&s->rev_lock);
    uv_async_send(&s->rev_async);
}

/* Emits the record and releases everything but the memory of j. */
static void job_finish(struct job *j, const char *error)
{
    struct worker *w = j->w;
    if (j->finished)
        return;
    j->finished = true;
    if (j->phase == PH_WAIT_ADDRESS)
        slot_forget_waiter(j);
    j->phase = PH_DONE;

    struct cs_result r;
    cs_result_init(&r);
    free(r.host);
    r.host = cs_strdup(j->target.unicode ? j->target.unicode : j->target.host);
    r.port = j->target.port;
    free(r.sni);
    r.sni = cs_strdup(j->target.sni ? j->target.sni : "");
    if (j->n_addrs) {
        char ip[INET6_ADDRSTRLEN] = "";
        uv_ip_name(&j->addrs[j->cur_addr].sa, ip, sizeof(ip));
        free(r.address);
        r.address = cs_strdup(ip);
    }
    if (j->started_ns)
        r.elapsed_ms = (int64_t)((uv_hrtime() - j->started_ns) / 1000000);
    char why[160];
    struct rev_wait *rw = fill_record(j, &r, &error, why, sizeof(why));
    if (error)
        cs_classify_error(&r, error);
    if (rw)
        rev_post(rw, &r); /* answered in wake_cb; it stays in the window until then */
    else
    emit(w->scan, &r);
    cs_result_free(&r);

    if (j->conn.ssl)
        cs__tls_free(&j->conn);
    uv_timer_stop(&j->timer);
    if (j->reading)
        uv_read_stop((uv_stream_t *)&j->tcp);
    if (j->tcp_open) {
        j->tcp_open = false;
        /* a reset, not a FIN: no TIME_WAIT, so a long scan never runs out of
           ephemeral ports */
        if (uv_tcp_close_reset(&j->tcp, job_handle_closed) != 0)
            uv_close((uv_handle_t *)&j->tcp, job_handle_closed);
    }
    uv_close((uv_handle_t *)&j->timer, job_handle_closed);
    slot_release(j);

    if (j->prev)
        j->prev->next = j->next;
    else
        w->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    if (!rw)
    w->in_flight--;
    fill(w);
}

static void connect_failed(struct job *j, int status);

static void timer_cb(uv_timer_t *t)
{
    struct job *j = t->data;
    switch (j->phase) {
    case PH_CONNECT:
        connect_failed(j, UV_ETIMEDOUT);
        break;
    case PH_HANDSHAKE:
        if (j->conn.ssl)
            cs__tls_timeout(&j->conn);
        else
            job_finish(j, "timeout during starttls");
        break;
    default:
        break;
    }
}

static void arm_timer(struct job *j, uint64_t limit_ms)
{
    uint64_t now = uv_now(&j->w->loop);
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
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    int rc = uv_try_write((uv_stream_t *)&j->tcp, &b, 1);
    if (rc == (int)len)
        return 0; /* the usual case: the kernel took it all, no copy */
    size_t done = rc > 0 ? (size_t)rc : 0;
    if (rc < 0 && rc != UV_EAGAIN)
        return rc;
    struct write_req *wr = cs_xmalloc(sizeof(*wr) + len - done);
    memcpy(wr->data, (const char *)buf + done, len - done);
    b = uv_buf_init(wr->data, (unsigned)(len - done));
    rc = uv_write(&wr->req, (uv_stream_t *)&j->tcp, &b, 1, write_cb);
    if (rc < 0)
        free(wr);
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
    *buf = uv_buf_init(j->w->read_buf, sizeof(j->w->read_buf));
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
        if (!j->finished && j->conn.await_status && !j->status_wait) {
            /* TLS 1.2: the chain is in hand and the rest of the server's
               flight (with the staple) normally comes in the same burst;
               a server that stalls here costs a second, not the timeout */
            j->status_wait = true;
            arm_timer(j, STATUS_WAIT_MS);
        }
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
    if (j->finished || status == UV_ECANCELED) /* we closed the handle ourselves */
        return;
    if (status < 0) {
        connect_failed(j, status);
        return;
    }
    struct worker *w = j->w;
    j->phase = PH_HANDSHAKE;
    arm_timer(j, 0);
    if (uv_read_start((uv_stream_t *)&j->tcp, alloc_cb, read_cb) < 0) {
        job_finish(j, "connect: cannot read from socket");
        return;
    }
    j->reading = true;
    j->conn.probe = w->scan->probe;
    j->conn.ssl_ctx = w->ssl_ctx;
    j->conn.sni = j->target.sni;
    j->conn.cert_only = w->scan->opt->cert_only;
    j->conn.write = conn_write;
    j->conn.done = conn_done;
    j->conn.owner = j;
    if (j->conn.probe->start(&j->conn) < 0 && !j->finished)
        job_finish(j, "handshake: cannot start TLS");
}

static void connect_failed(struct job *j, int status)
{
    if (j->cur_addr + 1 < j->n_addrs && uv_now(&j->w->loop) < j->deadline_ms) {
        j->cur_addr++;
        j->tcp_open = false;
        slot_release(j);
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

/* Connects to the current address once a slot for it is free. */
static void job_connect(struct job *j)
{
    struct worker *w = j->w;
    const struct cs_options *opt = w->scan->opt;
    if (!j->slot) {
        struct addr_slot *s = slot_get(w, &j->addrs[j->cur_addr]);
        if (s->in_flight >= w->per_address) {
            /* wait for a slot; the deadline starts with the connection */
            j->phase = PH_WAIT_ADDRESS;
            j->next_waiting = NULL;
            *s->waiting_tail = j;
            s->waiting_tail = &j->next_waiting;
            return;
        }
        s->in_flight++;
        j->slot = s;
    }
    if (!j->started_ns) {
        j->started_ns = uv_hrtime();
        j->deadline_ms = uv_now(&w->loop) + opt->timeout_ms;
    }
    j->phase = PH_CONNECT;
    arm_timer(j, opt->connect_timeout_ms);
    int rc = uv_tcp_init(&w->loop, &j->tcp);
    if (rc < 0) {
        job_finish(j, "connect: cannot create socket");
        return;
    }
    j->tcp.data = j;
    j->tcp_open = true;
    j->handles++;
    uv_tcp_nodelay(&j->tcp, 1);
    j->connect_req.data = j;
    w->probes++;
    rc = uv_tcp_connect(&j->connect_req, &j->tcp, &j->addrs[j->cur_addr].sa,
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
        if (j->handles == 0)
            job_free(j);
        return;
    }
    if (error) {
        char why[128];
        snprintf(why, sizeof(why), "dns: %s", error);
        job_finish(j, why);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        memset(&j->addrs[i], 0, sizeof(j->addrs[i]));
        if (addrs[i].ss_family == AF_INET) {
            memcpy(&j->addrs[i].v4, &addrs[i], sizeof(j->addrs[i].v4));
            j->addrs[i].v4.sin_port = htons(j->target.port);
        } else {
            memcpy(&j->addrs[i].v6, &addrs[i], sizeof(j->addrs[i].v6));
            j->addrs[i].v6.sin6_port = htons(j->target.port);
        }
    }
    j->n_addrs = n;
    job_connect(j);
}

static int set_addr(union cs_sockaddr *ss, const char *ip, uint16_t port)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(ip, ':'))
        return uv_ip6_addr(ip, port, &ss->v6);
    return uv_ip4_addr(ip, port, &ss->v4);
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

static void emit_bad_target(struct scan *s, struct cs_target *t)
{
    struct cs_result r;
    cs_result_init(&r);
    free(r.host);
    r.host = cs_strdup(t->host);
    r.port = t->port_known ? t->port : CS_INT_NONE;
    char *why = cs_asprintf("input: %s", t->bad);
    cs_classify_error(&r, why);
    free(why);
    emit(s, &r);
    cs_result_free(&r);
}

static void job_start(struct worker *w, struct cs_target *t)
{
    struct job *j = cs_xcalloc(1, sizeof(*j));
    j->w = w;
    j->target = *t;
    memset(t, 0, sizeof(*t));
    uv_timer_init(&w->loop, &j->timer);
    j->timer.data = j;
    j->handles = 1;
    j->next = w->jobs;
    if (w->jobs)
        w->jobs->prev = j;
    w->jobs = j;
    w->in_flight++;
    if (w->in_flight > w->peak)
        w->peak = w->in_flight;

    const struct cs_pin *pin;
    if (j->target.family) {
        set_addr(&j->addrs[0], j->target.host, j->target.port);
        j->n_addrs = 1;
        job_connect(j);
    } else if ((pin = find_pin(w->scan->opt, j->target.host, j->target.port))) {
        set_addr(&j->addrs[0], pin->addr, j->target.port);
        j->n_addrs = 1;
        job_connect(j);
    } else {
        j->phase = PH_RESOLVE;
        j->resolving = true;
        struct dns_req *req = cs_xcalloc(1, sizeof(*req));
        req->job = j;
        req->w = w;
        w->dns_pending++;
        struct scan *s = w->scan;
        uv_mutex_lock(&s->dns_lock);
        req->next = s->dns_queue;
        s->dns_queue = req;
        uv_mutex_unlock(&s->dns_lock);
        uv_async_send(&s->dns_async);
    }
}

/* The reader thread: parses targets ahead of the workers into a bounded
   queue, so a pipe that pauses (producer | certsweep -f -) blocks only this
   thread, never a probe in flight. */
static void reader_main(void *arg)
{
    struct scan *s = arg;
    for (;;) {
        struct cs_target t;
        int got = cs_targets_next(s->targets, &t) > 0;
        uv_mutex_lock(&s->lock);
        while (got && s->q_len == READ_AHEAD && !s->intake_stopped)
            uv_cond_wait(&s->reader_room, &s->lock);
        if (!got || s->intake_stopped) {
            if (got)
                cs_target_free(&t);
            s->reader_eof = true;
        } else {
            s->queue[(s->q_head + s->q_len++) % READ_AHEAD] = t;
        }
        /* wake the workers that wait for targets (never a closed one: a
           worker closes only after it saw reader_eof, and then it is not
           starved) */
        for (unsigned i = 0; i < s->n_workers; i++)
            if (s->workers[i].starved) {
                s->workers[i].starved = false;
                uv_async_send(&s->workers[i].wake);
            }
        bool done = s->reader_eof;
        uv_mutex_unlock(&s->lock);
        if (done)
            break;
    }
}

/* Stops the intake: the reader ends at its next target. */
static void stop_intake(struct scan *s)
{
    cs_targets_abort(s->targets);
    uv_mutex_lock(&s->lock);
    s->intake_stopped = true;
    uv_cond_signal(&s->reader_room);
    uv_mutex_unlock(&s->lock);
}

/* Takes the next target from the reader's queue: 1; 0 at the end; -1 if
   none is ready yet (the reader wakes this worker when one is).  Bad lines
   become records here. */
static int next_target(struct worker *w, struct cs_target *t)
{
    struct scan *s = w->scan;
    for (;;) {
        int got;
        uv_mutex_lock(&s->lock);
        if (s->intake_stopped || atomic_load(&s->interrupted)) {
            got = 0;
        } else if (s->q_len) {
            *t = s->queue[s->q_head];
            s->q_head = (s->q_head + 1) % READ_AHEAD;
            if (s->q_len-- == READ_AHEAD)
                uv_cond_signal(&s->reader_room);
            got = 1;
            if (t->bad && s->opt->strict_input) {
                s->status = CS_ENGINE_USAGE;
                s->intake_stopped = true;
                uv_cond_signal(&s->reader_room);
                cs_targets_abort(s->targets);
                cs_target_free(t);
                got = 0;
            }
        } else if (s->reader_eof) {
            got = 0;
        } else {
            w->starved = true;
            got = -1;
        }
        uv_mutex_unlock(&s->lock);
        if (got <= 0)
            return got;
        if (!t->bad)
            return 1;
        emit_bad_target(s, t);
        cs_target_free(t);
    }
}

static void rate_timer_cb(uv_timer_t *t)
{
    fill(t->data);
}

/* With --rate: 1 if a connection may start now, else 0 and a timer set. */
static int take_token(struct worker *w)
{
    if (w->rate <= 0)
        return 1;
    uint64_t now = uv_now(&w->loop);
    double burst = w->rate / 20 > 1 ? w->rate / 20 : 1;
    w->tokens += (double)(now - w->tokens_at) * w->rate / 1000.0;
    w->tokens_at = now;
    if (w->tokens > burst)
        w->tokens = burst;
    if (w->tokens >= 1) {
        w->tokens -= 1;
        return 1;
    }
    uint64_t wait = (uint64_t)((1 - w->tokens) * 1000.0 / w->rate) + 1;
    uv_timer_start(&w->rate_timer, rate_timer_cb, wait, 0);
    return 0;
}

static void worker_close(struct worker *w)
{
    if (w->closed)
        return;
    w->closed = true;
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_close((uv_handle_t *)&w->rate_timer, NULL);
}

static void fill(struct worker *w)
{
    if (w->filling) {
        w->refill = true;
        return;
    }
    w->filling = true;
    do {
        w->refill = false;
        while (!w->eof && w->in_flight < w->window && take_token(w)) {
            struct cs_target t;
            int got = next_target(w, &t);
            if (got < 0)
                break; /* the reader wakes this worker */
            if (got == 0) {
                w->eof = true;
                break;
            }
            job_start(w, &t);
        }
    } while (w->refill);
    w->filling = false;
    if (w->eof && w->in_flight == 0 && w->dns_pending == 0)
        worker_close(w);
}

static void abort_jobs(struct worker *w)
{
    w->eof = true;
    while (w->jobs)
        job_finish(w->jobs, "interrupted");
}

/* A revocation answer is back: the record is finished and leaves the window. */
static void rev_finish(struct rev_wait *rw)
{
    struct worker *w = rw->w;
    finish_record(w->scan, &rw->r, &rw->facts, &rw->staple, &rw->q);
    emit(w->scan, &rw->r);
    cs_result_free(&rw->r);
    cs_chain_objs_free(&rw->objs);
    free(rw);
    w->in_flight--;
}

/* Answers from the control loop, and interrupts. */
static void wake_cb(uv_async_t *a)
{
    struct worker *w = a->data;
    uv_mutex_lock(&w->inbox_lock);
    struct dns_req *req = w->inbox;
    w->inbox = NULL;
    struct rev_wait *rw = w->rev_inbox;
    w->rev_inbox = NULL;
    uv_mutex_unlock(&w->inbox_lock);
    while (rw) {
        struct rev_wait *next = rw->next;
        rev_finish(rw);
        rw = next;
    }
    while (req) {
        struct dns_req *next = req->next;
        w->dns_pending--;
        resolved_cb(req->job, req->error, req->addrs, req->n);
        free(req);
        req = next;
    }
    if (atomic_load(&w->scan->interrupted)) {
        w->eof = true;
        if (atomic_load(&w->scan->abort_now))
            abort_jobs(w);
    }
    if (!w->closed)
        fill(w);
}

/* ---- the control loop: DNS for every worker ---- */

static void dns_pump(struct scan *s);

static void dns_answer(struct dns_req *req, const char *error,
                       const struct sockaddr_storage *addrs, size_t n)
{
    struct worker *w = req->w;
    req->error = error;
    req->n = n;
    if (n)
        memcpy(req->addrs, addrs, n * sizeof(*addrs));
    uv_mutex_lock(&w->inbox_lock);
    req->next = w->inbox;
    w->inbox = req;
    uv_mutex_unlock(&w->inbox_lock);
    uv_async_send(&w->wake);
}

static void main_resolved_cb(void *arg, const char *error, const struct sockaddr_storage *addrs,
                             size_t n)
{
    struct dns_req *req = arg;
    struct scan *s = req->w->scan;
    s->dns_outstanding--;
    dns_answer(req, error, addrs, n);
    dns_pump(s);
}

/* Starts waiting lookups, in the order they were asked, up to the cap. */
static void dns_pump(struct scan *s)
{
    while (s->dns_backlog && s->dns_outstanding < DNS_MAX_OUTSTANDING) {
        struct dns_req *req = s->dns_backlog;
        s->dns_backlog = req->next;
        if (!s->dns_backlog)
            s->dns_backlog_tail = &s->dns_backlog;
        s->dns_outstanding++;
        cs_resolve(s->resolver, req->job->target.host, main_resolved_cb, req);
    }
}

static void dns_async_cb(uv_async_t *a)
{
    struct scan *s = a->data;
    uv_mutex_lock(&s->dns_lock);
    struct dns_req *req = s->dns_queue, *fifo = NULL;
    s->dns_queue = NULL;
    uv_mutex_unlock(&s->dns_lock);
    while (req) { /* the queue is newest first */
        struct dns_req *next = req->next;
        req->next = fifo;
        fifo = req;
        req = next;
    }
    *s->dns_backlog_tail = fifo;
    while (*s->dns_backlog_tail)
        s->dns_backlog_tail = &(*s->dns_backlog_tail)->next;
    dns_pump(s);
}

/* ---- the control loop: revocation for every worker ---- */

static void rev_answered(struct cs_rev_query *q)
{
    struct rev_wait *rw = (struct rev_wait *)q; /* q is its first member */
    struct worker *w = rw->w;
    uv_mutex_lock(&w->inbox_lock);
    rw->next = w->rev_inbox;
    w->rev_inbox = rw;
    uv_mutex_unlock(&w->inbox_lock);
    uv_async_send(&w->wake);
}

static void rev_async_cb(uv_async_t *a)
{
    struct scan *s = a->data;
    uv_mutex_lock(&s->rev_lock);
    struct rev_wait *rw = s->rev_queue, *fifo = NULL;
    s->rev_queue = NULL;
    uv_mutex_unlock(&s->rev_lock);
    while (rw) { /* the queue is newest first */
        struct rev_wait *next = rw->next;
        rw->next = fifo;
        fifo = rw;
        rw = next;
    }
    while (fifo) {
        struct rev_wait *next = fifo->next;
        cs_revoker_check(s->revoker, &fifo->q); /* may answer at once */
        fifo = next;
    }
}

/* The fetch limits from the options; resolve entries (curl's syntax) are
   made from the --resolve pins that name one host and one port. */
static void fetch_limits(const struct cs_options *o, struct cs_fetch_limits *lim, char ***resolve)
{
    memset(lim, 0, sizeof(*lim));
    lim->timeout_ms = o->fetch_timeout_ms;
    lim->max_bytes = (size_t)o->crl_max_bytes;
    lim->per_host = o->fetch_per_host;
    lim->max_redirects = 5;
    lim->user_agent = "certsweep/" CS_VERSION;
    *resolve = cs_xcalloc(o->n_pins + 1, sizeof(**resolve));
    for (size_t i = 0; i < o->n_pins; i++) {
        const struct cs_pin *p = &o->pins[i];
        if (p->port < 0 || strchr(p->host, '*'))
            continue;
        bool v6 = strchr(p->addr, ':') != NULL;
        (*resolve)[lim->n_resolve++] =
            cs_asprintf("%s:%d:%s%s%s", p->host, p->port, v6 ? "[" : "", p->addr, v6 ? "]" : "");
    }
    lim->resolve = (const char *const *)*resolve;
}

static SSL_CTX *make_ssl_ctx(X509_STORE *store)
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
    SSL_CTX_set_max_cert_list(ctx, MAX_CHAIN_BYTES);
    SSL_CTX_set1_cert_store(ctx, store);
    cs__tls_ctx_setup(ctx);
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

static void worker_main(void *arg)
{
    struct worker *w = arg;
    fill(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    atomic_fetch_add(&w->scan->finished_workers, 1);
    uv_async_send(&w->scan->all_done);
}

static int worker_init(struct scan *s, struct worker *w, unsigned window)
{
    const struct cs_options *o = s->opt;
    w->scan = s;
    w->window = window;
    w->per_address = o->per_address ? o->per_address : CS_DEFAULT_PER_ADDRESS;
    /* the per-address bound holds in all: each worker keeps its share */
    w->per_address = (w->per_address + s->n_workers - 1) / s->n_workers;
    w->rate = o->rate / s->n_workers;
    if (uv_loop_init(&w->loop) < 0)
        return CS_ENGINE_INTERNAL;
    w->ssl_ctx = make_ssl_ctx(s->store);
    if (!w->ssl_ctx) {
        uv_loop_close(&w->loop);
        return CS_ENGINE_INTERNAL;
    }
    uv_mutex_init(&w->inbox_lock);
    uv_async_init(&w->loop, &w->wake, wake_cb);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->rate_timer);
    w->rate_timer.data = w;
    w->tokens = 1;
    w->tokens_at = uv_now(&w->loop);
    return 0;
}

static void worker_destroy(struct worker *w)
{
    if (!w->closed)
        worker_close(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    uv_mutex_destroy(&w->inbox_lock);
    SSL_CTX_free(w->ssl_ctx);
    for (size_t b = 0; b < ADDR_BUCKETS; b++)
        while (w->slots[b]) {
            struct addr_slot *n = w->slots[b]->next;
            free(w->slots[b]);
            w->slots[b] = n;
        }
}

static void all_done_cb(uv_async_t *a)
{
    struct scan *s = a->data;
    if (atomic_load(&s->finished_workers) == s->n_workers)
        uv_stop(a->loop);
}

static void wake_all(struct scan *s)
{
    for (unsigned i = 0; i < s->n_workers; i++)
        uv_async_send(&s->workers[i].wake);
}

/* The grace after an interrupt is over: end every probe and lookup now. */
static void abort_all(struct scan *s)
{
    atomic_store(&s->abort_now, true);
    while (s->dns_backlog) { /* never started: answered at once */
        struct dns_req *req = s->dns_backlog;
        s->dns_backlog = req->next;
        dns_answer(req, "cancelled", NULL, 0);
    }
    s->dns_backlog_tail = &s->dns_backlog;
    cs_resolver_cancel(s->resolver);
    cs_revoker_cancel(s->revoker); /* waiting records get "cancelled" */
    wake_all(s);
}

static void grace_cb(uv_timer_t *t)
{
    abort_all(t->data);
}

static void signal_cb(uv_signal_t *sig, int signum)
{
    struct scan *s = sig->data;
    if (atomic_load(&s->interrupted)) {
        abort_all(s); /* a second signal: no more grace */
        return;
    }
    atomic_store(&s->signal, signum);
    atomic_store(&s->interrupted, true);
    stop_intake(s);
    uv_timer_start(&s->grace_timer, grace_cb, 1000, 0);
    wake_all(s);
}

static unsigned default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)(n > CS_MAX_WORKERS ? CS_MAX_WORKERS : n) : 1;
}

enum cs_engine_status cs_engine_run(const struct cs_options *opt, int64_t now,
                                    struct cs_targets *targets, X509_STORE *store,
                                    cs_result_cb cb, void *arg, struct cs_engine_stats *stats)
{
    struct cs_options o = *opt;
    o.concurrency = fit_concurrency(opt->concurrency);
    if (stats)
        memset(stats, 0, sizeof(*stats));
    struct scan s = {
        .opt = &o,
        .now = now,
        .targets = targets,
        .cb = cb,
        .arg = arg,
        .thresholds = {opt->warn_secs, opt->crit_secs, !opt->no_verify, opt->require_revocation},
        .probe = cs_probe_by_name(opt->probe ? opt->probe : "tls"),
        .store = store,
    };
    if (!s.probe || !store)
        return CS_ENGINE_INTERNAL;
    unsigned n = opt->workers ? opt->workers : default_workers();
    if (n > o.concurrency)
        n = o.concurrency;
    s.n_workers = n;
    s.workers = cs_xcalloc(n, sizeof(*s.workers));
    s.chains = cs_chain_cache_new(CHAIN_CACHE_ENTRIES);
    uv_mutex_init(&s.lock);
    uv_cond_init(&s.reader_room);
    s.queue = cs_xcalloc(READ_AHEAD, sizeof(*s.queue));
    signal(SIGPIPE, SIG_IGN);

    enum cs_engine_status status = CS_ENGINE_OK;
    unsigned ready = 0;
    for (; ready < n; ready++) {
        unsigned window = o.concurrency / n + (ready < o.concurrency % n);
        int rc = worker_init(&s, &s.workers[ready], window);
        if (rc) {
            status = (enum cs_engine_status)rc;
            break;
        }
    }
    char err[256];
    uv_loop_t *main_loop = &s.main_loop;
    uv_loop_init(main_loop);
    uv_mutex_init(&s.dns_lock);
    s.dns_backlog_tail = &s.dns_backlog;
    if (status == CS_ENGINE_OK &&
        cs_resolver_new(&s.resolver, main_loop, o.dns_server, (unsigned)o.dns_timeout_ms, err,
                        sizeof(err)) < 0) {
        fprintf(stderr, "certsweep: %s\n", err);
        status = CS_ENGINE_USAGE;
    }
    uv_mutex_init(&s.rev_lock);
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)now);
    char **resolve = NULL;
    if (status == CS_ENGINE_OK && (o.ocsp || o.crl)) {
        struct cs_fetch_limits lim;
        fetch_limits(&o, &lim, &resolve);
        s.revoker = cs_revoker_new(main_loop, &lim, err, sizeof(err));
        if (!s.revoker) {
            fprintf(stderr, "certsweep: %s\n", err);
            status = CS_ENGINE_INTERNAL;
        }
    }
    uv_signal_t sigint, sigterm; /* closed below, but freed only by the uv_run after that */
    if (status == CS_ENGINE_OK) {
        uv_async_init(main_loop, &s.all_done, all_done_cb);
        s.all_done.data = &s;
        uv_async_init(main_loop, &s.dns_async, dns_async_cb);
        s.dns_async.data = &s;
        uv_async_init(main_loop, &s.rev_async, rev_async_cb);
        s.rev_async.data = &s;
        uv_timer_init(main_loop, &s.grace_timer);
        s.grace_timer.data = &s;
        uv_signal_init(main_loop, &sigint);
        uv_signal_init(main_loop, &sigterm);
        sigint.data = sigterm.data = &s;
        uv_signal_start(&sigint, signal_cb, SIGINT);
        uv_signal_start(&sigterm, signal_cb, SIGTERM);
        uv_thread_create(&s.reader, reader_main, &s);
        for (unsigned i = 0; i < n; i++)
            uv_thread_create(&s.workers[i].thread, worker_main, &s.workers[i]);
        if (atomic_load(&s.finished_workers) < n)
            uv_run(main_loop, UV_RUN_DEFAULT);
        for (unsigned i = 0; i < n; i++)
            uv_thread_join(&s.workers[i].thread);
        stop_intake(&s); /* a reader still waiting on a pipe gives up */
        uv_thread_join(&s.reader);
        while (s.q_len) { /* read ahead, never taken (an interrupt) */
            cs_target_free(&s.queue[s.q_head]);
            s.q_head = (s.q_head + 1) % READ_AHEAD;
            s.q_len--;
        }
        uv_close((uv_handle_t *)&sigint, NULL);
        uv_close((uv_handle_t *)&sigterm, NULL);
        uv_close((uv_handle_t *)&s.all_done, NULL);
        uv_close((uv_handle_t *)&s.dns_async, NULL);
        uv_close((uv_handle_t *)&s.rev_async, NULL);
        uv_close((uv_handle_t *)&s.grace_timer, NULL);
        status = atomic_load(&s.interrupted) ? CS_ENGINE_INTERRUPTED : s.status;
    }
    if (stats && s.resolver)
        stats->dns_queries = cs_resolver_queries(s.resolver);
    if (stats) {
        struct cs_revoker_stats rst;
        cs_revoker_stats(s.revoker, &rst);
        stats->crl_fetches = rst.crl_fetches;
        stats->ocsp_fetches = rst.ocsp_fetches;
    }
    cs_resolver_close(s.resolver);
    cs_revoker_free(s.revoker);
    uv_run(main_loop, UV_RUN_DEFAULT);
    uv_loop_close(main_loop);
    uv_mutex_destroy(&s.dns_lock);
    uv_mutex_destroy(&s.rev_lock);
    for (size_t i = 0; resolve && resolve[i]; i++)
        free(resolve[i]);
    free(resolve);
    if (stats) {
        stats->workers = n;
        struct cs_chain_cache_stats cst;
        cs_chain_cache_stats(s.chains, &cst);
        stats->chain_hits = cst.hits;
        stats->chain_misses = cst.misses;
        stats->signal = atomic_load(&s.signal);
    }
    for (unsigned i = 0; i < ready; i++) {
        struct worker *w = &s.workers[i];
        if (stats) {
            stats->probes += w->probes;
            stats->peak_in_flight += w->peak;
        }
        worker_destroy(w);
    }
    free(s.workers);
    cs_chain_cache_free(s.chains);
    free(s.queue);
    uv_cond_destroy(&s.reader_room);
    uv_mutex_destroy(&s.lock);
    return status;
}
