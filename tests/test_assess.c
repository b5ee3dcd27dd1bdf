/* The assessment stage without a socket: chains from the test PKI in the
 * wire layout (each certificate a 3-byte length and its DER), a stapled
 * OCSP response and a proof of key possession made here by signing with
 * the leaf's key, and the record, the revocation plan and the verdict that
 * come out. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/ocsp.h>
#include <openssl/x509_vfy.h>

#include "scanner/assess.h"
#include "tests/support/pki.h"

#define DAY 86400

static struct pki_cert root, inter, leaf, other, self_signed;
static int64_t now;
static X509_STORE *trusted, *untrusted;
static struct cs_chain_cache *cache;

static void setup(void)
{
    static const char *const leaf_name[] = {"CN", "assess.test", NULL};
    static const char *const sans[] = {"DNS:assess.test", NULL};
    now = (int64_t)time(NULL);
    cr_assert_eq(pki_root_and_intermediate(&root, &inter, "certsweep Assess Root",
                                           "certsweep Assess Intermediate", now),
                 0);
    struct pki_spec l = {.subject = leaf_name,
                         .not_before = now - DAY,
                         .not_after = now + 89 * DAY,
                         .key = PKI_EC256,
                         .sans = sans,
                         .ocsp_uri = "http://ocsp.assess.test/",
                         .crl_uri = "http://crl.assess.test/inter.crl",
                         .serial_hex = "0A55E55"};
    cr_assert_eq(pki_issue(&leaf, &l, &inter), 0);
    cr_assert_eq(pki_issue(&other, &l, &inter), 0); /* the same names, another key */
    cr_assert_eq(pki_issue(&self_signed, &l, NULL), 0);
    trusted = X509_STORE_new();
    cr_assert_eq(X509_STORE_add_cert(trusted, root.x509), 1);
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(trusted), (time_t)now);
    untrusted = X509_STORE_new(); /* no anchor at all */
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(untrusted), (time_t)now);
    cache = cs_chain_cache_new(16);
}

static void teardown(void)
{
    cs_chain_cache_free(cache);
    X509_STORE_free(trusted);
    X509_STORE_free(untrusted);
    pki_cert_free(&root);
    pki_cert_free(&inter);
    pki_cert_free(&leaf);
    pki_cert_free(&other);
    pki_cert_free(&self_signed);
}

TestSuite(assess, .init = setup, .fini = teardown, .timeout = 60);

/* The certificates in the wire layout, as a server sends them. */
static struct cs_raw_chain wire(X509 *const *certs, size_t n)
{
    struct cs_raw_chain c = {0};
    unsigned char *der[4];
    int len[4];
    size_t total = 0;
    cr_assert(n <= 4);
    for (size_t i = 0; i < n; i++) {
        der[i] = NULL;
        len[i] = i2d_X509(certs[i], &der[i]);
        cr_assert(len[i] > 0);
        total += 3 + (size_t)len[i];
    }
    c.buf = OPENSSL_malloc(total);
    for (size_t i = 0; i < n; i++) {
        c.buf[c.len] = (unsigned char)(len[i] >> 16);
        c.buf[c.len + 1] = (unsigned char)(len[i] >> 8);
        c.buf[c.len + 2] = (unsigned char)len[i];
        memcpy(c.buf + c.len + 3, der[i], (size_t)len[i]);
        c.len += 3 + (size_t)len[i];
        OPENSSL_free(der[i]);
    }
    c.n = n;
    return c;
}

/* A TLS 1.3 CertificateVerify-like proof: ecdsa_secp256r1_sha256 over some
   bytes, signed with key. */
static struct cs_key_proof sign_with(EVP_PKEY *key)
{
    static const unsigned char tbs[] = "64 spaces, a context string and a transcript hash";
    struct cs_key_proof pr = {.kind = CS_PROOF_SIGNATURE, .tls13 = true, .scheme = 0x0403};
    cr_assert_eq(pki_sign(key, EVP_sha256(), false, tbs, sizeof tbs, &pr.sig, &pr.sig_len), 0);
    pr.tbs = OPENSSL_memdup(tbs, sizeof tbs);
    pr.tbs_len = sizeof tbs;
    return pr;
}

static struct cs_assess_ctx context(X509_STORE *store)
{
    return (struct cs_assess_ctx){
        .store = store,
        .now = now,
        .verify_level = CS_DEFAULT_VERIFY_LEVEL,
        .thresholds = {.warn_secs = 30 * DAY, .crit_secs = 7 * DAY, .verify = true},
        .chains = cache,
    };
}

/* One endpoint: the leaf and the intermediate, a proof by key (NULL: none). */
struct endpoint {
    struct cs_target target;
    struct cs_raw_chain chain;
    struct cs_key_proof proof;
    struct cs_assess_input in;
};

static void endpoint_init(struct endpoint *e, X509 *leaf_x509, EVP_PKEY *key)
{
    memset(e, 0, sizeof(*e));
    e->target = (struct cs_target){.host = "assess.test", .port = 8443, .sni = "assess.test"};
    X509 *certs[] = {leaf_x509, inter.x509};
    e->chain = wire(certs, 2);
    if (key)
        e->proof = sign_with(key);
    e->in = (struct cs_assess_input){
        .target = &e->target,
        .address = "192.0.2.7",
        .elapsed_ms = 12,
        .chain = &e->chain,
        .tls_version = "TLSv1.3",
        .proof = &e->proof,
    };
}

static void endpoint_free(struct endpoint *e)
{
    cs_raw_chain_free(&e->chain);
    cs_key_proof_free(&e->proof);
}

/* Every certificate field of the leaf, computed apart from the scanner. */
static void expect_leaf_fields(const struct cs_result *r, X509 *x)
{
    char serial[80], sha[65];
    pki_serial_hex(x, serial, sizeof serial);
    pki_sha256_hex(x, sha);
    cr_assert_str_eq(r->serial, serial);
    cr_assert_str_eq(r->sha256, sha);
    cr_assert_eq(r->not_before, pki_not_before(x));
    cr_assert_eq(r->not_after, pki_not_after(x));
    cr_assert_str_eq(r->subject, "CN=assess.test");
    cr_assert_eq(r->sans.n, 1);
    cr_assert_str_eq(r->sans.v[0], "assess.test");
    cr_assert_eq(r->ocsp_uris.n, 1);
    cr_assert_str_eq(r->ocsp_uris.v[0], "http://ocsp.assess.test/");
    cr_assert_eq(r->crl_uris.n, 1);
    cr_assert_eq(r->days_remaining, 89);
    cr_assert_eq(r->hostname_match, 1);
    cr_assert_str_eq(r->tls_version, "TLSv1.3");
}

Test(assess, proven_key_gives_an_ok_record)
{
    struct cs_assess_ctx ctx = context(trusted);
    struct endpoint e;
    endpoint_init(&e, leaf.x509, leaf.key);
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a), "nothing to fetch without --ocsp/--crl");
    cr_assert_str_eq(r.host, "assess.test");
    cr_assert_eq(r.port, 8443);
    cr_assert_str_eq(r.sni, "assess.test");
    cr_assert_str_eq(r.address, "192.0.2.7");
    cr_assert_eq(r.elapsed_ms, 12);
    expect_leaf_fields(&r, leaf.x509);
    cr_assert_str_eq(r.issuer, "CN=certsweep Assess Intermediate");
    cr_assert_str_eq(r.verify, "ok");
    cr_assert_eq(r.key_proven, 1);
    cr_assert_eq(r.ocsp_stapled, 0);
    cr_assert_str_eq(r.revocation, "unchecked");
    cr_assert_eq(r.status, CS_OK, "%s", r.reason);
    cr_assert_str_eq(r.reason, "expires in 89 days");
    cr_assert_str_eq(r.error, "");
    cr_assert_null(a.objs.leaf, "the assessment holds nothing once the record is final");
    cs_result_free(&r);
    endpoint_free(&e);
}

Test(assess, unproven_key_is_an_error_with_the_certificate_fields)
{
    struct cs_assess_ctx ctx = context(trusted);
    struct endpoint e;
    endpoint_init(&e, leaf.x509, other.key); /* signed with a key that is not the leaf's */
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.status, CS_ERROR);
    cr_assert(strstr(r.reason, "does not verify"), "%s", r.reason);
    cr_assert_str_eq(r.error, r.reason);
    cr_assert_eq(r.key_proven, 0);
    expect_leaf_fields(&r, leaf.x509);
    cr_assert_str_eq(r.verify, "ok");
    cs_result_free(&r);
    endpoint_free(&e);

    /* no proof at all: the same */
    endpoint_init(&e, leaf.x509, NULL);
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.status, CS_ERROR);
    cr_assert_eq(r.key_proven, 0);
    expect_leaf_fields(&r, leaf.x509);
    cs_result_free(&r);
    endpoint_free(&e);
}

Test(assess, rsa_key_transport_is_proven_by_a_completed_handshake)
{
    struct cs_assess_ctx ctx = context(trusted);
    struct endpoint e;
    endpoint_init(&e, leaf.x509, NULL);
    e.proof.kind = CS_PROOF_FINISHED;
    e.in.handshake_complete = true;
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.key_proven, 1);
    cr_assert_eq(r.status, CS_OK, "%s", r.reason);
    cs_result_free(&r);

    e.in.handshake_complete = false;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.key_proven, 0);
    cr_assert_eq(r.status, CS_ERROR);
    cs_result_free(&r);
    endpoint_free(&e);
}

Test(assess, cert_only_asks_for_no_proof)
{
    struct cs_assess_ctx ctx = context(trusted);
    ctx.cert_only = true;
    struct endpoint e;
    endpoint_init(&e, leaf.x509, NULL);
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.status, CS_OK, "%s", r.reason);
    cr_assert_str_eq(r.reason, "expires in 89 days");
    cr_assert_eq(r.key_proven, 0, "--cert-only proves nothing");
    expect_leaf_fields(&r, leaf.x509);
    cs_result_free(&r);
    endpoint_free(&e);
}

Test(assess, connection_errors_and_chains_that_cannot_be_used)
{
    struct cs_assess_ctx ctx = context(trusted);
    struct cs_target t = {.host = "assess.test", .port = 443};
    struct cs_assess_input in = {
        .target = &t, .elapsed_ms = CS_INT_NONE, .error = "timeout during handshake"};
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &in, &r, &a));
    cr_assert_eq(r.status, CS_ERROR);
    cr_assert_str_eq(r.reason, "timeout during handshake");
    cr_assert_str_eq(r.address, "");
    cr_assert_str_eq(r.sni, "");
    cr_assert_eq(r.elapsed_ms, CS_INT_NONE);
    cr_assert_null(r.serial);
    cr_assert_eq(r.key_proven, -1);
    cr_assert_eq(r.hostname_match, -1);
    cs_result_free(&r);

    in.error = NULL; /* no chain and no error */
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &in, &r, &a));
    cr_assert_str_eq(r.reason, "handshake: server sent no certificate");
    cs_result_free(&r);

    unsigned char junk[] = {0, 0, 4, 0x30, 0x02, 0x01, 0x00}; /* one "certificate" */
    struct cs_raw_chain bad = {.buf = junk, .len = sizeof junk, .n = 1};
    in.chain = &bad;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &in, &r, &a));
    cr_assert_str_eq(r.reason, "certificate: the server's certificate cannot be parsed");
    cs_result_free(&r);

    /* a chain that came with an error still fills the certificate fields */
    struct endpoint e;
    endpoint_init(&e, leaf.x509, leaf.key);
    e.in.error = "handshake: server closed before proving possession of its key";
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.status, CS_ERROR);
    cr_assert_str_eq(r.reason, e.in.error);
    cr_assert_eq(r.key_proven, 0);
    expect_leaf_fields(&r, leaf.x509);
    cs_result_free(&r);
    endpoint_free(&e);
}

Test(assess, names_are_checked_against_the_sni_or_the_host)
{
    struct cs_assess_ctx ctx = context(trusted);
    struct endpoint e;
    endpoint_init(&e, leaf.x509, leaf.key);
    e.target.sni = "elsewhere.test";
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.hostname_match, 0);
    cr_assert_eq(r.status, CS_CRITICAL, "%s", r.reason);
    cr_assert(strstr(r.reason, "hostname mismatch"), "%s", r.reason);
    cs_result_free(&r);
    endpoint_free(&e);
}

/* A good OCSP response for the leaf, signed by its issuer. */
static void good_staple(unsigned char **der, size_t *len, X509 *about)
{
    struct pki_ocsp_spec spec = {.leaf = about,
                                 .issuer = inter.x509,
                                 .status = PKI_OCSP_GOOD,
                                 .this_update = now - 3600,
                                 .next_update = now + 3 * DAY,
                                 .signer = &inter};
    cr_assert_eq(pki_ocsp_response(&spec, der, len), 0);
}

Test(assess, a_good_staple_is_the_answer)
{
    struct cs_assess_ctx ctx = context(trusted);
    struct endpoint e;
    endpoint_init(&e, leaf.x509, leaf.key);
    unsigned char *staple;
    size_t staple_len;
    good_staple(&staple, &staple_len, leaf.x509);
    e.in.staple = staple;
    e.in.staple_len = staple_len;
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_eq(r.ocsp_stapled, 1);
    cr_assert_str_eq(r.revocation, "good");
    cr_assert_str_eq(r.revocation_source, "staple");
    cr_assert_eq(r.revocation_next_update, now + 3 * DAY);
    cr_assert_eq(r.status, CS_OK, "%s", r.reason);
    cs_result_free(&r);

    /* with --ocsp and --crl, the staple stands for the responder: only the
       CRL is asked */
    ctx.ocsp = ctx.crl = true;
    cs_result_init(&r);
    cr_assert(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_not(a.ask_ocsp);
    cr_assert(a.ask_crl);
    cr_assert_eq(a.staple.state, CS_REV_GOOD);
    cs_assessment_free(&a);
    cs_result_free(&r);
    free(staple);
    endpoint_free(&e);
}

Test(assess, revocation_plan_for_a_trusted_chain)
{
    struct cs_assess_ctx ctx = context(trusted);
    ctx.ocsp = ctx.crl = true;
    struct endpoint e;
    endpoint_init(&e, leaf.x509, leaf.key);
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    cr_assert(cs_assess(&ctx, &e.in, &r, &a), "--ocsp --crl with URIs in the leaf: a plan");
    cr_assert(a.ask_ocsp);
    cr_assert(a.ask_crl);
    cr_assert_eq(X509_cmp(a.subject.leaf, leaf.x509), 0);
    cr_assert_eq(X509_cmp(a.subject.issuer, inter.x509), 0);
    cr_assert_not_null(a.subject.certs, "responder certificates may be in the chain");
    cr_assert(a.subject.issuer_trusted);
    cr_assert(cs_rev_chain_anchored(&a.subject));
    cr_assert_eq(r.key_proven, 1);
    cr_assert_null(r.revocation, "no verdict before the answers");

    struct cs_rev_answer ocsp, crl;
    cs_rev_answer_init(&ocsp, CS_SRC_OCSP);
    cs_rev_answer_init(&crl, CS_SRC_CRL);
    ocsp.state = CS_REV_REVOKED;
    ocsp.revoked_at = now - DAY;
    ocsp.reason = 1; /* keyCompromise */
    cs_assess_finish(&ctx, &r, &a, &ocsp, &crl);
    cr_assert_null(a.objs.leaf);
    cr_assert_str_eq(r.revocation, "revoked");
    cr_assert_str_eq(r.revocation_source, "ocsp");
    cr_assert_str_eq(r.revocation_reason, "keyCompromise");
    cr_assert_eq(r.status, CS_CRITICAL, "%s", r.reason);
    cr_assert(strstr(r.reason, "revoked (keyCompromise)"), "%s", r.reason);
    cs_result_free(&r);

    /* only --crl: only the CRL */
    ctx.ocsp = false;
    cs_result_init(&r);
    cr_assert(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_not(a.ask_ocsp);
    cr_assert(a.ask_crl);
    cs_rev_answer_init(&ocsp, CS_SRC_OCSP);
    crl.state = CS_REV_GOOD;
    crl.this_update = now - 3600;
    crl.next_update = now + DAY;
    cs_assess_finish(&ctx, &r, &a, &ocsp, &crl);
    cr_assert_str_eq(r.revocation, "good");
    cr_assert_str_eq(r.revocation_source, "crl");
    cr_assert_eq(r.status, CS_OK, "%s", r.reason);
    cs_result_free(&r);
    endpoint_free(&e);
}

Test(assess, revocation_plan_for_an_untrusted_chain)
{
    struct cs_assess_ctx ctx = context(untrusted);
    ctx.ocsp = ctx.crl = true;
    struct endpoint e;
    endpoint_init(&e, leaf.x509, leaf.key);
    struct cs_result r;
    struct cs_assessment a;
    cs_result_init(&r);
    /* the plan names the sources; the revocation service sees that the
       chain leads to no anchor and fetches nothing */
    cr_assert(cs_assess(&ctx, &e.in, &r, &a));
    cr_assert_not(a.subject.issuer_trusted);
    cr_assert_not(cs_rev_chain_anchored(&a.subject));
    cr_assert_str_neq(r.verify, "ok");
    struct cs_rev_answer ocsp, crl;
    cs_rev_answer_init(&ocsp, CS_SRC_OCSP);
    cs_rev_answer_init(&crl, CS_SRC_CRL);
    cs_rev_unchecked(&ocsp, "chain not trusted");
    cs_rev_unchecked(&crl, "chain not trusted");
    cs_assess_finish(&ctx, &r, &a, &ocsp, &crl);
    cr_assert_str_eq(r.revocation, "unchecked: chain not trusted");
    cr_assert_eq(r.status, CS_CRITICAL, "%s", r.reason);
    cr_assert(strncmp(r.reason, "untrusted: ", 11) == 0, "%s", r.reason);
    cs_result_free(&r);
    endpoint_free(&e);

    /* nobody answers for a self-signed leaf: no plan at all */
    X509 *certs[] = {self_signed.x509};
    struct cs_raw_chain chain = wire(certs, 1);
    struct cs_key_proof proof = sign_with(self_signed.key);
    struct cs_target t = {.host = "assess.test", .port = 443, .sni = "assess.test"};
    struct cs_assess_input in = {.target = &t, .elapsed_ms = 1, .chain = &chain, .proof = &proof};
    cs_result_init(&r);
    cr_assert_not(cs_assess(&ctx, &in, &r, &a));
    cr_assert_eq(r.key_proven, 1);
    cr_assert_str_eq(r.revocation, "unchecked");
    cs_result_free(&r);
    cs_raw_chain_free(&chain);
    cs_key_proof_free(&proof);
}

Test(assess, options_make_the_context)
{
    struct cs_options o;
    memset(&o, 0, sizeof o);
    o.warn_secs = 30 * DAY;
    o.crit_secs = 7 * DAY;
    o.verify_level = 3;
    o.chain = o.cert_only = o.crl = o.require_revocation = true;
    struct cs_assess_ctx ctx;
    cs_assess_ctx_init(&ctx, &o, now, trusted, cache);
    cr_assert_eq(ctx.store, trusted);
    cr_assert_eq(ctx.chains, cache);
    cr_assert_eq(ctx.now, now);
    cr_assert_eq(ctx.verify_level, 3);
    cr_assert(ctx.with_chain && ctx.cert_only && ctx.crl && !ctx.ocsp);
    cr_assert_eq(ctx.thresholds.warn_secs, 30 * DAY);
    cr_assert_eq(ctx.thresholds.crit_secs, 7 * DAY);
    cr_assert(ctx.thresholds.verify);
    cr_assert(ctx.thresholds.require_revocation);
}
