/* The probe interface: how to get from a connected TCP stream to a finished
 * TLS handshake.  A probe speaks any plaintext preamble (STARTTLS) and then
 * hands the stream to the shared TLS driver in tls.c.  Probes never touch
 * sockets or the result record: the engine owns the stream, gives the probe
 * two callbacks on the conn, and feeds it bytes, the end of the stream and
 * timeouts through the cs_conn_* calls below, whatever stage the probe is
 * in (it never looks at the SSL object). */
#ifndef CS_PROBE_H
#define CS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>

#include "probes/flight.h"

struct cs_conn;
struct cs_preamble;

struct cs_probe {
    const char *name; /* "tls", "smtp", "imap", ... */
    uint16_t default_port;
    const char *helptext; /* one line for --help */
    /* Called once when TCP is connected.  Speaks the plaintext preamble (if
       any) through conn->write, then calls cs__tls_start().  Returns 0, or a
       negative code after which the connection ends with "handshake: cannot
       start TLS" (unless the probe ended it with cs_conn_end). */
    int (*start)(struct cs_conn *conn);
    /* Bytes that arrived before TLS started (never called once conn->ssl is
       set).  Returns 0, or a negative code after which the connection ends
       with "starttls: unexpected reply" (unless the probe ended it with
       cs_conn_end). */
    int (*on_read)(struct cs_conn *conn, const char *buf, size_t len);
};

/* One connection as a probe and the TLS driver see it. */
struct cs_conn {
    const struct cs_probe *probe;
    SSL_CTX *ssl_ctx; /* shared by every probe of the engine */
    SSL *ssl;         /* set by cs__tls_start, freed as soon as OpenSSL's part ends */
    bool tls;         /* cs__tls_start ran: bytes, EOF and timeouts go to the driver */
    bool cert_only;   /* take the chain and stop: no proof of key possession */
    const char *in;   /* bytes from the peer not yet read by OpenSSL */
    size_t in_len;
    char first[32]; /* the peer's first bytes, to quote one that is not TLS */
    size_t first_len;
    const char *sni;         /* NULL: send no SNI */
    const char *host;        /* the target's host (A-label or IP literal): the name a
                                STARTTLS preamble gives (SMTP EHLO, XMPP to) */
    const char *ehlo;        /* --ehlo: the SMTP EHLO name instead of host, or NULL */
    struct cs_flight flight; /* the server's flight as read beside OpenSSL */
    bool ssl_over;           /* OpenSSL's part of the handshake has ended */
    bool stopped;            /* ... because the driver stopped it (nothing is sent after) */
    bool handshake_complete; /* OpenSSL completed the handshake (the server's Finished
                                verified) */
    char ssl_error[256];     /* why OpenSSL's part failed, or "" */
    /* Once done is called: */
    struct cs_raw_chain chain; /* the presented chain (chain.n > 0), or none */
    char tls_version[16];      /* negotiated protocol */
    unsigned char *staple;     /* the stapled OCSP response (DER), or NULL */
    size_t staple_len;
    struct cs_key_proof proof;    /* what the server signed, to check with the leaf's key */
    bool await_status;            /* --cert-only, TLS 1.2: the chain is in hand, a staple may
                                follow (the engine gives it a second) */
    struct cs_preamble *preamble; /* a STARTTLS probe's state (starttls.h), or NULL */
    /* Sends bytes to the peer (copied); 0 or a negative error. */
    int (*write)(struct cs_conn *conn, const void *buf, size_t len);
    /* The handshake is over: error NULL, or "handshake: ..." / "starttls: ..."
       (conn->chain may be set either way: a chain whose proof failed is still
       reported).  Called exactly once, through cs_conn_end. */
    void (*done)(struct cs_conn *conn, const char *error);
    bool ended;  /* done has been called */
    void *owner; /* the engine's job, for its callbacks */
};

/* What the engine calls (probes.c), from connect to close. */
/* TCP is connected: runs the probe's start. */
void cs_conn_start(struct cs_conn *conn);
/* Bytes from the peer: to the probe's preamble, or to the TLS driver. */
void cs_conn_feed(struct cs_conn *conn, const char *buf, size_t len);
/* The peer closed (err 0 or UV_EOF) or the read failed (a UV_E* code). */
void cs_conn_eof(struct cs_conn *conn, int err);
/* The deadline (or, with await_status, the staple's second) passed. */
void cs_conn_timeout(struct cs_conn *conn);
/* Frees what the probe and the driver hold (after done). */
void cs_conn_release(struct cs_conn *conn);
/* How a probe or the driver ends the connection: calls done with error,
   the first time only. */
void cs_conn_end(struct cs_conn *conn, const char *error);

/* The shared TLS driver (tls.c). */
/* The SSL_CTX every connection of one worker shares: every protocol version
   and cipher a server may offer, chains up to max_chain bytes, a stapled
   OCSP response asked for; OpenSSL runs the client side up to the
   ServerHello (through the server's Finished for RSA key transport) and the
   server's flight is read beside it (flight.h).  NULL if OpenSSL cannot make
   one. */
SSL_CTX *cs_tls_ctx_new(X509_STORE *store, size_t max_chain);
int cs__tls_start(struct cs_conn *conn);
/* Feeds bytes received from the peer while TLS runs. */
void cs__tls_feed(struct cs_conn *conn, const char *buf, size_t len);
/* The peer closed (err 0) or the read failed (a UV_E* code). */
void cs__tls_eof(struct cs_conn *conn, int err);
/* The deadline (or, with await_status, the staple's second) passed: ends the
   handshake with what is in hand. */
void cs__tls_timeout(struct cs_conn *conn);
/* Frees the SSL, the reader, the chain, the staple and the proof. */
void cs__tls_free(struct cs_conn *conn);

/* Registry (probes.c). */
/* What --starttls takes: "auto", then every probe but tls, in registry order
   (test_probe checks that it matches the registry). */
#define CS_STARTTLS_WORDS                                                                          \
    "auto smtp submission imap pop3 ftp ldap postgres mysql xmpp xmpp-server sieve"
/* The probe called name ("tls"), or NULL. */
const struct cs_probe *cs_probe_by_name(const char *name);
/* The probe a scan names: name, or "tls" when name is NULL or "auto" (whose
   choice is made per target, by cs_probe_for); NULL if there is no such
   probe. */
const struct cs_probe *cs_probe_choose(const char *name);
/* The probe for one target: the one its URL scheme named (target_probe),
   else the scan's (--starttls): scan_probe, or for "auto" the probe whose
   default port is port (tls for any other port), or tls when NULL. */
const struct cs_probe *cs_probe_for(const char *target_probe, const char *scan_probe,
                                    uint16_t port);
/* Each probe's name in turn (i = 0, 1, ...), then NULL. */
const char *cs_probe_name(size_t i);
/* Writes one line per probe, for --help: two spaces, the name, its default
   port and its help text, aligned. */
void cs_probe_list(FILE *out);

extern const struct cs_probe cs_probe_direct;
extern const struct cs_probe cs_probe_smtp;
extern const struct cs_probe cs_probe_submission;
extern const struct cs_probe cs_probe_imap;
extern const struct cs_probe cs_probe_pop3;
extern const struct cs_probe cs_probe_ftp;
extern const struct cs_probe cs_probe_ldap;
extern const struct cs_probe cs_probe_postgres;
extern const struct cs_probe cs_probe_mysql;
extern const struct cs_probe cs_probe_xmpp;
extern const struct cs_probe cs_probe_xmpp_server;
extern const struct cs_probe cs_probe_sieve;

#endif
