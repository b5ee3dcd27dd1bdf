/* See wire.h. */
#include "tests/support/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wire_write(struct cs_conn *c, const void *buf, size_t len)
{
    struct wire *w = c->owner;
    if (w->sent_len + len > WIRE_SENT_MAX) {
        fprintf(stderr, "wire: the probe sent more than %d bytes\n", WIRE_SENT_MAX);
        abort();
    }
    memcpy(w->sent + w->sent_len, buf, len);
    w->sent_len += len;
    w->sent[w->sent_len] = '\0';
    if (!c->ssl)
        w->preamble_len = w->sent_len;
    return 0;
}

static void wire_done(struct cs_conn *c, const char *error)
{
    struct wire *w = c->owner;
    w->tls_started = wire_tls_started(w);
    w->ends++;
    snprintf(w->why, sizeof w->why, "%s", error ? error : "");
    /* as the engine does: what the probe holds is freed at once, so a probe
       that touches its state after ending shows up under ASan and valgrind */
    cs_conn_release(c);
}

void wire_open(struct wire *w, const struct cs_probe *p, const char *host, const char *ehlo)
{
    memset(w, 0, sizeof(*w));
    w->store = X509_STORE_new();
    w->ctx = cs_tls_ctx_new(w->store, 1 << 20);
    if (!w->ctx) {
        fprintf(stderr, "wire: no SSL_CTX\n");
        abort();
    }
    w->conn.probe = p;
    w->conn.ssl_ctx = w->ctx;
    w->conn.sni = host;
    w->conn.host = host;
    w->conn.ehlo = ehlo;
    w->conn.write = wire_write;
    w->conn.done = wire_done;
    w->conn.owner = w;
    cs_conn_start(&w->conn);
}

void wire_feed(struct wire *w, const void *buf, size_t len)
{
    cs_conn_feed(&w->conn, buf, len);
}

void wire_say(struct wire *w, const char *text)
{
    wire_feed(w, text, strlen(text));
}

void wire_feed_bytewise(struct wire *w, const void *buf, size_t len)
{
    const unsigned char *b = buf;
    for (size_t i = 0; i < len && w->ends == 0; i++)
        wire_feed(w, b + i, 1);
}

bool wire_hang_up_in_handshake(struct wire *w)
{
    cs_conn_eof(&w->conn, 0);
    return w->ends == 1 && strncmp(w->why, "handshake: ", 11) == 0;
}

bool wire_time_out_in_handshake(struct wire *w)
{
    cs_conn_timeout(&w->conn);
    return w->ends == 1 && strcmp(w->why, "timeout during handshake") == 0;
}

size_t wire_feed_until_end(struct wire *w, const void *buf, size_t len, size_t max_times)
{
    size_t n = 0;
    for (; n < max_times && w->ends == 0; n++)
        wire_feed(w, buf, len);
    return n;
}

size_t wire_say_until_end(struct wire *w, const char *text, size_t max_times)
{
    return wire_feed_until_end(w, text, strlen(text), max_times);
}

#define MEGABYTE ((size_t)1 << 20)

size_t wire_feed_megabyte(struct wire *w, const void *prefix, size_t prefix_len, unsigned char fill,
                          size_t piece)
{
    unsigned char *mb = malloc(MEGABYTE);
    if (mb == NULL || prefix_len > MEGABYTE || piece == 0) {
        fprintf(stderr, "wire: cannot make a megabyte in pieces of %zu bytes\n", piece);
        abort();
    }
    memset(mb, fill, MEGABYTE);
    memcpy(mb, prefix, prefix_len);
    size_t off = 0;
    while (off < MEGABYTE && w->ends == 0) {
        size_t n = MEGABYTE - off < piece ? MEGABYTE - off : piece;
        wire_feed(w, mb + off, n);
        off += n;
    }
    free(mb);
    return off;
}

size_t wire_feed_megabyte_line(struct wire *w, const char *prefix)
{
    return wire_feed_megabyte(w, prefix, strlen(prefix), 'A', 8192);
}

bool wire_tls_started(const struct wire *w)
{
    if (w->ends)
        return w->tls_started;
    return w->conn.tls && w->sent_len > w->preamble_len + 5 &&
           (unsigned char)w->sent[w->preamble_len] == 0x16 &&
           (unsigned char)w->sent[w->preamble_len + 1] == 0x03;
}

const char *wire_preamble(const struct wire *w)
{
    static char text[WIRE_SENT_MAX + 1];
    memcpy(text, w->sent, w->preamble_len);
    text[w->preamble_len] = '\0';
    return text;
}

void wire_close(struct wire *w)
{
    cs_conn_release(&w->conn);
    SSL_CTX_free(w->ctx);
    X509_STORE_free(w->store);
}
