/* The chain cache (see chain_cache.h).  The key is SHA-256 over the chain's
 * bytes as sent, so a hit costs one hash of a few KiB and a copy of the
 * record's fields, and no certificate is parsed at all. */
#include "scanner/chain_cache.h"
#include "scanner/error.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <uv.h>

#define KEY_BYTES 32
_Static_assert(sizeof(((struct cs_chain_objs *)0)->key) == KEY_BYTES, "objs.key holds a chain key");

struct entry {
    unsigned char key[KEY_BYTES];
    struct cs_result r; /* chain-dependent fields only */
    struct cs_chain_facts facts;
    X509 *leaf;             /* parsed once, for the per-name check */
    X509 *issuer;           /* the leaf's issuer, or NULL */
    STACK_OF(X509) * certs; /* presented certificates and the issuer */
    struct entry *next;     /* hash chain */
};

/* A certificate above the leaf, parsed once: fleets with a certificate per
   endpoint still share a handful of intermediates. */
struct issuer {
    unsigned char key[KEY_BYTES];
    X509 *x;
    struct issuer *next;
};

#define ISSUER_BUCKETS 256
#define ISSUERS_MAX 1024

/* A stapled response already checked with a chain. */
struct staple {
    unsigned char key[KEY_BYTES]; /* SHA-256 over the chain's key and the staple's bytes */
    struct cs_rev_answer answer;
    struct staple *next;
};

#define STAPLE_BUCKETS 1024
#define STAPLES_MAX 4096

struct cs_chain_cache {
    uv_mutex_t lock;
    struct issuer *issuers[ISSUER_BUCKETS];
    size_t n_issuers;
    struct entry **buckets;
    size_t nbuckets;
    struct entry **ring; /* insertion order, for eviction */
    size_t max, count, head;
    struct cs_chain_cache_stats stats;
    struct staple *staples[STAPLE_BUCKETS];
    struct staple *staple_ring[STAPLES_MAX]; /* insertion order, for eviction */
    size_t staple_head;
};

struct cs_chain_cache *cs_chain_cache_new(size_t max_entries)
{
    struct cs_chain_cache *c = cs_xcalloc(1, sizeof(*c));
    uv_mutex_init(&c->lock);
    c->max = max_entries ? max_entries : 1;
    c->nbuckets = 1;
    while (c->nbuckets < c->max)
        c->nbuckets <<= 1;
    c->buckets = cs_xcalloc(c->nbuckets, sizeof(*c->buckets));
    c->ring = cs_xcalloc(c->max, sizeof(*c->ring));
    return c;
}

static void entry_free(struct entry *e)
{
    X509_free(e->leaf);
    X509_free(e->issuer);
    sk_X509_pop_free(e->certs, X509_free);
    cs_result_free(&e->r);
    free(e);
}

void cs_chain_cache_free(struct cs_chain_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->max; i++)
        if (c->ring[i])
            entry_free(c->ring[i]);
    free(c->ring);
    free(c->buckets);
    for (size_t i = 0; i < STAPLES_MAX; i++)
        free(c->staple_ring[i]);
    for (size_t b = 0; b < ISSUER_BUCKETS; b++)
        while (c->issuers[b]) {
            struct issuer *next = c->issuers[b]->next;
            X509_free(c->issuers[b]->x);
            free(c->issuers[b]);
            c->issuers[b] = next;
        }
    uv_mutex_destroy(&c->lock);
    free(c);
}

static int chain_key(const struct cs_raw_chain *raw, unsigned char key[KEY_BYTES])
{
    unsigned int n = 0;
    return EVP_Digest(raw->buf, raw->len, key, &n, EVP_sha256(), NULL) && n == KEY_BYTES ? 0 : -1;
}

/* Certificate der above the leaf, parsed or from the issuer cache; a new
   reference, or NULL if it does not parse. */
static X509 *parse_issuer(struct cs_chain_cache *c, const unsigned char *der, size_t len)
{
    unsigned char key[KEY_BYTES];
    unsigned int n = 0;
    if (!EVP_Digest(der, len, key, &n, EVP_sha256(), NULL))
        return d2i_X509(NULL, &der, (long)len);
    size_t b;
    memcpy(&b, key, sizeof(b));
    b %= ISSUER_BUCKETS;
    uv_mutex_lock(&c->lock);
    for (struct issuer *i = c->issuers[b]; i; i = i->next)
        if (memcmp(i->key, key, KEY_BYTES) == 0) {
            X509_up_ref(i->x);
            uv_mutex_unlock(&c->lock);
            return i->x;
        }
    uv_mutex_unlock(&c->lock);
    X509 *x = d2i_X509(NULL, &der, (long)len);
    if (!x)
        return NULL;
    cs_x509_settle(x); /* other workers will share it */
    uv_mutex_lock(&c->lock);
    if (c->n_issuers < ISSUERS_MAX) {
        struct issuer *i = cs_xcalloc(1, sizeof(*i));
        memcpy(i->key, key, KEY_BYTES);
        X509_up_ref(x);
        i->x = x;
        i->next = c->issuers[b];
        c->issuers[b] = i;
        c->n_issuers++;
    }
    uv_mutex_unlock(&c->lock);
    return x;
}

/* The presented chain as X509 objects, leaf first; NULL if the leaf does not
   parse (an intermediate that does not parse is left out). */
static STACK_OF(X509) * parse_chain(struct cs_chain_cache *c, const struct cs_raw_chain *raw)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    const unsigned char *der;
    size_t len;
    for (size_t i = 0; sk && cs_raw_chain_at(raw, i, &der, &len) == 0; i++) {
        X509 *x = i == 0 ? d2i_X509(NULL, &der, (long)len) : parse_issuer(c, der, len);
        if (!x && i == 0)
            break;
        if (x && !sk_X509_push(sk, x))
            X509_free(x);
    }
    if (sk && sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        sk = NULL;
    }
    return sk;
}

static size_t bucket_of(const struct cs_chain_cache *c, const unsigned char *key)
{
    size_t h;
    memcpy(&h, key, sizeof(h));
    return h & (c->nbuckets - 1);
}

static void copy_fields(struct cs_result *dst, const struct cs_result *src)
{
    /* the chain-dependent fields: everything cs_cert_analyse fills */
    dst->not_before = src->not_before;
    dst->not_after = src->not_after;
    dst->chain_not_after = src->chain_not_after;
#define DUP(m) (free(dst->m), dst->m = cs_strdup(src->m))
    DUP(subject);
    DUP(issuer);
    DUP(serial);
    DUP(sha256);
    DUP(key);
    DUP(signature);
    DUP(verify);
#undef DUP
#define LIST(m)                                                                                    \
    do {                                                                                           \
        cs_strlist_free(&dst->m);                                                                  \
        for (size_t i = 0; i < src->m.n; i++)                                                      \
            cs_strlist_add(&dst->m, src->m.v[i]);                                                  \
    } while (0)
    LIST(sans);
    LIST(ocsp_uris);
    LIST(crl_uris);
#undef LIST
}

static void unlink_entry(struct cs_chain_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[bucket_of(c, e->key)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
}

void cs_chain_objs_free(struct cs_chain_objs *o)
{
    X509_free(o->leaf);
    X509_free(o->issuer);
    sk_X509_pop_free(o->certs, X509_free);
    memset(o, 0, sizeof(*o));
}

/* The entry's certificates into objs (called under the lock or on an entry
   not yet shared). */
static void give_objs(const struct entry *e, bool want_certs, struct cs_chain_objs *objs)
{
    X509_up_ref(e->leaf);
    objs->leaf = e->leaf;
    if (e->issuer)
        X509_up_ref(e->issuer);
    objs->issuer = e->issuer;
    objs->certs = want_certs ? X509_chain_up_ref(e->certs) : NULL;
}

int cs_chain_cache_analyse(struct cs_chain_cache *c, struct cs_result *r,
                           struct cs_chain_facts *facts, const struct cs_raw_chain *raw,
                           const struct cs_verify_input *in, bool with_chain, bool want_certs,
                           struct cs_chain_objs *objs)
{
    unsigned char key[KEY_BYTES];
    memset(objs, 0, sizeof(*objs));
    if (raw->n == 0 || chain_key(raw, key) < 0)
        return CS_EFORMAT;
    memcpy(objs->key, key, KEY_BYTES);
    uv_mutex_lock(&c->lock);
    for (struct entry *e = c->buckets[bucket_of(c, key)]; e; e = e->next) {
        if (memcmp(e->key, key, KEY_BYTES) == 0) {
            copy_fields(r, &e->r);
            if (with_chain)
                cs_chain_copy(r, &e->r);
            *facts = e->facts;
            give_objs(e, want_certs, objs);
            c->stats.hits++;
            uv_mutex_unlock(&c->lock);
            return 0;
        }
    }
    c->stats.misses++;
    uv_mutex_unlock(&c->lock);

    /* analyse outside the lock: two workers may race on one new chain, and
       both results are the same */
    STACK_OF(X509) *presented = parse_chain(c, raw);
    if (!presented)
        return CS_EFORMAT;
    struct entry *e = cs_xcalloc(1, sizeof(*e));
    memcpy(e->key, key, KEY_BYTES);
    cs_result_init(&e->r);
    cs_cert_analyse(&e->r, &e->facts, presented, in, &e->issuer);
    e->leaf = sk_X509_shift(presented); /* the reference moves to the entry */
    e->certs = presented;
    if (e->issuer && sk_X509_find(e->certs, e->issuer) < 0 && sk_X509_push(e->certs, e->issuer))
        X509_up_ref(e->issuer);
    copy_fields(r, &e->r);
    if (with_chain)
        cs_chain_copy(r, &e->r);
    *facts = e->facts;
    give_objs(e, want_certs, objs);

    uv_mutex_lock(&c->lock);
    struct entry *old = c->ring[c->head];
    if (old) {
        unlink_entry(c, old);
        entry_free(old);
        c->stats.evictions++;
    } else {
        c->count++;
    }
    c->ring[c->head] = e;
    c->head = (c->head + 1) % c->max;
    size_t b = bucket_of(c, key);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    uv_mutex_unlock(&c->lock);
    return 0;
}

void cs_chain_cache_staple(struct cs_chain_cache *c, const unsigned char chain_key[KEY_BYTES],
                           const unsigned char *staple, size_t len, const struct cs_rev_subject *s,
                           struct cs_rev_answer *a)
{
    unsigned char key[KEY_BYTES];
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool keyed = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
                 EVP_DigestUpdate(md, chain_key, KEY_BYTES) && EVP_DigestUpdate(md, staple, len) &&
                 EVP_DigestFinal_ex(md, key, &n) && n == KEY_BYTES;
    EVP_MD_CTX_free(md);
    if (!keyed) {
        cs_ocsp_check(a, CS_SRC_STAPLE, staple, len, s, NULL);
        return;
    }
    size_t b;
    memcpy(&b, key, sizeof(b));
    b %= STAPLE_BUCKETS;
    uv_mutex_lock(&c->lock);
    for (struct staple *e = c->staples[b]; e; e = e->next)
        if (memcmp(e->key, key, KEY_BYTES) == 0) {
            *a = e->answer;
            uv_mutex_unlock(&c->lock);
            return;
        }
    uv_mutex_unlock(&c->lock);
    cs_ocsp_check(a, CS_SRC_STAPLE, staple, len, s, NULL);
    struct staple *e = cs_xcalloc(1, sizeof(*e));
    memcpy(e->key, key, KEY_BYTES);
    e->answer = *a;
    uv_mutex_lock(&c->lock);
    struct staple *old = c->staple_ring[c->staple_head];
    if (old) {
        struct staple **pp;
        size_t ob;
        memcpy(&ob, old->key, sizeof(ob));
        for (pp = &c->staples[ob % STAPLE_BUCKETS]; *pp != old; pp = &(*pp)->next)
            ;
        *pp = old->next;
        free(old);
    }
    c->staple_ring[c->staple_head] = e;
    c->staple_head = (c->staple_head + 1) % STAPLES_MAX;
    e->next = c->staples[b];
    c->staples[b] = e;
    uv_mutex_unlock(&c->lock);
}

void cs_chain_cache_stats(struct cs_chain_cache *c, struct cs_chain_cache_stats *out)
{
    uv_mutex_lock(&c->lock);
    *out = c->stats;
    uv_mutex_unlock(&c->lock);
}
