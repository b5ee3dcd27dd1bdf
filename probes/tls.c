/* The shared TLS driver: an OpenSSL client whose BIO reads straight from the
 * engine's libuv read buffer and writes straight to its stream, so no socket
 * is ever handed to OpenSSL and no byte is copied into a BIO of its own.  No verification happens
 * during the handshake: the certificate verify callback takes the presented chain and ends the
 * handshake there, which saves the CertificateVerify signature check, the Finished messages and a
 * round trip.  The engine verifies and analyses the chain itself. */
#include <stdbool.h>
#include <string.h>

#include <openssl/err.h>
#include <uv.h>

#include "probe.h"

/* The BIO between OpenSSL and the engine: reads take what cs__tls_feed was
   given, writes go to conn->write at once. */
static BIO_METHOD *tls_bio_method;
static uv_once_t tls_bio_once = UV_ONCE_INIT;

static int tls_bio_read(BIO *b, char *out, int outl)
{
    struct cs_conn *conn = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (conn->in_len == 0) {
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

int cs_raw_chain_at(const struct cs_raw_chain *c, size_t i, const unsigned char **der, size_t *len)
{
    size_t off = 0;
    for (size_t k = 0; off + 3 <= c->len; k++) {
        size_t n = (size_t)c->buf[off] << 16 | (size_t)c->buf[off + 1] << 8 | c->buf[off + 2];
        if (n > c->len - off - 3)
            return -1;
        if (k == i) {
            *der = c->buf + off + 3;
            *len = n;
            return 0;
        }
        off += 3 + n;
    }
    return -1;
}

void cs_raw_chain_free(struct cs_raw_chain *c)
{
    OPENSSL_free(c->buf);
    memset(c, 0, sizeof(*c));
}

static size_t get24(const unsigned char *p)
{
    return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

/* Keeps a copy of the first stapled OCSP response the server sent. */
static void tls_keep_staple(struct cs_conn *conn, const unsigned char *der, size_t len)
{
    if (conn->staple || !der || len == 0)
        return;
    conn->staple = OPENSSL_memdup(der, len);
    conn->staple_len = conn->staple ? len : 0;
}

/* The OCSP response of a TLS 1.3 leaf's status_request extension (RFC 8446
   4.4.2.1: a CertificateStatus), copied into conn->staple. */
static void tls_take_staple(struct cs_conn *conn, const unsigned char *ext, size_t len)
{
    size_t off = 0;
    while (off + 4 <= len) {
        size_t type = (size_t)ext[off] << 8 | ext[off + 1];
        size_t n = (size_t)ext[off + 2] << 8 | ext[off + 3];
        off += 4;
        if (n > len - off)
            return;
        if (type == TLSEXT_TYPE_status_request && n > 4 && ext[off] == TLSEXT_STATUSTYPE_ocsp &&
            get24(ext + off + 1) == n - 4)
            tls_keep_staple(conn, ext + off + 4, n - 4);
        off += n;
    }
}

/* Whether a ServerHello body carries status_request: a TLS 1.2 server that
   will send a CertificateStatus after its Certificate. */
static bool tls_hello_staples(const unsigned char *p, size_t len)
{
    size_t off = 2 + 32; /* legacy_version, random */
    if (off + 1 > len)
        return false;
    off += 1 + p[off]; /* session id */
    off += 2 + 1;      /* cipher suite, compression */
    if (off + 2 > len)
        return false;
    size_t end = off + 2 + ((size_t)p[off] << 8 | p[off + 1]);
    if (end > len)
        return false;
    for (off += 2; off + 4 <= end;) {
        size_t type = (size_t)p[off] << 8 | p[off + 1];
        size_t n = (size_t)p[off + 2] << 8 | p[off + 3];
        if (type == TLSEXT_TYPE_status_request)
            return true;
        off += 4 + n;
    }
    return false;
}

/* Copies the certificates of a Certificate message body into conn->chain.
   TLS 1.3 entries carry extensions after each certificate (the leaf's may
   hold the staple); TLS 1.2 ones do not.  Returns the offset of the 3-byte
   list length, or -1 if the body is malformed (then OpenSSL's own parser
   reports it). */
static long tls_take_certificates(struct cs_conn *conn, const unsigned char *p, size_t len,
                                  bool tls13)
{
    size_t off = 0;
    if (tls13) {
        if (len < 1 || (size_t)p[0] + 1 > len)
            return -1;
        off = 1 + p[0]; /* certificate_request_context */
    }
    if (off + 3 > len || get24(p + off) != len - off - 3)
        return -1;
    long list_at = (long)off;
    off += 3;
    unsigned char *out = OPENSSL_malloc(len); /* the copy is never larger */
    size_t out_len = 0, n = 0;
    if (!out)
        return -1;
    while (off < len) {
        if (off + 3 > len || get24(p + off) == 0 || get24(p + off) > len - off - 3)
            goto bad;
        size_t cert_len = get24(p + off);
        memcpy(out + out_len, p + off, 3 + cert_len);
        out_len += 3 + cert_len;
        off += 3 + cert_len;
        n++;
        if (tls13) {
            if (off + 2 > len)
                goto bad;
            size_t ext = (size_t)p[off] << 8 | p[off + 1];
            if (ext > len - off - 2)
                goto bad;
            if (n == 1)
                tls_take_staple(conn, p + off + 2, ext);
            off += 2 + ext;
        }
    }
    if (n == 0)
        goto bad;
    conn->chain.buf = out;
    conn->chain.len = out_len;
    conn->chain.n = n;
    return list_at;
bad:
    OPENSSL_free(out);
    return -1;
}

/* Sees every handshake message before OpenSSL processes it (TLS 1.3 ones
   decrypted).  The server's Certificate message is all a scan needs: its
   certificates are copied, and the message is then emptied so that OpenSSL
   stops with a decode error instead of parsing each certificate and
   decoding its public key (the costliest part of a handshake in OpenSSL
   3.0).  If a later OpenSSL no longer lets the message be seen here, the
   verify callback below still takes the chain. */
static void tls_msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
    (void)arg;
    const unsigned char *p = buf;
    if (write_p || content_type != SSL3_RT_HANDSHAKE || len < 4 || get24(p + 1) != len - 4)
        return;
    struct cs_conn *conn = SSL_get_app_data(ssl);
    if (!conn)
        return;
    if (p[0] == SSL3_MT_SERVER_HELLO) {
        conn->server_staples = tls_hello_staples(p + 4, len - 4);
        return;
    }
    if (p[0] != SSL3_MT_CERTIFICATE || conn->chain.n)
        return;
    bool tls13 = version == TLS1_3_VERSION;
    long list_at = tls_take_certificates(conn, p + 4, len - 4, tls13);
    if (list_at < 0)
        return;
    snprintf(conn->tls_version, sizeof(conn->tls_version), "%s", SSL_get_version(ssl));
    if (!tls13 && conn->server_staples) {
        /* TLS 1.2: the staple comes in the next message; let OpenSSL go on
           until the status callback below */
        conn->await_status = true;
        return;
    }
    /* the message buffer is the SSL's own, writable one */
    unsigned char *list_len = (unsigned char *)p + 4 + list_at;
    list_len[0] = list_len[1] = list_len[2] = 0;
}

/* TLS 1.2, once the server's first flight is in (ServerHelloDone): takes the
   CertificateStatus, if one came, and ends the handshake there. */
static int tls_status_cb(SSL *ssl, void *arg)
{
    (void)arg;
    struct cs_conn *conn = SSL_get_app_data(ssl);
    if (!conn || !conn->await_status)
        return 1;
    const unsigned char *resp = NULL;
    long len = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
    tls_keep_staple(conn, resp, len > 0 ? (size_t)len : 0);
    conn->await_status = false;
    return 0; /* enough: end the handshake here */
}

/* Called by OpenSSL once it has parsed the server's Certificate message: the
   fallback way to take the chain; either way the handshake ends here. */
static int tls_chain_in_hand(X509_STORE_CTX *ctx, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct cs_conn *conn = ssl ? SSL_get_app_data(ssl) : NULL;
    STACK_OF(X509) *presented = X509_STORE_CTX_get0_untrusted(ctx);
    if (conn && !conn->chain.n && sk_X509_num(presented) > 0) {
        size_t total = 0;
        for (int i = 0; i < sk_X509_num(presented); i++) {
            int n = i2d_X509(sk_X509_value(presented, i), NULL);
            total += n > 0 ? 3 + (size_t)n : 0;
        }
        unsigned char *out = OPENSSL_malloc(total ? total : 1), *q = out;
        for (int i = 0; out && i < sk_X509_num(presented); i++) {
            int n = i2d_X509(sk_X509_value(presented, i), NULL);
            if (n <= 0)
                continue;
            q[0] = (unsigned char)(n >> 16);
            q[1] = (unsigned char)(n >> 8);
            q[2] = (unsigned char)n;
            q += 3;
            i2d_X509(sk_X509_value(presented, i), &q);
            conn->chain.n++;
        }
        conn->chain.buf = out;
        conn->chain.len = out ? (size_t)(q - out) : 0;
        snprintf(conn->tls_version, sizeof(conn->tls_version), "%s", SSL_get_version(ssl));
        if (SSL_version(ssl) == TLS1_3_VERSION) {
            const unsigned char *resp = NULL;
            long len = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
            tls_keep_staple(conn, resp, len > 0 ? (size_t)len : 0);
        } else if (conn->server_staples) {
            conn->await_status = true;
        }
    }
    if (conn && conn->await_status)
        return 1; /* TLS 1.2: go on to the CertificateStatus */
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0; /* enough: end the handshake here */
}

void cs__tls_ctx_setup(SSL_CTX *ctx)
{
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, tls_chain_in_hand, NULL);
    SSL_CTX_set_msg_callback(ctx, tls_msg_cb);
    SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
    SSL_CTX_set_tlsext_status_cb(ctx, tls_status_cb);
}

static void tls_step(struct cs_conn *conn)
{
    char why[256];
    ERR_clear_error();
    int r = SSL_do_handshake(conn->ssl);
    if (conn->chain.n) {
        int e = SSL_get_error(conn->ssl, r);
        if (conn->await_status && r != 1 && (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE))
            return; /* the CertificateStatus may still come */
        /* whatever went wrong after the chain arrived, the chain is what
           counts */
        conn->await_status = false;
        ERR_clear_error();
        conn->done(conn, NULL);
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
        tls_error_text(conn, why, sizeof(why), "protocol error");
        conn->done(conn, why);
        return;
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
    BIO_set_data(bio, conn);
    SSL_set_app_data(conn->ssl, conn);
    SSL_set_bio(conn->ssl, bio, bio); /* one reference, for both directions */
    SSL_set_connect_state(conn->ssl);
    if (conn->sni && SSL_set_tlsext_host_name(conn->ssl, conn->sni) != 1) {
        ERR_clear_error(); /* an SNI OpenSSL refuses is simply not sent */
    }
    tls_step(conn);
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
    tls_step(conn);
    conn->in = NULL; /* what OpenSSL did not take belongs to no record */
    conn->in_len = 0;
}

void cs__tls_eof(struct cs_conn *conn, int err)
{
    char why[256];
    if (conn->chain.n) { /* closed while a staple might still have come */
        conn->await_status = false;
        conn->done(conn, NULL);
        return;
    }
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
    SSL_free(conn->ssl); /* frees the BIO */
    cs_raw_chain_free(&conn->chain);
    OPENSSL_free(conn->staple);
    conn->staple = NULL;
    conn->staple_len = 0;
    conn->ssl = NULL;
}
