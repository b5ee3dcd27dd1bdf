/* Each distinct chain is verified and analysed once per scan: fleets reuse
 * certificates (wildcards, load balancers), and verification is the most
 * expensive part of a probe after the handshake.  The cache is keyed by the
 * chain's bytes, shared by every worker, and bounded. */
#ifndef CS_CHAIN_CACHE_H
#define CS_CHAIN_CACHE_H

#include <stdint.h>

#include "cert.h"

struct cs_chain_cache;

/* max_entries: chains kept at most (oldest dropped first). */
struct cs_chain_cache *cs_chain_cache_new(size_t max_entries);
void cs_chain_cache_free(struct cs_chain_cache *c);

/* Fills r's chain-dependent fields and facts from the cache, or analyses the
   chain and remembers it.  Same contract as cs_cert_analyse.  Thread-safe. */
int cs_chain_cache_analyse(struct cs_chain_cache *c, struct cs_result *r,
                           struct cs_chain_facts *facts, STACK_OF(X509) *presented,
                           const struct cs_verify_input *in);

struct cs_chain_cache_stats {
    uint64_t hits, misses, evictions;
};
void cs_chain_cache_stats(struct cs_chain_cache *c, struct cs_chain_cache_stats *out);

#endif
