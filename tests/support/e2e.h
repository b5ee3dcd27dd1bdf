/* What the real-server suites share: one certsweep run against servers on
 * 127.0.0.1 (names pinned, no resolver left to ask) with its CSV and JSON
 * reports read back and layout-checked, and the checks of a record against
 * the test PKI's leaf or a refusal.  Built into each of those programs (it
 * asserts with criterion), not into the support library. */
#ifndef CS_TEST_E2E_H
#define CS_TEST_E2E_H

#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "probes/probe.h"
#include "tests/support/pki.h"
#include "tests/support/reports.h"

/* A suite's throw-away PKI: a root, an intermediate and the server's leaf. */
struct e2e_pki {
    struct pki_cert root, inter, leaf;
};

struct e2e_pki_spec {
    const char *name;           /* "certsweep NAME Root", "certsweep NAME Intermediate" */
    const char *host;           /* the leaf's one name (DNS:host) */
    const char *const *subject; /* pairs as in pki_spec; NULL: CN=host */
    long days_before;           /* notBefore that many days ago */
    /* notAfter half a day past that many days from now: days_remaining does
       not depend on how long the scan takes */
    long days;
    enum pki_key key;
};

/* Makes the PKI and writes dir/root.pem (the root), dir/chain.pem (leaf and
   intermediate) and dir/leaf.key. */
void e2e_pki_make(struct e2e_pki *p, const char *dir, const struct e2e_pki_spec *spec);
void e2e_pki_free(struct e2e_pki *p);
/* A fresh directory (temp_dir) holding that PKI (e2e_pki_make): its path. */
char *e2e_dir_with_pki(struct e2e_pki *p, const struct e2e_pki_spec *spec);
/* Frees the PKI, removes *dir and frees it (NULL: nothing to remove). */
void e2e_dir_free(char **dir, struct e2e_pki *p);
/* dir/name (free it). */
char *e2e_path(const char *dir, const char *name);

struct e2e_scan_args {
    const char *dir;            /* r.csv and r.json are written here */
    const char *ca_file;        /* --ca-file; NULL: dir/root.pem (e2e_pki_make's) */
    const char *host;           /* pinned to 127.0.0.1 ... */
    const uint16_t *ports;      /* ... at each of these ports (0 ends the list) */
    const char *const *extra;   /* options before the targets; NULL: none */
    const char *const *targets; /* NULL-terminated */
};

/* certsweep --ca-file CA --resolve HOST:PORT:127.0.0.1 ... --dns-server
   127.0.0.1:9 -o json -o csv -q EXTRA... TARGETS...; the reports are read
   back into s, have the record's layout and say the scan is complete. */
void e2e_scan(struct report_scan *s, const struct e2e_scan_args *a);
/* e2e_scan of one target, host pinned at port, the probe named by
   --starttls when starttls is not NULL; asserts the reports hold its one
   record. */
void e2e_scan_one(struct report_scan *s, const char *dir, const char *host, uint16_t port,
                  const char *target, const char *starttls);

/* A probe is reached by its name (--starttls NAME), by --starttls auto at its
   default port, and by each URL scheme of schemes (NULL-ended) at that port. */
void e2e_expect_registered(const struct cs_probe *probe, const char *const *schemes);

/* The CSV cell of host:port's row in column; asserts both exist. */
const char *e2e_cell(const struct report_scan *s, const char *host, uint16_t port,
                     const char *column);
/* The JSON record of host:port; asserts it exists. */
json_t *e2e_record(const struct report_scan *s, const char *host, uint16_t port);
/* Its value at key, which must be a string. */
const char *e2e_jstr(const struct report_scan *s, const char *host, uint16_t port, const char *key);

/* A record that reached the test PKI's leaf. */
struct e2e_leaf_want {
    const char *host; /* host and sni */
    uint16_t port;
    const char *protocol;
    const char *subject;
    const char *issuer;
    const char *sans;
    const char *key; /* "EC-256" */
    long days;       /* days_remaining; the reason is "expires in DAYS days" */
    /* exactly this, or NULL: any "TLSv1.x" */
    const char *tls_version;
    X509 *leaf; /* serial, sha256, not_before, not_after (= chain_not_after) */
};

/* Every field of want's record, in the CSV and in the JSON: status OK, the
   reason, protocol, host, port, address 127.0.0.1, sni, subject, issuer,
   sans, serial, sha256, not_before, not_after, chain_not_after,
   days_remaining, key, verify ok, hostname_match and key_proven true, no
   error, tls_version.  A failure names the record, the field and both
   values. */
void e2e_expect_leaf(const struct report_scan *s, const struct e2e_leaf_want *want);

/* A record whose preamble failed: ERROR, exactly reason (also its error),
   protocol, no certificate, in the CSV and in the JSON. */
void e2e_expect_refused(const struct report_scan *s, const char *host, uint16_t port,
                        const char *protocol, const char *reason);

#endif
