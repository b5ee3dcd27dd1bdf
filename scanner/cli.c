/* The command line: one sorted option table, parsed into struct cs_options.
 * Every mistake is one line on stderr naming the option and what it takes,
 * and exit status 64 (DESIGN.md, "Command line"). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"
#include "probes/probe.h"
#include "targets.h"
#include "version.h"

enum {
    OPT_ALLOW_EMPTY = 256,
    OPT_CA_FILE,
    OPT_CA_PATH,
    OPT_CERT_ONLY,
    OPT_CHAIN,
    OPT_CONNECT_TIMEOUT,
    OPT_CRL,
    OPT_CRL_MAX_SIZE,
    OPT_CSV_RAW,
    OPT_DNS_SERVER,
    OPT_DNS_TIMEOUT,
    OPT_FAIL_ON,
    OPT_FETCH_PER_HOST,
    OPT_FETCH_TIMEOUT,
    OPT_NO_VERIFY,
    OPT_NOW,
    OPT_OCSP,
    OPT_PER_ADDRESS,
    OPT_RATE,
    OPT_REQUIRE_REVOCATION,
    OPT_RESOLVE,
    OPT_SNI,
    OPT_STRICT_INPUT,
    OPT_VERIFY_LEVEL,
};

/* Sorted by long name. */
static const struct option long_options[] = {
    {"allow-empty", no_argument, NULL, OPT_ALLOW_EMPTY},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"ca-path", required_argument, NULL, OPT_CA_PATH},
    {"cert-only", no_argument, NULL, OPT_CERT_ONLY},
    {"chain", no_argument, NULL, OPT_CHAIN},
    {"concurrency", required_argument, NULL, 'j'},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"crit-days", required_argument, NULL, 'c'},
    {"crl", no_argument, NULL, OPT_CRL},
    {"crl-max-size", required_argument, NULL, OPT_CRL_MAX_SIZE},
    {"csv-raw", no_argument, NULL, OPT_CSV_RAW},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"fetch-per-host", required_argument, NULL, OPT_FETCH_PER_HOST},
    {"fetch-timeout", required_argument, NULL, OPT_FETCH_TIMEOUT},
    {"format", required_argument, NULL, 'F'},
    {"help", no_argument, NULL, 'h'},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"now", required_argument, NULL, OPT_NOW},
    {"ocsp", no_argument, NULL, OPT_OCSP},
    {"output", required_argument, NULL, 'o'},
    {"per-address", required_argument, NULL, OPT_PER_ADDRESS},
    {"port", required_argument, NULL, 'p'},
    {"quiet", no_argument, NULL, 'q'},
    {"rate", required_argument, NULL, OPT_RATE},
    {"require-revocation", no_argument, NULL, OPT_REQUIRE_REVOCATION},
    {"resolve", required_argument, NULL, OPT_RESOLVE},
    {"sni", required_argument, NULL, OPT_SNI},
    {"strict-input", no_argument, NULL, OPT_STRICT_INPUT},
    {"targets", required_argument, NULL, 'f'},
    {"timeout", required_argument, NULL, 't'},
    {"verify-level", required_argument, NULL, OPT_VERIFY_LEVEL},
    {"version", no_argument, NULL, 'V'},
    {"warn-days", required_argument, NULL, 'w'},
    {"workers", required_argument, NULL, 'T'},
    {NULL, 0, NULL, 0},
};

static const char short_options[] = ":c:F:f:hj:o:p:qT:t:Vw:";

static const char usage_text[] =
    "Usage: certsweep [OPTIONS] [TARGET ...]\n"
    "Scan TLS endpoints and report certificate expiry: OK, WARNING, CRITICAL, EXPIRED, ERROR.\n"
    "\n"
    "  TARGET                     host | host:port | IPv4[:port] | [IPv6]:port\n"
    "  -f, --targets FILE         read targets from FILE ('-' = stdin); repeatable\n"
    "  -p, --port N               default port (443)\n"
    "  -w, --warn-days N          WARNING threshold in days (default: lifetime-aware, at most "
    "30)\n"
    "  -c, --crit-days N          CRITICAL threshold in days (default: lifetime-aware, at most "
    "7)\n"
    "  -o, --output FILE          write a report; format from extension\n"
    "                             (.csv .json .jsonl .txt) or FORMAT:FILE ('-' = stdout,\n"
    "                             e.g. jsonl:-, csv:/dev/stdout); repeatable\n"
    "  -F, --format FMT           format of standard output: text|csv|json|jsonl (text)\n"
    "      --csv-raw              CSV cells as found: no ' before a leading = + - @ TAB CR\n"
    "                             (for programs, not spreadsheets)\n"
    "  -j, --concurrency N        probes in flight at most (500)\n"
    "  -T, --workers N            event loops, one thread each (default: one per CPU)\n"
    "      --rate N               new connections per second at most (default: no limit)\n"
    "      --per-address N        connections in flight to one IP address at most (64)\n"
    "  -t, --timeout SECS         whole-probe deadline, connect + handshake (10)\n"
    "      --connect-timeout SECS TCP connect deadline (5)\n"
    "      --dns-timeout SECS     DNS deadline per try; two tries per server (2)\n"
    "      --ca-file FILE         trust anchors from FILE instead of the system store\n"
    "      --ca-path DIR          trust anchors from a hashed directory instead\n"
    "      --no-verify            trust/hostname failures do not change status\n"
    "      --verify-level N       security level the chain must meet, 0-5 (2: keys of\n"
    "                             112 bits, RSA-2048; no SHA-1 or MD5 signatures)\n"
    "      --chain                every certificate the server sent, in JSON and text\n"
    "      --cert-only            take the chain and stop: faster, but no proof that the\n"
    "                             server holds the key (key_proven false; see README)\n"
    "      --ocsp                 ask each leaf's OCSP responder (AIA) whether it is revoked\n"
    "      --crl                  fetch each leaf's CRL (distribution point) and look it up\n"
    "                             (a stapled OCSP response is always asked for and checked)\n"
    "      --require-revocation   a revocation check that did not say good is CRITICAL\n"
    "      --fetch-timeout SECS   deadline of one OCSP or CRL fetch (10)\n"
    "      --fetch-per-host N     OCSP/CRL fetches in flight to one host at most (4)\n"
    "      --crl-max-size SIZE    largest CRL fetched, bytes or with K, M, G (32M)\n"
    "      --sni NAME             SNI for every target (default: the target's host name)\n"
    "      --resolve HOST:PORT:ADDR  pin a name to an address (curl syntax; HOST may be\n"
    "                             '*' or '*.domain', PORT may be '*'); repeatable\n"
    "      --dns-server ADDR[:PORT]  ask this DNS server (default: system resolv.conf)\n"
    "      --now TIMESTAMP        classify as of this UTC time (YYYY-MM-DDTHH:MM:SSZ)\n"
    "      --fail-on LEVEL        warning|error|critical|never: which statuses count\n"
    "                             toward the exit code (warning)\n"
    "  -q, --quiet                nothing on standard output (reports only to -o files)\n"
    "      --strict-input         a bad target line is a usage error (exit 64)\n"
    "      --allow-empty          no target at all is a scan of nothing (exit 0), not 66\n"
    "  -h, --help                 this help\n"
    "  -V, --version              version\n"
    "\n"
    "Exit: 0 all OK, 1 worst is WARNING, 2 any CRITICAL or EXPIRED, 3 worst is ERROR\n"
    "(bad target lines count as ERROR unless --fail-on never), 64 usage error,\n"
    "66 an input file unreadable or no target at all, 70 internal, 73 a report cannot be\n"
    "created, 74 a report could not be written, 130/143 interrupted by SIGINT/SIGTERM.\n";

static enum cs_cli_result usage_error(const char *fmt, const char *a, const char *b)
{
    fputs("certsweep: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputs(" (see certsweep --help)\n", stderr);
    return CS_CLI_USAGE;
}

/* A whole number in [min, max]; 0 or -1. */
static int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Seconds as a decimal, > 0 and at most a day, into milliseconds. */
static int parse_secs(const char *s, uint64_t *ms)
{
    if ((*s < '0' || *s > '9') && *s != '.')
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v <= 0 || v > 86400)
        return -1;
    *ms = (uint64_t)llround(v * 1000);
    if (*ms == 0)
        *ms = 1;
    return 0;
}

/* Bytes with an optional K, M or G (powers of 1024), from 1 KiB to 4 GiB. */
static int parse_size(const char *s, uint64_t *out)
{
    char num[32];
    size_t n = strlen(s);
    uint64_t unit = 1;
    if (n == 0 || n >= sizeof(num))
        return -1;
    memcpy(num, s, n + 1);
    const char *units = "KMG";
    const char *u = strchr(units, num[n - 1] & ~0x20); /* K or k, ... */
    if (u && *u) {
        unit = (uint64_t)1 << (10 * (u - units + 1));
        num[n - 1] = '\0';
    }
    uint64_t v;
    if (parse_uint(num, 1, ((uint64_t)4 << 30) / unit, &v) < 0 || v * unit < 1024)
        return -1;
    *out = v * unit;
    return 0;
}

static int parse_addr(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1 ? 0 : -1;
}

/* HOST:PORT:ADDR; ADDR may be bracketed. */
static int parse_pin(const char *arg, struct cs_pin *pin)
{
    const char *c1 = strchr(arg, ':');
    if (!c1 || c1 == arg)
        return -1;
    const char *c2 = strchr(c1 + 1, ':');
    if (!c2)
        return -1;
    char port[8];
    size_t plen = (size_t)(c2 - c1 - 1);
    if (plen == 0 || plen >= sizeof(port))
        return -1;
    memcpy(port, c1 + 1, plen);
    port[plen] = '\0';
    uint64_t p = 0;
    if (strcmp(port, "*") != 0 && parse_uint(port, 1, 65535, &p) < 0)
        return -1;
    const char *addr = c2 + 1;
    size_t alen = strlen(addr);
    if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
        addr++;
        alen -= 2;
    }
    char *a = cs_strndup(addr, alen);
    if (parse_addr(a) < 0) {
        free(a);
        return -1;
    }
    pin->host = cs_strndup(arg, (size_t)(c1 - arg));
    for (char *h = pin->host; *h; h++)
        if (*h >= 'A' && *h <= 'Z')
            *h = (char)(*h - 'A' + 'a');
    pin->port = strcmp(port, "*") == 0 ? -1 : (int)p;
    pin->addr = a;
    return 0;
}

/* ADDR[:PORT], [IPv6]:PORT or a bare IPv6 address. */
static int check_dns_server(const char *s)
{
    char buf[64];
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    uint64_t port;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close)
            return -1;
        *close = '\0';
        if (close[1] && (close[1] != ':' || parse_uint(close + 2, 1, 65535, &port) < 0))
            return -1;
        return inet_pton(AF_INET6, buf + 1, buf + 32) == 1 ? 0 : -1;
    }
    char *colon = strchr(buf, ':');
    if (colon && strchr(colon + 1, ':'))
        return parse_addr(buf);
    if (colon) {
        *colon = '\0';
        if (parse_uint(colon + 1, 1, 65535, &port) < 0)
            return -1;
    }
    unsigned char a[4];
    return inet_pton(AF_INET, buf, a) == 1 ? 0 : -1;
}

static int parse_fail_on(const char *s, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned mask;
    } levels[] = {
        {"warning", 1u << CS_WARNING | 1u << CS_CRITICAL | 1u << CS_EXPIRED | 1u << CS_ERROR},
        {"error", 1u << CS_CRITICAL | 1u << CS_EXPIRED | 1u << CS_ERROR},
        {"critical", 1u << CS_CRITICAL | 1u << CS_EXPIRED},
        {"never", 0},
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcasecmp(s, levels[i].name) == 0) {
            *mask = levels[i].mask;
            return 0;
        }
    return -1;
}

void cs_options_init(struct cs_options *o)
{
    memset(o, 0, sizeof(*o));
    o->port = 443;
    o->warn_secs = -1;
    o->crit_secs = -1;
    o->concurrency = CS_DEFAULT_CONCURRENCY;
    o->per_address = CS_DEFAULT_PER_ADDRESS;
    o->timeout_ms = CS_DEFAULT_TIMEOUT_MS;
    o->connect_timeout_ms = CS_DEFAULT_CONNECT_TIMEOUT_MS;
    o->dns_timeout_ms = 2000;
    o->fetch_timeout_ms = CS_DEFAULT_FETCH_TIMEOUT_MS;
    o->fetch_per_host = CS_DEFAULT_FETCH_PER_HOST;
    o->crl_max_bytes = CS_DEFAULT_CRL_MAX_BYTES;
    o->verify_level = CS_DEFAULT_VERIFY_LEVEL;
    parse_fail_on("warning", &o->fail_on);
    o->stdout_format = &cs_writer_text;
    o->probe = "tls";
}

void cs_options_free(struct cs_options *o)
{
    free(o->targets);
    free(o->files);
    free(o->outputs);
    for (size_t i = 0; i < o->n_pins; i++) {
        free(o->pins[i].host);
        free(o->pins[i].addr);
    }
    free(o->pins);
    free(o->sni_alabel);
    memset(o, 0, sizeof(*o));
}

#define APPEND(arr, n, v)                                                                          \
    do {                                                                                           \
        (arr) = cs_xrealloc((arr), ((n) + 1) * sizeof(*(arr)));                                    \
        (arr)[(n)++] = (v);                                                                        \
    } while (0)

enum cs_cli_result cs_cli_parse(struct cs_options *o, int argc, char **argv)
{
    uint64_t v;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        switch (c) {
        case 'c':
        case 'w':
            if (parse_uint(optarg, 0, 3650, &v) < 0)
                return usage_error("%s: '%s' is not a number of days (0-3650)",
                                   c == 'c' ? "--crit-days" : "--warn-days", optarg);
            *(c == 'c' ? &o->crit_secs : &o->warn_secs) = (int64_t)v * 86400;
            break;
        case 'F':
            o->stdout_format = cs_writer_by_name(optarg);
            if (!o->stdout_format)
                return usage_error("--format: '%s' is not a format (text, csv, json, jsonl)%s",
                                   optarg, "");
            break;
        case 'f':
            APPEND(o->files, o->n_files, optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return CS_CLI_EXIT;
        case 'j':
            if (parse_uint(optarg, 1, CS_MAX_CONCURRENCY, &v) < 0)
                return usage_error("--concurrency: '%s' is not a number from 1 to %s", optarg,
                                   "1000000");
            o->concurrency = (unsigned)v;
            break;
        case 'o': {
            struct cs_output out = {optarg, cs_writer_by_filename(optarg)};
            const char *colon = strchr(optarg, ':');
            if (colon) { /* FORMAT:PATH names the format */
                char fmt[8] = "";
                if ((size_t)(colon - optarg) < sizeof(fmt))
                    memcpy(fmt, optarg, (size_t)(colon - optarg));
                const struct cs_writer_ops *ops = cs_writer_by_name(fmt);
                if (ops) {
                    out.path = (char *)colon + 1;
                    out.ops = ops;
                    if (!*out.path)
                        return usage_error("--output: '%s' names no file after the format "
                                           "(e.g. %s:- for standard output)",
                                           optarg, fmt);
                }
            }
            if (!out.ops)
                return usage_error("--output: cannot tell the format of '%s'; name it .csv, "
                                   ".json, .jsonl or .txt, or give FORMAT:%s (csv, json, "
                                   "jsonl, text)",
                                   optarg, optarg);
            APPEND(o->outputs, o->n_outputs, out);
            break;
        }
        case 'p':
            if (parse_uint(optarg, 1, 65535, &v) < 0)
                return usage_error("--port: '%s' is not a port (1-65535)%s", optarg, "");
            o->port = (uint16_t)v;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'T':
            if (parse_uint(optarg, 1, CS_MAX_WORKERS, &v) < 0)
                return usage_error("--workers: '%s' is not a number from 1 to %s", optarg, "256");
            o->workers = (unsigned)v;
            break;
        case OPT_PER_ADDRESS:
            if (parse_uint(optarg, 1, CS_MAX_CONCURRENCY, &v) < 0)
                return usage_error("--per-address: '%s' is not a number from 1 to %s", optarg,
                                   "1000000");
            o->per_address = (unsigned)v;
            break;
        case OPT_RATE:
            if (parse_uint(optarg, 1, 10000000, &v) < 0)
                return usage_error("--rate: '%s' is not a number of connections per second "
                                   "(1-10000000)%s",
                                   optarg, "");
            o->rate = (double)v;
            break;
        case 't':
            if (parse_secs(optarg, &o->timeout_ms) < 0)
                return usage_error("--timeout: '%s' is not a number of seconds "
                                   "(0.001-86400)%s",
                                   optarg, "");
            break;
        case 'V':
            printf("certsweep %s (%s)\n", CS_VERSION, OpenSSL_version(OPENSSL_VERSION));
            return CS_CLI_EXIT;
        case OPT_ALLOW_EMPTY:
            o->allow_empty = true;
            break;
        case OPT_CA_FILE:
            o->ca_file = optarg;
            break;
        case OPT_CA_PATH:
            o->ca_path = optarg;
            break;
        case OPT_CERT_ONLY:
            o->cert_only = true;
            break;
        case OPT_CHAIN:
            o->chain = true;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_secs(optarg, &o->connect_timeout_ms) < 0)
                return usage_error("--connect-timeout: '%s' is not a number of seconds "
                                   "(0.001-86400)%s",
                                   optarg, "");
            break;
        case OPT_CRL:
            o->crl = true;
            break;
        case OPT_CRL_MAX_SIZE:
            if (parse_size(optarg, &v) < 0)
                return usage_error("--crl-max-size: '%s' is not a size from 1K to 4G (bytes, or "
                                   "with K, M or G)%s",
                                   optarg, "");
            o->crl_max_bytes = v;
            break;
        case OPT_CSV_RAW:
            o->csv_raw = true;
            break;
        case OPT_DNS_SERVER:
            if (check_dns_server(optarg) < 0)
                return usage_error("--dns-server: '%s' is not ADDR, ADDR:PORT or [IPv6]:PORT%s",
                                   optarg, "");
            o->dns_server = optarg;
            break;
        case OPT_DNS_TIMEOUT:
            if (parse_secs(optarg, &o->dns_timeout_ms) < 0)
                return usage_error("--dns-timeout: '%s' is not a number of seconds "
                                   "(0.001-86400)%s",
                                   optarg, "");
            break;
        case OPT_FAIL_ON:
            if (parse_fail_on(optarg, &o->fail_on) < 0)
                return usage_error("--fail-on: '%s' is not warning, error, critical or never%s",
                                   optarg, "");
            break;
        case OPT_FETCH_PER_HOST:
            if (parse_uint(optarg, 1, 1000, &v) < 0)
                return usage_error("--fetch-per-host: '%s' is not a number from 1 to %s", optarg,
                                   "1000");
            o->fetch_per_host = (unsigned)v;
            break;
        case OPT_FETCH_TIMEOUT:
            if (parse_secs(optarg, &o->fetch_timeout_ms) < 0)
                return usage_error("--fetch-timeout: '%s' is not a number of seconds "
                                   "(0.001-86400)%s",
                                   optarg, "");
            break;
        case OPT_OCSP:
            o->ocsp = true;
            break;
        case OPT_REQUIRE_REVOCATION:
            o->require_revocation = true;
            break;
        case OPT_NO_VERIFY:
            o->no_verify = true;
            break;
        case OPT_NOW:
            if (cs_parse_time(optarg, &o->now) < 0)
                return usage_error("--now: '%s' is not a UTC time like 2026-01-31T12:00:00Z%s",
                                   optarg, "");
            o->has_now = true;
            break;
        case OPT_RESOLVE: {
            struct cs_pin pin;
            if (parse_pin(optarg, &pin) < 0)
                return usage_error("--resolve: '%s' is not HOST:PORT:ADDR (e.g. "
                                   "example.com:443:127.0.0.1)%s",
                                   optarg, "");
            APPEND(o->pins, o->n_pins, pin);
            break;
        }
        case OPT_SNI:
            o->sni = optarg;
            for (const char *ch = optarg; *ch; ch++)
                if ((unsigned char)*ch >= 0x80) { /* internationalised: send its A-label */
                    free(o->sni_alabel);
                    const char *why = cs_idna_to_ascii(optarg, strlen(optarg), &o->sni_alabel);
                    if (why)
                        return usage_error("--sni: '%s': %s", optarg, why);
                    o->sni = o->sni_alabel;
                    break;
                }
            if (!*o->sni || strlen(o->sni) > 253)
                return usage_error("--sni: '%s' is not a host name%s", optarg, "");
            break;
        case OPT_STRICT_INPUT:
            o->strict_input = true;
            break;
        case OPT_VERIFY_LEVEL:
            if (parse_uint(optarg, 0, 5, &v) < 0)
                return usage_error("--verify-level: '%s' is not a security level from 0 to %s",
                                   optarg, "5");
            o->verify_level = (int)v;
            break;
        case ':':
            return usage_error("%s needs an argument%s", name, "");
        default:
            if (optopt && optopt < 256)
                return usage_error("unknown option '-%c'%s", (char[]){(char)optopt, 0}, "");
            return usage_error("unknown option '%s'%s", name, "");
        }
    }
    for (int i = optind; i < argc; i++)
        APPEND(o->targets, o->n_targets, argv[i]);
    if (o->n_targets == 0 && o->n_files == 0)
        return usage_error("no targets: name some, or read them with -f FILE%s%s", "", "");
    if (o->quiet && o->n_outputs == 0)
        fputs("certsweep: --quiet without --output writes no report; only the exit code "
              "tells\n",
              stderr);
    return CS_CLI_OK;
}

int cs_exit_code(const uint64_t count[], unsigned fail_on)
{
    bool crit = (fail_on & (1u << CS_CRITICAL) && count[CS_CRITICAL]) ||
                (fail_on & (1u << CS_EXPIRED) && count[CS_EXPIRED]);
    if (crit)
        return 2;
    if (fail_on & (1u << CS_WARNING) && count[CS_WARNING])
        return 1;
    if (fail_on & (1u << CS_ERROR) && count[CS_ERROR])
        return 3;
    return 0;
}
