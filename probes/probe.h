/* The probe interface: how to get from a connected TCP stream to a finished
 * TLS handshake (DESIGN.md, "The two interfaces").  A probe speaks any
 * plaintext preamble (STARTTLS) and then hands the stream to the shared TLS
 * driver in tls.c.  Probes never touch sockets or the result record: the
 * engine owns the stream and gives the probe two callbacks on the conn. */
#ifndef CS_PROBE_H
#define CS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

struct cs_conn;

/* The chain exactly as the server sent it: n certificates, each a 3-byte
   big-endian length and the DER bytes (the TLS 1.2 wire layout). */
struct cs_raw_chain {
    unsigned char *buf;      /* owned */
    size_t len;
    size_t n;
};

/* Certificate i of the chain (0 = leaf); 0, or -1 if there is none. */
int cs_raw_chain_at(const struct cs_raw_chain *c, size_t i, const unsigned char **der,
                    size_t *len);
void cs_raw_chain_free(struct cs_raw_chain *c);

struct cs_probe {
    const char *name;        /* "tls", "smtp", "imap", ... */
    uint16_t default_port;
    const char *helptext;    /* one line for --help */
    /* Called once when TCP is connected.  Speaks the plaintext preamble (if
       any) through conn->write, then calls cs__tls_start().  Returns 0, or a
       negative code after which the engine ends the probe with conn->error. */
    int (*start)(struct cs_conn *conn);
    /* Bytes that arrived before TLS started (never called once conn->ssl is
       set).  Same return convention as start. */
    int (*on_read)(struct cs_conn *conn, const char *buf, size_t len);
};

/* One connection as a probe and the TLS driver see it. */
struct cs_conn {
    const struct cs_probe *probe;
    SSL_CTX *ssl_ctx;        /* shared by every probe of the engine */
    SSL *ssl;                /* set by cs__tls_start, freed by cs__tls_free */
    const char *in;          /* bytes from the peer not yet read by OpenSSL */
    size_t in_len;
    char first[32];          /* the peer's first bytes, to quote one that is not TLS */
    size_t first_len;
    const char *sni;         /* NULL: send no SNI */
    struct cs_raw_chain chain; /* the presented chain, once in hand (chain.n > 0) */
    char tls_version[16];    /* negotiated protocol, once the chain is in hand */
    unsigned char *staple;   /* the stapled OCSP response (DER), or NULL */
    size_t staple_len;
    bool server_staples;     /* the ServerHello carried status_request */
    bool await_status;       /* TLS 1.2: the chain is in hand, a staple may follow */
    void *probe_state;       /* a STARTTLS probe's own state */
    /* Sends bytes to the peer (copied); 0 or a negative error. */
    int (*write)(struct cs_conn *conn, const void *buf, size_t len);
    /* The chain is in hand (error NULL; conn->chain is set) or the probe
       failed (error says "handshake: ..." or "starttls: ..."); called
       exactly once. */
    void (*done)(struct cs_conn *conn, const char *error);
    void *owner;             /* the engine's job, for its callbacks */
};

/* The shared TLS driver (tls.c). */
/* Prepares an SSL_CTX for the driver: a stapled OCSP response is asked for,
   and the handshake stops as soon as the server's chain (and, in TLS 1.2,
   the CertificateStatus that may follow it) is in hand; verification is the
   engine's business. */
void cs__tls_ctx_setup(SSL_CTX *ctx);
int cs__tls_start(struct cs_conn *conn);
/* Feeds bytes received from the peer while TLS runs. */
void cs__tls_feed(struct cs_conn *conn, const char *buf, size_t len);
/* The peer closed (err 0) or the read failed (a UV_E* code). */
void cs__tls_eof(struct cs_conn *conn, int err);
/* Frees the SSL (and the chain, unless the engine took it). */
void cs__tls_free(struct cs_conn *conn);

/* Registry (probes.c). */
const struct cs_probe *cs_probe_by_name(const char *name);
void cs_probe_list(FILE *out);

extern const struct cs_probe cs_probe_direct;

#endif
