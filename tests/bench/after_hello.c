/* What a probe holds once its ServerHello is in and the rest of the server's
 * flight has yet to come (a server slow after its hello, a TLS 1.2 server
 * whose CertificateStatus the scan waits for): N client handshakes of the TLS
 * driver, each against an OpenSSL server of its own in memory, are fed the
 * server's first record only and held there; the heap (mallinfo2) and VmRSS
 * they hold, per probe.  The server's side is freed before measuring: it is
 * not the scanner's cost.
 *
 *   certsweep-bench-after-hello N [tls12]
 *
 * Prints one line: "after-hello VERSION N heap_bytes_per_probe
 * rss_bytes_per_probe ssl_alive ended".  tests/bench/inflight.sh runs it. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "probes/probe.h"

struct held {
    SSL *server;
    struct cs_conn conn;
    bool ended;
};

static int ah_to_server(struct cs_conn *conn, const void *buf, size_t len)
{
    struct held *h = conn->owner;
    return BIO_write(SSL_get_rbio(h->server), buf, (int)len) == (int)len ? 0 : -1;
}

static void ah_done(struct cs_conn *conn, const char *error)
{
    struct held *h = conn->owner;
    (void)error;
    h->ended = true;
}

static long ah_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* A server context with a self-signed P-256 leaf: what it signs does not
   matter here, only what the client holds meanwhile. */
static SSL_CTX *ah_server_ctx(bool tls12)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!key || !x || !ctx)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"hello.test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    bool ok = X509_sign(x, key, EVP_sha256()) > 0 && SSL_CTX_use_certificate(ctx, x) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, key) == 1;
    if (ok && tls12)
        ok = SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) == 1;
    X509_free(x);
    EVP_PKEY_free(key);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Starts h's handshake and feeds the client the server's first record. */
static int ah_to_after_hello(struct held *h, SSL_CTX *sctx, SSL_CTX *cctx)
{
    h->server = SSL_new(sctx);
    if (!h->server)
        return -1;
    SSL_set_bio(h->server, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_accept_state(h->server);
    h->conn = (struct cs_conn){
        .ssl_ctx = cctx, .sni = "hello.test", .write = ah_to_server, .done = ah_done, .owner = h};
    if (cs__tls_start(&h->conn) != 0)
        return -1;
    SSL_do_handshake(h->server);
    ERR_clear_error();
    char *data;
    long len = BIO_get_mem_data(SSL_get_wbio(h->server), &data);
    if (len < 5)
        return -1;
    size_t first = 5 + ((size_t)(unsigned char)data[3] << 8 | (unsigned char)data[4]);
    if (first > (size_t)len)
        return -1;
    cs__tls_feed(&h->conn, data, first);
    SSL_free(h->server);
    h->server = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0;
    bool tls12 = argc > 2 && strcmp(argv[2], "tls12") == 0;
    if (n < 1 || n > 1000000) {
        fprintf(stderr, "usage: certsweep-bench-after-hello N [tls12]  (N: 1-1000000)\n");
        return 64;
    }
    SSL_CTX *sctx = ah_server_ctx(tls12);
    X509_STORE *store = X509_STORE_new();
    SSL_CTX *cctx = store ? cs_tls_ctx_new(store, 1 << 20) : NULL;
    struct held *hs = calloc((size_t)n, sizeof(*hs));
    if (!sctx || !cctx || !hs) {
        fprintf(stderr, "certsweep-bench-after-hello: cannot set up OpenSSL\n");
        return 70;
    }
    struct held warm = {0}; /* the first handshake fetches what every later one shares */
    if (ah_to_after_hello(&warm, sctx, cctx) < 0)
        return 70;
    malloc_trim(0);
    struct mallinfo2 m0 = mallinfo2();
    long r0 = ah_rss_kb();
    for (long i = 0; i < n; i++) {
        if (ah_to_after_hello(&hs[i], sctx, cctx) < 0) {
            fprintf(stderr, "certsweep-bench-after-hello: handshake %ld did not start\n", i);
            return 70;
        }
    }
    struct mallinfo2 m1 = mallinfo2();
    long r1 = ah_rss_kb();
    long alive = 0, ended = 0;
    for (long i = 0; i < n; i++) {
        alive += hs[i].conn.ssl != NULL;
        ended += hs[i].ended;
    }
    printf("after-hello %s %ld %.0f %.0f %ld %ld\n", tls12 ? "TLSv1.2" : "TLSv1.3", n,
           ((double)m1.uordblks - (double)m0.uordblks) / (double)n,
           (double)(r1 - r0) * 1024 / (double)n, alive, ended);
    return 0;
}
