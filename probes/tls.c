/* The shared TLS driver: an OpenSSL client whose BIO reads straight from the
 * engine's libuv read buffer and writes straight to its stream, so no socket
 * is ever handed to OpenSSL and no byte is copied into a BIO of its own.
 * OpenSSL speaks the client's side up to the ServerHello, from which it
 * derives the handshake keys; the server's flight is read beside it by
 * flight.c, from the same bytes, and OpenSSL reads and sends nothing after
 * that, so it never parses a certificate.  Only for RSA key transport, where
 * nothing is signed, does it run on to the server's Finished, which proves
 * the key.  Verification is the engine's. */
#include <stdbool.h>
#include <string.h>

#include <openssl/err.h>
#include <uv.h>

#include "probes/probe.h"

/* The BIO between OpenSSL and the engine: reads take what cs__tls_feed was
   given, writes go to conn->write at once. */
static BIO_METHOD *tls_bio_method;
static uv_once_t tls_bio_once = UV_ONCE_INIT;

static int tls_bio_read(BIO *b, char *out, int outl)
{
    struct cs_conn *conn = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (conn->in_len == 0 || conn->stopped) { /* stopped: the reader takes it from here */
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = outl > 0 && (size_t)outl < conn->in_len ? (size_t)outl : conn->in_len;
    memcpy(out, conn->in, n);
    conn->in += n;
    conn->in_len -= n;
    return (int)n;
}

static int tls_bio_write(BIO *b, const char *in, int inl)
{
    struct cs_conn *conn = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (conn->stopped)
        return inl; /* nothing goes out once OpenSSL's part is over */
    return inl > 0 && conn->write(conn, in, (size_t)inl) < 0 ? -1 : inl;
}

static long tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct cs_conn *conn = BIO_get_data(b);
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return conn ? (long)conn->in_len : 0;
    default:
        return 0;
    }
}

static int tls_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void tls_bio_init_method(void)
{
    tls_bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "certsweep stream");
    if (tls_bio_method) {
        BIO_meth_set_read(tls_bio_method, tls_bio_read);
        BIO_meth_set_write(tls_bio_method, tls_bio_write);
        BIO_meth_set_ctrl(tls_bio_method, tls_bio_ctrl);
        BIO_meth_set_create(tls_bio_method, tls_bio_create);
    }
}

/* The most telling OpenSSL error on the queue, as a short phrase: a peer
   that does not speak TLS is quoted (its first bytes, escaped), an alert is
   said to be one. */
static void tls_error_text(struct cs_conn *conn, char *buf, size_t len, const char *fallback)
{
    unsigned long e, first = 0;
    while ((e = ERR_get_error()) != 0)
        first = first ? first : e;
    int reason = first ? ERR_GET_REASON(first) : 0;
    const char *why = first ? ERR_reason_error_string(first) : NULL;
    if (conn->first_len &&
        (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
         reason == SSL_R_UNKNOWN_PROTOCOL || reason == SSL_R_RECORD_LENGTH_MISMATCH)) {
        char quoted[sizeof(conn->first) * 4 + 1];
        size_t o = 0;
        for (size_t i = 0;
             i < conn->first_len && (conn->first[i] != '\r' && conn->first[i] != '\n'); i++) {
            unsigned char c = (unsigned char)conn->first[i];
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
                o += (size_t)snprintf(quoted + o, sizeof(quoted) - o, "\\x%02X", c);
            else
                quoted[o++] = (char)c;
        }
        quoted[o] = '\0';
        snprintf(buf, len, "handshake: not TLS (peer sent \"%s\")", quoted);
        return;
    }
    static const char *const alert_prefixes[] = {"sslv3 alert ", "tlsv1 alert ", "tlsv13 alert "};
    for (size_t i = 0; why && i < sizeof(alert_prefixes) / sizeof(alert_prefixes[0]); i++) {
        size_t n = strlen(alert_prefixes[i]);
        if (strncmp(why, alert_prefixes[i], n) == 0) {
            snprintf(buf, len, "handshake: server sent alert: %s", why + n);
            return;
        }
    }
    snprintf(buf, len, "handshake: %s", why ? why : fallback);
}

static size_t get24(const unsigned char *p)
{
    return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

/* How the cipher suite of a TLS 1.2-and-older ServerHello body exchanges
   keys, as OpenSSL knows it. */
static enum cs_kx hello_kx(SSL *ssl, const unsigned char *p, size_t len)
{
    size_t off = 2 + 32; /* legacy_version, random */
    if (off + 1 > len || off + 1 + p[off] + 2 > len)
        return CS_KX_UNKNOWN;
    off += 1 + p[off];
    const SSL_CIPHER *c = SSL_CIPHER_find(ssl, p + off);
    switch (c ? SSL_CIPHER_get_kx_nid(c) : NID_undef) {
    case NID_kx_ecdhe:
        return CS_KX_ECDHE;
    case NID_kx_dhe:
        return CS_KX_DHE;
    case NID_kx_rsa:
        return CS_KX_RSA;
    case NID_kx_any: /* TLS 1.3: the reader knows */
        return CS_KX_UNKNOWN;
    default:
        return CS_KX_OTHER;
    }
}

/* Sees every handshake message OpenSSL sends or reads.  The ClientHellos go
   to the reader (its transcript).  At the ServerHello OpenSSL's part is done,
   but for RSA key transport: it still derives the handshake keys from this
   message (and hands the secret over, below), and then reads nothing more
   (tls_bio_read), so it never parses a certificate (parsing and public-key
   decoding cost more than the rest of the handshake).  A HelloRetryRequest
   is no ServerHello for this: OpenSSL must answer it. */
static void tls_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
    (void)arg;
    (void)version;
    const unsigned char *p = buf;
    if (content_type != SSL3_RT_HANDSHAKE || len < 4 || get24(p + 1) != len - 4)
        return;
    struct cs_conn *conn = SSL_get_app_data(ssl);
    if (!conn)
        return;
    if (write_p) {
        if (p[0] == SSL3_MT_CLIENT_HELLO && cs_flight_client_hello(&conn->flight, p, len) < 0)
            snprintf(conn->flight.error, sizeof(conn->flight.error),
                     "handshake: cannot keep the ClientHello");
        return;
    }
    if (p[0] != SSL3_MT_SERVER_HELLO || cs_flight_hello_retry(p + 4, len - 4))
        return;
    enum cs_kx kx = hello_kx(ssl, p + 4, len - 4);
    cs_flight_kx(&conn->flight, kx);
    /* only RSA key transport needs OpenSSL past the ServerHello */
    conn->stopped = kx != CS_KX_RSA || conn->cert_only;
}

/* The server's handshake traffic secret, for the reader to decrypt the rest
   of a TLS 1.3 flight. */
static void tls_keylog_cb(const SSL *ssl, const char *line)
{
    static const char label[] = "SERVER_HANDSHAKE_TRAFFIC_SECRET ";
    struct cs_conn *conn = SSL_get_app_data(ssl);
    if (!conn || strncmp(line, label, sizeof(label) - 1) != 0)
        return;
    const char *hex = strchr(line + sizeof(label) - 1, ' '); /* after the client random */
    unsigned char secret[EVP_MAX_MD_SIZE];
    size_t n = 0;
    for (hex = hex ? hex + 1 : ""; hex[0] && hex[1] && n < sizeof(secret); hex += 2) {
        int hi = OPENSSL_hexchar2int((unsigned char)hex[0]);
        int lo = OPENSSL_hexchar2int((unsigned char)hex[1]);
        if (hi < 0 || lo < 0)
            break;
        secret[n++] = (unsigned char)(hi << 4 | lo);
    }
    cs_flight_secret(&conn->flight, secret, n);
    OPENSSL_cleanse(secret, sizeof(secret));
}

/* Reached only for RSA key transport (OpenSSL reads no further than the
   ServerHello otherwise): the chain is accepted here, the engine verifies it. */
static int tls_accept_chain(X509_STORE_CTX *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return 1;
}

/* Prepares an SSL_CTX for the driver: a stapled OCSP response is asked for,
   OpenSSL runs the client side up to the ServerHello (through the server's
   Finished for RSA key transport), and the server's flight is read beside
   it (flight.h); verification is the engine's business. */
static void tls_ctx_setup(SSL_CTX *ctx);

SSL_CTX *cs_tls_ctx_new(X509_STORE *store, size_t max_chain)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    /* A scanner must see whatever a server offers, however weak or old. */
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_LEGACY_SERVER_CONNECT |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_max_cert_list(ctx, (long)max_chain);
    SSL_CTX_set1_cert_store(ctx, store);
    tls_ctx_setup(ctx);
    return ctx;
}

static void tls_ctx_setup(SSL_CTX *ctx)
{
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, tls_accept_chain, NULL);
    SSL_CTX_set_msg_callback(ctx, tls_msg_cb);
    SSL_CTX_set_keylog_callback(ctx, tls_keylog_cb);
    SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
    /* the TLS 1.3 suites the reader decrypts (OpenSSL's default three), the
       SHA-256 ones first: hashing the key schedule and the transcript is the
       handshake's, not the certificate's business, so the cheapest wins */
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                                  "TLS_AES_256_GCM_SHA384");
}

/* OpenSSL's part is over: its handshake state (a 16 KiB message buffer, a
   buffering BIO, the SSL itself: some 40 KiB) goes now, not when the
   connection closes, so a probe waiting for the rest of the server's flight
   holds only the reader's state.  The protocol it chose is all that is still
   asked of it. */
static void tls_release_ssl(struct cs_conn *conn)
{
    if (!conn->ssl)
        return;
    if (!conn->tls_version[0])
        snprintf(conn->tls_version, sizeof(conn->tls_version), "%s", SSL_get_version(conn->ssl));
    SSL_free(conn->ssl); /* frees the BIO */
    conn->ssl = NULL;
}

/* Ends the handshake: what the reader took moves to the conn. */
static void tls_finish(struct cs_conn *conn, const char *error)
{
    struct cs_flight *f = &conn->flight;
    conn->chain = f->chain;
    conn->staple = f->staple;
    conn->staple_len = f->staple_len;
    conn->proof = f->proof;
    f->staple = NULL;
    f->staple_len = 0;
    memset(&f->chain, 0, sizeof(f->chain));
    memset(&f->proof, 0, sizeof(f->proof));
    conn->await_status = false;
    tls_release_ssl(conn);
    cs_conn_end(conn, error);
}

/* Lets OpenSSL take the bytes in conn->in, until it has done its part. */
static void tls_step(struct cs_conn *conn)
{
    if (conn->ssl_over)
        return;
    ERR_clear_error();
    int r = SSL_do_handshake(conn->ssl);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(conn->ssl, r);
    if (r == 1) {
        conn->ssl_over = conn->handshake_complete = true;
    } else if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        conn->ssl_over = conn->stopped; /* past the ServerHello: OpenSSL's part is done */
    } else {
        conn->ssl_over = true;
        if (e == SSL_ERROR_ZERO_RETURN)
            snprintf(conn->ssl_error, sizeof(conn->ssl_error),
                     "handshake: connection closed by peer");
        else
            tls_error_text(conn, conn->ssl_error, sizeof(conn->ssl_error), "protocol error");
        ERR_clear_error();
    }
    if (conn->ssl_over)
        tls_release_ssl(conn);
}

/* Whether what OpenSSL and the reader have is enough to end the handshake,
   and how it ends. */
static void tls_settle(struct cs_conn *conn)
{
    struct cs_flight *f = &conn->flight;
    char why[sizeof(conn->ssl_error) + 40];
    if (conn->ssl_error[0] && !f->chain.n) {
        tls_finish(conn, conn->ssl_error);
    } else if (f->error[0]) {
        tls_finish(conn, f->error);
    } else if (conn->ssl_error[0]) { /* RSA key transport failed after the chain */
        snprintf(why, sizeof(why), "%s (after the server's certificate)", conn->ssl_error);
        tls_finish(conn, why);
    } else if (conn->handshake_complete) {
        tls_finish(conn, f->chain.n ? NULL : "handshake: server sent no certificate");
    } else if (conn->cert_only) {
        if (f->chain_settled)
            tls_finish(conn, NULL);
        else if (f->chain.n)
            conn->await_status = true; /* TLS 1.2: the staple may still come */
    } else if (f->done && f->proof.kind != CS_PROOF_FINISHED) {
        /* a signature to check, or nothing that proves the key (the engine says so) */
        tls_finish(conn, NULL);
    }
}

int cs__tls_start(struct cs_conn *conn)
{
    uv_once(&tls_bio_once, tls_bio_init_method);
    conn->ssl = SSL_new(conn->ssl_ctx);
    BIO *bio = tls_bio_method ? BIO_new(tls_bio_method) : NULL;
    if (!conn->ssl || !bio) {
        BIO_free(bio);
        SSL_free(conn->ssl);
        conn->ssl = NULL;
        return UV_ENOMEM;
    }
    conn->tls = true;
    cs_flight_init(&conn->flight, (size_t)SSL_CTX_get_max_cert_list(conn->ssl_ctx));
    conn->flight.chain_only = conn->cert_only;
    BIO_set_data(bio, conn);
    SSL_set_app_data(conn->ssl, conn);
    SSL_set_bio(conn->ssl, bio, bio); /* one reference, for both directions */
    SSL_set_connect_state(conn->ssl);
    if (conn->sni && SSL_set_tlsext_host_name(conn->ssl, conn->sni) != 1) {
        ERR_clear_error(); /* an SNI OpenSSL refuses is simply not sent */
    }
    tls_step(conn);
    tls_settle(conn);
    return 0;
}

void cs__tls_feed(struct cs_conn *conn, const char *buf, size_t len)
{
    if (conn->first_len < sizeof(conn->first)) { /* to quote a peer that is not TLS */
        size_t n = sizeof(conn->first) - conn->first_len;
        n = n < len ? n : len;
        memcpy(conn->first + conn->first_len, buf, n);
        conn->first_len += n;
    }
    conn->in = buf;
    conn->in_len = len;
    tls_step(conn);  /* first: the reader needs the keys OpenSSL derives */
    conn->in = NULL; /* what OpenSSL did not take belongs to no record */
    conn->in_len = 0;
    cs_flight_feed(&conn->flight, (const unsigned char *)buf, len);
    tls_settle(conn);
}

void cs__tls_eof(struct cs_conn *conn, int err)
{
    char why[256];
    if (conn->flight.chain.n) {
        tls_finish(conn, conn->cert_only ? NULL
                                         : "handshake: server closed before proving possession "
                                           "of its key");
        return;
    }
    if (err == 0 || err == UV_EOF) {
        tls_finish(conn, "handshake: connection closed by peer");
        return;
    }
    if (err == UV_ECONNRESET) {
        tls_finish(conn, "handshake: connection reset by peer");
        return;
    }
    snprintf(why, sizeof(why), "handshake: %s", uv_strerror(err));
    tls_finish(conn, why);
}

void cs__tls_timeout(struct cs_conn *conn)
{
    if (!conn->flight.chain.n)
        tls_finish(conn, "timeout during handshake");
    else if (conn->cert_only) /* TLS 1.2: no CertificateStatus came; the chain is in hand */
        tls_finish(conn, NULL);
    else
        tls_finish(conn, "handshake: timeout waiting for the server to prove possession of its "
                         "key");
}

void cs__tls_free(struct cs_conn *conn)
{
    SSL_free(conn->ssl); /* frees the BIO */
    conn->ssl = NULL;
    cs_flight_free(&conn->flight);
    cs_raw_chain_free(&conn->chain);
    OPENSSL_free(conn->staple);
    conn->staple = NULL;
    conn->staple_len = 0;
    cs_key_proof_free(&conn->proof);
}
