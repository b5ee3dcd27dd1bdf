/* Workers (see scan.h): each runs one libuv loop on a thread of its own
 * with its share of the window (-j), of the rate (--rate) and of the
 * per-address bound, and starts a new job as soon as an old one ends (a
 * sliding window, not batches). */
#include <stdlib.h>
#include <string.h>

#include "scanner/classify.h"
#include "scanner/progress.h"
#include "scanner/scan.h"

/* the largest chain a server may send, 1 MiB (SSL_CTX_set_max_cert_list) */
#define MAX_CHAIN_BYTES (1 << 20)

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

struct addr_slot *slot_get(struct worker *w, const union cs_sockaddr *a)
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

/* Queues j for a slot of s. */
void slot_wait(struct addr_slot *s, struct job *j)
{
    j->next_waiting = NULL;
    *s->waiting_tail = j;
    s->waiting_tail = &j->next_waiting;
}

/* Releases j's slot and starts the next job waiting for that address. */
void slot_release(struct job *j)
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
void slot_forget_waiter(struct job *j)
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

/* ---- further addresses of a name (--all-addresses) ---- */

void spawn_add(struct worker *w, const struct cs_target *t, const union cs_sockaddr *a)
{
    struct spawn *sp = cs_xcalloc(1, sizeof(*sp));
    cs_target_copy(&sp->target, t);
    sp->addr = *a;
    cs_progress_read(w->scan->opt->progress_board, 1, false); /* one more record to come */
    *w->spawns_tail = sp;
    w->spawns_tail = &sp->next;
}

/* Starts the oldest queued address: it comes before any new target, so the
   queue holds at most the addresses of the names in the window. */
static void spawn_start(struct worker *w)
{
    struct spawn *sp = w->spawns;
    w->spawns = sp->next;
    if (!w->spawns)
        w->spawns_tail = &w->spawns;
    job_start_at(w, &sp->target, &sp->addr);
    free(sp);
}

static void spawns_drop(struct worker *w)
{
    while (w->spawns) {
        struct spawn *sp = w->spawns;
        w->spawns = sp->next;
        cs_target_free(&sp->target);
        free(sp);
    }
    w->spawns_tail = &w->spawns;
}

/* ---- the window ---- */

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
    scan_emit(s, &r);
    cs_result_free(&r);
}

/* The next target: 1; 0 at the end; -1 if none is ready yet (the intake
   wakes this worker when one is).  Bad lines become records here. */
static int next_target(struct worker *w, struct cs_target *t)
{
    struct scan *s = w->scan;
    for (;;) {
        if (atomic_load(&s->interrupted))
            return 0;
        int got = cs_intake_next(&s->intake, w->index, t);
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

/* ---- progress (with a board only) ---- */

/* Publishes the window and its oldest jobs.  The jobs are newest first, so
   the oldest are the last few: a walk of this worker's share of -j, a few
   times a second, and nothing per probe. */
static void progress_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    struct job *ring[CS_PROGRESS_SLOWEST];
    size_t seen = 0;
    for (struct job *j = w->jobs; j; j = j->next)
        ring[seen++ % CS_PROGRESS_SLOWEST] = j;
    size_t n = seen < CS_PROGRESS_SLOWEST ? seen : CS_PROGRESS_SLOWEST;
    struct cs_progress_wait waits[CS_PROGRESS_SLOWEST];
    uint64_t now = uv_now(&w->loop);
    for (size_t k = 0; k < n; k++) {
        const struct job *j = ring[(seen - 1 - k) % CS_PROGRESS_SLOWEST];
        cs_progress_where(waits[k].where, j->target.host, j->target.port);
        waits[k].age_ms = now > j->created_ms ? now - j->created_ms : 0;
    }
    cs_progress_publish(w->scan->opt->progress_board, w->index, w->in_flight, waits, n);
}

static void progress_timer_start(struct worker *w)
{
    if (!w->scan->opt->progress_board)
        return;
    uv_timer_init(&w->loop, &w->progress_timer);
    w->progress_timer.data = w;
    uv_timer_start(&w->progress_timer, progress_tick, CS_PROGRESS_TICK_MS, CS_PROGRESS_TICK_MS);
    uv_unref((uv_handle_t *)&w->progress_timer); /* never what keeps the loop running */
}

static void worker_close(struct worker *w)
{
    if (w->closed)
        return;
    w->closed = true;
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_close((uv_handle_t *)&w->rate_timer, NULL);
    if (w->scan->opt->progress_board) {
        uv_close((uv_handle_t *)&w->progress_timer, NULL);
        cs_progress_publish(w->scan->opt->progress_board, w->index, 0, NULL, 0);
    }
}

void fill(struct worker *w)
{
    if (w->filling) {
        w->refill = true;
        return;
    }
    w->filling = true;
    do {
        w->refill = false;
        while ((w->spawns || !w->eof) && w->in_flight < w->window && take_token(w)) {
            if (w->spawns) {
                spawn_start(w);
                continue;
            }
            struct cs_target t;
            int got = next_target(w, &t);
            if (got < 0)
                break; /* the intake wakes this worker */
            if (got == 0) {
                w->eof = true;
                break;
            }
            job_start(w, &t);
        }
    } while (w->refill);
    w->filling = false;
    if (w->eof && w->in_flight == 0 && w->dns_pending == 0 && !w->spawns)
        worker_close(w);
}

static void abort_jobs(struct worker *w)
{
    w->eof = true;
    spawns_drop(w);
    while (w->jobs)
        job_abort(w->jobs, "interrupted");
}

/* Answers from the control loop, a target from the intake, interrupts. */
static void wake_cb(uv_async_t *a)
{
    struct worker *w = a->data;
    struct cs_mail *m = cs_mailbox_take(&w->inbox);
    while (m) {
        struct cs_mail *next = m->next;
        if (m->kind == MAIL_REV) {
            rev_finish(CS_MAIL_OF(m, struct rev_wait, mail));
        } else {
            struct dns_req *req = CS_MAIL_OF(m, struct dns_req, mail);
            w->dns_pending--;
            job_resolved(req->job, req->error, req->addrs, req->n);
            free(req->addrs);
            free(req);
        }
        m = next;
    }
    if (atomic_load(&w->scan->interrupted)) {
        w->eof = true;
        spawns_drop(w); /* addresses not yet probed: like targets not yet read */
        if (atomic_load(&w->scan->abort_now))
            abort_jobs(w);
    }
    if (!w->closed)
        fill(w);
}

/* ---- the thread ---- */

void worker_main(void *arg)
{
    struct worker *w = arg;
    fill(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    atomic_fetch_add(&w->scan->finished_workers, 1);
    uv_async_send(&w->scan->all_done);
}

int worker_init(struct scan *s, struct worker *w, unsigned index, unsigned window)
{
    const struct cs_options *o = s->opt;
    w->scan = s;
    w->index = index;
    w->window = window;
    w->per_address = o->per_address ? o->per_address : CS_DEFAULT_PER_ADDRESS;
    /* the per-address bound holds in all: each worker keeps its share */
    w->per_address = (w->per_address + s->n_workers - 1) / s->n_workers;
    w->rate = o->rate / s->n_workers;
    int rc = uv_loop_init(&w->loop);
    if (rc < 0)
        return rc;
    w->ssl_ctx = cs_tls_ctx_new(s->store, MAX_CHAIN_BYTES);
    rc = w->ssl_ctx ? uv_async_init(&w->loop, &w->wake, wake_cb) : CS_ETLS;
    if (rc < 0) {
        SSL_CTX_free(w->ssl_ctx);
        uv_loop_close(&w->loop);
        return rc;
    }
    w->wake.data = w;
    rc = cs_mailbox_init(&w->inbox, &w->wake);
    if (rc < 0) {
        uv_close((uv_handle_t *)&w->wake, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        SSL_CTX_free(w->ssl_ctx);
        uv_loop_close(&w->loop);
        return rc;
    }
    s->intake.takers[index].wake = &w->wake;
    uv_timer_init(&w->loop, &w->rate_timer);
    w->rate_timer.data = w;
    w->tokens = 1;
    w->tokens_at = uv_now(&w->loop);
    w->spawns_tail = &w->spawns;
    progress_timer_start(w);
    return 0;
}

void worker_destroy(struct worker *w)
{
    worker_close(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    cs_mailbox_destroy(&w->inbox);
    SSL_CTX_free(w->ssl_ctx);
    spawns_drop(w);
    for (size_t b = 0; b < ADDR_BUCKETS; b++)
        while (w->slots[b]) {
            struct addr_slot *n = w->slots[b]->next;
            free(w->slots[b]);
            w->slots[b] = n;
        }
}
