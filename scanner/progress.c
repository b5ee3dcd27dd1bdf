/* Progress at the terminal (see progress.h). */
#include "scanner/progress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uv.h>

#include "scanner/options.h"
#include "scanner/util.h"

#define LINE_MAX_BYTES 512 /* one rendered line before it is cut to the width */
#define DRAW_MAX_BYTES 2048

/* What one worker published last. */
struct progress_slot {
    uv_mutex_t lock; /* the worker's publications against the drawer's reads */
    unsigned in_flight;
    struct cs_progress_wait waits[CS_PROGRESS_SLOWEST];
    size_t n;
    uint64_t stamp_ns; /* when: the ages grow from there */
};

struct cs_progress {
    int fd;
    bool tty;         /* fd is a terminal: drawn only while in its foreground */
    unsigned columns; /* $COLUMNS, for a stream that is not a terminal; 0: 80 */
    uint64_t start_ns;
    atomic_uint_fast64_t done[CS_STATUS_COUNT];
    atomic_uint_fast64_t read;
    atomic_bool read_all;
    struct progress_slot slots[CS_MAX_WORKERS];
    uv_mutex_t lock; /* the terminal: drawn, stopping; held by cs_progress_hold */
    uv_cond_t wake;
    bool stopping;
    unsigned drawn; /* lines of ours on the terminal now; the cursor ends the last */
    uv_thread_t thread;
};

/* ---- the engine's side ---- */

void cs_progress_read(struct cs_progress *p, uint64_t n, bool end)
{
    if (!p)
        return;
    if (n)
        atomic_fetch_add_explicit(&p->read, n, memory_order_relaxed);
    if (end)
        atomic_store_explicit(&p->read_all, true, memory_order_release);
}

void cs_progress_done(struct cs_progress *p, enum cs_status status)
{
    if (p && (unsigned)status < CS_STATUS_COUNT)
        atomic_fetch_add_explicit(&p->done[status], 1, memory_order_relaxed);
}

void cs_progress_publish(struct cs_progress *p, unsigned worker, unsigned in_flight,
                         const struct cs_progress_wait *waits, size_t n)
{
    if (!p || worker >= CS_MAX_WORKERS)
        return;
    struct progress_slot *s = &p->slots[worker];
    if (n > CS_PROGRESS_SLOWEST)
        n = CS_PROGRESS_SLOWEST;
    uv_mutex_lock(&s->lock);
    s->in_flight = in_flight;
    if (n)
        memcpy(s->waits, waits, n * sizeof(*waits));
    s->n = n;
    s->stamp_ns = uv_hrtime();
    uv_mutex_unlock(&s->lock);
}

/* ---- what is shown ---- */

void cs_progress_where(char where[CS_PROGRESS_WHERE], const char *host, unsigned port)
{
    char portbuf[8];
    int plen = snprintf(portbuf, sizeof(portbuf), ":%u", port);
    bool v6 = strchr(host, ':') != NULL; /* an IPv6 literal: in brackets */
    size_t room = CS_PROGRESS_WHERE - 1 - (size_t)plen - (v6 ? 2 : 0);
    size_t len = strlen(host), head = len, tail = 0;
    if (len > room) { /* the start and the end, the domain kept */
        head = (room - 1) / 3;
        tail = room - 1 - head;
    }
    size_t o = 0;
    if (v6)
        where[o++] = '[';
    for (size_t i = 0; i < len; i++) {
        if (i == head && tail) {
            where[o++] = '~';
            i = len - tail;
        }
        unsigned char c = (unsigned char)host[i];
        /* the name goes to a terminal: nothing that could steer it */
        where[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (v6)
        where[o++] = ']';
    memcpy(where + o, portbuf, (size_t)plen + 1);
}

static void fmt_duration(char *buf, size_t len, double secs)
{
    unsigned long s = (unsigned long)(secs + 0.5);
    if (s < 60)
        snprintf(buf, len, "%lus", s);
    else if (s < 3600)
        snprintf(buf, len, "%lum%02lus", s / 60, s % 60);
    else
        snprintf(buf, len, "%luh%02lum", s / 3600, s / 60 % 60);
}

/* Appends to a line of LINE_MAX_BYTES, silently cut at its end. */
static void line_add(char *line, size_t *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void line_add(char *line, size_t *o, const char *fmt, ...)
{
    if (*o >= LINE_MAX_BYTES - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + *o, LINE_MAX_BYTES - *o, fmt, ap);
    va_end(ap);
    if (n > 0)
        *o = *o + (size_t)n < LINE_MAX_BYTES - 1 ? *o + (size_t)n : LINE_MAX_BYTES - 1;
}

static void render_counts(const struct cs_progress_view *v, char *line, size_t *o)
{
    uint64_t done = 0;
    for (int s = 0; s < CS_STATUS_COUNT; s++)
        done += v->done[s];
    double rate = v->elapsed > 0 ? (double)done / v->elapsed : 0;
    if (v->read_all)
        line_add(line, o, "certsweep: %llu/%llu done", (unsigned long long)done,
                 (unsigned long long)v->read);
    else
        line_add(line, o, "certsweep: %llu/? done (%llu read)", (unsigned long long)done,
                 (unsigned long long)v->read);
    line_add(line, o, ", %.1f/s", rate);
    /* once every target left has started, the end is up to the probes in
       flight (at most --timeout): the waits below say who holds it */
    if (v->read_all && rate > 0 && v->read > done && v->read - done > v->in_flight) {
        char eta[32];
        fmt_duration(eta, sizeof(eta), (double)(v->read - done) / rate);
        line_add(line, o, ", ETA %s", eta);
    }
    line_add(line, o, ", %u in flight", v->in_flight);
    const char *sep = " | ";
    for (int s = 0; s < CS_STATUS_COUNT; s++)
        if (v->done[s]) {
            line_add(line, o, "%s%llu %s", sep, (unsigned long long)v->done[s],
                     cs_status_name((enum cs_status)s));
            sep = ", ";
        }
}

static void render_waits(const struct cs_progress_view *v, char *line, size_t *o)
{
    line_add(line, o, "  waiting longest:");
    for (size_t i = 0; i < v->n_slowest; i++)
        line_add(line, o, "%s %s %.1fs", i ? "," : "", v->slowest[i].where,
                 (double)v->slowest[i].age_ms / 1000.0);
}

/* Appends line, cut to max bytes (all of it is printable ASCII: a byte is a
   column), to buf. */
static void out_add(char *buf, size_t cap, size_t *o, const char *line, size_t max)
{
    size_t n = strlen(line);
    if (n > max)
        n = max;
    if (*o + n + 1 > cap)
        n = *o + 1 < cap ? cap - *o - 1 : 0;
    memcpy(buf + *o, line, n);
    *o += n;
    buf[*o] = '\0';
}

unsigned cs_progress_render(const struct cs_progress_view *v, unsigned width, char *buf, size_t cap)
{
    if (!cap)
        return 0;
    buf[0] = '\0';
    size_t max = width > 1 ? width - 1 : 1, o = 0;
    char line[LINE_MAX_BYTES];
    size_t lo = 0;
    line[0] = '\0';
    render_counts(v, line, &lo);
    out_add(buf, cap, &o, line, max);
    if (!v->n_slowest)
        return 1;
    lo = 0;
    line[0] = '\0';
    render_waits(v, line, &lo);
    out_add(buf, cap, &o, "\n", 1);
    out_add(buf, cap, &o, line, max);
    return 2;
}

/* ---- drawing ---- */

/* Adds w to the oldest-first list of v, keeping CS_PROGRESS_SLOWEST. */
static void view_add_wait(struct cs_progress_view *v, const struct cs_progress_wait *w)
{
    size_t i = v->n_slowest;
    while (i > 0 && v->slowest[i - 1].age_ms < w->age_ms)
        i--;
    if (i >= CS_PROGRESS_SLOWEST)
        return;
    size_t last = v->n_slowest < CS_PROGRESS_SLOWEST ? v->n_slowest : CS_PROGRESS_SLOWEST - 1;
    memmove(&v->slowest[i + 1], &v->slowest[i], (last - i) * sizeof(*w));
    v->slowest[i] = *w;
    if (v->n_slowest < CS_PROGRESS_SLOWEST)
        v->n_slowest++;
}

static void progress_snapshot(struct cs_progress *p, struct cs_progress_view *v)
{
    memset(v, 0, sizeof(*v));
    uint64_t now = uv_hrtime();
    v->elapsed = (double)(now - p->start_ns) / 1e9;
    v->read_all = atomic_load_explicit(&p->read_all, memory_order_acquire);
    v->read = atomic_load_explicit(&p->read, memory_order_relaxed);
    for (int s = 0; s < CS_STATUS_COUNT; s++)
        v->done[s] = atomic_load_explicit(&p->done[s], memory_order_relaxed);
    for (unsigned i = 0; i < CS_MAX_WORKERS; i++) {
        struct progress_slot *s = &p->slots[i];
        uv_mutex_lock(&s->lock);
        v->in_flight += s->in_flight;
        for (size_t k = 0; k < s->n; k++) {
            struct cs_progress_wait w = s->waits[k];
            w.age_ms += now > s->stamp_ns ? (now - s->stamp_ns) / 1000000 : 0;
            view_add_wait(v, &w);
        }
        uv_mutex_unlock(&s->lock);
    }
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* a terminal that is gone: nothing to say it on */
        buf += n;
        len -= (size_t)n;
    }
}

/* A terminal's background job (certsweep ... &, or stopped and resumed with
   bg) leaves it to the shell and the foreground job: whatever it drew there
   is theirs now, and is left alone. */
static bool progress_foreground(struct cs_progress *p)
{
    if (!p->tty || tcgetpgrp(p->fd) == getpgrp())
        return true;
    p->drawn = 0;
    return false;
}

/* The sequence that erases our lines and leaves the cursor where the first
   began, into buf (at least 8 bytes a line). */
static size_t erase_sequence(unsigned lines, char *buf)
{
    size_t o = 0;
    if (!lines)
        return 0;
    memcpy(buf + o, "\r\033[K", 4);
    o += 4;
    for (unsigned i = 1; i < lines; i++) {
        memcpy(buf + o, "\033[A\033[K", 6);
        o += 6;
    }
    return o;
}

/* Under p->lock. */
static void progress_erase(struct cs_progress *p)
{
    if (!progress_foreground(p))
        return;
    char seq[32];
    size_t n = erase_sequence(p->drawn, seq);
    write_all(p->fd, seq, n);
    p->drawn = 0;
}

static unsigned progress_width(const struct cs_progress *p)
{
    struct winsize ws;
    if (ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col; /* asked at every redraw: a resize takes effect at the next */
    return p->columns ? p->columns : 80;
}

/* Under p->lock: one write, so that the terminal never shows half a redraw. */
static void progress_draw(struct cs_progress *p)
{
    if (!progress_foreground(p))
        return;
    struct cs_progress_view v;
    progress_snapshot(p, &v);
    char buf[DRAW_MAX_BYTES + 32];
    size_t o = erase_sequence(p->drawn, buf);
    p->drawn = cs_progress_render(&v, progress_width(p), buf + o, DRAW_MAX_BYTES);
    write_all(p->fd, buf, o + strlen(buf + o));
}

static void progress_main(void *arg)
{
    struct cs_progress *p = arg;
    uv_mutex_lock(&p->lock);
    while (!p->stopping) {
        uv_cond_timedwait(&p->wake, &p->lock, (uint64_t)CS_PROGRESS_TICK_MS * 1000000);
        if (!p->stopping)
            progress_draw(p);
    }
    progress_erase(p);
    uv_mutex_unlock(&p->lock);
}

static void progress_free(struct cs_progress *p, unsigned slots)
{
    for (unsigned i = 0; i < slots; i++)
        uv_mutex_destroy(&p->slots[i].lock);
    free(p);
}

static struct cs_progress *progress_new(int fd)
{
    struct cs_progress *p = cs_xcalloc(1, sizeof(*p));
    p->fd = fd;
    p->tty = isatty(fd);
    const char *columns = getenv("COLUMNS");
    long c = columns ? strtol(columns, NULL, 10) : 0;
    p->columns = c > 0 && c < 10000 ? (unsigned)c : 0;
    p->start_ns = uv_hrtime();
    for (unsigned i = 0; i < CS_MAX_WORKERS; i++)
        if (uv_mutex_init(&p->slots[i].lock) < 0) {
            progress_free(p, i);
            return NULL;
        }
    if (uv_mutex_init(&p->lock) < 0) {
        progress_free(p, CS_MAX_WORKERS);
        return NULL;
    }
    if (uv_cond_init(&p->wake) < 0) {
        uv_mutex_destroy(&p->lock);
        progress_free(p, CS_MAX_WORKERS);
        return NULL;
    }
    return p;
}

/* auto: a terminal that can move its cursor (a dumb one prints the escapes) */
static bool progress_terminal(int fd)
{
    const char *term = getenv("TERM");
    return isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}

struct cs_progress *cs_progress_start(int fd, enum cs_progress_mode mode)
{
    if (mode == CS_PROGRESS_NEVER || (mode == CS_PROGRESS_AUTO && !progress_terminal(fd)))
        return NULL;
    struct cs_progress *p = progress_new(fd);
    if (p && uv_thread_create(&p->thread, progress_main, p) < 0) {
        uv_cond_destroy(&p->wake);
        uv_mutex_destroy(&p->lock);
        progress_free(p, CS_MAX_WORKERS);
        return NULL; /* a scan without progress rather than none */
    }
    return p;
}

void cs_progress_stop(struct cs_progress *p)
{
    if (!p)
        return;
    uv_mutex_lock(&p->lock);
    p->stopping = true;
    uv_cond_signal(&p->wake);
    uv_mutex_unlock(&p->lock);
    uv_thread_join(&p->thread);
    uv_cond_destroy(&p->wake);
    uv_mutex_destroy(&p->lock);
    progress_free(p, CS_MAX_WORKERS);
}

void cs_progress_hold(struct cs_progress *p)
{
    if (!p)
        return;
    uv_mutex_lock(&p->lock);
    progress_erase(p);
}

void cs_progress_release(struct cs_progress *p)
{
    if (p)
        uv_mutex_unlock(&p->lock);
}

void cs_progress_summary(FILE *out, const struct cs_summary *s, double wall_secs)
{
    fprintf(out, "certsweep: scanned %llu endpoint%s in %.1f s (%.1f/s):",
            (unsigned long long)s->targets, s->targets == 1 ? "" : "s", wall_secs,
            wall_secs > 0 ? (double)s->targets / wall_secs : 0.0);
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        fprintf(out, "%s %llu %s", i ? "," : "", (unsigned long long)s->count[i],
                cs_status_name((enum cs_status)i));
    fputs(s->complete ? "\n" : " (interrupted)\n", out);
}
