/* The control loop (see scan.h): the calling thread's loop, with the one
 * resolver (so each name is asked once per scan, whichever worker needs it),
 * the one revocation service (each CRL and OCSP answer fetched once per
 * scan) and the interrupt.  Workers post to its mailbox; it answers
 * in theirs. */
#include <stdlib.h>
#include <string.h>

#include "scanner/scan.h"
#include "version.h"

#define DNS_MAX_OUTSTANDING                                                                        \
    256               /* lookups in progress at once: a burst of                                   \
                         thousands overflows a resolver's socket */
#define GRACE_MS 1000 /* after an interrupt, for the probes in flight */

static void dns_pump(struct scan *s);

static void dns_answer(struct dns_req *req, const char *error, const struct sockaddr_storage *addrs,
                       size_t n)
{
    req->error = error;
    req->n = n;
    if (n) {
        req->addrs = cs_xmalloc(n * sizeof(*addrs));
        memcpy(req->addrs, addrs, n * sizeof(*addrs));
    }
    cs_mailbox_post(&req->w->inbox, &req->mail);
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

/* Names to resolve join the backlog; records to check go to the revoker. */
static void control_cb(uv_async_t *a)
{
    struct scan *s = a->data;
    struct cs_mail *m = cs_mailbox_take(&s->control);
    while (m) {
        struct cs_mail *next = m->next;
        if (m->kind == MAIL_REV) {
            struct rev_wait *rw = CS_MAIL_OF(m, struct rev_wait, mail);
            cs_revoker_check(s->revoker, &rw->q); /* may answer at once */
        } else {
            struct dns_req *req = CS_MAIL_OF(m, struct dns_req, mail);
            req->next = NULL;
            *s->dns_backlog_tail = req;
            s->dns_backlog_tail = &req->next;
        }
        m = next;
    }
    dns_pump(s);
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
    for (unsigned i = 0; i < s->n_workers; i++)
        uv_async_send(&s->workers[i].wake);
}

static void grace_cb(uv_timer_t *t)
{
    abort_all(t->data);
}

/* The caller raised the interrupt (once or more since the last wake-up). */
static void interrupt_cb(uv_async_t *a)
{
    struct scan *s = a->data;
    int raised = atomic_load(&s->intr->raised);
    if (raised == 0)
        return;
    if (!atomic_load(&s->interrupted)) {
        atomic_store(&s->signal, atomic_load(&s->intr->why));
        atomic_store(&s->interrupted, true);
        cs_intake_stop(&s->intake);
        uv_timer_start(&s->grace_timer, grace_cb, GRACE_MS, 0);
        for (unsigned i = 0; i < s->n_workers; i++)
            uv_async_send(&s->workers[i].wake);
    }
    if (raised > 1)
        abort_all(s); /* a second raise: no more grace */
}

void cs_interrupt_raise(struct cs_interrupt *in, int why)
{
    int none = 0;
    atomic_compare_exchange_strong(&in->why, &none, why);
    atomic_fetch_add(&in->raised, 1);
    atomic_fetch_add(&in->waking, 1);
    uv_async_t *wake = atomic_load(&in->wake);
    if (wake)
        uv_async_send(wake); /* async-signal-safe */
    atomic_fetch_sub(&in->waking, 1);
}

/* A worker finished: once every worker made has, the scan is over. */
static void all_done_cb(uv_async_t *a)
{
    struct scan *s = a->data;
    if (atomic_load(&s->finished_workers) == s->started)
        uv_stop(a->loop);
}

int control_init(struct scan *s)
{
    uv_loop_t *loop = &s->main_loop;
    s->dns_backlog_tail = &s->dns_backlog;
    uv_handle_t *made[4];
    size_t n = 0;
    int rc = uv_async_init(loop, &s->all_done, all_done_cb);
    if (rc == 0) {
        made[n++] = (uv_handle_t *)&s->all_done;
        rc = uv_async_init(loop, &s->control_wake, control_cb);
    }
    if (rc == 0) {
        made[n++] = (uv_handle_t *)&s->control_wake;
        rc = uv_async_init(loop, &s->intr_wake, interrupt_cb);
    }
    if (rc == 0) {
        made[n++] = (uv_handle_t *)&s->intr_wake;
        rc = cs_mailbox_init(&s->control, &s->control_wake);
    }
    if (rc < 0) {
        while (n)
            uv_close(made[--n], NULL);
        return rc;
    }
    s->all_done.data = s->control_wake.data = s->intr_wake.data = s;
    uv_timer_init(loop, &s->grace_timer);
    s->grace_timer.data = s;
    atomic_store(&s->intr->wake, &s->intr_wake);
    if (atomic_load(&s->intr->raised))
        uv_async_send(&s->intr_wake); /* raised before the scan began */
    return 0;
}

void control_close(struct scan *s)
{
    atomic_store(&s->intr->wake, NULL);
    while (atomic_load(&s->intr->waking))
        ; /* a raise on another thread is sending to intr_wake: let it finish */
    uv_close((uv_handle_t *)&s->intr_wake, NULL);
    uv_close((uv_handle_t *)&s->all_done, NULL);
    uv_close((uv_handle_t *)&s->control_wake, NULL);
    uv_close((uv_handle_t *)&s->grace_timer, NULL);
    cs_mailbox_destroy(&s->control);
}

void control_fetch_limits(const struct cs_options *o, struct cs_fetch_limits *lim, char ***resolve)
{
    memset(lim, 0, sizeof(*lim));
    lim->timeout_ms = o->fetch_timeout_ms;
    lim->max_bytes = (size_t)o->crl_max_bytes;
    lim->per_host = o->fetch_per_host;
    lim->max_redirects = 5;
    lim->user_agent = "certsweep/" CS_VERSION;
    /* resolve entries (curl's syntax) from the --resolve pins that name one
       host and one port */
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
