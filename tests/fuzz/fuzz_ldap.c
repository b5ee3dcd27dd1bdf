/* libFuzzer target: the ldap probe's BER reader (probes/ldap.c) on
 * arbitrary server bytes, through the probe interface as the engine drives
 * it.  Input layout:
 *   byte 0        bits 0-3: the size of each feed (0: all at once, else
 *                 1 << (n - 1)); bit 4: the server hangs up at the end
 *   the rest      what the server says after the StartTLS request
 * Checks beyond the sanitizers: the connection ends at most once, with one
 * "starttls: " or "handshake: " line; TLS starts only on a whole message
 * that begins the input and fits the message cap (bytes after it end the
 * connection instead); and the probe never sends more than its request
 * before TLS. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"
#include "probes/starttls.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_ldap: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static SSL_CTX *fuzz_ctx;

struct fuzz_conn {
    struct cs_conn conn;
    size_t preamble_sent; /* bytes the probe wrote before TLS started */
    size_t fed;           /* server bytes given to the probe so far */
    size_t fed_at_tls;    /* ... when TLS started */
    int ends;
    char why[1024];
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    X509_STORE *store = X509_STORE_new();
    fuzz_ctx = store ? cs_tls_ctx_new(store, 1 << 20) : NULL;
    X509_STORE_free(store);
    return fuzz_ctx ? 0 : -1;
}

static int fuzz_write(struct cs_conn *c, const void *buf, size_t len)
{
    struct fuzz_conn *f = c->owner;
    (void)buf;
    if (!c->ssl)
        f->preamble_sent += len;
    return 0;
}

static void fuzz_done(struct cs_conn *c, const char *error)
{
    struct fuzz_conn *f = c->owner;
    f->ends++;
    snprintf(f->why, sizeof f->why, "%s", error ? error : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned shift = data[0] & 0x0f;
    bool hang_up = data[0] & 0x10;
    size_t step = shift == 0 ? size : (size_t)1 << (shift - 1);
    data++;
    size--;

    struct fuzz_conn f;
    memset(&f, 0, sizeof f);
    f.conn.probe = &cs_probe_ldap;
    f.conn.ssl_ctx = fuzz_ctx;
    f.conn.sni = f.conn.host = "ldap.example.net";
    f.conn.write = fuzz_write;
    f.conn.done = fuzz_done;
    f.conn.owner = &f;
    cs_conn_start(&f.conn);
    FUZZ_CHECK(f.ends == 0);
    for (size_t off = 0; off < size && !f.conn.ended; off += step) {
        size_t n = size - off < step ? size - off : step;
        bool had_ssl = f.conn.tls;
        f.fed += n;
        cs_conn_feed(&f.conn, (const char *)data + off, n);
        if (!had_ssl && f.conn.tls)
            f.fed_at_tls = f.fed;
    }
    if (hang_up)
        cs_conn_eof(&f.conn, 0);
    else
        cs_conn_timeout(&f.conn);

    FUZZ_CHECK(f.ends == 1);
    FUZZ_CHECK(strncmp(f.why, "starttls: ", 10) == 0 || strncmp(f.why, "handshake: ", 11) == 0 ||
               strncmp(f.why, "timeout during ", 15) == 0);
    FUZZ_CHECK(strchr(f.why, '\n') == NULL);
    FUZZ_CHECK(f.preamble_sent == 31); /* the StartTLS request, and nothing else */
    if (f.conn.tls) {
        /* the go-ahead was a whole message, the feed it ended, and the cap */
        FUZZ_CHECK(size > 0 && data[0] == 0x30);
        FUZZ_CHECK(f.fed_at_tls <= CS_PREAMBLE_LINE_MAX);
        FUZZ_CHECK(strncmp(f.why, "starttls: ", 10) != 0);
    }
    cs_conn_release(&f.conn);
    return 0;
}
