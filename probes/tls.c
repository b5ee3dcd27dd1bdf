/* The shared TLS driver: OpenSSL client over two memory BIOs, so that the
 * engine's libuv stream carries the bytes and no socket is ever handed to
 * OpenSSL.  No verification happens during the handshake: the certificate
 * verify callback takes the presented chain and ends the handshake there,
 * which saves the CertificateVerify signature check, the Finished messages
 * and a round trip.  The engine verifies and analyses the chain itself. */
#include <string.h>

#include <openssl/err.h>
#include <uv.h>

#include "probe.h"

#define TLS_FLUSH_CHUNK 16384

static int tls_flush(struct cs_conn *conn)
{
    char buf[TLS_FLUSH_CHUNK];
    int n;
    while ((n = BIO_read(conn->net_out, buf, sizeof(buf))) > 0) {
        int rc = conn->write(conn, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The most telling OpenSSL error on the queue, as a short phrase. */
static void tls_error_text(char *buf, size_t len, const char *fallback)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = last ? last : e;
    const char *why = last ? ERR_reason_error_string(last) : NULL;
    snprintf(buf, len, "handshake: %s", why ? why : fallback);
}

/* Called by OpenSSL when the server's Certificate message has been parsed. */
static int tls_chain_in_hand(X509_STORE_CTX *ctx, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct cs_conn *conn = ssl ? SSL_get_app_data(ssl) : NULL;
    STACK_OF(X509) *presented = X509_STORE_CTX_get0_untrusted(ctx);
    if (conn && !conn->chain && sk_X509_num(presented) > 0) {
        conn->chain = X509_chain_up_ref(presented);
        snprintf(conn->tls_version, sizeof(conn->tls_version), "%s", SSL_get_version(ssl));
    }
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0; /* enough: end the handshake here */
}

void cs__tls_ctx_setup(SSL_CTX *ctx)
{
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, tls_chain_in_hand, NULL);
}

static void tls_step(struct cs_conn *conn)
{
    char why[256];
    ERR_clear_error();
    int r = SSL_do_handshake(conn->ssl);
    if (conn->chain) {
        ERR_clear_error();
        conn->done(conn, NULL);
        return;
    }
    if (tls_flush(conn) < 0) {
        conn->done(conn, "handshake: write failed");
        return;
    }
    if (r == 1) { /* a handshake without a certificate (anonymous suites) */
        conn->done(conn, "handshake: server sent no certificate");
        return;
    }
    switch (SSL_get_error(conn->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return;
    case SSL_ERROR_ZERO_RETURN:
        conn->done(conn, "handshake: connection closed by peer");
        return;
    default:
        tls_error_text(why, sizeof(why), "protocol error");
        conn->done(conn, why);
        return;
    }
}

int cs__tls_start(struct cs_conn *conn)
{
    conn->ssl = SSL_new(conn->ssl_ctx);
    conn->net_in = BIO_new(BIO_s_mem());
    conn->net_out = BIO_new(BIO_s_mem());
    if (!conn->ssl || !conn->net_in || !conn->net_out) {
        BIO_free(conn->net_in);
        BIO_free(conn->net_out);
        SSL_free(conn->ssl);
        conn->ssl = NULL;
        conn->net_in = conn->net_out = NULL;
        return UV_ENOMEM;
    }
    SSL_set_app_data(conn->ssl, conn);
    BIO_set_mem_eof_return(conn->net_in, -1);
    BIO_set_mem_eof_return(conn->net_out, -1);
    SSL_set_bio(conn->ssl, conn->net_in, conn->net_out);
    SSL_set_connect_state(conn->ssl);
    if (conn->sni && SSL_set_tlsext_host_name(conn->ssl, conn->sni) != 1) {
        ERR_clear_error(); /* an SNI OpenSSL refuses is simply not sent */
    }
    tls_step(conn);
    return 0;
}

void cs__tls_feed(struct cs_conn *conn, const char *buf, size_t len)
{
    if (BIO_write(conn->net_in, buf, (int)len) != (int)len) {
        conn->done(conn, "handshake: out of memory");
        return;
    }
    tls_step(conn);
}

void cs__tls_eof(struct cs_conn *conn, int err)
{
    char why[256];
    if (err == 0 || err == UV_EOF) {
        conn->done(conn, "handshake: connection closed by peer");
        return;
    }
    if (err == UV_ECONNRESET) {
        conn->done(conn, "handshake: connection reset by peer");
        return;
    }
    snprintf(why, sizeof(why), "handshake: %s", uv_strerror(err));
    conn->done(conn, why);
}

void cs__tls_free(struct cs_conn *conn)
{
    SSL_free(conn->ssl); /* frees both BIOs */
    sk_X509_pop_free(conn->chain, X509_free);
    conn->chain = NULL;
    conn->ssl = NULL;
    conn->net_in = conn->net_out = NULL;
}
