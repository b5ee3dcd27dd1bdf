/* Revocation end to end, on 127.0.0.1 only: a throw-away PKI (root ->
 * intermediate -> leafs whose AIA OCSP URI and CRL distribution point name
 * loopback servers), a real `openssl ocsp` responder, a real nginx stapling
 * OCSP responses (TLS 1.2 and 1.3) and serving CRLs, the test fleet stapling
 * responses that are expired or wrongly signed, the scripted HTTP server
 * serving answers that must not count (and counting requests that must not
 * be made), and sockets that refuse or never answer.  The certsweep binary
 * scans them; the revocation fields of its JSON and CSV reports are
 * compared with what the PKI put in. */
#include <criterion/criterion.h>

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "tests/support/httpd.h"
#include "tests/support/ocsp_responder.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

#define DAY 86400
#define RUN_LIMIT_S 60        /* a run that takes longer has hung */
#define NUL_T INT64_MIN       /* a time field that must be null */
#define ANY_T (INT64_MIN + 1) /* a time field not checked */
#define MAX_HELD 8

static char *dir;
static int64_t now;
static struct pki_cert root, inter;
static struct pki_cert stray; /* trusted by nobody: signs what must not verify */
static X509 *inter_chain[1];  /* what follows every leaf on the wire */
static struct fleet *fleet;
static struct nginx web = {.pid = -1};
static struct ocsp_responder responder = {.pid = -1};
static struct httpd *scripted; /* the scripted HTTP server, when a test starts one */
static int held[MAX_HELD];
static size_t n_held;

/* ---- small helpers ---- */

/* dir/NAME (dir_path) */
#define in_dir(...) dir_path(dir, __VA_ARGS__)

static int64_t parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s != NULL ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    cr_assert(end != NULL && *end == '\0', "not an ISO 8601 UTC time: \"%s\"", s ? s : "(null)");
    return (int64_t)timegm(&tm);
}

static void require_tools(bool nginx, bool openssl)
{
    if (nginx && access(NGINX_BINARY, X_OK) != 0)
        cr_skip_test(NGINX_BINARY " is not installed: the revocation tests need it "
                                  "(apt-get install nginx)");
    if (openssl && (access(OPENSSL_BINARY, X_OK) != 0 || access(STDBUF_BINARY, X_OK) != 0))
        cr_skip_test(OPENSSL_BINARY " (and " STDBUF_BINARY ") are needed for the OCSP responder "
                                    "tests (apt-get install openssl coreutils)");
}

/* A port on 127.0.0.1 that refuses connections (bound, never listening) or,
   with listening, accepts into the kernel's queue and never answers.  Held
   open until the test ends. */
static uint16_t hold_port(bool listening)
{
    cr_assert(n_held < MAX_HELD);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0, "bind: %s", strerror(errno));
    if (listening)
        cr_assert_eq(listen(fd, 64), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    held[n_held++] = fd;
    return ntohs(sa.sin_port);
}

/* ---- the PKI ---- */

static void write_certs(const char *name, X509 *const *certs, size_t n)
{
    cr_assert_eq(pki_write_pem(in_dir("%s", name), certs, n), 0, "%s", name);
}

/* Not a leaf: a CA or, with ocsp_signing, a delegated OCSP responder; EC
   P-256, CN=cn, O=certsweep tests, signed by issuer (NULL: self-signed). */
static void issue_authority(struct pki_cert *out, const char *cn, int64_t not_before,
                            int64_t not_after, bool ocsp_signing, const struct pki_cert *issuer)
{
    cr_assert_eq(
        pki_issue(out,
                  &(struct pki_spec){
                      .subject = (const char *const[]){"CN", cn, "O", "certsweep tests", NULL},
                      .not_before = not_before,
                      .not_after = not_after,
                      .key = PKI_EC256,
                      .ca = !ocsp_signing,
                      .ocsp_signing = ocsp_signing,
                  },
                  issuer),
        0, "%s", cn);
}

static void make_ca(void)
{
    issue_authority(&root, "certsweep revocation Root", now - 400 * DAY, now + 3650 * DAY, false,
                    NULL);
    issue_authority(&inter, "certsweep revocation Intermediate", now - 350 * DAY, now + 1000 * DAY,
                    false, &root);
    issue_authority(&stray, "certsweep Stray Key", now - DAY, now + 100 * DAY, false, NULL);
    inter_chain[0] = inter.x509;
    write_certs("root.pem", &root.x509, 1);
    write_certs("inter.pem", &inter.x509, 1);
    cr_assert_eq(pki_write_key(in_dir("inter.key"), inter.key), 0);
}

/* A delegated OCSP responder (id-kp-OCSPSigning, ocsp-nocheck) of the
   intermediate. */
static void issue_responder(struct pki_cert *out)
{
    issue_authority(out, "certsweep OCSP Responder", now - DAY, now + 100 * DAY, true, &inter);
}

/* A leaf for name.rev.test and 127.0.0.1, issued by the intermediate. */
static void issue_dated(struct pki_cert *out, const char *name, const char *serial,
                        const char *ocsp_uri, const char *crl_uri, int64_t not_before,
                        int64_t not_after)
{
    char cn[128], dns[140];
    snprintf(cn, sizeof cn, "%s.rev.test", name);
    snprintf(dns, sizeof dns, "DNS:%s", cn);
    cr_assert_eq(pki_issue(out,
                           &(struct pki_spec){
                               .subject = (const char *const[]){"CN", cn, NULL},
                               .not_before = not_before,
                               .not_after = not_after,
                               .key = PKI_EC256,
                               .sans = (const char *const[]){dns, "IP:127.0.0.1", NULL},
                               .ocsp_uri = ocsp_uri,
                               .crl_uri = crl_uri,
                               .serial_hex = serial,
                           },
                           &inter),
                 0, "leaf %s", name);
}

#define HEALTHY_NOT_AFTER (now + 200 * DAY + DAY / 2)

/* Valid for 200.5 more days: OK, "expires in 200 days", when nothing else counts. */
static void issue(struct pki_cert *out, const char *name, const char *serial, const char *ocsp_uri,
                  const char *crl_uri)
{
    issue_dated(out, name, serial, ocsp_uri, crl_uri, now - 30 * DAY, HEALTHY_NOT_AFTER);
}

#define HEALTHY_REASON "expires in 200 days"

/* A DER OCSP response about leaf, a leaf of the intermediate: good unless
   spec.status says otherwise, signed by the intermediate unless spec.signer
   names another.  Caller frees *der. */
static void make_staple(unsigned char **der, size_t *len, X509 *leaf, struct pki_ocsp_spec spec)
{
    spec.leaf = leaf;
    spec.issuer = inter.x509;
    if (spec.signer == NULL)
        spec.signer = &inter;
    cr_assert_eq(pki_ocsp_response(&spec, der, len), 0, "pki_ocsp_response failed");
}

/* Writes DIR/name, a CRL of the intermediate (spec.issuer is set here) as
   spec says; returns its size in bytes. */
static size_t write_crl(const char *name, struct pki_crl_spec spec)
{
    size_t size;
    spec.issuer = &inter;
    cr_assert_eq(pki_crl(in_dir("%s", name), &spec, &size), 0, "CRL %s", name);
    return size;
}

/* ---- servers ---- */

static void start_fleet(const struct fleet_custom *custom, size_t n)
{
    fleet = fleet_start(&(struct fleet_options){.custom = custom, .n_custom = n});
    cr_assert_not_null(fleet, "the test fleet did not start");
}

/* A fleet endpoint serving leaf and the intermediate, stapling der (NULL:
   no staple); tls_max 0, or TLS1_2_VERSION for TLS 1.2 only. */
static struct fleet_custom stapling(const char *name, const struct pki_cert *leaf,
                                    const unsigned char *der, size_t len, int tls_max)
{
    return (struct fleet_custom){.name = name,
                                 .leaf = leaf,
                                 .chain = inter_chain,
                                 .chain_len = 1,
                                 .staple = der,
                                 .staple_len = len,
                                 .tls_max = tls_max};
}

static uint16_t fport(size_t custom, size_t k)
{
    uint16_t p = fleet_custom_port(fleet, custom, k);
    cr_assert(p != 0);
    return p;
}

/* An nginx TLS site: DIR/<name>.chain.pem, <name>.key and, with a staple,
   <name>.staple.der, all written before nginx starts. */
struct site {
    const char *name;
    bool tls12_only;
    bool staple;
};

struct web_conf {
    const struct site *sites;
    size_t n_sites;
    /* called with the HTTP port before each start: writes the sites' files */
    void (*prepare)(uint16_t http_port);
};

/* ports[0]: plain HTTP for CRLs (DIR/www) and canned OCSP answers, logged to
   DIR/access.log; ports[1 + i]: site i. */
static void web_servers(FILE *fp, const char *d, const uint16_t *ports, void *arg)
{
    const struct web_conf *wc = arg;
    if (wc->prepare != NULL)
        wc->prepare(ports[0]);
    fprintf(fp,
            "    server {\n"
            "        listen 127.0.0.1:%u;\n"
            "        root %s/www;\n"
            "        access_log %s/access.log;\n"
            "        location = /garbage { return 200 \"not an ocsp response\"; }\n"
            "        location = /status500 { return 500; }\n"
            "        location = /ocsp-spy { return 500; }\n"
            "    }\n",
            ports[0], d, d);
    for (size_t i = 0; i < wc->n_sites; i++) {
        const struct site *s = &wc->sites[i];
        fprintf(fp,
                "    server {\n"
                "        listen 127.0.0.1:%u ssl;\n"
                "        ssl_protocols %s;\n"
                "        ssl_certificate %s/%s.chain.pem;\n"
                "        ssl_certificate_key %s/%s.key;\n",
                ports[1 + i], s->tls12_only ? "TLSv1.2" : "TLSv1.2 TLSv1.3", d, s->name, d,
                s->name);
        if (s->staple)
            fprintf(fp,
                    "        ssl_stapling on;\n"
                    "        ssl_stapling_file %s/%s.staple.der;\n",
                    d, s->name);
        fprintf(fp, "        location / { return 200 \"%s\\n\"; }\n    }\n", s->name);
    }
}

static uint16_t start_web(const struct web_conf *wc)
{
    char err[8192];
    if (mkdir(in_dir("www"), 0755) != 0 && errno != EEXIST)
        cr_assert_fail("mkdir www: %s", strerror(errno));
    cr_assert_eq(nginx_start(&web, dir, 1 + wc->n_sites, web_servers, (void *)wc, err, sizeof err),
                 0, "%s", err);
    return web.ports[0];
}

static size_t web_hits(const char *path)
{
    char needle[256];
    snprintf(needle, sizeof needle, "\"GET %s ", path);
    size_t gets = count_lines_with(in_dir("access.log"), needle);
    snprintf(needle, sizeof needle, "\"POST %s ", path);
    return gets + count_lines_with(in_dir("access.log"), needle);
}

/* `openssl ocsp` answering from DIR/index.txt for the intermediate's leafs,
   signing with rsigner/rkey; its -text log (requests and responses) goes to
   DIR/responder.log.  Returns its URL (static storage). */
static const char *start_responder(const char *rsigner_path, const char *rkey_path)
{
    /* in_dir()'s buffers get reused: keep our own copies */
    char rsigner[4096], rkey[4096], index[4096], ca[4096], log[4096];
    snprintf(rsigner, sizeof rsigner, "%s", rsigner_path);
    snprintf(rkey, sizeof rkey, "%s", rkey_path);
    snprintf(index, sizeof index, "%s", in_dir("index.txt"));
    snprintf(ca, sizeof ca, "%s", in_dir("inter.pem"));
    snprintf(log, sizeof log, "%s", in_dir("responder.log"));
    char err[8192];
    cr_assert_eq(ocsp_responder_start(&responder, index, ca, rsigner, rkey, log, err, sizeof err),
                 0, "%s", err);
    return responder.url;
}

static size_t responder_requests(void)
{
    return ocsp_responder_requests(&responder);
}

/* DIR/index.txt, which the responder answers from: the leafs are NAME.rev.test */
static void write_index(const struct ocsp_index_entry *e, size_t n)
{
    cr_assert_eq(ocsp_index_write(in_dir("index.txt"), "rev.test", e, n), 0);
}

/* ---- setup ---- */

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    now = (int64_t)time(NULL);
    dir = temp_dir();
    cr_assert_not_null(dir);
    make_ca();
}

/* CS_TEST_KEEP=1 keeps each test's directory (configs, logs, reports). */
static void teardown(void)
{
    ocsp_responder_stop(&responder);
    if (scripted != NULL)
        httpd_stop(scripted);
    scripted = NULL;
    nginx_stop(&web);
    fleet_stop(fleet);
    fleet = NULL;
    while (n_held > 0)
        close(held[--n_held]);
    pki_cert_free(&stray);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    if (getenv("CS_TEST_KEEP") == NULL)
        remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(revocation, .init = setup, .fini = teardown, .timeout = 240);

/* ---- one certsweep run ---- */

/* Scans 127.0.0.1:ports[i] with --ca-file root.pem and the options given,
   writing CSV and JSON. */
static void scan_run(struct report_scan *s, const char *const *opts, const uint16_t *ports,
                     size_t n)
{
    const char *targets = in_dir("targets.txt"), *csv = in_dir("out.csv"),
               *json = in_dir("out.json");
    FILE *fp = fopen(targets, "w");
    cr_assert_not_null(fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "127.0.0.1:%u\n", ports[i]);
    cr_assert_eq(fclose(fp), 0);
    unlink(csv);
    unlink(json);
    const char *args[48];
    size_t k = 0;
    args[k++] = "--ca-file";
    args[k++] = in_dir("root.pem");
    for (size_t i = 0; opts != NULL && opts[i] != NULL; i++)
        args[k++] = opts[i];
    const char *fixed[] = {"-f", targets, "-o", csv, "-o", json, "-q", NULL};
    for (size_t i = 0; fixed[i] != NULL; i++)
        args[k++] = fixed[i];
    args[k] = NULL;
    cr_assert(k < sizeof args / sizeof args[0]);
    memset(s, 0, sizeof *s);
    cr_assert_eq(run_binary(CS_BINARY, args, NULL, RUN_LIMIT_S, &s->run), 0);
    cr_assert_neq(s->run.status, 137, "certsweep did not finish within %d s (hung); stderr: %s",
                  RUN_LIMIT_S, s->run.err);
    cr_assert_str_eq(s->run.out, "", "-q wrote to standard output");
    char err[8192];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof err), 0, "%s (exit %d); stderr: %s", err,
                 s->run.status, s->run.err);
    cr_assert_eq(json_array_size(json_object_get(s->json, "results")), n,
                 "%zu JSON records for %zu targets; stderr: %s",
                 json_array_size(json_object_get(s->json, "results")), n, s->run.err);
    cr_assert_eq(s->csv.nrows, n + 1, "%zu CSV rows for %zu targets", s->csv.nrows, n);
}

static json_t *rec(const struct report_scan *s, uint16_t port)
{
    json_t *r = json_find_record(json_object_get(s->json, "results"), "127.0.0.1", port);
    cr_assert_not_null(r, "no JSON record for 127.0.0.1:%u", port);
    return r;
}

static const char *cell(const struct report_scan *s, uint16_t port, const char *column)
{
    char p[8];
    snprintf(p, sizeof p, "%u", port);
    size_t row = csv_doc_find(&s->csv, "port", p);
    cr_assert(row > 0, "no CSV row for port %u", port);
    const char *v = csv_doc_get(&s->csv, row, column);
    cr_assert_not_null(v, "port %u: no CSV column %s", port, column);
    return v;
}

/* A string field of the JSON record; NULL when it is null. */
static const char *jstr(const struct report_scan *s, uint16_t port, const char *key)
{
    json_t *v = json_object_get(rec(s, port), key);
    cr_assert(v != NULL, "port %u: no JSON key %s", port, key);
    cr_assert(json_is_string(v) || json_is_null(v), "port %u: %s is neither a string nor null",
              port, key);
    return json_string_value(v);
}

static int64_t jtime(const struct report_scan *s, uint16_t port, const char *key)
{
    const char *v = jstr(s, port, key);
    return v == NULL ? NUL_T : parse_iso(v);
}

/* The header row and every record's keys: the README's record
   fields, in order. */
static void check_layout(const struct report_scan *s)
{
    char err[512];
    cr_assert_eq(check_record_layout(&s->csv, s->json, err, sizeof err), 0, "%s", err);
}

struct want {
    const char *status;
    const char *reason;         /* exact, or NULL */
    const char *reason_has;     /* a substring of reason, or NULL */
    int stapled;                /* 1, 0, or -1 for null */
    const char *revocation;     /* exact value; NULL: null (unless revocation_has) */
    const char *revocation_has; /* the value contains this (error texts) */
    const char *source;         /* NULL: null */
    int64_t revoked_at;         /* NUL_T: null; ANY_T: not checked */
    const char *rev_reason;     /* NULL: null */
    int64_t this_update;        /* NUL_T, ANY_T or the time */
    int64_t next_update;
};

/* The record as JSON text, for failure messages. */
static const char *dump(const struct report_scan *s, uint16_t port)
{
    static char buf[8192];
    char *text = json_dumps(rec(s, port), JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(buf, sizeof buf, "%s", text != NULL ? text : "?");
    free(text);
    return buf;
}

static void check_time(const struct report_scan *s, uint16_t port, const char *key, int64_t want)
{
    if (want == ANY_T)
        return;
    const char *csv = cell(s, port, key);
    const char *js = jstr(s, port, key);
    if (want == NUL_T) {
        cr_assert_null(js, "port %u: %s is \"%s\", want null\n%s", port, key, js, dump(s, port));
        cr_assert_str_eq(csv, "", "port %u: CSV %s", port, key);
        return;
    }
    char iso_want[24];
    pki_iso_time(want, iso_want);
    cr_assert_not_null(js, "port %u: %s is null, want %s\n%s", port, key, iso_want, dump(s, port));
    cr_assert_str_eq(js, iso_want, "port %u: %s is %s, want %s\n%s", port, key, js, iso_want,
                     dump(s, port));
    cr_assert_str_eq(csv, iso_want, "port %u: CSV %s is %s, want %s", port, key, csv, iso_want);
}

static void check_str(const struct report_scan *s, uint16_t port, const char *key, const char *want)
{
    const char *js = jstr(s, port, key);
    if (want == NULL) {
        cr_assert_null(js, "port %u: %s is \"%s\", want null\n%s", port, key, js, dump(s, port));
        cr_assert_str_eq(cell(s, port, key), "", "port %u: CSV %s", port, key);
        return;
    }
    cr_assert_not_null(js, "port %u: %s is null, want \"%s\"\n%s", port, key, want, dump(s, port));
    cr_assert_str_eq(js, want, "port %u: %s is \"%s\", want \"%s\"\n%s", port, key, js, want,
                     dump(s, port));
    cr_assert_str_eq(cell(s, port, key), want, "port %u: CSV %s is \"%s\", want \"%s\"", port, key,
                     cell(s, port, key), want);
}

static void check(const struct report_scan *s, uint16_t port, struct want want)
{
    const struct want *w = &want;
    const char *status = jstr(s, port, "status"), *reason = jstr(s, port, "reason");
    cr_assert(status != NULL && reason != NULL);
    cr_assert_str_eq(status, w->status, "port %u: status %s (%s), want %s\n%s", port, status,
                     reason, w->status, dump(s, port));
    cr_assert_str_eq(cell(s, port, "status"), status);
    cr_assert_str_eq(cell(s, port, "reason"), reason);
    if (w->reason != NULL)
        cr_assert_str_eq(reason, w->reason, "port %u: reason \"%s\", want \"%s\"\n%s", port, reason,
                         w->reason, dump(s, port));
    if (w->reason_has != NULL)
        cr_assert(strstr(reason, w->reason_has) != NULL, "port %u: reason \"%s\" lacks \"%s\"\n%s",
                  port, reason, w->reason_has, dump(s, port));

    json_t *stapled = json_object_get(rec(s, port), "ocsp_stapled");
    const char *csv_stapled = cell(s, port, "ocsp_stapled");
    if (w->stapled < 0) {
        cr_assert(json_is_null(stapled), "port %u: ocsp_stapled is not null", port);
        cr_assert_str_eq(csv_stapled, "", "port %u: CSV ocsp_stapled", port);
    } else {
        cr_assert(json_is_boolean(stapled), "port %u: ocsp_stapled is not a boolean", port);
        cr_assert_eq(json_is_true(stapled), w->stapled == 1, "port %u: ocsp_stapled %s", port,
                     csv_stapled);
        cr_assert_str_eq(csv_stapled, w->stapled ? "true" : "false", "port %u", port);
    }

    if (w->revocation_has != NULL) {
        const char *v = jstr(s, port, "revocation");
        cr_assert(v != NULL && strstr(v, w->revocation_has) != NULL,
                  "port %u: revocation \"%s\", want it to contain \"%s\"\n%s", port,
                  v ? v : "(null)", w->revocation_has, dump(s, port));
        cr_assert_str_eq(cell(s, port, "revocation"), v);
    } else {
        check_str(s, port, "revocation", w->revocation);
    }
    check_str(s, port, "revocation_source", w->source);
    check_time(s, port, "revoked_at", w->revoked_at);
    check_str(s, port, "revocation_reason", w->rev_reason);
    check_time(s, port, "revocation_this_update", w->this_update);
    check_time(s, port, "revocation_next_update", w->next_update);
}

/* "revoked (<reason>) at <time>" */
static const char *revoked_reason(const char *why, int64_t at)
{
    static char bufs[8][128];
    static unsigned next;
    char when[24];
    pki_iso_time(at, when);
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "revoked (%s) at %s", why, when);
    return b;
}

/* A healthy leaf (OK, "expires in 200 days") whose check came out as given. */
static struct want healthy(int stapled, const char *revocation, const char *source,
                           int64_t this_update, int64_t next_update)
{
    return (struct want){.status = "OK",
                         .reason = HEALTHY_REASON,
                         .stapled = stapled,
                         .revocation = revocation,
                         .source = source,
                         .revoked_at = NUL_T,
                         .this_update = this_update,
                         .next_update = next_update};
}

/* A healthy leaf whose check failed: still OK, the revocation names the
   failure, every other revocation field null. */
static struct want failed(int stapled, const char *phrase)
{
    struct want w = healthy(stapled, NULL, NULL, NUL_T, NUL_T);
    w.revocation_has = phrase;
    return w;
}

/* A healthy leaf found revoked: CRITICAL, "revoked (<why>) at <time>". */
static struct want revoked_by(int stapled, const char *source, const char *why, int64_t at,
                              int64_t this_update, int64_t next_update)
{
    return (struct want){.status = "CRITICAL",
                         .reason = revoked_reason(why, at),
                         .stapled = stapled,
                         .revocation = "revoked",
                         .source = source,
                         .revoked_at = at,
                         .rev_reason = why,
                         .this_update = this_update,
                         .next_update = next_update};
}

/* w, but with the status something else decides (an expired leaf, an
   untrusted staple): the reason contains reason_has. */
static struct want overruled(struct want w, const char *status, const char *reason_has)
{
    w.status = status;
    w.reason = NULL;
    w.reason_has = reason_has;
    return w;
}

/* w for a leaf that stapled a response it cannot be trusted on: WARNING,
   the reason names the staple. */
static struct want bad_staple(struct want w)
{
    return overruled(w, "WARNING", "stapled OCSP response");
}

/* With --require-revocation: CRITICAL, reason "revocation <the value>". */
static void check_required(const struct report_scan *s, uint16_t port)
{
    const char *v = jstr(s, port, "revocation");
    cr_assert_not_null(v, "port %u: revocation is null", port);
    char want[512];
    snprintf(want, sizeof want, "revocation %s", v);
    cr_assert_str_eq(jstr(s, port, "status"), "CRITICAL", "port %u: %s", port,
                     jstr(s, port, "reason"));
    cr_assert_str_eq(jstr(s, port, "reason"), want, "port %u", port);
}

static long summary(const struct report_scan *s, const char *status)
{
    return (long)json_integer_value(json_object_get(json_object_get(s->json, "summary"), status));
}

/* ---- the support pieces, checked with OpenSSL alone ---- */

/* A blocking TLS client on 127.0.0.1:port asking for the certificate status:
   the stapled response (malloc'd, NULL if none) and the protocol version. */
static unsigned char *fetch_staple(uint16_t port, size_t *len, int *version)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect to %u", port);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    cr_assert_not_null(ssl);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
    cr_assert_eq(SSL_connect(ssl), 1, "handshake with 127.0.0.1:%u failed", port);
    const unsigned char *resp = NULL;
    long n = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
    unsigned char *copy = NULL;
    *len = 0;
    if (resp != NULL && n > 0) {
        copy = malloc((size_t)n);
        memcpy(copy, resp, (size_t)n);
        *len = (size_t)n;
    }
    *version = SSL_version(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return copy;
}

/* What pki_ocsp_response makes verifies (or not) as a client would check it. */
static int verify_ocsp(const unsigned char *der, size_t len, X509 *leaf, int *status, int *reason,
                       int64_t *rev)
{
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    cr_assert_not_null(resp);
    cr_assert_eq(OCSP_response_status(resp), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
    cr_assert_not_null(bs);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, root.x509);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    sk_X509_push(untrusted, inter.x509);
    int ok = OCSP_basic_verify(bs, untrusted, store, 0);
    ERR_clear_error();
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf, inter.x509);
    ASN1_GENERALIZEDTIME *revtime = NULL, *thisupd = NULL, *nextupd = NULL;
    cr_assert(OCSP_resp_find_status(bs, id, status, reason, &revtime, &thisupd, &nextupd));
    *rev = 0;
    if (revtime != NULL) {
        struct tm tm;
        ASN1_TIME_to_tm(revtime, &tm);
        *rev = (int64_t)timegm(&tm);
    }
    OCSP_CERTID_free(id);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return ok;
}

Test(revocation, support_pki_ocsp_responses_and_crls)
{
    struct pki_cert leaf, responder_cert;
    issue(&leaf, "support", "0B01", NULL, NULL);
    issue_responder(&responder_cert);
    cr_assert_eq(X509_check_purpose(responder_cert.x509, X509_PURPOSE_OCSP_HELPER, 0), 1);
    cr_assert(X509_get_extension_flags(responder_cert.x509) & EXFLAG_XKUSAGE);
    cr_assert(X509_get_extended_key_usage(responder_cert.x509) & XKU_OCSP_SIGN);
    cr_assert_geq(X509_get_ext_by_NID(responder_cert.x509, NID_id_pkix_OCSP_noCheck, -1), 0);

    unsigned char *der;
    size_t len;
    int status, reason;
    int64_t rev;
    int64_t at = now - 2 * DAY - 777;
    /* by the issuer, revoked */
    make_staple(&der, &len, leaf.x509,
                (struct pki_ocsp_spec){.status = PKI_OCSP_REVOKED,
                                       .revoked_at = at,
                                       .reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                                       .this_update = now - 3600,
                                       .next_update = now + DAY});
    cr_assert_eq(verify_ocsp(der, len, leaf.x509, &status, &reason, &rev), 1);
    cr_assert_eq(status, V_OCSP_CERTSTATUS_REVOKED);
    cr_assert_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    cr_assert_eq(rev, at);
    free(der);
    /* by a delegated responder that comes with the response */
    make_staple(&der, &len, leaf.x509,
                (struct pki_ocsp_spec){.this_update = now - 3600,
                                       .next_update = now + DAY,
                                       .signer = &responder_cert,
                                       .include_signer = true});
    cr_assert_eq(verify_ocsp(der, len, leaf.x509, &status, &reason, &rev), 1);
    cr_assert_eq(status, V_OCSP_CERTSTATUS_GOOD);
    free(der);
    /* naming the issuer, signed by another key: does not verify */
    make_staple(&der, &len, leaf.x509,
                (struct pki_ocsp_spec){.this_update = now - 3600,
                                       .next_update = now + DAY,
                                       .wrong_key = stray.key,
                                       .include_signer = true});
    cr_assert_neq(verify_ocsp(der, len, leaf.x509, &status, &reason, &rev), 1);
    free(der);

    /* CRLs: DER and PEM, right and wrong key, padded */
    const struct pki_crl_entry entries[] = {
        {"0B01", at, CRL_REASON_AFFILIATION_CHANGED},
        {"0B02", at + 5, CRL_REASON_NONE},
    };
    size_t size = write_crl("a.crl", (struct pki_crl_spec){.last_update = now - 3600,
                                                           .next_update = now + DAY,
                                                           .entries = entries,
                                                           .n_entries = 2});
    size_t der_len;
    char *crl_der = slurp(in_dir("a.crl"), &der_len);
    const unsigned char *p = (const unsigned char *)crl_der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der_len);
    cr_assert_not_null(crl);
    cr_assert_eq(der_len, size);
    cr_assert_eq(X509_CRL_verify(crl, inter.key), 1);
    cr_assert_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
    X509_REVOKED *entry = NULL;
    cr_assert_eq(X509_CRL_get0_by_cert(crl, &entry, leaf.x509), 1);
    ASN1_ENUMERATED *code = X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
    cr_assert_not_null(code);
    cr_assert_eq(ASN1_ENUMERATED_get(code), CRL_REASON_AFFILIATION_CHANGED);
    ASN1_ENUMERATED_free(code);
    X509_CRL_free(crl);
    free(crl_der);

    write_crl("w.pem", (struct pki_crl_spec){.wrong_key = stray.key,
                                             .last_update = now - 3600,
                                             .next_update = now + DAY,
                                             .pem = true});
    FILE *fp = fopen(in_dir("w.pem"), "r");
    crl = PEM_read_X509_CRL(fp, NULL, NULL, NULL);
    fclose(fp);
    cr_assert_not_null(crl, "the PEM CRL does not parse");
    cr_assert_neq(X509_CRL_verify(crl, inter.key), 1);
    X509_CRL_free(crl);
    ERR_clear_error();

    size = write_crl("big.crl", (struct pki_crl_spec){.last_update = now - 3600,
                                                      .next_update = now + DAY,
                                                      .min_bytes = 10000});
    cr_assert(size >= 10000 && size < 11000, "padded CRL of %zu bytes", size);
    pki_cert_free(&responder_cert);
    pki_cert_free(&leaf);
}

/* Staple files written for the nginx sites below. */
static struct pki_cert spy_leafs[2];
static unsigned char *spy_staples[2];
static size_t spy_staple_lens[2];

static void prepare_staple_sites(uint16_t http_port)
{
    static const char *const names[] = {"site13", "site12"};
    char spy[96];
    snprintf(spy, sizeof spy, "http://127.0.0.1:%u/ocsp-spy", http_port);
    for (size_t i = 0; i < 2; i++) {
        pki_cert_free(&spy_leafs[i]);
        free(spy_staples[i]);
        issue(&spy_leafs[i], names[i], i == 0 ? "0C01" : "0C02", spy, NULL);
        make_staple(&spy_staples[i], &spy_staple_lens[i], spy_leafs[i].x509,
                    (struct pki_ocsp_spec){.this_update = now - 3600, .next_update = now + DAY});
        X509 *chain[] = {spy_leafs[i].x509, inter.x509};
        cr_assert_eq(pki_write_pem(in_dir("%s.chain.pem", names[i]), chain, 2), 0);
        cr_assert_eq(pki_write_key(in_dir("%s.key", names[i]), spy_leafs[i].key), 0);
        cr_assert_eq(
            pki_write_file(in_dir("%s.staple.der", names[i]), spy_staples[i], spy_staple_lens[i]),
            0);
    }
}

Test(revocation, support_staples_reach_an_openssl_client)
{
    require_tools(true, false);
    struct pki_cert leaf;
    issue(&leaf, "fleet-staple", "0C03", NULL, NULL);
    unsigned char *der;
    size_t len;
    make_staple(&der, &len, leaf.x509,
                (struct pki_ocsp_spec){.this_update = now - 3600, .next_update = now + DAY});
    struct fleet_custom custom[] = {
        stapling("staple13", &leaf, der, len, 0),
        stapling("staple12", &leaf, der, len, TLS1_2_VERSION),
        stapling("none", &leaf, NULL, 0, 0),
    };
    custom[1].n_ports = 2;
    start_fleet(custom, 3);
    pki_cert_free(&leaf); /* the fleet holds its own references */

    size_t got_len;
    int version;
    unsigned char *got = fetch_staple(fport(0, 0), &got_len, &version);
    cr_assert(got != NULL && got_len == len && memcmp(got, der, len) == 0,
              "the fleet's TLS 1.3 staple differs");
    cr_assert_eq(version, TLS1_3_VERSION);
    free(got);
    for (size_t k = 0; k < 2; k++) {
        got = fetch_staple(fport(1, k), &got_len, &version);
        cr_assert(got != NULL && got_len == len && memcmp(got, der, len) == 0,
                  "the fleet's TLS 1.2 staple differs (port %zu)", k);
        cr_assert_eq(version, TLS1_2_VERSION);
        free(got);
    }
    got = fetch_staple(fport(2, 0), &got_len, &version);
    cr_assert_null(got, "a staple from the endpoint without one");
    cr_assert_eq(fleet_custom_status_requests(fleet, 0), 1);
    cr_assert_eq(fleet_custom_status_requests(fleet, 1), 2);
    cr_assert_eq(fleet_custom_status_requests(fleet, 2), 1);
    cr_assert_eq(fleet_custom_accepted(fleet, 1), 2);
    free(der);

    /* nginx's ssl_stapling_file, TLS 1.3 and TLS 1.2-only */
    const struct site sites[] = {{"site13", false, true}, {"site12", true, true}};
    start_web(&(struct web_conf){.sites = sites, .n_sites = 2, .prepare = prepare_staple_sites});
    for (size_t i = 0; i < 2; i++) {
        got = fetch_staple(web.ports[1 + i], &got_len, &version);
        cr_assert(got != NULL && got_len == spy_staple_lens[i] &&
                      memcmp(got, spy_staples[i], got_len) == 0,
                  "nginx's staple of %s differs", sites[i].name);
        cr_assert_eq(version, i == 0 ? TLS1_3_VERSION : TLS1_2_VERSION);
        free(got);
        pki_cert_free(&spy_leafs[i]);
        free(spy_staples[i]);
        spy_staples[i] = NULL;
    }
}

/* ---- a: a real OCSP responder ---- */

Test(revocation, ocsp_responder_good_revoked_unknown)
{
    require_tools(false, true);
    struct pki_cert good, revoked, unknown, expired;
    int64_t revoked_at = now - 2 * DAY - 777, expired_revoked_at = now - 20 * DAY - 31;
    write_index(
        (const struct ocsp_index_entry[]){
            {"oc-good", "0A01", HEALTHY_NOT_AFTER, 0, NULL},
            {"oc-revoked", "0A02", HEALTHY_NOT_AFTER, revoked_at, "keyCompromise"},
            {"oc-expired", "0A04", now - 2 * DAY, expired_revoked_at, "superseded"},
        },
        3); /* 0A03 is not listed: unknown */
    const char *url = start_responder(in_dir("inter.pem"), in_dir("inter.key"));
    issue(&good, "oc-good", "0A01", url, NULL);
    issue(&revoked, "oc-revoked", "0A02", url, NULL);
    issue(&unknown, "oc-unknown", "0A03", url, NULL);
    issue_dated(&expired, "oc-expired", "0A04", url, NULL, now - 100 * DAY, now - 2 * DAY);
    const struct fleet_custom custom[] = {
        /* the same leaf on three ports: still one query */
        {.name = "good", .leaf = &good, .chain = inter_chain, .chain_len = 1, .n_ports = 3},
        {.name = "revoked", .leaf = &revoked, .chain = inter_chain, .chain_len = 1},
        {.name = "unknown",
         .leaf = &unknown,
         .chain = inter_chain,
         .chain_len = 1,
         .tls_max = TLS1_2_VERSION},
        {.name = "expired", .leaf = &expired, .chain = inter_chain, .chain_len = 1},
    };
    start_fleet(custom, 4);
    const uint16_t ports[] = {fport(0, 0), fport(0, 1), fport(0, 2),
                              fport(1, 0), fport(2, 0), fport(3, 0)};

    struct report_scan s;
    int64_t before = (int64_t)time(NULL);
    scan_run(&s, (const char *const[]){"--ocsp", NULL}, ports, 6);
    int64_t after = (int64_t)time(NULL);
    check_layout(&s);
    cr_assert_eq(s.run.status, 2, "exit %d, want 2; stderr: %s", s.run.status, s.run.err);
    for (size_t k = 0; k < 3; k++) {
        check(&s, ports[k], healthy(0, "good", "ocsp", ANY_T, ANY_T));
        /* the responder's own clock: thisUpdate is when it answered, nextUpdate -nmin 60 later */
        int64_t t = jtime(&s, ports[k], "revocation_this_update");
        int64_t n = jtime(&s, ports[k], "revocation_next_update");
        cr_assert(t >= before - 2 && t <= after + 2,
                  "this_update %" PRId64 " not in [%" PRId64 ", %" PRId64 "]", t, before, after);
        cr_assert(n - t >= 3600 && n - t <= 3601, "next_update - this_update = %" PRId64, n - t);
    }
    check(&s, ports[3], revoked_by(0, "ocsp", "keyCompromise", revoked_at, ANY_T, ANY_T));
    check(&s, ports[4], healthy(0, "unknown", "ocsp", ANY_T, ANY_T));
    cr_assert_str_eq(cell(&s, ports[4], "tls_version"), "TLSv1.2");
    /* expired and revoked: stays EXPIRED, the revocation is still reported */
    check(&s, ports[5],
          overruled(revoked_by(0, "ocsp", "superseded", expired_revoked_at, ANY_T, ANY_T),
                    "EXPIRED", "expired"));
    cr_assert_eq(summary(&s, "OK"), 4);
    cr_assert_eq(summary(&s, "CRITICAL"), 1);
    cr_assert_eq(summary(&s, "EXPIRED"), 1);
    /* one query per (issuer, serial), each with a nonce (the responder copies
       it into its response: two "OCSP Nonce" lines per exchange in its log) */
    cr_assert_eq(responder_requests(), 4, "%zu OCSP requests for 4 serials", responder_requests());
    cr_assert_eq(count_lines_with(in_dir("responder.log"), "OCSP Nonce"), 8,
                 "requests without a nonce:\n%s", "see responder.log");
    report_scan_free(&s);

    /* without --ocsp: no query, nothing checked, the revoked leaf is OK */
    scan_run(&s, NULL, ports, 6);
    cr_assert_eq(s.run.status, 2, "exit %d (the expired leaf); stderr: %s", s.run.status,
                 s.run.err);
    for (size_t k = 0; k < 5; k++)
        check(&s, ports[k], healthy(0, "unchecked", NULL, NUL_T, NUL_T));
    cr_assert_eq(responder_requests(), 4, "queried without --ocsp");
    report_scan_free(&s);
    pki_cert_free(&good);
    pki_cert_free(&revoked);
    pki_cert_free(&unknown);
    pki_cert_free(&expired);
}

Test(revocation, ocsp_delegated_responder)
{
    require_tools(false, true);
    struct pki_cert delegated, good, revoked;
    issue_responder(&delegated);
    write_certs("delegated.pem", &delegated.x509, 1);
    cr_assert_eq(pki_write_key(in_dir("delegated.key"), delegated.key), 0);
    int64_t revoked_at = now - 5 * DAY - 4321;
    write_index(
        (const struct ocsp_index_entry[]){
            {"dl-good", "0D01", HEALTHY_NOT_AFTER, 0, NULL},
            {"dl-revoked", "0D02", HEALTHY_NOT_AFTER, revoked_at, "cessationOfOperation"},
        },
        2);
    const char *url = start_responder(in_dir("delegated.pem"), in_dir("delegated.key"));
    issue(&good, "dl-good", "0D01", url, NULL);
    issue(&revoked, "dl-revoked", "0D02", url, NULL);
    const struct fleet_custom custom[] = {
        {.name = "good", .leaf = &good, .chain = inter_chain, .chain_len = 1},
        {.name = "revoked", .leaf = &revoked, .chain = inter_chain, .chain_len = 1},
    };
    start_fleet(custom, 2);
    const uint16_t ports[] = {fport(0, 0), fport(1, 0)};
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ocsp", NULL}, ports, 2);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    check(&s, ports[0], healthy(0, "good", "ocsp", ANY_T, ANY_T));
    check(&s, ports[1], revoked_by(0, "ocsp", "cessationOfOperation", revoked_at, ANY_T, ANY_T));
    cr_assert_eq(responder_requests(), 2);
    report_scan_free(&s);
    pki_cert_free(&good);
    pki_cert_free(&revoked);
    pki_cert_free(&delegated);
}

/* A staple that cannot be trusted does not stop --ocsp from asking the
   responder; the staple's problem stays in the reason. */
Test(revocation, untrusted_staple_then_responder)
{
    require_tools(false, true);
    struct pki_cert good, revoked;
    int64_t revoked_at = now - 11 * DAY - 1111;
    write_index(
        (const struct ocsp_index_entry[]){
            {"us-good", "0F11", HEALTHY_NOT_AFTER, 0, NULL},
            {"us-revoked", "0F12", HEALTHY_NOT_AFTER, revoked_at, "keyCompromise"},
        },
        2);
    const char *url = start_responder(in_dir("inter.pem"), in_dir("inter.key"));
    issue(&good, "us-good", "0F11", url, NULL);
    issue(&revoked, "us-revoked", "0F12", url, NULL);
    unsigned char *der[2];
    size_t len[2];
    /* expired, and wrongly signed (saying good about a revoked leaf) */
    make_staple(
        &der[0], &len[0], good.x509,
        (struct pki_ocsp_spec){.this_update = now - 10 * DAY, .next_update = now - 3 * DAY});
    make_staple(&der[1], &len[1], revoked.x509,
                (struct pki_ocsp_spec){
                    .this_update = now - 3600, .next_update = now + DAY, .wrong_key = stray.key});
    const struct fleet_custom custom[] = {
        stapling(NULL, &good, der[0], len[0], 0),
        stapling(NULL, &revoked, der[1], len[1], TLS1_2_VERSION),
    };
    start_fleet(custom, 2);
    const uint16_t ports[] = {fport(0, 0), fport(1, 0)};
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ocsp", NULL}, ports, 2);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    cr_assert_eq(responder_requests(), 2, "the responder was asked %zu times",
                 responder_requests());
    check(&s, ports[0], bad_staple(healthy(1, "good", "ocsp", ANY_T, ANY_T)));
    /* the responder's revoked beats the staple's (unverifiable) good; the
       reason is the revocation's, exactly */
    check(&s, ports[1], revoked_by(1, "ocsp", "keyCompromise", revoked_at, ANY_T, ANY_T));
    report_scan_free(&s);
    free(der[0]);
    free(der[1]);
    pki_cert_free(&good);
    pki_cert_free(&revoked);
}

/* ---- b: stapling ---- */

/* nginx sites: TLS 1.3 good (signed by the intermediate), TLS 1.2-only
   revoked (a delegated responder's answer, its certificate included), TLS
   1.2-only good, TLS 1.3 revoked without a reason.  Their AIA names the spy
   location, which counts queries. */
#define N_NG 4
static const struct site ng_sites[N_NG] = {
    {"ng-good13", false, true},
    {"ng-revoked12", true, true},
    {"ng-good12", true, true},
    {"ng-revoked13", false, true},
};
static struct pki_cert ng_leafs[N_NG], ng_responder;
static int64_t ng_revoked_at[N_NG];

static void prepare_ng_sites(uint16_t http_port)
{
    char spy[96];
    snprintf(spy, sizeof spy, "http://127.0.0.1:%u/ocsp-spy", http_port);
    for (size_t i = 0; i < N_NG; i++) {
        char serial[8];
        snprintf(serial, sizeof serial, "0E%02zX", i + 1);
        pki_cert_free(&ng_leafs[i]);
        issue(&ng_leafs[i], ng_sites[i].name, serial, spy, NULL);
        bool revoked = i == 1 || i == 3;
        unsigned char *der;
        size_t len;
        make_staple(&der, &len, ng_leafs[i].x509,
                    (struct pki_ocsp_spec){
                        .status = revoked ? PKI_OCSP_REVOKED : PKI_OCSP_GOOD,
                        .revoked_at = ng_revoked_at[i],
                        .reason = i == 1 ? OCSP_REVOKED_STATUS_CESSATIONOFOPERATION
                                         : OCSP_REVOKED_STATUS_NOSTATUS,
                        .this_update = now - 3600 - (int64_t)i,
                        .next_update = now + 3 * DAY + (int64_t)i,
                        .signer = i == 1 || i == 2 ? &ng_responder : &inter,
                        .include_signer = i == 1 || i == 2,
                    });
        X509 *chain[] = {ng_leafs[i].x509, inter.x509};
        cr_assert_eq(pki_write_pem(in_dir("%s.chain.pem", ng_sites[i].name), chain, 2), 0);
        cr_assert_eq(pki_write_key(in_dir("%s.key", ng_sites[i].name), ng_leafs[i].key), 0);
        cr_assert_eq(pki_write_file(in_dir("%s.staple.der", ng_sites[i].name), der, len), 0);
        free(der);
    }
}

Test(revocation, staples_from_nginx_tls12_and_tls13)
{
    require_tools(true, false);
    issue_responder(&ng_responder);
    ng_revoked_at[1] = now - 3 * DAY - 1234;
    ng_revoked_at[3] = now - 7 * DAY - 59;
    start_web(&(struct web_conf){.sites = ng_sites, .n_sites = N_NG, .prepare = prepare_ng_sites});
    uint16_t ports[N_NG];
    for (size_t i = 0; i < N_NG; i++)
        ports[i] = web.ports[1 + i];

    static const char *const no_opts[] = {NULL};
    static const char *const with_ocsp[] = {"--ocsp", NULL};
    const char *const *runs[] = {no_opts, with_ocsp};
    for (size_t run = 0; run < 2; run++) {
        struct report_scan s;
        scan_run(&s, runs[run], ports, N_NG);
        check_layout(&s);
        cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
        for (size_t i = 0; i < N_NG; i++) {
            bool is_revoked = i == 1 || i == 3;
            const char *why = i == 1 ? "cessationOfOperation" : "unspecified";
            int64_t this_update = now - 3600 - (int64_t)i, next_update = now + 3 * DAY + (int64_t)i;
            check(&s, ports[i],
                  is_revoked
                      ? revoked_by(1, "staple", why, ng_revoked_at[i], this_update, next_update)
                      : healthy(1, "good", "staple", this_update, next_update));
            cr_assert_str_eq(cell(&s, ports[i], "tls_version"),
                             ng_sites[i].tls12_only ? "TLSv1.2" : "TLSv1.3", "%s",
                             ng_sites[i].name);
        }
        report_scan_free(&s);
        /* a valid staple answered: --ocsp asks no responder */
        cr_assert_eq(web_hits("/ocsp-spy"), 0, "the responder was asked despite a valid staple");
    }
    for (size_t i = 0; i < N_NG; i++)
        pki_cert_free(&ng_leafs[i]);
    pki_cert_free(&ng_responder);
}

Test(revocation, staples_expired_badly_signed_and_missing)
{
    struct pki_cert expired13, badsig12, badsig13, good12, none;
    uint16_t refused = hold_port(false);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", refused);
    issue(&expired13, "st-expired", "0F01", url, NULL);
    issue(&badsig12, "st-badsig12", "0F02", url, NULL);
    issue(&badsig13, "st-badsig13", "0F03", url, NULL);
    issue(&good12, "st-good12", "0F04", url, NULL);
    issue(&none, "st-none", "0F05", url, NULL);
    unsigned char *der[4];
    size_t len[4];
    /* expired: nextUpdate three days ago */
    make_staple(
        &der[0], &len[0], expired13.x509,
        (struct pki_ocsp_spec){.this_update = now - 10 * DAY, .next_update = now - 3 * DAY});
    /* naming the intermediate, signed by a stray key, once with the
       intermediate's certificate attached and once without */
    make_staple(&der[1], &len[1], badsig12.x509,
                (struct pki_ocsp_spec){.this_update = now - 3600,
                                       .next_update = now + DAY,
                                       .wrong_key = stray.key,
                                       .include_signer = true});
    make_staple(&der[2], &len[2], badsig13.x509,
                (struct pki_ocsp_spec){
                    .this_update = now - 3600, .next_update = now + DAY, .wrong_key = stray.key});
    make_staple(&der[3], &len[3], good12.x509,
                (struct pki_ocsp_spec){.this_update = now - 7200, .next_update = now + 2 * DAY});
    const struct fleet_custom custom[] = {
        stapling("expired13", &expired13, der[0], len[0], 0),
        stapling("badsig12", &badsig12, der[1], len[1], TLS1_2_VERSION),
        stapling("badsig13", &badsig13, der[2], len[2], 0),
        stapling("good12", &good12, der[3], len[3], TLS1_2_VERSION),
        stapling("none", &none, NULL, 0, 0),
    };
    start_fleet(custom, 5);
    const uint16_t ports[] = {fport(0, 0), fport(1, 0), fport(2, 0),
                              fport(3, 0), fport(4, 0), refused};

    struct report_scan s;
    scan_run(&s, NULL, ports, 6);
    check_layout(&s);
    cr_assert_eq(s.run.status, 1, "exit %d, want 1 (WARNING beats ERROR); stderr: %s", s.run.status,
                 s.run.err);
    check(&s, ports[0], bad_staple(failed(1, "error: staple: expired")));
    for (size_t i = 1; i <= 2; i++)
        check(&s, ports[i], bad_staple(failed(1, "error: staple: signature does not verify")));
    check(&s, ports[3], healthy(1, "good", "staple", now - 7200, now + 2 * DAY));
    cr_assert_str_eq(cell(&s, ports[1], "tls_version"), "TLSv1.2");
    cr_assert_str_eq(cell(&s, ports[3], "tls_version"), "TLSv1.2");
    check(&s, ports[4], healthy(0, "unchecked", NULL, NUL_T, NUL_T));
    /* no certificate: every revocation field null */
    check(&s, ports[5],
          (struct want){.status = "ERROR",
                        .stapled = -1,
                        .revocation = NULL,
                        .source = NULL,
                        .revoked_at = NUL_T,
                        .this_update = NUL_T,
                        .next_update = NUL_T});
    /* stapling is always asked for */
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(fleet_custom_status_requests(fleet, i), fleet_custom_accepted(fleet, i),
                     "endpoint %zu: %" PRIu64 " status requests in %" PRIu64 " handshakes", i,
                     fleet_custom_status_requests(fleet, i), fleet_custom_accepted(fleet, i));
    cr_assert_geq(fleet_custom_accepted(fleet, 4), 1);
    report_scan_free(&s);

    /* --require-revocation: anything but good is CRITICAL */
    scan_run(&s, (const char *const[]){"--require-revocation", NULL}, ports, 6);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    check_required(&s, ports[4]);
    cr_assert_str_eq(jstr(&s, ports[4], "reason"), "revocation unchecked");
    for (size_t i = 0; i <= 2; i++) {
        cr_assert_str_eq(jstr(&s, ports[i], "status"), "CRITICAL", "port %u: %s", ports[i],
                         jstr(&s, ports[i], "reason"));
        cr_assert(strstr(jstr(&s, ports[i], "reason"), "revocation error: staple: ") != NULL,
                  "port %u: reason %s", ports[i], jstr(&s, ports[i], "reason"));
    }
    check(&s, ports[3], healthy(1, "good", "staple", now - 7200, now + 2 * DAY));
    cr_assert_str_eq(jstr(&s, ports[5], "status"), "ERROR");
    report_scan_free(&s);
    for (size_t i = 0; i < 4; i++)
        free(der[i]);
    pki_cert_free(&expired13);
    pki_cert_free(&badsig12);
    pki_cert_free(&badsig13);
    pki_cert_free(&good12);
    pki_cert_free(&none);
}

/* ---- c: CRLs over HTTP ---- */

Test(revocation, crls_over_http)
{
    require_tools(true, false);
    uint16_t http = start_web(&(struct web_conf){0});
    uint16_t silent = hold_port(true);
    int64_t at1 = now - 4 * DAY - 3599, at2 = now - DAY - 1;
    int64_t last = now - 2 * 3600 - 17, next = now + 5 * DAY + 3;
    const struct pki_crl_entry listed[] = {
        {"1001", at1, CRL_REASON_AFFILIATION_CHANGED},
        {"1002", at2, CRL_REASON_NONE},
        {"77AA", at2, CRL_REASON_KEY_COMPROMISE},
    };
    const struct pki_crl_entry others[] = {
        {"77AB", at1, CRL_REASON_KEY_COMPROMISE},
        {"77AC", at2, CRL_REASON_SUPERSEDED},
    };
    write_crl("www/listed.crl",
              (struct pki_crl_spec){
                  .last_update = last, .next_update = next, .entries = listed, .n_entries = 3});
    write_crl("www/clean.crl", (struct pki_crl_spec){.last_update = last + 1,
                                                     .next_update = next + 1,
                                                     .entries = others,
                                                     .n_entries = 2,
                                                     .pem = true});
    write_crl("www/expired.crl", (struct pki_crl_spec){.last_update = now - 10 * DAY,
                                                       .next_update = now - 3 * DAY,
                                                       .entries = others,
                                                       .n_entries = 2});
    write_crl("www/wrongkey.crl", (struct pki_crl_spec){.wrong_key = stray.key,
                                                        .last_update = last,
                                                        .next_update = next,
                                                        .entries = others,
                                                        .n_entries = 2});
    size_t big_size = write_crl("www/big.crl", (struct pki_crl_spec){.last_update = last,
                                                                     .next_update = next,
                                                                     .entries = others,
                                                                     .n_entries = 2,
                                                                     .min_bytes = 8192});
    cr_assert_geq(big_size, 8192);

    static const struct {
        const char *name, *serial, *path; /* path NULL: no CRL DP */
    } defs[] = {
        {"crl-listed", "1001", "listed.crl"},
        {"crl-noreason", "1002", "listed.crl"},
        {"crl-clean", "1003", "clean.crl"},
        {"crl-expired", "1004", "expired.crl"},
        {"crl-wrongkey", "1005", "wrongkey.crl"},
        {"crl-big", "1006", "big.crl"},
        {"crl-slow", "1007", NULL},
        {"crl-none", "1008", NULL},
        {"crl-missing", "1009", "missing.crl"},
    };
#define N_CRL (sizeof defs / sizeof defs[0])
    struct pki_cert leafs[N_CRL];
    struct fleet_custom custom[N_CRL];
    for (size_t i = 0; i < N_CRL; i++) {
        char uri[128];
        if (strcmp(defs[i].name, "crl-slow") == 0)
            snprintf(uri, sizeof uri, "http://127.0.0.1:%u/slow.crl", silent);
        else
            snprintf(uri, sizeof uri, "http://127.0.0.1:%u/%s", http,
                     defs[i].path ? defs[i].path : "");
        bool has_dp = defs[i].path != NULL || strcmp(defs[i].name, "crl-slow") == 0;
        issue(&leafs[i], defs[i].name, defs[i].serial, NULL, has_dp ? uri : NULL);
        custom[i] = (struct fleet_custom){
            .name = defs[i].name, .leaf = &leafs[i], .chain = inter_chain, .chain_len = 1};
    }
    start_fleet(custom, N_CRL);
    uint16_t ports[N_CRL];
    for (size_t i = 0; i < N_CRL; i++)
        ports[i] = fport(i, 0);

    /* proxies that refuse: the runner must not let certsweep (libcurl) see them */
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%u/", hold_port(false));
    static const char *const proxy_vars[] = {"http_proxy",  "https_proxy", "HTTP_PROXY",
                                             "HTTPS_PROXY", "ALL_PROXY",   "all_proxy"};
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
        setenv(proxy_vars[i], proxy, 1);
    setenv("no_proxy", "example.invalid", 1);

    struct report_scan s;
    scan_run(&s,
             (const char *const[]){"--crl", "--crl-max-size", "4K", "--fetch-timeout", "1", NULL},
             ports, N_CRL);
    check_layout(&s);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    check(&s, ports[0], revoked_by(0, "crl", "affiliationChanged", at1, last, next));
    check(&s, ports[1], revoked_by(0, "crl", "unspecified", at2, last, next));
    check(&s, ports[2], healthy(0, "good", "crl", last + 1, next + 1));
    static const char *const errors[] = {
        [3] = "error: crl: expired",
        [4] = "error: crl: signature does not verify",
        [5] = "error: crl: larger than",
        [6] = "error: crl: timed out",
        [8] = "error: crl: ",
    };
    for (size_t i = 3; i < N_CRL; i++) {
        if (errors[i] == NULL)
            continue;
        check(&s, ports[i], failed(0, errors[i]));
        cr_assert(strncmp(jstr(&s, ports[i], "revocation"), "error: crl: ", 12) == 0, "%s: %s",
                  defs[i].name, jstr(&s, ports[i], "revocation"));
    }
    check(&s, ports[7], healthy(0, "unchecked", NULL, NUL_T, NUL_T));
    cr_assert_eq(summary(&s, "OK"), N_CRL - 2);
    cr_assert_eq(summary(&s, "CRITICAL"), 2);
    /* two leafs share listed.crl: one fetch */
    cr_assert_eq(web_hits("/listed.crl"), 1, "listed.crl fetched %zu times",
                 web_hits("/listed.crl"));
    report_scan_free(&s);

    /* --require-revocation: the failed checks become CRITICAL, good stays OK */
    scan_run(&s,
             (const char *const[]){"--crl", "--crl-max-size", "4K", "--fetch-timeout", "1",
                                   "--require-revocation", NULL},
             ports, N_CRL);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    cr_assert_str_eq(jstr(&s, ports[0], "status"), "CRITICAL");
    cr_assert_str_eq(jstr(&s, ports[2], "status"), "OK", "%s", jstr(&s, ports[2], "reason"));
    for (size_t i = 3; i < N_CRL; i++)
        check_required(&s, ports[i]);
    cr_assert(strncmp(jstr(&s, ports[3], "reason"), "revocation error: crl: expired", 30) == 0);
    cr_assert_str_eq(jstr(&s, ports[7], "reason"), "revocation unchecked");
    report_scan_free(&s);
    for (size_t i = 0; i < N_CRL; i++)
        pki_cert_free(&leafs[i]);
#undef N_CRL
}

/* ---- d: one CRL fetch for a thousand endpoints ---- */

#define N_VOLUME 1000
#define VOLUME_REVOKED 537

Test(revocation, one_crl_fetch_for_1000_endpoints)
{
    require_tools(true, false);
    uint16_t http = start_web(&(struct web_conf){0});
    char uri[96];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%u/shared.crl", http);
    struct pki_cert *leafs = calloc(N_VOLUME, sizeof *leafs);
    cr_assert_not_null(leafs);
    char revoked_serial[16];
    for (size_t i = 0; i < N_VOLUME; i++) {
        char serial[16], name[32];
        snprintf(serial, sizeof serial, "5E%04zX", i);
        snprintf(name, sizeof name, "vol-%zu", i);
        if (i == VOLUME_REVOKED)
            snprintf(revoked_serial, sizeof revoked_serial, "%s", serial);
        issue(&leafs[i], name, serial, NULL, uri);
    }
    int64_t at = now - 6 * DAY - 606, last = now - 600, next = now + DAY;
    const struct pki_crl_entry entries[] = {
        {revoked_serial, at, CRL_REASON_KEY_COMPROMISE},
        {"7EEE01", at, CRL_REASON_SUPERSEDED},
    };
    write_crl("www/shared.crl",
              (struct pki_crl_spec){
                  .last_update = last, .next_update = next, .entries = entries, .n_entries = 2});
    start_fleet(&(struct fleet_custom){.name = "volume",
                                       .leafs = leafs,
                                       .chain = inter_chain,
                                       .chain_len = 1,
                                       .n_ports = N_VOLUME},
                1);
    for (size_t i = 0; i < N_VOLUME; i++)
        pki_cert_free(&leafs[i]);
    free(leafs);
    uint16_t *ports = calloc(N_VOLUME, sizeof *ports);
    for (size_t i = 0; i < N_VOLUME; i++)
        ports[i] = fport(0, i);

    struct report_scan s;
    scan_run(&s, (const char *const[]){"--crl", "-j", "200", NULL}, ports, N_VOLUME);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    cr_assert_eq(summary(&s, "OK"), N_VOLUME - 1);
    cr_assert_eq(summary(&s, "CRITICAL"), 1);
    for (size_t i = 0; i < N_VOLUME; i++) {
        char serial[16];
        snprintf(serial, sizeof serial, "5E%04zX", i);
        cr_assert_str_eq(jstr(&s, ports[i], "serial"), serial, "port %zu serves leaf %zu", i, i);
        if (i == VOLUME_REVOKED)
            check(&s, ports[i], revoked_by(0, "crl", "keyCompromise", at, last, next));
        else
            check(&s, ports[i], healthy(0, "good", "crl", last, next));
    }
    cr_assert_eq(web_hits("/shared.crl"), 1, "shared.crl fetched %zu times for %d endpoints",
                 web_hits("/shared.crl"), N_VOLUME);
    cr_assert_eq(fleet_custom_accepted(fleet, 0), N_VOLUME);
    report_scan_free(&s);
    free(ports);
}

/* ---- e: OCSP responders that fail ---- */

Test(revocation, ocsp_responder_failures)
{
    require_tools(true, false);
    uint16_t http = start_web(&(struct web_conf){0});
    uint16_t refused = hold_port(false), silent = hold_port(true);
    char urls[4][96];
    snprintf(urls[0], sizeof urls[0], "http://127.0.0.1:%u/", refused);
    snprintf(urls[1], sizeof urls[1], "http://127.0.0.1:%u/garbage", http);
    snprintf(urls[2], sizeof urls[2], "http://127.0.0.1:%u/status500", http);
    snprintf(urls[3], sizeof urls[3], "http://127.0.0.1:%u/", silent);
    static const char *const phrases[] = {
        "error: ocsp: connection refused",
        "error: ocsp: unparsable response",
        "error: ocsp: HTTP 500",
        "error: ocsp: timed out",
    };
    struct pki_cert leafs[4];
    struct fleet_custom custom[4];
    for (size_t i = 0; i < 4; i++) {
        char name[32], serial[8];
        snprintf(name, sizeof name, "ocsp-fail-%zu", i);
        snprintf(serial, sizeof serial, "20%02zX", i);
        issue(&leafs[i], name, serial, urls[i], NULL);
        /* two ports each: both records carry the error */
        custom[i] = (struct fleet_custom){
            .name = "fail", .leaf = &leafs[i], .chain = inter_chain, .chain_len = 1, .n_ports = 2};
    }
    start_fleet(custom, 4);
    uint16_t ports[8];
    for (size_t i = 0; i < 8; i++)
        ports[i] = fport(i / 2, i % 2);

    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ocsp", "--fetch-timeout", "1", NULL}, ports, 8);
    check_layout(&s);
    cr_assert_eq(s.run.status, 0, "exit %d, want 0 (a failed check changes nothing); stderr: %s",
                 s.run.status, s.run.err);
    for (size_t i = 0; i < 8; i++)
        check(&s, ports[i], failed(0, phrases[i / 2]));
    cr_assert_eq(web_hits("/garbage"), 1, "/garbage asked %zu times", web_hits("/garbage"));
    cr_assert_eq(web_hits("/status500"), 1, "/status500 asked %zu times", web_hits("/status500"));
    report_scan_free(&s);

    scan_run(&s,
             (const char *const[]){"--ocsp", "--fetch-timeout", "1", "--require-revocation", NULL},
             ports, 8);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    for (size_t i = 0; i < 8; i++)
        check_required(&s, ports[i]);
    cr_assert_str_eq(jstr(&s, ports[4], "reason"), "revocation error: ocsp: HTTP 500");
    report_scan_free(&s);
    for (size_t i = 0; i < 4; i++)
        pki_cert_free(&leafs[i]);
}

/* ---- fetches in flight to one host ---- */

/* A host that accepts every connection, reads what comes and never answers;
   it counts the connections open at once. */
struct tarpit {
    int fd;
    uint16_t port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int total, max_open;
};

static void *tarpit_main(void *arg)
{
    struct tarpit *t = arg;
    struct pollfd fds[128];
    nfds_t n = 1;
    int open_now = 0;
    fds[0] = (struct pollfd){.fd = t->fd, .events = POLLIN};
    while (!atomic_load(&t->stop)) {
        if (poll(fds, n, 20) <= 0)
            continue;
        /* closes first: a client closes one fetch's connection before it
           opens the next one's */
        for (nfds_t i = n; i-- > 1;) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char sink[4096];
            if (read(fds[i].fd, sink, sizeof sink) > 0)
                continue;
            close(fds[i].fd);
            fds[i] = fds[--n];
            open_now--;
        }
        if (fds[0].revents & POLLIN) {
            int c = accept4(t->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (c >= 0 && n < sizeof fds / sizeof fds[0]) {
                fds[n++] = (struct pollfd){.fd = c, .events = POLLIN};
                atomic_fetch_add(&t->total, 1);
                if (++open_now > atomic_load(&t->max_open))
                    atomic_store(&t->max_open, open_now);
            } else if (c >= 0) {
                close(c);
            }
        }
    }
    for (nfds_t i = 0; i < n; i++)
        close(fds[i].fd);
    return NULL;
}

static void tarpit_start(struct tarpit *t)
{
    memset(t, 0, sizeof *t);
    t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    cr_assert(t->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    cr_assert_eq(bind(t->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(t->fd, 64), 0);
    cr_assert_eq(getsockname(t->fd, (struct sockaddr *)&sa, &len), 0);
    t->port = ntohs(sa.sin_port);
    cr_assert_eq(pthread_create(&t->thread, NULL, tarpit_main, t), 0);
}

static void tarpit_stop(struct tarpit *t)
{
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
}

Test(revocation, fetch_per_host_caps_connections)
{
    enum { N_URLS = 6 };
    struct tarpit pit;
    tarpit_start(&pit);
    struct pki_cert leafs[N_URLS];
    struct fleet_custom custom[N_URLS];
    for (size_t i = 0; i < N_URLS; i++) {
        char name[32], serial[8], uri[96];
        snprintf(name, sizeof name, "pit-%zu", i);
        snprintf(serial, sizeof serial, "40%02zX", i);
        snprintf(uri, sizeof uri, "http://127.0.0.1:%u/%zu.crl", pit.port, i);
        issue(&leafs[i], name, serial, NULL, uri);
        custom[i] = (struct fleet_custom){.leaf = &leafs[i], .chain = inter_chain, .chain_len = 1};
    }
    start_fleet(custom, N_URLS);
    uint16_t ports[N_URLS];
    for (size_t i = 0; i < N_URLS; i++)
        ports[i] = fport(i, 0);

    static const char *const per_host[] = {"2", NULL}; /* NULL: the default, 4 */
    static const int want_max[] = {2, 4};
    for (size_t run = 0; run < 2; run++) {
        atomic_store(&pit.total, 0);
        atomic_store(&pit.max_open, 0);
        const char *opts[] = {"--crl", "--fetch-timeout", "1", NULL, NULL, NULL};
        if (per_host[run] != NULL) {
            opts[3] = "--fetch-per-host";
            opts[4] = per_host[run];
        }
        struct report_scan s;
        scan_run(&s, opts, ports, N_URLS);
        cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s", s.run.status, s.run.err);
        for (size_t i = 0; i < N_URLS; i++)
            check(&s, ports[i], failed(0, "error: crl: timed out"));
        report_scan_free(&s);
        usleep(100 * 1000); /* the last closes reach the tarpit */
        cr_assert_eq(atomic_load(&pit.total), N_URLS, "%d connections for %d CRL URLs",
                     atomic_load(&pit.total), N_URLS);
        cr_assert_eq(atomic_load(&pit.max_open), want_max[run],
                     "%d connections at once to one host, want %d (--fetch-per-host %s)",
                     atomic_load(&pit.max_open), want_max[run],
                     per_host[run] != NULL ? per_host[run] : "default");
    }
    tarpit_stop(&pit);
    for (size_t i = 0; i < N_URLS; i++)
        pki_cert_free(&leafs[i]);
}

/* ---- sources combined ---- */

Test(revocation, ocsp_and_crl_combined)
{
    require_tools(true, true);
    uint16_t http = start_web(&(struct web_conf){0});
    struct pki_cert a, b, c, d;
    int64_t ocsp_revoked = now - 9 * DAY - 99, crl_revoked = now - 3 * DAY - 33;
    int64_t last = now - 1800, next = now + 2 * DAY;
    char crl[96], status500[96];
    snprintf(crl, sizeof crl, "http://127.0.0.1:%u/combo.crl", http);
    snprintf(status500, sizeof status500, "http://127.0.0.1:%u/status500", http);
    write_index(
        (const struct ocsp_index_entry[]){
            {"mix-a", "3001", HEALTHY_NOT_AFTER, 0, NULL},
            {"mix-d", "3004", HEALTHY_NOT_AFTER, ocsp_revoked, "keyCompromise"},
        },
        2); /* 3003 is not listed: unknown */
    const char *url = start_responder(in_dir("inter.pem"), in_dir("inter.key"));
    const struct pki_crl_entry entries[] = {{"3001", crl_revoked, CRL_REASON_SUPERSEDED}};
    write_crl("www/combo.crl",
              (struct pki_crl_spec){
                  .last_update = last, .next_update = next, .entries = entries, .n_entries = 1});
    issue(&a, "mix-a", "3001", url, crl);       /* OCSP good, CRL revoked */
    issue(&b, "mix-b", "3002", status500, crl); /* OCSP HTTP 500, CRL good */
    issue(&c, "mix-c", "3003", url, crl);       /* OCSP unknown, CRL good */
    issue(&d, "mix-d", "3004", url, crl);       /* OCSP revoked, CRL good */
    const struct fleet_custom custom[] = {
        {.leaf = &a, .chain = inter_chain, .chain_len = 1},
        {.leaf = &b, .chain = inter_chain, .chain_len = 1},
        {.leaf = &c, .chain = inter_chain, .chain_len = 1},
        {.leaf = &d, .chain = inter_chain, .chain_len = 1},
    };
    start_fleet(custom, 4);
    const uint16_t ports[] = {fport(0, 0), fport(1, 0), fport(2, 0), fport(3, 0)};
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ocsp", "--crl", NULL}, ports, 4);
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s", s.run.status, s.run.err);
    check(&s, ports[0], revoked_by(0, "crl", "superseded", crl_revoked, last, next));
    for (size_t i = 1; i <= 2; i++)
        check(&s, ports[i], healthy(0, "good", "crl", last, next));
    check(&s, ports[3], revoked_by(0, "ocsp", "keyCompromise", ocsp_revoked, ANY_T, ANY_T));
    cr_assert_eq(web_hits("/combo.crl"), 1);
    cr_assert_eq(responder_requests(), 3);
    report_scan_free(&s);
    pki_cert_free(&a);
    pki_cert_free(&b);
    pki_cert_free(&c);
    pki_cert_free(&d);
}

/* ---- f: answers that can be trusted ---- */

/* A leaf for name.rev.test and 127.0.0.1 issued by issuer, valid as issue()'s. */
static void issue_by(struct pki_cert *out, const char *name, const char *serial,
                     const char *ocsp_uri, const char *crl_uri, const struct pki_cert *issuer,
                     bool ca)
{
    char cn[128], dns[140];
    snprintf(cn, sizeof cn, "%s.rev.test", name);
    snprintf(dns, sizeof dns, "DNS:%s", cn);
    cr_assert_eq(pki_issue(out,
                           &(struct pki_spec){
                               .subject = (const char *const[]){"CN", cn, NULL},
                               .not_before = now - 30 * DAY,
                               .not_after = HEALTHY_NOT_AFTER,
                               .key = PKI_EC256,
                               .sans = (const char *const[]){dns, "IP:127.0.0.1", NULL},
                               .ocsp_uri = ocsp_uri,
                               .crl_uri = crl_uri,
                               .serial_hex = serial,
                               .ca = ca,
                           },
                           issuer),
                 0, "leaf %s", name);
}

static void start_spy(void)
{
    scripted = httpd_start();
    cr_assert_not_null(scripted, "the scripted HTTP server did not start");
}

/* Serves der (len bytes) at path on the scripted server. */
static void spy_serve(const char *path, const void *der, size_t len)
{
    httpd_route(scripted, path, &(struct httpd_answer){.status = 200, .body = der, .len = len});
}

/* Serves a CRL of the intermediate made as spec says at path. */
static void spy_serve_crl(const char *path, struct pki_crl_spec spec)
{
    write_crl("served.crl", spec);
    size_t len = 0;
    char *der = slurp(in_dir("served.crl"), &len);
    cr_assert_not_null(der);
    spy_serve(path, der, len);
    free(der);
}

/* "http://127.0.0.1:<spy>/<path>" (static storage, eight at a time) */
static const char *spy_url(const char *path)
{
    static char bufs[8][128];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "http://127.0.0.1:%u%s", httpd_port(scripted), path);
    return b;
}

/* A leaf from a CA nobody trusts names an internal URL as its OCSP responder
   and CRL distribution point: with --ocsp --crl nothing is fetched, and the
   revocation field says why.  Its staple is checked (it is no fetch) but
   cannot make the untrusted chain's answer good.  A trusted leaf naming the
   same server shows that the server would have heard a request. */
Test(revocation, untrusted_chain_fetches_nothing)
{
    struct pki_cert alien, plain, stapled, control;
    issue_authority(&alien, "certsweep Alien CA", now - 10 * DAY, now + 1000 * DAY, false, NULL);
    start_spy();
    httpd_route_text(scripted, "/internal-admin/delete", 200, "deleted everything\n");
    httpd_route_text(scripted, "/control.crl", 404, "no CRL here\n");
    const char *internal = spy_url("/internal-admin/delete?all=1");
    issue_by(&plain, "alien-plain", "5A01", internal, internal, &alien, false);
    issue_by(&stapled, "alien-stapled", "5A02", internal, internal, &alien, false);
    issue(&control, "alien-control", "5A03", NULL, spy_url("/control.crl"));
    unsigned char *der;
    size_t len;
    cr_assert_eq(pki_ocsp_response(&(struct pki_ocsp_spec){.leaf = stapled.x509,
                                                           .issuer = alien.x509,
                                                           .this_update = now - 3600,
                                                           .next_update = now + DAY,
                                                           .signer = &alien},
                                   &der, &len),
                 0);
    X509 *alien_chain[1] = {alien.x509};
    const struct fleet_custom custom[] = {
        {.name = "plain", .leaf = &plain, .chain = alien_chain, .chain_len = 1},
        {.name = "stapled",
         .leaf = &stapled,
         .chain = alien_chain,
         .chain_len = 1,
         .staple = der,
         .staple_len = len},
        {.name = "control", .leaf = &control, .chain = inter_chain, .chain_len = 1},
    };
    start_fleet(custom, 3);
    const uint16_t ports[] = {fport(0, 0), fport(1, 0), fport(2, 0)};
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ocsp", "--crl", NULL}, ports, 3);
    check_layout(&s);
    cr_assert_eq(httpd_requests(scripted, "/internal-admin/delete"), 0,
                 "certsweep sent %u requests to the URL an untrusted certificate named",
                 httpd_requests(scripted, "/internal-admin/delete"));
    cr_assert_eq(httpd_requests(scripted, NULL), 1, "%u requests in all, want the control's one",
                 httpd_requests(scripted, NULL));
    check(&s, ports[0],
          (struct want){.status = "CRITICAL",
                        .stapled = 0,
                        .revocation = "unchecked: chain not trusted",
                        .revoked_at = NUL_T,
                        .this_update = NUL_T,
                        .next_update = NUL_T});
    cr_assert_str_neq(jstr(&s, ports[0], "verify"), "ok");
    /* the staple's signer leads to no trust anchor either: an error, never good */
    check(&s, ports[1],
          (struct want){.status = "CRITICAL",
                        .stapled = 1,
                        .revocation = "error: staple: responder certificate not trusted",
                        .revoked_at = NUL_T,
                        .this_update = NUL_T,
                        .next_update = NUL_T});
    check(&s, ports[2], failed(0, "error: crl: HTTP 404"));
    report_scan_free(&s);

    /* --require-revocation: the reason says why nothing was asked */
    scan_run(&s, (const char *const[]){"--ocsp", "--crl", "--require-revocation", NULL}, ports, 1);
    cr_assert_str_eq(jstr(&s, ports[0], "revocation"), "unchecked: chain not trusted");
    cr_assert_str_eq(jstr(&s, ports[0], "status"), "CRITICAL");
    cr_assert_eq(httpd_requests(scripted, "/internal-admin/delete"), 0);
    report_scan_free(&s);
    free(der);
    pki_cert_free(&plain);
    pki_cert_free(&stapled);
    pki_cert_free(&control);
    pki_cert_free(&alien);
}

/* "OCSP response without nextUpdate is older than 7 days (thisUpdate <t>)" */
static const char *too_old(const char *source, const char *what, int64_t this_update)
{
    static char buf[192];
    char when[24];
    pki_iso_time(this_update, when);
    snprintf(buf, sizeof buf,
             "error: %s: %s without nextUpdate is older than 7 days (thisUpdate %s)", source, what,
             when);
    return buf;
}

/* OCSP answers without nextUpdate, stapled and fetched: good for 7 days
   after thisUpdate, then an error (a captured answer cannot be replayed
   forever). */
Test(revocation, ocsp_without_next_update_ages_out)
{
    struct pki_cert fresh, stale, fetched;
    start_spy();
    issue(&fresh, "nonext-fresh", "6B01", NULL, NULL);
    issue(&stale, "nonext-stale", "6B02", NULL, NULL);
    issue(&fetched, "nonext-fetched", "6B03", spy_url("/stale"), NULL);
    unsigned char *der[3];
    size_t len[3];
    int64_t fresh_at = now - 6 * DAY - 77, stale_at = now - 7 * DAY - 3600;
    make_staple(&der[0], &len[0], fresh.x509, (struct pki_ocsp_spec){.this_update = fresh_at});
    make_staple(&der[1], &len[1], stale.x509, (struct pki_ocsp_spec){.this_update = stale_at});
    make_staple(&der[2], &len[2], fetched.x509, (struct pki_ocsp_spec){.this_update = stale_at});
    spy_serve("/stale", der[2], len[2]);
    const struct fleet_custom custom[] = {
        stapling("fresh", &fresh, der[0], len[0], 0),
        stapling("stale", &stale, der[1], len[1], TLS1_2_VERSION),
        stapling("fetched", &fetched, NULL, 0, 0),
    };
    start_fleet(custom, 3);
    const uint16_t ports[] = {fport(0, 0), fport(1, 0), fport(2, 0)};
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ocsp", NULL}, ports, 3);
    check(&s, ports[0], healthy(1, "good", "staple", fresh_at, NUL_T));
    check(&s, ports[1],
          bad_staple(healthy(1, too_old("staple", "OCSP response", stale_at), NULL, NUL_T, NUL_T)));
    check(&s, ports[2], healthy(0, too_old("ocsp", "OCSP response", stale_at), NULL, NUL_T, NUL_T));
    cr_assert_eq(httpd_requests(scripted, "/stale"), 1);
    report_scan_free(&s);
    for (size_t i = 0; i < 3; i++)
        free(der[i]);
    pki_cert_free(&fresh);
    pki_cert_free(&stale);
    pki_cert_free(&fetched);
}

/* OCSP answers served as files: one signed by a rogue responder (its
   self-signed certificate included), one by a responder certificate the
   root (not the issuer) gave id-kp-OCSPSigning, both saying revoked about
   good leafs; one that echoes a nonce certsweep did not send.  Each is an
   error, never revoked or good; the same rogue answers stapled too. */
Test(revocation, ocsp_rogue_signers_and_nonce)
{
    struct pki_cert rogue, stepchild, l_rogue, l_step, l_nonce, s_rogue, s_step;
    issue_authority(&rogue, "certsweep Rogue Responder", now - DAY, now + 100 * DAY, true, NULL);
    issue_authority(&stepchild, "certsweep Root's Responder", now - DAY, now + 100 * DAY, true,
                    &root);
    start_spy();
    issue(&l_rogue, "rogue-fetched", "7C01", spy_url("/rogue"), NULL);
    issue(&l_step, "step-fetched", "7C02", spy_url("/step"), NULL);
    issue(&l_nonce, "nonce-fetched", "7C03", spy_url("/nonce"), NULL);
    issue(&s_rogue, "rogue-stapled", "7C04", NULL, NULL);
    issue(&s_step, "step-stapled", "7C05", NULL, NULL);
    static const unsigned char nonce[16] = "not your nonce!";
    struct {
        struct pki_cert *leaf, *signer;
        const char *path;
        bool nonce;
        unsigned char *der;
        size_t len;
    } answers[] = {
        {&l_rogue, &rogue, "/rogue", false, NULL, 0},
        {&l_step, &stepchild, "/step", false, NULL, 0},
        {&l_nonce, &inter, "/nonce", true, NULL, 0},
        {&s_rogue, &rogue, NULL, false, NULL, 0},
        {&s_step, &stepchild, NULL, false, NULL, 0},
    };
    for (size_t i = 0; i < 5; i++) {
        bool revoked = !answers[i].nonce;
        make_staple(&answers[i].der, &answers[i].len, answers[i].leaf->x509,
                    (struct pki_ocsp_spec){.status = revoked ? PKI_OCSP_REVOKED : PKI_OCSP_GOOD,
                                           .revoked_at = now - DAY,
                                           .reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                                           .this_update = now - 3600,
                                           .next_update = now + DAY,
                                           .signer = answers[i].signer,
                                           .include_signer = true,
                                           .nonce = answers[i].nonce ? nonce : NULL,
                                           .nonce_len = sizeof nonce});
        if (answers[i].path != NULL)
            spy_serve(answers[i].path, answers[i].der, answers[i].len);
    }
    const struct fleet_custom custom[] = {
        {.leaf = &l_rogue, .chain = inter_chain, .chain_len = 1},
        {.leaf = &l_step, .chain = inter_chain, .chain_len = 1},
        {.leaf = &l_nonce, .chain = inter_chain, .chain_len = 1},
        stapling(NULL, &s_rogue, answers[3].der, answers[3].len, 0),
        stapling(NULL, &s_step, answers[4].der, answers[4].len, TLS1_2_VERSION),
    };
    start_fleet(custom, 5);
    const uint16_t ports[] = {fport(0, 0), fport(1, 0), fport(2, 0), fport(3, 0), fport(4, 0)};
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--ocsp", NULL}, ports, 5);
    check(&s, ports[0], failed(0, "error: ocsp: responder certificate not trusted"));
    check(&s, ports[1], failed(0, "error: ocsp: responder not authorised by the issuer"));
    check(&s, ports[2], failed(0, "error: ocsp: nonce mismatch"));
    check(&s, ports[3], bad_staple(failed(1, "error: staple: responder certificate not trusted")));
    check(&s, ports[4],
          bad_staple(failed(1, "error: staple: responder not authorised by the issuer")));
    cr_assert_eq(httpd_requests(scripted, NULL), 3, "%u OCSP requests, want 3",
                 httpd_requests(scripted, NULL));
    report_scan_free(&s);
    for (size_t i = 0; i < 5; i++) {
        free(answers[i].der);
        pki_cert_free(answers[i].leaf);
    }
    pki_cert_free(&rogue);
    pki_cert_free(&stepchild);
}

/* ---- CRLs that are no answer ---- */

/* A CRL edit (pki_crl_spec.edit): adds what its struct crl_edit says. */
struct crl_edit {
    bool delta;               /* deltaCRLIndicator */
    const char *critical_oid; /* an unknown critical CRL extension */
    const char *entry_oid;    /* an unknown critical extension on the first entry */
    bool idp;                 /* an issuingDistributionPoint, with: */
    bool only_user, only_ca, only_attr, indirect, some_reasons;
    const char *idp_uri; /* its fullName, or NULL */
    const char *issuer;  /* another issuer name (CN), or NULL */
};

static X509_EXTENSION *unknown_ext(const char *oid)
{
    static const unsigned char null_der[] = {0x05, 0x00};
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ex = NULL;
    if (obj != NULL && v != NULL && ASN1_OCTET_STRING_set(v, null_der, 2))
        ex = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, v);
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(v);
    return ex;
}

static int crl_edit(X509_CRL *crl, void *arg)
{
    const struct crl_edit *e = arg;
    int ok = 1;
    if (e->delta) {
        ASN1_INTEGER *base = ASN1_INTEGER_new();
        ok = base != NULL && ASN1_INTEGER_set(base, 1) &&
             X509_CRL_add1_ext_i2d(crl, NID_delta_crl, base, 1, X509V3_ADD_DEFAULT);
        ASN1_INTEGER_free(base);
    }
    if (ok && e->critical_oid != NULL) {
        X509_EXTENSION *ex = unknown_ext(e->critical_oid);
        ok = ex != NULL && X509_CRL_add_ext(crl, ex, -1);
        X509_EXTENSION_free(ex);
    }
    if (ok && e->entry_oid != NULL) {
        X509_EXTENSION *ex = unknown_ext(e->entry_oid);
        X509_REVOKED *rev = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0);
        ok = ex != NULL && rev != NULL && X509_REVOKED_add_ext(rev, ex, -1);
        X509_EXTENSION_free(ex);
    }
    if (ok && e->idp) {
        ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
        ok = idp != NULL;
        if (ok) {
            idp->onlyuser = e->only_user ? 0xFF : 0;
            idp->onlyCA = e->only_ca ? 0xFF : 0;
            idp->onlyattr = e->only_attr ? 0xFF : 0;
            idp->indirectCRL = e->indirect ? 0xFF : 0;
        }
        if (ok && e->some_reasons)
            ok = (idp->onlysomereasons = ASN1_BIT_STRING_new()) != NULL &&
                 ASN1_BIT_STRING_set_bit(idp->onlysomereasons, 1, 1);
        if (ok && e->idp_uri != NULL) {
            GENERAL_NAME *gn = GENERAL_NAME_new();
            ASN1_IA5STRING *uri = ASN1_IA5STRING_new();
            ok = (idp->distpoint = DIST_POINT_NAME_new()) != NULL && gn != NULL && uri != NULL &&
                 ASN1_STRING_set(uri, e->idp_uri, -1) &&
                 (idp->distpoint->name.fullname = GENERAL_NAMES_new()) != NULL;
            if (ok) {
                idp->distpoint->type = 0;
                GENERAL_NAME_set0_value(gn, GEN_URI, uri);
                uri = NULL;
                ok = sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn) > 0;
                if (ok)
                    gn = NULL;
            }
            ASN1_IA5STRING_free(uri);
            GENERAL_NAME_free(gn);
        }
        ok = ok &&
             X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, X509V3_ADD_DEFAULT);
        ISSUING_DIST_POINT_free(idp);
    }
    if (ok && e->issuer != NULL) {
        X509_NAME *n = X509_NAME_new();
        ok = n != NULL &&
             X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)e->issuer,
                                        -1, -1, 0) &&
             X509_CRL_set_issuer_name(crl, n);
        X509_NAME_free(n);
    }
    return ok ? 0 : -1;
}

/* A twin of the intermediate: its key, another name, also certified by the
   root (so its leafs verify). */
static void make_twin(struct pki_cert *twin, const char *cn)
{
    X509 *x = X509_dup(inter.x509);
    X509_NAME *n = X509_NAME_new();
    cr_assert(x != NULL && n != NULL);
    cr_assert(
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0));
    cr_assert(X509_set_subject_name(x, n));
    cr_assert(X509_sign(x, root.key, EVP_sha256()) > 0);
    X509_NAME_free(n);
    cr_assert(EVP_PKEY_up_ref(inter.key));
    twin->x509 = x;
    twin->key = inter.key;
}

/* A CRL is about the certificates of the CA it names: one signed with the
   right key but naming another CA is an error, and so is the intermediate's
   CRL for a leaf of a CA that shares the intermediate's key under another
   name, whether that leaf is checked first (the CRL is parsed) or after a
   leaf of the intermediate (the CRL is indexed): one run each way, one
   endpoint at a time. */
Test(revocation, crl_issuer_name)
{
    struct pki_cert twin, own, twins, renamed;
    make_twin(&twin, "certsweep revocation Twin");
    start_spy();
    int64_t at = now - 2 * DAY - 5, last = now - 3600, next = now + DAY;
    const struct pki_crl_entry entries[] = {
        {"8D01", at, CRL_REASON_KEY_COMPROMISE},
        {"8D02", at, CRL_REASON_KEY_COMPROMISE},
        {"8D03", at, CRL_REASON_KEY_COMPROMISE},
    };
    spy_serve_crl("/shared.crl", (struct pki_crl_spec){.last_update = last,
                                                       .next_update = next,
                                                       .entries = entries,
                                                       .n_entries = 3});
    spy_serve_crl("/renamed.crl",
                  (struct pki_crl_spec){.last_update = last,
                                        .next_update = next,
                                        .entries = entries,
                                        .n_entries = 3,
                                        .edit = crl_edit,
                                        .edit_arg = &(struct crl_edit){.issuer = "someone else"}});
    issue(&own, "name-own", "8D01", NULL, spy_url("/shared.crl"));
    issue_by(&twins, "name-twin", "8D02", NULL, spy_url("/shared.crl"), &twin, false);
    issue(&renamed, "name-renamed", "8D03", NULL, spy_url("/renamed.crl"));
    X509 *twin_chain[1] = {twin.x509};
    const struct fleet_custom custom[] = {
        {.leaf = &own, .chain = inter_chain, .chain_len = 1},
        {.leaf = &twins, .chain = twin_chain, .chain_len = 1},
        {.leaf = &renamed, .chain = inter_chain, .chain_len = 1},
    };
    start_fleet(custom, 3);
    const uint16_t orders[2][3] = {{fport(0, 0), fport(1, 0), fport(2, 0)},
                                   {fport(1, 0), fport(0, 0), fport(2, 0)}};
    for (size_t k = 0; k < 2; k++) {
        struct report_scan s;
        scan_run(&s, (const char *const[]){"--crl", "-j", "1", NULL}, orders[k], 3);
        check(&s, fport(0, 0), revoked_by(0, "crl", "keyCompromise", at, last, next));
        check(&s, fport(1, 0), failed(0, "error: crl: issued by another CA than the certificate"));
        check(&s, fport(2, 0), failed(0, "error: crl: issued by another CA than the certificate"));
        cr_assert_str_eq(jstr(&s, fport(1, 0), "verify"), "ok");
        report_scan_free(&s);
    }
    pki_cert_free(&own);
    pki_cert_free(&twins);
    pki_cert_free(&renamed);
    pki_cert_free(&twin);
}

/* CRLs that list the leaf but are no answer for it: each an error naming
   why, never revoked; the same CRL in scope is an answer. */
Test(revocation, crl_scope)
{
    start_spy();
    int64_t at = now - 3 * DAY - 9, last = now - 3600, next = now + DAY;
    int64_t stale_at = now - 7 * DAY - 3600;
    static const struct {
        const char *name, *serial, *want; /* want NULL: revoked */
        struct crl_edit edit;
        bool no_next_update, ca_leaf, own_idp;
    } defs[] = {
        {"delta", "9E01", "error: crl: delta CRL (not supported)", .edit = {.delta = true}},
        {"critical", "9E02", "error: crl: unknown critical extension 1.3.6.1.4.1.55555.1",
         .edit = {.critical_oid = "1.3.6.1.4.1.55555.1"}},
        {"entrycrit", "9E03", "error: crl: unknown critical entry extension 1.3.6.1.4.1.55555.2",
         .edit = {.entry_oid = "1.3.6.1.4.1.55555.2"}},
        {"onlyca", "9E04", "error: crl: out of scope (onlyContainsCACerts)",
         .edit = {.idp = true, .only_ca = true}},
        {"onlyuser", "9E05", "error: crl: out of scope (onlyContainsUserCerts)",
         .edit = {.idp = true, .only_user = true}, .ca_leaf = true},
        {"reasons", "9E06", "error: crl: out of scope (onlySomeReasons)",
         .edit = {.idp = true, .some_reasons = true}},
        {"attr", "9E07", "error: crl: out of scope (onlyContainsAttributeCerts)",
         .edit = {.idp = true, .only_attr = true}},
        {"indirect", "9E08", "error: crl: indirect CRL (not supported)",
         .edit = {.idp = true, .indirect = true}},
        {"otherdp", "9E09",
         "error: crl: out of scope (issuingDistributionPoint names another distribution point)",
         .edit = {.idp = true, .idp_uri = "http://127.0.0.1/elsewhere.crl"}},
        {"certissuer", "9E0C", "error: crl: unsupported critical entry extension certificateIssuer",
         .edit = {.entry_oid = "2.5.29.29"}},
        {"nonext", "9E0A", NULL, .no_next_update = true},
        {"owndp", "9E0B", NULL, .edit = {.idp = true, .only_user = true}, .own_idp = true},
    };
#define N_SCOPE (sizeof defs / sizeof defs[0])
    struct pki_cert leafs[N_SCOPE];
    struct fleet_custom custom[N_SCOPE];
    for (size_t i = 0; i < N_SCOPE; i++) {
        char path[64];
        snprintf(path, sizeof path, "/%s.crl", defs[i].name);
        char url[128];
        snprintf(url, sizeof url, "%s", spy_url(path));
        struct crl_edit edit = defs[i].edit;
        if (defs[i].own_idp)
            edit.idp_uri = url;
        const struct pki_crl_entry entry = {defs[i].serial, at, CRL_REASON_KEY_COMPROMISE};
        spy_serve_crl(path,
                      (struct pki_crl_spec){.last_update = defs[i].no_next_update ? stale_at : last,
                                            .next_update = defs[i].no_next_update ? 0 : next,
                                            .entries = &entry,
                                            .n_entries = 1,
                                            .edit = crl_edit,
                                            .edit_arg = &edit});
        issue_by(&leafs[i], defs[i].name, defs[i].serial, NULL, url, &inter, defs[i].ca_leaf);
        custom[i] = (struct fleet_custom){
            .name = defs[i].name, .leaf = &leafs[i], .chain = inter_chain, .chain_len = 1};
    }
    start_fleet(custom, N_SCOPE);
    uint16_t ports[N_SCOPE];
    for (size_t i = 0; i < N_SCOPE; i++)
        ports[i] = fport(i, 0);
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--crl", NULL}, ports, N_SCOPE);
    for (size_t i = 0; i < N_SCOPE; i++) {
        const char *v = jstr(&s, ports[i], "revocation");
        cr_assert_not_null(v, "%s: revocation null", defs[i].name);
        if (defs[i].ca_leaf) {
            /* a CA certificate as a server's: it does not verify for TLS, yet
               it leads to the trust anchor, so its CRL is asked */
            cr_assert_str_eq(v, defs[i].want, "%s\n%s", defs[i].name, dump(&s, ports[i]));
        } else if (defs[i].no_next_update) {
            check(&s, ports[i], failed(0, too_old("crl", "CRL", stale_at)));
        } else if (defs[i].want != NULL) {
            check(&s, ports[i], failed(0, defs[i].want));
        } else {
            check(&s, ports[i], revoked_by(0, "crl", "keyCompromise", at, last, next));
        }
        cr_assert_eq(httpd_requests(scripted, NULL) >= i + 1, true);
    }
    report_scan_free(&s);
    for (size_t i = 0; i < N_SCOPE; i++)
        pki_cert_free(&leafs[i]);
#undef N_SCOPE
}
