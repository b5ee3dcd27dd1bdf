/* Classification (the README's "Classification"): status and reason from a
 * record's certificate fields, the chain facts and the thresholds. */
#ifndef CS_CLASSIFY_H
#define CS_CLASSIFY_H

#include "scanner/cert.h"
#include "scanner/result.h"

struct cs_thresholds {
    int64_t warn_secs; /* -1: lifetime-aware default */
    int64_t crit_secs;
    bool verify;             /* rule 4 applies (no --no-verify) */
    bool require_revocation; /* revocation other than good is CRITICAL */
};

/* Sets r->status, r->reason and r->days_remaining for a record whose
   certificate fields are filled in. */
void cs_classify(struct cs_result *r, const struct cs_chain_facts *facts, int64_t now,
                 const struct cs_thresholds *th);
/* --expect: r serves an older certificate than the one at path, issued
   (notBefore) at renewed.  Says so in the reason and raises an OK status to
   WARNING; a worse one stays (expiry within -c is CRITICAL already). */
void cs_classify_not_deployed(struct cs_result *r, const char *path, int64_t renewed);
/* Whole days from now to not_after, rounded toward zero (3.5 days past is
   -3; under a day either way is 0): the record's days_remaining, and the
   number every reason in days says. */
int64_t cs_days_left(int64_t not_after, int64_t now);
/* The leaf's expiry as a reason says it ("expires in 199 days", "expired 3
   days ago"), for any certificate's notAfter; free it. */
char *cs_classify_expiry(int64_t not_after, int64_t now);
/* Makes r an ERROR record: reason and error both say why. */
void cs_classify_error(struct cs_result *r, const char *why);

#endif
