/* The test PKI and the test fleet server, checked with a plain blocking
 * OpenSSL client on 127.0.0.1: what each port presents and staples, what its
 * HTTP server answers for the CRL and the OCSP URIs, how the misbehaving ports
 * misbehave, and that the PKI's dates survive any year. */
#include <criterion/criterion.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tests/support/fleet.h"
#include "tests/support/pki.h"

#define D 86400

static struct fleet *fleet;

static void start_fleet(int64_t now, size_t bulk)
{
    signal(SIGPIPE, SIG_IGN);
    struct fleet_options o = {.now = now, .bulk = bulk};
    fleet = fleet_start(&o);
    cr_assert_not_null(fleet, "fleet_start failed");
}

static void stop_fleet(void)
{
    fleet_stop(fleet);
    fleet = NULL;
}

TestSuite(fleet, .fini = stop_fleet, .timeout = 120);

/* A blocking TCP connection to 127.0.0.1:port; -errno on failure. */
static int tcp_connect(uint16_t port, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

struct probe {
    X509 *leaf;
    /* clang-format off */
    STACK_OF(X509) *chain; /* as presented, leaf first */
    /* clang-format on */
    int version;
    long verify;           /* against the fleet's ca.pem and the SNI name */
    unsigned char *staple; /* the stapled OCSP response (tls_probe_staple), or NULL */
    size_t staple_len;
};

static void probe_free(struct probe *p)
{
    X509_free(p->leaf);
    sk_X509_pop_free(p->chain, X509_free);
    free(p->staple);
    memset(p, 0, sizeof *p);
}

/* One TLS handshake; sni NULL sends none.  With status, it asks for a staple;
   tls_max 0 or a highest version. */
static void tls_probe_ex(uint16_t port, const char *sni, bool status, int tls_max, struct probe *p)
{
    memset(p, 0, sizeof *p);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    cr_assert_not_null(ctx);
    SSL_CTX_set_security_level(ctx, 0);
    if (tls_max != 0)
        cr_assert(SSL_CTX_set_max_proto_version(ctx, tls_max));
    cr_assert_eq(SSL_CTX_load_verify_locations(ctx, fleet_ca_file(fleet), NULL), 1);
    SSL *ssl = SSL_new(ctx);
    cr_assert_not_null(ssl);
    if (sni != NULL) {
        SSL_set_tlsext_host_name(ssl, sni);
        SSL_set1_host(ssl, sni);
    }
    if (status)
        cr_assert(SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp));
    int fd = tcp_connect(port, 5000);
    cr_assert_geq(fd, 0, "connect to port %u: %s", port, strerror(-fd));
    SSL_set_fd(ssl, fd);
    int rc = SSL_connect(ssl);
    if (rc != 1)
        ERR_print_errors_fp(stderr);
    cr_assert_eq(rc, 1, "handshake with port %u (SNI %s) failed", port, sni ? sni : "-");
    p->leaf = SSL_get1_peer_certificate(ssl);
    p->chain = X509_chain_up_ref(SSL_get_peer_cert_chain(ssl));
    p->version = SSL_version(ssl);
    p->verify = SSL_get_verify_result(ssl);
    const unsigned char *staple = NULL;
    long staple_len = SSL_get_tlsext_status_ocsp_resp(ssl, &staple);
    if (staple != NULL && staple_len > 0) {
        p->staple = malloc((size_t)staple_len);
        cr_assert_not_null(p->staple);
        memcpy(p->staple, staple, (size_t)staple_len);
        p->staple_len = (size_t)staple_len;
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
}

static void tls_probe(uint16_t port, const char *sni, struct probe *p)
{
    tls_probe_ex(port, sni, false, 0, p);
}

static void get_text(X509_NAME *name, int nid, char *buf, int len)
{
    buf[0] = '\0';
    X509_NAME_get_text_by_NID(name, nid, buf, len);
}

Test(fleet, ok_presents_leaf_and_intermediate)
{
    int64_t now = (int64_t)time(NULL);
    start_fleet(now, 0);
    const struct fleet_scenario *s = fleet_get(fleet, "ok");
    cr_assert_not_null(s);
    cr_assert_str_eq(s->host, "ok.fleet.test");
    cr_assert_str_eq(s->expect_status, "OK");
    cr_assert_eq(fleet_now(fleet), now);

    struct probe p;
    tls_probe(s->port, s->host, &p);
    char cn[256];
    get_text(X509_get_subject_name(p.leaf), NID_commonName, cn, sizeof cn);
    cr_assert_str_eq(cn, "ok.fleet.test");
    get_text(X509_get_issuer_name(p.leaf), NID_commonName, cn, sizeof cn);
    cr_assert_str_eq(cn, "certsweep Test Intermediate");
    cr_assert_eq(pki_not_after(p.leaf), now + 200 * D);
    cr_assert_eq(pki_not_before(p.leaf), now - 10 * D);
    cr_assert_eq(X509_cmp(p.leaf, s->leaf.x509), 0);
    cr_assert_eq(sk_X509_num(p.chain), 2);
    cr_assert_eq(X509_cmp(sk_X509_value(p.chain, 1), fleet_intermediate(fleet)->x509), 0);
    cr_assert_eq(p.verify, X509_V_OK, "verify: %s", X509_verify_cert_error_string(p.verify));
    cr_assert_eq(p.version, TLS1_3_VERSION);
    cr_assert_eq(X509_check_ip_asc(p.leaf, "127.0.0.1", 0), 1);
    cr_assert_eq(fleet_accepted(fleet, "ok"), 1);
    cr_assert_eq(fleet_accepted(fleet, "warning"), 0);
    probe_free(&p);
}

Test(fleet, leaf_extensions)
{
    start_fleet(0, 0);
    X509 *x = fleet_get(fleet, "ok")->leaf.x509;
    char ocsp[128], crl[128];
    snprintf(ocsp, sizeof ocsp, "http://127.0.0.1:%u/ocsp/ok", (unsigned)fleet_http_port(fleet));
    snprintf(crl, sizeof crl, "http://127.0.0.1:%u/fleet.crl", (unsigned)fleet_http_port(fleet));

    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    cr_assert_not_null(aia);
    cr_assert_eq(sk_ACCESS_DESCRIPTION_num(aia), 1);
    ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, 0);
    cr_assert_eq(OBJ_obj2nid(ad->method), NID_ad_OCSP);
    cr_assert_eq(ad->location->type, GEN_URI);
    cr_assert_str_eq((const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier),
                     ocsp);
    AUTHORITY_INFO_ACCESS_free(aia);

    CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    cr_assert_not_null(dps);
    DIST_POINT *dp = sk_DIST_POINT_value(dps, 0);
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
    cr_assert_str_eq((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier), crl);
    CRL_DIST_POINTS_free(dps);

    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    cr_assert_eq(sk_GENERAL_NAME_num(sans), 2);
    GENERAL_NAMES_free(sans);
    cr_assert_eq(X509_check_host(x, "ok.fleet.test", 0, 0, NULL), 1);
    cr_assert_eq(X509_check_ca(x), 0);
    cr_assert_neq(X509_check_ca(fleet_intermediate(fleet)->x509), 0);
    cr_assert_not_null(X509_get0_authority_key_id(x));
    cr_assert_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
                                       X509_get0_subject_key_id(fleet_intermediate(fleet)->x509)),
                 0);
    cr_assert_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
}

/* Every TLS scenario presents its own leaf and chain, and the PKI gives the
   verification result its expected status implies. */
Test(fleet, every_tls_scenario)
{
    static const struct {
        const char *name;
        long verify;
    } expect[] = {
        {"expired", X509_V_ERR_CERT_HAS_EXPIRED},
        {"notyet", X509_V_ERR_CERT_NOT_YET_VALID},
        {"expired-intermediate", X509_V_ERR_CERT_HAS_EXPIRED},
        {"self-signed", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT},
        {"unknown-ca", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY},
        {"mismatch", X509_V_ERR_HOSTNAME_MISMATCH},
    };
    start_fleet(0, 0);
    size_t tls = 0;
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fleet, i);
        cr_assert_not_null(s->expect_status);
        cr_assert_neq(s->port, 0, "%s has no port", s->name);
        if (s->behaviour != FLEET_TLS) {
            cr_assert_null(s->leaf.x509);
            continue;
        }
        tls++;
        struct probe p;
        tls_probe(s->port, s->host, &p);
        cr_assert_eq(X509_cmp(p.leaf, s->leaf.x509), 0, "%s: wrong leaf", s->name);
        cr_assert_eq((size_t)sk_X509_num(p.chain), 1 + s->chain_len, "%s: chain length", s->name);
        for (size_t k = 0; k < s->chain_len; k++)
            cr_assert_eq(X509_cmp(sk_X509_value(p.chain, (int)k + 1), s->chain[k]), 0);
        long want = X509_V_OK;
        for (size_t k = 0; k < sizeof expect / sizeof expect[0]; k++)
            if (strcmp(expect[k].name, s->name) == 0)
                want = expect[k].verify;
        cr_assert_eq(p.verify, want, "%s: verify %s", s->name,
                     X509_verify_cert_error_string(p.verify));
        probe_free(&p);
    }
    cr_assert_eq(tls, 21);
}

/* The URI of x's first AIA OCSP entry (nid NID_info_access) or first CRL
   distribution point (NID_crl_distribution_points); "" for none. */
static void ext_uri(X509 *x, int nid, char *buf, size_t len)
{
    const ASN1_IA5STRING *uri = NULL;
    buf[0] = '\0';
    if (nid == NID_info_access) {
        AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, nid, NULL, NULL);
        for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia) && uri == NULL; i++) {
            ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
            if (OBJ_obj2nid(ad->method) == NID_ad_OCSP && ad->location->type == GEN_URI)
                uri = ad->location->d.uniformResourceIdentifier;
        }
        if (uri != NULL)
            snprintf(buf, len, "%.*s", ASN1_STRING_length(uri),
                     (const char *)ASN1_STRING_get0_data(uri));
        AUTHORITY_INFO_ACCESS_free(aia);
    } else {
        CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, nid, NULL, NULL);
        DIST_POINT *dp = dps != NULL ? sk_DIST_POINT_value(dps, 0) : NULL;
        if (dp != NULL && dp->distpoint != NULL && dp->distpoint->type == 0) {
            GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
            if (gn != NULL && gn->type == GEN_URI)
                uri = gn->d.uniformResourceIdentifier;
        }
        if (uri != NULL)
            snprintf(buf, len, "%.*s", ASN1_STRING_length(uri),
                     (const char *)ASN1_STRING_get0_data(uri));
        CRL_DIST_POINTS_free(dps);
    }
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
    cr_assert_not_null(t);
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, secs = 0;
    cr_assert(ASN1_TIME_diff(&days, &secs, epoch, t));
    ASN1_TIME_free(epoch);
    return (int64_t)days * D + secs;
}

/* A blocking request to the fleet's HTTP server: the body of its 200 answer
   (free() it). */
static unsigned char *http_fetch(const char *method, const char *path, const void *req,
                                 size_t req_len, size_t *len)
{
    int fd = tcp_connect(fleet_http_port(fleet), 5000);
    cr_assert_geq(fd, 0, "connect to the fleet's httpd: %s", strerror(-fd));
    char head[512];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/ocsp-request\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path, req_len);
    cr_assert_eq(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    if (req_len > 0)
        cr_assert_eq(send(fd, req, req_len, MSG_NOSIGNAL), (ssize_t)req_len);
    size_t cap = 1 << 20, got = 0;
    char *buf = malloc(cap + 1);
    cr_assert_not_null(buf);
    ssize_t r;
    while (got < cap && (r = recv(fd, buf + got, cap - got, 0)) > 0)
        got += (size_t)r;
    close(fd);
    buf[got] = '\0';
    cr_assert(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "%s %s: %.40s", method, path, buf);
    char *end = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(end);
    *len = got - (size_t)(end + 4 - buf);
    unsigned char *body = malloc(*len + 1);
    cr_assert_not_null(body);
    memcpy(body, end + 4, *len);
    free(buf);
    return body;
}

struct ocsp_seen {
    int status, reason;
    int64_t revoked_at, this_update, next_update;
};

/* Parses a DER OCSPResponse about leaf, checks it is signed by the fleet's
   intermediate, and returns its one answer. */
static void ocsp_read(const unsigned char *der, size_t len, X509 *leaf, struct ocsp_seen *o)
{
    X509 *issuer = fleet_intermediate(fleet)->x509;
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    cr_assert_not_null(resp);
    cr_assert_eq(OCSP_response_status(resp), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
    cr_assert_not_null(bs);
    /* clang-format off */
    STACK_OF(X509) *certs = sk_X509_new_null();
    /* clang-format on */
    sk_X509_push(certs, issuer);
    X509_STORE *store = X509_STORE_new();
    cr_assert_eq(OCSP_basic_verify(bs, certs, store, OCSP_NOVERIFY | OCSP_TRUSTOTHER), 1,
                 "the answer is not signed by the intermediate");
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
    ASN1_GENERALIZEDTIME *rev = NULL, *this_update = NULL, *next_update = NULL;
    cr_assert_eq(
        OCSP_resp_find_status(bs, id, &o->status, &o->reason, &rev, &this_update, &next_update), 1,
        "the answer is about another certificate");
    o->revoked_at = rev != NULL ? asn1_unix(rev) : 0;
    o->this_update = asn1_unix(this_update);
    o->next_update = next_update != NULL ? asn1_unix(next_update) : 0;
    OCSP_CERTID_free(id);
    X509_STORE_free(store);
    sk_X509_free(certs);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
}

/* How the fleet revoked a scenario's leaf: 0 and -1 when it did not. */
static int64_t revoked_at(const char *name, int *reason)
{
    int64_t now = fleet_now(fleet);
    *reason = -1;
    if (strcmp(name, "revoked") == 0) {
        *reason = CRL_REASON_KEY_COMPROMISE;
        return now - 2 * D;
    }
    if (strcmp(name, "revoked-crl") == 0) {
        *reason = CRL_REASON_SUPERSEDED;
        return now - D;
    }
    return 0;
}

/* The CRL (file and HTTP), and the OCSP answer of every leaf under the intermediate. */
Test(fleet, crl_and_ocsp_answers)
{
    start_fleet(0, 0);
    int64_t now = fleet_now(fleet);
    X509 *intermediate = fleet_intermediate(fleet)->x509;
    cr_assert_neq(fleet_http_port(fleet), 0);
    cr_assert_eq(fleet_http_requests(fleet, NULL), 0);

    char path[512];
    snprintf(path, sizeof path, "%s/fleet.crl", fleet_dir(fleet));
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s", path);
    unsigned char file[65536];
    size_t file_len = fread(file, 1, sizeof file, fp);
    fclose(fp);
    size_t len;
    unsigned char *body = http_fetch("GET", "/fleet.crl", NULL, 0, &len);
    cr_assert_eq(len, file_len);
    cr_assert_eq(memcmp(body, file, len), 0, "/fleet.crl is not DIR/fleet.crl");
    cr_assert_eq(fleet_http_requests(fleet, "/fleet.crl"), 1);
    const unsigned char *p = body;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
    cr_assert_not_null(crl, "/fleet.crl is not a DER CRL");
    free(body);
    cr_assert_eq(X509_CRL_verify(crl, X509_get0_pubkey(intermediate)), 1);
    cr_assert_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(intermediate)), 0);
    cr_assert_eq(asn1_unix(X509_CRL_get0_lastUpdate(crl)), now - 3600);
    cr_assert_eq(asn1_unix(X509_CRL_get0_nextUpdate(crl)), now + 7 * D);
    cr_assert_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);

    char want[160], got[160];
    size_t answered = 0;
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fleet, i);
        X509 *leaf = s->leaf.x509;
        if (s->behaviour != FLEET_TLS)
            continue;
        ext_uri(leaf, NID_info_access, got, sizeof got);
        if (X509_check_issued(intermediate, leaf) != X509_V_OK) {
            /* other issuers: URIs nobody answers */
            cr_assert(strncmp(got, "http://ocsp.fleet.test/", 23) == 0, "%s: %s", s->name, got);
            continue;
        }
        snprintf(want, sizeof want, "http://127.0.0.1:%u/ocsp/%s", (unsigned)fleet_http_port(fleet),
                 s->name);
        cr_assert_str_eq(got, want, "%s", s->name);
        ext_uri(leaf, NID_crl_distribution_points, got, sizeof got);
        snprintf(want, sizeof want, "http://127.0.0.1:%u/fleet.crl",
                 (unsigned)fleet_http_port(fleet));
        cr_assert_str_eq(got, want, "%s", s->name);

        int reason;
        int64_t at = revoked_at(s->name, &reason);
        X509_REVOKED *entry = NULL;
        cr_assert_eq(X509_CRL_get0_by_cert(crl, &entry, leaf), at != 0, "%s: in the CRL?", s->name);
        if (at != 0) {
            cr_assert_eq(asn1_unix(X509_REVOKED_get0_revocationDate(entry)), at, "%s", s->name);
            ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
            cr_assert_not_null(e);
            cr_assert_eq(ASN1_ENUMERATED_get(e), reason, "%s", s->name);
            ASN1_ENUMERATED_free(e);
        }

        OCSP_REQUEST *req = OCSP_REQUEST_new();
        cr_assert_not_null(
            OCSP_request_add0_id(req, OCSP_cert_to_id(EVP_sha1(), leaf, intermediate)));
        unsigned char *der = NULL;
        int der_len = i2d_OCSP_REQUEST(req, &der);
        cr_assert_gt(der_len, 0);
        OCSP_REQUEST_free(req);
        snprintf(path, sizeof path, "/ocsp/%s", s->name);
        body = http_fetch("POST", path, der, (size_t)der_len, &len);
        OPENSSL_free(der);
        struct ocsp_seen o;
        ocsp_read(body, len, leaf, &o);
        free(body);
        cr_assert_eq(o.status, at != 0 ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD, "%s",
                     s->name);
        if (at != 0) {
            cr_assert_eq(o.revoked_at, at, "%s", s->name);
            cr_assert_eq(o.reason, reason, "%s", s->name);
        }
        cr_assert_eq(o.this_update, now - 3600, "%s", s->name);
        cr_assert_eq(o.next_update, now + 4 * D, "%s", s->name);
        cr_assert_eq(fleet_http_requests(fleet, path), 1, "%s", s->name);
        answered++;
    }
    cr_assert_eq(answered, 18); /* 21 TLS scenarios, 3 of them under other issuers */
    cr_assert_eq(fleet_http_requests(fleet, NULL), 1 + answered);
    X509_CRL_free(crl);
}

/* What each port staples, in TLS 1.3 and in TLS 1.2 (CertificateStatus). */
Test(fleet, staples)
{
    start_fleet(0, 0);
    int64_t now = fleet_now(fleet);
    static const int versions[] = {TLS1_3_VERSION, TLS1_2_VERSION};
    for (size_t v = 0; v < 2; v++) {
        struct probe p;
        struct ocsp_seen o;
        const struct fleet_scenario *s = fleet_get(fleet, "stapled");
        tls_probe_ex(s->port, s->host, true, versions[v], &p);
        cr_assert_eq(p.version, versions[v]);
        cr_assert_not_null(p.staple, "stapled: no staple");
        ocsp_read(p.staple, p.staple_len, s->leaf.x509, &o);
        cr_assert_eq(o.status, V_OCSP_CERTSTATUS_GOOD);
        cr_assert_eq(o.this_update, now - 3600);
        cr_assert_eq(o.next_update, now + 4 * D);
        probe_free(&p);

        s = fleet_get(fleet, "staple-expired");
        tls_probe_ex(s->port, s->host, true, versions[v], &p);
        cr_assert_not_null(p.staple, "staple-expired: no staple");
        ocsp_read(p.staple, p.staple_len, s->leaf.x509, &o);
        cr_assert_eq(o.status, V_OCSP_CERTSTATUS_GOOD);
        cr_assert_eq(o.next_update, now - 2 * D);
        cr_assert_lt(o.this_update, o.next_update);
        probe_free(&p);

        s = fleet_get(fleet, "revoked");
        tls_probe_ex(s->port, s->host, true, versions[v], &p);
        cr_assert_eq(p.verify, X509_V_OK);
        cr_assert_not_null(p.staple, "revoked: no staple");
        ocsp_read(p.staple, p.staple_len, s->leaf.x509, &o);
        cr_assert_eq(o.status, V_OCSP_CERTSTATUS_REVOKED);
        cr_assert_eq(o.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
        cr_assert_eq(o.revoked_at, now - 2 * D);
        probe_free(&p);

        static const char *const unstapled[] = {"ok", "revoked-crl", "tls12", "sni-b"};
        for (size_t k = 0; k < sizeof unstapled / sizeof unstapled[0]; k++) {
            s = fleet_get(fleet, unstapled[k]);
            tls_probe_ex(s->port, s->host, true, versions[v], &p);
            cr_assert_eq(X509_cmp(p.leaf, s->leaf.x509), 0);
            cr_assert_null(p.staple, "%s stapled", s->name);
            probe_free(&p);
        }
    }
    /* only to clients that ask */
    struct probe p;
    const struct fleet_scenario *s = fleet_get(fleet, "stapled");
    tls_probe(s->port, s->host, &p);
    cr_assert_null(p.staple);
    probe_free(&p);
    cr_assert_eq(fleet_http_requests(fleet, NULL), 0);
}

Test(fleet, key_types)
{
    start_fleet(0, 0);
    cr_assert(EVP_PKEY_is_a(fleet_get(fleet, "ok")->leaf.key, "EC"));
    cr_assert(EVP_PKEY_is_a(fleet_get(fleet, "rsa")->leaf.key, "RSA"));
    cr_assert_eq(EVP_PKEY_get_bits(fleet_get(fleet, "rsa")->leaf.key), 2048);
    cr_assert(EVP_PKEY_is_a(fleet_get(fleet, "ed25519")->leaf.key, "ED25519"));
    cr_assert(EVP_PKEY_is_a(fleet_root(fleet)->key, "EC"));
}

Test(fleet, tls12_negotiates_tls12)
{
    start_fleet(0, 0);
    struct probe p;
    const struct fleet_scenario *s = fleet_get(fleet, "tls12");
    cr_assert_eq(s->tls_max, TLS1_2_VERSION);
    tls_probe(s->port, s->host, &p);
    cr_assert_eq(p.version, TLS1_2_VERSION);
    cr_assert_eq(p.verify, X509_V_OK);
    probe_free(&p);
}

Test(fleet, sni_picks_the_leaf)
{
    start_fleet(0, 0);
    const struct fleet_scenario *a = fleet_get(fleet, "sni-a");
    const struct fleet_scenario *b = fleet_get(fleet, "sni-b");
    cr_assert_eq(a->port, b->port);
    cr_assert_str_eq(a->host, "sni-a.fleet.test");
    cr_assert_str_eq(b->host, "sni-b.fleet.test");
    cr_assert_neq(X509_cmp(a->leaf.x509, b->leaf.x509), 0);
    cr_assert_eq(pki_not_after(b->leaf.x509), fleet_now(fleet) + 100 * D);

    struct probe pa, pb, pnone, punknown;
    tls_probe(a->port, "sni-a.fleet.test", &pa);
    tls_probe(a->port, "sni-b.fleet.test", &pb);
    tls_probe(a->port, NULL, &pnone);
    tls_probe(a->port, "nobody.fleet.test", &punknown);
    cr_assert_eq(X509_cmp(pa.leaf, a->leaf.x509), 0);
    cr_assert_eq(X509_cmp(pb.leaf, b->leaf.x509), 0);
    cr_assert_eq(X509_cmp(pnone.leaf, a->leaf.x509), 0);
    cr_assert_eq(X509_cmp(punknown.leaf, a->leaf.x509), 0);
    char cn[256];
    get_text(X509_get_subject_name(pb.leaf), NID_commonName, cn, sizeof cn);
    cr_assert_str_eq(cn, "sni-b.fleet.test");
    cr_assert_eq(pb.verify, X509_V_OK);
    cr_assert_eq(fleet_accepted(fleet, "sni-a"), 3);
    cr_assert_eq(fleet_accepted(fleet, "sni-b"), 1);
    probe_free(&pa);
    probe_free(&pb);
    probe_free(&pnone);
    probe_free(&punknown);
}

Test(fleet, closed_refuses)
{
    start_fleet(0, 0);
    const struct fleet_scenario *s = fleet_get(fleet, "closed");
    cr_assert_eq(s->behaviour, FLEET_CLOSED);
    cr_assert_str_eq(s->expect_status, "ERROR");
    int fd = tcp_connect(s->port, 2000);
    cr_assert_eq(fd, -ECONNREFUSED, "connect: %s", fd < 0 ? strerror(-fd) : "connected");
}

Test(fleet, http_answers_400)
{
    start_fleet(0, 0);
    int fd = tcp_connect(fleet_get(fleet, "http")->port, 5000);
    cr_assert_geq(fd, 0);
    static const char hello[] = "\x16\x03\x01\x00\x05hello";
    cr_assert_eq(send(fd, hello, sizeof hello - 1, MSG_NOSIGNAL), (ssize_t)(sizeof hello - 1));
    char buf[512];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf && (n = recv(fd, buf + got, sizeof buf - got, 0)) > 0)
        got += (size_t)n;
    close(fd);
    cr_assert_geq(got, 12);
    cr_assert_eq(memcmp(buf, "HTTP/1.1 400", 12), 0);
    cr_assert_eq(fleet_accepted(fleet, "http"), 1);
}

Test(fleet, silent_sends_nothing)
{
    start_fleet(0, 0);
    int fd = tcp_connect(fleet_get(fleet, "silent")->port, 300);
    cr_assert_geq(fd, 0);
    cr_assert_eq(send(fd, "hello", 5, MSG_NOSIGNAL), 5);
    char buf[16];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    int e = errno;
    close(fd);
    cr_assert_eq(n, -1);
    cr_assert(e == EAGAIN || e == EWOULDBLOCK, "recv: %s", strerror(e));
}

Test(fleet, reset_resets)
{
    start_fleet(0, 0);
    int fd = tcp_connect(fleet_get(fleet, "reset")->port, 5000);
    cr_assert_geq(fd, 0);
    cr_assert_eq(send(fd, "hello", 5, MSG_NOSIGNAL), 5);
    char buf[16];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    int e = errno;
    close(fd);
    cr_assert_eq(n, -1);
    cr_assert_eq(e, ECONNRESET, "recv: %s", strerror(e));
}

Test(fleet, awkward_subject_round_trips)
{
    start_fleet(0, 0);
    X509_NAME *name = X509_get_subject_name(fleet_get(fleet, "awkward")->leaf.x509);
    char buf[256];
    get_text(name, NID_commonName, buf, sizeof buf);
    cr_assert_str_eq(buf, "awkward.fleet.test");
    get_text(name, NID_organizationName, buf, sizeof buf);
    cr_assert_str_eq(buf, "Comma, \"Quote\" & Co");
    int i = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, -1);
    cr_assert_geq(i, 0);
    ASN1_STRING *ou = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    static const char want[] = "line1\nline2 \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \x01"
                               "ctl";
    cr_assert_eq(ASN1_STRING_type(ou), V_ASN1_UTF8STRING);
    cr_assert_eq(ASN1_STRING_length(ou), (int)sizeof want - 1);
    cr_assert_eq(memcmp(ASN1_STRING_get0_data(ou), want, sizeof want - 1), 0);
}

Test(fleet, ca_file_and_temp_dir)
{
    start_fleet(0, 0);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fleet_dir(fleet));
    FILE *fp = fopen(fleet_ca_file(fleet), "r");
    cr_assert_not_null(fp);
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    cr_assert_not_null(x);
    cr_assert_null(PEM_read_X509(fp, NULL, NULL, NULL), "ca.pem holds only the root");
    ERR_clear_error();
    fclose(fp);
    cr_assert_eq(X509_cmp(x, fleet_root(fleet)->x509), 0);
    char cn[128];
    get_text(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    cr_assert_str_eq(cn, "certsweep Test Root");
    X509_free(x);
    stop_fleet();
    struct stat st;
    cr_assert_neq(stat(dir, &st), 0, "%s was not removed", dir);
}

static void issue_years(int64_t nb, int64_t na, int nb_type, int na_type)
{
    const char *subject[] = {"CN", "years.test", NULL};
    struct pki_spec spec = {
        .subject = subject, .not_before = nb, .not_after = na, .key = PKI_EC256};
    struct pki_cert c;
    cr_assert_eq(pki_issue(&c, &spec, NULL), 0);
    cr_assert_eq(pki_not_before(c.x509), nb);
    cr_assert_eq(pki_not_after(c.x509), na);
    cr_assert_eq(ASN1_STRING_type(X509_get0_notBefore(c.x509)), nb_type);
    cr_assert_eq(ASN1_STRING_type(X509_get0_notAfter(c.x509)), na_type);
    pki_cert_free(&c);
}

Test(fleet, pki_any_year)
{
    /* 1950-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
    issue_years(-631152000, 253402300799, V_ASN1_UTCTIME, V_ASN1_GENERALIZEDTIME);
    /* 2049-12-31T23:59:59Z .. 2050-01-01T00:00:00Z: the UTCTime/GeneralizedTime switch */
    issue_years(2524607999, 2524608000, V_ASN1_UTCTIME, V_ASN1_GENERALIZEDTIME);
    /* 1969-12-31T23:59:59Z .. 1970-01-01T00:00:00Z */
    issue_years(-1, 0, V_ASN1_UTCTIME, V_ASN1_UTCTIME);
}

Test(fleet, pki_serial_and_fingerprint)
{
    const char *subject[] = {"CN", "serial.test", NULL};
    struct pki_spec spec = {.subject = subject,
                            .not_before = 0,
                            .not_after = 86400,
                            .key = PKI_ED25519,
                            .serial_hex = "0a1B2c"};
    struct pki_cert c;
    cr_assert_eq(pki_issue(&c, &spec, NULL), 0);
    char buf[80];
    pki_serial_hex(c.x509, buf, sizeof buf);
    cr_assert_str_eq(buf, "0A1B2C");
    cr_assert_eq(X509_get_signature_nid(c.x509), NID_ED25519);

    unsigned char *der = NULL;
    int len = i2d_X509(c.x509, &der);
    cr_assert_gt(len, 0);
    unsigned char md[32];
    cr_assert(EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL));
    OPENSSL_free(der);
    char want[65];
    for (int i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02X", md[i]);
    char hex[65];
    pki_sha256_hex(c.x509, hex);
    cr_assert_str_eq(hex, want);
    pki_cert_free(&c);

    spec.serial_hex = NULL;
    spec.key = PKI_EC256;
    cr_assert_eq(pki_issue(&c, &spec, NULL), 0);
    pki_serial_hex(c.x509, buf, sizeof buf);
    cr_assert_eq(strlen(buf), 32, "random serial %s", buf);
    cr_assert(strchr("01234567", buf[0]) != NULL, "random serial %s is not positive", buf);
    cr_assert_eq(ASN1_INTEGER_get_int64(&(int64_t){0}, X509_get0_serialNumber(c.x509)), 0,
                 "16 bytes do not fit in int64");
    ERR_clear_error();
    pki_cert_free(&c);
}

Test(fleet, bulk_ports)
{
    start_fleet(0, 1000);
    static const char *const names[] = {"ok", "warning", "critical", "expired"};
    for (size_t i = 0; i < 1000; i++) {
        cr_assert_neq(fleet_bulk_port(fleet, i), 0);
        cr_assert_str_eq(fleet_bulk_scenario(fleet, i)->name, names[i % 4]);
    }
    cr_assert_eq(fleet_bulk_port(fleet, 1000), 0);
    cr_assert_null(fleet_bulk_scenario(fleet, 1000));
    cr_assert_neq(fleet_bulk_port(fleet, 0), fleet_bulk_port(fleet, 999));

    static const size_t probe_at[] = {0, 1, 2, 3, 500, 999};
    for (size_t k = 0; k < sizeof probe_at / sizeof probe_at[0]; k++) {
        size_t i = probe_at[k];
        struct probe p;
        tls_probe(fleet_bulk_port(fleet, i), NULL, &p);
        cr_assert_eq(X509_cmp(p.leaf, fleet_bulk_scenario(fleet, i)->leaf.x509), 0);
        cr_assert_eq(X509_check_ip_asc(p.leaf, "127.0.0.1", 0), 1);
        cr_assert_eq(fleet_bulk_accepted(fleet, i), 1);
        probe_free(&p);
    }
    cr_assert_eq(fleet_bulk_accepted(fleet, 4), 0);
    cr_assert_eq(fleet_accepted(fleet, "bulk"), 6);
    cr_assert_eq(fleet_accepted(fleet, "ok"), 0);
    cr_assert_eq(fleet_accepted(fleet, NULL), 6);
}

/* Stopping with connections in every state: idle, mid-handshake, after it. */
Test(fleet, stop_with_open_connections)
{
    start_fleet(0, 0);
    int fds[12];
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        fds[n++] = tcp_connect(fleet_get(fleet, "silent")->port, 2000);
    for (int i = 0; i < 4; i++) {
        fds[n] = tcp_connect(fleet_get(fleet, "ok")->port, 2000);
        cr_assert_geq(fds[n], 0);
        cr_assert_eq(send(fds[n], "\x16\x03\x01\x00\x50", 5, MSG_NOSIGNAL), 5);
        n++;
    }
    for (int i = 0; i < 4; i++)
        fds[n++] = tcp_connect(fleet_get(fleet, "tls12")->port, 2000);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl[4];
    for (int i = 0; i < 4; i++) {
        cr_assert_geq(fds[8 + i], 0);
        ssl[i] = SSL_new(ctx);
        SSL_set_fd(ssl[i], fds[8 + i]);
        cr_assert_eq(SSL_connect(ssl[i]), 1);
    }
    while (fleet_accepted(fleet, NULL) < 12)
        usleep(1000);
    stop_fleet();
    for (int i = 0; i < 4; i++)
        SSL_free(ssl[i]);
    SSL_CTX_free(ctx);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        while (recv(fds[i], buf, sizeof buf, 0) > 0)
            ;
        close(fds[i]);
    }
}

#ifdef CS_FLEET_BINARY
/* The certsweep-fleet program: files, "ready", and a clean exit on SIGTERM. */
Test(fleet, fleet_program)
{
    char dir[] = "/tmp/certsweep-fleet-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    int out[2];
    cr_assert_eq(pipe(out), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(CS_FLEET_BINARY, CS_FLEET_BINARY, "--dir", dir, "--bulk", "8", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char line[64] = {0};
    FILE *fp = fdopen(out[0], "r");
    cr_assert_not_null(fgets(line, sizeof line, fp));
    cr_assert_str_eq(line, "ready\n");

    char path[256];
    size_t lines = 0, ok_port = 0;
    snprintf(path, sizeof path, "%s/targets.txt", dir);
    FILE *t = fopen(path, "r");
    cr_assert_not_null(t);
    char buf[256];
    while (fgets(buf, sizeof buf, t) != NULL) {
        if (buf[0] == '#')
            continue;
        lines++;
        unsigned port;
        if (sscanf(buf, "ok.fleet.test:%u  # ok: expect OK", &port) == 1)
            ok_port = port;
    }
    fclose(t);
    cr_assert_eq(lines, 25 + 8);
    cr_assert_neq(ok_port, 0);
    snprintf(path, sizeof path, "%s/fleet.pid", dir);
    t = fopen(path, "r");
    cr_assert_not_null(t);
    long filepid = 0;
    cr_assert_eq(fscanf(t, "%ld", &filepid), 1);
    fclose(t);
    cr_assert_eq(filepid, (long)pid);

    int fd = tcp_connect((uint16_t)ok_port, 2000);
    cr_assert_geq(fd, 0);
    close(fd);

    cr_assert_eq(kill(pid, SIGTERM), 0);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    fclose(fp);
    static const char *const files[] = {"ca.pem", "fleet.crl", "targets.txt", "resolve.args",
                                        "fleet.pid"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        cr_assert_eq(unlink(path), 0, "%s", path);
    }
    cr_assert_eq(rmdir(dir), 0);
}
#endif
