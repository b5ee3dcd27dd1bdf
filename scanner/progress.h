/* Progress at the terminal: while a scan runs, a drawing thread redraws a
 * status of two lines on stderr four times a second (done/total, rate, ETA,
 * in flight, counts by status, the endpoints waiting longest), and erases
 * it completely before anything else is written to the terminal.
 *
 * The engine publishes the numbers on a board without taking a lock on its
 * hot path: a record is one relaxed atomic add, a target read another; each
 * worker publishes its in-flight count and its oldest jobs from a timer of
 * its own, at the drawing rate, under a lock of its slot that only the
 * drawer shares.  Without progress the board is NULL and nothing of this
 * runs. */
#ifndef CS_PROGRESS_H
#define CS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scanner/result.h"

/* --progress */
enum cs_progress_mode {
    CS_PROGRESS_AUTO = 0, /* when stderr is a terminal */
    CS_PROGRESS_ALWAYS,
    CS_PROGRESS_NEVER,
};

#define CS_PROGRESS_TICK_MS 250 /* redraws and worker publications */
#define CS_PROGRESS_SLOWEST 3   /* endpoints shown waiting */
#define CS_PROGRESS_WHERE 72    /* host:port as shown, with its NUL */

struct cs_progress;

/* One endpoint in flight as the progress shows it. */
struct cs_progress_wait {
    char where[CS_PROGRESS_WHERE]; /* host:port, printable ASCII only */
    uint64_t age_ms;               /* since its job started */
};

/* What one redraw shows (a snapshot of the board). */
struct cs_progress_view {
    uint64_t done[CS_STATUS_COUNT];
    uint64_t read;  /* targets read (and further addresses queued) so far */
    bool read_all;  /* the reader reached the end: read is the total */
    double elapsed; /* seconds since the start */
    unsigned in_flight;
    struct cs_progress_wait slowest[CS_PROGRESS_SLOWEST]; /* oldest first */
    size_t n_slowest;
};

/* ---- the caller (main.c) ---- */

/* Starts drawing on fd when mode says so (auto: fd is a terminal); NULL
   when progress is off (or its thread cannot be made). */
struct cs_progress *cs_progress_start(int fd, enum cs_progress_mode mode);
/* Stops the drawing thread, erases what it drew and frees p (NULL: nothing). */
void cs_progress_stop(struct cs_progress *p);
/* Erases the progress and keeps it from being drawn until released, so that
   another message can be written to the terminal whole (NULL: nothing). */
void cs_progress_hold(struct cs_progress *p);
void cs_progress_release(struct cs_progress *p);

/* --stats: one line, "certsweep: scanned N endpoints in S s (R/s): ...". */
void cs_progress_summary(FILE *out, const struct cs_summary *s, double wall_secs);

/* ---- the engine (any thread; p may be NULL: nothing) ---- */

/* n more targets (or further addresses) to scan; end: the reader is done. */
void cs_progress_read(struct cs_progress *p, uint64_t n, bool end);
/* A record left the engine. */
void cs_progress_done(struct cs_progress *p, enum cs_status status);
/* Worker `worker` (below CS_MAX_WORKERS) holds in_flight probes; waits are
   its oldest, oldest first. */
void cs_progress_publish(struct cs_progress *p, unsigned worker, unsigned in_flight,
                         const struct cs_progress_wait *waits, size_t n);

/* ---- the pieces, for the tests ---- */

/* host:port into where, each byte outside printable ASCII as '?', a host
   too long cut in its middle with "~" so that the domain stays visible. */
void cs_progress_where(char where[CS_PROGRESS_WHERE], const char *host, unsigned port);
/* The lines of v, each at most width - 1 columns (a line that fills the
   last column would wrap on some terminals), joined by "\n" with no final
   newline, into buf (cap bytes, NUL-terminated).  The number of lines. */
unsigned cs_progress_render(const struct cs_progress_view *v, unsigned width, char *buf,
                            size_t cap);

#endif
