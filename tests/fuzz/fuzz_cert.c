/* libFuzzer target: the certificate analyser on arbitrary DER.  The input is
 * read two ways:
 *   - as DER certificates back to back (leaf first): d2i_X509 until one
 *     fails, then cs_cert_analyse against a small trust store and
 *     cs_cert_name_matches with a few names and addresses;
 *   - as a chain in the TLS wire layout the probes hand over (struct
 *     cs_raw_chain: 3-byte length, DER, ...), through a one-entry
 *     cs_chain_cache made for the input, so the cache's miss, hit and
 *     eviction paths run too (a cache kept across inputs would make every
 *     input look like a leak to libFuzzer and slow it down tenfold).
 * Beyond the sanitizers it checks that subject and issuer carry no control
 * character (cs_name_string escapes them) and that SAN/URI entries are
 * printable ASCII. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "probes/probe.h"
#include "scanner/cert.h"
#include "scanner/chain_cache.h"
#include "scanner/options.h"

#define FUZZ_MAX_CERTS 12
#define FUZZ_NOW 1772323200 /* 2026-03-01T00:00:00Z */

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_cert: check failed: %s (line %d)\n", #cond, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static X509_STORE *fuzz_store;

/* A throw-away self-signed root, so that verification has an anchor. */
static X509 *fuzz_make_root(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!key || !x)
        abort();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 365);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365 * 20);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz root", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, key);
    if (!X509_sign(x, key, EVP_sha256()))
        abort();
    EVP_PKEY_free(key);
    return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_store = X509_STORE_new();
    X509 *root = fuzz_make_root();
    X509_STORE_add_cert(fuzz_store, root);
    X509_free(root);
    return 0;
}

static void fuzz_check_text(const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
}

static void fuzz_check_ascii_list(const struct cs_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        for (const unsigned char *p = (const unsigned char *)l->v[i]; *p; p++)
            FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
}

static void fuzz_check_record(const struct cs_result *r)
{
    fuzz_check_text(r->subject);
    fuzz_check_text(r->issuer);
    fuzz_check_ascii_list(&r->sans);
    fuzz_check_ascii_list(&r->ocsp_uris);
    fuzz_check_ascii_list(&r->crl_uris);
    fuzz_check_text(r->serial);
    fuzz_check_text(r->sha256);
    fuzz_check_text(r->key);
    fuzz_check_text(r->signature);
    fuzz_check_text(r->verify);
}

static void fuzz_names(X509 *leaf)
{
    static const struct {
        const char *name;
        bool ip;
    } names[] = {
        {"a.example", false},
        {"www.fleet.test", false},
        {"xn--bcher-kva.example", false},
        {"localhost", false},
        {"127.0.0.1", true},
        {"::1", true},
        {"2001:db8::1", true},
        {"", false},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int m = cs_cert_name_matches(leaf, names[i].name, names[i].ip);
        FUZZ_CHECK(m == 0 || m == 1);
    }
}

/* DER certificates back to back. */
static void fuzz_direct(const uint8_t *data, size_t size)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    const unsigned char *p = data, *end = data + size;
    while (p < end && sk_X509_num(sk) < FUZZ_MAX_CERTS) {
        X509 *x = d2i_X509(NULL, &p, (long)(end - p));
        if (!x)
            break;
        sk_X509_push(sk, x);
    }
    if (sk_X509_num(sk) > 0) {
        struct cs_result r;
        struct cs_chain_facts facts;
        struct cs_verify_input in = {
            .store = fuzz_store, .now = FUZZ_NOW, .level = CS_DEFAULT_VERIFY_LEVEL};
        cs_result_init(&r);
        FUZZ_CHECK(cs_cert_analyse(&r, &facts, sk, &in, NULL) == 0);
        fuzz_check_record(&r);
        fuzz_names(sk_X509_value(sk, 0));
        cs_result_free(&r);
    }
    sk_X509_pop_free(sk, X509_free);
}

static void fuzz_cache_round(struct cs_chain_cache *cache, const struct cs_raw_chain *raw)
{
    struct cs_verify_input in = {
        .store = fuzz_store, .now = FUZZ_NOW, .level = CS_DEFAULT_VERIFY_LEVEL};
    struct cs_result r;
    struct cs_chain_facts facts;
    struct cs_chain_objs objs;
    cs_result_init(&r);
    if (cs_chain_cache_analyse(cache, &r, &facts, raw, &in, true, true, &objs) == 0) {
        FUZZ_CHECK(objs.leaf != NULL && objs.certs != NULL);
        fuzz_check_record(&r);
        fuzz_names(objs.leaf);
        cs_chain_objs_free(&objs);
    }
    cs_result_free(&r);
}

/* The wire layout, through the chain cache: a miss, a hit, and the leaf
 * alone (another key: the first entry is evicted). */
static void fuzz_cached(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    struct cs_raw_chain raw = {.buf = malloc(size), .len = size};
    if (!raw.buf)
        return;
    memcpy(raw.buf, data, size);
    const unsigned char *der;
    size_t len;
    while (raw.n < FUZZ_MAX_CERTS && cs_raw_chain_at(&raw, raw.n, &der, &len) == 0)
        raw.n++;
    if (raw.n == 0)
        raw.n = 1; /* a chain whose framing is broken from the start */
    struct cs_chain_cache *cache = cs_chain_cache_new(1);
    fuzz_cache_round(cache, &raw);
    fuzz_cache_round(cache, &raw);
    if (raw.n > 1 && cs_raw_chain_at(&raw, 0, &der, &len) == 0) {
        struct cs_raw_chain leaf_only = {.buf = raw.buf, .len = len + 3, .n = 1};
        fuzz_cache_round(cache, &leaf_only);
    }
    cs_chain_cache_free(cache);
    free(raw.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_direct(data, size);
    fuzz_cached(data, size);
    /* the error queue keeps its strings until cleared: to libFuzzer's malloc
       count that is a leak, and each suspected leak costs a full LSan scan */
    ERR_clear_error();
    return 0;
}
