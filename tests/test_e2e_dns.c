/* End to end through a real DNS server: dnsmasq on a free 127.0.0.1 port
 * answers for the test fleet's names (and NXDOMAIN for nx.test), a UDP
 * socket that never answers stands in for a dead server, and the certsweep
 * binary resolves with --dns-server as a user would. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scanner/cert.h"
#include "scanner/engine.h"
#include "tests/support/engine_run.h"
#include "tests/support/fleet.h"
#include "tests/support/runner.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static struct fleet *fleet;
static char *dir;
static pid_t dnsmasq_pid = -1;
static uint16_t dns_port;
static int silent_fd = -1; /* a UDP "DNS server" that never answers */
static uint16_t silent_port;

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* Starts dnsmasq on dns_port; 0 once it accepts TCP, -1 if it exited. */
static int try_start_dnsmasq(void)
{
    char port_opt[32], pid_opt[512], log_opt[512], user_opt[300];
    snprintf(port_opt, sizeof(port_opt), "--port=%u", dns_port);
    snprintf(pid_opt, sizeof(pid_opt), "--pid-file=%s/dnsmasq.pid", dir);
    char *stale = path_in("dnsmasq.pid");
    unlink(stale);
    free(stale);
    snprintf(log_opt, sizeof(log_opt), "--log-facility=%s/dnsmasq.log", dir);
    /* stay the user we are (root would otherwise drop to nobody) */
    struct passwd *pw = getpwuid(getuid());
    cr_assert_not_null(pw);
    snprintf(user_opt, sizeof(user_opt), "--user=%s", pw->pw_name);
    char *out = path_in("dnsmasq.out");
    pid_t parent = getpid();
    dnsmasq_pid = fork();
    cr_assert(dnsmasq_pid >= 0);
    if (dnsmasq_pid == 0) {
        /* dies with the test process, even if it is killed on a timeout */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        /* host records answer AAAA with NODATA; every other name (also the
           search-list expansions c-ares may add from the host's resolv.conf)
           is NXDOMAIN, as from a real resolver, not REFUSED */
        execl(DNSMASQ, DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null",
              "--listen-address=127.0.0.1", "--bind-interfaces", port_opt, "--no-resolv",
              "--no-hosts", "--host-record=ok.fleet.test,127.0.0.1",
              "--host-record=ok.dns.test,127.0.0.1", "--txt-record=noaddr.dns.test,no address",
              "--address=/nx.test/", "--local=/#/", pid_opt, log_opt, "--log-queries", user_opt,
              (char *)NULL);
        _exit(127);
    }
    free(out);
    char *pid_path = path_in("dnsmasq.pid");
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(dnsmasq_pid, &st, WNOHANG) == dnsmasq_pid) {
            dnsmasq_pid = -1;
            free(pid_path);
            return -1;
        }
        if (pid_file_names(pid_path, dnsmasq_pid) && port_accepts(dns_port)) {
            free(pid_path);
            return 0;
        }
        usleep(50 * 1000);
    }
    stop_child(&dnsmasq_pid);
    free(pid_path);
    return -1;
}

static void start_dnsmasq(void)
{
    /* another process may take the port between the probe and dnsmasq's bind */
    for (int tries = 0; tries < 3; tries++) {
        dns_port = free_port();
        cr_assert(dns_port, "no free port on 127.0.0.1");
        if (try_start_dnsmasq() == 0)
            return;
    }
    char *out = path_in("dnsmasq.out");
    char *text = slurp(out, NULL);
    cr_assert_fail("dnsmasq did not start on 127.0.0.1:%u within 5 s:\n%s", dns_port,
                   text ? text : "");
}

static void start_silent_server(void)
{
    silent_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    cr_assert(silent_fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    cr_assert(bind(silent_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    cr_assert(getsockname(silent_fd, (struct sockaddr *)&sa, &len) == 0);
    silent_port = ntohs(sa.sin_port);
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* the engine's caller's business, as in main.c */
    cr_assert(access(DNSMASQ, X_OK) == 0,
              DNSMASQ " is not installed: the DNS end-to-end tests need it "
                      "(apt-get install dnsmasq)");
    dir = temp_dir();
    cr_assert_not_null(dir);
    fleet = fleet_start(&(struct fleet_options){0});
    cr_assert_not_null(fleet, "the test fleet did not start");
    start_silent_server();
    start_dnsmasq();
}

static void teardown(void)
{
    stop_child(&dnsmasq_pid);
    if (silent_fd >= 0)
        close(silent_fd);
    silent_fd = -1;
    if (fleet)
        fleet_stop(fleet);
    fleet = NULL;
    remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(dns, .init = setup, .fini = teardown, .timeout = 120);

/* run_certsweep() without depending on the working directory: the support
   library is built without CS_BINARY, so its default is a relative path. */
static int certsweep(const char *const *args, struct run_result *r)
{
    return run_binary(CS_BINARY, args, NULL, 120, r);
}

/* The names asked of the silent server so far, space-separated. */
static void silent_queries(char *names, size_t size)
{
    names[0] = '\0';
    unsigned char pkt[1500];
    ssize_t n;
    while ((n = recv(silent_fd, pkt, sizeof(pkt), 0)) > 0) {
        char name[256] = "";
        size_t off = 12, len = 0;
        while (off < (size_t)n && pkt[off] != 0 && pkt[off] < 64) {
            size_t l = pkt[off++];
            if (off + l > (size_t)n || len + l + 2 > sizeof(name))
                break;
            if (len)
                name[len++] = '.';
            memcpy(name + len, pkt + off, l);
            len += l;
            name[len] = '\0';
            off += l;
        }
        if (strlen(names) + len + 2 < size) {
            if (names[0])
                strcat(names, " ");
            strcat(names, name);
        }
    }
}

/* certsweep ARGS -o out.csv -o out.json -q TARGETS... */
static void scan_run(struct report_scan *s, const char *const *args_in)
{
    char *csv = path_in("out.csv"), *json = path_in("out.json");
    unlink(csv);
    unlink(json);
    const char *args[32] = {"-o", csv, "-o", json, "-q"};
    size_t n = 5;
    for (size_t i = 0; args_in[i]; i++)
        args[n++] = args_in[i];
    args[n] = NULL;
    cr_assert_eq(certsweep(args, &s->run), 0);
    cr_assert_neq(s->run.status, 137, "certsweep hung; stderr: %s", s->run.err);
    char err[8192];
    cr_assert_eq(read_reports(s, csv, json, err, sizeof err), 0, "%s (exit %d); stderr: %s", err,
                 s->run.status, s->run.err);
    free(csv);
    free(json);
}

static const char *cell(const struct report_scan *s, const char *host, const char *column)
{
    size_t row = csv_doc_find(&s->csv, "host", host);
    cr_assert(row > 0, "no CSV row for %s:\n%s", host, s->csv_text);
    const char *v = csv_doc_get(&s->csv, row, column);
    cr_assert_not_null(v, "%s: no %s cell", host, column);
    return v;
}

static long summary(const struct report_scan *s, const char *status)
{
    json_t *v = json_object_get(json_object_get(s->json, "summary"), status);
    cr_assert(json_is_integer(v), "summary.%s", status);
    return (long)json_integer_value(v);
}

/* A record for a name that never resolved: an ERROR that says why, no address
   and no certificate fields. */
static void check_dns_error(const struct report_scan *s, const char *host, long port,
                            const char *why)
{
    cr_assert_str_eq(cell(s, host, "status"), "ERROR", "%s: %s (%s)", host, cell(s, host, "status"),
                     cell(s, host, "reason"));
    cr_assert_str_eq(cell(s, host, "reason"), why, "%s", host);
    cr_assert_str_eq(cell(s, host, "error"), why, "%s", host);
    cr_assert_str_eq(cell(s, host, "address"), "", "%s", host);
    static const char *const empty[] = {"days_remaining", "not_before",      "not_after",
                                        "subject",        "issuer",          "sans",
                                        "serial",         "sha256",          "key",
                                        "tls_version",    "chain_not_after", "elapsed_ms"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
        cr_assert_str_eq(cell(s, host, empty[i]), "", "%s: %s", host, empty[i]);
    json_t *r = json_find_record(json_object_get(s->json, "results"), host, port);
    cr_assert_not_null(r, "no JSON record for %s:%ld", host, port);
    cr_assert_str_eq(json_string_value(json_object_get(r, "reason")), why);
    cr_assert_str_eq(json_string_value(json_object_get(r, "error")), why);
    cr_assert_str_eq(json_string_value(json_object_get(r, "address")), "");
    cr_assert(json_is_null(json_object_get(r, "elapsed_ms")), "%s: elapsed_ms", host);
    cr_assert(json_is_null(json_object_get(r, "days_remaining")), "%s: days_remaining", host);
}

Test(dns, name_resolves_through_dnsmasq)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    cr_assert_not_null(ok);
    cr_assert_str_eq(ok->host, "ok.fleet.test");
    char server[32], target[64];
    snprintf(server, sizeof(server), "127.0.0.1:%u", dns_port);
    snprintf(target, sizeof(target), "%s:%u", ok->host, ok->port);
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--dns-server", server, "--ca-file", fleet_ca_file(fleet),
                                       target, "gone.nx.test:443", NULL});
    cr_assert_eq(s.run.status, 3, "exit %d, want 3 (worst is ERROR); stderr: %s\n%s", s.run.status,
                 s.run.err, s.csv_text);
    cr_assert_eq(s.csv.nrows, 3, "%s", s.csv_text);

    cr_assert_str_eq(cell(&s, ok->host, "status"), "OK", "%s", cell(&s, ok->host, "reason"));
    cr_assert_str_eq(cell(&s, ok->host, "address"), "127.0.0.1");
    cr_assert_str_eq(cell(&s, ok->host, "sni"), ok->host);
    cr_assert_str_eq(cell(&s, ok->host, "hostname_match"), "true");
    cr_assert_str_eq(cell(&s, ok->host, "verify"), "ok");
    cr_assert_str_eq(cell(&s, ok->host, "error"), "");
    char sha[65];
    pki_sha256_hex(ok->leaf.x509, sha);
    cr_assert_str_eq(cell(&s, ok->host, "sha256"), sha);

    check_dns_error(&s, "gone.nx.test", 443, "dns: NXDOMAIN");
    cr_assert_str_eq(cell(&s, "gone.nx.test", "port"), "443");
    cr_assert_eq(summary(&s, "OK"), 1);
    cr_assert_eq(summary(&s, "ERROR"), 1);
    cr_assert_eq(summary(&s, "WARNING") + summary(&s, "CRITICAL") + summary(&s, "EXPIRED"), 0);
    report_scan_free(&s);
}

Test(dns, nxdomain_alone)
{
    char server[32];
    snprintf(server, sizeof(server), "127.0.0.1:%u", dns_port);
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--dns-server", server, "gone.nx.test", NULL});
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    check_dns_error(&s, "gone.nx.test", 443, "dns: NXDOMAIN");
    cr_assert_eq(summary(&s, "ERROR"), 1);
    report_scan_free(&s);
}

Test(dns, name_without_addresses)
{
    char server[32];
    snprintf(server, sizeof(server), "127.0.0.1:%u", dns_port);
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--dns-server", server, "noaddr.dns.test:443", NULL});
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    check_dns_error(&s, "noaddr.dns.test", 443, "dns: no address");
    report_scan_free(&s);
}

Test(dns, the_name_checked_is_the_one_resolved)
{
    /* ok.dns.test resolves to the same server, whose certificate does not
       name it */
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    char server[32], target[64];
    snprintf(server, sizeof(server), "127.0.0.1:%u", dns_port);
    snprintf(target, sizeof(target), "ok.dns.test:%u", ok->port);
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--dns-server", server, "--ca-file", fleet_ca_file(fleet),
                                       target, NULL});
    cr_assert_eq(s.run.status, 2, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    cr_assert_str_eq(cell(&s, "ok.dns.test", "status"), "CRITICAL");
    cr_assert_str_eq(cell(&s, "ok.dns.test", "reason"),
                     "hostname mismatch: ok.dns.test not in the certificate's names");
    cr_assert_str_eq(cell(&s, "ok.dns.test", "hostname_match"), "false");
    cr_assert_str_eq(cell(&s, "ok.dns.test", "address"), "127.0.0.1");
    cr_assert_str_eq(cell(&s, "ok.dns.test", "sni"), "ok.dns.test");
    report_scan_free(&s);
}

Test(dns, silent_server_times_out)
{
    char server[32], asked[2048];
    snprintf(server, sizeof(server), "127.0.0.1:%u", silent_port);
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--dns-server", server, "--dns-timeout", "0.3",
                                       "slow.dns.test:8443", NULL});
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    check_dns_error(&s, "slow.dns.test", 8443, "dns: timeout");
    cr_assert_str_eq(cell(&s, "slow.dns.test", "port"), "8443");
    /* the question did reach the server given with --dns-server */
    silent_queries(asked, sizeof(asked));
    cr_assert(strstr(asked, "slow.dns.test"), "the silent server was asked: '%s'", asked);
    report_scan_free(&s);
}

Test(dns, resolve_pin_skips_dns)
{
    const struct fleet_scenario *ok = fleet_get(fleet, "ok");
    char server[32], target[64], pin[80], asked[2048];
    snprintf(server, sizeof(server), "127.0.0.1:%u", silent_port);
    snprintf(target, sizeof(target), "%s:%u", ok->host, ok->port);
    snprintf(pin, sizeof(pin), "%s:%u:127.0.0.1", ok->host, ok->port);
    struct report_scan s;
    scan_run(&s, (const char *const[]){"--dns-server", server, "--dns-timeout", "0.3", "--resolve",
                                       pin, "--ca-file", fleet_ca_file(fleet), target, NULL});
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    cr_assert_str_eq(cell(&s, ok->host, "status"), "OK", "%s", cell(&s, ok->host, "reason"));
    cr_assert_str_eq(cell(&s, ok->host, "address"), "127.0.0.1");
    silent_queries(asked, sizeof(asked));
    cr_assert_str_eq(asked, "", "a pinned name was looked up: '%s'", asked);
    report_scan_free(&s);
}

static void count_record(void *arg, const struct cs_result *r)
{
    size_t *ok = arg;
    *ok += r->sha256 && strlen(r->sha256) == 64 && strcmp(r->address, "127.0.0.1") == 0;
}

Test(dns, one_query_per_name_whatever_the_workers)
{
    /* the same name on 40 ports, scanned by 2 workers: one lookup, and
       every port's certificate obtained through it */
    struct fleet *bulk = fleet_start(&(struct fleet_options){.bulk = 40});
    cr_assert_not_null(bulk);
    char server[32], *targets[40];
    snprintf(server, sizeof(server), "127.0.0.1:%u", dns_port);
    for (size_t i = 0; i < 40; i++)
        cr_assert(asprintf(&targets[i], "ok.fleet.test:%u", fleet_bulk_port(bulk, i)) > 0);
    struct cs_options o;
    cs_options_init(&o);
    o.workers = 2;
    o.dns_server = server;
    size_t ok = 0;
    struct engine_run run = {.ca_file = fleet_ca_file(bulk), .cb = count_record, .arg = &ok};
    cr_assert_eq(engine_run(&o, targets, 40, &run), CS_ENGINE_OK);
    const struct cs_engine_stats stats = run.stats;
    cr_assert_eq(stats.workers, 2);
    cr_assert_eq(ok, 40, "%zu of 40 certificates through the one answer", ok);
    cr_assert_eq(stats.dns_queries, 1, "%llu lookups for one name",
                 (unsigned long long)stats.dns_queries);
    o.dns_server = NULL;
    cs_options_free(&o);
    for (size_t i = 0; i < 40; i++)
        free(targets[i]);
    fleet_stop(bulk);
}
