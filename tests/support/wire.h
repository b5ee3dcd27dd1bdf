/* One probe connection with no socket: what the probe sends is kept, what
 * the server says is fed in by the test, and the end is recorded.  The
 * TLS driver is the real one (a worker's SSL_CTX over an empty trust
 * store), so a probe that says go is seen to start TLS: its first bytes
 * after the preamble are a ClientHello. */
#ifndef CS_TEST_WIRE_H
#define CS_TEST_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/probe.h"

#define WIRE_SENT_MAX 65536

struct wire {
    struct cs_conn conn;
    SSL_CTX *ctx;
    X509_STORE *store;
    char sent[WIRE_SENT_MAX + 1]; /* what the probe wrote, NUL-terminated */
    size_t sent_len;
    size_t preamble_len; /* sent bytes before TLS started (all of them until it does) */
    int ends;            /* times done was called (never more than 1) */
    char why[1024];      /* the error done got, "" for none */
    bool tls_started;    /* TLS had started when done was called */
};

/* Makes w a connection of probe p to host (the EHLO / stream-to name), ehlo
   NULL for the default, and runs the probe's start. */
void wire_open(struct wire *w, const struct cs_probe *p, const char *host, const char *ehlo);
/* The server says len bytes. */
void wire_feed(struct wire *w, const void *buf, size_t len);
/* The server says a NUL-terminated text. */
void wire_say(struct wire *w, const char *text);
/* The server says len bytes a byte at a time, until the probe ends. */
void wire_feed_bytewise(struct wire *w, const void *buf, size_t len);
/* The server hangs up (times out) once TLS has started: whether that ended
   the probe, once, as a handshake error ("handshake: ...", "timeout during
   handshake").  On false, w->ends and w->why say what happened instead. */
bool wire_hang_up_in_handshake(struct wire *w);
bool wire_time_out_in_handshake(struct wire *w);
/* The hostile transcripts: the server sends buf (len bytes) again and
   again, at most max_times, until the probe ends; how many times it did. */
size_t wire_feed_until_end(struct wire *w, const void *buf, size_t len, size_t max_times);
/* The same with a NUL-terminated text. */
size_t wire_say_until_end(struct wire *w, const char *text, size_t max_times);
/* The server sends 1 MiB: prefix (prefix_len bytes), then fill, piece bytes
   at a time, until the probe ends; how many bytes it sent. */
size_t wire_feed_megabyte(struct wire *w, const void *prefix, size_t prefix_len, unsigned char fill,
                          size_t piece);
/* A 1 MiB line: prefix, then 'A's, 8 KiB at a time. */
size_t wire_feed_megabyte_line(struct wire *w, const char *prefix);
/* TLS has started (the probe said go and the driver sent a ClientHello);
   after the end, whether it had.  done releases the connection (probe
   state, SSL) at once, as the engine does. */
bool wire_tls_started(const struct wire *w);
/* The text sent before TLS (NUL-terminated: a copy in a static buffer). */
const char *wire_preamble(const struct wire *w);
void wire_close(struct wire *w);

#endif
