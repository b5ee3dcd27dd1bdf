/* The chain cache alone: chains from the test PKI in the wire layout are
 * analysed once and then answered from memory (hits, misses, eviction of
 * the oldest), intermediates are parsed once for every chain that sends
 * them, and a stapled response checked once per chain and staple bytes. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>
#include <uv.h>

#include "scanner/chain_cache.h"
#include "scanner/error.h"
#include "tests/support/pki.h"

#define DAY 86400

static struct pki_cert root, inter, leafs[3];
static int64_t now;
static X509_STORE *store;

static void setup(void)
{
    static const char *const leaf_name[] = {"CN", "cache.test", NULL};
    static const char *const sans[] = {"DNS:cache.test", NULL};
    now = (int64_t)time(NULL);
    cr_assert_eq(pki_root_and_intermediate(&root, &inter, "certsweep Cache Root",
                                           "certsweep Cache Intermediate", now),
                 0);
    struct pki_spec l = {.subject = leaf_name,
                         .not_before = now - DAY,
                         .not_after = now + 60 * DAY,
                         .key = PKI_EC256,
                         .sans = sans,
                         .ocsp_uri = "http://ocsp.cache.test/"};
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(pki_issue(&leafs[i], &l, &inter), 0);
    store = X509_STORE_new();
    cr_assert_eq(X509_STORE_add_cert(store, root.x509), 1);
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)now);
}

static void teardown(void)
{
    X509_STORE_free(store);
    pki_cert_free(&root);
    pki_cert_free(&inter);
    for (size_t i = 0; i < 3; i++)
        pki_cert_free(&leafs[i]);
}

TestSuite(chain_cache, .init = setup, .fini = teardown, .timeout = 60);

/* leaf + intermediate in the wire layout (3-byte lengths). */
static struct cs_raw_chain wire(X509 *leaf)
{
    X509 *certs[] = {leaf, inter.x509};
    struct cs_raw_chain c = {.buf = OPENSSL_malloc(1 << 14)};
    for (size_t i = 0; i < 2; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(certs[i], &der);
        cr_assert(len > 0 && c.len + 3 + (size_t)len <= 1 << 14);
        c.buf[c.len] = (unsigned char)(len >> 16);
        c.buf[c.len + 1] = (unsigned char)(len >> 8);
        c.buf[c.len + 2] = (unsigned char)len;
        memcpy(c.buf + c.len + 3, der, (size_t)len);
        c.len += 3 + (size_t)len;
        OPENSSL_free(der);
    }
    c.n = 2;
    return c;
}

static struct cs_verify_input input(void)
{
    return (struct cs_verify_input){.store = store, .now = now, .level = 2};
}

/* Analyses raw; returns the record's serial (a copy) and fills *objs. */
static char *analyse(struct cs_chain_cache *c, const struct cs_raw_chain *raw, bool want_certs,
                     struct cs_chain_objs *objs)
{
    struct cs_result r;
    struct cs_chain_facts facts;
    struct cs_verify_input in = input();
    cs_result_init(&r);
    cr_assert_eq(cs_chain_cache_analyse(c, &r, &facts, raw, &in, false, want_certs, objs), 0);
    cr_assert(facts.verify_ok, "%s", r.verify);
    cr_assert_str_eq(r.verify, "ok");
    char *serial = cs_strdup(r.serial);
    cs_result_free(&r);
    return serial;
}

static void expect_stats(struct cs_chain_cache *c, uint64_t hits, uint64_t misses,
                         uint64_t evictions)
{
    struct cs_chain_cache_stats st;
    cs_chain_cache_stats(c, &st);
    cr_assert_eq(st.hits, hits, "hits %llu, not %llu", (unsigned long long)st.hits,
                 (unsigned long long)hits);
    cr_assert_eq(st.misses, misses, "misses %llu, not %llu", (unsigned long long)st.misses,
                 (unsigned long long)misses);
    cr_assert_eq(st.evictions, evictions, "evictions %llu, not %llu",
                 (unsigned long long)st.evictions, (unsigned long long)evictions);
}

Test(chain_cache, hits_misses_and_the_oldest_evicted)
{
    struct cs_chain_cache *c = cs_chain_cache_new(2);
    struct cs_raw_chain raw[3];
    char want[3][80];
    for (size_t i = 0; i < 3; i++) {
        raw[i] = wire(leafs[i].x509);
        pki_serial_hex(leafs[i].x509, want[i], sizeof want[i]);
    }
    struct cs_chain_objs objs;
    size_t order[] = {0, 0, 1, 0, 2, 1, 0};
    /* 0 miss, 0 hit, 1 miss, 0 hit, 2 miss (0 out), 1 hit, 0 miss (1 out) */
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        char *serial = analyse(c, &raw[order[k]], false, &objs);
        cr_assert_str_eq(serial, want[order[k]], "step %zu", k);
        cr_assert_eq(X509_cmp(objs.leaf, leafs[order[k]].x509), 0);
        cr_assert_null(objs.certs, "not asked for");
        unsigned char key[32];
        unsigned int n = 0;
        cr_assert(EVP_Digest(raw[order[k]].buf, raw[order[k]].len, key, &n, EVP_sha256(), NULL));
        cr_assert_eq(memcmp(objs.key, key, 32), 0, "the key is SHA-256 of the chain's bytes");
        free(serial);
        cs_chain_objs_free(&objs);
    }
    expect_stats(c, 3, 4, 2);
    for (size_t i = 0; i < 3; i++)
        cs_raw_chain_free(&raw[i]);
    cs_chain_cache_free(c);
}

Test(chain_cache, a_hit_gives_what_the_miss_gave)
{
    struct cs_chain_cache *c = cs_chain_cache_new(8);
    struct cs_raw_chain raw = wire(leafs[0].x509);
    struct cs_verify_input in = input();
    struct cs_result r[2];
    struct cs_chain_facts facts[2];
    struct cs_chain_objs objs[2];
    for (size_t i = 0; i < 2; i++) {
        cs_result_init(&r[i]);
        cr_assert_eq(cs_chain_cache_analyse(c, &r[i], &facts[i], &raw, &in, true, true, &objs[i]),
                     0);
    }
    expect_stats(c, 1, 1, 0);
    cr_assert_str_eq(r[0].subject, r[1].subject);
    cr_assert_str_eq(r[0].issuer, r[1].issuer);
    cr_assert_str_eq(r[0].sha256, r[1].sha256);
    cr_assert_str_eq(r[0].key, r[1].key);
    cr_assert_str_eq(r[0].verify, r[1].verify);
    cr_assert_eq(r[0].not_after, r[1].not_after);
    cr_assert_eq(r[0].chain_not_after, r[1].chain_not_after);
    cr_assert_eq(r[1].ocsp_uris.n, 1);
    cr_assert_str_eq(r[1].ocsp_uris.v[0], "http://ocsp.cache.test/");
    cr_assert_eq(memcmp(&facts[0], &facts[1], sizeof facts[0]), 0);
    cr_assert_eq(objs[0].leaf, objs[1].leaf, "one parsed leaf per chain");
    for (size_t i = 0; i < 2; i++) {
        cr_assert_eq(r[i].chain_n, 2, "--chain: both certificates");
        cr_assert_str_eq(r[i].chain[1].subject, "CN=certsweep Cache Intermediate");
        cr_assert_not_null(objs[i].certs);
        cr_assert_eq(X509_cmp(objs[i].issuer, inter.x509), 0);
        cs_chain_objs_free(&objs[i]);
        cs_result_free(&r[i]);
    }
    cs_raw_chain_free(&raw);
    cs_chain_cache_free(c);
}

Test(chain_cache, intermediates_are_parsed_once)
{
    struct cs_chain_cache *c = cs_chain_cache_new(8);
    struct cs_raw_chain a = wire(leafs[0].x509), b = wire(leafs[1].x509);
    struct cs_chain_objs oa, ob;
    free(analyse(c, &a, true, &oa));
    free(analyse(c, &b, true, &ob));
    expect_stats(c, 0, 2, 0); /* two chains */
    cr_assert_neq(oa.leaf, ob.leaf);
    /* ... one intermediate object for both (certs: the chain above the leaf) */
    cr_assert_eq(sk_X509_num(oa.certs), 1);
    cr_assert_eq(sk_X509_value(oa.certs, 0), sk_X509_value(ob.certs, 0));
    cr_assert_eq(X509_cmp(sk_X509_value(oa.certs, 0), inter.x509), 0);
    cs_chain_objs_free(&oa);
    cs_chain_objs_free(&ob);
    cs_raw_chain_free(&a);
    cs_raw_chain_free(&b);
    cs_chain_cache_free(c);
}

Test(chain_cache, leafs_that_do_not_parse)
{
    struct cs_chain_cache *c = cs_chain_cache_new(8);
    unsigned char junk[] = {0, 0, 4, 0x30, 0x02, 0x01, 0x00};
    struct cs_raw_chain raw = {.buf = junk, .len = sizeof junk, .n = 1};
    struct cs_result r;
    struct cs_chain_facts facts;
    struct cs_chain_objs objs;
    struct cs_verify_input in = input();
    cs_result_init(&r);
    cr_assert_eq(cs_chain_cache_analyse(c, &r, &facts, &raw, &in, false, false, &objs), CS_EFORMAT);
    cr_assert_null(objs.leaf);
    struct cs_raw_chain none = {0};
    cr_assert_eq(cs_chain_cache_analyse(c, &r, &facts, &none, &in, false, false, &objs),
                 CS_EFORMAT);
    cs_result_free(&r);
    cs_chain_cache_free(c);
}

Test(chain_cache, staples_are_checked_once_per_chain_and_bytes)
{
    struct cs_chain_cache *c = cs_chain_cache_new(8);
    struct cs_raw_chain raw = wire(leafs[0].x509);
    struct cs_chain_objs objs;
    free(analyse(c, &raw, true, &objs));
    struct pki_ocsp_spec spec = {.leaf = leafs[0].x509,
                                 .issuer = inter.x509,
                                 .status = PKI_OCSP_GOOD,
                                 .this_update = now - 3600,
                                 .next_update = now + DAY,
                                 .signer = &inter};
    unsigned char *der;
    size_t len;
    cr_assert_eq(pki_ocsp_response(&spec, &der, &len), 0);
    struct cs_rev_subject subject = {objs.leaf, objs.issuer, objs.certs, store, now, true};
    struct cs_rev_answer a;
    cs_chain_cache_staple(c, objs.key, der, len, &subject, &a);
    cr_assert_eq(a.state, CS_REV_GOOD, "%s", a.error);
    cr_assert_eq(a.source, CS_SRC_STAPLE);
    cr_assert_eq(a.next_update, now + DAY);

    /* two days later the response is stale; the same bytes with the same
       chain are answered from the cache, as checked the first time */
    struct cs_rev_subject later = subject;
    later.now = now + 2 * DAY;
    cs_chain_cache_staple(c, objs.key, der, len, &later, &a);
    cr_assert_eq(a.state, CS_REV_GOOD);

    /* another chain with the same bytes is checked afresh */
    unsigned char other_key[32];
    memcpy(other_key, objs.key, 32);
    other_key[0] ^= 1;
    cs_chain_cache_staple(c, other_key, der, len, &later, &a);
    cr_assert_eq(a.state, CS_REV_ERROR, "stale at that time");

    /* and so are other bytes with the same chain */
    unsigned char *der2;
    size_t len2;
    spec.this_update = now - 7200;
    cr_assert_eq(pki_ocsp_response(&spec, &der2, &len2), 0);
    cs_chain_cache_staple(c, objs.key, der2, len2, &later, &a);
    cr_assert_eq(a.state, CS_REV_ERROR);
    free(der);
    free(der2);
    cs_chain_objs_free(&objs);
    cs_raw_chain_free(&raw);
    cs_chain_cache_free(c);
}

struct racer {
    struct cs_chain_cache *c;
    struct cs_raw_chain *raw;
    int failures;
};

static void race(void *arg)
{
    struct racer *rc = arg;
    struct cs_verify_input in = input();
    for (int k = 0; k < 200; k++) {
        struct cs_result r;
        struct cs_chain_facts facts;
        struct cs_chain_objs objs;
        cs_result_init(&r);
        if (cs_chain_cache_analyse(rc->c, &r, &facts, &rc->raw[k % 3], &in, false, k & 1, &objs) <
                0 ||
            !facts.verify_ok)
            rc->failures++;
        cs_chain_objs_free(&objs);
        cs_result_free(&r);
    }
}

Test(chain_cache, shared_by_threads)
{
    struct cs_chain_cache *c = cs_chain_cache_new(2); /* small: eviction under contention */
    struct cs_raw_chain raw[3];
    for (size_t i = 0; i < 3; i++)
        raw[i] = wire(leafs[i].x509);
    struct racer r[4];
    uv_thread_t t[4];
    for (size_t i = 0; i < 4; i++) {
        r[i] = (struct racer){.c = c, .raw = raw};
        cr_assert_eq(uv_thread_create(&t[i], race, &r[i]), 0);
    }
    for (size_t i = 0; i < 4; i++) {
        uv_thread_join(&t[i]);
        cr_assert_eq(r[i].failures, 0);
    }
    struct cs_chain_cache_stats st;
    cs_chain_cache_stats(c, &st);
    cr_assert_eq(st.hits + st.misses, 4 * 200);
    cr_assert_eq(st.evictions, st.misses > 2 ? st.misses - 2 : 0,
                 "each miss past the first two pushes one out");
    for (size_t i = 0; i < 3; i++)
        cs_raw_chain_free(&raw[i]);
    cs_chain_cache_free(c);
}
