/* The result record: one per probed endpoint, and the field table that every
 * report writer walks.  The order of CS_FIELDS is the CSV header and the JSON
 * key order (README.md, "The record").  The helpers every module uses are in
 * util.h, which this header includes. */
#ifndef CS_RESULT_H
#define CS_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/util.h"

#define CS_STATUS_MAP(X)                                                                           \
    X(OK)                                                                                          \
    X(WARNING)                                                                                     \
    X(CRITICAL)                                                                                    \
    X(EXPIRED)                                                                                     \
    X(ERROR)

enum cs_status {
#define X(name) CS_##name,
    CS_STATUS_MAP(X)
#undef X
        CS_STATUS_COUNT
};

#define CS_INT_NONE INT64_MIN /* null integer / timestamp */

/* One certificate of the presented chain (--chain), leaf first. */
struct cs_chain_cert {
    char *subject; /* RFC 4514, as the record's subject */
    char *issuer;
    char *serial;
    char *sha256;
    char *key;
    int64_t not_before;
    int64_t not_after;
};

/* A target's labels (inventory columns, name=value on a targets line): the
   names and values as written, in the order given.  Not fields of the table:
   CSV adds a column per label name after the fields, JSON a "labels" object. */
struct cs_labels {
    char **name;
    char **value;
    size_t n;
};

struct cs_result {
    char *host;    /* the target as named */
    int64_t port;  /* CS_INT_NONE when a bad line had none */
    char *address; /* "" if never resolved */
    char *sni;     /* "" for none */
    enum cs_status status;
    char *reason;
    int64_t days_remaining; /* CS_INT_NONE without a certificate */
    int64_t not_before;     /* unix seconds, CS_INT_NONE when absent */
    int64_t not_after;
    char *subject; /* NULL when absent */
    char *issuer;
    struct cs_strlist sans;
    struct cs_strlist ocsp_uris;
    struct cs_strlist crl_uris;
    char *serial;
    char *sha256;
    char *key;
    char *signature;
    char *tls_version;
    int64_t chain_not_after;
    char *verify;
    int hostname_match; /* 1, 0, or -1 for null */
    int64_t elapsed_ms;
    char *error;             /* "" unless ERROR */
    int ocsp_stapled;        /* 1, 0, or -1 for null (no handshake) */
    char *revocation;        /* good, revoked, unknown, unchecked, "error: ..."; NULL: none */
    char *revocation_source; /* staple, ocsp, crl; NULL without an answer */
    int64_t revoked_at;
    char *revocation_reason;        /* RFC 5280 reason name, when revoked */
    int64_t revocation_this_update; /* of the answer used (CRL: lastUpdate) */
    int64_t revocation_next_update;
    int key_proven; /* 1: the server proved it holds the leaf's key in this
                                 handshake; 0: it did not (or --cert-only); -1: null
                                 (no chain) */
    char *protocol; /* the probe: "tls", "smtp", "imap", ...; NULL for a bad line */
    /* --policy, --policy-file: what the policy found, a phrase each */
    struct cs_strlist findings;
    char *source; /* a certificate file: its path; NULL for an endpoint */
    int deployed; /* --expect: 1 the newest certificate on disk for the name is
                       served, 0 an older one is, -1 null (nothing on disk covers it) */
    /* --history (scanner/history.h): what changed since the endpoint's
       previous observation ("new", "same", ...; NULL without history) and
       when it was first observed (CS_INT_NONE without). */
    char *change;
    int64_t first_seen;
    /* Not a field of the table: the presented chain, only with --chain
       (JSON, JSONL and text show it; CSV keeps one row per endpoint). */
    struct cs_chain_cert *chain;
    size_t chain_n;
    struct cs_labels labels; /* the target's labels, carried unchanged */
};

enum cs_field_kind { CS_FK_STR, CS_FK_INT, CS_FK_TIME, CS_FK_LIST, CS_FK_BOOL, CS_FK_STATUS };

/* X(id, name, kind, member) */
#define CS_FIELDS(X)                                                                               \
    X(HOST, "host", CS_FK_STR, host)                                                               \
    X(PORT, "port", CS_FK_INT, port)                                                               \
    X(ADDRESS, "address", CS_FK_STR, address)                                                      \
    X(SNI, "sni", CS_FK_STR, sni)                                                                  \
    X(STATUS, "status", CS_FK_STATUS, status)                                                      \
    X(REASON, "reason", CS_FK_STR, reason)                                                         \
    X(DAYS_REMAINING, "days_remaining", CS_FK_INT, days_remaining)                                 \
    X(NOT_BEFORE, "not_before", CS_FK_TIME, not_before)                                            \
    X(NOT_AFTER, "not_after", CS_FK_TIME, not_after)                                               \
    X(SUBJECT, "subject", CS_FK_STR, subject)                                                      \
    X(ISSUER, "issuer", CS_FK_STR, issuer)                                                         \
    X(SANS, "sans", CS_FK_LIST, sans)                                                              \
    X(OCSP_URIS, "ocsp_uris", CS_FK_LIST, ocsp_uris)                                               \
    X(CRL_URIS, "crl_uris", CS_FK_LIST, crl_uris)                                                  \
    X(SERIAL, "serial", CS_FK_STR, serial)                                                         \
    X(SHA256, "sha256", CS_FK_STR, sha256)                                                         \
    X(KEY, "key", CS_FK_STR, key)                                                                  \
    X(SIGNATURE, "signature", CS_FK_STR, signature)                                                \
    X(TLS_VERSION, "tls_version", CS_FK_STR, tls_version)                                          \
    X(CHAIN_NOT_AFTER, "chain_not_after", CS_FK_TIME, chain_not_after)                             \
    X(VERIFY, "verify", CS_FK_STR, verify)                                                         \
    X(HOSTNAME_MATCH, "hostname_match", CS_FK_BOOL, hostname_match)                                \
    X(ELAPSED_MS, "elapsed_ms", CS_FK_INT, elapsed_ms)                                             \
    X(ERROR, "error", CS_FK_STR, error)                                                            \
    X(OCSP_STAPLED, "ocsp_stapled", CS_FK_BOOL, ocsp_stapled)                                      \
    X(REVOCATION, "revocation", CS_FK_STR, revocation)                                             \
    X(REVOCATION_SOURCE, "revocation_source", CS_FK_STR, revocation_source)                        \
    X(REVOKED_AT, "revoked_at", CS_FK_TIME, revoked_at)                                            \
    X(REVOCATION_REASON, "revocation_reason", CS_FK_STR, revocation_reason)                        \
    X(REVOCATION_THIS_UPDATE, "revocation_this_update", CS_FK_TIME, revocation_this_update)        \
    X(REVOCATION_NEXT_UPDATE, "revocation_next_update", CS_FK_TIME, revocation_next_update)        \
    X(KEY_PROVEN, "key_proven", CS_FK_BOOL, key_proven)                                            \
    X(PROTOCOL, "protocol", CS_FK_STR, protocol)                                                   \
    X(FINDINGS, "findings", CS_FK_LIST, findings)                                                  \
    X(SOURCE, "source", CS_FK_STR, source)                                                         \
    X(DEPLOYED, "deployed", CS_FK_BOOL, deployed)                                                  \
    X(CHANGE, "change", CS_FK_STR, change)                                                         \
    X(FIRST_SEEN, "first_seen", CS_FK_TIME, first_seen)

enum cs_field {
#define X(id, name, kind, member) CS_F_##id,
    CS_FIELDS(X)
#undef X
        CS_FIELD_COUNT
};

/* One field's value, as a writer sees it.  null is true for an absent value
 * (a NULL string, CS_INT_NONE, hostname_match -1); s is then NULL. */
struct cs_value {
    enum cs_field_kind kind;
    bool null;
    const char *s;                 /* STR, STATUS, and TIME (formatted) */
    int64_t i;                     /* INT, TIME (raw seconds), BOOL (0/1) */
    const struct cs_strlist *list; /* LIST */
    char buf[24];                  /* storage for a formatted TIME */
};

extern const char *const cs_field_names[CS_FIELD_COUNT];

/* Fills v with field f of r. */
void cs_result_get(const struct cs_result *r, enum cs_field f, struct cs_value *v);

const char *cs_status_name(enum cs_status s);
/* Parses "OK", "warning", ...; returns -1 if unknown. */
int cs_status_parse(const char *s);
/* Sort key: lower is more urgent (EXPIRED, CRITICAL, WARNING, ERROR, OK). */
int cs_status_urgency(enum cs_status s);

/* A fresh record for host:port with every string "" or NULL as appropriate. */
void cs_result_init(struct cs_result *r);
/* The chain of src into dst (replacing dst's), and freeing it. */
void cs_chain_copy(struct cs_result *dst, const struct cs_result *src);
void cs_chain_free(struct cs_result *r);
/* Appends a copy of name=value; copies all of src into dst (replacing
   dst's); the value of name, or NULL; frees. */
void cs_labels_add(struct cs_labels *l, const char *name, const char *value);
void cs_labels_copy(struct cs_labels *dst, const struct cs_labels *src);
const char *cs_labels_get(const struct cs_labels *l, const char *name);
void cs_labels_free(struct cs_labels *l);

/* Deep copy and free (labels and chain included). */
void cs_result_copy(struct cs_result *dst, const struct cs_result *src);
void cs_result_free(struct cs_result *r);

/* Scan-wide information that the documents carry. */
struct cs_scan_info {
    const char *tool; /* "certsweep" */
    const char *version;
    int64_t started_at;
    int64_t now;       /* classification time */
    int64_t warn_secs; /* -1: lifetime-aware default */
    int64_t crit_secs;
    uint64_t targets; /* filled in at close time */
    bool ocsp, crl;   /* --ocsp, --crl (staples are always checked) */
    bool require_revocation;
    /* Label names known before the first record (inventory headers, the
       pre-read of regular targets files), in first-seen order: the CSV
       report's columns after the fields.  NULL: none. */
    const struct cs_strlist *label_names;
    /* --label NAME: the text table's label columns, in order. */
    char *const *text_labels;
    size_t n_text_labels;
    unsigned fail_on; /* --fail-on: bit (1 << status) per counted status (nagios) */
    /* --only: bit (1 << status) per status the row-per-endpoint reports keep
       (cs_writer_record drops the others; writers with every_record see all);
       0: every record */
    unsigned only;
    unsigned sort; /* --sort: enum cs_sort (report/order.h); 0: not given */
    /* The text table's width in terminal columns (0: 80): text_width_stdout
       for the table on standard output (COLUMNS, else the terminal's width),
       text_width for a -o FILE.txt (COLUMNS, else 80); text_wide (--wide):
       no cell is cut, whatever the width. */
    unsigned text_width;
    unsigned text_width_stdout;
    bool text_wide;
};

struct cs_summary {
    uint64_t count[CS_STATUS_COUNT];
    int64_t finished_at;
    uint64_t targets;
    bool complete;         /* false when the scan was interrupted */
    uint64_t crl_fetches;  /* CRLs fetched (once per URL) */
    uint64_t ocsp_fetches; /* OCSP requests sent */
    /* --history: the changes since the previous scan; NULL without it */
    const struct cs_history_summary *history;
};

/* What --history adds to a scan's summary (scanner/history.c fills it). */
#define CS_CHANGE_MAP(X)                                                                           \
    X(NEW, "new")                                                                                  \
    X(SAME, "same")                                                                                \
    X(RENEWED, "renewed")                                                                          \
    X(REPLACED, "replaced")                                                                        \
    X(WORSE, "worse")                                                                              \
    X(BETTER, "better")

enum cs_change {
#define X(id, name) CS_CHANGE_##id,
    CS_CHANGE_MAP(X)
#undef X
        CS_CHANGE_COUNT
};

/* An endpoint of the previous complete scan that this scan did not see. */
struct cs_gone {
    char *host;
    int64_t port;
    char *sni;
    char *protocol;
    char *address;         /* as last observed */
    enum cs_status status; /* as last observed */
    int64_t not_after;     /* CS_INT_NONE: no certificate */
    int64_t last_seen;     /* start of the scan that saw it last */
};

#define CS_GONE_LIST_MAX 1000 /* gone endpoints listed in a report; all are counted */

struct cs_history_summary {
    int64_t scan_id;          /* this scan's row */
    int64_t previous_scan_id; /* the previous complete scan, 0 if none */
    uint64_t changes[CS_CHANGE_COUNT];
    bool gone_known;           /* false when this scan is partial: gone cannot be told */
    uint64_t gone;             /* endpoints gone, all of them */
    struct cs_gone *gone_list; /* the first CS_GONE_LIST_MAX, by host and port */
    size_t gone_n;
};

const char *cs_change_name(enum cs_change c);

#endif
