/* certsweep-fleet: the test fleet as a program, for the demo fleet and the
 * benchmarks.  Writes DIR/ca.pem, DIR/fleet.crl, DIR/targets.txt,
 * DIR/resolve.args and DIR/fleet.pid, prints "ready", and serves (TLS, and
 * the CRL and OCSP answers over HTTP) until SIGTERM or SIGINT. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/fleet.h"

static const char usage[] =
    "usage: certsweep-fleet --dir DIR [--bulk N] [--now UNIX_SECONDS] [--hostile [--rsa16384]]\n"
    "                       [--mail] [benchmark options]\n"
    "  Serves the test fleet on 127.0.0.1 until SIGTERM/SIGINT, and on one more port\n"
    "  its intermediate's CRL and an OCSP answer per leaf over HTTP (the leafs name\n"
    "  them).  Writes DIR/ca.pem (the trusted root), DIR/fleet.crl (the CRL, DER),\n"
    "  DIR/targets.txt (one target per scenario, then one ADDR:PORT line per bulk\n"
    "  port, in order; scheme://HOST:PORT for those that speak STARTTLS), DIR/resolve.args "
    "(--resolve options mapping the scenario\n"
    "  names, ocsp.fleet.test and crl.fleet.test to 127.0.0.1) and DIR/fleet.pid,\n"
    "  then prints \"ready\".\n"
    "  scan it: certsweep --ca-file DIR/ca.pem $(cat DIR/resolve.args) -f DIR/targets.txt\n"
    "  (add --crl --ocsp to check revocation too)\n"
    "  --hostile           add the hostile scenarios: peers that drip, stall, spew noise,\n"
    "                      reset, hang up, alert, speak SSH/SMTP or never accept, and\n"
    "                      certificates built to break parsers and terminals\n"
    "  --rsa16384          add a leaf with an RSA-16384 key (cached per machine; making\n"
    "                      it the first time takes minutes)\n"
    "  --mail              add mail servers with valid leafs behind a STARTTLS preamble:\n"
    "                      smtp://smtp.fleet.test:PORT and imap://imap.fleet.test:PORT\n"
    "benchmark options (bulk ports):\n"
    "  --bulk-addresses N  spread the bulk ports over 127.0.1.1, 127.0.1.2, ... (port i on\n"
    "                      address i % N; 127.0.1.254 is followed by 127.0.2.1)\n"
    "  --bulk-port-base P  bulk port i is P + i / N (default: ports the kernel picks)\n"
    "  --hold-ms MS        wait MS after accepting before reading the ClientHello\n"
    "  --unique            every bulk port its own leaf certificate (made at start)\n"
    "  --wildcard          bulk leafs name *.bulk.test; scan names under it with\n"
    "                      --resolve '*.bulk.test:*:ADDR'\n"
    "  --rsa-kx            bulk ports speak TLS 1.2 with RSA key transport only: the server\n"
    "                      signs nothing before its Certificate (cheap handshakes)\n"
    "  --threads N         N event loops (threads); bulk ports split among them\n"
    "  --smtp              bulk ports speak SMTP (greeting, EHLO, STARTTLS) before TLS;\n"
    "                      targets.txt names them smtp://ADDR:PORT\n";

static int parse_num(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        fprintf(stderr, "certsweep-fleet: cannot write %s: %s\n", path, strerror(errno));
    return fp;
}

static int close_out(FILE *fp, const char *path)
{
    if (ferror(fp) | (fclose(fp) != 0)) {
        fprintf(stderr, "certsweep-fleet: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static int write_files(const struct fleet *f, const char *dir, size_t bulk, bool smtp)
{
    char path[4096];
    FILE *fp = open_out(dir, "targets.txt", path, sizeof path);
    if (fp == NULL)
        return -1;
    fprintf(fp,
            "# certsweep test fleet: scan with --ca-file %s/ca.pem and the --resolve\n"
            "# options in %s/resolve.args (every name is 127.0.0.1); revocation:\n"
            "# http://127.0.0.1:%u/fleet.crl and http://127.0.0.1:%u/ocsp/NAME\n",
            dir, dir, (unsigned)fleet_http_port(f), (unsigned)fleet_http_port(f));
    for (size_t i = 0; i < fleet_count(f); i++) {
        const struct fleet_scenario *s = fleet_at(f, i);
        fprintf(fp, "%s%s%s:%u  # %s: expect %s\n", s->scheme != NULL ? s->scheme : "",
                s->scheme != NULL ? "://" : "", s->host, (unsigned)s->port, s->name,
                s->expect_status);
    }
    for (size_t i = 0; i < bulk; i++)
        fprintf(fp, "%s%s:%u\n", smtp ? "smtp://" : "", fleet_bulk_addr(f, i),
                (unsigned)fleet_bulk_port(f, i));
    if (close_out(fp, path) != 0)
        return -1;

    if ((fp = open_out(dir, "resolve.args", path, sizeof path)) == NULL)
        return -1;
    for (size_t i = 0; i < fleet_count(f); i++) {
        const struct fleet_scenario *s = fleet_at(f, i);
        fprintf(fp, "--resolve %s:%u:127.0.0.1\n", s->host, (unsigned)s->port);
    }
    /* the OCSP and CRL hosts of the leafs under other issuers: no DNS for them either */
    fprintf(fp, "--resolve ocsp.fleet.test:80:127.0.0.1\n--resolve crl.fleet.test:80:127.0.0.1\n");
    if (close_out(fp, path) != 0)
        return -1;

    if ((fp = open_out(dir, "fleet.pid", path, sizeof path)) == NULL)
        return -1;
    fprintf(fp, "%ld\n", (long)getpid());
    return close_out(fp, path);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    long long bulk = 0, now = 0, addresses = 0, port_base = 0, hold = 0, threads = 0;
    bool unique = false, wildcard = false, rsa_kx = false, hostile = false, rsa16384 = false,
         mail = false, smtp = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        bool *flag = strcmp(arg, "--unique") == 0     ? &unique
                     : strcmp(arg, "--wildcard") == 0 ? &wildcard
                     : strcmp(arg, "--rsa-kx") == 0   ? &rsa_kx
                     : strcmp(arg, "--hostile") == 0  ? &hostile
                     : strcmp(arg, "--rsa16384") == 0 ? &rsa16384
                     : strcmp(arg, "--mail") == 0     ? &mail
                     : strcmp(arg, "--smtp") == 0     ? &smtp
                                                      : NULL;
        if (flag != NULL) {
            *flag = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "certsweep-fleet: %s: unknown option or missing value\n%s", arg, usage);
            return 64;
        }
        const char *val = argv[++i];
        if (strcmp(arg, "--dir") == 0) {
            dir = val;
        } else if (strcmp(arg, "--bulk") == 0) {
            if (parse_num(val, 0, 60000, &bulk) != 0) {
                fprintf(stderr, "certsweep-fleet: --bulk %s: want a count from 0 to 60000\n", val);
                return 64;
            }
        } else if (strcmp(arg, "--bulk-addresses") == 0) {
            if (parse_num(val, 0, 254 * 254, &addresses) != 0) {
                fprintf(stderr, "certsweep-fleet: --bulk-addresses %s: want 0 to 64516\n", val);
                return 64;
            }
        } else if (strcmp(arg, "--bulk-port-base") == 0) {
            if (parse_num(val, 1, 65535, &port_base) != 0) {
                fprintf(stderr, "certsweep-fleet: --bulk-port-base %s: want a port\n", val);
                return 64;
            }
        } else if (strcmp(arg, "--hold-ms") == 0) {
            if (parse_num(val, 0, 600000, &hold) != 0) {
                fprintf(stderr, "certsweep-fleet: --hold-ms %s: want 0 to 600000\n", val);
                return 64;
            }
        } else if (strcmp(arg, "--threads") == 0) {
            if (parse_num(val, 1, 256, &threads) != 0) {
                fprintf(stderr, "certsweep-fleet: --threads %s: want 1 to 256\n", val);
                return 64;
            }
        } else if (strcmp(arg, "--now") == 0) {
            if (parse_num(val, -62135596800LL, 253402300799LL, &now) != 0) {
                fprintf(stderr, "certsweep-fleet: --now %s: want unix seconds\n", val);
                return 64;
            }
        } else {
            fprintf(stderr, "certsweep-fleet: %s: unknown option\n%s", arg, usage);
            return 64;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "certsweep-fleet: --dir DIR is required\n%s", usage);
        return 64;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "certsweep-fleet: cannot make %s: %s\n", dir, strerror(errno));
        return 66;
    }

    /* Blocked before the fleet's thread starts, so only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct fleet_options o = {
        .now = (int64_t)now,
        .bulk = (size_t)bulk,
        .dir = dir,
        .bulk_addresses = (size_t)addresses,
        .bulk_port_base = (uint16_t)port_base,
        .hold_ms = (unsigned)hold,
        .unique = unique,
        .wildcard = wildcard,
        .rsa_kx = rsa_kx,
        .threads = (size_t)threads,
        .hostile = hostile,
        .rsa16384 = rsa16384,
        .mail = mail,
        .bulk_smtp = smtp,
    };
    struct fleet *f = fleet_start(&o);
    if (f == NULL)
        return 70;
    if (write_files(f, dir, (size_t)bulk, smtp) != 0) {
        fleet_stop(f);
        return 70;
    }
    printf("ready\n");
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    fleet_stop(f);
    return 0;
}
