/* Revocation answers (see revocation.h).  Times are compared with the scan's
 * now (or --now), never the clock, so a report can be reproduced; OCSP and
 * CRL validity windows get five minutes of slack for clock skew. */
#include "scanner/revocation.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "scanner/cert.h"

#define SKEW 300
/* An answer without nextUpdate is good for this long after thisUpdate: no
   response the CA/Browser Forum allows lasts longer than 10 days */
#define NO_NEXT_UPDATE_DAYS 7

void cs_rev_answer_init(struct cs_rev_answer *a, enum cs_rev_source src)
{
    memset(a, 0, sizeof(*a));
    a->state = CS_REV_UNCHECKED;
    a->source = src;
    a->revoked_at = CS_INT_NONE;
    a->reason = -1;
    a->this_update = CS_INT_NONE;
    a->next_update = CS_INT_NONE;
}

void cs_rev_fail(struct cs_rev_answer *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->error, sizeof(a->error), fmt, ap);
    va_end(ap);
    a->state = CS_REV_ERROR;
}

void cs_rev_unchecked(struct cs_rev_answer *a, const char *why)
{
    snprintf(a->error, sizeof(a->error), "%s", why);
    a->state = CS_REV_UNCHECKED;
}

bool cs_rev_chain_anchored(const struct cs_rev_subject *s)
{
    if (s->issuer_trusted)
        return true;
    if (!s->store || !s->leaf || !s->issuer)
        return false;
    /* what failed may be the dates alone (an expired leaf of a trusted CA,
       whose revocation is still worth knowing) or the leaf's use for TLS:
       once more without dates and without a purpose */
    bool ok = false;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx && X509_STORE_CTX_init(ctx, s->store, s->leaf, s->certs) == 1) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_USE_CHECK_TIME); /* it would win */
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
        ok = X509_verify_cert(ctx) == 1;
    }
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

const char *cs_rev_reason_name(int reason)
{
    static const char *const names[] = {
        "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
        "superseded",    "cessationOfOperation", "certificateHold", NULL,
        "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
    };
    if (reason < 0)
        return "unspecified";
    if ((size_t)reason < sizeof(names) / sizeof(names[0]) && names[reason])
        return names[reason];
    return "unknown reason";
}

const char *cs_rev_source_name(enum cs_rev_source src)
{
    switch (src) {
    case CS_SRC_STAPLE:
        return "staple";
    case CS_SRC_OCSP:
        return "ocsp";
    case CS_SRC_CRL:
        return "crl";
    default:
        return "none";
    }
}

static void time_text(int64_t t, char buf[24])
{
    cs_format_time(t, buf);
}

/* thisUpdate/nextUpdate (or a CRL's lastUpdate/nextUpdate) against now;
   what names the answer ("OCSP response", "CRL"). */
static bool window_ok(struct cs_rev_answer *a, int64_t now, const char *what)
{
    char when[24];
    if (a->this_update == CS_INT_NONE) {
        cs_rev_fail(a, "unreadable thisUpdate");
        return false;
    }
    if (a->this_update > now + SKEW) {
        time_text(a->this_update, when);
        cs_rev_fail(a, "not yet valid (thisUpdate %s)", when);
        return false;
    }
    if (a->next_update != CS_INT_NONE && a->next_update < now - SKEW) {
        time_text(a->next_update, when);
        cs_rev_fail(a, "expired (nextUpdate %s)", when);
        return false;
    }
    if (a->next_update == CS_INT_NONE &&
        a->this_update < now - SKEW - (int64_t)NO_NEXT_UPDATE_DAYS * 86400) {
        time_text(a->this_update, when);
        cs_rev_fail(a, "%s without nextUpdate is older than %d days (thisUpdate %s)", what,
                    NO_NEXT_UPDATE_DAYS, when);
        return false;
    }
    return true;
}

/* The single response about leaf, whatever hash its CertID uses. */
static OCSP_SINGLERESP *find_single(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer)
{
    OCSP_SINGLERESP *found = NULL;
    for (int i = 0; !found && i < OCSP_resp_count(bs); i++) {
        OCSP_SINGLERESP *single = OCSP_resp_get0(bs, i);
        const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(single);
        ASN1_OBJECT *md_obj = NULL;
        if (!cid || !OCSP_id_get0_info(NULL, &md_obj, NULL, NULL, (OCSP_CERTID *)cid))
            continue;
        const EVP_MD *md = EVP_get_digestbyobj(md_obj);
        OCSP_CERTID *mine = md ? OCSP_cert_to_id(md, leaf, issuer) : NULL;
        if (mine && OCSP_id_cmp(mine, cid) == 0)
            found = single;
        OCSP_CERTID_free(mine);
    }
    return found;
}

static const char *verify_failure(void)
{
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_OCSP) {
        switch (ERR_GET_REASON(e)) {
        case OCSP_R_SIGNER_CERTIFICATE_NOT_FOUND:
            return "signature does not verify (no responder certificate)";
        case OCSP_R_CERTIFICATE_VERIFY_ERROR:
            return "responder certificate not trusted";
        case OCSP_R_ROOT_CA_NOT_TRUSTED:
        case OCSP_R_MISSING_OCSPSIGNING_USAGE:
        case OCSP_R_RESPONSE_CONTAINS_NO_REVOCATION_DATA:
            return "responder not authorised by the issuer";
        default:
            break;
        }
    }
    return "signature does not verify";
}

void cs_ocsp_check(struct cs_rev_answer *a, enum cs_rev_source src, const unsigned char *der,
                   size_t len, const struct cs_rev_subject *s, OCSP_REQUEST *req)
{
    cs_rev_answer_init(a, src);
    if (!s->issuer) {
        cs_rev_fail(a, "issuer certificate unknown");
        return;
    }
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = len <= LONG_MAX ? d2i_OCSP_RESPONSE(NULL, &p, (long)len) : NULL;
    OCSP_BASICRESP *bs = NULL;
    ERR_clear_error();
    if (!resp || p != der + len) {
        cs_rev_fail(a, "unparsable response");
        goto out;
    }
    int status = OCSP_response_status(resp);
    if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        cs_rev_fail(a, "responder says %s", OCSP_response_status_str(status));
        goto out;
    }
    bs = OCSP_response_get1_basic(resp);
    if (!bs) {
        cs_rev_fail(a, "unparsable response");
        goto out;
    }
    /* 0: both carry a nonce and they differ (a replayed answer); a responder
       that leaves the nonce out (most of them: RFC 5019) is accepted */
    if (req && OCSP_check_nonce(req, bs) == 0) {
        cs_rev_fail(a, "nonce mismatch");
        goto out;
    }
    /* signed by the issuer whose chain was verified already: the signature
       is all that is left to check (a delegated responder, or an issuer not
       yet verified, gets the whole verification) */
    X509 *signer = NULL;
    unsigned long flags = 0;
    if (s->issuer_trusted && OCSP_resp_get0_signer(bs, &signer, s->certs) == 1 &&
        X509_cmp(signer, s->issuer) == 0)
        flags = OCSP_NOVERIFY;
    ERR_clear_error();
    if (OCSP_basic_verify(bs, s->certs, s->store, flags) <= 0) {
        cs_rev_fail(a, "%s", verify_failure());
        goto out;
    }
    OCSP_SINGLERESP *single = find_single(bs, s->leaf, s->issuer);
    if (!single) {
        cs_rev_fail(a, "response is not about this certificate");
        goto out;
    }
    int reason = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    int st = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
    a->this_update = thisupd ? cs_asn1_time(thisupd) : CS_INT_NONE;
    a->next_update = nextupd ? cs_asn1_time(nextupd) : CS_INT_NONE;
    if (!window_ok(a, s->now, "OCSP response"))
        goto out;
    switch (st) {
    case V_OCSP_CERTSTATUS_GOOD:
        a->state = CS_REV_GOOD;
        break;
    case V_OCSP_CERTSTATUS_REVOKED:
        a->state = CS_REV_REVOKED;
        a->revoked_at = rev ? cs_asn1_time(rev) : CS_INT_NONE;
        a->reason = reason >= 0 && reason <= 10 ? reason : -1; /* not a CRLReason: as absent */
        break;
    case V_OCSP_CERTSTATUS_UNKNOWN:
        a->state = CS_REV_UNKNOWN;
        break;
    default:
        cs_rev_fail(a, "unparsable response");
        break;
    }
out:
    ERR_clear_error();
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
}

OCSP_REQUEST *cs_ocsp_request(const struct cs_rev_subject *s, unsigned char **der, size_t *len)
{
    *der = NULL;
    *len = 0;
    if (!s->issuer)
        return NULL;
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, s->leaf, s->issuer);
    if (!req || !id || !OCSP_request_add0_id(req, id)) {
        OCSP_CERTID_free(id);
        OCSP_REQUEST_free(req);
        return NULL;
    }
    int n;
    if (!OCSP_request_add1_nonce(req, NULL, -1) || (n = i2d_OCSP_REQUEST(req, der)) <= 0) {
        OCSP_REQUEST_free(req);
        ERR_clear_error();
        return NULL;
    }
    *len = (size_t)n;
    return req;
}

X509_CRL *cs_crl_parse(const unsigned char *buf, size_t len, char *why, size_t whylen)
{
    X509_CRL *crl = NULL;
    static const char pem[] = "-----BEGIN";
    size_t skip = 0;
    while (skip < len &&
           (buf[skip] == ' ' || buf[skip] == '\t' || buf[skip] == '\r' || buf[skip] == '\n'))
        skip++;
    if (len > INT_MAX) {
        snprintf(why, whylen, "too large to parse");
        return NULL;
    }
    if (len - skip >= sizeof(pem) - 1 && memcmp(buf + skip, pem, sizeof(pem) - 1) == 0) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        const unsigned char *p = buf;
        crl = d2i_X509_CRL(NULL, &p, (long)len);
        if (crl && p != buf + len) {
            X509_CRL_free(crl);
            crl = NULL;
        }
    }
    ERR_clear_error();
    if (!crl)
        snprintf(why, whylen, "unparsable CRL (neither DER nor PEM)");
    return crl;
}

/* What a CRL says about its own scope (RFC 5280 5.2.5), read once. */
struct crl_scope {
    bool only_user, only_ca;
    GENERAL_NAMES *names; /* the issuingDistributionPoint's fullName, or NULL */
    char problem[120];    /* why the CRL is no answer for any certificate, or "" */
};

/* CRL extensions understood here (deltaCRLIndicator is, to be refused) */
static bool crl_ext_known(int nid)
{
    return nid == NID_authority_key_identifier || nid == NID_issuer_alt_name ||
           nid == NID_crl_number || nid == NID_issuing_distribution_point ||
           nid == NID_freshest_crl || nid == NID_info_access;
}

/* CRL entry extensions understood here (certificateIssuer belongs to
   indirect CRLs, which are refused) */
static bool entry_ext_known(int nid)
{
    return nid == NID_crl_reason || nid == NID_invalidity_date || nid == NID_hold_instruction_code;
}

/* Why a critical extension makes the CRL no answer: "unknown critical
   <what> 1.2.3.4", or "unsupported critical <what> <name>" for one OpenSSL
   knows and certsweep does not interpret. */
static void ext_problem(char *buf, size_t len, const X509_EXTENSION *ex, int nid, const char *what)
{
    char oid[64];
    if (nid != NID_undef) {
        snprintf(buf, len, "unsupported critical %s %s", what, OBJ_nid2sn(nid));
        return;
    }
    if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object((X509_EXTENSION *)ex), 1) <= 0)
        snprintf(oid, sizeof(oid), "?");
    snprintf(buf, len, "unknown critical %s %s", what, oid);
}

static void crl_scope_read(struct crl_scope *sc, const X509_CRL *crl)
{
    memset(sc, 0, sizeof(*sc));
    const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(crl);
    for (int i = 0; !sc->problem[0] && i < sk_X509_EXTENSION_num(exts); i++) {
        const X509_EXTENSION *ex = sk_X509_EXTENSION_value(exts, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ex));
        if (nid == NID_delta_crl) {
            snprintf(sc->problem, sizeof(sc->problem), "delta CRL (not supported)");
        } else if (X509_EXTENSION_get_critical(ex) && !crl_ext_known(nid)) {
            ext_problem(sc->problem, sizeof(sc->problem), ex, nid, "extension");
        }
    }
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED((X509_CRL *)crl);
    for (int i = 0; !sc->problem[0] && i < sk_X509_REVOKED_num(revs); i++) {
        const STACK_OF(X509_EXTENSION) *ee =
            X509_REVOKED_get0_extensions(sk_X509_REVOKED_value(revs, i));
        for (int k = 0; !sc->problem[0] && k < sk_X509_EXTENSION_num(ee); k++) {
            const X509_EXTENSION *ex = sk_X509_EXTENSION_value(ee, k);
            int nid = OBJ_obj2nid(X509_EXTENSION_get_object((X509_EXTENSION *)ex));
            if (X509_EXTENSION_get_critical(ex) && !entry_ext_known(nid))
                ext_problem(sc->problem, sizeof(sc->problem), ex, nid, "entry extension");
        }
    }
    int crit = -1;
    ISSUING_DIST_POINT *idp =
        X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
    if (!idp && crit != -1 && !sc->problem[0]) /* -2: more than one; >= 0: unreadable */
        snprintf(sc->problem, sizeof(sc->problem), "unreadable issuingDistributionPoint");
    if (idp && !sc->problem[0]) {
        if (idp->indirectCRL)
            snprintf(sc->problem, sizeof(sc->problem), "indirect CRL (not supported)");
        else if (idp->onlysomereasons)
            snprintf(sc->problem, sizeof(sc->problem), "out of scope (onlySomeReasons)");
        else if (idp->onlyattr)
            snprintf(sc->problem, sizeof(sc->problem), "out of scope (onlyContainsAttributeCerts)");
        else if (idp->distpoint && idp->distpoint->type != 0)
            snprintf(sc->problem, sizeof(sc->problem),
                     "issuingDistributionPoint with a relative name (not supported)");
        sc->only_user = idp->onlyuser != 0;
        sc->only_ca = idp->onlyCA != 0;
        if (idp->distpoint && idp->distpoint->type == 0)
            sc->names = sk_GENERAL_NAME_deep_copy(idp->distpoint->name.fullname, GENERAL_NAME_dup,
                                                  GENERAL_NAME_free);
        if (idp->distpoint && idp->distpoint->type == 0 && !sc->names && !sc->problem[0])
            snprintf(sc->problem, sizeof(sc->problem), "out of memory");
    }
    ISSUING_DIST_POINT_free(idp);
    ERR_clear_error();
}

static void crl_scope_free(struct crl_scope *sc)
{
    GENERAL_NAMES_free(sc->names);
    sc->names = NULL;
}

/* Whether a name of the leaf's CRL distribution points (among them the URL
   the CRL came from) is one the CRL's issuingDistributionPoint names. */
static bool crl_names_leaf(const GENERAL_NAMES *names, X509 *leaf)
{
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(leaf, NID_crl_distribution_points, NULL, NULL);
    bool found = false;
    for (int i = 0; !found && i < sk_DIST_POINT_num(dps); i++) {
        const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (!dp->distpoint || dp->distpoint->type != 0)
            continue;
        const GENERAL_NAMES *mine = dp->distpoint->name.fullname;
        for (int k = 0; !found && k < sk_GENERAL_NAME_num(mine); k++)
            for (int m = 0; !found && m < sk_GENERAL_NAME_num(names); m++)
                found = GENERAL_NAME_cmp(sk_GENERAL_NAME_value(mine, k),
                                         sk_GENERAL_NAME_value(names, m)) == 0;
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
    return found;
}

/* Whether the CRL answers for s->leaf; if not, a says why. */
static bool crl_scope_ok(struct cs_rev_answer *a, const struct crl_scope *sc, X509 *leaf)
{
    if (sc->problem[0]) {
        cs_rev_fail(a, "%s", sc->problem);
        return false;
    }
    bool is_ca = (X509_get_extension_flags(leaf) & EXFLAG_CA) != 0;
    if (sc->only_user && is_ca) {
        cs_rev_fail(a, "out of scope (onlyContainsUserCerts)");
        return false;
    }
    if (sc->only_ca && !is_ca) {
        cs_rev_fail(a, "out of scope (onlyContainsCACerts)");
        return false;
    }
    if (sc->names && !crl_names_leaf(sc->names, leaf)) {
        cs_rev_fail(a, "out of scope (issuingDistributionPoint names another distribution point)");
        return false;
    }
    return true;
}

bool cs_crl_check(struct cs_rev_answer *a, X509_CRL *crl, const struct cs_rev_subject *s,
                  bool signature_known_good)
{
    cs_rev_answer_init(a, CS_SRC_CRL);
    if (!s->issuer) {
        cs_rev_fail(a, "issuer certificate unknown");
        return false;
    }
    if (!signature_known_good) {
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(s->issuer)) != 0) {
            cs_rev_fail(a, "issued by another CA than the certificate");
            return false;
        }
        EVP_PKEY *key = X509_get0_pubkey(s->issuer);
        int ok = key ? X509_CRL_verify(crl, key) : -1;
        ERR_clear_error();
        if (ok != 1) {
            cs_rev_fail(a, "signature does not verify");
            return false;
        }
    }
    struct crl_scope sc;
    crl_scope_read(&sc, crl);
    bool in_scope = crl_scope_ok(a, &sc, s->leaf);
    crl_scope_free(&sc);
    if (!in_scope)
        return true;
    const ASN1_TIME *last = X509_CRL_get0_lastUpdate(crl), *next = X509_CRL_get0_nextUpdate(crl);
    a->this_update = last ? cs_asn1_time(last) : CS_INT_NONE;
    a->next_update = next ? cs_asn1_time(next) : CS_INT_NONE;
    if (!window_ok(a, s->now, "CRL"))
        return true;
    X509_REVOKED *rev = NULL;
    int rc = X509_CRL_get0_by_serial(crl, &rev, (ASN1_INTEGER *)X509_get0_serialNumber(s->leaf));
    ERR_clear_error();
    if (rc != 1 || !rev) { /* 2: listed as removeFromCRL, which is good again */
        a->state = CS_REV_GOOD;
        return true;
    }
    a->state = CS_REV_REVOKED;
    a->revoked_at = cs_asn1_time(X509_REVOKED_get0_revocationDate(rev));
    ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    long code = e ? ASN1_ENUMERATED_get(e) : -1;
    a->reason = code >= 0 && code <= 10 ? (int)code : -1; /* not a CRLReason: as absent */
    ASN1_ENUMERATED_free(e);
    ERR_clear_error();
    return true;
}

/* One entry of a CRL index. */
struct crl_ix_entry {
    const unsigned char *serial; /* magnitude, big-endian, in the index's pool */
    uint32_t len;
    bool negative;
    int8_t reason; /* CRL reason code, -1 when absent */
    int64_t revoked_at;
};

struct cs_crl_index {
    X509_NAME *issuer;
    struct crl_scope scope;
    int64_t this_update, next_update;
    struct crl_ix_entry *entries; /* sorted by (negative, len, serial) */
    size_t n;
    unsigned char *pool;
    size_t pool_len;
};

static int crl_ix_cmp_serial(bool neg_a, const unsigned char *a, size_t len_a, bool neg_b,
                             const unsigned char *b, size_t len_b)
{
    if (neg_a != neg_b)
        return neg_a ? -1 : 1;
    if (len_a != len_b)
        return (len_a < len_b) != neg_a ? -1 : 1;
    int c = len_a ? memcmp(a, b, len_a) : 0;
    return neg_a ? -c : c;
}

static int crl_ix_cmp(const void *pa, const void *pb)
{
    const struct crl_ix_entry *a = pa, *b = pb;
    return crl_ix_cmp_serial(a->negative, a->serial, a->len, b->negative, b->serial, b->len);
}

/* The reason code of a CRL entry, -1 when absent or not a CRLReason. */
static int entry_reason(const X509_REVOKED *rev)
{
    ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
    long code = e ? ASN1_ENUMERATED_get(e) : -1;
    ASN1_ENUMERATED_free(e);
    ERR_clear_error();
    return code >= 0 && code <= 10 ? (int)code : -1; /* not a CRLReason: as absent */
}

struct cs_crl_index *cs_crl_index_new(const X509_CRL *crl)
{
    STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED((X509_CRL *)crl);
    size_t n = (size_t)(revs ? sk_X509_REVOKED_num(revs) : 0), pool_len = 0;
    for (size_t i = 0; i < n; i++)
        pool_len += (size_t)ASN1_STRING_length(
            X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, (int)i)));
    struct cs_crl_index *ix = cs_xcalloc(1, sizeof(*ix));
    ix->issuer = X509_NAME_dup(X509_CRL_get_issuer(crl));
    crl_scope_read(&ix->scope, crl);
    const ASN1_TIME *last = X509_CRL_get0_lastUpdate(crl), *next = X509_CRL_get0_nextUpdate(crl);
    ix->this_update = last ? cs_asn1_time(last) : CS_INT_NONE;
    ix->next_update = next ? cs_asn1_time(next) : CS_INT_NONE;
    ix->entries = cs_xcalloc(n ? n : 1, sizeof(*ix->entries));
    ix->pool = cs_xmalloc(pool_len ? pool_len : 1);
    for (size_t i = 0; i < n; i++) {
        const X509_REVOKED *rev = sk_X509_REVOKED_value(revs, (int)i);
        int reason = entry_reason(rev);
        if (reason == CRL_REASON_REMOVE_FROM_CRL)
            continue;
        const ASN1_INTEGER *serial = X509_REVOKED_get0_serialNumber(rev);
        size_t len = (size_t)ASN1_STRING_length(serial);
        if (len > UINT32_MAX) {
            cs_crl_index_free(ix);
            return NULL;
        }
        struct crl_ix_entry *e = &ix->entries[ix->n++];
        memcpy(ix->pool + ix->pool_len, ASN1_STRING_get0_data(serial), len);
        e->serial = ix->pool + ix->pool_len;
        e->len = (uint32_t)len;
        e->negative = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
        e->reason = (int8_t)reason;
        e->revoked_at = cs_asn1_time(X509_REVOKED_get0_revocationDate(rev));
        ix->pool_len += len;
    }
    if (!ix->issuer) {
        cs_crl_index_free(ix);
        return NULL;
    }
    qsort(ix->entries, ix->n, sizeof(*ix->entries), crl_ix_cmp);
    return ix;
}

void cs_crl_index_free(struct cs_crl_index *ix)
{
    if (!ix)
        return;
    X509_NAME_free(ix->issuer);
    crl_scope_free(&ix->scope);
    free(ix->entries);
    free(ix->pool);
    free(ix);
}

size_t cs_crl_index_bytes(const struct cs_crl_index *ix)
{
    return sizeof(*ix) + ix->n * sizeof(*ix->entries) + ix->pool_len;
}

int cs_crl_index_find(const struct cs_crl_index *ix, const ASN1_INTEGER *serial,
                      int64_t *revoked_at, int *reason)
{
    bool neg = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
    const unsigned char *data = ASN1_STRING_get0_data(serial);
    size_t len = (size_t)ASN1_STRING_length(serial);
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct crl_ix_entry *e = &ix->entries[mid];
        int c = crl_ix_cmp_serial(e->negative, e->serial, e->len, neg, data, len);
        if (c == 0) {
            *revoked_at = e->revoked_at;
            *reason = e->reason;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void cs_crl_index_check(struct cs_rev_answer *a, const struct cs_crl_index *ix,
                        const struct cs_rev_subject *s, bool key_ok)
{
    cs_rev_answer_init(a, CS_SRC_CRL);
    if (!s->issuer) {
        cs_rev_fail(a, "issuer certificate unknown");
        return;
    }
    if (X509_NAME_cmp(ix->issuer, X509_get_subject_name(s->issuer)) != 0) {
        cs_rev_fail(a, "issued by another CA than the certificate");
        return;
    }
    if (!key_ok) {
        cs_rev_fail(a, "signature does not verify");
        return;
    }
    if (!crl_scope_ok(a, &ix->scope, s->leaf))
        return;
    a->this_update = ix->this_update;
    a->next_update = ix->next_update;
    if (!window_ok(a, s->now, "CRL"))
        return;
    a->state = cs_crl_index_find(ix, X509_get0_serialNumber(s->leaf), &a->revoked_at, &a->reason)
                   ? CS_REV_REVOKED
                   : CS_REV_GOOD;
}

void cs_rev_combine(struct cs_rev_answer *out, const struct cs_rev_answer *parts, size_t n)
{
    static const enum cs_rev_state order[] = {CS_REV_REVOKED, CS_REV_GOOD, CS_REV_UNKNOWN,
                                              CS_REV_ERROR};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
        for (size_t i = 0; i < n; i++)
            if (parts[i].state == order[k]) {
                *out = parts[i];
                return;
            }
    cs_rev_answer_init(out, CS_SRC_NONE);
    for (size_t i = 0; i < n; i++)
        if (parts[i].state == CS_REV_UNCHECKED && parts[i].error[0]) {
            cs_rev_unchecked(out, parts[i].error);
            return;
        }
}

void cs_rev_to_record(struct cs_result *r, const struct cs_rev_answer *a)
{
    static const char *const states[] = {
        [CS_REV_UNCHECKED] = "unchecked",
        [CS_REV_GOOD] = "good",
        [CS_REV_REVOKED] = "revoked",
        [CS_REV_UNKNOWN] = "unknown",
    };
    free(r->revocation);
    free(r->revocation_source);
    free(r->revocation_reason);
    r->revocation_source = NULL;
    r->revocation_reason = NULL;
    r->revoked_at = CS_INT_NONE;
    r->revocation_this_update = CS_INT_NONE;
    r->revocation_next_update = CS_INT_NONE;
    if (a->state == CS_REV_ERROR) {
        r->revocation = cs_asprintf("error: %s: %s", cs_rev_source_name(a->source), a->error);
        return;
    }
    if (a->state == CS_REV_UNCHECKED) {
        r->revocation =
            a->error[0] ? cs_asprintf("unchecked: %s", a->error) : cs_strdup(states[a->state]);
        return;
    }
    r->revocation = cs_strdup(states[a->state]);
    r->revocation_source = cs_strdup(cs_rev_source_name(a->source));
    r->revocation_this_update = a->this_update;
    r->revocation_next_update = a->next_update;
    if (a->state == CS_REV_REVOKED) {
        r->revoked_at = a->revoked_at;
        r->revocation_reason = cs_strdup(cs_rev_reason_name(a->reason));
    }
}
