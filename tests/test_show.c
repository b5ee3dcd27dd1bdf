/* certsweep show through the binary, against the test fleet on loopback:
 * its output parsed field by field and compared with what the test PKI put
 * in each certificate (fingerprints computed here with OpenSSL from the
 * fleet's own X509 objects), with the fleet's OCSP and CRL answers, and with
 * the record a scan of the same endpoint writes.  A custom endpoint of the
 * test's own PKI serves a leaf with a hostile subject, every kind of SAN and
 * an extra certificate the path does not use.  Names never reach the system
 * resolver: --resolve pins them, or --dns-server 127.0.0.1:9 fails them. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tests/support/fleet.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"

static struct fleet *fleet;
static char *dir;
static struct pki_cert root, inter, hostile, stray;
static char *own_ca; /* the custom endpoint's root, PEM */

/* the hostile leaf's subject: ESC sequences, BEL, C1 CSI (U+009B) and a
   right-to-left override (U+202E) */
static const char hostile_o[] = "\x1b[2J\x1b[31mRed\x07 \xc2\x9b"
                                "1mC1 \xe2\x80\xae"
                                "desrever";

static void setup(void)
{
    dir = temp_dir();
    int64_t now = time(NULL);
    cr_assert_eq(
        pki_root_and_intermediate(&root, &inter, "show Test Root", "show Test Intermediate", now),
        0);
    const char *subject[] = {"CN", "hostile.show.test", "O", hostile_o, NULL};
    const char *sans[] = {"DNS:hostile.show.test", "IP:127.0.0.1", "email:ops@show.test",
                          "URI:https://show.test/x", NULL};
    /* a DNS name with a NUL inside, which C strings would cut short */
    static const char nul_san[] = "good.show.test\0.evil.example";
    const char *raw_sans[] = {nul_san, NULL};
    const size_t raw_lens[] = {sizeof(nul_san) - 1};
    cr_assert_eq(pki_issue(&hostile,
                           &(struct pki_spec){.subject = subject,
                                              .raw_sans = raw_sans,
                                              .raw_san_lens = raw_lens,
                                              .not_before = now - 86400,
                                              .not_after = now + 50 * 86400,
                                              .key = PKI_EC256,
                                              .sans = sans},
                           &inter),
                 0);
    const char *stray_subject[] = {"CN", "stray.show.test", NULL};
    cr_assert_eq(pki_issue(&stray,
                           &(struct pki_spec){.subject = stray_subject,
                                              .not_before = now - 86400,
                                              .not_after = now + 50 * 86400,
                                              .key = PKI_EC256,
                                              .ca = true},
                           NULL),
                 0);
    own_ca = strdup(dir_path(dir, "own-ca.pem"));
    cr_assert_eq(pki_write_pem(own_ca, &root.x509, 1), 0);
    X509 *chain[] = {inter.x509, root.x509, stray.x509};
    struct fleet_custom custom[] = {
        {.name = "hostile", .leaf = &hostile, .chain = chain, .chain_len = 3},
    };
    fleet = fleet_start(&(struct fleet_options){.mail = true, .custom = custom, .n_custom = 1});
    cr_assert_not_null(fleet);
}

static void teardown(void)
{
    fleet_stop(fleet);
    pki_cert_free(&root);
    pki_cert_free(&inter);
    pki_cert_free(&hostile);
    pki_cert_free(&stray);
    free(own_ca);
    remove_tree(dir);
    free(dir);
}

TestSuite(show, .init = setup, .fini = teardown, .timeout = 240);

/* ---- running it -------------------------------------------------------------------------- */

/* certsweep show TARGET with the fleet's CA and pins, then the extra
   arguments (NULL-ended). */
static void show(struct run_result *r, const char *ca, const char *target, ...)
{
    const char *args[64] = {"show",      target,
                            "--ca-file", ca,
                            "--resolve", "*.fleet.test:*:127.0.0.1",
                            "--resolve", "*.show.test:*:127.0.0.1",
                            "-t",        "5"};
    size_t n = 10;
    va_list ap;
    va_start(ap, target);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 63)
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    cr_assert_eq(run_certsweep(args, NULL, r), 0);
}

/* "NAME.fleet.test:PORT" in a static buffer */
static const char *target_of(const char *name)
{
    static char buf[4][128];
    static int k;
    const struct fleet_scenario *s = fleet_get(fleet, name);
    cr_assert_not_null(s, "no scenario %s", name);
    char *b = buf[k++ % 4];
    snprintf(b, sizeof(buf[0]), "%s:%u", s->host, s->port);
    return b;
}

/* ---- reading what it printed ------------------------------------------------------------- */

/* The line after `from` that starts with prefix, before the next line that
   starts with stop (NULL: the end); NULL if none. */
static const char *line_with(const char *from, const char *prefix, const char *stop)
{
    size_t plen = strlen(prefix), slen = stop ? strlen(stop) : 0;
    for (const char *p = from; p && *p;) {
        if (p != from && stop && strncmp(p, stop, slen) == 0)
            return NULL;
        if (strncmp(p, prefix, plen) == 0)
            return p;
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return NULL;
}

/* The section that starts with the line `title` (a line of its own). */
static const char *section(const char *out, const char *title)
{
    char want[128];
    if (strncmp(out, title, strlen(title)) == 0)
        return out;
    snprintf(want, sizeof(want), "\n%s", title);
    const char *p = strstr(out, want);
    cr_assert_not_null(p, "no section \"%s\" in:\n%s", title, out);
    return p + 1;
}

/* The value of field label ("subject:") within the section (cert < 0) or
   within its block "  [cert] ..."; a static copy, "" if absent.  The value
   starts after the label's padding and runs to the end of its line. */
static const char *field(const char *out, const char *title, int cert, const char *label)
{
    static char val[8][4096];
    static int k;
    const char *from = section(out, title);
    char block[32];
    if (cert >= 0) {
        snprintf(block, sizeof(block), "  [%d] ", cert);
        from = line_with(from, block, "\n\n");
        cr_assert_not_null(from, "no [%d] in %s:\n%s", cert, title, out);
        from = strchr(from, '\n') + 1;
    }
    char want[64];
    snprintf(want, sizeof(want), "%*s%s", cert >= 0 ? 6 : 2, "", label);
    /* within the block (up to the next block) or the section (up to its
       blank line) */
    const char *p = from;
    const char *hit = NULL;
    while (p && *p && *p != '\n' && (cert < 0 || strncmp(p, "  [", 3) != 0)) {
        if (strncmp(p, want, strlen(want)) == 0) {
            hit = p + strlen(want);
            break;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    char *v = val[k++ % 8];
    v[0] = '\0';
    if (!hit)
        return v;
    while (*hit == ' ')
        hit++;
    size_t len = strcspn(hit, "\n");
    snprintf(v, sizeof(val[0]), "%.*s", (int)len, hit);
    return v;
}

/* Line "  [k] ..." of the verified path, without its "  [k] "; static. */
static const char *path_line(const char *out, int k)
{
    static char v[4096];
    char want[32];
    snprintf(want, sizeof(want), "  [%d] ", k);
    const char *p = line_with(section(out, "Verified path"), want, "\n\n");
    v[0] = '\0';
    if (p) {
        p += strlen(want);
        snprintf(v, sizeof(v), "%.*s", (int)strcspn(p, "\n"), p);
    }
    return v;
}

static void iso(int64_t t, char buf[24])
{
    pki_iso_time(t, buf);
}

static void sha1_hex(X509 *x, char buf[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    cr_assert(X509_digest(x, EVP_sha1(), md, &len) && len == 20);
    for (unsigned i = 0; i < len; i++)
        sprintf(buf + 2 * i, "%02X", md[i]);
}

/* Every field of certificate [i] of the output against x, as the PKI made it. */
static void assert_cert(const char *out, int i, X509 *x, const char *subject, const char *issuer)
{
    char want[128], sha256[65], sha1[41], serial[256];
    cr_expect_str_eq(field(out, "Chain as sent", i, "subject:"), subject);
    cr_expect_str_eq(field(out, "Chain as sent", i, "issuer:"), issuer);
    iso(pki_not_before(x), want);
    cr_expect_str_eq(field(out, "Chain as sent", i, "not before:"), want);
    iso(pki_not_after(x), want);
    cr_expect_str_eq(field(out, "Chain as sent", i, "not after:"), want);
    pki_sha256_hex(x, sha256);
    cr_expect_str_eq(field(out, "Chain as sent", i, "SHA-256:"), sha256);
    sha1_hex(x, sha1);
    cr_expect_str_eq(field(out, "Chain as sent", i, "SHA-1:"), sha1);
    pki_serial_hex(x, serial, sizeof(serial));
    cr_expect_str_eq(field(out, "Chain as sent", i, "serial:"), serial);
    cr_expect_str_eq(field(out, "Chain as sent", i, "key:"), "EC-256 (prime256v1)");
    cr_expect_str_eq(field(out, "Chain as sent", i, "signature:"), "ecdsa-with-SHA256");
}

/* The JSON record of a plain scan of target, with the same options. */
static json_t *scan_record(const char *target, const char *ca, const char *extra, const char *now)
{
    const char *args[] = {"-F",   "json", "--ca-file", ca,  "--resolve", "*.fleet.test:*:127.0.0.1",
                          target, extra,  "--now",     now, NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    json_error_t je;
    json_t *doc = json_loads(r.out, 0, &je);
    cr_assert_not_null(doc, "%s\n%s", je.text, r.err);
    json_t *rec = json_incref(json_array_get(json_object_get(doc, "results"), 0));
    cr_assert_not_null(rec);
    json_decref(doc);
    run_result_free(&r);
    return rec;
}

/* ---- the tests ----------------------------------------------------------------------------- */

Test(show, ok_endpoint_in_full)
{
    const struct fleet_scenario *s = fleet_get(fleet, "ok");
    cr_assert_eq(s->chain_len, 1);
    struct run_result r;
    /* show and the scan it is compared with count days from one time */
    int64_t now = time(NULL);
    char when[24];
    pki_iso_time(now, when);
    show(&r, fleet_ca_file(fleet), target_of("ok"), "--ocsp", "--now", when, NULL);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    const char *out = r.out;
    cr_expect_str_eq(field(out, "Endpoint", -1, "protocol:"), "tls");
    cr_expect_str_eq(field(out, "Endpoint", -1, "address:"), "127.0.0.1");
    cr_expect_str_eq(field(out, "Endpoint", -1, "SNI:"), "ok.fleet.test");

    /* each certificate as sent: the leaf, then the intermediate */
    cr_expect(strstr(out, "Chain as sent (2 certificates") != NULL, "%s", out);
    assert_cert(out, 0, s->leaf.x509, "O=certsweep test fleet,CN=ok.fleet.test",
                "O=certsweep test fleet,CN=certsweep Test Intermediate");
    assert_cert(out, 1, s->chain[0], "O=certsweep test fleet,CN=certsweep Test Intermediate",
                "O=certsweep test fleet,CN=certsweep Test Root");
    cr_expect_str_eq(field(out, "Chain as sent", 0, "SANs:"), "DNS:ok.fleet.test, IP:127.0.0.1");
    cr_expect_str_eq(field(out, "Chain as sent", 1, "SANs:"), "none");
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/ocsp/ok", fleet_http_port(fleet));
    cr_expect_str_eq(field(out, "Chain as sent", 0, "OCSP:"), url);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/fleet.crl", fleet_http_port(fleet));
    cr_expect_str_eq(field(out, "Chain as sent", 0, "CRL:"), url);
    cr_expect_str_eq(field(out, "Chain as sent", 0, "CA:"), "no");
    cr_expect_str_eq(field(out, "Chain as sent", 1, "CA:"), "yes, no path length limit");

    /* days left: the record's number and wording (a scan of the same endpoint) */
    json_t *rec = scan_record(target_of("ok"), fleet_ca_file(fleet), "--ocsp", when);
    char days[160];
    snprintf(days, sizeof(days), "%lld (%s)",
             (long long)json_integer_value(json_object_get(rec, "days_remaining")),
             json_string_value(json_object_get(rec, "reason")));
    cr_expect_str_eq(field(out, "Chain as sent", 0, "days left:"), days);
    cr_expect_eq(json_integer_value(json_object_get(rec, "days_remaining")),
                 (pki_not_after(s->leaf.x509) - now) / 86400);

    /* the path ends at the test root, from the trust store */
    cr_expect_str_eq(field(out, "Verified path", -1, "verification:"), "ok");
    cr_expect_str_eq(path_line(out, 0),
                     "leaf, sent as [0]: O=certsweep test fleet,CN=ok.fleet.test");
    cr_expect_str_eq(path_line(out, 1),
                     "sent as [1]: O=certsweep test fleet,CN=certsweep Test Intermediate");
    cr_expect_str_eq(path_line(out, 2), "trust anchor, from the trust store: O=certsweep test "
                                        "fleet,CN=certsweep Test Root");
    cr_expect_str_eq(path_line(out, 3), "");
    cr_expect_str_eq(field(out, "Verified path", -1, "sent, unused:"), "none");

    /* the proof: TLS 1.3's CertificateVerify with the leaf's P-256 key */
    cr_expect_str_eq(field(out, "Proof of key possession", -1, "TLS version:"), "TLSv1.3");
    cr_expect(strncmp(field(out, "Proof of key possession", -1, "checked:"), "CertificateVerify,",
                      18) == 0);
    cr_expect_str_eq(field(out, "Proof of key possession", -1, "scheme:"),
                     "ecdsa_secp256r1_sha256 (0x0403), with the leaf's key (EC-256)");
    cr_expect_str_eq(field(out, "Proof of key possession", -1, "result:"), "proven");

    /* revocation: the fleet's responder said good (thisUpdate now - 1 h,
       nextUpdate now + 4 d) */
    char t[24];
    cr_expect_str_eq(field(out, "Revocation", -1, "answer:"), "good");
    cr_expect(strncmp(field(out, "Revocation", -1, "source:"), "ocsp ", 5) == 0);
    iso(fleet_now(fleet) - 3600, t);
    cr_expect_str_eq(field(out, "Revocation", -1, "this update:"), t);
    iso(fleet_now(fleet) + 4 * 86400, t);
    cr_expect_str_eq(field(out, "Revocation", -1, "next update:"), t);
    cr_expect_str_eq(field(out, "Revocation", -1, "staple:"), "not sent");

    /* the verdict, as the record has it */
    cr_expect_str_eq(field(out, "Verdict", -1, "status:"), "OK");
    cr_expect_str_eq(field(out, "Verdict", -1, "reason:"),
                     json_string_value(json_object_get(rec, "reason")));
    json_decref(rec);
    run_result_free(&r);
}

Test(show, staple_and_crl_answers)
{
    struct run_result r;
    show(&r, fleet_ca_file(fleet), target_of("stapled"), NULL);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    char t[24];
    cr_expect_str_eq(field(r.out, "Revocation", -1, "answer:"), "good");
    cr_expect(strncmp(field(r.out, "Revocation", -1, "source:"), "staple ", 7) == 0);
    cr_expect(strncmp(field(r.out, "Revocation", -1, "staple:"), "sent (", 6) == 0);
    iso(fleet_now(fleet) - 3600, t);
    cr_expect_str_eq(field(r.out, "Revocation", -1, "this update:"), t);
    run_result_free(&r);

    /* revoked in the CRL only: CRITICAL, exit 2, the CRL's entry */
    show(&r, fleet_ca_file(fleet), target_of("revoked-crl"), "--crl", NULL);
    cr_assert_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_str_eq(field(r.out, "Revocation", -1, "answer:"), "revoked");
    cr_expect(strncmp(field(r.out, "Revocation", -1, "source:"), "crl ", 4) == 0);
    iso(fleet_now(fleet) - 86400, t);
    cr_expect_str_eq(field(r.out, "Revocation", -1, "revoked at:"), t);
    cr_expect_str_eq(field(r.out, "Revocation", -1, "reason:"), "superseded");
    iso(fleet_now(fleet) + 7 * 86400, t);
    cr_expect_str_eq(field(r.out, "Revocation", -1, "next update:"), t);
    cr_expect_str_eq(field(r.out, "Verdict", -1, "status:"), "CRITICAL");
    char why[96];
    iso(fleet_now(fleet) - 86400, t);
    snprintf(why, sizeof(why), "revoked (superseded) at %s", t);
    cr_expect_str_eq(field(r.out, "Verdict", -1, "reason:"), why);
    run_result_free(&r);
}

Test(show, tls12_proof_is_the_server_key_exchange)
{
    struct run_result r;
    show(&r, fleet_ca_file(fleet), target_of("tls12"), NULL);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_str_eq(field(r.out, "Proof of key possession", -1, "TLS version:"), "TLSv1.2");
    const char *checked = field(r.out, "Proof of key possession", -1, "checked:");
    cr_expect(strncmp(checked, "ServerKeyExchange", 17) == 0, "%s", checked);
    cr_expect_str_eq(field(r.out, "Proof of key possession", -1, "scheme:"),
                     "ecdsa_secp256r1_sha256 (0x0403), with the leaf's key (EC-256)");
    cr_expect_str_eq(field(r.out, "Proof of key possession", -1, "result:"), "proven");
    run_result_free(&r);

    /* --cert-only asks for no proof, and says so */
    show(&r, fleet_ca_file(fleet), target_of("tls12"), "--cert-only", NULL);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_str_eq(field(r.out, "Proof of key possession", -1, "checked:"),
                     "nothing: --cert-only takes the chain and stops");
    cr_expect_str_eq(field(r.out, "Proof of key possession", -1, "result:"),
                     "not asked (--cert-only)");
    run_result_free(&r);
}

Test(show, untrusted_chains_say_why)
{
    struct run_result r;
    show(&r, fleet_ca_file(fleet), target_of("self-signed"), NULL);
    cr_assert_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_str_eq(field(r.out, "Verified path", -1, "verification:"),
                     "failed: self-signed certificate (OpenSSL error 18 at [0]: self-signed "
                     "certificate)");
    cr_expect_str_eq(path_line(r.out, 0),
                     "leaf, sent as [0]: O=certsweep test fleet,CN=self-signed.fleet.test");
    cr_expect_str_eq(path_line(r.out, 1), "");
    cr_expect(strstr(r.out, "\n  (the path as far as verification got: no trust anchor)\n") != NULL,
              "%s", r.out);
    cr_expect_str_eq(field(r.out, "Verdict", -1, "status:"), "CRITICAL");
    cr_expect_str_eq(field(r.out, "Verdict", -1, "reason:"), "untrusted: self-signed certificate");
    run_result_free(&r);

    /* an expired leaf fails verification with the whole path to the anchor */
    show(&r, fleet_ca_file(fleet), target_of("expired"), NULL);
    cr_assert_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_str_eq(field(r.out, "Verified path", -1, "verification:"),
                     "failed: certificate has expired (OpenSSL error 10 at [0]: certificate has "
                     "expired)");
    cr_expect_str_eq(path_line(r.out, 2), "trust anchor, from the trust store: O=certsweep test "
                                          "fleet,CN=certsweep Test Root");
    cr_expect(strstr(r.out, "no trust anchor") == NULL, "%s", r.out);
    cr_expect_str_eq(field(r.out, "Verdict", -1, "status:"), "EXPIRED");
    run_result_free(&r);

    /* an intermediate nobody trusts: the path stops at it */
    show(&r, fleet_ca_file(fleet), target_of("unknown-ca"), NULL);
    cr_assert_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_str_eq(field(r.out, "Verified path", -1, "verification:"),
                     "failed: unable to get local issuer certificate (OpenSSL error 20 at [1]: "
                     "unable to get local issuer certificate)");
    cr_expect(strncmp(path_line(r.out, 1), "sent as [1]: ", 13) == 0);
    cr_expect_str_eq(path_line(r.out, 2), "");
    cr_expect_str_eq(field(r.out, "Revocation", -1, "answer:"), "unchecked");
    run_result_free(&r);

    /* the fleet's chain shown against another trust store: the same path
       stops short of the fleet root */
    show(&r, own_ca, target_of("ok"), NULL);
    cr_assert_eq(r.status, 2, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(strncmp(field(r.out, "Verified path", -1, "verification:"),
                      "failed: unable to get local issuer certificate", 46) == 0);
    run_result_free(&r);
}

Test(show, hostile_names_are_escaped_and_unused_certificates_named)
{
    char target[64];
    snprintf(target, sizeof(target), "hostile.show.test:%u", fleet_custom_port(fleet, 0, 0));
    struct run_result r;
    show(&r, own_ca, target, NULL);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    /* nothing a terminal acts on: no ESC, BEL, C1 CSI or bidi override */
    for (const char *p = r.out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        cr_assert(c >= 0x20 || c == '\n', "control byte 0x%02X at %zu", c, (size_t)(p - r.out));
        cr_assert(c != 0x7f);
    }
    cr_expect(strstr(r.out, "\xc2\x9b") == NULL, "raw U+009B");
    cr_expect(strstr(r.out, "\xe2\x80\xae") == NULL, "raw U+202E");
    /* ... each shown escaped instead (OpenSSL's RFC 4514 escapes C0, the
       text escaping the rest) */
    cr_expect_str_eq(field(r.out, "Chain as sent", 0, "subject:"),
                     "O=\\1B[2J\\1B[31mRed\\07 \\u009B1mC1 \\u202Edesrever,CN=hostile.show.test");
    cr_expect_str_eq(field(r.out, "Chain as sent", 0, "SANs:"),
                     "DNS:hostile.show.test, IP:127.0.0.1, email:ops@show.test, "
                     "URI:https://show.test/x, DNS:good.show.test\\x00.evil.example");
    cr_expect_str_eq(field(r.out, "Chain as sent", 0, "OCSP:"), "none");
    /* the path: the root the server sent is the trust store's anchor; the
       stray self-signed certificate is sent but unused */
    cr_expect_str_eq(path_line(r.out, 2), "trust anchor, from the trust store, also sent as [2]: "
                                          "CN=show Test Root");
    cr_expect_str_eq(field(r.out, "Verified path", -1, "sent, unused:"), "[3] CN=stray.show.test");
    cr_expect_str_eq(field(r.out, "Chain as sent", 3, "CA:"), "yes, no path length limit");
    run_result_free(&r);
}

Test(show, json_is_the_record_with_its_chain)
{
    const struct fleet_scenario *s = fleet_get(fleet, "ok");
    struct run_result r;
    show(&r, fleet_ca_file(fleet), target_of("ok"), "-F", "jsonl", NULL);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    json_error_t je;
    json_t *rec = json_loads(r.out, 0, &je);
    cr_assert_not_null(rec, "%s: %s", je.text, r.out);
    char sha[65];
    pki_sha256_hex(s->leaf.x509, sha);
    cr_expect_str_eq(json_string_value(json_object_get(rec, "sha256")), sha);
    json_t *chain = json_object_get(rec, "chain");
    cr_assert_eq(json_array_size(chain), 2);
    pki_sha256_hex(s->chain[0], sha);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(chain, 1), "sha256")), sha);
    json_decref(rec);
    run_result_free(&r);
}

Test(show, urls_and_unreachable_endpoints)
{
    const struct fleet_scenario *smtp = fleet_get(fleet, "smtp-starttls");
    char target[128];
    snprintf(target, sizeof(target), "smtp://%s:%u", smtp->host, smtp->port);
    struct run_result r;
    show(&r, fleet_ca_file(fleet), target, NULL);
    cr_assert_eq(r.status, 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect_str_eq(field(r.out, "Endpoint", -1, "protocol:"), "smtp");
    assert_cert(r.out, 0, smtp->leaf.x509, "O=certsweep test fleet,CN=smtp.fleet.test",
                "O=certsweep test fleet,CN=certsweep Test Intermediate");
    run_result_free(&r);

    /* nothing listening: no chain, the record's ERROR and exit 3 */
    show(&r, fleet_ca_file(fleet), target_of("closed"), NULL);
    cr_assert_eq(r.status, 3, "exit %d\n%s\n%s", r.status, r.out, r.err);
    cr_expect(strstr(r.out, "\nChain as sent\n  none: no certificate was received\n") != NULL, "%s",
              r.out);
    cr_expect_str_eq(field(r.out, "Verdict", -1, "status:"), "ERROR");
    cr_expect_str_eq(field(r.out, "Verdict", -1, "reason:"), "connect: connection refused");
    run_result_free(&r);
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(show, usage_errors_and_a_host_named_show)
{
    struct run_result r;
    const char *none[] = {"show", NULL};
    cr_assert_eq(run_certsweep(none, NULL, &r), 0);
    cr_expect_eq(r.status, 64);
    cr_expect_str_eq(r.out, "");
    cr_expect_eq(lines(r.err), 1, "%s", r.err);
    cr_expect(strncmp(r.err, "certsweep show: which endpoint?", 31) == 0, "%s", r.err);
    run_result_free(&r);

    const char *two[] = {"show", "a.fleet.test", "b.fleet.test", NULL};
    cr_assert_eq(run_certsweep(two, NULL, &r), 0);
    cr_expect_eq(r.status, 64);
    cr_expect_eq(lines(r.err), 1, "%s", r.err);
    run_result_free(&r);

    const char *range[] = {"show", "127.0.0.1:443,8443", NULL};
    cr_assert_eq(run_certsweep(range, NULL, &r), 0);
    cr_expect_eq(r.status, 64);
    cr_expect(strstr(r.err, "more than one endpoint") != NULL, "%s", r.err);
    run_result_free(&r);

    const char *report[] = {"show", "a.fleet.test", "-o", "x.json", NULL};
    cr_assert_eq(run_certsweep(report, NULL, &r), 0);
    cr_expect_eq(r.status, 64);
    cr_expect(strstr(r.err, "--output is not an option of certsweep show") != NULL, "%s", r.err);
    run_result_free(&r);

    /* after "--", "show" is a host: scanned, and its DNS fails on a closed port */
    const char *host[] = {"--dns-server", "127.0.0.1:9", "--dns-timeout", "0.5", "-F",
                          "jsonl",        "--",          "show",          NULL};
    cr_assert_eq(run_certsweep(host, NULL, &r), 0);
    cr_expect_eq(r.status, 3, "%s", r.err);
    json_error_t je;
    json_t *rec = json_loads(r.out, 0, &je);
    cr_assert_not_null(rec, "%s: %s", je.text, r.out);
    cr_expect_str_eq(json_string_value(json_object_get(rec, "host")), "show");
    cr_expect_str_eq(json_string_value(json_object_get(rec, "status")), "ERROR");
    cr_expect(strncmp(json_string_value(json_object_get(rec, "reason")), "dns: ", 5) == 0);
    json_decref(rec);
    run_result_free(&r);
}

Test(show, listed_in_help_and_the_man_page)
{
    struct run_result r;
    const char *help[] = {"--help", NULL};
    cr_assert_eq(run_certsweep(help, NULL, &r), 0);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "\n  certsweep show HOST[:PORT] [OPTIONS]\n") != NULL, "%s", r.out);
    run_result_free(&r);
    const char *man[] = {"--print-man", NULL};
    cr_assert_eq(run_certsweep(man, NULL, &r), 0);
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, ".SH COMMANDS\n") != NULL);
    cr_expect(strstr(r.out, ".TP\n\\fBcertsweep show\\fR HOST[:PORT] [OPTIONS]\none endpoint in "
                            "full") != NULL,
              "%s", r.out);
    run_result_free(&r);
    const char *own[] = {"show", "--help", NULL};
    cr_assert_eq(run_certsweep(own, NULL, &r), 0);
    cr_expect_eq(r.status, 0);
    cr_expect(strncmp(r.out, "usage: certsweep show HOST[:PORT] [OPTIONS]\n", 44) == 0, "%s",
              r.out);
    cr_expect(strstr(r.out, "--ca-file") != NULL);
    run_result_free(&r);
}
