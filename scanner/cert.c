/* Certificate chain analysis (see cert.h).  Verification runs here, after
 * the handshake, at the scan's security level (the connection itself is made
 * at level 0), with a callback that records the first error, and where it
 * was, and lets the path building go on, so that one bad link never hides the
 * rest. */
#include "scanner/cert.h"
#include "scanner/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#define NAME_MAX_BYTES 16384

void cs_x509_settle(X509 *x)
{
    /* X509_check_purpose with -1 checks nothing: it only fills the cache */
    (void)X509_check_purpose(x, -1, 0);
}

void cs_x509_settle_store(X509_STORE *store)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x != NULL)
            cs_x509_settle(x);
    }
}

X509_STORE *cs_trust_load(const char *ca_file, const char *ca_path, char *err, size_t errlen)
{
    const char *what = ca_file ? ca_file : ca_path;
    if (what && access(what, R_OK) != 0) {
        snprintf(err, errlen, "%s: %s", what, strerror(errno));
        return NULL;
    }
    X509_STORE *store = X509_STORE_new();
    ERR_clear_error();
    int ok = store && (what ? X509_STORE_load_locations(store, ca_file, ca_path)
                            : X509_STORE_set_default_paths(store));
    if (ok == 1) {
        ERR_clear_error();
        cs_x509_settle_store(store);
        return store;
    }
    char why[256] = "no certificate found";
    unsigned long e = ERR_peek_last_error();
    if (e) {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(why, sizeof(why), "%s", r);
        else
            ERR_error_string_n(e, why, sizeof(why));
    }
    snprintf(err, errlen, "%s: cannot load trust anchors: %s", what ? what : "system store", why);
    ERR_clear_error();
    X509_STORE_free(store);
    return NULL;
}

int64_t cs_asn1_time(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return CS_INT_NONE;
    return (int64_t)timegm(&tm);
}

char *cs_name_string(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return cs_strdup("");
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = cs_strndup(data, n > NAME_MAX_BYTES ? NAME_MAX_BYTES : (size_t)(n > 0 ? n : 0));
    BIO_free(b);
    return s;
}

/* Bytes from a certificate string, with anything but printable ASCII as \xNN. */
static void add_escaped(struct cs_strlist *l, const unsigned char *p, int len)
{
    char buf[1024];
    size_t o = 0;
    for (int i = 0; i < len && o + 5 < sizeof(buf); i++) {
        if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\')
            o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02X", p[i]);
        else
            buf[o++] = (char)p[i];
    }
    buf[o] = '\0';
    cs_strlist_add(l, buf);
}

/* Returns how many DNS names the leaf has. */
static int collect_sans(struct cs_result *r, X509 *leaf)
{
    int dns = 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    char ip[INET6_ADDRSTRLEN];
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            dns++;
            add_escaped(&r->sans, ASN1_STRING_get0_data(g->d.dNSName),
                        ASN1_STRING_length(g->d.dNSName));
        } else if (g->type == GEN_IPADD && cs_cert_ip_text(g->d.iPAddress, ip)) {
            cs_strlist_add(&r->sans, ip);
        }
    }
    GENERAL_NAMES_free(gens);
    return dns;
}

bool cs_cert_ip_text(const ASN1_OCTET_STRING *ip, char out[INET6_ADDRSTRLEN])
{
    int len = ASN1_STRING_length(ip);
    const unsigned char *p = ASN1_STRING_get0_data(ip);
    return (len == 4 && inet_ntop(AF_INET, p, out, INET6_ADDRSTRLEN)) ||
           (len == 16 && inet_ntop(AF_INET6, p, out, INET6_ADDRSTRLEN));
}

int cs_cert_ocsp_uris(X509 *x, cs_cert_uri_fn *fn, void *arg)
{
    STACK_OF(OPENSSL_STRING) *ocsp = X509_get1_ocsp(x);
    int n = sk_OPENSSL_STRING_num(ocsp);
    for (int i = 0; i < n; i++) {
        const char *u = sk_OPENSSL_STRING_value(ocsp, i);
        fn(arg, (const unsigned char *)u, strlen(u));
    }
    X509_email_free(ocsp);
    return n > 0 ? n : 0;
}

int cs_cert_crl_uris(X509 *x, cs_cert_uri_fn *fn, void *arg)
{
    CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    int n = 0;
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (!dp->distpoint || dp->distpoint->type != 0)
            continue; /* a name relative to the issuer is no URI */
        GENERAL_NAMES *names = dp->distpoint->name.fullname;
        for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(names, j);
            if (g->type != GEN_URI)
                continue;
            const ASN1_STRING *v = g->d.uniformResourceIdentifier;
            fn(arg, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
            n++;
        }
    }
    CRL_DIST_POINTS_free(dps);
    return n;
}

/* cs_cert_uri_fn adding to the cs_strlist arg, escaped */
static void add_uri(void *arg, const unsigned char *uri, size_t len)
{
    add_escaped(arg, uri, len > INT_MAX ? INT_MAX : (int)len);
}

static void collect_uris(struct cs_result *r, X509 *leaf)
{
    cs_cert_ocsp_uris(leaf, add_uri, &r->ocsp_uris);
    cs_cert_crl_uris(leaf, add_uri, &r->crl_uris);
}

const char *cs_cert_signature_name(X509 *x)
{
    const char *sig = OBJ_nid2ln(X509_get_signature_nid(x));
    return sig ? sig : "unknown";
}

static char *hex_upper(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char *s = cs_xmalloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[n * 2] = '\0';
    return s;
}

static char *serial_string(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char *s = cs_strdup(hex ? hex : "");
    OPENSSL_free(hex);
    BN_free(bn);
    return s;
}

static char *key_string(X509 *x)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (!pk)
        return cs_strdup("unknown");
    int bits = EVP_PKEY_get_bits(pk);
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
        return cs_asprintf("RSA-%d", bits);
    case EVP_PKEY_EC:
        return cs_asprintf("EC-%d", bits);
    case EVP_PKEY_DSA:
        return cs_asprintf("DSA-%d", bits);
    case EVP_PKEY_ED25519:
        return cs_strdup("ED25519");
    case EVP_PKEY_ED448:
        return cs_strdup("ED448");
    default: {
        const char *name = OBJ_nid2sn(EVP_PKEY_get_base_id(pk));
        return cs_asprintf("%s-%d", name ? name : "unknown", bits);
    }
    }
}

/* A short name for a chain certificate: its CN, else its whole subject. */
static void short_name(X509 *x, char *buf, size_t len)
{
    const X509_NAME *n = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    int ulen = -1;
    if (i >= 0)
        ulen = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
    if (ulen < 0) {
        char *s = cs_name_string(n);
        snprintf(buf, len, "%s", s);
        free(s);
        return;
    }
    size_t o = 0;
    for (int k = 0; k < ulen && o + 5 < len; k++) {
        if (utf8[k] < 0x20 || utf8[k] == 0x7f || utf8[k] == '"' || utf8[k] == '\\')
            o += (size_t)snprintf(buf + o, len - o, "\\x%02X", utf8[k]);
        else
            buf[o++] = (char)utf8[k];
    }
    buf[o] = '\0';
    OPENSSL_free(utf8);
}

/* The first verification error, and the certificate it is about. */
struct verify_error {
    int err;
    int depth;  /* in the path: 0 is the leaf */
    X509 *cert; /* a reference, or NULL */
};

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
    if (!ok) {
        struct verify_error *first = X509_STORE_CTX_get_app_data(ctx);
        if (first && first->err == X509_V_OK) {
            first->err = X509_STORE_CTX_get_error(ctx);
            first->depth = X509_STORE_CTX_get_error_depth(ctx);
            X509 *x = X509_STORE_CTX_get_current_cert(ctx);
            if (x && X509_up_ref(x) == 1)
                first->cert = x;
        }
    }
    return 1; /* keep building: the verdict is the first error */
}

/* The verify field: "ok", OpenSSL's verify error, or for a key or a
   signature below the security level, or a certificate not meant for TLS
   servers, which certificate and what ("leaf key RSA-1024 too weak",
   "intermediate "X" signed with sha1WithRSAEncryption", "leaf not for TLS
   servers"). */
static char *verify_phrase(const struct verify_error *e)
{
    if (e->err == X509_V_OK)
        return cs_strdup("ok");
    bool weak_key = e->err == X509_V_ERR_EE_KEY_TOO_SMALL || e->err == X509_V_ERR_CA_KEY_TOO_SMALL;
    bool purpose = e->err == X509_V_ERR_INVALID_PURPOSE;
    if (!e->cert || (!weak_key && !purpose && e->err != X509_V_ERR_CA_MD_TOO_WEAK))
        return cs_strdup(X509_verify_cert_error_string(e->err));
    char where[160] = "leaf", name[128];
    if (e->depth > 0) {
        short_name(e->cert, name, sizeof(name));
        snprintf(where, sizeof(where), "%s \"%s\"",
                 X509_self_signed(e->cert, 0) == 1 ? "root" : "intermediate", name);
    }
    if (purpose)
        return cs_asprintf("%s not for TLS servers", where);
    if (weak_key) {
        char *key = key_string(e->cert);
        char *s = cs_asprintf("%s key %s too weak", where, key);
        free(key);
        return s;
    }
    const char *sig = OBJ_nid2ln(X509_get_signature_nid(e->cert));
    return cs_asprintf("%s signed with %s", where, sig ? sig : "a weak algorithm");
}

/* Verifies the presented chain at in's time, level and for the TLS server
   purpose, going on past errors; first gets the first error.  The context
   (its get0_chain is the path built), or NULL; free it. */
static X509_STORE_CTX *verify_run(X509 *leaf, STACK_OF(X509) * presented,
                                  const struct cs_verify_input *in, struct verify_error *first)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx && X509_STORE_CTX_init(ctx, in->store, leaf, presented) == 1) {
        X509_STORE_CTX_set_app_data(ctx, first);
        X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
        X509_STORE_CTX_set_time(ctx, 0, (time_t)in->now);
        X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx), in->level);
        if (X509_verify_cert(ctx) != 1 && first->err == X509_V_OK)
            first->err = X509_STORE_CTX_get_error(ctx);
    } else {
        first->err = X509_V_ERR_UNSPECIFIED;
        X509_STORE_CTX_free(ctx);
        ctx = NULL;
    }
    ERR_clear_error();
    return ctx;
}

static bool in_stack(STACK_OF(X509) * sk, int from, int to, X509 *x)
{
    for (int i = from; i < to; i++)
        if (X509_cmp(sk_X509_value(sk, i), x) == 0)
            return true;
    return false;
}

static void chain_facts(struct cs_result *r, struct cs_chain_facts *f, STACK_OF(X509) * presented,
                        STACK_OF(X509) * verified, const struct cs_verify_input *in)
{
    /* The chain: the verified path without its trust anchor when verification
       succeeded, else what was presented without self-signed roots. */
    STACK_OF(X509) *path = sk_X509_new_null();
    if (f->verify_ok && verified) {
        for (int i = 1; i < sk_X509_num(verified) - 1; i++)
            sk_X509_push(path, sk_X509_value(verified, i));
    } else {
        for (int i = 1; i < sk_X509_num(presented); i++) {
            X509 *x = sk_X509_value(presented, i);
            if (X509_self_signed(x, 0) != 1)
                sk_X509_push(path, x);
        }
    }
    r->chain_not_after = r->not_after;
    f->soonest_at = CS_INT_NONE;
    for (int i = 0; i < sk_X509_num(path); i++) {
        X509 *x = sk_X509_value(path, i);
        int64_t na = cs_asn1_time(X509_get0_notAfter(x));
        if (na == CS_INT_NONE)
            continue;
        if (r->chain_not_after == CS_INT_NONE || na < r->chain_not_after)
            r->chain_not_after = na;
        if (f->soonest_at == CS_INT_NONE || na < f->soonest_at) {
            f->soonest_at = na;
            short_name(x, f->soonest_name, sizeof(f->soonest_name));
        }
        if (na <= in->now && !f->expired_name[0]) {
            short_name(x, f->expired_name, sizeof(f->expired_name));
            f->expired_at = na;
        }
    }
    if (f->verify_ok && verified) {
        for (int i = 1; i < sk_X509_num(presented); i++) {
            X509 *x = sk_X509_value(presented, i);
            int64_t na = cs_asn1_time(X509_get0_notAfter(x));
            if (na != CS_INT_NONE && na <= in->now &&
                !in_stack(verified, 0, sk_X509_num(verified), x)) {
                short_name(x, f->extra_expired, sizeof(f->extra_expired));
                break;
            }
        }
    }
    sk_X509_free(path);
}

int cs_cert_name_matches(X509 *leaf, const char *name, bool is_ip)
{
    if (is_ip)
        return X509_check_ip_asc(leaf, name, 0) == 1;
    unsigned flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT; /* never the subject CN */
    flags |= X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;        /* "*" only as a whole label */
    return X509_check_host(leaf, name, strlen(name), flags, NULL) == 1;
}

/* The leaf's issuer: from the verified path (even a partial one), else a
   presented certificate that issued it; a new reference, or NULL. */
static X509 *find_issuer(X509 *leaf, STACK_OF(X509) * presented, STACK_OF(X509) * verified)
{
    X509 *issuer = NULL;
    if (verified && sk_X509_num(verified) > 1 &&
        X509_check_issued(sk_X509_value(verified, 1), leaf) == X509_V_OK)
        issuer = sk_X509_value(verified, 1);
    for (int i = 1; !issuer && i < sk_X509_num(presented); i++)
        if (X509_check_issued(sk_X509_value(presented, i), leaf) == X509_V_OK)
            issuer = sk_X509_value(presented, i);
    if (issuer)
        X509_up_ref(issuer);
    return issuer;
}

int cs_cert_analyse(struct cs_result *r, struct cs_chain_facts *facts, STACK_OF(X509) * presented,
                    const struct cs_verify_input *in, X509 **issuer)
{
    memset(facts, 0, sizeof(*facts));
    if (issuer)
        *issuer = NULL;
    X509 *leaf = sk_X509_value(presented, 0);
    if (!leaf)
        return CS_EFORMAT;
    r->not_before = cs_asn1_time(X509_get0_notBefore(leaf));
    r->not_after = cs_asn1_time(X509_get0_notAfter(leaf));
    free(r->subject);
    r->subject = cs_name_string(X509_get_subject_name(leaf));
    free(r->issuer);
    r->issuer = cs_name_string(X509_get_issuer_name(leaf));
    facts->no_dns_names = collect_sans(r, leaf) == 0;
    collect_uris(r, leaf);
    free(r->serial);
    r->serial = serial_string(leaf);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    free(r->sha256);
    r->sha256 = X509_digest(leaf, EVP_sha256(), md, &mdlen) ? hex_upper(md, mdlen) : cs_strdup("");
    free(r->key);
    r->key = key_string(leaf);
    free(r->signature);
    r->signature = cs_strdup(cs_cert_signature_name(leaf));

    struct verify_error first = {X509_V_OK, -1, NULL};
    X509_STORE_CTX *ctx = verify_run(leaf, presented, in, &first);
    STACK_OF(X509) *verified = ctx ? X509_STORE_CTX_get0_chain(ctx) : NULL;
    r->chain_n = (size_t)sk_X509_num(presented);
    r->chain = cs_xcalloc(r->chain_n, sizeof(*r->chain));
    for (size_t i = 0; i < r->chain_n; i++) {
        X509 *x = sk_X509_value(presented, (int)i);
        unsigned char fp[EVP_MAX_MD_SIZE];
        unsigned int fplen = 0;
        r->chain[i] = (struct cs_chain_cert){
            .subject = cs_name_string(X509_get_subject_name(x)),
            .issuer = cs_name_string(X509_get_issuer_name(x)),
            .serial = serial_string(x),
            .sha256 =
                X509_digest(x, EVP_sha256(), fp, &fplen) ? hex_upper(fp, fplen) : cs_strdup(""),
            .key = key_string(x),
            .not_before = cs_asn1_time(X509_get0_notBefore(x)),
            .not_after = cs_asn1_time(X509_get0_notAfter(x)),
        };
    }
    facts->verify_ok = first.err == X509_V_OK;
    free(r->verify);
    r->verify = verify_phrase(&first);
    X509_free(first.cert);
    chain_facts(r, facts, presented, verified, in);
    if (issuer)
        *issuer = find_issuer(leaf, presented, verified);
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    return 0;
}

/* ---- certsweep show: one certificate's fields as the record writes them, and
   the path verification builds ------------------------------------------------ */

char *cs_cert_key_name(X509 *x)
{
    return key_string(x);
}

char *cs_cert_serial(X509 *x)
{
    return serial_string(x);
}

char *cs_cert_fingerprint(X509 *x, const EVP_MD *md)
{
    unsigned char fp[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    return X509_digest(x, md, fp, &len) ? hex_upper(fp, len) : cs_strdup("");
}

int cs_cert_verify_path(STACK_OF(X509) * presented, const struct cs_verify_input *in,
                        struct cs_verified_path *out)
{
    memset(out, 0, sizeof(*out));
    out->depth = -1;
    X509 *leaf = sk_X509_value(presented, 0);
    if (!leaf)
        return CS_EFORMAT;
    struct verify_error first = {X509_V_OK, -1, NULL};
    X509_STORE_CTX *ctx = verify_run(leaf, presented, in, &first);
    STACK_OF(X509) *built = ctx ? X509_STORE_CTX_get0_chain(ctx) : NULL;
    out->path = built ? X509_chain_up_ref(built) : sk_X509_new_null();
    if (!built && out->path && sk_X509_push(out->path, leaf))
        X509_up_ref(leaf);
    out->error = first.err;
    out->depth = first.err == X509_V_OK ? -1 : first.depth;
    out->verify = verify_phrase(&first);
    X509_free(first.cert);
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return 0;
}

void cs_verified_path_free(struct cs_verified_path *p)
{
    sk_X509_pop_free(p->path, X509_free);
    free(p->verify);
    memset(p, 0, sizeof(*p));
}
