/* The test fleet server: one process (its own thread and libuv loop), many
 * ports on 127.0.0.1, each a scripted endpoint: good certificates of every
 * status, broken chains, revoked and stapling servers, and misbehaving peers.
 * An HTTP server of its own (httpd.h) on 127.0.0.1 serves the fleet
 * intermediate's CRL and an OCSP answer per leaf.  Tests and the demo fleet
 * start it; certsweep scans it. */
#ifndef CS_TEST_FLEET_H
#define CS_TEST_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/pki.h"

enum fleet_behaviour {
    FLEET_TLS,    /* serve the scenario's chain */
    FLEET_CLOSED, /* nothing listens on the port (connection refused) */
    FLEET_SILENT, /* accept and never send a byte */
    FLEET_RESET,  /* accept, then reset the connection on the first bytes */
    FLEET_HTTP,   /* answer a plain-HTTP 400 response, then close */
    /* hostile peers (fleet_options.hostile) */
    FLEET_DRIP,        /* one byte a second of a TLS record that never completes, forever */
    FLEET_NOISE,       /* pseudo-random bytes from accept on, as fast as the socket takes them */
    FLEET_HELLO_STALL, /* TLS, but only the server's first record (ServerHello) goes out */
    FLEET_HELLO_RESET, /* the ServerHello record, then (100 ms later) RST */
    FLEET_HANGUP,      /* reads the ClientHello, then closes (FIN) */
    FLEET_ALERT,       /* a fatal handshake_failure alert record instead of a ServerHello */
    FLEET_SSH,         /* an SSH banner on accept */
    FLEET_SMTP,        /* an SMTP 220 banner on accept; 500 to what follows */
    FLEET_BACKLOG,     /* a listener (backlog 0) whose accept queue the fleet filled itself:
                          nothing more gets through the TCP handshake */
    /* TLS 1.2 with a staple (status_request in the ServerHello), but the output stops
       after the Certificate message: no CertificateStatus, no ServerHelloDone; the
       connection stays open */
    FLEET_STAPLE_STALL,
    /* TLS 1.2: the server's output stops after its Certificate message and the
       connection is closed: on the wire, an impostor that holds someone else's
       chain and no key */
    FLEET_KEYLESS,
};

#define FLEET_MAX_CHAIN 128

/* The plaintext preamble an endpoint speaks before its TLS, as a mail server
   does: the greeting, the capabilities offering STARTTLS, the go-ahead to
   STARTTLS, then the handshake on the same connection. */
enum fleet_starttls {
    FLEET_STARTTLS_NONE, /* TLS from the first byte */
    FLEET_STARTTLS_SMTP, /* 220 greeting, EHLO, STARTTLS, 220 (RFC 3207) */
    FLEET_STARTTLS_IMAP, /* * OK greeting, CAPABILITY, STARTTLS, OK (RFC 3501) */
};

struct fleet_scenario {
    const char *name; /* "ok", "warning", ... (see fleet.c's table) */
    enum fleet_behaviour behaviour;
    uint16_t port;                /* on 127.0.0.1 */
    const char *host;             /* the name to scan it as: "<name>.fleet.test" */
    struct pki_cert leaf;         /* x509 NULL for non-TLS behaviours */
    X509 *chain[FLEET_MAX_CHAIN]; /* what follows the leaf on the wire */
    size_t chain_len;
    int tls_max;               /* 0, or TLS1_2_VERSION for the TLS 1.2-only server */
    const char *expect_status; /* "OK", "WARNING", ... as certsweep must classify it
                                  with the fleet's CA file and default thresholds, and
                                  no --ocsp or --crl ("revoked-crl" is CRITICAL with
                                  either: only its CRL entry and its responder tell) */
    bool hostile;              /* one of the hostile scenarios */
    const char *scheme;        /* "smtp" or "imap": it speaks that STARTTLS preamble first,
                                  scan it as scheme://host:port; NULL: TLS from the first byte */
};

/* An endpoint a test builds itself: its own leaf (or one leaf per port),
   chain and stapled OCSP response, served with TLS on n_ports ports of
   127.0.0.1 (fleet_custom_port).  The fleet keeps its own references and
   copies: the caller may free everything once fleet_start has returned. */
struct fleet_custom {
    const char *name;             /* for messages; may be NULL */
    const struct pki_cert *leaf;  /* the leaf of every port, or NULL with leafs */
    const struct pki_cert *leafs; /* n_ports leafs, port k serving leafs[k]; or NULL */
    X509 *const *chain;           /* what follows the leaf on the wire */
    size_t chain_len;
    const unsigned char *staple; /* a DER OCSPResponse sent to clients that ask
                                    (status_request); NULL: none (no extension) */
    size_t staple_len;
    int tls_max;    /* 0, or TLS1_2_VERSION for a TLS 1.2-only endpoint */
    size_t n_ports; /* 0 counts as 1 */
};

struct fleet_options {
    int64_t now;     /* base of every validity period (0: time(NULL)) */
    size_t bulk;     /* extra ports 0..bulk-1 for volume tests */
    const char *dir; /* where to write ca.pem (NULL: a fresh temp dir) */
    bool hostile;    /* add the hostile scenarios (misbehaving peers, certificates
                        built to break parsers and terminals); see fleet.c */
    bool rsa16384;   /* add "rsa16384": a leaf with an RSA-16384 key, from the
                        per-machine cache (pki_cached_rsa16384: minutes if missing) */
    bool mail;       /* add "smtp-starttls" (smtp.fleet.test) and "imap-starttls"
                        (imap.fleet.test): valid leafs behind an SMTP and an IMAP
                        STARTTLS preamble */
    /* Benchmark knobs; all zero keeps the behaviour above. */
    size_t bulk_addresses;   /* 0: bulk ports on 127.0.0.1; N: bulk port i on address
                                i % N of 127.0.1.1, 127.0.1.2, ... (see fleet_bulk_addr) */
    uint16_t bulk_port_base; /* 0: kernel-chosen bulk ports; P: bulk port i is P + i / N
                                (N = bulk_addresses, or 1) */
    unsigned hold_ms;        /* wait this long after accepting before reading the
                                ClientHello (handshakes stay in flight) */
    bool unique;             /* every bulk port its own leaf (and key) */
    bool wildcard;           /* bulk leafs name *.bulk.test (and the bulk addresses) */
    bool rsa_kx;             /* bulk ports: TLS 1.2 with RSA key transport only, so the
                                server does no public-key operation before its
                                Certificate message (cheap handshakes for streaming runs) */
    size_t threads;          /* 0 or 1: one loop; N: N loops, bulk listeners split among
                                them (the named scenarios stay on the first) */
    bool bulk_smtp;          /* bulk ports speak the SMTP preamble before TLS (greeting
                                bulk.fleet.test) */
    /* Endpoints of the test's own making, served on the first loop. */
    const struct fleet_custom *custom;
    size_t n_custom;
};

struct fleet;

/* Builds the PKI, binds every port and starts serving on a thread of its own.
   NULL on failure (a line on stderr says why). */
struct fleet *fleet_start(const struct fleet_options *o);
/* Stops the thread, closes every port, frees everything, and removes the temp
   dir if the fleet made it. */
void fleet_stop(struct fleet *f);

size_t fleet_count(const struct fleet *f);
const struct fleet_scenario *fleet_at(const struct fleet *f, size_t i);
const struct fleet_scenario *fleet_get(const struct fleet *f, const char *name);
/* PEM file holding the trusted root (not the "unknown CA" root). */
const char *fleet_ca_file(const struct fleet *f);
const char *fleet_dir(const struct fleet *f);
const struct pki_cert *fleet_root(const struct fleet *f);
const struct pki_cert *fleet_intermediate(const struct fleet *f);

/* Bulk ports: port i serves the "ok", "warning", "critical" or "expired"
   leaf (i % 4), all with an IP SAN for 127.0.0.1, so they can be scanned as
   127.0.0.1:PORT without SNI.  With unique, wildcard or rsa_kx, the bulk ports
   serve leafs of their own with the same validity (i % 4), naming 127.0.0.1,
   the bulk addresses and, with wildcard, *.bulk.test. */
uint16_t fleet_bulk_port(const struct fleet *f, size_t i);
/* The IPv4 address bulk port i listens on: "127.0.0.1", or with
   bulk_addresses = N, 127.0.1.1 + (i % N) (127.0.1.1 ... 127.0.1.254,
   127.0.2.1, ...).  NULL when i is out of range. */
const char *fleet_bulk_addr(const struct fleet *f, size_t i);
const struct fleet_scenario *fleet_bulk_scenario(const struct fleet *f, size_t i);

/* Connections accepted so far (for "probed once" checks): name = a scenario's
   name counts that scenario's connections (on the shared SNI port, each
   connection counts for the scenario its ClientHello picked: "sni-a" without
   or with an unknown SNI); "bulk" = all bulk ports; NULL = every port. */
uint64_t fleet_accepted(const struct fleet *f, const char *name);
/* Handshakes of scenario name (after SNI) in which the client asked for the
   certificate status (status_request), whether or not a staple was sent. */
uint64_t fleet_status_requests(const struct fleet *f, const char *name);
/* Connections accepted so far on bulk port i. */
uint64_t fleet_bulk_accepted(const struct fleet *f, size_t i);

/* Port k (0 <= k < n_ports) of custom endpoint i; 0 when out of range. */
uint16_t fleet_custom_port(const struct fleet *f, size_t i, size_t k);
/* Connections accepted so far on every port of custom endpoint i. */
uint64_t fleet_custom_accepted(const struct fleet *f, size_t i);
/* Handshakes of custom endpoint i in which the client asked for the
   certificate status (status_request), whether or not a staple was sent. */
uint64_t fleet_custom_status_requests(const struct fleet *f, size_t i);

/* The fleet's "now": o->now, or the time fleet_start read when that was 0. */
int64_t fleet_now(const struct fleet *f);

/* The fleet's HTTP server on 127.0.0.1 (fleet_http_port), what the leafs
   issued under the fleet intermediate name as their revocation sources:
     /fleet.crl     the intermediate's CRL (DER; thisUpdate now - 1 h, nextUpdate
                    now + 7 d), listing "revoked" (keyCompromise, revoked at
                    now - 2 d) and "revoked-crl" (superseded, at now - 1 d); also
                    written to DIR/fleet.crl
     /ocsp/NAME     scenario NAME's OCSP answer (DER OCSPResponse signed by the
                    intermediate; thisUpdate now - 1 h, nextUpdate now + 4 d):
                    good, or revoked as in the CRL
   Each such leaf has AIA OCSP http://127.0.0.1:PORT/ocsp/NAME and CRL DP
   http://127.0.0.1:PORT/fleet.crl; bulk leafs of their own (unique, wildcard,
   rsa_kx) only the CRL DP.  Leafs of the other issuers (self-signed, unknown CA,
   expired intermediate, the hostile ANSI-named and long-chain ones) keep URIs
   under ocsp.fleet.test and crl.fleet.test that nobody answers for
   (certsweep-fleet's resolve.args pins both, port 80, to 127.0.0.1: no scan of
   the fleet needs DNS).  Stapled (status_request, TLS 1.2 and 1.3): "stapled",
   "revoked" and (hostile, TLS 1.2 only) "staple-stall" their /ocsp answer,
   "staple-expired" a good answer whose nextUpdate was now - 2 d. */
uint16_t fleet_http_port(const struct fleet *f);
/* Requests the HTTP server answered so far for path ("/fleet.crl",
   "/ocsp/ok"; NULL: for any path, including unknown ones). */
unsigned fleet_http_requests(const struct fleet *f, const char *path);

#endif
