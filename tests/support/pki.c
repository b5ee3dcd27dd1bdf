/* The test PKI: keys and X.509 certificates made with the OpenSSL 3 API, and
 * the expected record values computed from them without the scanner's code. */
#include "tests/support/pki.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static EVP_PKEY *make_key(enum pki_key kind)
{
    switch (kind) {
    case PKI_EC256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case PKI_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case PKI_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    case PKI_RSA16384:
        return pki_cached_rsa16384(true);
    case PKI_RSA1024:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    case PKI_RSA512:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
    }
    return NULL;
}

const char *pki_rsa16384_path(void)
{
    static char path[4096];
    const char *dir = getenv("CS_TEST_CACHE");
    if (dir == NULL || *dir == '\0')
        dir = "/tmp/certsweep-test-cache";
    snprintf(path, sizeof path, "%s/rsa16384.pem", dir);
    return path;
}

EVP_PKEY *pki_cached_rsa16384(bool generate)
{
    const char *path = pki_rsa16384_path();
    FILE *fp = fopen(path, "r");
    if (fp != NULL) {
        EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
        fclose(fp);
        if (key != NULL && EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) == 16384)
            return key;
        EVP_PKEY_free(key);
        ERR_clear_error();
    }
    if (!generate)
        return NULL;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)16384);
    if (key == NULL)
        return NULL;
    /* Cached through a temp file and a rename, so a concurrent reader never
       sees half a key; a cache that cannot be written only costs time. */
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return key;
    }
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if ((fp = fopen(tmp, "w")) == NULL)
        return key;
    int ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(fp) != 0 || !ok || rename(tmp, path) != 0)
        remove(tmp);
    return key;
}

/* Picks UTCTime for 1950..2049 and GeneralizedTime otherwise (RFC 5280). */
static int set_time(ASN1_TIME *t, int64_t unix_seconds)
{
    time_t tt = (time_t)unix_seconds;
    if ((int64_t)tt != unix_seconds)
        return -1;
    return ASN1_TIME_set(t, tt) != NULL ? 0 : -1;
}

static int set_serial(X509 *x, const char *serial_hex)
{
    BIGNUM *bn = NULL;
    if (serial_hex != NULL) {
        if (BN_hex2bn(&bn, serial_hex) == 0)
            return -1;
    } else {
        unsigned char raw[16];
        if (RAND_bytes(raw, sizeof raw) != 1)
            return -1;
        raw[0] &= 0x7f;
        raw[0] |= 0x01 << 6; /* keep all 16 bytes significant */
        bn = BN_bin2bn(raw, sizeof raw, NULL);
    }
    if (bn == NULL)
        return -1;
    int rc = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL ? 0 : -1;
    BN_free(bn);
    return rc;
}

static int set_subject(X509 *x, const char *const *subject, const struct pki_rdn *raw)
{
    X509_NAME *name = X509_get_subject_name(x);
    for (size_t i = 0; subject != NULL && subject[i] != NULL; i += 2) {
        if (subject[i + 1] == NULL)
            return -1;
        if (!X509_NAME_add_entry_by_txt(name, subject[i], MBSTRING_UTF8,
                                        (const unsigned char *)subject[i + 1], -1, -1, 0))
            return -1;
    }
    /* A type without MBSTRING_FLAG is stored as given, with no conversion. */
    for (size_t i = 0; raw != NULL && raw[i].field != NULL; i++)
        if (!X509_NAME_add_entry_by_txt(name, raw[i].field, raw[i].type,
                                        (const unsigned char *)raw[i].value, (int)raw[i].len, -1,
                                        0))
            return -1;
    return 0;
}

static GENERAL_NAME *make_uri(const char *uri)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    if (gn == NULL || s == NULL || !ASN1_STRING_set(s, uri, -1)) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, GEN_URI, s);
    return gn;
}

/* "DNS:name", "IP:addr", "URI:uri" or "email:addr". */
static GENERAL_NAME *make_san(const char *san)
{
    static const struct {
        const char *prefix;
        int type;
    } kinds[] = {{"DNS:", GEN_DNS}, {"URI:", GEN_URI}, {"email:", GEN_EMAIL}};

    if (strncmp(san, "IP:", 3) == 0) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(san + 3);
        GENERAL_NAME *gn = GENERAL_NAME_new();
        if (ip == NULL || gn == NULL) {
            ASN1_OCTET_STRING_free(ip);
            GENERAL_NAME_free(gn);
            return NULL;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
        return gn;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].prefix);
        if (strncmp(san, kinds[i].prefix, n) != 0)
            continue;
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        if (gn == NULL || s == NULL || !ASN1_STRING_set(s, san + n, -1)) {
            GENERAL_NAME_free(gn);
            ASN1_IA5STRING_free(s);
            return NULL;
        }
        GENERAL_NAME_set0_value(gn, kinds[i].type, s);
        return gn;
    }
    ERR_raise_data(ERR_LIB_X509V3, X509V3_R_UNSUPPORTED_OPTION, "SAN \"%s\"", san);
    return NULL;
}

/* A DNS name of len bytes, NUL bytes and all. */
static GENERAL_NAME *make_raw_dns(const char *name, size_t len)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    if (gn == NULL || s == NULL || !ASN1_STRING_set(s, name, (int)len)) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, s);
    return gn;
}

static int add_sans(X509 *x, const char *const *sans, const char *const *raw,
                    const size_t *raw_lens)
{
    if ((sans == NULL || sans[0] == NULL) && (raw == NULL || raw[0] == NULL))
        return 0;
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    int rc = names != NULL ? 0 : -1;
    for (size_t i = 0; rc == 0 && sans != NULL && sans[i] != NULL; i++) {
        GENERAL_NAME *gn = make_san(sans[i]);
        if (gn == NULL || !sk_GENERAL_NAME_push(names, gn)) {
            GENERAL_NAME_free(gn);
            rc = -1;
        }
    }
    for (size_t i = 0; rc == 0 && raw != NULL && raw[i] != NULL; i++) {
        GENERAL_NAME *gn = make_raw_dns(raw[i], raw_lens[i]);
        if (gn == NULL || !sk_GENERAL_NAME_push(names, gn)) {
            GENERAL_NAME_free(gn);
            rc = -1;
        }
    }
    if (rc == 0 && !X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT))
        rc = -1;
    GENERAL_NAMES_free(names);
    return rc;
}

static int add_ocsp(X509 *x, const char *uri)
{
    if (uri == NULL)
        return 0;
    AUTHORITY_INFO_ACCESS *aia = AUTHORITY_INFO_ACCESS_new();
    ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
    GENERAL_NAME *gn = make_uri(uri);
    int rc = -1;
    if (aia == NULL || ad == NULL || gn == NULL)
        goto out;
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(NID_ad_OCSP);
    GENERAL_NAME_free(ad->location);
    ad->location = gn;
    gn = NULL;
    if (!sk_ACCESS_DESCRIPTION_push(aia, ad))
        goto out;
    ad = NULL;
    if (X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT))
        rc = 0;
out:
    GENERAL_NAME_free(gn);
    ACCESS_DESCRIPTION_free(ad);
    AUTHORITY_INFO_ACCESS_free(aia);
    return rc;
}

static int add_crl_dp(X509 *x, const char *uri)
{
    if (uri == NULL)
        return 0;
    CRL_DIST_POINTS *dps = CRL_DIST_POINTS_new();
    DIST_POINT *dp = DIST_POINT_new();
    DIST_POINT_NAME *dpn = DIST_POINT_NAME_new();
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    GENERAL_NAME *gn = make_uri(uri);
    int rc = -1;
    if (dps == NULL || dp == NULL || dpn == NULL || names == NULL || gn == NULL)
        goto out;
    if (!sk_GENERAL_NAME_push(names, gn))
        goto out;
    gn = NULL;
    dpn->type = 0; /* fullName */
    dpn->name.fullname = names;
    names = NULL;
    dp->distpoint = dpn;
    dpn = NULL;
    if (!sk_DIST_POINT_push(dps, dp))
        goto out;
    dp = NULL;
    if (X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT))
        rc = 0;
out:
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(names);
    DIST_POINT_NAME_free(dpn);
    DIST_POINT_free(dp);
    CRL_DIST_POINTS_free(dps);
    return rc;
}

/* A non-critical Netscape comment of n bytes: makes a certificate as large as wanted. */
static int add_padding(X509 *x, size_t n)
{
    if (n == 0)
        return 0;
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    char *text = malloc(n);
    int rc = -1;
    if (s == NULL || text == NULL)
        goto out;
    for (size_t i = 0; i < n; i++)
        text[i] = "certsweep test padding "[i % 23];
    if (ASN1_STRING_set(s, text, (int)n) &&
        X509_add1_ext_i2d(x, NID_netscape_comment, s, 0, X509V3_ADD_DEFAULT))
        rc = 0;
out:
    free(text);
    ASN1_IA5STRING_free(s);
    return rc;
}

static int add_constraints(X509 *x, bool ca, enum pki_key kind, bool ocsp_signing, bool client_auth)
{
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    EXTENDED_KEY_USAGE *eku = NULL;
    int rc = -1;
    if (bc == NULL || ku == NULL)
        goto out;
    bc->ca = ca ? 0xff : 0;
    if (!X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT))
        goto out;

    /* KeyUsage bits: 0 digitalSignature, 2 keyEncipherment, 5 keyCertSign, 6 cRLSign */
    if (!ASN1_BIT_STRING_set_bit(ku, 0, 1))
        goto out;
    if (ca && (!ASN1_BIT_STRING_set_bit(ku, 5, 1) || !ASN1_BIT_STRING_set_bit(ku, 6, 1)))
        goto out;
    bool rsa =
        kind == PKI_RSA2048 || kind == PKI_RSA16384 || kind == PKI_RSA1024 || kind == PKI_RSA512;
    if (!ca && rsa && !ASN1_BIT_STRING_set_bit(ku, 2, 1))
        goto out;
    if (!X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT))
        goto out;

    if (!ca) {
        eku = sk_ASN1_OBJECT_new_null();
        int purpose = ocsp_signing  ? NID_OCSP_sign
                      : client_auth ? NID_client_auth
                                    : NID_server_auth;
        if (eku == NULL || !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(purpose)))
            goto out;
        if (!X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT))
            goto out;
    }
    if (ocsp_signing) { /* RFC 6960 4.2.2.2.1: no revocation check of the responder */
        ASN1_NULL *null = ASN1_NULL_new();
        int ok = null != NULL &&
                 X509_add1_ext_i2d(x, NID_id_pkix_OCSP_noCheck, null, 0, X509V3_ADD_DEFAULT);
        ASN1_NULL_free(null);
        if (!ok)
            goto out;
    }
    rc = 0;
out:
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    ASN1_BIT_STRING_free(ku);
    BASIC_CONSTRAINTS_free(bc);
    return rc;
}

/* TLS Feature (1.3.6.1.5.5.7.1.24): SEQUENCE OF INTEGER, here status_request (5). */
static int add_must_staple(X509 *x, bool on)
{
    if (!on)
        return 0;
    TLS_FEATURE *features = sk_ASN1_INTEGER_new_null();
    ASN1_INTEGER *status_request = ASN1_INTEGER_new();
    int rc = -1;
    if (features == NULL || status_request == NULL || !ASN1_INTEGER_set(status_request, 5) ||
        !sk_ASN1_INTEGER_push(features, status_request))
        goto out;
    status_request = NULL;
    if (X509_add1_ext_i2d(x, NID_tlsfeature, features, 0, X509V3_ADD_DEFAULT))
        rc = 0;
out:
    ASN1_INTEGER_free(status_request);
    sk_ASN1_INTEGER_pop_free(features, ASN1_INTEGER_free);
    return rc;
}

/* One v1 SCT from log number log (its ID: 32 bytes of that value). */
static SCT *make_sct(unsigned log, int64_t when)
{
    unsigned char id[32], sig[64];
    memset(id, (int)(log & 0xff), sizeof id);
    memset(sig, 0x5c, sizeof sig);
    SCT *sct = SCT_new();
    if (sct == NULL || !SCT_set_version(sct, SCT_VERSION_V1) ||
        !SCT_set1_log_id(sct, id, sizeof id) ||
        !SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256) ||
        !SCT_set1_signature(sct, sig, sizeof sig)) {
        SCT_free(sct);
        return NULL;
    }
    SCT_set_timestamp(sct, (uint64_t)when * 1000);
    return sct;
}

/* The embedded SCT list (1.3.6.1.4.1.11129.2.4.2): distinct logs 1..n, then
   repeats more from log 1. */
static int add_scts(X509 *x, unsigned n, unsigned repeats, int64_t when)
{
    if (n == 0)
        return 0;
    STACK_OF(SCT) *scts = sk_SCT_new_null();
    int rc = scts != NULL ? 0 : -1;
    for (unsigned i = 0; rc == 0 && i < n + repeats; i++) {
        SCT *sct = make_sct(i < n ? i + 1 : 1, when);
        if (sct == NULL || !sk_SCT_push(scts, sct)) {
            SCT_free(sct);
            rc = -1;
        }
    }
    if (rc == 0 && !X509_add1_ext_i2d(x, NID_ct_precert_scts, scts, 0, X509V3_ADD_DEFAULT))
        rc = -1;
    SCT_LIST_free(scts);
    return rc;
}

/* subjectKeyIdentifier = SHA-1 of the public key bits (RFC 5280 4.2.1.2 (1));
   authorityKeyIdentifier = the issuer's. */
static int add_key_ids(X509 *x, X509 *issuer_x509)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    ASN1_OCTET_STRING *skid = ASN1_OCTET_STRING_new();
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    int rc = -1;
    if (skid == NULL || akid == NULL)
        goto out;
    if (!X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) ||
        !ASN1_OCTET_STRING_set(skid, md, (int)mdlen))
        goto out;
    if (!X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT))
        goto out;

    const ASN1_OCTET_STRING *issuer_id =
        issuer_x509 != NULL ? X509_get0_subject_key_id(issuer_x509) : skid;
    if (issuer_id != NULL) {
        akid->keyid = ASN1_OCTET_STRING_dup(issuer_id);
        if (akid->keyid == NULL)
            goto out;
        if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT))
            goto out;
    }
    rc = 0;
out:
    AUTHORITY_KEYID_free(akid);
    ASN1_OCTET_STRING_free(skid);
    return rc;
}

int pki_issue(struct pki_cert *out, const struct pki_spec *spec, const struct pki_cert *issuer)
{
    EVP_PKEY *key = make_key(spec->key);
    X509 *x = X509_new();
    out->x509 = NULL;
    out->key = NULL;
    if (key == NULL || x == NULL)
        goto fail;

    EVP_PKEY *sign_key = issuer != NULL ? issuer->key : key;
    const EVP_MD *md = EVP_PKEY_is_a(sign_key, "ED25519") || EVP_PKEY_is_a(sign_key, "ED448")
                           ? NULL
                           : EVP_sha256();
    if (md != NULL && spec->digest != NULL && (md = EVP_get_digestbyname(spec->digest)) == NULL)
        goto fail;

    if (!X509_set_version(x, X509_VERSION_3) || set_serial(x, spec->serial_hex) != 0)
        goto fail;
    if (set_subject(x, spec->subject, spec->raw_subject) != 0)
        goto fail;
    X509_NAME *issuer_name =
        issuer != NULL ? X509_get_subject_name(issuer->x509) : X509_get_subject_name(x);
    if (!X509_set_issuer_name(x, issuer_name))
        goto fail;
    if (set_time(X509_getm_notBefore(x), spec->not_before) != 0 ||
        set_time(X509_getm_notAfter(x), spec->not_after) != 0)
        goto fail;
    if (!X509_set_pubkey(x, key))
        goto fail;
    if (add_constraints(x, spec->ca, spec->key, spec->ocsp_signing, spec->client_auth) != 0 ||
        add_key_ids(x, issuer != NULL ? issuer->x509 : NULL) != 0 ||
        add_sans(x, spec->sans, spec->raw_sans, spec->raw_san_lens) != 0 ||
        add_ocsp(x, spec->ocsp_uri) != 0 || add_crl_dp(x, spec->crl_uri) != 0 ||
        add_padding(x, spec->pad_bytes) != 0 || add_must_staple(x, spec->must_staple) != 0 ||
        add_scts(x, spec->scts, spec->sct_repeats, spec->not_before) != 0)
        goto fail;
    if (X509_sign(x, sign_key, md) <= 0)
        goto fail;

    out->x509 = x;
    out->key = key;
    return 0;
fail:
    X509_free(x);
    EVP_PKEY_free(key);
    return -1;
}

void pki_cert_free(struct pki_cert *c)
{
    if (c == NULL)
        return;
    X509_free(c->x509);
    EVP_PKEY_free(c->key);
    c->x509 = NULL;
    c->key = NULL;
}

int pki_write_pem(const char *path, X509 *const *certs, size_t n)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (!PEM_write_X509(fp, certs[i]))
            rc = -1;
    if (fclose(fp) != 0)
        rc = -1;
    return rc;
}

int pki_write_key(const char *path, EVP_PKEY *key)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    int rc = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) ? 0 : -1;
    if (fclose(fp) != 0)
        rc = -1;
    return rc;
}

int pki_write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return -1;
    int rc = fwrite(data, 1, len, fp) == len ? 0 : -1;
    if (fclose(fp) != 0)
        rc = -1;
    return rc;
}

static const EVP_MD *sign_md(EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448") ? NULL : EVP_sha256();
}

static ASN1_TIME *make_time(int64_t unix_seconds)
{
    ASN1_TIME *t = ASN1_TIME_new();
    if (t != NULL && set_time(t, unix_seconds) != 0) {
        ASN1_TIME_free(t);
        return NULL;
    }
    return t;
}

/* A stand-in for signer whose public key is wrong_key's: OCSP_basic_sign only
   signs with the key of the certificate it is given, and the ResponderID it
   writes (by name) is the same as the real signer's. */
static X509 *impostor(X509 *signer, EVP_PKEY *wrong_key)
{
    X509 *x = X509_dup(signer);
    if (x == NULL || !X509_set_pubkey(x, wrong_key) ||
        X509_sign(x, wrong_key, sign_md(wrong_key)) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int pki_ocsp_response(const struct pki_ocsp_spec *spec, unsigned char **der, size_t *len)
{
    static const int status_of[] = {
        [PKI_OCSP_GOOD] = V_OCSP_CERTSTATUS_GOOD,
        [PKI_OCSP_REVOKED] = V_OCSP_CERTSTATUS_REVOKED,
        [PKI_OCSP_UNKNOWN] = V_OCSP_CERTSTATUS_UNKNOWN,
    };
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), spec->leaf, spec->issuer);
    ASN1_TIME *this_update = make_time(spec->this_update);
    ASN1_TIME *next_update = spec->next_update != 0 ? make_time(spec->next_update) : NULL;
    ASN1_TIME *revoked_at = spec->status == PKI_OCSP_REVOKED ? make_time(spec->revoked_at) : NULL;
    X509 *sign_cert = NULL;
    OCSP_RESPONSE *resp = NULL;
    unsigned char *out = NULL;
    int rc = -1;
    *der = NULL;
    *len = 0;
    if (bs == NULL || id == NULL || this_update == NULL ||
        (spec->next_update != 0 && next_update == NULL) ||
        (spec->status == PKI_OCSP_REVOKED && revoked_at == NULL))
        goto out;
    if (OCSP_basic_add1_status(bs, id, status_of[spec->status], spec->reason, revoked_at,
                               this_update, next_update) == NULL)
        goto out;
    if (spec->nonce != NULL &&
        !OCSP_basic_add1_nonce(bs, (unsigned char *)spec->nonce, (int)spec->nonce_len))
        goto out;
    EVP_PKEY *key = spec->signer->key;
    sign_cert = spec->signer->x509;
    if (spec->wrong_key != NULL) {
        key = spec->wrong_key;
        if ((sign_cert = impostor(spec->signer->x509, key)) == NULL)
            goto out;
    }
    /* The certificate carried is always the real signer's, never the impostor. */
    if (!OCSP_basic_sign(bs, sign_cert, key, sign_md(key), NULL, OCSP_NOCERTS))
        goto out;
    if (spec->include_signer && !OCSP_basic_add1_cert(bs, spec->signer->x509))
        goto out;
    if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) == NULL)
        goto out;
    int n = i2d_OCSP_RESPONSE(resp, &out);
    if (n <= 0)
        goto out;
    *der = malloc((size_t)n);
    if (*der == NULL)
        goto out;
    memcpy(*der, out, (size_t)n);
    *len = (size_t)n;
    rc = 0;
out:
    OPENSSL_free(out);
    OCSP_RESPONSE_free(resp);
    if (sign_cert != spec->signer->x509)
        X509_free(sign_cert);
    ASN1_TIME_free(revoked_at);
    ASN1_TIME_free(next_update);
    ASN1_TIME_free(this_update);
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(bs);
    return rc;
}

static int crl_add_entry(X509_CRL *crl, const char *serial_hex, int64_t when, int reason)
{
    X509_REVOKED *r = X509_REVOKED_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    ASN1_TIME *t = make_time(when);
    ASN1_ENUMERATED *e = NULL;
    int rc = -1;
    if (r == NULL || t == NULL || BN_hex2bn(&bn, serial_hex) == 0 ||
        (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
        !X509_REVOKED_set_serialNumber(r, serial) || !X509_REVOKED_set_revocationDate(r, t))
        goto out;
    if (reason != CRL_REASON_NONE &&
        ((e = ASN1_ENUMERATED_new()) == NULL || !ASN1_ENUMERATED_set(e, reason) ||
         !X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, X509V3_ADD_DEFAULT)))
        goto out;
    if (!X509_CRL_add0_revoked(crl, r))
        goto out;
    r = NULL;
    rc = 0;
out:
    ASN1_ENUMERATED_free(e);
    ASN1_TIME_free(t);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    X509_REVOKED_free(r);
    return rc;
}

/* The whole signed CRL with n_pad dummy entries, or NULL. */
static X509_CRL *build_crl(const struct pki_crl_spec *spec, size_t n_pad)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = make_time(spec->last_update);
    ASN1_TIME *next = spec->next_update != 0 ? make_time(spec->next_update) : NULL;
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    ASN1_INTEGER *number = ASN1_INTEGER_new();
    X509 *issuer = spec->issuer->x509;
    EVP_PKEY *key = spec->wrong_key != NULL ? spec->wrong_key : spec->issuer->key;
    const ASN1_OCTET_STRING *keyid = X509_get0_subject_key_id(issuer);
    int ok = crl != NULL && last != NULL && (spec->next_update == 0 || next != NULL) &&
             akid != NULL && number != NULL && X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
             X509_CRL_set1_lastUpdate(crl, last) &&
             (next == NULL || X509_CRL_set1_nextUpdate(crl, next)) && ASN1_INTEGER_set(number, 1);
    if (ok && keyid != NULL)
        ok = (akid->keyid = ASN1_OCTET_STRING_dup(keyid)) != NULL &&
             X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT);
    ok = ok && X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, X509V3_ADD_DEFAULT);
    for (size_t i = 0; ok && i < spec->n_entries; i++)
        ok = crl_add_entry(crl, spec->entries[i].serial_hex, spec->entries[i].revoked_at,
                           spec->entries[i].reason) == 0;
    for (size_t i = 0; ok && i < n_pad; i++) {
        char serial[24];
        snprintf(serial, sizeof serial, "7FFF%08zX", i);
        ok = crl_add_entry(crl, serial, spec->last_update, CRL_REASON_NONE) == 0;
    }
    ok = ok && (spec->edit == NULL || spec->edit(crl, spec->edit_arg) == 0);
    ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, sign_md(key)) > 0;
    ASN1_INTEGER_free(number);
    AUTHORITY_KEYID_free(akid);
    ASN1_TIME_free(next);
    ASN1_TIME_free(last);
    if (!ok) {
        X509_CRL_free(crl);
        return NULL;
    }
    return crl;
}

int pki_crl(const char *path, const struct pki_crl_spec *spec, size_t *size)
{
    size_t n_pad = 0;
    X509_CRL *crl = build_crl(spec, 0);
    int der_len = crl != NULL ? i2d_X509_CRL(crl, NULL) : -1;
    /* A dummy entry is about 27 bytes: SEQUENCE { INTEGER (6 bytes), UTCTime }. */
    while (crl != NULL && der_len > 0 && (size_t)der_len < spec->min_bytes) {
        n_pad += (spec->min_bytes - (size_t)der_len) / 24 + 1;
        X509_CRL_free(crl);
        crl = build_crl(spec, n_pad);
        der_len = crl != NULL ? i2d_X509_CRL(crl, NULL) : -1;
    }
    if (crl == NULL || der_len <= 0) {
        X509_CRL_free(crl);
        return -1;
    }
    FILE *fp = fopen(path, "wb");
    int rc = fp != NULL ? 0 : -1;
    if (rc == 0 && !(spec->pem ? PEM_write_X509_CRL(fp, crl) : i2d_X509_CRL_fp(fp, crl)))
        rc = -1;
    long end = fp != NULL ? ftell(fp) : -1;
    if (fp != NULL && fclose(fp) != 0)
        rc = -1;
    if (size != NULL)
        *size = end > 0 ? (size_t)end : 0;
    X509_CRL_free(crl);
    return rc;
}

void pki_index_time(int64_t t, char buf[16])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 16, "%y%m%d%H%M%SZ", &tm);
}

void pki_iso_time(int64_t t, char buf[24])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void pki_serial_hex(X509 *x, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    if (hex != NULL)
        snprintf(buf, len, "%s", hex);
    OPENSSL_free(hex);
    BN_free(bn);
}

void pki_sha256_hex(X509 *x, char buf[65])
{
    static const char digits[] = "0123456789ABCDEF";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    buf[0] = '\0';
    if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32)
        return;
    for (unsigned int i = 0; i < n; i++) {
        buf[2 * i] = digits[md[i] >> 4];
        buf[2 * i + 1] = digits[md[i] & 0xf];
    }
    buf[64] = '\0';
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return INT64_MIN;
    int64_t days =
        days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
    return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

int64_t pki_not_before(X509 *x)
{
    return asn1_time_unix(X509_get0_notBefore(x));
}

int64_t pki_not_after(X509 *x)
{
    return asn1_time_unix(X509_get0_notAfter(x));
}

int pki_root_and_intermediate(struct pki_cert *root, struct pki_cert *inter, const char *root_cn,
                              const char *inter_cn, int64_t now)
{
    const char *root_name[] = {"CN", root_cn, NULL}, *inter_name[] = {"CN", inter_cn, NULL};
    struct pki_spec ca = {.subject = root_name,
                          .not_before = now - 86400,
                          .not_after = now + 3650 * (int64_t)86400,
                          .key = PKI_EC256,
                          .ca = true};
    if (pki_issue(root, &ca, NULL) != 0)
        return -1;
    ca.subject = inter_name;
    return pki_issue(inter, &ca, root);
}

int pki_sign(EVP_PKEY *key, const EVP_MD *md, bool pss, const unsigned char *data, size_t len,
             unsigned char **sig, size_t *sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    *sig = NULL;
    *sig_len = 0;
    int ok = ctx && EVP_DigestSignInit(ctx, &pctx, md, NULL, key) == 1;
    if (ok && pss)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    ok = ok && EVP_DigestSign(ctx, NULL, sig_len, data, len) == 1 &&
         (*sig = OPENSSL_malloc(*sig_len)) != NULL &&
         EVP_DigestSign(ctx, *sig, sig_len, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        OPENSSL_free(*sig);
        *sig = NULL;
        *sig_len = 0;
    }
    return ok ? 0 : -1;
}
