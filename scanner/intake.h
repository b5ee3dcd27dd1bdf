/* The intake: a reader thread parses targets ahead of the workers into a
 * bounded queue, so a pipe that pauses (producer | certsweep -f -) blocks
 * only that thread, never a probe in flight.  Workers take targets from the
 * queue; one that finds it empty is woken when the next target (or the
 * end) comes. */
#ifndef CS_INTAKE_H
#define CS_INTAKE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "scanner/targets.h"

struct cs_progress;

#define CS_INTAKE_AHEAD 1024 /* targets parsed ahead of the workers */

/* A worker as the intake sees it. */
struct cs_intake_taker {
    uv_async_t *wake; /* sent when a target comes after an empty take */
    bool starved;     /* under the lock: it found the queue empty */
};

struct cs_intake {
    uv_mutex_t lock;            /* everything below but the thread */
    uv_cond_t room;             /* the queue has room, or the intake stopped */
    struct cs_targets *targets; /* read by the reader thread only */
    struct cs_target *queue;    /* a ring of CS_INTAKE_AHEAD */
    size_t head, len;
    bool eof;     /* the reader has read everything */
    bool stopped; /* take no more targets (signal, --strict-input) */
    bool strict;  /* --strict-input: a bad line stops the intake */
    bool refused; /* ... and one did */
    struct cs_intake_taker *takers;
    unsigned n_takers;
    uv_thread_t thread;
    bool running;                 /* the thread was made (and is not joined yet) */
    struct cs_progress *progress; /* told each target read and the end; NULL: none */
};

/* 0, or a UV_E* code.  takers[i].wake is set by the caller before the start. */
int cs_intake_init(struct cs_intake *in, struct cs_targets *targets, bool strict,
                   unsigned n_takers);
/* Starts the reader thread: 0 or a UV_E* code. */
int cs_intake_start(struct cs_intake *in);
/* The next target for taker who: 1 and *t filled (a bad line too: t->bad
   says why); 0 at the end or once stopped; -1 if none is ready yet (who is
   woken when one is). */
int cs_intake_next(struct cs_intake *in, unsigned who, struct cs_target *t);
/* Stops the intake: the reader ends at its next target.  Any thread. */
void cs_intake_stop(struct cs_intake *in);
/* Stops the intake, waits for the reader (if it was started) and frees
   the targets read ahead and never taken. */
void cs_intake_join(struct cs_intake *in);
void cs_intake_destroy(struct cs_intake *in);

#endif
