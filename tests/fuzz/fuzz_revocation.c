/* libFuzzer target: the revocation checks on what a hostile server (a
 * staple) or CA endpoint (an OCSP answer, a CRL) sends.  Every input runs
 * every path, so a seed is a plain DER or PEM file and no mode byte is
 * needed:
 *   - cs_ocsp_check on the bytes as an OCSPResponse, as a staple (req NULL,
 *     issuer trusted: only the signature of an issuer-signed answer is checked)
 *     and as a responder's answer to a cs_ocsp_request (the nonce path);
 *   - the same bytes' BasicOCSPResponse, whatever it says, signed again by
 *     the issuer and checked: fuzzed content then gets past the signature,
 *     into the CertID matching, the validity window and the status;
 *   - cs_crl_parse (DER or PEM), and when it parses, cs_crl_check with
 *     signature_known_good false and true (true skips the signature, so the
 *     window, the serial lookup and the reason see fuzzed content too).
 * The PKI (root, intermediate = the issuer, leaf, a delegated responder) is
 * made at init, EC P-256, with keys derived from fixed labels so that the
 * committed seeds, whose CertIDs and signatures are about this PKI, verify
 * in every run.  Init also checks that valid answers come out right (good,
 * revoked, delegated, nonce, CRL; a delta CRL and a CA-only CRL are no
 * answer), which proves the harness is wired up.
 *   FUZZ_REVOCATION_SEEDS=DIR build-fuzz/fuzz_revocation -runs=0
 * writes those valid answers into DIR (the seeds in
 * tests/fuzz/corpus/fuzz_revocation/, with ocsp-reason-out-of-range.der, a
 * revocationReason of -78 that the re-signed path once let through).
 * Beyond the sanitizers it checks every answer: a known state and the
 * source asked for, ERROR with a non-empty one-line printable reason,
 * REVOKED with a reason in -1..10, the record's revocation field one of
 * good/revoked/unknown/unchecked, "unchecked: ..." or "error: ...", no
 * answer without nextUpdate older than 7 days, and no answer from a CRL
 * that is out of scope (delta, indirect, an issuingDistributionPoint that
 * narrows it, a critical extension OpenSSL has no name for). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scanner/cert.h"
#include "scanner/result.h"
#include "scanner/revocation.h"

#define FUZZ_NOW 1772323200 /* 2026-03-01T00:00:00Z */
#define FUZZ_DAY 86400L
#define FUZZ_LEAF_SERIAL 0x1001
#define FUZZ_OTHER_SERIAL 0x2002
#define FUZZ_MAX_ANSWERS 6

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_revocation: check failed: %s (line %d)\n", #cond, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static struct {
    X509_STORE *store; /* the root, verification at FUZZ_NOW */
    X509 *root, *inter, *leaf, *responder;
    EVP_PKEY *root_key, *inter_key, *responder_key, *leaf_key;
    STACK_OF(X509) * certs;     /* leaf and intermediate: the presented chain */
    OCSP_REQUEST *req;          /* cs_ocsp_request's, nonce included */
    struct cs_rev_subject subj; /* what every check is about */
} fz;

/* ---- the PKI ------------------------------------------------------------ */

/* A P-256 key whose private scalar is SHA-256(label). */
static EVP_PKEY *fuzz_key(const char *label)
{
    unsigned char d[32], pub[65];
    unsigned int dlen = 0;
    if (!EVP_Digest(label, strlen(label), d, &dlen, EVP_sha256(), NULL))
        abort();
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *priv = BN_bin2bn(d, (int)dlen, NULL);
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    if (!pt || !priv || !EC_POINT_mul(g, pt, priv, NULL, NULL, NULL))
        abort();
    size_t publen =
        EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld || publen == 0 ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen))
        abort();
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
        abort();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    BN_clear_free(priv);
    return key;
}

static void fuzz_add_ext(X509 *x, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
    if (!ext || !X509_add_ext(x, ext, -1))
        abort();
    X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by issuer_key (issuer NULL: self-signed),
   valid from a year before FUZZ_NOW for ten years; eku NULL: none. */
static X509 *fuzz_cert(const char *cn, long serial, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, bool ca, const char *eku)
{
    X509 *x = X509_new();
    if (!x || !X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), FUZZ_NOW - 365 * FUZZ_DAY) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), FUZZ_NOW + 3650 * FUZZ_DAY))
        abort();
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_set_pubkey(x, key);
    fuzz_add_ext(x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    fuzz_add_ext(x, NID_key_usage,
                 ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    if (eku)
        fuzz_add_ext(x, NID_ext_key_usage, eku);
    if (!X509_sign(x, issuer_key, EVP_sha256()))
        abort();
    return x;
}

/* An OCSPResponse about the leaf with status (and reason when revoked),
   signed by signer; nonce_of: the request whose nonce it echoes, or NULL. */
static OCSP_RESPONSE *fuzz_response(int status, int reason, X509 *signer, EVP_PKEY *key,
                                    OCSP_REQUEST *nonce_of)
{
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, fz.leaf, fz.inter);
    ASN1_TIME *thisupd = ASN1_TIME_set(NULL, FUZZ_NOW - 3600);
    ASN1_TIME *nextupd = ASN1_TIME_set(NULL, FUZZ_NOW + 7 * FUZZ_DAY);
    ASN1_TIME *revtime = ASN1_TIME_set(NULL, FUZZ_NOW - FUZZ_DAY);
    bool revoked = status == V_OCSP_CERTSTATUS_REVOKED;
    if (!bs || !id || !thisupd || !nextupd || !revtime ||
        !OCSP_basic_add1_status(bs, id, status, reason, revoked ? revtime : NULL, thisupd,
                                nextupd) ||
        (nonce_of && OCSP_copy_nonce(bs, nonce_of) <= 0))
        abort();
    /* producedAt is not checked, but a fixed one keeps the seeds stable */
    ASN1_GENERALIZEDTIME_set((ASN1_GENERALIZEDTIME *)OCSP_resp_get0_produced_at(bs),
                             FUZZ_NOW - 3600);
    if (OCSP_basic_sign(bs, signer, key, EVP_sha256(), NULL, OCSP_NOTIME) != 1)
        abort();
    OCSP_RESPONSE *resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    if (!resp)
        abort();
    OCSP_CERTID_free(id);
    ASN1_TIME_free(thisupd);
    ASN1_TIME_free(nextupd);
    ASN1_TIME_free(revtime);
    OCSP_BASICRESP_free(bs);
    return resp;
}

static X509_REVOKED *fuzz_revoked(long serial, int reason)
{
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_TIME *when = ASN1_TIME_set(NULL, FUZZ_NOW - FUZZ_DAY);
    if (!r || !sn || !when || !ASN1_INTEGER_set(sn, serial) ||
        !X509_REVOKED_set_serialNumber(r, sn) || !X509_REVOKED_set_revocationDate(r, when))
        abort();
    if (reason >= 0) {
        ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
        if (!e || !ASN1_ENUMERATED_set(e, reason) ||
            !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0))
            abort();
        ASN1_ENUMERATED_free(e);
    }
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(when);
    return r;
}

/* The issuer's CRL, listing the leaf (keyCompromise) and another serial
   when list_leaf, empty otherwise; with nid, also that critical extension
   (value its d2i form). */
static X509_CRL *fuzz_crl_ext(bool list_leaf, EVP_PKEY *key, int nid, void *value)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = ASN1_TIME_set(NULL, FUZZ_NOW - 3600);
    ASN1_TIME *next = ASN1_TIME_set(NULL, FUZZ_NOW + 7 * FUZZ_DAY);
    if (!crl || !last || !next || !X509_CRL_set_version(crl, 1) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(fz.inter)) ||
        !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next))
        abort();
    if (list_leaf) {
        X509_CRL_add0_revoked(crl, fuzz_revoked(FUZZ_LEAF_SERIAL, 1));
        X509_CRL_add0_revoked(crl, fuzz_revoked(FUZZ_OTHER_SERIAL, -1));
        X509_CRL_sort(crl);
    }
    if (nid != NID_undef && !X509_CRL_add1_ext_i2d(crl, nid, value, 1, X509V3_ADD_DEFAULT))
        abort();
    if (!X509_CRL_sign(crl, key, EVP_sha256()))
        abort();
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    return crl;
}

static X509_CRL *fuzz_crl(bool list_leaf, EVP_PKEY *key)
{
    return fuzz_crl_ext(list_leaf, key, NID_undef, NULL);
}

/* ---- checking answers --------------------------------------------------- */

static void fuzz_check_answer(const struct cs_rev_answer *a, enum cs_rev_source src)
{
    int state = (int)a->state;
    FUZZ_CHECK(state >= CS_REV_UNCHECKED && state <= CS_REV_ERROR);
    FUZZ_CHECK(a->source == src);
    if (a->state == CS_REV_ERROR || a->error[0]) {
        FUZZ_CHECK(a->state == CS_REV_ERROR || a->state == CS_REV_UNCHECKED);
        FUZZ_CHECK(memchr(a->error, '\0', sizeof(a->error)) != NULL);
        FUZZ_CHECK(a->error[0] != '\0');
        for (const unsigned char *p = (const unsigned char *)a->error; *p; p++)
            FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
    }
    if (a->state == CS_REV_REVOKED)
        FUZZ_CHECK(a->reason >= -1 && a->reason <= 10);
    /* an answer without nextUpdate is good for 7 days after thisUpdate */
    if (a->state == CS_REV_GOOD || a->state == CS_REV_REVOKED || a->state == CS_REV_UNKNOWN)
        FUZZ_CHECK(a->next_update != CS_INT_NONE ||
                   a->this_update >= FUZZ_NOW - 7 * FUZZ_DAY - 300);

    struct cs_result r;
    cs_result_init(&r);
    cs_rev_to_record(&r, a);
    const char *v = r.revocation;
    FUZZ_CHECK(v != NULL);
    FUZZ_CHECK(strcmp(v, "good") == 0 || strcmp(v, "revoked") == 0 || strcmp(v, "unknown") == 0 ||
               strcmp(v, "unchecked") == 0 || strncmp(v, "unchecked: ", 11) == 0 ||
               strncmp(v, "error: ", 7) == 0);
    FUZZ_CHECK((a->state == CS_REV_REVOKED) == (r.revocation_reason != NULL));
    cs_result_free(&r);
}

static void fuzz_expect(const struct cs_rev_answer *a, enum cs_rev_state state)
{
    if (a->state != state)
        fprintf(stderr, "fuzz_revocation: init: state %d, expected %d (%s)\n", (int)a->state,
                (int)state, a->state == CS_REV_ERROR ? a->error : "");
    FUZZ_CHECK(a->state == state);
}

/* ---- one input ---------------------------------------------------------- */

/* data's BasicOCSPResponse signed again by the issuer and checked; false
   when it has none (or it cannot be encoded again). */
static bool fuzz_resigned(struct cs_rev_answer *a, const uint8_t *data, size_t size)
{
    const unsigned char *p = data;
    OCSP_RESPONSE *in = d2i_OCSP_RESPONSE(NULL, &p, (long)size);
    OCSP_BASICRESP *bs = in ? OCSP_response_get1_basic(in) : NULL;
    OCSP_RESPONSE *out = NULL;
    unsigned char *der = NULL;
    int n = 0;
    /* OCSP_NOCERTS keeps the fuzzed certificates, OCSP_NOTIME producedAt */
    bool ran = bs &&
               OCSP_basic_sign(bs, fz.inter, fz.inter_key, EVP_sha256(), NULL,
                               OCSP_NOCERTS | OCSP_NOTIME) == 1 &&
               (out = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) != NULL &&
               (n = i2d_OCSP_RESPONSE(out, &der)) > 0;
    if (ran)
        cs_ocsp_check(a, CS_SRC_OCSP, der, (size_t)n, &fz.subj, NULL);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(out);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(in);
    return ran;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Whether crl is no answer for the (non-CA) leaf whatever it lists, judged
   with OpenSSL's parse of it: a deltaCRLIndicator, an issuingDistributionPoint
   that is indirect, for CA or attribute certificates or some reasons only,
   or a critical extension (of the CRL or an entry) OpenSSL has no name for. */
static bool fuzz_crl_out_of_scope(X509_CRL *crl)
{
    if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0)
        return true;
    int crit = -1;
    ISSUING_DIST_POINT *idp =
        X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
    bool out = idp && (idp->indirectCRL || idp->onlyCA || idp->onlyattr || idp->onlysomereasons);
    ISSUING_DIST_POINT_free(idp);
    const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(crl);
    for (int i = 0; !out && i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *ex = sk_X509_EXTENSION_value(exts, i);
        out = X509_EXTENSION_get_critical(ex) &&
              OBJ_obj2nid(X509_EXTENSION_get_object(ex)) == NID_undef;
    }
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    for (int i = 0; !out && i < sk_X509_REVOKED_num(revs); i++) {
        const STACK_OF(X509_EXTENSION) *ee =
            X509_REVOKED_get0_extensions(sk_X509_REVOKED_value(revs, i));
        for (int k = 0; !out && k < sk_X509_EXTENSION_num(ee); k++) {
            X509_EXTENSION *ex = sk_X509_EXTENSION_value(ee, k);
            out = X509_EXTENSION_get_critical(ex) &&
                  OBJ_obj2nid(X509_EXTENSION_get_object(ex)) == NID_undef;
        }
    }
    ERR_clear_error();
    return out;
}

/* The CRL index against OpenSSL's own lookup, on the same CRL: the answer
   for the leaf (want: cs_crl_check's with the signature taken as good) and
   every listed serial, when no serial is listed twice (then which of the
   duplicates answers is unspecified). */
static void fuzz_crl_index(X509_CRL *crl, const struct cs_rev_answer *want)
{
    struct cs_crl_index *ix = cs_crl_index_new(crl);
    if (!ix)
        return;
    struct cs_rev_answer got;
    cs_crl_index_check(&got, ix, &fz.subj, true);
    fuzz_check_answer(&got, CS_SRC_CRL);
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(fz.subj.issuer)) != 0) {
        /* the index always compares the issuer's name (want skipped it) */
        FUZZ_CHECK(got.state == CS_REV_ERROR);
    } else {
        FUZZ_CHECK(got.state == want->state);
        FUZZ_CHECK(got.this_update == want->this_update && got.next_update == want->next_update);
    }
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
    int num = revs ? sk_X509_REVOKED_num(revs) : 0;
    bool unique = num <= 64;
    for (int i = 0; unique && i < num; i++)
        for (int j = i + 1; unique && j < num; j++)
            unique = ASN1_INTEGER_cmp(
                         X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)),
                         X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, j))) != 0;
    for (int i = 0; unique && i < num; i++) {
        const ASN1_INTEGER *serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i));
        X509_REVOKED *rev = NULL;
        int rc = X509_CRL_get0_by_serial(crl, &rev, (ASN1_INTEGER *)serial);
        int64_t when = 0;
        int reason = 0;
        int found = cs_crl_index_find(ix, serial, &when, &reason);
        FUZZ_CHECK(found == (rc == 1));
        FUZZ_CHECK(!found || when == cs_asn1_time(X509_REVOKED_get0_revocationDate(rev)));
        FUZZ_CHECK(!found || (reason >= -1 && reason <= 10));
    }
    if (unique && want->state == CS_REV_REVOKED && got.state == CS_REV_REVOKED)
        FUZZ_CHECK(got.revoked_at == want->revoked_at && got.reason == want->reason);
    ERR_clear_error();
    cs_crl_index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cs_rev_answer parts[FUZZ_MAX_ANSWERS];
    size_t n = 0;

    /* the staple as the engine checks one from a verified chain (a response
       the issuer signed needs only its signature checked), the fetched
       answer with the whole verification */
    fz.subj.issuer_trusted = true;
    cs_ocsp_check(&parts[n], CS_SRC_STAPLE, data, size, &fz.subj, NULL);
    fz.subj.issuer_trusted = false;
    fuzz_check_answer(&parts[n++], CS_SRC_STAPLE);
    cs_ocsp_check(&parts[n], CS_SRC_OCSP, data, size, &fz.subj, fz.req);
    fuzz_check_answer(&parts[n++], CS_SRC_OCSP);
    if (fuzz_resigned(&parts[n], data, size))
        fuzz_check_answer(&parts[n++], CS_SRC_OCSP);

    char why[128] = "";
    X509_CRL *crl = cs_crl_parse(data, size, why, sizeof(why));
    if (crl) {
        for (int known = 0; known <= 1; known++) {
            bool good_sig = cs_crl_check(&parts[n], crl, &fz.subj, known);
            fuzz_check_answer(&parts[n], CS_SRC_CRL);
            FUZZ_CHECK(!known || good_sig);
            FUZZ_CHECK(parts[n].state != CS_REV_GOOD || good_sig);
            if (parts[n].state == CS_REV_GOOD || parts[n].state == CS_REV_REVOKED)
                FUZZ_CHECK(!fuzz_crl_out_of_scope(crl));
            n++;
        }
        fuzz_crl_index(crl, &parts[n - 1]);
        X509_CRL_free(crl);
    } else {
        FUZZ_CHECK(why[0] != '\0');
    }

    struct cs_rev_answer all;
    cs_rev_combine(&all, parts, n);
    fuzz_check_answer(&all, all.state == CS_REV_UNCHECKED ? CS_SRC_NONE : all.source);
    /* the error queue keeps its strings until cleared: to libFuzzer's malloc
       count that is a leak, and each suspected leak costs a full LSan scan */
    ERR_clear_error();
    return 0;
}

/* ---- init: the PKI, the self-check, the seeds ---------------------------- */

static void fuzz_write(const char *dir, const char *name, const unsigned char *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(buf, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);
}

/* Checks resp as a staple, as an answer to fz.req and signed again, and
   writes it into dir as a seed called name (a NULL name: not a seed). */
static void fuzz_try_response(const char *dir, const char *name, OCSP_RESPONSE *resp,
                              enum cs_rev_state staple, enum cs_rev_state answered)
{
    unsigned char *der = NULL;
    int n = i2d_OCSP_RESPONSE(resp, &der);
    FUZZ_CHECK(n > 0);
    struct cs_rev_answer a;
    cs_ocsp_check(&a, CS_SRC_STAPLE, der, (size_t)n, &fz.subj, NULL);
    fuzz_expect(&a, staple);
    cs_ocsp_check(&a, CS_SRC_OCSP, der, (size_t)n, &fz.subj, fz.req);
    fuzz_expect(&a, answered);
    if (fuzz_resigned(&a, der, (size_t)n) && staple != CS_REV_ERROR)
        fuzz_expect(&a, staple);
    if (dir && name)
        fuzz_write(dir, name, der, (size_t)n);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
}

/* Checks crl, as DER or PEM, with and without its signature checked. */
static void fuzz_try_crl(const char *dir, const char *name, X509_CRL *crl, bool pem,
                         enum cs_rev_state checked, enum cs_rev_state known)
{
    unsigned char *buf = NULL;
    long n;
    BIO *b = NULL;
    if (pem) {
        b = BIO_new(BIO_s_mem());
        FUZZ_CHECK(b && PEM_write_bio_X509_CRL(b, crl));
        char *p;
        n = BIO_get_mem_data(b, &p);
        buf = (unsigned char *)p;
    } else {
        n = i2d_X509_CRL(crl, &buf);
    }
    FUZZ_CHECK(n > 0);
    char why[128];
    X509_CRL *parsed = cs_crl_parse(buf, (size_t)n, why, sizeof(why));
    FUZZ_CHECK(parsed != NULL);
    struct cs_rev_answer a;
    cs_crl_check(&a, parsed, &fz.subj, false);
    fuzz_expect(&a, checked);
    cs_crl_check(&a, parsed, &fz.subj, true);
    fuzz_expect(&a, known);
    if (known == CS_REV_REVOKED)
        FUZZ_CHECK(a.reason == 1 && a.revoked_at == FUZZ_NOW - FUZZ_DAY);
    if (dir && name)
        fuzz_write(dir, name, buf, (size_t)n);
    X509_CRL_free(parsed);
    X509_CRL_free(crl);
    if (pem)
        BIO_free(b);
    else
        OPENSSL_free(buf);
}

static void fuzz_self_check(const char *dir)
{
    const int good = V_OCSP_CERTSTATUS_GOOD, revoked = V_OCSP_CERTSTATUS_REVOKED;
    fuzz_try_response(dir, "ocsp-good.der", fuzz_response(good, -1, fz.inter, fz.inter_key, NULL),
                      CS_REV_GOOD, CS_REV_GOOD);
    fuzz_try_response(dir, "ocsp-revoked.der",
                      fuzz_response(revoked, 1, fz.inter, fz.inter_key, NULL), CS_REV_REVOKED,
                      CS_REV_REVOKED);
    fuzz_try_response(dir, "ocsp-unknown-nonce.der",
                      fuzz_response(V_OCSP_CERTSTATUS_UNKNOWN, -1, fz.inter, fz.inter_key, fz.req),
                      CS_REV_UNKNOWN, CS_REV_UNKNOWN);
    fuzz_try_response(dir, "ocsp-delegated.der",
                      fuzz_response(good, -1, fz.responder, fz.responder_key, NULL), CS_REV_GOOD,
                      CS_REV_GOOD);
    /* another request's nonce: a replay when it answers fz.req */
    unsigned char *der;
    size_t len;
    OCSP_REQUEST *other = cs_ocsp_request(&fz.subj, &der, &len);
    FUZZ_CHECK(other != NULL);
    OPENSSL_free(der);
    fuzz_try_response(dir, "ocsp-replayed-nonce.der",
                      fuzz_response(good, -1, fz.inter, fz.inter_key, other), CS_REV_GOOD,
                      CS_REV_ERROR);
    OCSP_REQUEST_free(other);
    /* the leaf's key is no responder: the signature must not be accepted */
    fuzz_try_response(dir, NULL, fuzz_response(good, -1, fz.leaf, fz.leaf_key, NULL), CS_REV_ERROR,
                      CS_REV_ERROR);
    fuzz_try_response(dir, "ocsp-try-later.der",
                      OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL), CS_REV_ERROR,
                      CS_REV_ERROR);

    fuzz_try_crl(dir, "crl-revoked.der", fuzz_crl(true, fz.inter_key), false, CS_REV_REVOKED,
                 CS_REV_REVOKED);
    fuzz_try_crl(dir, "crl-empty.pem", fuzz_crl(false, fz.inter_key), true, CS_REV_GOOD,
                 CS_REV_GOOD);
    fuzz_try_crl(dir, NULL, fuzz_crl(false, fz.root_key), false, CS_REV_ERROR, CS_REV_GOOD);
    /* no answer though they list the leaf: a delta CRL, and one for CA
       certificates only */
    ASN1_INTEGER *base = ASN1_INTEGER_new();
    ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
    if (!base || !ASN1_INTEGER_set(base, 1) || !idp)
        abort();
    idp->onlyCA = 0xFF;
    fuzz_try_crl(dir, "crl-delta.der", fuzz_crl_ext(true, fz.inter_key, NID_delta_crl, base), false,
                 CS_REV_ERROR, CS_REV_ERROR);
    fuzz_try_crl(dir, "crl-only-ca.der",
                 fuzz_crl_ext(true, fz.inter_key, NID_issuing_distribution_point, idp), false,
                 CS_REV_ERROR, CS_REV_ERROR);
    ASN1_INTEGER_free(base);
    ISSUING_DIST_POINT_free(idp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz.root_key = fuzz_key("certsweep fuzz_revocation root");
    fz.inter_key = fuzz_key("certsweep fuzz_revocation intermediate");
    fz.responder_key = fuzz_key("certsweep fuzz_revocation responder");
    fz.leaf_key = fuzz_key("certsweep fuzz_revocation leaf");
    fz.root = fuzz_cert("fuzz revocation root", 1, fz.root_key, NULL, fz.root_key, true, NULL);
    fz.inter = fuzz_cert("fuzz revocation intermediate", 2, fz.inter_key, fz.root, fz.root_key,
                         true, NULL);
    fz.leaf = fuzz_cert("leaf.fuzz.example", FUZZ_LEAF_SERIAL, fz.leaf_key, fz.inter, fz.inter_key,
                        false, NULL);
    fz.responder = fuzz_cert("fuzz revocation responder", 3, fz.responder_key, fz.inter,
                             fz.inter_key, false, "OCSPSigning");

    fz.store = X509_STORE_new();
    FUZZ_CHECK(fz.store && X509_STORE_add_cert(fz.store, fz.root));
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(fz.store), (time_t)FUZZ_NOW);
    fz.certs = sk_X509_new_null();
    FUZZ_CHECK(fz.certs && sk_X509_push(fz.certs, fz.leaf) && sk_X509_push(fz.certs, fz.inter));
    fz.subj = (struct cs_rev_subject){fz.leaf, fz.inter, fz.certs, fz.store, FUZZ_NOW, false};

    unsigned char *der;
    size_t len;
    fz.req = cs_ocsp_request(&fz.subj, &der, &len);
    FUZZ_CHECK(fz.req != NULL && der != NULL && len > 0);
    OPENSSL_free(der);

    fuzz_self_check(getenv("FUZZ_REVOCATION_SEEDS"));
    ERR_clear_error();
    return 0;
}
