/* The test fleet server: a throw-away PKI and one libuv loop on a thread of its
 * own serving every scenario on its own 127.0.0.1 port, TLS over memory BIOs,
 * and an httpd (httpd.c, a thread of its own) serving the PKI's CRL and OCSP
 * answers.  Every listener is bound before the threads start, so fleet_start
 * returns a fleet whose ports all accept connections.  For the benchmarks, the bulk ports
 * can spread over several loopback addresses and several loops (threads), hold
 * each handshake open, and serve leafs of their own. */
#include "tests/support/fleet.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <uv.h>

#include "tests/support/httpd.h"

#define D 86400
#define H 3600
#define CONN_LIFETIME_MS 30000 /* no connection outlives this */
#define LISTEN_BACKLOG 1024
#define READ_BUF_SIZE 65536

static const char http400[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/* Fatal alert, TLS 1.2 record: level 2 (fatal), description 40 (handshake_failure). */
static const char alert_handshake_failure[] = "\x15\x03\x03\x00\x02\x02\x28";
static const char ssh_banner[] = "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n";
static const char ssh_bye[] = "Invalid SSH identification string.\r\n";
static const char smtp_banner[] = "220 smtp.fleet.test ESMTP certsweep test fleet\r\n";
static const char smtp_500[] = "500 5.5.2 Error: bad syntax\r\n";
/* The drip: a handshake record header announcing 16 KiB (a ServerHello of 16379
   bytes), then noise; one byte a second never completes it. */
static const unsigned char drip_head[] = {0x16, 0x03, 0x03, 0x40, 0x00, 0x02,
                                          0x00, 0x3f, 0xfb, 0x03, 0x03};
#define DRIP_INTERVAL_MS 1000
#define HELLO_RESET_DELAY_MS 100 /* lets the client read the ServerHello before the RST */
#define NOISE_SIZE 65536
#define LONG_CHAIN_LEN 110 /* intermediates between the root and the long-chain leaf */
#define PAD_CERTS 3        /* extra padded certificates in the big chain */
#define PAD_BYTES 40000    /* each: with the rest, the chain is over 100 KiB */
#define MANY_SANS 10000
#define BACKLOG_FILLERS 8 /* at most; the first that cannot connect shows it is full */
/* The STARTTLS preamble's caps, as a mail server has them: a command line (without
   its CRLF; RFC 5321 allows 512 bytes with it), and commands before TLS. */
#define PRE_LINE_MAX 510
#define PRE_MAX_COMMANDS 32

enum issuer_kind {
    ISS_INTERMEDIATE,         /* the trusted intermediate */
    ISS_EXPIRED_INTERMEDIATE, /* trusted root, expired intermediate */
    ISS_SELF,                 /* self-signed leaf */
    ISS_UNKNOWN,              /* an intermediate under the untrusted root */
    ISS_ANSI,                 /* trusted root, an intermediate named with ANSI escapes */
    ISS_LONG_CHAIN,           /* the last of LONG_CHAIN_LEN intermediates under the root */
};

enum leaf_flags {
    LEAF_MISMATCH = 1,      /* names only other.example.net */
    LEAF_AWKWARD = 2,       /* a subject full of characters that need escaping */
    LEAF_BIG_CHAIN = 4,     /* followed by PAD_CERTS padded certificates: a chain > 100 KiB */
    LEAF_MANY_SANS = 8,     /* MANY_SANS DNS names, the host first */
    LEAF_NUL_CN = 16,       /* CN "good.example\0.evil.example", no SANs */
    LEAF_NUL_SAN = 32,      /* the only DNS SAN is "good.example\0.evil.example" */
    LEAF_NON_UTF8 = 64,     /* T61String and (invalid) UTF8String bytes 0xff, 0xfe in O/OU */
    LEAF_ANSI = 128,        /* ANSI escapes and control characters in O/OU */
    LEAF_NEG_SERIAL = 256,  /* serial -0123456789ABCDEF */
    LEAF_LONG_SERIAL = 512, /* a 40-byte serial */
    LEAF_Y9999 = 1024,      /* notAfter 9999-12-31T23:59:59Z (GeneralizedTime) */
    LEAF_Y1950 = 2048,      /* valid through 1950 only (UTCTime) */
    /* revocation (ISS_INTERMEDIATE only): what the CRL, the OCSP answer and the staple say */
    LEAF_REVOKED_KEY = 4096,        /* revoked 2 days ago, keyCompromise */
    LEAF_REVOKED_SUPERSEDED = 8192, /* revoked 1 day ago, superseded */
    LEAF_STAPLE = 16384,            /* staples its OCSP answer */
    LEAF_STAPLE_EXPIRED = 32768,    /* staples a good answer whose nextUpdate is 2 days past */
    /* the certificate names another key than the one the server signs with (a
       certificate and key that do not match, as a bad deploy leaves them) */
    LEAF_WRONG_KEY = 65536,
    LEAF_RSA_KX = 131072, /* TLS 1.2 with RSA key transport only: nothing signed */
    LEAF_DHE = 262144,    /* TLS 1.2 with finite-field DHE only */
    /* a mail server: the SMTP or IMAP STARTTLS preamble before the TLS */
    SPEAKS_SMTP = 524288,
    SPEAKS_IMAP = 1048576,
};

/* Which fleets have a scenario: every fleet, fleet_options.hostile, .rsa16384, .mail. */
enum tier { TIER_BASE, TIER_HOSTILE, TIER_RSA16384, TIER_MAIL };

struct scenario_def {
    const char *name;
    enum fleet_behaviour behaviour;
    const char *expect;
    int64_t not_before; /* relative to now */
    int64_t not_after;
    enum pki_key key;
    enum issuer_kind issuer;
    int tls_max;
    unsigned flags;
    const char *share; /* serve on this scenario's port, chosen by SNI */
    const char *host;  /* scan it as this name (NULL: "<name>.fleet.test") */
    enum tier tier;
};

static const struct scenario_def scenario_table[] = {
    {"ok", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"rsa", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_RSA2048, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"ed25519", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_ED25519, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"warning", FLEET_TLS, "WARNING", -300 * D, 20 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL,
     NULL, TIER_BASE},
    {"critical", FLEET_TLS, "CRITICAL", -300 * D, 3 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL,
     NULL, TIER_BASE},
    {"expired", FLEET_TLS, "EXPIRED", -400 * D, -3 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL,
     NULL, TIER_BASE},
    {"notyet", FLEET_TLS, "CRITICAL", 5 * D, 300 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"expired-intermediate", FLEET_TLS, "EXPIRED", -10 * D, 200 * D, PKI_EC256,
     ISS_EXPIRED_INTERMEDIATE, 0, 0, NULL, NULL, TIER_BASE},
    {"self-signed", FLEET_TLS, "CRITICAL", -10 * D, 200 * D, PKI_EC256, ISS_SELF, 0, 0, NULL, NULL,
     TIER_BASE},
    {"unknown-ca", FLEET_TLS, "CRITICAL", -10 * D, 200 * D, PKI_EC256, ISS_UNKNOWN, 0, 0, NULL,
     NULL, TIER_BASE},
    {"mismatch", FLEET_TLS, "CRITICAL", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0,
     LEAF_MISMATCH, NULL, NULL, TIER_BASE},
    {"short-ok", FLEET_TLS, "OK", -3 * D, 3 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"short-warning", FLEET_TLS, "WARNING", -388800, 129600, PKI_EC256, ISS_INTERMEDIATE, 0, 0,
     NULL, NULL, TIER_BASE},
    {"tls12", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, TLS1_2_VERSION, 0,
     NULL, NULL, TIER_BASE},
    {"awkward", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0, LEAF_AWKWARD,
     NULL, NULL, TIER_BASE},
    {"sni-a", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"sni-b", FLEET_TLS, "OK", -10 * D, 100 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, "sni-a", NULL,
     TIER_BASE},
    {"stapled", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0, LEAF_STAPLE,
     NULL, NULL, TIER_BASE},
    {"staple-expired", FLEET_TLS, "WARNING", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0,
     LEAF_STAPLE_EXPIRED, NULL, NULL, TIER_BASE},
    {"revoked", FLEET_TLS, "CRITICAL", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0,
     LEAF_REVOKED_KEY | LEAF_STAPLE, NULL, NULL, TIER_BASE},
    /* No staple: "OK" (revocation unchecked) without --crl and --ocsp, CRITICAL with
       either; expect_status holds the first (test_scan checks the second). */
    {"revoked-crl", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0,
     LEAF_REVOKED_SUPERSEDED, NULL, NULL, TIER_BASE},
    {"closed", FLEET_CLOSED, "ERROR", 0, 0, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"silent", FLEET_SILENT, "ERROR", 0, 0, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL,
     TIER_BASE},
    {"reset", FLEET_RESET, "ERROR", 0, 0, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL, TIER_BASE},
    {"http", FLEET_HTTP, "ERROR", 0, 0, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL, TIER_BASE},
/* Hostile peers: each must end in one ERROR record within the deadline. */
#define HOSTILE_PEER(name, behaviour)                                                              \
    {                                                                                              \
        name, behaviour, "ERROR", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0, 0, NULL, NULL, \
            TIER_HOSTILE                                                                           \
    }
    HOSTILE_PEER("drip", FLEET_DRIP),
    HOSTILE_PEER("noise", FLEET_NOISE),
    HOSTILE_PEER("hello-stall", FLEET_HELLO_STALL),
    HOSTILE_PEER("hello-reset", FLEET_HELLO_RESET),
    HOSTILE_PEER("hangup", FLEET_HANGUP),
    HOSTILE_PEER("alert", FLEET_ALERT),
    HOSTILE_PEER("ssh", FLEET_SSH),
    HOSTILE_PEER("smtp", FLEET_SMTP),
    HOSTILE_PEER("backlog", FLEET_BACKLOG),
#undef HOSTILE_PEER
    /* A hostile peer with a healthy leaf: must end in its classified record (the
       chain, no staple) once the client gives up waiting for the rest. */
    {"staple-stall", FLEET_STAPLE_STALL, "ERROR", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE,
     TLS1_2_VERSION, LEAF_STAPLE, NULL, NULL, TIER_HOSTILE},
    /* Servers that do not prove they hold the key of the healthy chain they send:
       ERROR, with every certificate field filled. */
    {"keyless", FLEET_KEYLESS, "ERROR", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE,
     TLS1_2_VERSION, 0, NULL, NULL, TIER_HOSTILE},
    {"wrong-key", FLEET_TLS, "ERROR", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0,
     LEAF_WRONG_KEY, NULL, NULL, TIER_HOSTILE},
    {"wrong-key-tls12", FLEET_TLS, "ERROR", -10 * D, 200 * D, PKI_RSA2048, ISS_INTERMEDIATE,
     TLS1_2_VERSION, LEAF_WRONG_KEY, NULL, NULL, TIER_HOSTILE},
    {"wrong-key-rsa-kx", FLEET_TLS, "ERROR", -10 * D, 200 * D, PKI_RSA2048, ISS_INTERMEDIATE,
     TLS1_2_VERSION, LEAF_WRONG_KEY | LEAF_RSA_KX, NULL, NULL, TIER_HOSTILE},
    /* Old handshakes that prove the key in their own ways: RSA key transport (the
       server's Finished), finite-field DHE, TLS 1.0 (an MD5+SHA-1 RSA signature). */
    {"rsa-kx", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_RSA2048, ISS_INTERMEDIATE, TLS1_2_VERSION,
     LEAF_RSA_KX, NULL, NULL, TIER_HOSTILE},
    {"dhe", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_RSA2048, ISS_INTERMEDIATE, TLS1_2_VERSION,
     LEAF_DHE, NULL, NULL, TIER_HOSTILE},
    {"tls10", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_RSA2048, ISS_INTERMEDIATE, TLS1_VERSION, 0,
     NULL, NULL, TIER_HOSTILE},
/* Hostile certificates: each must end in one classified record. */
#define HOSTILE_CERT(name, expect, issuer, flags, host)                                            \
    {                                                                                              \
        name, FLEET_TLS, expect, -10 * D, 200 * D, PKI_EC256, issuer, 0, flags, NULL, host,        \
            TIER_HOSTILE                                                                           \
    }
    HOSTILE_CERT("long-chain", "CRITICAL", ISS_LONG_CHAIN, 0, NULL),
    HOSTILE_CERT("big-chain", "OK", ISS_INTERMEDIATE, LEAF_BIG_CHAIN, NULL),
    HOSTILE_CERT("many-sans", "OK", ISS_INTERMEDIATE, LEAF_MANY_SANS, NULL),
    HOSTILE_CERT("nul-cn", "CRITICAL", ISS_INTERMEDIATE, LEAF_NUL_CN, "good.example"),
    HOSTILE_CERT("nul-san", "CRITICAL", ISS_INTERMEDIATE, LEAF_NUL_SAN, "good.example"),
    HOSTILE_CERT("non-utf8", "OK", ISS_INTERMEDIATE, LEAF_NON_UTF8, NULL),
    HOSTILE_CERT("ansi", "OK", ISS_ANSI, LEAF_ANSI, NULL),
    HOSTILE_CERT("negative-serial", "OK", ISS_INTERMEDIATE, LEAF_NEG_SERIAL, NULL),
    HOSTILE_CERT("long-serial", "OK", ISS_INTERMEDIATE, LEAF_LONG_SERIAL, NULL),
    HOSTILE_CERT("year-9999", "OK", ISS_INTERMEDIATE, LEAF_Y9999, NULL),
    HOSTILE_CERT("year-1950", "EXPIRED", ISS_INTERMEDIATE, LEAF_Y1950, NULL),
#undef HOSTILE_CERT
    {"rsa16384", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_RSA16384, ISS_INTERMEDIATE, 0, 0, NULL,
     NULL, TIER_RSA16384},
    /* Mail servers: a valid leaf after the SMTP and the IMAP STARTTLS preambles. */
    {"smtp-starttls", FLEET_TLS, "OK", -10 * D, 200 * D, PKI_EC256, ISS_INTERMEDIATE, 0,
     SPEAKS_SMTP, NULL, "smtp.fleet.test", TIER_MAIL},
    {"imap-starttls", FLEET_TLS, "OK", -10 * D, 150 * D, PKI_EC256, ISS_INTERMEDIATE, 0,
     SPEAKS_IMAP, NULL, "imap.fleet.test", TIER_MAIL},
};

#define SCENARIO_COUNT (sizeof scenario_table / sizeof scenario_table[0])

/* Subject values that need escaping in every output format. */
static const char awkward_o[] = "Comma, \"Quote\" & Co";
static const char awkward_ou[] = "line1\nline2 \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \x01"
                                 "ctl"; /* "\x01ctl" would read as \x01c */

/* Names that must not reach a terminal as they are: CSI colour, blink and
   clear-screen sequences, an OSC window-title change ended by BEL, C0 controls
   (CR, BS, DEL) and the 8-bit C1 CSI and OSC (U+009B, U+009D, valid UTF-8). */
static const char ansi_leaf_o[] = "\x1b[5mBlink\x1b[0m \x1b[31mRed\x1b[0m\r\x08\x7f";
static const char ansi_leaf_ou[] = "\xc2\x9b"
                                   "31mC1-CSI \xc2\x9d"
                                   "0;pwned\x07 \x1b[2J\x1b[H";
/* the issuer CN is what the text table shows: ESC, C1 CSI, BEL, and U+202E
   (right-to-left override) */
static const char ansi_issuer_cn[] = "\x1b[31mcertsweep \xc2\x9b"
                                     "1mEvil\x1b[0m\x07 \xe2\x80\xae"
                                     "etaidemretnI";
static const char ansi_issuer_o[] = "\x1b]0;pwned\x07\x1b[2J\x1b[H";

/* Bytes that are not UTF-8 in a T61String (OpenSSL reads it as Latin-1).  A
   UTF8String that is not UTF-8 cannot be tested: OpenSSL 3.0 neither encodes
   nor parses such a name. */
static const char non_utf8_t61[] = "caf\xe9 \xff\xfe T61";

/* "good.example", a NUL, ".evil.example": a name that C strings cut short. */
static const char nul_name[] = "good.example\0.evil.example";
#define NUL_NAME_LEN (sizeof nul_name - 1)

/* Bulk port i serves bulk_names[i % 4]. */
static const char *const bulk_names[] = {"ok", "warning", "critical", "expired"};

#define BULK_STATUSES 4
#define MAX_BULK_ADDRESSES (254 * 254)

struct fleet;
struct conn;

/* One event loop and its thread; loop 0 also serves the named scenarios. */
struct fleet_loop {
    uv_loop_t loop;
    uv_async_t stop_async;
    uv_thread_t thread;
    struct fleet *f;
    bool ready, running;
    struct conn *conns; /* open connections, for the stop */
    char read_buf[READ_BUF_SIZE];
};

struct custom_rt;

struct listener {
    uv_tcp_t tcp;
    struct fleet *f;
    struct fleet_loop *lp;    /* the loop it (and its connections) run on */
    size_t bulk_index;        /* bulk port number i (bulk only) */
    size_t scenario;          /* index into f->sc (the shared one for bulk and custom ports) */
    bool bulk;                /* a bulk port: counted only in its own counter */
    struct custom_rt *custom; /* a custom endpoint's port, or NULL */
    size_t custom_port;       /* k of fleet_custom_port(f, i, k) (custom only) */
    uint16_t port;
    _Atomic uint64_t accepted; /* connections on this port */
};

struct scenario_rt {
    SSL_CTX *ctx;                 /* NULL unless the scenario speaks TLS */
    struct listener *listener;    /* NULL for FLEET_CLOSED and FLEET_BACKLOG */
    int closed_fd;                /* FLEET_CLOSED: bound, never listening; FLEET_BACKLOG: the
                                     listener nobody accepts on; else -1 */
    int fillers[BACKLOG_FILLERS]; /* FLEET_BACKLOG: the fleet's own connections filling it */
    size_t n_fillers;
    bool active;               /* part of this fleet (by tier) */
    _Atomic uint64_t accepted; /* by scenario (after SNI) */
    char host[96];
    unsigned char *staple; /* DER OCSPResponse sent to clients that ask, or NULL */
    size_t staple_len;
    _Atomic uint64_t status_requests; /* handshakes that asked for the status (after SNI) */
};

/* A test's own endpoint (struct fleet_custom), with the fleet's references. */
struct custom_rt {
    SSL_CTX *ctx;          /* the first leaf, the chain, the status callback */
    struct pki_cert *leaf; /* n_leafs: 1 (every port) or n_ports (one each) */
    size_t n_leafs;
    /* clang-format off */
    STACK_OF(X509) *chain;
    /* clang-format on */
    unsigned char *staple; /* DER OCSPResponse, or NULL */
    size_t staple_len;
    size_t n_ports;
    size_t first_listener; /* its ports are f->listeners[first_listener ...] */
    _Atomic uint64_t accepted;
    _Atomic uint64_t status_requests;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer; /* the lifetime (or the hold) */
    uv_timer_t tick;  /* the drip's second, the hello-reset's delay */
    uv_write_t noise_req;
    uv_shutdown_t shutdown;
    struct listener *l;
    size_t scenario; /* the listener's, or the one SNI switched to */
    SSL *ssl;
    int open_handles; /* freed when the last one has closed */
    bool closing;
    bool finishing; /* shutdown requested; the close follows */
    bool reset;     /* close with RST instead of FIN */
    bool handshake_done;
    bool muted; /* FLEET_HELLO_*, FLEET_STAPLE_STALL: the cut went out, nothing more will */
    /* The STARTTLS preamble still to speak (NONE once the go-ahead is out), the
       command line being read and the commands so far. */
    enum fleet_starttls starttls;
    char pre_line[PRE_LINE_MAX + 1]; /* and its CR */
    size_t pre_len;
    unsigned pre_commands;
    size_t drip_pos; /* FLEET_DRIP: bytes sent */
    /* FLEET_STAPLE_STALL: the server's handshake message going out */
    unsigned char hs_head[4]; /* its header, as far as it went */
    size_t hs_head_len;
    size_t hs_left; /* its body bytes still to go */
    struct conn *prev, *next;
};

struct write_buf {
    uv_write_t req;
    char data[];
};

struct fleet {
    struct fleet_loop *loops;
    size_t n_loops;
    unsigned hold_ms;

    int64_t now;
    char *dir;
    char *ca_file;
    bool made_dir;

    struct pki_cert root, intermediate, expired_intermediate, unknown_root, unknown_intermediate;
    struct httpd *httpd; /* the CRL and the OCSP answers */
    uint16_t http_port;

    struct fleet_scenario sc[SCENARIO_COUNT];
    struct scenario_rt rt[SCENARIO_COUNT];
    size_t order[SCENARIO_COUNT]; /* fleet_at(i) is sc[order[i]] */
    size_t n_active;

    /* Hostile certificates: their issuers and padding. */
    struct pki_cert ansi_intermediate;
    struct pki_cert long_chain[LONG_CHAIN_LEN]; /* [0] under the root, [k] under [k-1] */
    struct pki_cert pad[PAD_CERTS];
    unsigned char *noise; /* NOISE_SIZE pseudo-random bytes (fixed seed) */

    struct listener *listeners; /* named ones first, then the bulk ones, then the custom ones */
    size_t n_listeners, n_named_listeners, n_bulk;

    struct custom_rt *custom; /* fleet_options.custom */
    size_t n_custom;

    /* Bulk ports with leafs of their own (unique, wildcard, rsa_kx). */
    bool bulk_own;                    /* bulk ports use bulk_ctx, not the scenarios' */
    SSL_CTX *bulk_ctx[BULK_STATUSES]; /* by i % 4, with the shared leafs */
    struct pki_cert shared_leaf[BULK_STATUSES];
    struct pki_cert *unique_leaf; /* n_bulk of them, or NULL */
    char (*bulk_addrs)[16];       /* n_bulk_addrs dotted quads */
    size_t n_bulk_addrs;
    bool bulk_smtp; /* bulk ports speak SMTP before TLS */
};

static void fail_msg(const char *what)
{
    fprintf(stderr, "fleet: %s\n", what);
    ERR_print_errors_fp(stderr);
}

/* ---- connections (all on the fleet thread) ---- */

static void conn_on_close(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct fleet_loop *lp = c->l->lp;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        lp->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    SSL_free(c->ssl);
    free(c);
}

static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, conn_on_close);
    uv_close((uv_handle_t *)&c->tick, conn_on_close);
    if (!c->reset || uv_tcp_close_reset(&c->tcp, conn_on_close) != 0)
        uv_close((uv_handle_t *)&c->tcp, conn_on_close);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->data);
}

/* Sends what is queued, then FIN, then closes. */
static void conn_finish(struct conn *c)
{
    if (c->finishing || c->closing)
        return;
    c->finishing = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, conn_on_shutdown) != 0)
        conn_close(c);
}

static void conn_on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    free(req);
    if (status < 0)
        conn_close(c);
}

static int conn_write(struct conn *c, const void *data, size_t len)
{
    struct write_buf *wb = malloc(sizeof *wb + len);
    if (wb == NULL)
        return UV_ENOMEM;
    memcpy(wb->data, data, len);
    wb->req.data = c;
    uv_buf_t buf = uv_buf_init(wb->data, (unsigned)len);
    int rc = uv_write(&wb->req, (uv_stream_t *)&c->tcp, &buf, 1, conn_on_write);
    if (rc != 0)
        free(wb);
    return rc;
}

static int tls_flush(struct conn *c)
{
    BIO *wbio = SSL_get_wbio(c->ssl);
    size_t pending;
    while ((pending = BIO_ctrl_pending(wbio)) > 0) {
        if (pending > INT_MAX)
            pending = INT_MAX;
        struct write_buf *wb = malloc(sizeof *wb + pending);
        if (wb == NULL)
            return UV_ENOMEM;
        int n = BIO_read(wbio, wb->data, (int)pending);
        if (n <= 0) {
            free(wb);
            return UV_EIO;
        }
        wb->req.data = c;
        uv_buf_t buf = uv_buf_init(wb->data, (unsigned)n);
        int rc = uv_write(&wb->req, (uv_stream_t *)&c->tcp, &buf, 1, conn_on_write);
        if (rc != 0) {
            free(wb);
            return rc;
        }
    }
    return 0;
}

static void conn_on_reset_tick(uv_timer_t *t)
{
    struct conn *c = t->data;
    c->reset = true;
    conn_close(c);
}

/* FLEET_HELLO_*: sends the first record OpenSSL queued (the ServerHello) and
   drops the rest; from then on the connection is mute (or reset). */
static int tls_first_record(struct conn *c)
{
    BIO *wbio = SSL_get_wbio(c->ssl);
    size_t pending = BIO_ctrl_pending(wbio);
    if (c->muted || pending < 5)
        return 0;
    unsigned char *data = malloc(pending);
    if (data == NULL)
        return UV_ENOMEM;
    int n = BIO_read(wbio, data, (int)pending);
    size_t got = n > 0 ? (size_t)n : 0;
    size_t rec = got >= 5 ? 5 + ((size_t)data[3] << 8 | data[4]) : 0;
    if (rec > got)
        rec = got;
    int rc = rec > 0 ? conn_write(c, data, rec) : UV_EIO;
    free(data);
    (void)BIO_reset(wbio);
    if (rc != 0)
        return rc;
    c->muted = true;
    if (c->l->f->sc[c->scenario].behaviour == FLEET_HELLO_RESET)
        return uv_timer_start(&c->tick, conn_on_reset_tick, HELLO_RESET_DELAY_MS, 0);
    return 0;
}

/* FLEET_STAPLE_STALL: how much of data (got bytes of whole records the server
   queued) goes out: up to the end of its Certificate message, after which c is
   mute.  The cut follows handshake messages, not records: OpenSSL 3.0 writes
   each message of the plaintext TLS 1.2 flight in records of its own, but
   nothing obliges it to (a record may carry several messages, and a message
   longer than a record spans several), so the messages are tracked across
   records (and calls), and a record that goes on past the Certificate message
   is shortened in place to end with it, its length field rewritten. */
static size_t cut_after_certificate(struct conn *c, unsigned char *data, size_t got)
{
    size_t off = 0;
    while (!c->muted && off + 5 <= got) {
        size_t len = (size_t)data[off + 3] << 8 | data[off + 4];
        if (len > got - off - 5)
            break; /* not a whole record: not expected from a memory BIO */
        const unsigned char *p = data + off + 5;
        for (size_t i = 0; data[off] == SSL3_RT_HANDSHAKE && i < len;) {
            if (c->hs_head_len < 4) {
                c->hs_head[c->hs_head_len++] = p[i++];
                if (c->hs_head_len == 4)
                    c->hs_left =
                        (size_t)c->hs_head[1] << 16 | (size_t)c->hs_head[2] << 8 | c->hs_head[3];
            } else {
                size_t take = c->hs_left < len - i ? c->hs_left : len - i;
                i += take;
                c->hs_left -= take;
            }
            if (c->hs_head_len < 4 || c->hs_left > 0)
                continue;
            c->hs_head_len = 0; /* the message is out */
            if (c->hs_head[0] == SSL3_MT_CERTIFICATE) {
                data[off + 3] = (unsigned char)(i >> 8);
                data[off + 4] = (unsigned char)i;
                len = i;
                c->muted = true;
                break;
            }
        }
        off += 5 + len;
    }
    return c->muted ? off : got;
}

/* FLEET_STAPLE_STALL: sends what OpenSSL queued up to the end of the server's
   Certificate message and drops the rest (CertificateStatus, ServerKeyExchange,
   ServerHelloDone); from then on the connection is mute. */
static int tls_until_certificate(struct conn *c)
{
    BIO *wbio = SSL_get_wbio(c->ssl);
    size_t pending = BIO_ctrl_pending(wbio);
    if (c->muted || pending == 0)
        return 0;
    unsigned char *data = malloc(pending);
    if (data == NULL)
        return UV_ENOMEM;
    int n = BIO_read(wbio, data, (int)pending);
    size_t send = n > 0 ? cut_after_certificate(c, data, (size_t)n) : 0;
    int rc = send > 0 ? conn_write(c, data, send) : 0;
    free(data);
    (void)BIO_reset(wbio);
    return rc;
}

/* What OpenSSL queued goes out: all of it, for FLEET_HELLO_* the first record,
   for FLEET_STAPLE_STALL what comes up to the end of the Certificate message. */
static int tls_out(struct conn *c)
{
    enum fleet_behaviour b = c->l->f->sc[c->scenario].behaviour;
    if (b == FLEET_HELLO_STALL || b == FLEET_HELLO_RESET)
        return tls_first_record(c);
    if (b == FLEET_STAPLE_STALL)
        return tls_until_certificate(c);
    if (b == FLEET_KEYLESS) {
        int rc = tls_until_certificate(c);
        if (rc == 0 && c->muted)
            conn_finish(c); /* the chain went out; no key to go on with */
        return rc;
    }
    return tls_flush(c);
}

/* Flushes what OpenSSL queued (an alert, a close_notify) and ends the connection. */
static void tls_end(struct conn *c)
{
    ERR_clear_error();
    if (tls_flush(c) != 0)
        conn_close(c);
    else
        conn_finish(c);
}

static void tls_feed(struct conn *c, const char *data, size_t len)
{
    if (c->muted)
        return; /* FLEET_HELLO_*, FLEET_STAPLE_STALL: mute from now on */
    if (BIO_write(SSL_get_rbio(c->ssl), data, (int)len) != (int)len) {
        conn_close(c);
        return;
    }
    if (!c->handshake_done) {
        int r = SSL_do_handshake(c->ssl);
        if (r == 1) {
            c->handshake_done = true;
        } else if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ) {
            tls_end(c);
            return;
        }
    }
    /* After the handshake: discard application data, wait for the client to close. */
    while (c->handshake_done && !c->muted) {
        char sink[4096];
        int r = SSL_read(c->ssl, sink, sizeof sink);
        if (r > 0)
            continue;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN)
            SSL_shutdown(c->ssl);
        tls_end(c);
        return;
    }
    if (tls_out(c) != 0)
        conn_close(c);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct conn *c = h->data;
    /* One buffer per loop: every read is consumed before the next alloc. */
    *buf = uv_buf_init(c->l->lp->read_buf, READ_BUF_SIZE);
}

/* Sends a canned answer, then closes once it is out. */
static void conn_reply(struct conn *c, const char *msg, size_t len)
{
    if (conn_write(c, msg, len) != 0)
        conn_close(c);
    else
        conn_finish(c);
}

/* ---- the STARTTLS preambles (fleet_starttls) ---- */

static enum fleet_starttls scenario_starttls(const struct scenario_def *def)
{
    return (def->flags & SPEAKS_SMTP)   ? FLEET_STARTTLS_SMTP
           : (def->flags & SPEAKS_IMAP) ? FLEET_STARTTLS_IMAP
                                        : FLEET_STARTTLS_NONE;
}

/* The name a preamble greets with. */
static const char *pre_name(const struct conn *c)
{
    return c->l->bulk ? "bulk.fleet.test" : c->l->f->sc[c->scenario].host;
}

/* Is the command line this verb, alone or followed by a space? */
static bool verb_is(const char *line, size_t len, const char *verb)
{
    size_t n = strlen(verb);
    return len >= n && strncasecmp(line, verb, n) == 0 && (len == n || line[n] == ' ');
}

static void pre_say(struct conn *c, const char *text)
{
    if (conn_write(c, text, strlen(text)) != 0)
        conn_close(c);
}

/* Says a last word and closes once it is out. */
static void pre_bye(struct conn *c, const char *text)
{
    conn_reply(c, text, strlen(text));
}

static void pre_greet(struct conn *c)
{
    char line[160];
    if (c->starttls == FLEET_STARTTLS_SMTP)
        snprintf(line, sizeof line, "220 %s ESMTP certsweep test fleet\r\n", pre_name(c));
    else
        snprintf(line, sizeof line,
                 "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] %s certsweep test fleet "
                 "ready\r\n",
                 pre_name(c));
    pre_say(c, line);
}

enum pre_next { PRE_MORE, PRE_GO, PRE_DONE };

static enum pre_next smtp_command(struct conn *c, const char *line, size_t len)
{
    char reply[256];
    if (verb_is(line, len, "EHLO") && len > 5) {
        snprintf(reply, sizeof reply,
                 "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
                 "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
                 pre_name(c));
    } else if (verb_is(line, len, "HELO") && len > 5) {
        snprintf(reply, sizeof reply, "250 %s\r\n", pre_name(c));
    } else if (verb_is(line, len, "EHLO") || verb_is(line, len, "HELO")) {
        snprintf(reply, sizeof reply, "501 5.5.4 Syntax: %.4s hostname\r\n", line);
    } else if (verb_is(line, len, "STARTTLS")) {
        pre_say(c,
                len == 8 ? "220 2.0.0 Ready to start TLS\r\n" : "501 5.5.4 Syntax: STARTTLS\r\n");
        return len == 8 ? PRE_GO : PRE_MORE;
    } else if (verb_is(line, len, "QUIT")) {
        pre_bye(c, "221 2.0.0 Bye\r\n");
        return PRE_DONE;
    } else if (verb_is(line, len, "NOOP") || verb_is(line, len, "RSET")) {
        snprintf(reply, sizeof reply, "250 2.0.0 Ok\r\n");
    } else {
        snprintf(reply, sizeof reply, "502 5.5.2 Error: command not recognized\r\n");
    }
    pre_say(c, reply);
    return PRE_MORE;
}

/* An IMAP tag: printable ASCII without space and the characters RFC 3501 keeps
   for itself. */
static bool imap_tag_ok(const char *tag, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (tag[i] <= ' ' || tag[i] > '~' || strchr("(){%*\"\\]+", tag[i]) != NULL)
            return false;
    return true;
}

static enum pre_next imap_command(struct conn *c, const char *line, size_t len)
{
    const char *sp = memchr(line, ' ', len);
    size_t tag_len = sp != NULL ? (size_t)(sp - line) : len;
    if (sp == NULL || !imap_tag_ok(line, tag_len)) {
        pre_say(c, "* BAD invalid tag\r\n");
        return PRE_MORE;
    }
    char tag[65], reply[256];
    snprintf(tag, sizeof tag, "%.*s", (int)tag_len, line);
    const char *cmd = sp + 1;
    size_t n = len - tag_len - 1;
    if (verb_is(cmd, n, "CAPABILITY") && n == 10) {
        snprintf(reply, sizeof reply,
                 "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n%s OK CAPABILITY completed\r\n",
                 tag);
    } else if (verb_is(cmd, n, "STARTTLS") && n == 8) {
        snprintf(reply, sizeof reply, "%s OK Begin TLS negotiation now\r\n", tag);
        pre_say(c, reply);
        return PRE_GO;
    } else if (verb_is(cmd, n, "LOGOUT") && n == 6) {
        snprintf(reply, sizeof reply,
                 "* BYE certsweep test fleet logging out\r\n%s OK LOGOUT completed\r\n", tag);
        pre_bye(c, reply);
        return PRE_DONE;
    } else if (verb_is(cmd, n, "NOOP") && n == 4) {
        snprintf(reply, sizeof reply, "%s OK NOOP completed\r\n", tag);
    } else {
        snprintf(reply, sizeof reply, "%s BAD command unknown or arguments invalid\r\n", tag);
    }
    pre_say(c, reply);
    return PRE_MORE;
}

/* One command line (CRLF or LF stripped), under the command cap. */
static enum pre_next pre_command(struct conn *c, const char *line, size_t len)
{
    bool smtp = c->starttls == FLEET_STARTTLS_SMTP;
    if (++c->pre_commands > PRE_MAX_COMMANDS) {
        pre_bye(c, smtp ? "421 4.7.0 Error: too many commands\r\n" : "* BYE too many commands\r\n");
        return PRE_DONE;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    return smtp ? smtp_command(c, line, len) : imap_command(c, line, len);
}

/* Bytes from the client while the preamble runs: command lines, capped.  After
   the go-ahead the handshake starts with the client's next bytes; what came
   in the same read as STARTTLS is dropped, as a careful server does (it was
   sent before TLS and must not be read as if it came through it). */
static void pre_feed(struct conn *c, const char *data, size_t len)
{
    for (size_t i = 0; i < len && !c->finishing && !c->closing; i++) {
        if (data[i] != '\n') {
            if (c->pre_len > PRE_LINE_MAX || (c->pre_len == PRE_LINE_MAX && data[i] != '\r')) {
                pre_bye(c, c->starttls == FLEET_STARTTLS_SMTP ? "500 5.5.2 Error: line too long\r\n"
                                                              : "* BYE line too long\r\n");
                return;
            }
            c->pre_line[c->pre_len++] = data[i];
            continue;
        }
        size_t n = c->pre_len;
        c->pre_len = 0;
        enum pre_next next = pre_command(c, c->pre_line, n);
        if (next == PRE_GO)
            c->starttls = FLEET_STARTTLS_NONE;
        if (next != PRE_MORE)
            return;
    }
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (c->finishing || c->closing)
        return;
    switch (c->l->f->sc[c->scenario].behaviour) {
    case FLEET_TLS:
        if (c->starttls != FLEET_STARTTLS_NONE)
            pre_feed(c, buf->base, (size_t)nread);
        else
            tls_feed(c, buf->base, (size_t)nread);
        break;
    case FLEET_SILENT:
    case FLEET_CLOSED:
        break;
    case FLEET_RESET:
        c->reset = true;
        conn_close(c);
        break;
    case FLEET_HTTP:
        conn_reply(c, http400, sizeof http400 - 1);
        break;
    case FLEET_HELLO_STALL:
    case FLEET_HELLO_RESET:
    case FLEET_STAPLE_STALL:
    case FLEET_KEYLESS:
        tls_feed(c, buf->base, (size_t)nread);
        break;
    case FLEET_DRIP:
    case FLEET_NOISE:
    case FLEET_BACKLOG:
        break; /* whatever the client says */
    case FLEET_HANGUP:
        conn_finish(c);
        break;
    case FLEET_ALERT:
        conn_reply(c, alert_handshake_failure, sizeof alert_handshake_failure - 1);
        break;
    case FLEET_SSH:
        conn_reply(c, ssh_bye, sizeof ssh_bye - 1);
        break;
    case FLEET_SMTP:
        if (conn_write(c, smtp_500, sizeof smtp_500 - 1) != 0)
            conn_close(c);
        break;
    }
}

static void conn_on_drip(uv_timer_t *t)
{
    struct conn *c = t->data;
    const unsigned char *noise = c->l->f->noise;
    size_t i = c->drip_pos++;
    unsigned char byte = i < sizeof drip_head ? drip_head[i] : noise[i % NOISE_SIZE];
    if (conn_write(c, &byte, 1) != 0)
        conn_close(c);
}

static void conn_noise(struct conn *c);

static void conn_on_noise_written(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    if (status < 0)
        conn_close(c);
    else if (!c->closing && !c->finishing)
        conn_noise(c);
}

/* One NOISE_SIZE write at a time: the next starts when the kernel has taken the
   last, so a peer that stops reading stops the stream (no busy loop), and the
   lifetime timer ends it. */
static void conn_noise(struct conn *c)
{
    uv_buf_t buf = uv_buf_init((char *)c->l->f->noise, NOISE_SIZE);
    c->noise_req.data = c;
    if (uv_write(&c->noise_req, (uv_stream_t *)&c->tcp, &buf, 1, conn_on_noise_written) != 0)
        conn_close(c);
}

/* What a hostile peer does as soon as it has accepted. */
static void conn_greet(struct conn *c)
{
    if (c->starttls != FLEET_STARTTLS_NONE) {
        pre_greet(c);
        return;
    }
    switch (c->l->f->sc[c->scenario].behaviour) {
    case FLEET_DRIP:
        if (uv_timer_start(&c->tick, conn_on_drip, 0, DRIP_INTERVAL_MS) != 0)
            conn_close(c);
        break;
    case FLEET_NOISE:
        conn_noise(c);
        break;
    case FLEET_SSH:
        if (conn_write(c, ssh_banner, sizeof ssh_banner - 1) != 0)
            conn_close(c);
        break;
    case FLEET_SMTP:
        if (conn_write(c, smtp_banner, sizeof smtp_banner - 1) != 0)
            conn_close(c);
        break;
    default:
        break;
    }
}

static void conn_on_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

/* The hold is over: read the ClientHello that waited in the kernel. */
static void conn_on_hold(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (uv_timer_start(&c->timer, conn_on_timeout, CONN_LIFETIME_MS, 0) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read) != 0)
        conn_close(c);
    else
        conn_greet(c);
}

/* A connection to port k of a custom endpoint: its ctx, and with one leaf per
   port, port k's leaf and the chain after it. */
static SSL *custom_ssl(struct custom_rt *cr, size_t k)
{
    SSL *ssl = SSL_new(cr->ctx);
    if (ssl == NULL || cr->n_leafs <= 1)
        return ssl;
    const struct pki_cert *leaf = &cr->leaf[k];
    if (SSL_use_certificate(ssl, leaf->x509) != 1 || SSL_use_PrivateKey(ssl, leaf->key) != 1 ||
        (cr->chain != NULL && !SSL_set1_chain(ssl, cr->chain))) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    struct fleet *f = l->f;
    struct fleet_loop *lp = l->lp;
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->l = l;
    c->scenario = l->scenario;
    if (l->bulk)
        c->starttls = f->bulk_smtp ? FLEET_STARTTLS_SMTP : FLEET_STARTTLS_NONE;
    else if (l->custom == NULL)
        c->starttls = scenario_starttls(&scenario_table[c->scenario]);
    if (uv_tcp_init(&lp->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    uv_timer_init(&lp->loop, &c->timer); /* cannot fail */
    uv_timer_init(&lp->loop, &c->tick);
    c->tcp.data = c;
    c->timer.data = c;
    c->tick.data = c;
    c->open_handles = 3;
    c->next = lp->conns;
    if (lp->conns != NULL)
        lp->conns->prev = c;
    lp->conns = c;

    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    atomic_fetch_add_explicit(&l->accepted, 1, memory_order_relaxed);
    if (l->custom != NULL)
        atomic_fetch_add_explicit(&l->custom->accepted, 1, memory_order_relaxed);
    else if (!l->bulk)
        atomic_fetch_add_explicit(&f->rt[c->scenario].accepted, 1, memory_order_relaxed);
    uv_tcp_nodelay(&c->tcp, 1);

    const struct scenario_rt *rt = &f->rt[c->scenario];
    if (rt->ctx != NULL) { /* FLEET_TLS, FLEET_HELLO_*, FLEET_STAPLE_STALL, FLEET_KEYLESS */
        BIO *rbio = BIO_new(BIO_s_mem());
        BIO *wbio = BIO_new(BIO_s_mem());
        bool own = l->bulk && f->bulk_own;
        if (l->custom != NULL) {
            c->ssl = custom_ssl(l->custom, l->custom_port);
        } else {
            c->ssl = SSL_new(own ? f->bulk_ctx[l->bulk_index % BULK_STATUSES] : rt->ctx);
        }
        if (c->ssl != NULL && own && f->unique_leaf != NULL) {
            const struct pki_cert *leaf = &f->unique_leaf[l->bulk_index];
            if (SSL_use_certificate(c->ssl, leaf->x509) != 1 ||
                SSL_use_PrivateKey(c->ssl, leaf->key) != 1) {
                SSL_free(c->ssl);
                c->ssl = NULL;
            }
        }
        if (rbio == NULL || wbio == NULL || c->ssl == NULL) {
            BIO_free(rbio);
            BIO_free(wbio);
            ERR_clear_error();
            conn_close(c);
            return;
        }
        SSL_set_bio(c->ssl, rbio, wbio);
        SSL_set_app_data(c->ssl, c);
        SSL_set_accept_state(c->ssl);
    }
    if (f->hold_ms > 0) {
        if (uv_timer_start(&c->timer, conn_on_hold, f->hold_ms, 0) != 0)
            conn_close(c);
        return;
    }
    if (uv_timer_start(&c->timer, conn_on_timeout, CONN_LIFETIME_MS, 0) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read) != 0)
        conn_close(c);
    else
        conn_greet(c);
}

/* SNI: switch to the scenario on the same port whose host is the name asked for. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    struct fleet *f = arg;
    struct conn *c = SSL_get_app_data(ssl);
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (c == NULL || name == NULL || c->l->bulk)
        return SSL_TLSEXT_ERR_OK;
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        if (i == c->scenario || f->rt[i].listener != c->l || f->rt[i].ctx == NULL ||
            strcasecmp(name, f->sc[i].host) != 0)
            continue;
        if (SSL_set_SSL_CTX(ssl, f->rt[i].ctx) == NULL)
            break;
        atomic_fetch_sub_explicit(&f->rt[c->scenario].accepted, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&f->rt[i].accepted, 1, memory_order_relaxed);
        c->scenario = i;
        break;
    }
    return SSL_TLSEXT_ERR_OK;
}

/* Hands OpenSSL a copy of staple (NULL: none) for the CertificateStatus. */
static int send_staple(SSL *ssl, const unsigned char *staple, size_t len)
{
    if (staple == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    unsigned char *copy = OPENSSL_memdup(staple, len);
    if (copy == NULL || !SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)len)) {
        OPENSSL_free(copy);
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK; /* OpenSSL owns the copy now */
}

/* The client asked for the certificate status: the custom endpoint's staple, if any. */
static int on_status_request(SSL *ssl, void *arg)
{
    struct custom_rt *cr = arg;
    atomic_fetch_add_explicit(&cr->status_requests, 1, memory_order_relaxed);
    return send_staple(ssl, cr->staple, cr->staple_len);
}

/* The same for a named scenario (after SNI picked it); bulk ports staple nothing. */
static int on_scenario_status_request(SSL *ssl, void *arg)
{
    struct fleet *f = arg;
    const struct conn *c = SSL_get_app_data(ssl);
    if (c == NULL || c->l->bulk)
        return SSL_TLSEXT_ERR_NOACK;
    struct scenario_rt *rt = &f->rt[c->scenario];
    atomic_fetch_add_explicit(&rt->status_requests, 1, memory_order_relaxed);
    return send_staple(ssl, rt->staple, rt->staple_len);
}

static void on_stop(uv_async_t *a)
{
    struct fleet_loop *lp = a->data;
    struct fleet *f = lp->f;
    for (size_t i = 0; i < f->n_listeners; i++)
        if (f->listeners[i].lp == lp && f->listeners[i].tcp.data != NULL &&
            !uv_is_closing((uv_handle_t *)&f->listeners[i].tcp))
            uv_close((uv_handle_t *)&f->listeners[i].tcp, NULL);
    for (struct conn *c = lp->conns; c != NULL; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&lp->stop_async, NULL);
}

static void fleet_thread(void *arg)
{
    struct fleet_loop *lp = arg;
    uv_run(&lp->loop, UV_RUN_DEFAULT);
}

/* ---- the PKI ---- */

static int issue_ca(struct pki_cert *out, const char *cn, int64_t nb, int64_t na,
                    const struct pki_cert *issuer)
{
    const char *subject[] = {"CN", cn, "O", "certsweep test fleet", NULL};
    struct pki_spec spec = {
        .subject = subject,
        .not_before = nb,
        .not_after = na,
        .key = PKI_EC256,
        .ca = true,
    };
    return pki_issue(out, &spec, issuer);
}

static int build_ca(struct fleet *f)
{
    int64_t now = f->now;
    if (issue_ca(&f->root, "certsweep Test Root", now - 3650 * (int64_t)D, now + 3650 * (int64_t)D,
                 NULL) != 0 ||
        issue_ca(&f->intermediate, "certsweep Test Intermediate", now - 1825 * (int64_t)D,
                 now + 1825 * (int64_t)D, &f->root) != 0 ||
        issue_ca(&f->expired_intermediate, "certsweep Test Expired Intermediate",
                 now - 730 * (int64_t)D, now - D, &f->root) != 0 ||
        issue_ca(&f->unknown_root, "certsweep Untrusted Root", now - 3650 * (int64_t)D,
                 now + 3650 * (int64_t)D, NULL) != 0 ||
        issue_ca(&f->unknown_intermediate, "certsweep Untrusted Intermediate",
                 now - 1825 * (int64_t)D, now + 1825 * (int64_t)D, &f->unknown_root) != 0)
        return -1;
    return 0;
}

/* The hostile issuers: an intermediate named with escape sequences, a chain of
   LONG_CHAIN_LEN intermediates, and the big chain's padded certificates. */
static int build_hostile_cas(struct fleet *f)
{
    int64_t now = f->now;
    const char *ansi[] = {"CN", ansi_issuer_cn, "O", ansi_issuer_o, NULL};
    struct pki_spec spec = {
        .subject = ansi,
        .not_before = now - 1825 * (int64_t)D,
        .not_after = now + 1825 * (int64_t)D,
        .key = PKI_EC256,
        .ca = true,
    };
    if (pki_issue(&f->ansi_intermediate, &spec, &f->root) != 0)
        return -1;
    for (size_t k = 0; k < LONG_CHAIN_LEN; k++) {
        char cn[64];
        snprintf(cn, sizeof cn, "certsweep Long Chain %zu", k + 1);
        if (issue_ca(&f->long_chain[k], cn, now - 1825 * (int64_t)D, now + 1825 * (int64_t)D,
                     k == 0 ? &f->root : &f->long_chain[k - 1]) != 0)
            return -1;
    }
    for (size_t k = 0; k < PAD_CERTS; k++) {
        char cn[64];
        snprintf(cn, sizeof cn, "certsweep Padded %zu", k + 1);
        const char *subject[] = {"CN", cn, "O", "certsweep test fleet", NULL};
        struct pki_spec pad = {
            .subject = subject,
            .not_before = now - 1825 * (int64_t)D,
            .not_after = now + 1825 * (int64_t)D,
            .key = PKI_EC256,
            .ca = true,
            .pad_bytes = PAD_BYTES,
        };
        if (pki_issue(&f->pad[k], &pad, &f->root) != 0)
            return -1;
    }
    /* xorshift64 with a fixed seed: the same noise (and so the same first
       record header) every run */
    f->noise = malloc(NOISE_SIZE);
    if (f->noise == NULL)
        return -1;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < NOISE_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f->noise[i] = (unsigned char)(x >> 32);
    }
    return 0;
}

static int build_leaf(struct fleet *f, size_t i)
{
    const struct scenario_def *def = &scenario_table[i];
    struct fleet_scenario *s = &f->sc[i];
    char ocsp[160], crl[80], dns[120];
    if (def->issuer == ISS_INTERMEDIATE) { /* the fleet's own httpd answers for these */
        snprintf(ocsp, sizeof ocsp, "http://127.0.0.1:%u/ocsp/%s", (unsigned)f->http_port,
                 def->name);
        snprintf(crl, sizeof crl, "http://127.0.0.1:%u/fleet.crl", (unsigned)f->http_port);
    } else { /* nobody answers for these */
        snprintf(ocsp, sizeof ocsp, "http://ocsp.fleet.test/%s", def->name);
        snprintf(crl, sizeof crl, "http://crl.fleet.test/intermediate.crl");
    }
    snprintf(dns, sizeof dns, "DNS:%s", s->host);

    const char *subject[] = {"CN", s->host, "O", "certsweep test fleet", NULL};
    const char *awkward[] = {"CN", s->host, "O", awkward_o, "OU", awkward_ou, NULL};
    const char *other[] = {"CN", "other.example.net", "O", "certsweep test fleet", NULL};
    const char *ansi[] = {"CN", s->host, "O", ansi_leaf_o, "OU", ansi_leaf_ou, NULL};
    const char *cn_only[] = {"CN", s->host, NULL};
    const char *org_only[] = {"O", "certsweep test fleet", NULL};
    const char *sans[] = {dns, "IP:127.0.0.1", NULL};
    const char *other_sans[] = {"DNS:other.example.net", NULL};
    const struct pki_rdn nul_cn[] = {{"CN", nul_name, NUL_NAME_LEN, V_ASN1_UTF8STRING}, {0}};
    const char *nul_san[] = {nul_name, NULL};
    const size_t nul_san_len[] = {NUL_NAME_LEN};
    const struct pki_rdn non_utf8[] = {
        {"O", non_utf8_t61, sizeof non_utf8_t61 - 1, V_ASN1_T61STRING},
        {0},
    };

    struct pki_spec spec = {
        .subject = subject,
        .not_before = f->now + def->not_before,
        .not_after = f->now + def->not_after,
        .key = def->key,
        .sans = sans,
        .ocsp_uri = ocsp,
        .crl_uri = crl,
    };
    if (def->flags & LEAF_AWKWARD)
        spec.subject = awkward;
    if (def->flags & LEAF_MISMATCH) {
        spec.subject = other;
        spec.sans = other_sans;
    }
    if (def->flags & LEAF_ANSI)
        spec.subject = ansi;
    if (def->flags & LEAF_NUL_CN) {
        spec.subject = org_only;
        spec.raw_subject = nul_cn;
        spec.sans = NULL;
    }
    if (def->flags & LEAF_NUL_SAN) {
        spec.sans = NULL;
        spec.raw_sans = nul_san;
        spec.raw_san_lens = nul_san_len;
    }
    if (def->flags & LEAF_NON_UTF8) {
        spec.subject = cn_only;
        spec.raw_subject = non_utf8;
    }
    if (def->flags & LEAF_NEG_SERIAL)
        spec.serial_hex = "-0123456789ABCDEF";
    if (def->flags & LEAF_LONG_SERIAL) /* 40 bytes, top bit clear: a positive INTEGER */
        spec.serial_hex = "7E0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
                          "0123456789ABCD";
    if (def->flags & LEAF_Y9999)
        spec.not_after = 253402300799; /* 9999-12-31T23:59:59Z */
    if (def->flags & LEAF_Y1950) {
        spec.not_before = -631152000; /* 1950-01-01T00:00:00Z */
        spec.not_after = -599616001;  /* 1950-12-31T23:59:59Z */
    }
    const char **many = NULL;
    char(*many_buf)[32] = NULL;
    if (def->flags & LEAF_MANY_SANS) {
        many = calloc(MANY_SANS + 1, sizeof *many);
        many_buf = calloc(MANY_SANS, sizeof *many_buf);
        if (many == NULL || many_buf == NULL) {
            free(many);
            free(many_buf);
            return -1;
        }
        many[0] = dns;
        for (size_t k = 1; k < MANY_SANS; k++) {
            snprintf(many_buf[k], sizeof many_buf[k], "DNS:san-%05zu.fleet.test", k);
            many[k] = many_buf[k];
        }
        spec.sans = many;
    }

    const struct pki_cert *issuer = NULL;
    switch (def->issuer) {
    case ISS_INTERMEDIATE:
        issuer = &f->intermediate;
        break;
    case ISS_EXPIRED_INTERMEDIATE:
        issuer = &f->expired_intermediate;
        break;
    case ISS_UNKNOWN:
        issuer = &f->unknown_intermediate;
        break;
    case ISS_ANSI:
        issuer = &f->ansi_intermediate;
        break;
    case ISS_LONG_CHAIN:
        issuer = &f->long_chain[LONG_CHAIN_LEN - 1];
        break;
    case ISS_SELF:
        break;
    }
    int rc = pki_issue(&s->leaf, &spec, issuer);
    free(many);
    free(many_buf);
    if (rc != 0)
        return -1;
    if (def->issuer == ISS_LONG_CHAIN) {
        for (size_t k = LONG_CHAIN_LEN; k-- > 0;)
            s->chain[s->chain_len++] = f->long_chain[k].x509;
    } else if (issuer != NULL) {
        s->chain[s->chain_len++] = issuer->x509;
    }
    if (def->flags & LEAF_BIG_CHAIN)
        for (size_t k = 0; k < PAD_CERTS; k++)
            s->chain[s->chain_len++] = f->pad[k].x509;
    return 0;
}

/* LEAF_WRONG_KEY: once the server holds the leaf's key, the leaf (the very
   object the SSL_CTX serves) is given a fresh key of the same type and
   re-signed by its issuer: its chain still verifies, but the server signs
   with a key the certificate does not name. */
static int swap_leaf_key(struct fleet *f, struct fleet_scenario *s)
{
    EVP_PKEY *other = EVP_PKEY_get_base_id(s->leaf.key) == EVP_PKEY_RSA
                          ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                          : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    int rc = other && X509_set_pubkey(s->leaf.x509, other) == 1 &&
                     X509_sign(s->leaf.x509, f->intermediate.key, EVP_sha256()) > 0
                 ? 0
                 : -1;
    EVP_PKEY_free(other);
    return rc;
}

static SSL_CTX *make_ctx(struct fleet *f, const struct fleet_scenario *s)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (s->tls_max != 0 && !SSL_CTX_set_max_proto_version(ctx, s->tls_max))
        goto fail;
    if (SSL_CTX_use_certificate(ctx, s->leaf.x509) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, s->leaf.key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    for (size_t i = 0; i < s->chain_len; i++)
        if (!SSL_CTX_add1_chain_cert(ctx, s->chain[i]))
            goto fail;
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx, f);
    if (!SSL_CTX_set_tlsext_status_cb(ctx, on_scenario_status_request) ||
        !SSL_CTX_set_tlsext_status_arg(ctx, f))
        goto fail;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* ---- revocation: the CRL and the OCSP answers the httpd serves ---- */

/* How the fleet's CA has revoked scenario i's leaf (a CRLReason: the CRL_REASON_*
   and OCSP_REVOKED_STATUS_* codes are the same numbers), or false. */
static bool leaf_revoked(const struct fleet *f, size_t i, int *reason, int64_t *when)
{
    unsigned flags = scenario_table[i].flags;
    *reason = CRL_REASON_NONE;
    *when = 0;
    if (flags & LEAF_REVOKED_KEY) {
        *reason = CRL_REASON_KEY_COMPROMISE;
        *when = f->now - 2 * D;
    } else if (flags & LEAF_REVOKED_SUPERSEDED) {
        *reason = CRL_REASON_SUPERSEDED;
        *when = f->now - D;
    }
    return *reason != CRL_REASON_NONE;
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *data = NULL;
    long n = -1;
    if (fp != NULL && fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 &&
        fseek(fp, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) != NULL &&
        fread(data, 1, (size_t)n, fp) != (size_t)n) {
        free(data);
        data = NULL;
    }
    if (fp != NULL)
        fclose(fp);
    *len = data != NULL ? (size_t)n : 0;
    return data;
}

/* DIR/fleet.crl, served at /fleet.crl: every revoked leaf of the active scenarios. */
static int serve_crl(struct fleet *f)
{
    struct pki_crl_entry entries[SCENARIO_COUNT];
    char serials[SCENARIO_COUNT][128];
    size_t n = 0;
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        int reason;
        int64_t when;
        if (!f->rt[i].active || f->sc[i].leaf.x509 == NULL || !leaf_revoked(f, i, &reason, &when))
            continue;
        pki_serial_hex(f->sc[i].leaf.x509, serials[n], sizeof serials[n]);
        entries[n] = (struct pki_crl_entry){serials[n], when, reason};
        n++;
    }
    struct pki_crl_spec spec = {
        .issuer = &f->intermediate,
        .last_update = f->now - H,
        .next_update = f->now + 7 * D,
        .entries = entries,
        .n_entries = n,
    };
    size_t plen = strlen(f->dir) + sizeof "/fleet.crl", len;
    char *path = malloc(plen);
    if (path == NULL)
        return -1;
    snprintf(path, plen, "%s/fleet.crl", f->dir);
    unsigned char *der = pki_crl(path, &spec, NULL) == 0 ? read_whole(path, &len) : NULL;
    int rc = der != NULL ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "fleet: cannot write %s\n", path);
    else
        httpd_route(f->httpd, "/fleet.crl",
                    &(struct httpd_answer){.status = 200, .body = der, .len = len});
    free(der);
    free(path);
    return rc;
}

/* Scenario i's OCSP answer (DER, free() it), signed by the intermediate. */
static int ocsp_answer(const struct fleet *f, size_t i, int64_t this_update, int64_t next_update,
                       unsigned char **der, size_t *len)
{
    int reason;
    int64_t when;
    bool revoked = leaf_revoked(f, i, &reason, &when);
    struct pki_ocsp_spec spec = {
        .leaf = f->sc[i].leaf.x509,
        .issuer = f->intermediate.x509,
        .status = revoked ? PKI_OCSP_REVOKED : PKI_OCSP_GOOD,
        .revoked_at = when,
        .reason = revoked ? reason : OCSP_REVOKED_STATUS_NOSTATUS,
        .this_update = this_update,
        .next_update = next_update,
        .signer = &f->intermediate,
    };
    return pki_ocsp_response(&spec, der, len);
}

/* The CRL, /ocsp/NAME for every leaf under the intermediate, and the staples. */
static int build_revocation(struct fleet *f)
{
    if (serve_crl(f) != 0)
        return -1;
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        const struct scenario_def *def = &scenario_table[i];
        struct scenario_rt *rt = &f->rt[i];
        if (!rt->active || f->sc[i].leaf.x509 == NULL || def->issuer != ISS_INTERMEDIATE)
            continue;
        unsigned char *der;
        size_t len;
        if (ocsp_answer(f, i, f->now - H, f->now + 4 * D, &der, &len) != 0)
            return -1;
        char path[96];
        snprintf(path, sizeof path, "/ocsp/%s", def->name);
        httpd_route(f->httpd, path, &(struct httpd_answer){.status = 200, .body = der, .len = len});
        if (def->flags & LEAF_STAPLE) {
            rt->staple = der;
            rt->staple_len = len;
        } else {
            free(der);
        }
        if ((def->flags & LEAF_STAPLE_EXPIRED) &&
            ocsp_answer(f, i, f->now - 9 * D, f->now - 2 * D, &rt->staple, &rt->staple_len) != 0)
            return -1;
    }
    return 0;
}

/* ---- bulk leafs (benchmarks) ---- */

static size_t scenario_index(const char *name);

/* A bulk leaf with the validity of status bulk_names[status % 4]. */
static int issue_bulk_leaf(struct fleet *f, struct pki_cert *out, size_t status, const char *cn,
                           const char *const *sans, enum pki_key key)
{
    const struct scenario_def *def = &scenario_table[scenario_index(bulk_names[status % 4])];
    const char *subject[] = {"CN", cn, "O", "certsweep test fleet", NULL};
    char crl[80];
    snprintf(crl, sizeof crl, "http://127.0.0.1:%u/fleet.crl", (unsigned)f->http_port);
    /* No OCSP URI: the fleet has no answer for every unique leaf, the CRL covers them all. */
    struct pki_spec spec = {
        .subject = subject,
        .not_before = f->now + def->not_before,
        .not_after = f->now + def->not_after,
        .key = key,
        .sans = sans,
        .crl_uri = crl,
    };
    return pki_issue(out, &spec, &f->intermediate);
}

static SSL_CTX *make_bulk_ctx(struct fleet *f, const struct pki_cert *leaf, bool rsa_kx)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (rsa_kx && (!SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) ||
                   !SSL_CTX_set_cipher_list(ctx, "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA")))
        goto fail;
    if (SSL_CTX_use_certificate(ctx, leaf->x509) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, leaf->key) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
        !SSL_CTX_add1_chain_cert(ctx, f->intermediate.x509))
        goto fail;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* Addresses, and for unique/wildcard/rsa_kx the bulk ports' own leafs. */
static int build_bulk(struct fleet *f, const struct fleet_options *o)
{
    f->n_bulk_addrs = o->bulk_addresses;
    if (f->n_bulk_addrs > 0) {
        f->bulk_addrs = calloc(f->n_bulk_addrs, sizeof *f->bulk_addrs);
        if (f->bulk_addrs == NULL)
            return -1;
        for (size_t a = 0; a < f->n_bulk_addrs; a++)
            snprintf(f->bulk_addrs[a], sizeof f->bulk_addrs[a], "127.0.%u.%u",
                     (unsigned)(1 + a / 254), (unsigned)(1 + a % 254));
    }
    if (!o->unique && !o->wildcard && !o->rsa_kx)
        return 0;
    f->bulk_own = true;

    /* SANs: [*.bulk.test], 127.0.0.1, then every bulk address (shared leafs) or
       the port's own address (unique leafs). */
    size_t n_ip = f->n_bulk_addrs < 512 ? f->n_bulk_addrs : 512;
    const char **sans = calloc(n_ip + 4, sizeof *sans);
    char(*ips)[24] = calloc(n_ip + 1, sizeof *ips);
    int rc = -1;
    if (sans == NULL || ips == NULL)
        goto out;
    size_t fixed = 0;
    if (o->wildcard)
        sans[fixed++] = "DNS:*.bulk.test";
    sans[fixed++] = "IP:127.0.0.1";
    const char *cn = o->wildcard ? "*.bulk.test" : "bulk.fleet.test";
    enum pki_key key = o->rsa_kx ? PKI_RSA2048 : PKI_EC256;
    for (size_t a = 0; a < n_ip; a++) {
        snprintf(ips[a], sizeof ips[a], "IP:%s", f->bulk_addrs[a]);
        sans[fixed + a] = ips[a];
    }
    for (size_t s = 0; s < BULK_STATUSES; s++) {
        if (issue_bulk_leaf(f, &f->shared_leaf[s], s, cn, sans, key) != 0 ||
            (f->bulk_ctx[s] = make_bulk_ctx(f, &f->shared_leaf[s], o->rsa_kx)) == NULL) {
            fail_msg("cannot make the bulk certificates");
            goto out;
        }
    }
    if (o->unique && o->bulk > 0) {
        f->unique_leaf = calloc(o->bulk, sizeof *f->unique_leaf);
        if (f->unique_leaf == NULL)
            goto out;
        for (size_t i = 0; i < o->bulk; i++) {
            char name[64], dns[80];
            snprintf(name, sizeof name, "bulk-%zu.fleet.test", i);
            snprintf(dns, sizeof dns, "DNS:%s", name);
            size_t n = 0;
            const char *own[5];
            own[n++] = dns;
            if (o->wildcard)
                own[n++] = "DNS:*.bulk.test";
            own[n++] = "IP:127.0.0.1";
            if (f->n_bulk_addrs > 0) {
                snprintf(ips[n_ip], sizeof ips[n_ip], "IP:%s", fleet_bulk_addr(f, i));
                own[n++] = ips[n_ip];
            }
            own[n] = NULL;
            if (issue_bulk_leaf(f, &f->unique_leaf[i], i, name, own, key) != 0) {
                fail_msg("cannot make the unique bulk certificates");
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(sans);
    free(ips);
    return rc;
}

/* ---- custom endpoints ---- */

static int pki_cert_ref(struct pki_cert *dst, const struct pki_cert *src)
{
    if (src == NULL || src->x509 == NULL || src->key == NULL || !X509_up_ref(src->x509))
        return -1;
    if (!EVP_PKEY_up_ref(src->key)) {
        X509_free(src->x509);
        return -1;
    }
    dst->x509 = src->x509;
    dst->key = src->key;
    return 0;
}

static int build_one_custom(struct custom_rt *cr, const struct fleet_custom *def)
{
    cr->n_ports = def->n_ports > 0 ? def->n_ports : 1;
    cr->n_leafs = def->leafs != NULL ? cr->n_ports : 1;
    if ((def->leafs == NULL) == (def->leaf == NULL))
        return -1; /* exactly one of leaf and leafs */
    cr->leaf = calloc(cr->n_leafs, sizeof *cr->leaf);
    if (cr->leaf == NULL)
        return -1;
    for (size_t k = 0; k < cr->n_leafs; k++)
        if (pki_cert_ref(&cr->leaf[k], def->leafs != NULL ? &def->leafs[k] : def->leaf) != 0)
            return -1;
    if (def->chain_len > 0) {
        if ((cr->chain = sk_X509_new_null()) == NULL)
            return -1;
        for (size_t k = 0; k < def->chain_len; k++) {
            if (!sk_X509_push(cr->chain, def->chain[k]))
                return -1;
            X509_up_ref(def->chain[k]);
        }
    }
    if (def->staple != NULL) {
        if ((cr->staple = malloc(def->staple_len > 0 ? def->staple_len : 1)) == NULL)
            return -1;
        memcpy(cr->staple, def->staple, def->staple_len);
        cr->staple_len = def->staple_len;
    }

    SSL_CTX *ctx = cr->ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return -1;
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (def->tls_max != 0 && !SSL_CTX_set_max_proto_version(ctx, def->tls_max))
        return -1;
    if (SSL_CTX_use_certificate(ctx, cr->leaf[0].x509) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, cr->leaf[0].key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        return -1;
    if (cr->chain != NULL && !SSL_CTX_set1_chain(ctx, cr->chain))
        return -1;
    if (!SSL_CTX_set_tlsext_status_cb(ctx, on_status_request) ||
        !SSL_CTX_set_tlsext_status_arg(ctx, cr))
        return -1;
    return 0;
}

static int build_custom(struct fleet *f, const struct fleet_options *o)
{
    if (o->n_custom == 0)
        return 0;
    f->custom = calloc(o->n_custom, sizeof *f->custom);
    if (f->custom == NULL)
        return -1;
    f->n_custom = o->n_custom;
    for (size_t i = 0; i < o->n_custom; i++) {
        atomic_init(&f->custom[i].accepted, 0);
        atomic_init(&f->custom[i].status_requests, 0);
        if (build_one_custom(&f->custom[i], &o->custom[i]) != 0) {
            fprintf(stderr, "fleet: cannot set up custom endpoint %zu (%s)\n", i,
                    o->custom[i].name != NULL ? o->custom[i].name : "unnamed");
            ERR_print_errors_fp(stderr);
            return -1;
        }
    }
    return 0;
}

static void free_custom(struct fleet *f)
{
    for (size_t i = 0; f->custom != NULL && i < f->n_custom; i++) {
        struct custom_rt *cr = &f->custom[i];
        SSL_CTX_free(cr->ctx);
        for (size_t k = 0; cr->leaf != NULL && k < cr->n_leafs; k++)
            pki_cert_free(&cr->leaf[k]);
        free(cr->leaf);
        sk_X509_pop_free(cr->chain, X509_free);
        free(cr->staple);
    }
    free(f->custom);
}

/* ---- ports ---- */

static int bind_listener(struct fleet *f, struct listener *l, size_t scenario, bool bulk,
                         struct fleet_loop *lp, const char *ip, uint16_t port)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    int rc;

    l->f = f;
    l->lp = lp;
    l->scenario = scenario;
    l->bulk = bulk;
    atomic_init(&l->accepted, 0);
    if ((rc = uv_tcp_init(&lp->loop, &l->tcp)) != 0)
        return rc;
    l->tcp.data = l; /* marks it initialised */
    if ((rc = uv_ip4_addr(ip, port, &addr)) != 0 ||
        (rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&addr, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&l->tcp, LISTEN_BACKLOG, on_connection)) != 0 ||
        (rc = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &len)) != 0)
        return rc;
    l->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

/* A port that refuses connections: bound (without SO_REUSEADDR, so no one else
   can take it while the fleet runs) but never listening. */
static int bind_closed(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(addr.sin_port);
    return fd;
}

/* A listener whose accept queue is full: listen(fd, 0) and the fleet's own
   connections queued until one no longer gets through the TCP handshake
   (Linux drops the SYNs of a listener whose queue is full, so a client's
   connect times out).  Nobody ever accepts on it. */
static int bind_backlog(struct scenario_rt *rt, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 0) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        close(fd);
        return -1;
    }
    rt->closed_fd = fd;
    *port = ntohs(addr.sin_port);
    while (rt->n_fillers < BACKLOG_FILLERS) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c < 0)
            return -1;
        rt->fillers[rt->n_fillers++] = c;
        if (connect(c, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS)
            return -1;
        struct pollfd p = {.fd = c, .events = POLLOUT};
        if (poll(&p, 1, 100) == 0)
            return 0; /* stuck in SYN-SENT: the queue is full */
        int err = 0;
        socklen_t elen = sizeof err;
        if (getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
            return -1;
    }
    errno = EAGAIN; /* the kernel queued every one: no full backlog to offer */
    return -1;
}

static void raise_nofile(size_t needed)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= needed || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (rl.rlim_max == RLIM_INFINITY)
        rl.rlim_cur = needed > 65536 ? needed : 65536;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static size_t scenario_index(const char *name)
{
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        if (strcmp(scenario_table[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

static int make_dir(struct fleet *f, const char *dir)
{
    if (dir != NULL) {
        f->dir = strdup(dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        size_t n = strlen(tmp != NULL && *tmp != '\0' ? tmp : "/tmp") + 32;
        f->dir = malloc(n);
        if (f->dir == NULL)
            return -1;
        snprintf(f->dir, n, "%s/certsweep-fleet-XXXXXX",
                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
        if (mkdtemp(f->dir) == NULL) {
            fprintf(stderr, "fleet: cannot make a temp dir %s: %s\n", f->dir, strerror(errno));
            return -1;
        }
        f->made_dir = true;
    }
    if (f->dir == NULL)
        return -1;
    size_t n = strlen(f->dir) + sizeof "/ca.pem";
    f->ca_file = malloc(n);
    if (f->ca_file == NULL)
        return -1;
    snprintf(f->ca_file, n, "%s/ca.pem", f->dir);
    X509 *root = f->root.x509;
    if (pki_write_pem(f->ca_file, &root, 1) != 0) {
        fprintf(stderr, "fleet: cannot write %s: %s\n", f->ca_file, strerror(errno));
        return -1;
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void fleet_free(struct fleet *f)
{
    httpd_stop(f->httpd);
    for (size_t k = 0; f->loops != NULL && k < f->n_loops; k++) {
        struct fleet_loop *lp = &f->loops[k];
        if (!lp->ready)
            continue;
        /* Closes every handle on the loop's own thread, or here if it never started. */
        uv_async_send(&lp->stop_async);
        if (lp->running)
            uv_thread_join(&lp->thread);
        else
            uv_run(&lp->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&lp->loop) != 0)
            fprintf(stderr, "fleet: loop still has handles at stop\n");
    }
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        SSL_CTX_free(f->rt[i].ctx);
        if (f->rt[i].closed_fd >= 0)
            close(f->rt[i].closed_fd);
        for (size_t k = 0; k < f->rt[i].n_fillers; k++)
            close(f->rt[i].fillers[k]);
        free(f->rt[i].staple);
        pki_cert_free(&f->sc[i].leaf);
    }
    pki_cert_free(&f->ansi_intermediate);
    for (size_t k = 0; k < LONG_CHAIN_LEN; k++)
        pki_cert_free(&f->long_chain[k]);
    for (size_t k = 0; k < PAD_CERTS; k++)
        pki_cert_free(&f->pad[k]);
    free(f->noise);
    pki_cert_free(&f->root);
    pki_cert_free(&f->intermediate);
    pki_cert_free(&f->expired_intermediate);
    pki_cert_free(&f->unknown_root);
    pki_cert_free(&f->unknown_intermediate);
    for (size_t i = 0; i < BULK_STATUSES; i++) {
        SSL_CTX_free(f->bulk_ctx[i]);
        pki_cert_free(&f->shared_leaf[i]);
    }
    for (size_t i = 0; f->unique_leaf != NULL && i < f->n_bulk; i++)
        pki_cert_free(&f->unique_leaf[i]);
    free(f->unique_leaf);
    free_custom(f);
    free(f->bulk_addrs);
    free(f->loops);
    if (f->made_dir && f->dir != NULL)
        nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f->listeners);
    free(f->dir);
    free(f->ca_file);
    free(f);
}

struct fleet *fleet_start(const struct fleet_options *o)
{
    static const struct fleet_options defaults = {0};
    if (o == NULL)
        o = &defaults;

    struct fleet *f = calloc(1, sizeof *f);
    if (f == NULL) {
        fail_msg("out of memory");
        return NULL;
    }
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        f->rt[i].closed_fd = -1;
        atomic_init(&f->rt[i].accepted, 0);
        atomic_init(&f->rt[i].status_requests, 0);
    }
    f->now = o->now != 0 ? o->now : (int64_t)time(NULL);
    f->n_bulk = o->bulk;
    f->hold_ms = o->hold_ms;
    f->bulk_smtp = o->bulk_smtp;
    f->n_loops = o->threads > 1 ? o->threads : 1;
    if (o->bulk_addresses > MAX_BULK_ADDRESSES || (o->unique && o->rsa_kx) || f->n_loops > 256) {
        fprintf(stderr,
                "fleet: want at most %d bulk addresses, at most 256 threads, and not "
                "unique with rsa_kx\n",
                MAX_BULK_ADDRESSES);
        free(f);
        return NULL;
    }
    f->loops = calloc(f->n_loops, sizeof *f->loops);
    if (f->loops == NULL) {
        fail_msg("out of memory");
        free(f);
        return NULL;
    }
    for (size_t k = 0; k < f->n_loops; k++) {
        struct fleet_loop *lp = &f->loops[k];
        lp->f = f;
        if (uv_loop_init(&lp->loop) != 0) {
            fail_msg("cannot make a libuv loop");
            goto fail;
        }
        if (uv_async_init(&lp->loop, &lp->stop_async, on_stop) != 0) {
            fail_msg("cannot make a libuv async handle");
            uv_loop_close(&lp->loop);
            goto fail;
        }
        lp->stop_async.data = lp;
        lp->ready = true;
    }

    if (build_ca(f) != 0 || (o->hostile && build_hostile_cas(f) != 0)) {
        fail_msg("cannot make the CA certificates");
        goto fail;
    }
    if (make_dir(f, o->dir) != 0)
        goto fail;
    /* Its thread, like the loops', takes no signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    f->httpd = httpd_start();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (f->httpd == NULL)
        goto fail;
    f->http_port = httpd_port(f->httpd);

    size_t n_named = 0;
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        const struct scenario_def *def = &scenario_table[i];
        struct fleet_scenario *s = &f->sc[i];
        f->rt[i].active = def->tier == TIER_BASE || (def->tier == TIER_HOSTILE && o->hostile) ||
                          (def->tier == TIER_RSA16384 && o->rsa16384) ||
                          (def->tier == TIER_MAIL && o->mail);
        if (!f->rt[i].active)
            continue;
        f->order[f->n_active++] = i;
        if (def->host != NULL)
            snprintf(f->rt[i].host, sizeof f->rt[i].host, "%s", def->host);
        else
            snprintf(f->rt[i].host, sizeof f->rt[i].host, "%s.fleet.test", def->name);
        s->name = def->name;
        s->behaviour = def->behaviour;
        s->host = f->rt[i].host;
        s->tls_max = def->tls_max;
        s->expect_status = def->expect;
        s->hostile = def->tier == TIER_HOSTILE || def->tier == TIER_RSA16384;
        s->scheme = (def->flags & SPEAKS_SMTP)   ? "smtp"
                    : (def->flags & SPEAKS_IMAP) ? "imap"
                                                 : NULL;
        if (def->behaviour == FLEET_TLS || def->behaviour == FLEET_HELLO_STALL ||
            def->behaviour == FLEET_HELLO_RESET || def->behaviour == FLEET_STAPLE_STALL ||
            def->behaviour == FLEET_KEYLESS) {
            if (build_leaf(f, i) != 0 || (f->rt[i].ctx = make_ctx(f, s)) == NULL ||
                ((def->flags & LEAF_WRONG_KEY) && swap_leaf_key(f, s) != 0) ||
                ((def->flags & LEAF_RSA_KX) &&
                 SSL_CTX_set_cipher_list(f->rt[i].ctx, "kRSA:@SECLEVEL=0") != 1) ||
                ((def->flags & LEAF_DHE) &&
                 (SSL_CTX_set_cipher_list(f->rt[i].ctx, "kDHE+aRSA:@SECLEVEL=0") != 1 ||
                  SSL_CTX_set_dh_auto(f->rt[i].ctx, 1) != 1))) {
                fprintf(stderr, "fleet: cannot make the certificate for scenario %s\n", def->name);
                ERR_print_errors_fp(stderr);
                goto fail;
            }
        }
        if (def->behaviour != FLEET_CLOSED && def->behaviour != FLEET_BACKLOG && def->share == NULL)
            n_named++;
    }
    if (build_revocation(f) != 0) {
        fail_msg("cannot make the CRL and the OCSP answers");
        goto fail;
    }

    if (build_bulk(f, o) != 0 || build_custom(f, o) != 0)
        goto fail;
    size_t n_custom_ports = 0;
    for (size_t i = 0; i < f->n_custom; i++) {
        f->custom[i].first_listener = n_named + o->bulk + n_custom_ports;
        n_custom_ports += f->custom[i].n_ports;
    }

    raise_nofile(n_named + o->bulk + n_custom_ports + 4096);
    f->listeners = calloc(n_named + o->bulk + n_custom_ports, sizeof *f->listeners);
    if (f->listeners == NULL) {
        fail_msg("out of memory");
        goto fail;
    }
    f->n_named_listeners = n_named;
    f->n_listeners = n_named + o->bulk + n_custom_ports;
    size_t next = 0;
    for (size_t i = 0; i < SCENARIO_COUNT; i++) {
        const struct scenario_def *def = &scenario_table[i];
        int rc = 0;
        if (!f->rt[i].active)
            continue;
        if (def->behaviour == FLEET_CLOSED) {
            f->rt[i].closed_fd = bind_closed(&f->sc[i].port);
            if (f->rt[i].closed_fd < 0)
                rc = uv_translate_sys_error(errno);
        } else if (def->behaviour == FLEET_BACKLOG) {
            if (bind_backlog(&f->rt[i], &f->sc[i].port) != 0)
                rc = uv_translate_sys_error(errno);
        } else if (def->share != NULL) {
            size_t j = scenario_index(def->share);
            if (j >= i || f->rt[j].listener == NULL) {
                fprintf(stderr, "fleet: scenario %s shares an unknown port\n", def->name);
                goto fail;
            }
            f->rt[i].listener = f->rt[j].listener;
            f->sc[i].port = f->sc[j].port;
        } else {
            struct listener *l = &f->listeners[next++];
            rc = bind_listener(f, l, i, false, &f->loops[0], "127.0.0.1", 0);
            f->rt[i].listener = l;
            f->sc[i].port = l->port;
        }
        if (rc != 0) {
            fprintf(stderr, "fleet: cannot listen on 127.0.0.1 for scenario %s: %s\n", def->name,
                    uv_strerror(rc));
            goto fail;
        }
    }
    size_t per_port = f->n_bulk_addrs > 0 ? f->n_bulk_addrs : 1;
    if (o->bulk_port_base != 0 && o->bulk > 0 &&
        o->bulk_port_base + (o->bulk - 1) / per_port > 65535) {
        fprintf(stderr, "fleet: bulk ports from %u do not fit below 65536\n",
                (unsigned)o->bulk_port_base);
        goto fail;
    }
    for (size_t i = 0; i < o->bulk; i++) {
        size_t scenario = scenario_index(bulk_names[i % 4]);
        struct listener *l = &f->listeners[n_named + i];
        l->bulk_index = i;
        const char *ip = fleet_bulk_addr(f, i);
        uint16_t port = o->bulk_port_base != 0 ? (uint16_t)(o->bulk_port_base + i / per_port) : 0;
        int rc = bind_listener(f, l, scenario, true, &f->loops[i % f->n_loops], ip, port);
        if (rc != 0) {
            fprintf(stderr, "fleet: cannot listen on %s:%u for bulk port %zu of %zu: %s\n", ip,
                    (unsigned)port, i, o->bulk, uv_strerror(rc));
            goto fail;
        }
    }

    size_t ok_scenario = scenario_index("ok"); /* a FLEET_TLS scenario of every fleet */
    for (size_t i = 0; i < f->n_custom; i++) {
        struct custom_rt *cr = &f->custom[i];
        for (size_t k = 0; k < cr->n_ports; k++) {
            struct listener *l = &f->listeners[cr->first_listener + k];
            l->custom = cr;
            l->custom_port = k;
            int rc = bind_listener(f, l, ok_scenario, false, &f->loops[0], "127.0.0.1", 0);
            if (rc != 0) {
                fprintf(stderr, "fleet: cannot listen on 127.0.0.1 for custom endpoint %zu: %s\n",
                        i, uv_strerror(rc));
                goto fail;
            }
        }
    }

    /* The loops' threads take no signals: they stay with the caller's threads. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (size_t k = 0; k < f->n_loops; k++) {
        struct fleet_loop *lp = &f->loops[k];
        int rc = uv_thread_create(&lp->thread, fleet_thread, lp);
        if (rc != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            fprintf(stderr, "fleet: cannot start the server thread: %s\n", uv_strerror(rc));
            goto fail;
        }
        lp->running = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return f;

fail:
    fleet_free(f);
    return NULL;
}

void fleet_stop(struct fleet *f)
{
    if (f != NULL)
        fleet_free(f);
}

size_t fleet_count(const struct fleet *f)
{
    return f->n_active;
}

const struct fleet_scenario *fleet_at(const struct fleet *f, size_t i)
{
    return i < f->n_active ? &f->sc[f->order[i]] : NULL;
}

const struct fleet_scenario *fleet_get(const struct fleet *f, const char *name)
{
    size_t i = scenario_index(name);
    return i < SCENARIO_COUNT && f->rt[i].active ? &f->sc[i] : NULL;
}

const char *fleet_ca_file(const struct fleet *f)
{
    return f->ca_file;
}

const char *fleet_dir(const struct fleet *f)
{
    return f->dir;
}

const struct pki_cert *fleet_root(const struct fleet *f)
{
    return &f->root;
}

const struct pki_cert *fleet_intermediate(const struct fleet *f)
{
    return &f->intermediate;
}

int64_t fleet_now(const struct fleet *f)
{
    return f->now;
}

uint16_t fleet_http_port(const struct fleet *f)
{
    return f->http_port;
}

unsigned fleet_http_requests(const struct fleet *f, const char *path)
{
    return httpd_requests(f->httpd, path);
}

const char *fleet_bulk_addr(const struct fleet *f, size_t i)
{
    if (i >= f->n_bulk)
        return NULL;
    return f->n_bulk_addrs > 0 ? f->bulk_addrs[i % f->n_bulk_addrs] : "127.0.0.1";
}

uint16_t fleet_bulk_port(const struct fleet *f, size_t i)
{
    return i < f->n_bulk ? f->listeners[f->n_named_listeners + i].port : 0;
}

const struct fleet_scenario *fleet_bulk_scenario(const struct fleet *f, size_t i)
{
    return i < f->n_bulk ? &f->sc[f->listeners[f->n_named_listeners + i].scenario] : NULL;
}

uint64_t fleet_bulk_accepted(const struct fleet *f, size_t i)
{
    if (i >= f->n_bulk)
        return 0;
    return atomic_load_explicit(&f->listeners[f->n_named_listeners + i].accepted,
                                memory_order_relaxed);
}

uint64_t fleet_accepted(const struct fleet *f, const char *name)
{
    uint64_t sum = 0;
    if (name == NULL || strcmp(name, "bulk") == 0) {
        size_t from = name == NULL ? 0 : f->n_named_listeners;
        size_t to = name == NULL ? f->n_listeners : f->n_named_listeners + f->n_bulk;
        for (size_t i = from; i < to; i++)
            sum += atomic_load_explicit(&f->listeners[i].accepted, memory_order_relaxed);
        return sum;
    }
    size_t i = scenario_index(name);
    return i < SCENARIO_COUNT ? atomic_load_explicit(&f->rt[i].accepted, memory_order_relaxed) : 0;
}

uint64_t fleet_status_requests(const struct fleet *f, const char *name)
{
    size_t i = scenario_index(name);
    return i < SCENARIO_COUNT
               ? atomic_load_explicit(&f->rt[i].status_requests, memory_order_relaxed)
               : 0;
}

uint16_t fleet_custom_port(const struct fleet *f, size_t i, size_t k)
{
    if (i >= f->n_custom || k >= f->custom[i].n_ports)
        return 0;
    return f->listeners[f->custom[i].first_listener + k].port;
}

uint64_t fleet_custom_accepted(const struct fleet *f, size_t i)
{
    return i < f->n_custom ? atomic_load_explicit(&f->custom[i].accepted, memory_order_relaxed) : 0;
}

uint64_t fleet_custom_status_requests(const struct fleet *f, size_t i)
{
    return i < f->n_custom
               ? atomic_load_explicit(&f->custom[i].status_requests, memory_order_relaxed)
               : 0;
}
