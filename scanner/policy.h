/* Certificate hygiene policy (README "Policy"), off unless asked for:
 * --policy baseline judges a publicly trusted leaf by the CA/Browser Forum
 * Baseline Requirements and the browsers' CT policies, --policy-file FILE by
 * an organisation's own rules.  Each finding is a phrase in the record's
 * findings list and reason, and raises the status (never lowers it). */
#ifndef CS_POLICY_H
#define CS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "scanner/result.h"

/* One rule of a policy file: off, or the status a finding raises to. */
struct cs_policy_rule {
    enum cs_status level; /* CS_OK: off; CS_WARNING, or CS_CRITICAL when marked critical */
    uint64_t value;       /* the rule's number (bits, days), when it takes one */
    unsigned line;        /* where the file gave it */
};

struct cs_policy {
    bool baseline; /* --policy baseline */
    struct cs_policy_rule min_rsa_bits, min_ec_bits, max_days, no_wildcards, allow_issuer;
    struct cs_strlist issuers; /* allow-issuer: the leaf's issuer must be one of these */
};

/* Limits of a policy file: no line, and no file, grows memory past them. */
#define CS_POLICY_LINE_MAX 4096
#define CS_POLICY_LINES_MAX 10000
#define CS_POLICY_ISSUERS_MAX 1000

void cs_policy_init(struct cs_policy *p);
void cs_policy_free(struct cs_policy *p);
/* Whether any rule is on. */
bool cs_policy_active(const struct cs_policy *p);

/* Reads the rules of a policy file into p.  0, or -1 with "FILE:LINE: why"
   (or "FILE: why" when it cannot be read) in err; p then holds the rules
   read before the bad line. */
int cs_policy_load(struct cs_policy *p, const char *path, char *err, size_t errlen);
/* One line of a policy file (without its line end), numbered line: 0, or
   -1 with why in err. */
int cs_policy_parse_line(struct cs_policy *p, const char *text, size_t len, unsigned line,
                         char *err, size_t errlen);

/* What the rules look at, besides the record's own fields (not_before,
   not_after, issuer, sans, ocsp_stapled). */
struct cs_policy_input {
    X509 *leaf;   /* the presented leaf */
    bool trusted; /* its chain verifies against the scan's trust anchors: the
                     Baseline Requirements rules apply only then */
};

/* The BR's maximum validity in days for a leaf whose notBefore is nb. */
int64_t cs_policy_br_max_days(int64_t not_before);
/* The validity period as the BRs count it, in whole days: notBefore through
   notAfter inclusive (notAfter - notBefore + 1 s), any part of a day a day. */
int64_t cs_policy_validity_days(int64_t not_before, int64_t not_after);

/* Judges a classified record: every finding goes into r->findings and, as
   "; policy: ...", into r->reason; r->status is raised to the finding's level
   when below it.  A NULL or inactive policy changes nothing. */
void cs_policy_apply(const struct cs_policy *p, const struct cs_policy_input *in,
                     struct cs_result *r);

#endif
