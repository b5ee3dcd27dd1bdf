/* The engine's own structures, shared by its parts: engine.c runs a scan
 * and its control loop (control.c: names, revocation, signals); each worker
 * (worker.c) runs a loop with its window, rate and per-address slots; a job
 * (job.c) is one connection from its target to its record.  Not for use
 * outside the engine. */
#ifndef CS_SCAN_H
#define CS_SCAN_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "scanner/assess.h"
#include "scanner/engine.h"
#include "scanner/error.h"
#include "scanner/intake.h"
#include "scanner/mailbox.h"
#include "report/sink.h"
#include "scanner/resolve.h"
#include "scanner/revoker.h"
#include "probes/probe.h"

#define READ_BUF_BYTES 65536
#define ADDR_BUCKETS 4096

/* An address as a job keeps it: a sockaddr_storage would be 128 bytes. */
union cs_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

/* What a letter in a mailbox is (cs_mail.kind). */
enum mail_kind {
    MAIL_DNS, /* a struct dns_req: to the control loop, answered back to the worker */
    MAIL_REV, /* a struct rev_wait: likewise */
};

struct scan {
    char error[256]; /* why the scan could not start, for the stats */
    const struct cs_options *opt;
    int64_t now;
    struct cs_intake intake;
    struct cs_record_sink records; /* the record callback, under a lock of its own */
    cs_result_cb cb;
    void *arg;
    atomic_bool interrupted; /* stop taking targets; grace for the rest */
    atomic_bool abort_now;   /* a second signal: end every probe now */
    atomic_int signal;
    X509_STORE *store; /* trust anchors, loaded once */
    struct cs_chain_cache *chains;
    struct cs_assess_ctx assess;
    const struct cs_probe *probe;
    struct worker *workers;
    unsigned n_workers;
    /* the control loop */
    uv_loop_t main_loop;
    uv_async_t all_done; /* a worker finished */
    atomic_uint finished_workers;
    uv_async_t control_wake;
    struct cs_mailbox control; /* names to resolve, records to check */
    struct cs_resolver *resolver;
    struct dns_req *dns_backlog, **dns_backlog_tail; /* control loop only: waiting */
    unsigned dns_outstanding;                        /* control loop only: lookups in progress */
    struct cs_revoker *revoker;                      /* NULL without --ocsp and --crl */
    uv_timer_t grace_timer;
    struct cs_interrupt *intr; /* the caller's, or a never-raised one of the scan's */
    struct cs_interrupt no_intr;
    uv_async_t intr_wake; /* intr was raised */
    unsigned started;     /* worker threads made */
};

/* A record whose connection is over and that waits for its revocation
   answer: sent to the control loop, answered back to its worker.  It counts
   in the worker's window until then. */
struct rev_wait {
    struct cs_rev_query q; /* first: the revoker's callback gets &q */
    struct cs_mail mail;
    struct worker *w;
    struct cs_result r;
    struct cs_assessment a;
};

/* A name a job wants resolved: sent to the control loop, answered back to
   the job's worker. */
struct dns_req {
    struct cs_mail mail;
    struct job *job;
    struct worker *w;
    const char *error;              /* static text, NULL on success */
    struct sockaddr_storage *addrs; /* n of them (owned) */
    size_t n;
    struct dns_req *next; /* control loop only: in the backlog */
};

/* With --all-addresses: a target to probe at one more address of its name,
   waiting for room in the worker's window (taken before new targets). */
struct spawn {
    struct cs_target target;
    union cs_sockaddr addr;
    struct spawn *next;
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
    unsigned index;  /* in scan->workers, and as an intake taker */
    unsigned window; /* this worker's share of -j */
    unsigned in_flight;
    bool eof, closed;
    bool filling, refill; /* fill() re-entrancy guard */
    SSL_CTX *ssl_ctx;
    struct job *jobs;                    /* in flight, for an interrupt */
    uv_async_t wake;                     /* answers arrived, a target came, or an interrupt */
    struct cs_mailbox inbox;             /* answered names and revocation checks */
    unsigned dns_pending;                /* names asked and not yet answered */
    struct spawn *spawns, **spawns_tail; /* --all-addresses: further addresses to probe */
    uv_timer_t rate_timer;
    double tokens, rate; /* this worker's share of --rate */
    uint64_t tokens_at;  /* loop time of the last refill */
    unsigned per_address;
    struct addr_slot *slots[ADDR_BUCKETS];
    uv_thread_t thread;
    bool running; /* the thread was made (and is not joined yet) */
    uint64_t probes;
    unsigned peak;
    uv_timer_t progress_timer; /* with a progress board: publishes to it (unreferenced) */
    char read_buf[READ_BUF_BYTES];
};

enum phase { PH_RESOLVE, PH_WAIT_ADDRESS, PH_CONNECT, PH_HANDSHAKE, PH_DONE };

/* One target from intake to record.  A job owns its TCP handle and one
   timer and is freed only in the last close callback. */
struct job {
    struct cs_conn conn;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect_req;
    struct worker *w;
    struct job *prev, *next;  /* the worker's jobs in flight */
    struct job *next_waiting; /* in an address slot's queue */
    struct addr_slot *slot;   /* held while connected */
    struct cs_target target;
    enum phase phase;
    union cs_sockaddr addrs[CS_RESOLVE_MAX_ADDRS];
    size_t n_addrs, cur_addr;
    uint64_t started_ns;  /* first connect attempt */
    uint64_t created_ms;  /* loop time it entered the window (progress: how long it waits) */
    uint64_t deadline_ms; /* loop time */
    bool tcp_open, reading, resolving, finished;
    bool status_wait; /* TLS 1.2: waiting for the CertificateStatus */
    int handles;      /* open handles left to close */
};

/* engine.c */
/* Hands a finished record to the caller, one at a time. */
void scan_emit(struct scan *s, const struct cs_result *r);

/* control.c: runs on the control loop */
/* Makes the control loop's handles and listens for the interrupt: 0, or a
   UV_E* code with nothing left open. */
int control_init(struct scan *s);
/* Closes them; the loop's next run frees them. */
void control_close(struct scan *s);
/* The fetch limits of the revocation service from the options; *resolve
   gets the curl-style --resolve entries (free each and the array). */
void control_fetch_limits(const struct cs_options *o, struct cs_fetch_limits *lim, char ***resolve);

/* worker.c */
/* Makes w's loop and handles: 0, or a negative code (error.h) with nothing made. */
int worker_init(struct scan *s, struct worker *w, unsigned index, unsigned window);
void worker_main(void *arg);
void worker_destroy(struct worker *w);
/* Starts jobs while the window, the rate and the intake allow. */
void fill(struct worker *w);
/* The per-address slot of a job's current address (connect waits for one). */
struct addr_slot *slot_get(struct worker *w, const union cs_sockaddr *a);
void slot_release(struct job *j);
void slot_forget_waiter(struct job *j);
void slot_wait(struct addr_slot *s, struct job *j);
/* Queues a probe of a copy of t at address a (--all-addresses). */
void spawn_add(struct worker *w, const struct cs_target *t, const union cs_sockaddr *a);

/* job.c */
/* Starts one target: resolve (through the control loop), connect, probe. */
void job_start(struct worker *w, struct cs_target *t);
/* Starts one target at address a, without resolving (--all-addresses). */
void job_start_at(struct worker *w, struct cs_target *t, const union cs_sockaddr *a);
/* Starts connecting to the job's current address (once a slot is free). */
void job_connect(struct job *j);
/* A name the control loop resolved for the job. */
void job_resolved(struct job *j, const char *error, const struct sockaddr_storage *addrs, size_t n);
/* Ends the job now with reason why ("interrupted"). */
void job_abort(struct job *j, const char *why);
/* A revocation answer is back: the record is finished and leaves the window. */
void rev_finish(struct rev_wait *rw);

#endif
