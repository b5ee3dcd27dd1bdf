/* The whole scanner against the test fleet: every scenario scanned by the
 * certsweep binary, its CSV, JSON and JSONL reports parsed back and every
 * field compared with what the test PKI put into the certificates, its
 * staples, its CRL and its OCSP answers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/runner.h"

static struct fleet *fleet;
static char *dir;

static void setup(void)
{
    fleet = fleet_start(&(struct fleet_options){.bulk = 1000});
    cr_assert_not_null(fleet, "the test fleet did not start");
    dir = temp_dir();
    cr_assert_not_null(dir);
}

static void teardown(void)
{
    fleet_stop(fleet);
    remove_tree(dir);
    free(dir);
}

TestSuite(scan, .init = setup, .fini = teardown, .timeout = 120);

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static void time_string(int64_t t, char buf[24])
{
    cs_format_time(t, buf);
}

/* Writes one target line per scenario and the --resolve pins they need. */
static char *fleet_targets(const char ***pins, size_t *npins)
{
    char *path = path_in("targets.txt");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    *pins = calloc(fleet_count(fleet) * 2 + 5, sizeof(**pins));
    *npins = 0;
    /* the OCSP and CRL hosts of the leafs under other issuers: loopback, not DNS */
    static const char *const dead[] = {"ocsp.fleet.test:80:127.0.0.1",
                                       "crl.fleet.test:80:127.0.0.1"};
    for (size_t i = 0; i < 2; i++) {
        (*pins)[(*npins)++] = "--resolve";
        (*pins)[(*npins)++] = strdup(dead[i]);
    }
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fleet, i);
        fprintf(f, "%s:%u  # %s, expect %s\n", s->host, s->port, s->name, s->expect_status);
        char *pin;
        cr_assert(asprintf(&pin, "%s:%u:127.0.0.1", s->host, s->port) > 0);
        (*pins)[(*npins)++] = "--resolve";
        (*pins)[(*npins)++] = pin;
    }
    fclose(f);
    return path;
}

struct scan_docs {
    struct run_result run;
    struct csv_doc csv;
    json_t *json;
    json_t *jsonl; /* array of the JSONL lines' objects */
};

/* Scans every scenario; extra: more arguments (NULL-terminated), or NULL. */
static void scan_fleet(struct scan_docs *d, const char *timeout, const char *const *extra)
{
    const char **pins;
    size_t npins;
    char *targets = fleet_targets(&pins, &npins);
    char *csv = path_in("out.csv"), *json = path_in("out.json"), *jsonl = path_in("out.jsonl");
    char now[24];
    time_string(fleet_now(fleet), now);
    const char *args[128] = {"-f",    targets, "--ca-file", fleet_ca_file(fleet),
                             "--now", now,     "-t",        timeout,
                             "-o",    csv,     "-o",        json,
                             "-o",    jsonl,   "-q"};
    size_t n = 15;
    for (size_t i = 0; i < npins; i++)
        args[n++] = pins[i];
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    cr_assert_eq(run_certsweep(args, NULL, &d->run), 0);
    size_t len;
    char *text = slurp(csv, &len);
    cr_assert_not_null(text, "no CSV written; stderr: %s", d->run.err);
    cr_assert_eq(csv_doc_parse(text, len, &d->csv), 0, "CSV does not parse");
    free(text);
    json_error_t jerr;
    d->json = json_load_file(json, 0, &jerr);
    cr_assert_not_null(d->json, "JSON does not parse: %s", jerr.text);
    text = slurp(jsonl, &len);
    d->jsonl = json_array();
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, &jerr);
        cr_assert_not_null(o, "JSONL line does not parse: %s", line);
        json_array_append_new(d->jsonl, o);
    }
    free(text);
    for (size_t i = 1; i < npins; i += 2)
        free((char *)pins[i]);
    free(pins);
    free(targets);
    free(csv);
    free(json);
    free(jsonl);
}

static void scan_docs_free(struct scan_docs *d)
{
    run_result_free(&d->run);
    csv_doc_free(&d->csv);
    json_decref(d->json);
    json_decref(d->jsonl);
}

/* A CSV row's field, by the scenario's host and port. */
static const char *field(const struct scan_docs *d, const struct fleet_scenario *s,
                         const char *column)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", s->port);
    for (size_t i = 1; i < d->csv.nrows; i++)
        if (strcmp(csv_doc_get(&d->csv, i, "host"), s->host) == 0 &&
            strcmp(csv_doc_get(&d->csv, i, "port"), port) == 0)
            return csv_doc_get(&d->csv, i, column);
    cr_assert_fail("no CSV row for %s:%u", s->host, s->port);
    return NULL;
}

static void add_uri(char *buf, size_t len, const GENERAL_NAME *gn)
{
    if (gn->type != GEN_URI)
        return;
    size_t used = strlen(buf);
    const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;
    int n = snprintf(buf + used, len - used, "%s%.*s", used ? " " : "", ASN1_STRING_length(u),
                     (const char *)ASN1_STRING_get0_data(u));
    cr_assert_lt((size_t)n, len - used);
}

/* x's URIs as the record lists them (one space between): the AIA OCSP ones
   (nid NID_info_access) or the CRL distribution points'. */
static void cert_uris(X509 *x, int nid, char *buf, size_t len)
{
    buf[0] = '\0';
    if (nid == NID_info_access) {
        AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, nid, NULL, NULL);
        for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
            ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
            if (OBJ_obj2nid(ad->method) == NID_ad_OCSP)
                add_uri(buf, len, ad->location);
        }
        AUTHORITY_INFO_ACCESS_free(aia);
        return;
    }
    CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, nid, NULL, NULL);
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (dp->distpoint == NULL || dp->distpoint->type != 0)
            continue;
        for (int k = 0; k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); k++)
            add_uri(buf, len, sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k));
    }
    CRL_DIST_POINTS_free(dps);
}

static void check_certificate_fields(const struct scan_docs *d, const struct fleet_scenario *s)
{
    char want[256], sha[65];
    X509 *leaf = s->leaf.x509;
    cert_uris(leaf, NID_info_access, want, sizeof(want));
    cr_assert_str_eq(field(d, s, "ocsp_uris"), want, "%s", s->name);
    cert_uris(leaf, NID_crl_distribution_points, want, sizeof(want));
    cr_assert_str_eq(field(d, s, "crl_uris"), want, "%s", s->name);
    time_string(pki_not_after(leaf), want);
    cr_assert_str_eq(field(d, s, "not_after"), want, "%s", s->name);
    time_string(pki_not_before(leaf), want);
    cr_assert_str_eq(field(d, s, "not_before"), want, "%s", s->name);
    pki_serial_hex(leaf, want, sizeof(want));
    cr_assert_str_eq(field(d, s, "serial"), want, "%s", s->name);
    pki_sha256_hex(leaf, sha);
    cr_assert_str_eq(field(d, s, "sha256"), sha, "%s", s->name);
    cr_assert_str_eq(field(d, s, "address"), "127.0.0.1");
    cr_assert_str_eq(field(d, s, "sni"), s->host);
    cr_assert_str_eq(field(d, s, "error"), "");
    int64_t chain_na = pki_not_after(leaf);
    for (size_t i = 0; i < s->chain_len; i++)
        if (X509_check_issued(s->chain[i], s->chain[i]) != X509_V_OK &&
            pki_not_after(s->chain[i]) < chain_na)
            chain_na = pki_not_after(s->chain[i]);
    time_string(chain_na, want);
    cr_assert_str_eq(field(d, s, "chain_not_after"), want, "%s", s->name);
    /* whole days rounded toward zero (C's division), as the README says */
    int64_t days = (pki_not_after(leaf) - fleet_now(fleet)) / 86400;
    snprintf(want, sizeof(want), "%lld", (long long)days);
    cr_assert_str_eq(field(d, s, "days_remaining"), want, "%s", s->name);
}

Test(scan, every_scenario_every_field)
{
    struct scan_docs d;
    scan_fleet(&d, "3", NULL);
    cr_assert_eq(d.csv.nrows, fleet_count(fleet) + 1, "%zu rows for %zu scenarios", d.csv.nrows,
                 fleet_count(fleet));
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fleet, i);
        cr_assert_str_eq(field(&d, s, "status"), s->expect_status, "%s: %s (%s)", s->name,
                         field(&d, s, "status"), field(&d, s, "reason"));
        if (s->behaviour == FLEET_TLS)
            check_certificate_fields(&d, s);
        else {
            cr_assert_str_eq(field(&d, s, "days_remaining"), "", "%s", s->name);
            cr_assert_str_eq(field(&d, s, "not_after"), "", "%s", s->name);
            cr_assert_str_eq(field(&d, s, "error"), field(&d, s, "reason"), "%s", s->name);
        }
    }
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    char want[256];
    snprintf(want, sizeof(want), "%s 127.0.0.1", ok->host);
    cr_assert_str_eq(field(&d, ok, "sans"), want);
    cr_assert_neq(field(&d, ok, "ocsp_uris")[0], '\0');
    cr_assert_neq(field(&d, ok, "crl_uris")[0], '\0');
    cr_assert_str_eq(field(&d, ok, "key"), "EC-256");
    cr_assert_str_eq(field(&d, ok, "signature"), "ecdsa-with-SHA256");
    cr_assert_str_eq(field(&d, ok, "tls_version"), "TLSv1.3");
    cr_assert_str_eq(field(&d, ok, "verify"), "ok");
    cr_assert_str_eq(field(&d, ok, "hostname_match"), "true");
    cr_assert_str_eq(field(&d, ok, "reason"), "expires in 200 days");
    snprintf(want, sizeof(want), "CN=%s", ok->host);
    cr_assert(strstr(field(&d, ok, "subject"), want), "%s", field(&d, ok, "subject"));
    cr_assert(strstr(field(&d, ok, "issuer"), "CN=certsweep Test Intermediate"), "%s",
              field(&d, ok, "issuer"));

    cr_assert_str_eq(field(&d, fleet_get(fleet, "rsa"), "key"), "RSA-2048");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "ed25519"), "key"), "ED25519");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "tls12"), "tls_version"), "TLSv1.2");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "warning"), "reason"), "expires in 20 days");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "critical"), "reason"), "expires in 3 days");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "expired"), "reason"), "expired 3 days ago");
    const struct fleet_scenario *s = fleet_get(fleet, "notyet");
    char from[24];
    time_string(pki_not_before(s->leaf.x509), from);
    snprintf(want, sizeof(want), "not yet valid (valid from %s)", from);
    cr_assert_str_eq(field(&d, s, "reason"), want);
    cr_assert_str_eq(field(&d, s, "verify"), "certificate is not yet valid");
    s = fleet_get(fleet, "expired-intermediate");
    cr_assert(strncmp(field(&d, s, "reason"), "intermediate \"", 14) == 0 &&
                  strstr(field(&d, s, "reason"), "\" expired 1 day ago"),
              "%s", field(&d, s, "reason"));
    cr_assert_str_eq(field(&d, s, "verify"), "certificate has expired");
    s = fleet_get(fleet, "self-signed");
    cr_assert_str_eq(field(&d, s, "reason"), "untrusted: self-signed certificate");
    cr_assert_str_eq(field(&d, s, "verify"), "self-signed certificate");
    s = fleet_get(fleet, "unknown-ca");
    cr_assert_str_eq(field(&d, s, "reason"), "untrusted: unable to get local issuer certificate");
    s = fleet_get(fleet, "mismatch");
    cr_assert_str_eq(field(&d, s, "reason"),
                     "hostname mismatch: mismatch.fleet.test not in the certificate's names");
    cr_assert_str_eq(field(&d, s, "hostname_match"), "false");
    cr_assert_str_eq(field(&d, s, "verify"), "ok");
    cr_assert_str_eq(field(&d, s, "sans"), "other.example.net");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "short-ok"), "reason"), "expires in 3 days");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "short-warning"), "reason"),
                     "expires in 1 day (renewal overdue: <1/3 of 6-day lifetime left)");
    /* one port, two names: each SNI gets its own certificate */
    const struct fleet_scenario *a = fleet_get(fleet, "sni-a"), *b = fleet_get(fleet, "sni-b");
    cr_assert_eq(a->port, b->port);
    cr_assert_str_neq(field(&d, a, "sha256"), field(&d, b, "sha256"));
    cr_assert_str_eq(field(&d, b, "reason"), "expires in 100 days");

    /* Revocation without --ocsp and --crl: only staples tell, nothing is fetched. */
    int64_t now = fleet_now(fleet);
    char t[24];
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        s = fleet_at(fleet, i);
        bool stapler = strcmp(s->name, "stapled") == 0 || strcmp(s->name, "revoked") == 0 ||
                       strcmp(s->name, "staple-expired") == 0;
        if (s->behaviour != FLEET_TLS) {
            cr_assert_str_eq(field(&d, s, "ocsp_stapled"), "", "%s", s->name);
            cr_assert_str_eq(field(&d, s, "revocation"), "", "%s", s->name);
            continue;
        }
        cr_assert_str_eq(field(&d, s, "ocsp_stapled"), stapler ? "true" : "false", "%s", s->name);
        if (!stapler) {
            cr_assert_str_eq(field(&d, s, "revocation"), "unchecked", "%s", s->name);
            cr_assert_str_eq(field(&d, s, "revocation_source"), "", "%s", s->name);
            cr_assert_str_eq(field(&d, s, "revocation_next_update"), "", "%s", s->name);
        }
    }
    s = fleet_get(fleet, "stapled");
    cr_assert_str_eq(field(&d, s, "revocation"), "good");
    cr_assert_str_eq(field(&d, s, "revocation_source"), "staple");
    time_string(now - 3600, t);
    cr_assert_str_eq(field(&d, s, "revocation_this_update"), t);
    time_string(now + 4 * 86400, t);
    cr_assert_str_eq(field(&d, s, "revocation_next_update"), t);
    cr_assert_str_eq(field(&d, s, "revoked_at"), "");
    cr_assert_str_eq(field(&d, s, "revocation_reason"), "");
    cr_assert_str_eq(field(&d, s, "reason"), "expires in 200 days");
    s = fleet_get(fleet, "staple-expired");
    time_string(now - 2 * 86400, t);
    snprintf(want, sizeof(want), "error: staple: expired (nextUpdate %s)", t);
    cr_assert_str_eq(field(&d, s, "revocation"), want);
    cr_assert_str_eq(field(&d, s, "revocation_source"), "");
    snprintf(want, sizeof(want),
             "expires in 200 days; stapled OCSP response expired (nextUpdate %s)", t);
    cr_assert_str_eq(field(&d, s, "reason"), want);
    s = fleet_get(fleet, "revoked");
    cr_assert_str_eq(field(&d, s, "revocation"), "revoked");
    cr_assert_str_eq(field(&d, s, "revocation_source"), "staple");
    cr_assert_str_eq(field(&d, s, "revoked_at"), t);
    cr_assert_str_eq(field(&d, s, "revocation_reason"), "keyCompromise");
    snprintf(want, sizeof(want), "revoked (keyCompromise) at %s", t);
    cr_assert_str_eq(field(&d, s, "reason"), want);
    cr_assert_str_eq(field(&d, s, "verify"), "ok");
    s = fleet_get(fleet, "revoked-crl");
    cr_assert_str_eq(field(&d, s, "revocation"), "unchecked");
    cr_assert_str_eq(field(&d, s, "reason"), "expires in 200 days");
    cr_assert_eq(fleet_http_requests(fleet, NULL), 0, "fetched without --ocsp or --crl");

    cr_assert_str_eq(field(&d, fleet_get(fleet, "closed"), "reason"),
                     "connect: connection refused");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "silent"), "reason"), "timeout during handshake");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "reset"), "reason"),
                     "handshake: connection reset by peer");
    cr_assert_str_eq(field(&d, fleet_get(fleet, "http"), "reason"),
                     "handshake: not TLS (peer sent \"HTTP/1.1 400 Bad Request\")");

    /* the awkward subject survives CSV quoting and JSON escaping intact */
    s = fleet_get(fleet, "awkward");
    const char *subject = field(&d, s, "subject");
    cr_assert(strstr(subject, "Comma\\, \\\"Quote\\\" & Co"), "%s", subject);
    cr_assert(strstr(subject, "é 日本"), "%s", subject);
    json_t *rec = json_find_record(json_object_get(d.json, "results"), s->host, s->port);
    cr_assert_not_null(rec);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "subject")), subject);

    /* JSON and JSONL hold the same records as the CSV */
    json_t *results = json_object_get(d.json, "results");
    cr_assert_eq(json_array_size(results), fleet_count(fleet));
    cr_assert_eq(json_array_size(d.jsonl), fleet_count(fleet));
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        s = fleet_at(fleet, i);
        json_t *j = json_find_record(results, s->host, s->port);
        json_t *l = json_find_record(d.jsonl, s->host, s->port);
        cr_assert(j && l, "%s missing from JSON or JSONL", s->name);
        cr_assert(json_equal(json_object_get(j, "sha256"), json_object_get(l, "sha256")));
        cr_assert_str_eq(json_string_value(json_object_get(j, "status")), s->expect_status);
        if (s->behaviour != FLEET_TLS) {
            cr_assert(json_is_null(json_object_get(j, "not_after")), "%s", s->name);
            cr_assert(json_is_null(json_object_get(j, "days_remaining")), "%s", s->name);
        } else {
            cr_assert(json_is_integer(json_object_get(j, "days_remaining")));
            cr_assert(json_is_array(json_object_get(j, "sans")));
        }
    }
    json_t *summary = json_object_get(d.json, "summary");
    size_t want_count[CS_STATUS_COUNT] = {0};
    for (size_t i = 0; i < fleet_count(fleet); i++)
        want_count[cs_status_parse(fleet_at(fleet, i)->expect_status)]++;
    for (int st = 0; st < CS_STATUS_COUNT; st++)
        cr_assert_eq(json_integer_value(json_object_get(summary, cs_status_name(st))),
                     (json_int_t)want_count[st], "%s", cs_status_name(st));
    cr_assert(json_is_true(json_object_get(d.json, "complete")));
    time_string(now, t);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(d.json, "scan"), "now")), t);
    /* worst is EXPIRED: exit 2 */
    cr_assert_eq(d.run.status, 2, "exit %d; stderr: %s", d.run.status, d.run.err);
    scan_docs_free(&d);
}

/* How the fleet revoked a scenario's leaf (fleet.h): its CRLReason name, or NULL. */
static const char *fleet_revoked(const struct fleet_scenario *s, int64_t *at)
{
    if (strcmp(s->name, "revoked") == 0) {
        *at = fleet_now(fleet) - 2 * 86400;
        return "keyCompromise";
    }
    if (strcmp(s->name, "revoked-crl") == 0) {
        *at = fleet_now(fleet) - 86400;
        return "superseded";
    }
    return NULL;
}

/* With --crl and --ocsp every leaf under the fleet intermediate is checked
   against its CRL and its responder: one CRL download for the whole scan, each
   responder asked once unless a valid staple answered.  "revoked-crl", OK in
   the plain scan (its expect_status), is CRITICAL here. */
Test(scan, revocation_whole_fleet)
{
    static const char *const flags[] = {"--crl", "--ocsp", "--fetch-timeout", "5", NULL};
    struct scan_docs d;
    scan_fleet(&d, "3", flags);
    int64_t now = fleet_now(fleet);
    X509 *intermediate = fleet_intermediate(fleet)->x509;
    char want[256], t[24], path[64];
    size_t want_count[CS_STATUS_COUNT] = {0}, asked = 0;
    cr_assert_eq(d.csv.nrows, fleet_count(fleet) + 1);
    for (size_t i = 0; i < fleet_count(fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fleet, i);
        const char *status = strcmp(s->name, "revoked-crl") == 0 ? "CRITICAL" : s->expect_status;
        want_count[cs_status_parse(status)]++;
        cr_assert_str_eq(field(&d, s, "status"), status, "%s: %s (%s; revocation %s)", s->name,
                         field(&d, s, "status"), field(&d, s, "reason"),
                         field(&d, s, "revocation"));
        if (s->behaviour != FLEET_TLS) {
            cr_assert_str_eq(field(&d, s, "revocation"), "", "%s", s->name);
            continue;
        }
        check_certificate_fields(&d, s);
        const char *rev = field(&d, s, "revocation");
        if (X509_NAME_cmp(X509_get_subject_name(s->leaf.x509),
                          X509_get_issuer_name(s->leaf.x509)) == 0) {
            /* nobody answers for a self-signed leaf: nothing is asked */
            cr_assert_str_eq(rev, "unchecked", "%s", s->name);
            continue;
        }
        if (X509_check_issued(intermediate, s->leaf.x509) != X509_V_OK) {
            /* other issuers: URIs that lead nowhere, not even asked when
               the chain leads to no trust anchor (dates aside) */
            const char *verify = field(&d, s, "verify");
            if (strstr(verify, "expired") != NULL)
                cr_assert(strncmp(rev, "error: ", 7) == 0, "%s: %s", s->name, rev);
            else
                cr_assert_str_eq(rev, "unchecked: chain not trusted", "%s (%s)", s->name, verify);
            continue;
        }
        /* a valid staple answers for itself: its responder is not asked */
        bool staple = strcmp(s->name, "stapled") == 0 || strcmp(s->name, "revoked") == 0;
        snprintf(path, sizeof(path), "/ocsp/%s", s->name);
        cr_assert_eq(fleet_http_requests(fleet, path), staple ? 0 : 1, "%s asked %u times", path,
                     fleet_http_requests(fleet, path));
        asked += !staple;
        cr_assert_str_eq(field(&d, s, "revocation_source"), staple ? "staple" : "ocsp", "%s",
                         s->name);
        time_string(now - 3600, t);
        cr_assert_str_eq(field(&d, s, "revocation_this_update"), t, "%s", s->name);
        time_string(now + 4 * 86400, t);
        cr_assert_str_eq(field(&d, s, "revocation_next_update"), t, "%s", s->name);
        int64_t at;
        const char *why = fleet_revoked(s, &at);
        if (why == NULL) {
            cr_assert_str_eq(rev, "good", "%s", s->name);
            cr_assert_str_eq(field(&d, s, "revoked_at"), "", "%s", s->name);
            cr_assert_str_eq(field(&d, s, "revocation_reason"), "", "%s", s->name);
            continue;
        }
        cr_assert_str_eq(rev, "revoked", "%s", s->name);
        time_string(at, t);
        cr_assert_str_eq(field(&d, s, "revoked_at"), t, "%s", s->name);
        cr_assert_str_eq(field(&d, s, "revocation_reason"), why, "%s", s->name);
        snprintf(want, sizeof(want), "revoked (%s) at %s", why, t);
        cr_assert_str_eq(field(&d, s, "reason"), want, "%s", s->name);
    }
    /* 18 leafs under the intermediate, 2 of them with a valid staple */
    cr_assert_eq(asked, 16);
    cr_assert_eq(fleet_http_requests(fleet, "/fleet.crl"), 1, "the CRL was fetched %u times",
                 fleet_http_requests(fleet, "/fleet.crl"));
    cr_assert_eq(fleet_http_requests(fleet, NULL), 1 + asked);
    /* the expired staple is named, whatever the responder says */
    const struct fleet_scenario *s = fleet_get(fleet, "staple-expired");
    cr_assert_str_eq(field(&d, s, "ocsp_stapled"), "true");
    cr_assert(strstr(field(&d, s, "reason"), "; stapled OCSP response expired (nextUpdate "), "%s",
              field(&d, s, "reason"));

    json_t *scan = json_object_get(d.json, "scan");
    json_t *revocation = json_object_get(scan, "revocation");
    cr_assert(json_is_true(json_object_get(revocation, "ocsp")));
    cr_assert(json_is_true(json_object_get(revocation, "crl")));
    json_t *summary = json_object_get(d.json, "summary");
    for (int st = 0; st < CS_STATUS_COUNT; st++)
        cr_assert_eq(json_integer_value(json_object_get(summary, cs_status_name(st))),
                     (json_int_t)want_count[st], "%s", cs_status_name(st));
    cr_assert_eq(d.run.status, 2, "exit %d; stderr: %s", d.run.status, d.run.err);
    scan_docs_free(&d);

    /* --crl alone: the CRL says "revoked-crl" is revoked, and "ok" is not */
    const struct fleet_scenario *rc = fleet_get(fleet, "revoked-crl"), *ok = fleet_get(fleet, "ok");
    char now_s[24], *pins[2], *targets[2];
    time_string(now, now_s);
    const struct fleet_scenario *both[] = {rc, ok};
    const char *args[16] = {"--ca-file", fleet_ca_file(fleet), "--now", now_s, "--crl", "-F",
                            "csv"};
    size_t n = 7;
    for (size_t i = 0; i < 2; i++) {
        cr_assert(asprintf(&pins[i], "%s:%u:127.0.0.1", both[i]->host, both[i]->port) > 0);
        cr_assert(asprintf(&targets[i], "%s:%u", both[i]->host, both[i]->port) > 0);
        args[n++] = "--resolve";
        args[n++] = pins[i];
        args[n++] = targets[i];
    }
    args[n] = NULL;
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    struct csv_doc c;
    cr_assert_eq(csv_doc_parse(r.out, strlen(r.out), &c), 0);
    size_t row = csv_doc_find(&c, "host", rc->host);
    cr_assert_neq(row, 0, "no record for %s: %s", rc->host, r.err);
    cr_assert_str_eq(csv_doc_get(&c, row, "status"), "CRITICAL");
    cr_assert_str_eq(csv_doc_get(&c, row, "revocation"), "revoked");
    cr_assert_str_eq(csv_doc_get(&c, row, "revocation_source"), "crl");
    cr_assert_str_eq(csv_doc_get(&c, row, "revocation_reason"), "superseded");
    time_string(now - 86400, t);
    cr_assert_str_eq(csv_doc_get(&c, row, "revoked_at"), t);
    time_string(now - 3600, t);
    cr_assert_str_eq(csv_doc_get(&c, row, "revocation_this_update"), t);
    time_string(now + 7 * 86400, t);
    cr_assert_str_eq(csv_doc_get(&c, row, "revocation_next_update"), t);
    row = csv_doc_find(&c, "host", ok->host);
    cr_assert_neq(row, 0);
    cr_assert_str_eq(csv_doc_get(&c, row, "status"), "OK");
    cr_assert_str_eq(csv_doc_get(&c, row, "revocation"), "good");
    cr_assert_str_eq(csv_doc_get(&c, row, "revocation_source"), "crl");
    cr_assert_eq(r.status, 2, "exit %d; stderr: %s", r.status, r.err);
    /* one more scan, one more download; no responder asked */
    cr_assert_eq(fleet_http_requests(fleet, "/fleet.crl"), 2);
    cr_assert_eq(fleet_http_requests(fleet, NULL), 2 + asked);
    csv_doc_free(&c);
    run_result_free(&r);
    for (size_t i = 0; i < 2; i++) {
        free(pins[i]);
        free(targets[i]);
    }
}

Test(scan, probed_once_and_sliding_window)
{
    /* 60 targets naming the same 20 endpoints three times, -j 4 */
    char *targets = path_in("dups.txt");
    FILE *f = fopen(targets, "w");
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < 20; i++)
            fprintf(f, "127.0.0.1:%u\n", fleet_bulk_port(fleet, i));
    fclose(f);
    cr_assert_eq(fleet_accepted(fleet, "bulk"), 0);
    struct run_result r;
    const char *args[] = {
        "-f", targets, "-j", "4", "-F", "jsonl", "--ca-file", fleet_ca_file(fleet), NULL};
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    size_t lines = 0;
    for (char *p = r.out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 20, "%zu records", lines);
    cr_assert_eq(fleet_accepted(fleet, "bulk"), 20);
    for (size_t i = 0; i < 20; i++)
        cr_assert_eq(fleet_bulk_accepted(fleet, i), 1, "bulk port %zu probed %llu times", i,
                     (unsigned long long)fleet_bulk_accepted(fleet, i));
    run_result_free(&r);
    free(targets);
}

Test(scan, thousand_targets_no_record_lost_or_doubled)
{
    char *targets = path_in("bulk.txt");
    FILE *f = fopen(targets, "w");
    for (size_t i = 0; i < 1000; i++)
        fprintf(f, "127.0.0.1:%u\n", fleet_bulk_port(fleet, i));
    fclose(f);
    char *csv = path_in("bulk.csv");
    char now[24];
    time_string(fleet_now(fleet), now);
    struct run_result r;
    const char *args[] = {"-f",
                          targets,
                          "-j",
                          "300",
                          "-o",
                          csv,
                          "-q",
                          "--now",
                          now,
                          "--ca-file",
                          fleet_ca_file(fleet),
                          NULL};
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    size_t len;
    char *text = slurp(csv, &len);
    struct csv_doc d;
    cr_assert_eq(csv_doc_parse(text, len, &d), 0);
    cr_assert_eq(d.nrows, 1001, "%zu records", d.nrows - 1);
    char *seen = calloc(1000, 1);
    for (size_t row = 1; row < d.nrows; row++) {
        unsigned port = (unsigned)atoi(csv_doc_get(&d, row, "port"));
        size_t i = 0;
        while (i < 1000 && fleet_bulk_port(fleet, i) != port)
            i++;
        cr_assert_lt(i, 1000, "record for unknown port %u", port);
        cr_assert_eq(seen[i], 0, "port %u reported twice", port);
        seen[i] = 1;
        const struct fleet_scenario *s = fleet_bulk_scenario(fleet, i);
        cr_assert_str_eq(csv_doc_get(&d, row, "status"), s->expect_status, "port %u: %s", port,
                         csv_doc_get(&d, row, "reason"));
        char sha[65];
        pki_sha256_hex(s->leaf.x509, sha);
        cr_assert_str_eq(csv_doc_get(&d, row, "sha256"), sha);
        cr_assert_str_eq(csv_doc_get(&d, row, "sni"), "");
        cr_assert_str_eq(csv_doc_get(&d, row, "hostname_match"), "true");
    }
    cr_assert_eq(fleet_accepted(fleet, "bulk"), 1000);
    free(seen);
    csv_doc_free(&d);
    free(text);
    run_result_free(&r);
    free(csv);
    free(targets);
}
