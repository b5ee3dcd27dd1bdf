/* The intake (see intake.h). */
#include "scanner/intake.h"

#include <stdlib.h>
#include <string.h>

#include "scanner/progress.h"
#include "scanner/result.h"

int cs_intake_init(struct cs_intake *in, struct cs_targets *targets, bool strict, unsigned n_takers)
{
    memset(in, 0, sizeof(*in));
    in->targets = targets;
    in->strict = strict;
    int rc = uv_mutex_init(&in->lock);
    if (rc < 0)
        return rc;
    rc = uv_cond_init(&in->room);
    if (rc < 0) {
        uv_mutex_destroy(&in->lock);
        return rc;
    }
    in->queue = cs_xcalloc(CS_INTAKE_AHEAD, sizeof(*in->queue));
    in->takers = cs_xcalloc(n_takers ? n_takers : 1, sizeof(*in->takers));
    in->n_takers = n_takers;
    return 0;
}

/* Wakes the takers that found the queue empty (never a closed one: a
   worker closes only after it saw the end, and then it is not starved).
   Under the lock. */
static void wake_starved(struct cs_intake *in)
{
    for (unsigned i = 0; i < in->n_takers; i++)
        if (in->takers[i].starved) {
            in->takers[i].starved = false;
            uv_async_send(in->takers[i].wake);
        }
}

static void reader_main(void *arg)
{
    struct cs_intake *in = arg;
    for (;;) {
        struct cs_target t;
        int got = cs_targets_next(in->targets, &t) > 0;
        uv_mutex_lock(&in->lock);
        while (got && in->len == CS_INTAKE_AHEAD && !in->stopped)
            uv_cond_wait(&in->room, &in->lock);
        if (!got || in->stopped) {
            if (got)
                cs_target_free(&t);
            in->eof = true;
        } else {
            in->queue[(in->head + in->len++) % CS_INTAKE_AHEAD] = t;
        }
        wake_starved(in);
        bool done = in->eof;
        uv_mutex_unlock(&in->lock);
        cs_progress_read(in->progress, !done, done);
        if (done)
            break;
    }
}

int cs_intake_start(struct cs_intake *in)
{
    int rc = uv_thread_create(&in->thread, reader_main, in);
    in->running = rc == 0;
    return rc;
}

/* Under the lock. */
static void stop_locked(struct cs_intake *in)
{
    in->stopped = true;
    uv_cond_signal(&in->room);
}

int cs_intake_next(struct cs_intake *in, unsigned who, struct cs_target *t)
{
    int got;
    uv_mutex_lock(&in->lock);
    if (in->stopped) {
        got = 0;
    } else if (in->len) {
        *t = in->queue[in->head];
        in->head = (in->head + 1) % CS_INTAKE_AHEAD;
        if (in->len-- == CS_INTAKE_AHEAD)
            uv_cond_signal(&in->room);
        got = 1;
        if (t->bad && in->strict) {
            in->refused = true;
            stop_locked(in);
            cs_targets_abort(in->targets);
            cs_target_free(t);
            got = 0;
        }
    } else if (in->eof) {
        got = 0;
    } else {
        in->takers[who].starved = true;
        got = -1;
    }
    uv_mutex_unlock(&in->lock);
    return got;
}

void cs_intake_stop(struct cs_intake *in)
{
    cs_targets_abort(in->targets);
    uv_mutex_lock(&in->lock);
    stop_locked(in);
    uv_mutex_unlock(&in->lock);
}

void cs_intake_join(struct cs_intake *in)
{
    cs_intake_stop(in); /* a reader still waiting on a pipe gives up */
    if (in->running) {
        uv_thread_join(&in->thread);
        in->running = false;
    }
    while (in->len) { /* read ahead, never taken (an interrupt) */
        cs_target_free(&in->queue[in->head]);
        in->head = (in->head + 1) % CS_INTAKE_AHEAD;
        in->len--;
    }
}

void cs_intake_destroy(struct cs_intake *in)
{
    free(in->queue);
    free(in->takers);
    uv_cond_destroy(&in->room);
    uv_mutex_destroy(&in->lock);
}
