/* What revocation checking costs: 1,000 endpoints, each with a leaf of its
 * own under one intermediate, scanned unchecked, with --crl, with --ocsp
 * and with every endpoint stapling its own response, in turns in the same
 * run; each variant's wall time and certsweep's CPU time (user + system),
 * median of the rounds, and its ratio to the unchecked scan.
 *
 * The CRL (one for all leafs, listing one of them) and the OCSP answers
 * (one per leaf, made in advance: the responder's own cost is not what is
 * measured) are served by the test HTTP server; the endpoints by the test
 * fleet, all on 127.0.0.1.  Usage: certsweep-bench-revocation CERTSWEEP
 * [ROUNDS] (default 5). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "tests/support/fleet.h"
#include "tests/support/httpd.h"
#include "tests/support/pki.h"

#define N 1000
#define DAY 86400

struct variant {
    const char *name;
    const char *targets;  /* which targets file */
    const char *flags[3]; /* extra options, NULL-terminated */
    const char *expect;   /* revocation values, "value=count,..." as counted */
    double wall[16], cpu[16];
};

static char dir[] = "/tmp/certsweep-bench-revocation-XXXXXX";

static char *path_in(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

static void die(const char *why)
{
    fprintf(stderr, "certsweep-bench-revocation: %s\n", why);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs certsweep; wall seconds and its CPU seconds (user + system). */
static void run(const char *bin, const struct variant *v, const char *out, double *wall,
                double *cpu)
{
    const char *argv[24];
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = "--ca-file";
    argv[n++] = path_in("root.pem");
    argv[n++] = "-f";
    argv[n++] = v->targets;
    argv[n++] = "-j";
    argv[n++] = "200";
    argv[n++] = "-q";
    argv[n++] = "-o";
    argv[n++] = out;
    for (size_t i = 0; v->flags[i]; i++)
        argv[n++] = v->flags[i];
    argv[n] = NULL;
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) > 3)
        die("certsweep failed");
    *wall = now_s() - t0;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* "value=count,..." of the revocation column of a CSV report, sorted. */
static void count_revocation(const char *csv, char *buf, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import csv,collections,sys; r=list(csv.DictReader(open(sys.argv[1]))); "
             "c=collections.Counter(x[\"revocation\"] for x in r); "
             "print(\",\".join(\"%%s=%%d\" %% kv for kv in sorted(c.items())))' %s",
             csv);
    FILE *p = popen(cmd, "r");
    buf[0] = '\0';
    if (!p || !fgets(buf, (int)len, p))
        die("cannot read a report");
    buf[strcspn(buf, "\n")] = '\0';
    pclose(p);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    double s[16];
    memcpy(s, v, (size_t)n * sizeof(*s));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* A targets file: the n ports of custom endpoint i (ports > 1), or port 0 of
   custom endpoints i .. i + n - 1. */
static void write_targets(const char *path, const struct fleet *f, size_t i, size_t n, bool ports)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        die("cannot write a targets file");
    for (size_t k = 0; k < n; k++)
        fprintf(fp, "127.0.0.1:%u\n",
                (unsigned)(ports ? fleet_custom_port(f, i, k) : fleet_custom_port(f, i + k, 0)));
    fclose(fp);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: certsweep-bench-revocation CERTSWEEP [ROUNDS]");
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds < 1 || rounds > 16)
        die("ROUNDS: 1 to 16");
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* 2,000 listeners */
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (!mkdtemp(dir))
        die("cannot make a temp dir");
    struct httpd *http = httpd_start();
    if (!http)
        die("cannot start the HTTP server");
    unsigned hp = httpd_port(http);
    int64_t now = (int64_t)time(NULL);

    struct pki_cert root, inter;
    if (pki_issue(&root,
                  &(struct pki_spec){.subject = (const char *const[]){"CN", "Bench Root", NULL},
                                     .not_before = now - DAY,
                                     .not_after = now + 3650 * DAY,
                                     .key = PKI_EC256,
                                     .ca = true},
                  NULL) ||
        pki_issue(&inter,
                  &(struct pki_spec){.subject = (const char *const[]){"CN", "Bench CA", NULL},
                                     .not_before = now - DAY,
                                     .not_after = now + 1825 * DAY,
                                     .key = PKI_EC256,
                                     .ca = true},
                  &root) ||
        pki_write_pem(path_in("root.pem"), &root.x509, 1))
        die("cannot make the PKI");

    char crl_uri[64];
    snprintf(crl_uri, sizeof(crl_uri), "http://127.0.0.1:%u/bench.crl", hp);
    struct pki_cert *leafs = calloc(N, sizeof(*leafs));
    struct fleet_custom *custom = calloc(N + 1, sizeof(*custom));
    unsigned char **staples = calloc(N, sizeof(*staples));
    if (!leafs || !custom || !staples)
        die("out of memory");
    for (size_t k = 0; k < N; k++) {
        char cn[32], ocsp_uri[64], serial[16];
        snprintf(cn, sizeof(cn), "leaf%zu.bench.test", k);
        snprintf(ocsp_uri, sizeof(ocsp_uri), "http://127.0.0.1:%u/ocsp/%zu", hp, k);
        snprintf(serial, sizeof(serial), "1%05zX", k);
        if (pki_issue(&leafs[k],
                      &(struct pki_spec){.subject = (const char *const[]){"CN", cn, NULL},
                                         .not_before = now - DAY,
                                         .not_after = now + 90 * DAY,
                                         .key = PKI_EC256,
                                         .sans = (const char *const[]){"IP:127.0.0.1", NULL},
                                         .ocsp_uri = ocsp_uri,
                                         .crl_uri = crl_uri,
                                         .serial_hex = serial},
                      &inter))
            die("cannot issue a leaf");
        size_t len;
        if (pki_ocsp_response(&(struct pki_ocsp_spec){.leaf = leafs[k].x509,
                                                      .issuer = inter.x509,
                                                      .status = PKI_OCSP_GOOD,
                                                      .this_update = now - 3600,
                                                      .next_update = now + 4 * DAY,
                                                      .signer = &inter},
                              &staples[k], &len))
            die("cannot make an OCSP response");
        char route[32];
        snprintf(route, sizeof(route), "/ocsp/%zu", k);
        httpd_route(http, route,
                    &(struct httpd_answer){
                        .status = 200, .body = staples[k], .len = len, .keep_alive = true});
        custom[1 + k] = (struct fleet_custom){.name = "stapled",
                                              .leaf = &leafs[k],
                                              .chain = &inter.x509,
                                              .chain_len = 1,
                                              .staple = staples[k],
                                              .staple_len = len};
    }
    custom[0] = (struct fleet_custom){
        .name = "plain", .leafs = leafs, .chain = &inter.x509, .chain_len = 1, .n_ports = N};
    char revoked_serial[16];
    snprintf(revoked_serial, sizeof(revoked_serial), "1%05X", 7);
    size_t crl_len;
    if (pki_crl(path_in("bench.crl"),
                &(struct pki_crl_spec){
                    .issuer = &inter,
                    .last_update = now - 3600,
                    .next_update = now + 7 * DAY,
                    .entries =
                        &(struct pki_crl_entry){revoked_serial, now - DAY, CRL_REASON_SUPERSEDED},
                    .n_entries = 1,
                    .min_bytes = 64 * 1024, /* a CRL of a CA with some history */
                },
                &crl_len))
        die("cannot make the CRL");
    FILE *cf = fopen(path_in("bench.crl"), "rb");
    unsigned char *crl = malloc(crl_len);
    if (!cf || !crl || fread(crl, 1, crl_len, cf) != crl_len)
        die("cannot read the CRL back");
    fclose(cf);
    httpd_route(http, "/bench.crl",
                &(struct httpd_answer){.status = 200, .body = crl, .len = crl_len});

    struct fleet *f =
        fleet_start(&(struct fleet_options){.now = now, .custom = custom, .n_custom = N + 1});
    if (!f)
        die("cannot start the fleet");
    write_targets(path_in("plain.txt"), f, 0, N, true);
    write_targets(path_in("stapled.txt"), f, 1, N, false);

    char plain[512], stapled[512];
    snprintf(plain, sizeof(plain), "%s", path_in("plain.txt"));
    snprintf(stapled, sizeof(stapled), "%s", path_in("stapled.txt"));
    struct variant v[] = {
        {.name = "unchecked", .targets = plain, .flags = {NULL}, .expect = "unchecked=1000"},
        {.name = "--crl",
         .targets = plain,
         .flags = {"--crl", NULL},
         .expect = "good=999,revoked=1"},
        {.name = "--ocsp", .targets = plain, .flags = {"--ocsp", NULL}, .expect = "good=1000"},
        {.name = "stapled", .targets = stapled, .flags = {NULL}, .expect = "good=1000"},
        {.name = "--crl --ocsp",
         .targets = plain,
         .flags = {"--crl", "--ocsp", NULL},
         .expect = "good=999,revoked=1"},
    };
    size_t nv = sizeof(v) / sizeof(v[0]);
    printf("1,000 endpoints, a leaf each under one intermediate; CRL %zu bytes; %d rounds\n",
           crl_len, rounds);
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < nv; i++) {
            const char *out = path_in("out.csv");
            run(argv[1], &v[i], out, &v[i].wall[r], &v[i].cpu[r]);
            char got[256];
            count_revocation(out, got, sizeof(got));
            if (strcmp(got, v[i].expect) != 0) {
                fprintf(stderr, "%s: revocation column %s, want %s\n", v[i].name, got, v[i].expect);
                die("wrong results");
            }
        }
    unsigned crl_fetches = httpd_requests(http, "/bench.crl");
    double w0 = median(v[0].wall, rounds), c0 = median(v[0].cpu, rounds);
    printf("| scan of 1,000 endpoints | wall s | CPU s | wall ratio | CPU ratio |\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < nv; i++) {
        double w = median(v[i].wall, rounds), c = median(v[i].cpu, rounds);
        printf("| %s | %.3f | %.3f | %.2fx | %.2fx |\n", v[i].name, w, c, w / w0, c / c0);
    }
    printf("CRL downloads: %u over %d scans with --crl (one per scan)\n", crl_fetches, 2 * rounds);

    fleet_stop(f);
    httpd_stop(http);
    for (size_t k = 0; k < N; k++) {
        pki_cert_free(&leafs[k]);
        free(staples[k]);
    }
    free(leafs);
    free(staples);
    free(custom);
    free(crl);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "certsweep-bench-revocation: could not remove %s\n", dir);
    return 0;
}
