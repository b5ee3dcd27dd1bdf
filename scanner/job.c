/* One connection's lifecycle (see scan.h): a target is resolved (through
 * the control loop) or pinned, connected once its address has a free slot,
 * handed to the probe, and ends in job_finish, which has the chain
 * assessed, hands the record on and closes the handles.  The job is freed
 * in the last close callback. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/certfiles.h"
#include "scanner/scan.h"

#define STATUS_WAIT_MS 1000 /* TLS 1.2: the rest of the flight after the chain */

struct write_req {
    uv_write_t req;
    char data[];
};

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

static void rev_answered(struct cs_rev_query *q)
{
    struct rev_wait *rw = (struct rev_wait *)q; /* q is its first member */
    rw->mail.kind = MAIL_REV;
    cs_mailbox_post(&rw->w->inbox, &rw->mail);
}

/* Hands a record and its assessment to the control loop's revocation
   service; the record moves. */
static void rev_post(struct worker *w, struct cs_result *r, const struct cs_assessment *a)
{
    struct rev_wait *rw = cs_xcalloc(1, sizeof(*rw));
    rw->w = w;
    rw->r = *r;
    cs_result_init(r);
    rw->a = *a;
    rw->q.subject = rw->a.subject;
    rw->q.ocsp = a->ask_ocsp;
    rw->q.crl = a->ask_crl;
    rw->q.ocsp_uris = &rw->r.ocsp_uris;
    rw->q.crl_uris = &rw->r.crl_uris;
    rw->q.done = rev_answered;
    rw->mail.kind = MAIL_REV;
    cs_mailbox_post(&w->scan->control, &rw->mail);
}

void rev_finish(struct rev_wait *rw)
{
    struct worker *w = rw->w;
    cs_assess_finish(&w->scan->assess, &rw->r, &rw->a, &rw->q.ocsp_answer, &rw->q.crl_answer);
    scan_emit(w->scan, &rw->r);
    cs_result_free(&rw->r);
    free(rw);
    w->in_flight--;
}

/* The job's record, from what the connection brought: emitted now, or
   posted for a revocation check (true: it stays in the window until the
   answer is back). */
static bool job_record(struct job *j, const char *error)
{
    struct worker *w = j->w;
    char ip[INET6_ADDRSTRLEN] = "";
    if (j->n_addrs)
        uv_ip_name(&j->addrs[j->cur_addr].sa, ip, sizeof(ip));
    struct cs_assess_input in = {
        .target = &j->target,
        .address = j->n_addrs ? ip : NULL,
        .elapsed_ms =
            j->started_ns ? (int64_t)((uv_hrtime() - j->started_ns) / 1000000) : CS_INT_NONE,
        .error = error,
        .chain = &j->conn.chain,
        .tls_version = j->conn.tls_version,
        .staple = j->conn.staple,
        .staple_len = j->conn.staple_len,
        .proof = &j->conn.proof,
        .handshake_complete = j->conn.handshake_complete,
        .protocol = j->conn.probe->name,
    };
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    bool wait = cs_assess(&w->scan->assess, &in, &r, &a);
    if (wait)
        rev_post(w, &r, &a); /* answered in the worker's inbox */
    else
        scan_emit(w->scan, &r);
    cs_result_free(&r);
    return wait;
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
    bool waits = job_record(j, error);

    cs_conn_release(&j->conn);
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
    if (!waits)
        w->in_flight--;
    fill(w);
}

void job_abort(struct job *j, const char *why)
{
    job_finish(j, why);
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
        cs_conn_timeout(&j->conn);
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
        cs_conn_eof(&j->conn, (int)n);
        return;
    }
    cs_conn_feed(&j->conn, buf->base, (size_t)n);
    if (!j->finished && j->conn.await_status && !j->status_wait) {
        /* TLS 1.2: the chain is in hand and the rest of the server's
           flight (with the staple) normally comes in the same burst; a
           server that stalls here costs a second, not the timeout */
        j->status_wait = true;
        arm_timer(j, STATUS_WAIT_MS);
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
    j->conn.ssl_ctx = w->ssl_ctx;
    j->conn.sni = j->target.sni;
    j->conn.host = j->target.host;
    j->conn.ehlo = w->scan->opt->ehlo;
    j->conn.cert_only = w->scan->opt->cert_only;
    j->conn.write = conn_write;
    j->conn.done = conn_done;
    j->conn.owner = j;
    cs_conn_start(&j->conn);
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

void job_connect(struct job *j)
{
    struct worker *w = j->w;
    const struct cs_options *opt = w->scan->opt;
    if (!j->slot) {
        struct addr_slot *s = slot_get(w, &j->addrs[j->cur_addr]);
        if (s->in_flight >= w->per_address) {
            /* wait for a slot; the deadline starts with the connection */
            j->phase = PH_WAIT_ADDRESS;
            slot_wait(s, j);
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
    rc = uv_tcp_connect(&j->connect_req, &j->tcp, &j->addrs[j->cur_addr].sa, connect_cb);
    if (rc < 0)
        connect_failed(j, rc);
}

void job_resolved(struct job *j, const char *error, const struct sockaddr_storage *addrs, size_t n)
{
    j->resolving = false;
    if (j->finished) { /* interrupted while resolving */
        if (j->handles == 0)
            job_free(j);
        return;
    }
    const struct cs_options *o = j->w->scan->opt;
    if (error) {
        char why[128];
        if (strcmp(error, "no address") == 0 && (o->ipv4 || o->ipv6))
            snprintf(why, sizeof(why), "dns: no %s address (%s)", o->ipv4 ? "IPv4" : "IPv6",
                     o->ipv4 ? "-4" : "-6");
        else
            snprintf(why, sizeof(why), "dns: %s", error);
        job_finish(j, why);
        return;
    }
    /* by default the addresses are tried in turn until one connects; with
       --all-addresses this job takes the first and each other one is a
       job of its own (one record per name and address) */
    size_t keep = o->all_addresses ? 1 : n < CS_RESOLVE_MAX_ADDRS ? n : CS_RESOLVE_MAX_ADDRS;
    for (size_t i = 0; i < n; i++) {
        union cs_sockaddr a;
        memset(&a, 0, sizeof(a));
        if (addrs[i].ss_family == AF_INET) {
            memcpy(&a.v4, &addrs[i], sizeof(a.v4));
            a.v4.sin_port = htons(j->target.port);
        } else {
            memcpy(&a.v6, &addrs[i], sizeof(a.v6));
            a.v6.sin6_port = htons(j->target.port);
        }
        if (i < keep)
            j->addrs[i] = a;
        else if (o->all_addresses)
            spawn_add(j->w, &j->target, &a);
    }
    j->n_addrs = keep;
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

/* A certificate file: read and assessed at once on this loop, without a
   socket (a local file read costs less than a job's handles); a revocation
   check, if the plan asks one, goes out as an endpoint's does. */
static void file_start(struct worker *w, struct cs_target *t)
{
    char why[256], *error = NULL;
    struct cs_raw_chain chain;
    if (cs_certfile_read(t->host, &chain, why, sizeof(why)) < 0)
        error = cs_asprintf("file: %s", why);
    char *name = cs_certbot_name(t->host); /* certbot's live/NAME: the record's host */
    if (name) {
        free(t->unicode);
        t->unicode = name;
    }
    struct cs_assess_input in = {
        .target = t,
        .elapsed_ms = CS_INT_NONE,
        .error = error,
        .chain = &chain,
        .protocol = CS_FILE_PROBE,
        .source = t->host,
    };
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    if (++w->in_flight > w->peak)
        w->peak = w->in_flight;
    if (cs_assess(&w->scan->assess, &in, &r, &a)) {
        rev_post(w, &r, &a); /* answered in the worker's inbox */
    } else {
        scan_emit(w->scan, &r);
        w->in_flight--;
    }
    cs_result_free(&r);
    cs_raw_chain_free(&chain);
    free(error);
    cs_target_free(t);
}

/* A job for t (which moves into it), in the worker's window. */
static struct job *job_new(struct worker *w, struct cs_target *t)
{
    struct job *j = cs_xcalloc(1, sizeof(*j));
    j->w = w;
    j->target = *t;
    memset(t, 0, sizeof(*t));
    /* the probe its URL scheme named, else the scan's (--starttls) */
    j->conn.probe = cs_probe_for(j->target.probe, w->scan->opt->probe_name, j->target.port);
    uv_timer_init(&w->loop, &j->timer);
    j->timer.data = j;
    j->handles = 1;
    j->created_ms = uv_now(&w->loop);
    j->next = w->jobs;
    if (w->jobs)
        w->jobs->prev = j;
    w->jobs = j;
    w->in_flight++;
    if (w->in_flight > w->peak)
        w->peak = w->in_flight;
    return j;
}

void job_start_at(struct worker *w, struct cs_target *t, const union cs_sockaddr *a)
{
    struct job *j = job_new(w, t);
    j->addrs[0] = *a;
    j->n_addrs = 1;
    job_connect(j);
}

void job_start(struct worker *w, struct cs_target *t)
{
    if (t->probe && strcmp(t->probe, CS_FILE_PROBE) == 0) {
        file_start(w, t);
        return;
    }
    struct job *j = job_new(w, t);
    const struct cs_pin *pin;
    if (j->target.address) { /* an inventory's address column: no DNS */
        set_addr(&j->addrs[0], j->target.address, j->target.port);
        j->n_addrs = 1;
        job_connect(j);
    } else if (j->target.family) {
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
        req->mail.kind = MAIL_DNS;
        w->dns_pending++;
        cs_mailbox_post(&w->scan->control, &req->mail);
    }
}
