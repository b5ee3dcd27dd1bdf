/* Each distinct chain is parsed, verified and analysed once per scan: fleets
 * reuse certificates (wildcards, load balancers), and parsing (OpenSSL 3.0's
 * public-key decoders) and verification cost more than the handshake's own
 * crypto.  The cache is keyed by the chain's bytes, shared by every worker,
 * and bounded. */
#ifndef CS_CHAIN_CACHE_H
#define CS_CHAIN_CACHE_H

#include <stdint.h>

#include "scanner/cert.h"
#include "scanner/revocation.h"
#include "probes/probe.h"

struct cs_chain_cache;

/* max_entries: chains kept at most (oldest dropped first). */
struct cs_chain_cache *cs_chain_cache_new(size_t max_entries);
void cs_chain_cache_free(struct cs_chain_cache *c);

/* The parsed certificates a probe may need after the analysis, each a
   reference of its own (cs_chain_objs_free). */
struct cs_chain_objs {
    X509 *leaf;             /* for the per-name check */
    X509 *issuer;           /* the leaf's issuer, or NULL */
    STACK_OF(X509) * certs; /* the presented certificates above the leaf and the
                               issuer (for OCSP responder certificates), only
                               when asked for */
    unsigned char key[32];  /* the chain's cache key: SHA-256 of its bytes */
};
void cs_chain_objs_free(struct cs_chain_objs *o);

/* Fills r's chain-dependent fields and facts from the cache, or parses,
   verifies and analyses the chain and remembers it; with_chain also copies
   the chain's certificates into r (--chain).  objs gets the leaf and its
   issuer, and with want_certs the certs too.  Returns 0, or CS_EFORMAT if the leaf
   cannot be parsed.  Thread-safe. */
int cs_chain_cache_analyse(struct cs_chain_cache *c, struct cs_result *r,
                           struct cs_chain_facts *facts, const struct cs_raw_chain *raw,
                           const struct cs_verify_input *in, bool with_chain, bool want_certs,
                           struct cs_chain_objs *objs);

/* Checks a stapled OCSP response (cs_ocsp_check) for the chain whose
   objs.key is chain_key, or takes the answer from the last time these same
   bytes came with this same chain: endpoints behind one load balancer
   staple one response, and its signature and responder chain need
   verifying only once.  Thread-safe. */
void cs_chain_cache_staple(struct cs_chain_cache *c, const unsigned char chain_key[32],
                           const unsigned char *staple, size_t len, const struct cs_rev_subject *s,
                           struct cs_rev_answer *a);

struct cs_chain_cache_stats {
    uint64_t hits, misses, evictions;
};
void cs_chain_cache_stats(struct cs_chain_cache *c, struct cs_chain_cache_stats *out);

#endif
