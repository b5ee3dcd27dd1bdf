/* The TLS driver and the flight reader without a socket: a real OpenSSL
 * server (memory BIOs) and certsweep's client side pass bytes to each other
 * in-process, whole or one byte at a time, over TLS 1.3 (each cipher suite,
 * a HelloRetryRequest) and TLS 1.2; then the proof the reader took is
 * checked with the right key, a wrong key, and tampered or forbidden
 * signatures. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probes/probe.h"
#include "tests/support/pki.h"

static struct pki_cert ca, leaf_ec, leaf_rsa, other_ec, other_rsa;

static void setup(void)
{
    static const char *const ca_name[] = {"CN", "certsweep Flight Test CA", NULL};
    static const char *const leaf_name[] = {"CN", "flight.test", NULL};
    static const char *const sans[] = {"DNS:flight.test", NULL};
    int64_t now = (int64_t)time(NULL);
    struct pki_spec c = {.subject = ca_name,
                         .not_before = now - 86400,
                         .not_after = now + 86400,
                         .key = PKI_EC256,
                         .ca = true};
    struct pki_spec l = {.subject = leaf_name,
                         .not_before = now - 86400,
                         .not_after = now + 86400,
                         .key = PKI_EC256,
                         .sans = sans};
    cr_assert_eq(pki_issue(&ca, &c, NULL), 0);
    cr_assert_eq(pki_issue(&leaf_ec, &l, &ca), 0);
    cr_assert_eq(pki_issue(&other_ec, &l, &ca), 0);
    l.key = PKI_RSA2048;
    cr_assert_eq(pki_issue(&leaf_rsa, &l, &ca), 0);
    cr_assert_eq(pki_issue(&other_rsa, &l, &ca), 0);
}

static void teardown(void)
{
    pki_cert_free(&ca);
    pki_cert_free(&leaf_ec);
    pki_cert_free(&leaf_rsa);
    pki_cert_free(&other_ec);
    pki_cert_free(&other_rsa);
}

TestSuite(flight, .init = setup, .fini = teardown, .timeout = 60);

/* One handshake: the server's SSL, what the client sent it, and how the
   client's side ended. */
struct pair {
    SSL *server;
    struct cs_conn conn;
    bool done;
    char error[256];
    size_t chunk;        /* bytes per feed; 0: all at once */
    bool ssl_gone_early; /* the client's SSL was freed before the handshake ended */
};

static int to_server(struct cs_conn *conn, const void *buf, size_t len)
{
    struct pair *p = conn->owner;
    return BIO_write(SSL_get_rbio(p->server), buf, (int)len) == (int)len ? 0 : -1;
}

static void client_done(struct cs_conn *conn, const char *error)
{
    struct pair *p = conn->owner;
    cr_assert(!p->done, "done called twice");
    p->done = true;
    snprintf(p->error, sizeof p->error, "%s", error ? error : "");
}

/* Runs the handshake to the client's end; the server's output is fed to the
   client p->chunk bytes at a time. */
static void handshake(struct pair *p, SSL_CTX *sctx, bool cert_only)
{
    X509_STORE *store = X509_STORE_new();           /* the engine verifies; the driver needs none */
    SSL_CTX *cctx = cs_tls_ctx_new(store, 1 << 20); /* the context a worker uses */
    cr_assert_not_null(cctx);
    p->server = SSL_new(sctx);
    SSL_set_bio(p->server, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_accept_state(p->server);
    p->conn = (struct cs_conn){.ssl_ctx = cctx,
                               .sni = "flight.test",
                               .cert_only = cert_only,
                               .write = to_server,
                               .done = client_done,
                               .owner = p};
    cr_assert_eq(cs__tls_start(&p->conn), 0);
    for (int round = 0; round < 20 && !p->done; round++) {
        SSL_do_handshake(p->server);
        ERR_clear_error();
        BIO *out = SSL_get_wbio(p->server);
        char *data;
        long n = BIO_get_mem_data(out, &data);
        size_t step = p->chunk ? p->chunk : (size_t)n;
        for (long off = 0; off < n && !p->done; off += (long)step) {
            cs__tls_feed(&p->conn, data + off, (size_t)(n - off) < step ? (size_t)(n - off) : step);
            p->ssl_gone_early |= !p->conn.ssl && !p->done;
        }
        (void)BIO_reset(out);
    }
    cr_assert(p->done, "the client never ended the handshake");
    cr_assert_null(p->conn.ssl, "OpenSSL's state outlived the handshake");
    SSL_CTX_free(cctx);
    X509_STORE_free(store);
}

static void pair_free(struct pair *p)
{
    cs__tls_free(&p->conn);
    SSL_free(p->server);
}

static SSL_CTX *server_ctx(const struct pki_cert *leaf, int max_version, const char *suites,
                           const char *groups)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    cr_assert_not_null(ctx);
    SSL_CTX_set_security_level(ctx, 0);
    cr_assert_eq(SSL_CTX_use_certificate(ctx, leaf->x509), 1);
    cr_assert_eq(SSL_CTX_use_PrivateKey(ctx, leaf->key), 1);
    cr_assert_eq(SSL_CTX_add1_chain_cert(ctx, ca.x509), 1);
    if (max_version)
        SSL_CTX_set_max_proto_version(ctx, max_version);
    if (suites)
        cr_assert_eq(SSL_CTX_set_ciphersuites(ctx, suites), 1);
    if (groups)
        cr_assert_eq(SSL_CTX_set1_groups_list(ctx, groups), 1);
    return ctx;
}

/* The handshake ended well, with the chain leaf + CA and a signature that
   verifies with the leaf's key and not with another. */
static void expect_proof(struct pair *p, const struct pki_cert *leaf, bool tls13)
{
    char why[160];
    cr_assert_str_eq(p->error, "");
    cr_assert_eq(p->conn.chain.n, 2);
    const unsigned char *der;
    size_t len;
    cr_assert_eq(cs_raw_chain_at(&p->conn.chain, 0, &der, &len), 0);
    unsigned char *want = NULL;
    int wlen = i2d_X509(leaf->x509, &want);
    cr_assert(wlen > 0 && (size_t)wlen == len && memcmp(der, want, len) == 0,
              "the leaf is not the server's, byte for byte");
    OPENSSL_free(want);
    cr_assert_eq(p->conn.proof.kind, CS_PROOF_SIGNATURE);
    cr_assert_eq(p->conn.proof.tls13, tls13);
    cr_assert_eq(cs_key_proof_check(&p->conn.proof, X509_get0_pubkey(leaf->x509), why, sizeof why),
                 1, "%s", why);
    const struct pki_cert *other = leaf == &leaf_rsa ? &other_rsa : &other_ec;
    cr_assert_eq(cs_key_proof_check(&p->conn.proof, X509_get0_pubkey(other->x509), why, sizeof why),
                 0);
    cr_assert_str_eq(why, "handshake: server signature does not verify with the certificate's key");
}

Test(flight, tls13_each_suite_whole_and_byte_by_byte)
{
    static const char *const suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                         "TLS_CHACHA20_POLY1305_SHA256"};
    for (size_t i = 0; i < 3; i++) {
        for (size_t chunk = 0; chunk <= 1; chunk++) {
            SSL_CTX *sctx = server_ctx(&leaf_ec, 0, suites[i], NULL);
            struct pair p = {.chunk = chunk};
            handshake(&p, sctx, false);
            cr_assert_str_eq(p.conn.tls_version, "TLSv1.3", "%s", suites[i]);
            /* OpenSSL's part ends at the ServerHello: its state (some 40 KiB)
               is freed then, while the reader still waits for the flight */
            cr_assert(!chunk || p.ssl_gone_early, "the SSL lived until the end");
            expect_proof(&p, &leaf_ec, true);
            pair_free(&p);
            SSL_CTX_free(sctx);
        }
    }
}

Test(flight, tls13_after_hello_retry_request)
{
    /* the client's first key share is X25519; a server that takes only P-384
       asks again, and the transcript starts with the first hello's hash */
    SSL_CTX *sctx = server_ctx(&leaf_rsa, 0, NULL, "P-384");
    struct pair p = {0};
    handshake(&p, sctx, false);
    cr_assert(p.conn.flight.hrr, "no HelloRetryRequest came");
    expect_proof(&p, &leaf_rsa, true);
    cr_assert(p.conn.proof.scheme >= 0x0804 && p.conn.proof.scheme <= 0x0806,
              "RSA in TLS 1.3 signs with RSA-PSS, not 0x%04X", p.conn.proof.scheme);
    pair_free(&p);
    SSL_CTX_free(sctx);
}

Test(flight, tls12_server_key_exchange_byte_by_byte)
{
    const struct pki_cert *leafs[] = {&leaf_ec, &leaf_rsa};
    for (size_t i = 0; i < 2; i++) {
        SSL_CTX *sctx = server_ctx(leafs[i], TLS1_2_VERSION, NULL, NULL);
        struct pair p = {.chunk = 1};
        handshake(&p, sctx, false);
        cr_assert_str_eq(p.conn.tls_version, "TLSv1.2");
        cr_assert(p.ssl_gone_early, "the SSL lived until the end");
        expect_proof(&p, leafs[i], false);
        pair_free(&p);
        SSL_CTX_free(sctx);
    }
}

Test(flight, tls12_rsa_key_transport_runs_to_the_finished)
{
    /* only here does OpenSSL run past the ServerHello: its state lives until
       the server's Finished, then goes */
    SSL_CTX *sctx = server_ctx(&leaf_rsa, TLS1_2_VERSION, NULL, NULL);
    cr_assert_eq(SSL_CTX_set_cipher_list(sctx, "AES128-GCM-SHA256"), 1);
    struct pair p = {0};
    handshake(&p, sctx, false);
    cr_assert_str_eq(p.error, "");
    cr_assert_str_eq(p.conn.tls_version, "TLSv1.2");
    cr_assert(p.conn.handshake_complete, "the server's Finished was not read");
    cr_assert_eq(p.conn.proof.kind, CS_PROOF_FINISHED);
    cr_assert_eq(p.conn.chain.n, 2);
    pair_free(&p);
    SSL_CTX_free(sctx);
}

Test(flight, cert_only_takes_the_chain_and_no_proof)
{
    SSL_CTX *sctx = server_ctx(&leaf_ec, 0, NULL, NULL);
    struct pair p = {0};
    handshake(&p, sctx, true);
    cr_assert_str_eq(p.error, "");
    cr_assert_eq(p.conn.chain.n, 2);
    cr_assert_eq(p.conn.proof.kind, CS_PROOF_NONE);
    char why[160];
    cr_assert_eq(cs_key_proof_check(&p.conn.proof, X509_get0_pubkey(leaf_ec.x509), why, sizeof why),
                 0);
    cr_assert_str_eq(why, "handshake: server did not prove possession of the certificate's key");
    pair_free(&p);
    SSL_CTX_free(sctx);
}

Test(flight, tampered_signature_or_signed_bytes)
{
    SSL_CTX *sctx = server_ctx(&leaf_ec, 0, NULL, NULL);
    struct pair p = {0};
    handshake(&p, sctx, false);
    expect_proof(&p, &leaf_ec, true);
    char why[160];
    EVP_PKEY *key = X509_get0_pubkey(leaf_ec.x509);
    p.conn.proof.tbs[p.conn.proof.tbs_len - 1] ^= 1; /* another transcript */
    cr_assert_eq(cs_key_proof_check(&p.conn.proof, key, why, sizeof why), 0);
    p.conn.proof.tbs[p.conn.proof.tbs_len - 1] ^= 1;
    cr_assert_eq(cs_key_proof_check(&p.conn.proof, key, why, sizeof why), 1, "%s", why);
    p.conn.proof.sig[p.conn.proof.sig_len / 2] ^= 0x40;
    cr_assert_eq(cs_key_proof_check(&p.conn.proof, key, why, sizeof why), 0);
    pair_free(&p);
    SSL_CTX_free(sctx);
}

/* A signature made here with key over tbs, as scheme would sign it. */
static struct cs_key_proof make_proof(EVP_PKEY *key, uint16_t scheme, const EVP_MD *md, bool pss,
                                      bool tls13)
{
    static unsigned char tbs[] = "64 spaces, a context string and a transcript hash, say";
    struct cs_key_proof pr = {.kind = CS_PROOF_SIGNATURE, .tls13 = tls13, .scheme = scheme};
    cr_assert_eq(pki_sign(key, md, pss, tbs, sizeof tbs, &pr.sig, &pr.sig_len), 0);
    pr.tbs = OPENSSL_memdup(tbs, sizeof tbs);
    pr.tbs_len = sizeof tbs;
    return pr;
}

Test(flight, schemes_checked_against_the_key_and_the_version)
{
    char why[160];
    EVP_PKEY *rsa = leaf_rsa.key, *ec = leaf_ec.key;
    /* valid PKCS#1 RSA signatures: allowed in TLS 1.2, not in TLS 1.3 */
    struct cs_key_proof pr = make_proof(rsa, 0x0401, EVP_sha256(), false, false);
    cr_assert_eq(cs_key_proof_check(&pr, X509_get0_pubkey(leaf_rsa.x509), why, sizeof why), 1, "%s",
                 why);
    pr.tls13 = true;
    cr_assert_eq(cs_key_proof_check(&pr, X509_get0_pubkey(leaf_rsa.x509), why, sizeof why), 0);
    cr_assert_str_eq(why, "handshake: server signed with scheme 0x0401, which TLS 1.3 forbids");
    cs_key_proof_free(&pr);
    /* RSA-PSS with SHA-384 in TLS 1.3 */
    pr = make_proof(rsa, 0x0805, EVP_sha384(), true, true);
    cr_assert_eq(cs_key_proof_check(&pr, X509_get0_pubkey(leaf_rsa.x509), why, sizeof why), 1, "%s",
                 why);
    cs_key_proof_free(&pr);
    /* an ECDSA scheme for an RSA certificate */
    pr = make_proof(ec, 0x0403, EVP_sha256(), false, true);
    cr_assert_eq(cs_key_proof_check(&pr, X509_get0_pubkey(leaf_ec.x509), why, sizeof why), 1, "%s",
                 why);
    cr_assert_eq(cs_key_proof_check(&pr, X509_get0_pubkey(leaf_rsa.x509), why, sizeof why), 0);
    cr_assert_str_eq(why, "handshake: server signed with scheme 0x0403, which does not fit the "
                          "certificate's key");
    /* in TLS 1.3 the ECDSA scheme names the curve: P-256 is not secp384r1_sha384 */
    pr.scheme = 0x0503;
    cr_assert_eq(cs_key_proof_check(&pr, X509_get0_pubkey(leaf_ec.x509), why, sizeof why), 0);
    cr_assert_str_eq(why, "handshake: server signed with scheme 0x0503, which TLS 1.3 forbids");
    pr.scheme = 0x0999;
    cr_assert_eq(cs_key_proof_check(&pr, X509_get0_pubkey(leaf_ec.x509), why, sizeof why), 0);
    cr_assert_str_eq(why, "handshake: server signed with unknown scheme 0x0999");
    cs_key_proof_free(&pr);
}

Test(flight, garbage_and_caps)
{
    struct cs_flight f;
    /* not TLS */
    cs_flight_init(&f, 1 << 20);
    cs_flight_feed(&f, (const unsigned char *)"HTTP/1.1 400 Bad Request\r\n", 26);
    cr_assert_str_eq(f.error, "handshake: not a TLS record");
    cs_flight_free(&f);
    /* the record buffer is sized to the record announced, up to the largest
       TLS allows (16384 + 2048 bytes of ciphertext); one byte more is no TLS */
    cs_flight_init(&f, 1 << 20);
    static const unsigned char small[] = {22, 3, 3, 0x01, 0x2C};   /* 300 bytes */
    static const unsigned char largest[] = {22, 3, 3, 0x48, 0x00}; /* 18432 */
    static const unsigned char over[] = {22, 3, 3, 0x48, 0x01};    /* 18433 */
    cs_flight_feed(&f, small, sizeof small);
    cr_assert_str_eq(f.error, "");
    cr_assert_eq(f.rec_cap, 512, "a 300-byte record takes %zu bytes", f.rec_cap);
    cs_flight_free(&f);
    cs_flight_init(&f, 1 << 20);
    cs_flight_feed(&f, largest, sizeof largest);
    cr_assert_str_eq(f.error, "");
    cr_assert_eq(f.rec_cap, 18432);
    cs_flight_free(&f);
    cs_flight_init(&f, 1 << 20);
    cs_flight_feed(&f, over, sizeof over);
    cr_assert_str_eq(f.error, "handshake: not a TLS record");
    cr_assert_null(f.rec);
    cs_flight_free(&f);
    /* a handshake message over the cap is refused before it is buffered */
    cs_flight_init(&f, 1000);
    static const unsigned char big[] = {22, 3, 3, 0, 4, 2, 0, 0x10, 0};
    cs_flight_feed(&f, big, sizeof big);
    cr_assert_str_eq(f.error, "handshake: server message over the size cap");
    cr_assert_null(f.msg);
    cs_flight_free(&f);
    /* an alert */
    cs_flight_init(&f, 1000);
    static const unsigned char alert[] = {21, 3, 3, 0, 2, 2, 40};
    cs_flight_feed(&f, alert, sizeof alert);
    cr_assert_str_eq(f.error, "handshake: server sent alert: handshake failure");
    cs_flight_free(&f);
}

/* Appends a handshake record holding one message to buf. */
static size_t put_message(unsigned char *buf, size_t at, int type, const unsigned char *body,
                          size_t len)
{
    const unsigned char head[] = {22,
                                  3,
                                  3,
                                  (unsigned char)((len + 4) >> 8),
                                  (unsigned char)(len + 4),
                                  (unsigned char)type,
                                  (unsigned char)(len >> 16),
                                  (unsigned char)(len >> 8),
                                  (unsigned char)len};
    memcpy(buf + at, head, sizeof head);
    if (len)
        memcpy(buf + at + sizeof head, body, len);
    return at + sizeof head + len;
}

Test(flight, tls12_flight_without_server_key_exchange)
{
    /* ServerHello (ECDHE-ECDSA-AES128-GCM-SHA256), Certificate, ServerHelloDone:
       an (EC)DHE suite whose server never signs its key exchange */
    unsigned char hello[2 + 32 + 1 + 2 + 1] = {3, 3};
    hello[2 + 32 + 1] = 0xC0;
    hello[2 + 32 + 2] = 0x2B;
    unsigned char *der = NULL;
    int n = i2d_X509(leaf_ec.x509, &der);
    cr_assert(n > 0);
    size_t clen = 3 + 3 + (size_t)n;
    unsigned char *cert = malloc(clen);
    cert[0] = (unsigned char)((3 + n) >> 16), cert[1] = (unsigned char)((3 + n) >> 8);
    cert[2] = (unsigned char)(3 + n);
    cert[3] = (unsigned char)(n >> 16), cert[4] = (unsigned char)(n >> 8),
    cert[5] = (unsigned char)n;
    memcpy(cert + 6, der, (size_t)n);
    unsigned char *wire = malloc(clen + 256);
    size_t at = put_message(wire, 0, 2, hello, sizeof hello);
    at = put_message(wire, at, 11, cert, clen);
    at = put_message(wire, at, 14, NULL, 0);
    static const enum cs_kx kx[] = {CS_KX_ECDHE, CS_KX_RSA};
    for (size_t i = 0; i < 2; i++) {
        struct cs_flight f;
        cs_flight_init(&f, 1 << 20);
        cs_flight_kx(&f, kx[i]);
        cs_flight_feed(&f, wire, at);
        cr_assert_eq(f.chain.n, 1);
        if (kx[i] == CS_KX_ECDHE) {
            cr_assert_str_eq(f.error, "handshake: server sent no ServerKeyExchange");
            cr_assert_eq(f.proof.kind, CS_PROOF_NONE);
        } else { /* RSA key transport: the Finished must prove it */
            cr_assert_str_eq(f.error, "");
            cr_assert(f.done);
            cr_assert_eq(f.proof.kind, CS_PROOF_FINISHED);
        }
        cs_flight_free(&f);
    }
    OPENSSL_free(der);
    free(cert);
    free(wire);
}

Test(flight, tls13_certificate_entry_cut_inside_its_extensions)
{
    /* a TLS 1.3 Certificate whose one entry ends one byte into the length of
       its extensions: malformed, and nothing is read past the message */
    unsigned char *der = NULL;
    int n = i2d_X509(leaf_ec.x509, &der);
    cr_assert(n > 0);
    size_t list = 3 + (size_t)n + 1, body = 1 + 3 + list;
    unsigned char *msg = malloc(4 + body);
    size_t o = 0;
    msg[o++] = 11;
    msg[o++] = (unsigned char)(body >> 16), msg[o++] = (unsigned char)(body >> 8);
    msg[o++] = (unsigned char)body;
    msg[o++] = 0; /* certificate_request_context */
    msg[o++] = (unsigned char)(list >> 16), msg[o++] = (unsigned char)(list >> 8);
    msg[o++] = (unsigned char)list;
    msg[o++] = (unsigned char)(n >> 16), msg[o++] = (unsigned char)(n >> 8);
    msg[o++] = (unsigned char)n;
    memcpy(msg + o, der, (size_t)n);
    o += (size_t)n;
    msg[o++] = 0xff; /* half of an extensions length */
    struct cs_flight f;
    cs_flight_init(&f, 1 << 20);
    cs_flight_feed_tls13_plaintext(&f, msg, o);
    cr_assert_str_eq(f.error, "handshake: malformed Certificate message");
    cr_assert_eq(f.chain.n, 0);
    cs_flight_free(&f);
    OPENSSL_free(der);
    free(msg);
}
