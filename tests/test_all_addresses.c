/* Every address behind a name: dnsmasq on 127.0.0.1 answers several A
 * records and an AAAA record for one name, a real nginx serves a different
 * certificate on each of those addresses (127.0.0.1, .2, .3 and ::1, one
 * port), and the certsweep binary resolves through dnsmasq with
 * --dns-server, as a user would.  No name reaches the system's resolver. */
#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/pem.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

#define DNSMASQ "/usr/sbin/dnsmasq"
#define DAY 86400
#define N_ENDPOINTS 4
#define N_BIG 70 /* addresses of big.test: more than --all-addresses keeps */

static char *dir;
static struct pki_cert root, leaf[N_ENDPOINTS];
static char sha[N_ENDPOINTS][65];
static uint16_t port, dns_port;
static struct nginx web = {.pid = -1};
static pid_t dnsmasq_pid = -1;
static char *root_pem;

/* Where each endpoint listens, and what its certificate says. */
static const struct {
    const char *addr, *listen;
    int days; /* left on the certificate */
    const char *status;
} endpoint[N_ENDPOINTS] = {
    {"127.0.0.1", "127.0.0.1", 200, "OK"},
    {"127.0.0.2", "127.0.0.2", 20, "WARNING"}, /* the stale backend */
    {"127.0.0.3", "127.0.0.3", 100, "OK"},
    {"::1", "[::1]", -3, "EXPIRED"}, /* the IPv6 address nobody updated */
};

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static void make_pki(void)
{
    int64_t now = (int64_t)time(NULL);
    cr_assert_eq(
        pki_issue(&root,
                  &(struct pki_spec){
                      .subject = (const char *const[]){"CN", "certsweep all-addresses Root", NULL},
                      .not_before = now - 400 * DAY,
                      .not_after = now + 3650 * DAY,
                      .key = PKI_EC256,
                      .ca = true,
                  },
                  NULL),
        0);
    root_pem = path_in("root.pem");
    cr_assert_eq(pki_write_pem(root_pem, &root.x509, 1), 0);
    for (size_t i = 0; i < N_ENDPOINTS; i++) {
        cr_assert_eq(
            pki_issue(&leaf[i],
                      &(struct pki_spec){
                          .subject = (const char *const[]){"CN", "multi.test", NULL},
                          .not_before = now - 300 * DAY,
                          .not_after = now + endpoint[i].days * DAY + DAY / 2,
                          .key = PKI_EC256,
                          .sans = (const char *const[]){"DNS:multi.test", "DNS:gap.test", NULL},
                      },
                      &root),
            0);
        pki_sha256_hex(leaf[i].x509, sha[i]);
        char name[32];
        snprintf(name, sizeof(name), "leaf%zu.pem", i);
        char *p = path_in(name);
        cr_assert_eq(pki_write_pem(p, &leaf[i].x509, 1), 0);
        free(p);
        snprintf(name, sizeof(name), "leaf%zu.key", i);
        p = path_in(name);
        cr_assert_eq(pki_write_key(p, leaf[i].key), 0);
        free(p);
    }
}

/* One server block per address, all on ports[0]. */
static void nginx_servers(FILE *f, const char *d, const uint16_t *ports, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < N_ENDPOINTS; i++)
        fprintf(f,
                "    server {\n"
                "        listen %s:%u ssl;\n"
                "        ssl_certificate %s/leaf%zu.pem;\n"
                "        ssl_certificate_key %s/leaf%zu.key;\n"
                "        location / { return 200 \"%zu\\n\"; }\n"
                "    }\n",
                endpoint[i].listen, ports[0], d, i, d, i, i);
}

/* dnsmasq on a free port of 127.0.0.1, answering only for the test's names
   (every other name NXDOMAIN, nothing forwarded). */
static void start_dnsmasq(void)
{
    struct passwd *pw = getpwuid(getuid());
    cr_assert_not_null(pw);
    static char opts[8 + N_BIG][96];
    const char *argv[32 + N_BIG];
    for (int tries = 0; tries < 3 && dnsmasq_pid < 0; tries++) {
        dns_port = free_port();
        cr_assert(dns_port);
        size_t n = 0, o = 0;
        argv[n++] = DNSMASQ;
        argv[n++] = "--keep-in-foreground";
        argv[n++] = "--conf-file=/dev/null";
        argv[n++] = "--listen-address=127.0.0.1";
        argv[n++] = "--bind-interfaces";
        argv[n++] = "--no-resolv";
        argv[n++] = "--no-hosts";
        argv[n++] = "--local=/#/";
        /* multi.test: three A and one AAAA, each a different certificate;
           gap.test: an A where nothing listens, then the AAAA */
        argv[n++] = "--host-record=multi.test,127.0.0.1,::1";
        argv[n++] = "--host-record=multi.test,127.0.0.2";
        argv[n++] = "--host-record=multi.test,127.0.0.3";
        argv[n++] = "--host-record=gap.test,127.0.0.4,::1";
        argv[n++] = "--host-record=v4only.test,127.0.0.2";
        for (unsigned i = 0; i < N_BIG; i++) {
            snprintf(opts[o], sizeof(opts[o]), "--host-record=big.test,127.0.2.%u", i + 1);
            argv[n++] = opts[o++];
        }
        snprintf(opts[o], sizeof(opts[o]), "--port=%u", dns_port);
        argv[n++] = opts[o++];
        snprintf(opts[o], sizeof(opts[o]), "--user=%s", pw->pw_name);
        argv[n++] = opts[o++];
        argv[n] = NULL;
        char *log = path_in("dnsmasq.out");
        dnsmasq_pid = spawn_server(argv, log);
        free(log);
        cr_assert(dnsmasq_pid > 0);
        if (wait_server(&dnsmasq_pid, dns_port, 5000) < 0)
            dnsmasq_pid = -1;
    }
    char *log = path_in("dnsmasq.out");
    char *text = slurp(log, NULL);
    cr_assert(dnsmasq_pid > 0, "dnsmasq did not start: %s", text ? text : "");
    free(text);
    free(log);
}

static void setup(void)
{
    cr_assert(access(DNSMASQ, X_OK) == 0, DNSMASQ " is not installed (apt-get install dnsmasq)");
    cr_assert(access(NGINX_BINARY, X_OK) == 0,
              NGINX_BINARY " is not installed (apt-get install nginx)");
    dir = temp_dir();
    cr_assert_not_null(dir);
    make_pki();
    char err[8192];
    cr_assert_eq(nginx_start(&web, dir, 1, nginx_servers, NULL, err, sizeof err), 0, "%s", err);
    port = web.ports[0];
    start_dnsmasq();
}

static void teardown(void)
{
    stop_child(&dnsmasq_pid);
    nginx_stop(&web);
    for (size_t i = 0; i < N_ENDPOINTS; i++)
        pki_cert_free(&leaf[i]);
    pki_cert_free(&root);
    free(root_pem);
    root_pem = NULL;
    if (dir)
        remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(all, .init = setup, .fini = teardown, .timeout = 120);

/* certsweep --dns-server ... --ca-file root -F json -t 5 ARGS...: the
   results array (decref the document). */
static json_t *scan(const char *const *args_in, json_t **doc, struct run_result *r)
{
    char dns[32];
    snprintf(dns, sizeof(dns), "127.0.0.1:%u", dns_port);
    const char *args[32] = {"--dns-server", dns, "--ca-file", root_pem, "-F", "json", "-t", "5"};
    size_t n = 8;
    for (size_t i = 0; args_in[i]; i++)
        args[n++] = args_in[i];
    args[n] = NULL;
    cr_assert_eq(run_binary(CS_BINARY, args, NULL, 120, r), 0);
    cr_assert_neq(r->status, 137, "certsweep hung: %s", r->err);
    *doc = json_loads(r->out, 0, NULL);
    cr_assert_not_null(*doc, "not JSON (exit %d): %s\n%s", r->status, r->out, r->err);
    return json_object_get(*doc, "results");
}

static const char *field(json_t *rec, const char *name)
{
    const char *v = json_string_value(json_object_get(rec, name));
    return v ? v : "";
}

/* Records of host, and the one at addr (NULL if none). */
static size_t records_of(json_t *results, const char *host, const char *addr, json_t **at)
{
    size_t n = 0, i;
    json_t *rec;
    *at = NULL;
    json_array_foreach(results, i, rec)
    {
        if (strcmp(field(rec, "host"), host) != 0)
            continue;
        n++;
        if (addr && strcmp(field(rec, "address"), addr) == 0) {
            cr_assert_null(*at, "two records of %s at %s", host, addr);
            *at = rec;
        }
    }
    return n;
}

/* The record of host at endpoint i: that endpoint's certificate and status. */
static void expect_endpoint(json_t *results, const char *host, size_t i)
{
    json_t *rec;
    records_of(results, host, endpoint[i].addr, &rec);
    cr_assert_not_null(rec, "no record of %s at %s", host, endpoint[i].addr);
    cr_assert_eq(json_integer_value(json_object_get(rec, "port")), port);
    cr_assert_str_eq(field(rec, "sha256"), sha[i], "%s at %s: another certificate", host,
                     endpoint[i].addr);
    cr_assert_str_eq(field(rec, "status"), endpoint[i].status, "%s at %s: %s", host,
                     endpoint[i].addr, field(rec, "reason"));
    cr_assert_str_eq(field(rec, "sni"), host);
}

static char target[N_ENDPOINTS][64];

static const char *name_port(size_t k, const char *name)
{
    snprintf(target[k], sizeof(target[k]), "%s:%u", name, port);
    return target[k];
}

Test(all, one_record_per_address)
{
    struct run_result r;
    json_t *doc;
    /* the same target twice is still one record per address */
    json_t *res = scan((const char *[]){"--all-addresses", name_port(0, "multi.test"),
                                        name_port(1, "multi.test"), name_port(2, "gap.test"), NULL},
                       &doc, &r);
    json_t *rec;
    cr_assert_eq(records_of(res, "multi.test", NULL, &rec), N_ENDPOINTS, "%s", r.out);
    for (size_t i = 0; i < N_ENDPOINTS; i++)
        expect_endpoint(res, "multi.test", i);
    /* gap.test: the address where nothing listens is a record too */
    cr_assert_eq(records_of(res, "gap.test", NULL, &rec), 2, "%s", r.out);
    expect_endpoint(res, "gap.test", 3);
    records_of(res, "gap.test", "127.0.0.4", &rec);
    cr_assert_not_null(rec, "%s", r.out);
    cr_assert_str_eq(field(rec, "reason"), "connect: connection refused");
    cr_assert_eq(json_array_size(res), 6, "%s", r.out);
    cr_assert_eq(r.status, 2, "EXPIRED on ::1: exit %d", r.status);
    json_decref(doc);
    run_result_free(&r);
}

Test(all, by_default_the_first_address_that_connects)
{
    struct run_result r;
    json_t *doc;
    json_t *res = scan((const char *[]){name_port(0, "multi.test"), name_port(1, "gap.test"), NULL},
                       &doc, &r);
    cr_assert_eq(json_array_size(res), 2, "%s", r.out);
    /* IPv4 first, in the order the server gave them: one of the three */
    json_t *rec = json_find_record(res, "multi.test", port);
    cr_assert_not_null(rec);
    size_t i = 0;
    while (i < 3 && strcmp(field(rec, "address"), endpoint[i].addr) != 0)
        i++;
    cr_assert(i < 3, "multi.test probed at %s", field(rec, "address"));
    expect_endpoint(res, "multi.test", i);
    /* 127.0.0.4 refuses: the next address, ::1, answers for gap.test */
    expect_endpoint(res, "gap.test", 3);
    json_decref(doc);
    run_result_free(&r);
}

Test(all, ipv4_only_and_ipv6_only)
{
    struct run_result r;
    json_t *doc, *rec;
    json_t *res = scan((const char *[]){"-4", "--all-addresses", name_port(0, "multi.test"),
                                        name_port(1, "gap.test"), NULL},
                       &doc, &r);
    cr_assert_eq(records_of(res, "multi.test", NULL, &rec), 3, "%s", r.out);
    for (size_t i = 0; i < 3; i++)
        expect_endpoint(res, "multi.test", i);
    cr_assert_eq(records_of(res, "gap.test", NULL, &rec), 1, "%s", r.out);
    records_of(res, "gap.test", "127.0.0.4", &rec);
    cr_assert_not_null(rec, "%s", r.out);
    cr_assert_str_eq(field(rec, "reason"), "connect: connection refused", "-4 tried ::1");
    json_decref(doc);
    run_result_free(&r);

    res = scan((const char *[]){"-6", "--all-addresses", name_port(0, "multi.test"),
                                name_port(1, "v4only.test"), NULL},
               &doc, &r);
    cr_assert_eq(records_of(res, "multi.test", NULL, &rec), 1, "%s", r.out);
    expect_endpoint(res, "multi.test", 3);
    rec = json_find_record(res, "v4only.test", port);
    cr_assert_not_null(rec, "%s", r.out);
    cr_assert_str_eq(field(rec, "reason"), "dns: no IPv6 address (-6)");
    json_decref(doc);
    run_result_free(&r);

    /* without --all-addresses, -6 still takes the AAAA only */
    res = scan((const char *[]){"-6", name_port(0, "gap.test"), NULL}, &doc, &r);
    cr_assert_eq(json_array_size(res), 1, "%s", r.out);
    expect_endpoint(res, "gap.test", 3);
    json_decref(doc);
    run_result_free(&r);
}

Test(all, at_most_64_addresses_of_a_name)
{
    struct run_result r;
    json_t *doc, *rec;
    json_t *res =
        scan((const char *[]){"--all-addresses", name_port(0, "big.test"), NULL}, &doc, &r);
    cr_assert_eq(records_of(res, "big.test", NULL, &rec), 64, "%zu records: %s",
                 json_array_size(res), r.err);
    json_t *one;
    size_t i;
    json_array_foreach(res, i, one)
    {
        cr_assert_str_eq(field(one, "reason"), "connect: connection refused", "%s",
                         field(one, "address"));
        cr_assert(strncmp(field(one, "address"), "127.0.2.", 8) == 0, "%s", field(one, "address"));
        size_t dup = records_of(res, "big.test", field(one, "address"), &rec);
        (void)dup;
    }
    json_decref(doc);
    run_result_free(&r);
}
