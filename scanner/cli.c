/* The command line.  One table, cs_cli_options below, says everything about
 * an option: its names, what its argument is and its bounds, where it is
 * stored, its metavar and its help.  The parser and its error messages are
 * here; --help, the man page and the shell completions are written from the
 * same table by cli_write.c.
 *
 * Long options are taken by their full name only (no abbreviations), so that
 * a new option never changes what an existing command line means.  Every
 * mistake is one line naming the option and what it takes; main exits 64. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/probe.h"
#include "report/order.h"
#include "scanner/cli.h"
#include "scanner/notify.h"
#include "scanner/options.h"
#include "scanner/policy.h"
#include "scanner/ranges.h"
#include "scanner/targets.h"

#define FIELD_OF(f) (((struct cs_options *)0)->f)
#define STORE_OF(f)                                                                                \
    _Generic(FIELD_OF(f),                                                                          \
        bool: CS_STORE_BOOL,                                                                          \
        uint16_t: CS_STORE_U16,                                                                       \
        unsigned: CS_STORE_UINT,                                                                      \
        int: CS_STORE_INT,                                                                            \
        uint64_t: CS_STORE_U64,                                                                       \
        int64_t: CS_STORE_I64,                                                                        \
        double: CS_STORE_DOUBLE,                                                                      \
        char *: CS_STORE_STR)
/* Where an option is stored: the field's offset and its type. */
#define TO(f) .offset = offsetof(struct cs_options, f), .store = STORE_OF(f)

static cs_opt_parse_fn parse_format, parse_output, parse_targets_file, parse_dns_server, parse_now,
    parse_fail_on_opt, parse_resolve, parse_sni, parse_starttls, parse_ehlo, parse_policy,
    parse_policy_file, parse_label, parse_targets_format, parse_certs, parse_expect, parse_notify,
    parse_notify_on, parse_mail_to, parse_shard, parse_only, parse_sort, parse_progress,
    parse_color;

#define MAX_SECS_MS ((uint64_t)CS_DAY_SECS * 1000)

/* Sorted by long name; --help, the man page and the completions list them in
   this order. */
const struct cs_opt cs_cli_options[] = {
    {"all-addresses", 0, CS_ARG_NONE, TO(all_addresses),
     .help = "probe every address of a name (A and AAAA, at most 64), one record each, instead "
             "of the first that connects"},
    {"allow-empty", 0, CS_ARG_NONE, TO(allow_empty),
     .help = "no target at all is a scan of nothing (exit 0), not an input error (66)"},
    {"ca-file", 0, CS_ARG_STRING, TO(ca_file), .metavar = "FILE", .complete = CS_COMPLETE_FILE,
     .help = "trust anchors from FILE (PEM) instead of the system store", .deflt = ""},
    {"ca-path", 0, CS_ARG_STRING, TO(ca_path), .metavar = "DIR", .complete = CS_COMPLETE_DIR,
     .help = "trust anchors from a hashed directory (c_rehash) instead of the system store",
     .deflt = ""},
    {"cert-only", 0, CS_ARG_NONE, TO(cert_only),
     .help = "take the chain and stop: faster, but no proof that the server holds the key "
             "(key_proven false)"},
    {"certs", 0, CS_ARG_CUSTOM, .parse = parse_certs, .metavar = "PATH", .flags = CS_OPT_REPEAT,
     .complete = CS_COMPLETE_FILE,
     .help = "assess the certificate files at PATH (a file, or a directory searched "
             "recursively: *.pem *.crt *.cer *.der *.p12 *.pfx); repeatable"},
    {"chain", 0, CS_ARG_NONE, TO(chain),
     .help = "every certificate the server sent, in JSON and text reports"},
    {"color", 0, CS_ARG_CUSTOM, .parse = parse_color, .metavar = "WHEN",
     .complete = CS_COMPLETE_WORDS, .words = "auto always never",
     .help = "colour the text table: auto on a terminal unless NO_COLOR is set and not empty "
             "or TERM is dumb; always (even into a pipe); never",
     .deflt = "auto"},
    {"concurrency", 'j', CS_ARG_UINT, 1, CS_MAX_CONCURRENCY, TO(concurrency), .metavar = "N",
     .help = "probes in flight at most"},
    {"connect-timeout", 0, CS_ARG_SECS, 1, MAX_SECS_MS, TO(connect_timeout_ms), .metavar = "SECS",
     .help = "TCP connect deadline"},
    {"crit-days", 'c', CS_ARG_DAYS, 0, 3650, TO(crit_secs), .metavar = "N",
     .help = "CRITICAL when at most N days are left, for every certificate",
     .deflt = "lifetime-aware, at most 7"},
    {"crl", 0, CS_ARG_NONE, TO(crl),
     .help = "fetch each leaf's CRL (distribution point) and look the certificate up"},
    {"crl-max-size", 0, CS_ARG_SIZE, 1024, (uint64_t)4 << 30, TO(crl_max_bytes), .metavar = "SIZE",
     .help = "largest CRL (or OCSP response) fetched, in bytes or with K, M or G"},
    {"csv-excel", 0, CS_ARG_NONE, TO(csv_excel),
     .help = "CSV for spreadsheets (Excel on Windows, LibreOffice): a UTF-8 byte order mark, "
             "CRLF line ends, times as YYYY-MM-DD HH:MM:SS (UTC) so they open as dates"},
    {"csv-raw", 0, CS_ARG_NONE, TO(csv_raw),
     .help = "CSV cells as found: no ' before a leading = + - @ TAB CR (for programs, not "
             "spreadsheets)"},
    {"dns-server", 0, CS_ARG_CUSTOM, TO(dns_server), .parse = parse_dns_server,
     .metavar = "ADDR[:PORT]", .help = "ask this DNS server", .deflt = "from resolv.conf"},
    {"dns-timeout", 0, CS_ARG_SECS, 1, MAX_SECS_MS, TO(dns_timeout_ms), .metavar = "SECS",
     .help = "DNS deadline per try; two tries per server"},
    {"ehlo", 0, CS_ARG_CUSTOM, .parse = parse_ehlo, .metavar = "NAME",
     .help = "the name smtp and submission probes give in EHLO: a host name or an address "
             "literal ([192.0.2.1], [IPv6:2001:db8::1])",
     .deflt = "the target's host, an address as its literal"},
    {"expect", 0, CS_ARG_CUSTOM, .parse = parse_expect, .metavar = "PATH", .flags = CS_OPT_REPEAT,
     .complete = CS_COMPLETE_FILE,
     .help = "certificates endpoints should serve (a certbot live directory, or files): an "
             "endpoint serving an older one than the newest for its name is WARNING "
             "(deployed false); repeatable"},
    {"fail-on", 0, CS_ARG_CUSTOM, .parse = parse_fail_on_opt, .metavar = "LEVEL",
     .complete = CS_COMPLETE_WORDS, .words = "warning error critical never",
     .help = "which statuses count toward the exit code: warning counts WARNING and worse, "
             "error ERROR, CRITICAL and EXPIRED, critical CRITICAL and EXPIRED, never none",
     .deflt = "warning"},
    {"fetch-per-host", 0, CS_ARG_UINT, 1, 1000, TO(fetch_per_host), .metavar = "N",
     .help = "OCSP/CRL fetches in flight to one host at most"},
    {"fetch-timeout", 0, CS_ARG_SECS, 1, MAX_SECS_MS, TO(fetch_timeout_ms), .metavar = "SECS",
     .help = "deadline of one OCSP or CRL fetch"},
    {"format", 'F', CS_ARG_CUSTOM, .parse = parse_format, .metavar = "FMT",
     .complete = CS_COMPLETE_WORDS, .words = "text csv json jsonl prom nagios html",
     .help = "format of the report on standard output", .deflt = "text"},
    {"help", 'h', CS_ARG_NONE, .action = CS_CLI_HELP, .help = "this help, then exit"},
    {"history", 0, CS_ARG_STRING, TO(history), .metavar = "FILE.db", .complete = CS_COMPLETE_FILE,
     .help = "append this scan to a SQLite history (made if missing); each record gets change "
             "and first_seen, the summary the endpoints gone since the last scan",
     .deflt = ""},
    {"history-keep", 0, CS_ARG_DAYS, 1, 36500, TO(history_keep_secs), .metavar = "DAYS",
     .help = "delete the scans of the --history database that started more than DAYS days "
             "before this one",
     .deflt = "keep every scan"},
    {"ipv4", '4', CS_ARG_NONE, TO(ipv4),
     .help = "IPv4 only: names resolve to A records, an IPv6 target is a bad line"},
    {"ipv6", '6', CS_ARG_NONE, TO(ipv6),
     .help = "IPv6 only: names resolve to AAAA records, an IPv4 target is a bad line"},
    {"label", 0, CS_ARG_CUSTOM, .parse = parse_label, .metavar = "NAME", .flags = CS_OPT_REPEAT,
     .help = "a column in the text table for the targets' label NAME (owner=..., an inventory's "
             "column); repeatable"},
    {"mail-to", 0, CS_ARG_CUSTOM, .parse = parse_mail_to, .metavar = "ADDR", .flags = CS_OPT_REPEAT,
     .help = "after the scan, mail its summary to ADDR through the local MTA (sendmail -t), when "
             "--notify-on says so; repeatable"},
    {"max-expand", 0, CS_ARG_UINT, 1, CS_MAX_MAX_EXPAND, TO(max_expand), .metavar = "N",
     .help = "targets one address range or port list may expand to; a larger one is a bad line"},
    {"no-verify", 0, CS_ARG_NONE, TO(no_verify),
     .help = "trust and host name failures are reported but do not change the status"},
    {"notify", 0, CS_ARG_CUSTOM, .parse = parse_notify, .metavar = "URL",
     .help = "after the scan, POST a JSON summary to this http(s) webhook (Slack and Mattermost "
             "show its text field), when --notify-on says so"},
    {"notify-on", 0, CS_ARG_CUSTOM, .parse = parse_notify_on, .metavar = "WHEN",
     .complete = CS_COMPLETE_WORDS, .words = "problems changes always",
     .help = "when --notify and --mail-to send: problems (an endpoint not OK), changes (an "
             "endpoint changed since the last scan, with history) or always",
     .deflt = "problems"},
    {"now", 0, CS_ARG_CUSTOM, .parse = parse_now, .metavar = "TIMESTAMP",
     .help = "classify as of this UTC time, written YYYY-MM-DDTHH:MM:SSZ", .deflt = "now"},
    {"ocsp", 0, CS_ARG_NONE, TO(ocsp),
     .help = "ask each leaf's OCSP responder (AIA) whether it is revoked (a stapled OCSP "
             "response is always asked for and checked)"},
    {"only", 0, CS_ARG_CUSTOM, .parse = parse_only, .metavar = "STATUSES",
     .complete = CS_COMPLETE_WORDS, .words = "problems ok warning critical expired error",
     .help =
         "only these records in the text table, CSV, JSON, JSON Lines and HTML: problems (every "
         "status but OK) or statuses joined by commas (expired,critical); the summary, the "
         "exit code, history, notifications, Prometheus and Nagios still count every one",
     .deflt = "every record"},
    {"output", 'o', CS_ARG_CUSTOM, .parse = parse_output, .metavar = "FILE", .flags = CS_OPT_REPEAT,
     .complete = CS_COMPLETE_FILE,
     .help = "write a report to FILE, its format from the extension (.csv .json .jsonl .txt "
             ".prom .html) "
             "or named as FORMAT:FILE ('-' is standard output, e.g. jsonl:-, "
             "csv:/dev/stdout); repeatable"},
    {"per-address", 0, CS_ARG_UINT, 1, CS_MAX_CONCURRENCY, TO(per_address), .metavar = "N",
     .help = "connections in flight to one IP address at most"},
    {"policy", 0, CS_ARG_CUSTOM, .parse = parse_policy, .metavar = "NAME",
     .complete = CS_COMPLETE_WORDS, .words = "baseline",
     .help = "judge certificates by a built-in policy: baseline flags a trusted leaf valid "
             "longer than the CA/Browser Forum allows, with too few embedded SCTs, or "
             "must-staple without a staple (findings are WARNING)",
     .deflt = "none"},
    {"policy-file", 0, CS_ARG_CUSTOM, .parse = parse_policy_file, .metavar = "FILE",
     .complete = CS_COMPLETE_FILE,
     .help = "judge certificates by the rules in FILE, one a line: min-rsa-bits N, min-ec-bits "
             "N, max-days N, allow-issuer \"DN\", no-wildcards; each may end in critical"},
    {"port", 'p', CS_ARG_UINT, 1, 65535, TO(port), .metavar = "N",
     .help = "port of targets that name none", .deflt = "the probe's, 443 for tls"},
    {"print-bash-completion", 0, CS_ARG_NONE, .action = CS_CLI_BASH, .flags = CS_OPT_HIDDEN,
     .help = "write the bash completion script"},
    {"print-fish-completion", 0, CS_ARG_NONE, .action = CS_CLI_FISH, .flags = CS_OPT_HIDDEN,
     .help = "write the fish completion script"},
    {"print-man", 0, CS_ARG_NONE, .action = CS_CLI_MAN, .flags = CS_OPT_HIDDEN,
     .help = "write the manual page (roff)"},
    {"print-zsh-completion", 0, CS_ARG_NONE, .action = CS_CLI_ZSH, .flags = CS_OPT_HIDDEN,
     .help = "write the zsh completion script"},
    {"progress", 0, CS_ARG_CUSTOM, .parse = parse_progress, .metavar = "WHEN",
     .complete = CS_COMPLETE_WORDS, .words = "auto always never",
     .help = "redraw done/total, rate, ETA, probes in flight and the endpoints waiting longest "
             "on standard error while scanning: auto when it is a terminal, always, or never",
     .deflt = "auto"},
    {"quiet", 'q', CS_ARG_NONE, TO(quiet),
     .help = "nothing on standard output: reports go only to -o files"},
    {"rate", 0, CS_ARG_UINT, 1, 10000000, TO(rate), .metavar = "N",
     .help = "new connections per second at most", .deflt = "no limit"},
    {"require-revocation", 0, CS_ARG_NONE, TO(require_revocation),
     .help = "a revocation check that did not say good is CRITICAL"},
    {"resolve", 0, CS_ARG_CUSTOM, .parse = parse_resolve, .metavar = "HOST:PORT:ADDR",
     .flags = CS_OPT_REPEAT,
     .help = "pin a name to an address (curl's syntax; HOST may be '*' or '*.domain', PORT "
             "may be '*'); repeatable"},
    {"sendmail", 0, CS_ARG_STRING, TO(sendmail), .metavar = "PATH", .complete = CS_COMPLETE_FILE,
     .help = "the sendmail program --mail-to hands the mail to (any MTA's sendmail -t "
             "interface)",
     .deflt = "/usr/sbin/sendmail"},
    {"shard", 0, CS_ARG_CUSTOM, .parse = parse_shard, .metavar = "K/N",
     .help = "scan only shard K of N (K from 0 to N-1): a stable hash of each target's host, "
             "port, SNI and probe picks its one shard, whatever file or order it comes in; "
             "merge the N reports with certsweep merge",
     .deflt = "every target"},
    {"sni", 0, CS_ARG_CUSTOM, .parse = parse_sni, .metavar = "NAME",
     .help = "server name sent to every target, an internationalised one as its xn-- form",
     .deflt = "the target's host name"},
    {"sort", 0, CS_ARG_CUSTOM, .parse = parse_sort, .metavar = "KEY", .complete = CS_COMPLETE_WORDS,
     .words = "urgency host not_after",
     .help = "order of the text table, JSON, CSV and JSON Lines: urgency (status, then days "
             "left), host (then port) or not_after (soonest first); CSV and JSON Lines then "
             "wait for the end of the scan",
     .deflt = "urgency for the text table, completion order for the others"},
    {"starttls", 0, CS_ARG_CUSTOM, .parse = parse_starttls, .metavar = "PROTO",
     .complete = CS_COMPLETE_WORDS, .words = CS_STARTTLS_WORDS,
     .help = "speak PROTO's plaintext preamble before TLS to every target without a URL scheme; "
             "auto picks it by port (25 smtp, 143 imap, ...; other ports TLS at once)",
     .deflt = "TLS at once"},
    {"stats", 0, CS_ARG_NONE, TO(stats),
     .help = "at the end, one line on standard error: endpoints scanned, wall time, rate and "
             "the count of each status"},
    {"strict-input", 0, CS_ARG_NONE, TO(strict_input),
     .help = "a bad target line is a usage error (exit 64), found before anything is scanned"},
    {"targets", 'f', CS_ARG_CUSTOM, .parse = parse_targets_file, .metavar = "FILE",
     .flags = CS_OPT_REPEAT, .complete = CS_COMPLETE_FILE,
     .help = "read targets from FILE, one a line ('-' is standard input), or a CSV inventory "
             "(a .csv FILE); repeatable"},
    {"targets-format", 0, CS_ARG_CUSTOM, .parse = parse_targets_format, .metavar = "FMT",
     .complete = CS_COMPLETE_WORDS, .words = "csv text",
     .help = "how every -f file is read: csv (a header row, then a target a row) or text (a "
             "target a line)",
     .deflt = "csv for a .csv file, else text"},
    {"timeout", 't', CS_ARG_SECS, 1, MAX_SECS_MS, TO(timeout_ms), .metavar = "SECS",
     .help = "whole-probe deadline: connect and handshake"},
    {"verify-level", 0, CS_ARG_UINT, 0, 5, TO(verify_level), .metavar = "N",
     .help = "OpenSSL security level the chain must meet; level 2 asks for keys of 112 bits "
             "(RSA-2048) and no SHA-1 or MD5 signatures"},
    {"version", 'V', CS_ARG_NONE, .action = CS_CLI_VERSION, .help = "the version, then exit"},
    {"warn-days", 'w', CS_ARG_DAYS, 0, 3650, TO(warn_secs), .metavar = "N",
     .help = "WARNING when at most N days are left, for every certificate",
     .deflt = "lifetime-aware, at most 30"},
    {"wide", 0, CS_ARG_NONE, TO(wide),
     .help = "the text table cuts no cell, however wide it gets (else it fits the terminal, "
             "COLUMNS or 80 columns)"},
    {"workers", 'T', CS_ARG_UINT, 1, CS_MAX_WORKERS, TO(workers), .metavar = "N",
     .help = "event loops, one thread each", .deflt = "one per CPU"},
};

#define CS_N_OPTIONS (sizeof(cs_cli_options) / sizeof(cs_cli_options[0]))
const size_t cs_cli_n_options = CS_N_OPTIONS;

/* ---- parsing the arguments ---------------------------------------------------------------- */

struct parse_state {
    struct cs_options *o;
    struct cs_cli_notes *notes;
    unsigned seen[CS_N_OPTIONS]; /* times each option was given */
    const char *command;         /* a subcommand's name, or NULL for a scan */
    const char *const *allowed;  /* ... and the only options it takes */
};

static void note_add(char ***list, size_t *n, char *text)
{
    *list = cs_xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = text;
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *s = cs_xcalloc(1, n > 0 ? (size_t)n + 1 : 1);
    if (n > 0)
        vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    return s;
}

/* A usage error: the first one is kept. */
static enum cs_cli_result usage_error(struct parse_state *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum cs_cli_result usage_error(struct parse_state *ps, const char *fmt, ...)
{
    if (!ps->notes->error) {
        va_list ap;
        va_start(ap, fmt);
        ps->notes->error = vformat(fmt, ap);
        va_end(ap);
    }
    return CS_CLI_USAGE;
}

static void warn(struct parse_state *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(struct parse_state *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    note_add(&ps->notes->warnings, &ps->notes->n_warnings, vformat(fmt, ap));
    va_end(ap);
}

/* An argument as it may be shown on one line: control characters and
   non-ASCII bytes escaped, cut short. */
static const char *shown(const char *arg, char *buf, size_t len)
{
    cs_escape(arg, strlen(arg), buf, len);
    return buf;
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

/* Decimal seconds into milliseconds in [min, max]; 0 or -1. */
static int parse_secs(const char *s, uint64_t min, uint64_t max, uint64_t *ms)
{
    if ((*s < '0' || *s > '9') && *s != '.')
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v <= 0 || v * 1000 > (double)max)
        return -1;
    *ms = (uint64_t)llround(v * 1000);
    if (*ms < min)
        *ms = min;
    return 0;
}

/* Bytes with an optional K, M or G (powers of 1024) in [min, max]; 0 or -1. */
static int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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
    if (parse_uint(num, 0, max / unit, &v) < 0 || v * unit < min)
        return -1;
    *out = v * unit;
    return 0;
}

static void *field(const struct cs_opt *op, struct cs_options *o)
{
    return (char *)o + op->offset;
}

/* Stores a number in the option's field, whatever its type. */
static void store_number(const struct cs_opt *op, struct cs_options *o, uint64_t v)
{
    void *f = field(op, o);
    switch (op->store) {
    case CS_STORE_U16:
        *(uint16_t *)f = (uint16_t)v;
        break;
    case CS_STORE_UINT:
        *(unsigned *)f = (unsigned)v;
        break;
    case CS_STORE_INT:
        *(int *)f = (int)v;
        break;
    case CS_STORE_U64:
        *(uint64_t *)f = v;
        break;
    case CS_STORE_I64:
        *(int64_t *)f = (int64_t)v;
        break;
    case CS_STORE_DOUBLE:
        *(double *)f = (double)v;
        break;
    default:
        break;
    }
}

/* Parses a number-like argument by the option's kind: NULL, or why not. */
static const char *parse_number(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                char *buf, size_t len)
{
    uint64_t v;
    int rc;
    switch (op->arg) {
    case CS_ARG_UINT:
        rc = parse_uint(arg, op->min, op->max, &v);
        break;
    case CS_ARG_DAYS:
        rc = parse_uint(arg, op->min, op->max, &v);
        v *= CS_DAY_SECS;
        break;
    case CS_ARG_SECS:
        rc = parse_secs(arg, op->min, op->max, &v);
        break;
    default:
        rc = parse_size(arg, op->min, op->max, &v);
        break;
    }
    if (rc == 0) {
        store_number(op, o, v);
        return NULL;
    }
    char bounds[128];
    cs_cli_format_bounds(op, " to ", bounds, sizeof(bounds));
    static const char *const what[] = {
        [CS_ARG_UINT] = "a whole number",
        [CS_ARG_DAYS] = "a whole number of days",
        [CS_ARG_SECS] = "a number of seconds",
        [CS_ARG_SIZE] = "a size (bytes, or with K, M or G)",
    };
    snprintf(buf, len, "not %s from %s", what[op->arg], bounds);
    return buf;
}

/* "one of a, b or c" from an entry's words. */
static const char *one_of(const struct cs_opt *op, char *buf, size_t len)
{
    size_t n = 0, words = 1;
    for (const char *p = op->words; *p; p++)
        words += *p == ' ';
    n += (size_t)snprintf(buf, len, "not one of ");
    size_t i = 0;
    for (const char *p = op->words; *p && n < len; i++) {
        size_t w = strcspn(p, " ");
        const char *sep = i == 0 ? "" : i + 1 < words ? ", " : " or ";
        n += (size_t)snprintf(buf + n, len - n, "%s%.*s", sep, (int)w, p);
        p += w + (p[w] == ' ');
    }
    return buf;
}

static const char *parse_format(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                char *buf, size_t len)
{
    o->stdout_format = cs_writer_by_name(arg);
    return o->stdout_format ? NULL : one_of(op, buf, len);
}

/* --fail-on's levels: the statuses each counts; the first is the default. */
static const struct {
    const char *name;
    unsigned mask;
} fail_on_levels[] = {
    {"warning", 1u << CS_WARNING | 1u << CS_CRITICAL | 1u << CS_EXPIRED | 1u << CS_ERROR},
    {"error", 1u << CS_CRITICAL | 1u << CS_EXPIRED | 1u << CS_ERROR},
    {"critical", 1u << CS_CRITICAL | 1u << CS_EXPIRED},
    {"never", 0},
};

static const char *parse_fail_on_opt(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                     char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(fail_on_levels) / sizeof(fail_on_levels[0]); i++)
        if (strcasecmp(arg, fail_on_levels[i].name) == 0) {
            o->fail_on = fail_on_levels[i].mask;
            return NULL;
        }
    return one_of(op, buf, len);
}

/* --only: "problems" or statuses, joined by commas, in any case. */
static const char *parse_only(const struct cs_opt *op, struct cs_options *o, const char *arg,
                              char *buf, size_t len)
{
    unsigned mask = 0;
    for (const char *p = arg;; p++) {
        size_t n = strcspn(p, ",");
        char word[16];
        int st = -1;
        if (n > 0 && n < sizeof(word)) {
            memcpy(word, p, n);
            word[n] = '\0';
            st = strcasecmp(word, "problems") == 0 ? CS_STATUS_COUNT : cs_status_parse(word);
        }
        if (st < 0) {
            snprintf(buf, len, "not problems or statuses joined by commas (%s)", op->words);
            return buf;
        }
        mask |= st == CS_STATUS_COUNT ? ((1u << CS_STATUS_COUNT) - 1) & ~(1u << CS_OK) : 1u << st;
        p += n;
        if (*p == '\0')
            break;
    }
    o->only = mask;
    return NULL;
}

static const char *parse_sort(const struct cs_opt *op, struct cs_options *o, const char *arg,
                              char *buf, size_t len)
{
    o->sort = cs_sort_parse(arg);
    return o->sort != CS_SORT_NONE ? NULL : one_of(op, buf, len);
}

static const char *parse_now(const struct cs_opt *op, struct cs_options *o, const char *arg,
                             char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    if (cs_parse_time(arg, &o->now) < 0)
        return "not a UTC time like 2026-01-31T12:00:00Z";
    o->has_now = true;
    return NULL;
}

#define APPEND(arr, n, v)                                                                          \
    do {                                                                                           \
        (arr) = cs_xrealloc((arr), ((n) + 1) * sizeof(*(arr)));                                    \
        (arr)[(n)++] = (v);                                                                        \
    } while (0)

static const char *parse_targets_file(const struct cs_opt *op, struct cs_options *o,
                                      const char *arg, char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    APPEND(o->files, o->n_files, (char *)arg);
    return NULL;
}

static const char *parse_targets_format(const struct cs_opt *op, struct cs_options *o,
                                        const char *arg, char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    if (strcmp(arg, "csv") == 0)
        o->targets_format = "csv";
    else if (strcmp(arg, "text") == 0)
        o->targets_format = "text";
    else
        return "not a targets format (csv or text)";
    return NULL;
}

static const char *parse_progress(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                  char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    static const char *const modes[] = {"auto", "always", "never"}; /* enum cs_progress_mode */
    for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(arg, modes[i]) == 0) {
            o->progress = i;
            return NULL;
        }
    return "not a progress mode (auto, always or never)";
}

static const char *parse_label(const struct cs_opt *op, struct cs_options *o, const char *arg,
                               char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    const char *why = cs_label_name_check(arg, strlen(arg));
    if (why)
        return why;
    APPEND(o->labels, o->n_labels, (char *)arg);
    return NULL;
}

static const char *parse_certs(const struct cs_opt *op, struct cs_options *o, const char *arg,
                               char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    if (!arg[0])
        return "an empty path";
    APPEND(o->certs, o->n_certs, (char *)arg);
    return NULL;
}

static const char *parse_expect(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    if (!arg[0])
        return "an empty path";
    APPEND(o->expect, o->n_expect, (char *)arg);
    return NULL;
}

static const char *parse_output(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                char *buf, size_t len)
{
    (void)op;
    struct cs_output out = {(char *)arg, cs_writer_by_filename(arg)};
    const char *colon = strchr(arg, ':');
    char esc[256];
    if (colon) { /* FORMAT:PATH names the format */
        char fmt[8] = "";
        if ((size_t)(colon - arg) < sizeof(fmt))
            memcpy(fmt, arg, (size_t)(colon - arg));
        const struct cs_writer_ops *ops = cs_writer_by_name(fmt);
        if (ops) {
            out.path = (char *)colon + 1;
            out.ops = ops;
            if (!*out.path) {
                snprintf(buf, len,
                         "not a report: no file after the format (e.g. %s:- for "
                         "standard output)",
                         fmt);
                return buf;
            }
        }
    }
    if (!out.ops) {
        snprintf(buf, len,
                 "not a report: cannot tell its format; name it .csv, .json, .jsonl, "
                 ".txt, .prom or .html, or give FORMAT:%s (csv, json, jsonl, text, prom, "
                 "nagios, html)",
                 shown(arg, esc, sizeof(esc)));
        return buf;
    }
    APPEND(o->outputs, o->n_outputs, out);
    return NULL;
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

static const char *parse_resolve(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                 char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    struct cs_pin pin;
    if (parse_pin(arg, &pin) < 0)
        return "not HOST:PORT:ADDR (e.g. example.com:443:127.0.0.1)";
    APPEND(o->pins, o->n_pins, pin);
    return NULL;
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

static const char *parse_dns_server(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                    char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    if (check_dns_server(arg) < 0)
        return "not ADDR, ADDR:PORT or [IPv6]:PORT";
    o->dns_server = (char *)arg;
    return NULL;
}

/* A host name as targets take one: an internationalised name becomes its
   A-label, a root dot is dropped; an IP address is not a server name. */
static const char *parse_sni(const struct cs_opt *op, struct cs_options *o, const char *arg,
                             char *buf, size_t len)
{
    (void)op;
    if (strchr(arg, ':') || strchr(arg, '[') || strchr(arg, '/'))
        return "not a host name (letters, digits, '-' and '.'; labels of 1-63)";
    struct cs_target t = {0};
    const char *why = cs_target_parse(arg, 443, NULL, &t);
    if (!why && t.family)
        why = "an IP address: a server name is a host name (RFC 6066)";
    if (why) {
        cs_target_free(&t);
        if (strncmp(why, "not ", 4) == 0 || strncmp(why, "an ", 3) == 0)
            return why;
        if (strcmp(why, "empty host") == 0)
            return "not a host name: it is empty";
        snprintf(buf, len, "not a host name: %s", why);
        return buf;
    }
    free(o->sni_alabel);
    o->sni_alabel = t.host; /* the name to send */
    t.host = NULL;
    cs_target_free(&t);
    o->sni = o->sni_alabel;
    return NULL;
}

static const char *parse_starttls(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                  char *buf, size_t len)
{
    (void)op;
    if (strcmp(arg, "auto") == 0) {
        o->probe_name = "auto";
        return NULL;
    }
    const char *name;
    for (size_t i = 1; (name = cs_probe_name(i)); i++) /* 0 is tls: no preamble */
        if (strcmp(arg, name) == 0) {
            o->probe_name = name;
            return NULL;
        }
    snprintf(buf, len, "not a STARTTLS protocol (known: %s)", CS_STARTTLS_WORDS);
    return buf;
}

#define SHARD_MAX 65536

/* K/N with 0 <= K < N <= SHARD_MAX: K counts from 0, as a Kubernetes
   Indexed Job's JOB_COMPLETION_INDEX does. */
static const char *parse_shard(const struct cs_opt *op, struct cs_options *o, const char *arg,
                               char *buf, size_t len)
{
    (void)op;
    uint64_t k, n;
    const char *slash = strchr(arg, '/');
    char kbuf[16];
    size_t klen = slash ? (size_t)(slash - arg) : 0;
    if (!slash || klen == 0 || klen >= sizeof(kbuf))
        return "not K/N (shard K of N, e.g. 0/4)";
    memcpy(kbuf, arg, klen);
    kbuf[klen] = '\0';
    if (parse_uint(kbuf, 0, SHARD_MAX - 1, &k) < 0 || parse_uint(slash + 1, 1, SHARD_MAX, &n) < 0)
        return "not K/N with whole numbers, N from 1 to 65536 (e.g. 0/4)";
    if (k >= n) {
        snprintf(buf, len, "not a shard of %llu: shards are numbered 0 to %llu",
                 (unsigned long long)n, (unsigned long long)(n - 1));
        return buf;
    }
    o->shard_k = (unsigned)k;
    o->shard_n = (unsigned)n;
    return NULL;
}

/* An SMTP address literal: "[" IPv4 "]" or "[IPv6:" IPv6 "]" (RFC 5321). */
static bool address_literal(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n > 64)
        return false;
    char addr[64];
    unsigned char bin[16];
    bool v6 = strncmp(s + 1, "IPv6:", 5) == 0;
    size_t skip = v6 ? 6 : 1;
    memcpy(addr, s + skip, n - skip - 1);
    addr[n - skip - 1] = '\0';
    return inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) == 1;
}

/* The EHLO name goes on the wire inside a command line: a host name (its
   A-label) or an address literal, nothing else (no space, no CR or LF). */
static const char *parse_ehlo(const struct cs_opt *op, struct cs_options *o, const char *arg,
                              char *buf, size_t len)
{
    (void)op;
    char *name = NULL;
    if (address_literal(arg)) {
        name = cs_strdup(arg);
    } else {
        struct cs_target t = {0};
        const char *why = strpbrk(arg, ":[]/ \t\r\n") ? "" : cs_target_parse(arg, 25, NULL, &t);
        if (!why && t.family) {
            cs_target_free(&t);
            snprintf(buf, len, "an address: give it as a literal, [%s]", arg);
            return buf;
        }
        if (why) {
            cs_target_free(&t);
            snprintf(buf, len,
                     "not a host name or address literal%s%s ([192.0.2.1], [IPv6:2001:db8::1])",
                     *why ? ": " : "", why);
            return buf;
        }
        name = t.host;
        t.host = NULL;
        cs_target_free(&t);
    }
    free(o->ehlo);
    o->ehlo = name;
    return NULL;
}

/* The options' policy, made when the first policy option comes. */
static struct cs_policy *policy_of(struct cs_options *o)
{
    if (!o->policy) {
        o->policy = cs_xmalloc(sizeof(*o->policy));
        cs_policy_init(o->policy);
    }
    return o->policy;
}

static const char *parse_policy(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                char *buf, size_t len)
{
    if (strcmp(arg, "baseline") != 0)
        return one_of(op, buf, len);
    policy_of(o)->baseline = true;
    return NULL;
}

/* The file is read after the command line (check_combinations), so its
   errors name its line. */
static const char *parse_policy_file(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                     char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    o->policy_file = arg;
    return NULL;
}

/* --notify: an http:// or https:// URL, as libcurl parses it. */
static const char *parse_notify(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    const char *why = cs_notify_check_url(arg);
    if (!why)
        o->notify = (char *)arg;
    return why;
}

static const char *parse_notify_on(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                   char *buf, size_t len)
{
    static const char *const whens[] = {[CS_NOTIFY_PROBLEMS] = "problems",
                                        [CS_NOTIFY_CHANGES] = "changes",
                                        [CS_NOTIFY_ALWAYS] = "always"};
    for (unsigned i = 0; i < sizeof(whens) / sizeof(whens[0]); i++)
        if (strcmp(arg, whens[i]) == 0) {
            o->notify_on = i;
            return NULL;
        }
    return one_of(op, buf, len);
}

static const char *parse_color(const struct cs_opt *op, struct cs_options *o, const char *arg,
                               char *buf, size_t len)
{
    static const char *const whens[] = {
        [CS_COLOR_AUTO] = "auto", [CS_COLOR_ALWAYS] = "always", [CS_COLOR_NEVER] = "never"};
    for (unsigned i = 0; i < sizeof(whens) / sizeof(whens[0]); i++)
        if (strcmp(arg, whens[i]) == 0) {
            o->color = i;
            return NULL;
        }
    return one_of(op, buf, len);
}

/* --mail-to: one addr-spec, nothing that could add a header or a recipient. */
static const char *parse_mail_to(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                 char *buf, size_t len)
{
    (void)op, (void)buf, (void)len;
    const char *why = cs_notify_check_addr(arg);
    if (!why)
        APPEND(o->mail_to, o->n_mail_to, (char *)arg);
    return why;
}

/* The table entry of a long name (exact), or NULL. */
static const struct cs_opt *by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < CS_N_OPTIONS; i++)
        if (strlen(cs_cli_options[i].name) == len &&
            strncmp(cs_cli_options[i].name, name, len) == 0)
            return &cs_cli_options[i];
    return NULL;
}

static const struct cs_opt *by_letter(char c)
{
    for (size_t i = 0; c && i < CS_N_OPTIONS; i++)
        if (cs_cli_options[i].letter == c)
            return &cs_cli_options[i];
    return NULL;
}

/* "--name (-x)" or "--name", as messages name an option. */
static const char *opt_label(const struct cs_opt *op, char *buf, size_t len)
{
    if (op->letter)
        snprintf(buf, len, "--%s (-%c)", op->name, op->letter);
    else
        snprintf(buf, len, "--%s", op->name);
    return buf;
}

/* An unknown long option: the options it is a prefix of, if any, are named. */
static enum cs_cli_result unknown_long(struct parse_state *ps, const char *name, size_t len)
{
    char esc[128], list[1024] = "";
    char *given = cs_strndup(name, len);
    size_t n = 0, used = 0;
    for (size_t i = 0; i < CS_N_OPTIONS; i++)
        if (!(cs_cli_options[i].flags & CS_OPT_HIDDEN) &&
            strncmp(cs_cli_options[i].name, name, len) == 0 && used < sizeof(list))
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s--%s", n++ ? ", " : "",
                                     cs_cli_options[i].name);
    shown(given, esc, sizeof(esc));
    free(given);
    if (n == 1)
        return usage_error(ps,
                           "unknown option '--%s': abbreviations are not taken (did you mean "
                           "%s?)",
                           esc, list);
    if (n > 1)
        return usage_error(ps, "unknown option '--%s': ambiguous, could be %s", esc, list);
    return usage_error(ps, "unknown option '--%s'", esc);
}

/* Applies one option with its argument (NULL for CS_ARG_NONE). */
static enum cs_cli_result apply(struct parse_state *ps, const struct cs_opt *op, const char *arg)
{
    struct cs_options *o = ps->o;
    bool allowed = !ps->allowed;
    for (size_t i = 0; ps->allowed && ps->allowed[i] && !allowed; i++)
        allowed = strcmp(ps->allowed[i], op->name) == 0;
    if (!allowed)
        return usage_error(ps, "--%s is not an option of certsweep %s", op->name, ps->command);
    ps->seen[op - cs_cli_options]++;
    if (op->arg == CS_ARG_NONE) {
        if (op->action)
            return op->action;
        *(bool *)field(op, o) = true;
        return CS_CLI_OK;
    }
    char buf[512], esc[256];
    const char *why = NULL;
    switch (op->arg) {
    case CS_ARG_STRING:
        *(const char **)field(op, o) = arg;
        break;
    case CS_ARG_CUSTOM:
        why = op->parse(op, o, arg, buf, sizeof(buf));
        break;
    default:
        why = parse_number(op, o, arg, buf, sizeof(buf));
        break;
    }
    if (why)
        return usage_error(ps, "--%s: '%s' is %s", op->name, shown(arg, esc, sizeof(esc)), why);
    return CS_CLI_OK;
}

static enum cs_cli_result needs_argument(struct parse_state *ps, const struct cs_opt *op)
{
    char label[64];
    return usage_error(ps, "%s needs an argument: %s", opt_label(op, label, sizeof(label)),
                       op->metavar);
}

/* One "--name[=value]" at argv[*i]; *i moves past what it used. */
static enum cs_cli_result long_option(struct parse_state *ps, int argc, char **argv, int *i)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const struct cs_opt *op = by_name(name, len);
    if (!op)
        return unknown_long(ps, name, len);
    if (op->arg == CS_ARG_NONE) {
        if (eq)
            return usage_error(ps, "--%s takes no argument", op->name);
        return apply(ps, op, NULL);
    }
    if (eq)
        return apply(ps, op, eq + 1);
    if (*i + 1 >= argc)
        return needs_argument(ps, op);
    return apply(ps, op, argv[++*i]);
}

/* One "-abc" or "-xVALUE" or "-x VALUE" at argv[*i]. */
static enum cs_cli_result short_options(struct parse_state *ps, int argc, char **argv, int *i)
{
    for (const char *p = argv[*i] + 1; *p; p++) {
        const struct cs_opt *op = by_letter(*p);
        if (!op || (op->flags & CS_OPT_HIDDEN)) {
            char esc[16];
            return usage_error(ps, "unknown option '-%s'",
                               shown((char[]){*p, 0}, esc, sizeof(esc)));
        }
        if (op->arg == CS_ARG_NONE) {
            enum cs_cli_result rc = apply(ps, op, NULL);
            if (rc != CS_CLI_OK)
                return rc;
            continue;
        }
        if (p[1])
            return apply(ps, op, p + 1);
        if (*i + 1 >= argc)
            return needs_argument(ps, op);
        return apply(ps, op, argv[++*i]);
    }
    return CS_CLI_OK;
}

static size_t index_of(const char *name)
{
    return (size_t)(by_name(name, strlen(name)) - cs_cli_options);
}

/* Two -o reports to the same place: the same path, or two to standard output. */
static enum cs_cli_result check_outputs(struct parse_state *ps)
{
    const struct cs_options *o = ps->o;
    char esc[256];
    for (size_t i = 0; i < o->n_outputs; i++)
        for (size_t j = 0; j < i; j++) {
            if (strcmp(o->outputs[i].path, o->outputs[j].path) != 0)
                continue;
            if (strcmp(o->outputs[i].path, "-") == 0)
                return usage_error(ps,
                                   "--output: two reports to standard output (%s:- and "
                                   "%s:-); give the other one a file",
                                   o->outputs[j].ops->name, o->outputs[i].ops->name);
            return usage_error(ps,
                               "--output: '%s' is given twice; each report needs a file of "
                               "its own",
                               shown(o->outputs[i].path, esc, sizeof(esc)));
        }
    return CS_CLI_OK;
}

/* -f: standard input at most once; a file named twice is read once. */
static enum cs_cli_result check_files(struct parse_state *ps)
{
    struct cs_options *o = ps->o;
    char esc[256];
    size_t kept = 0;
    for (size_t i = 0; i < o->n_files; i++) {
        bool dup = false;
        for (size_t j = 0; j < kept && !dup; j++)
            dup = strcmp(o->files[i], o->files[j]) == 0;
        if (dup && strcmp(o->files[i], "-") == 0)
            return usage_error(ps, "--targets: '-' (standard input) is given twice; it can be "
                                   "read once");
        if (dup)
            warn(ps, "--targets: '%s' is given twice; it is read once",
                 shown(o->files[i], esc, sizeof(esc)));
        else
            o->files[kept++] = o->files[i];
    }
    o->n_files = kept;
    return CS_CLI_OK;
}

/* Whether any report, on standard output or -o, has the format. */
static bool writes(const struct cs_options *o, const struct cs_writer_ops *ops, bool to_stdout)
{
    for (size_t i = 0; i < o->n_outputs; i++)
        if (o->outputs[i].ops == ops)
            return true;
    return to_stdout && o->stdout_format == ops;
}

/* Combinations that contradict themselves are usage errors; ones where an
   option can have no effect are warnings (README, "Options"). */
static enum cs_cli_result check_combinations(struct parse_state *ps)
{
    struct cs_options *o = ps->o;
    const unsigned *seen = ps->seen;
    if (check_files(ps) != CS_CLI_OK || check_outputs(ps) != CS_CLI_OK)
        return CS_CLI_USAGE;
    const struct cs_output *to_stdout = NULL;
    for (size_t i = 0; i < o->n_outputs; i++)
        if (strcmp(o->outputs[i].path, "-") == 0)
            to_stdout = &o->outputs[i];
    if (seen[index_of("format")] && o->quiet)
        return usage_error(ps,
                           "--quiet and --format %s: --quiet writes nothing on standard "
                           "output (drop one, or give -o %s:FILE)",
                           o->stdout_format->name, o->stdout_format->name);
    if (seen[index_of("format")] && to_stdout)
        return usage_error(ps,
                           "--format %s and --output %s:- both choose the report on "
                           "standard output; give one",
                           o->stdout_format->name, to_stdout->ops->name);
    if (o->ipv4 && o->ipv6)
        return usage_error(ps, "--ipv4 (-4) and --ipv6 (-6) together leave no address to scan "
                               "(give one)");
    if (seen[index_of("warn-days")] && seen[index_of("crit-days")] && o->warn_secs <= o->crit_secs)
        return usage_error(ps,
                           "--warn-days %lld is not more than --crit-days %lld: WARNING "
                           "could never be reported (give -w above -c)",
                           (long long)(o->warn_secs / CS_DAY_SECS),
                           (long long)(o->crit_secs / CS_DAY_SECS));
    for (size_t i = 0; i < CS_N_OPTIONS; i++)
        if (seen[i] > 1 && !(cs_cli_options[i].flags & CS_OPT_REPEAT) && !cs_cli_options[i].action)
            warn(ps, "--%s is given %u times; the last one counts", cs_cli_options[i].name,
                 seen[i]);
    bool on_stdout = !o->quiet && !to_stdout;
    if (o->quiet && o->n_outputs == 0)
        warn(ps, "--quiet without --output writes no report; only the exit code tells");
    if (o->n_labels && !writes(o, &cs_writer_text, on_stdout))
        warn(ps, "--label has no effect: no report is a text table (CSV and JSON carry every "
                 "label)");
    if (o->csv_raw && !writes(o, &cs_writer_csv, on_stdout))
        warn(ps, "--csv-raw has no effect: no report is CSV");
    if (o->csv_excel && !writes(o, &cs_writer_csv, on_stdout))
        warn(ps, "--csv-excel has no effect: no report is CSV");
    if (o->chain && !writes(o, &cs_writer_json, on_stdout) &&
        !writes(o, &cs_writer_jsonl, on_stdout) && !writes(o, &cs_writer_text, on_stdout))
        warn(ps, "--chain has no effect: no report is JSON, JSON Lines or text (CSV has no "
                 "chain)");
    if (o->policy_file) {
        char err[1024];
        struct cs_policy *p = policy_of(o);
        if (cs_policy_load(p, o->policy_file, err, sizeof(err)) < 0)
            return usage_error(ps, "--policy-file: %s", err);
        if (!p->min_rsa_bits.level && !p->min_ec_bits.level && !p->max_days.level &&
            !p->no_wildcards.level && !p->allow_issuer.level)
            warn(ps, "--policy-file: '%s' has no rules", shown(o->policy_file, err, sizeof(err)));
    }
    if (seen[index_of("notify-on")] && !o->notify && !o->n_mail_to)
        warn(ps, "--notify-on has no effect without --notify or --mail-to");
    if (seen[index_of("sendmail")] && !o->n_mail_to)
        warn(ps, "--sendmail has no effect without --mail-to");
    static const char *const fetch_opts[] = {"fetch-timeout", "fetch-per-host", "crl-max-size"};
    for (size_t i = 0; i < sizeof(fetch_opts) / sizeof(fetch_opts[0]); i++)
        if (seen[index_of(fetch_opts[i])] && !o->ocsp && !o->crl)
            warn(ps, "--%s has no effect without --ocsp or --crl (nothing is fetched)",
                 fetch_opts[i]);
    if (seen[index_of("history-keep")] && !o->history)
        warn(ps, "--history-keep has no effect without --history");
    return CS_CLI_OK;
}

enum cs_cli_result cs_cli_parse(struct cs_options *o, int argc, char **argv,
                                struct cs_cli_notes *notes)
{
    struct parse_state ps = {.o = o, .notes = notes};
    memset(notes, 0, sizeof(*notes));
    enum cs_cli_result rc = CS_CLI_OK;
    bool only_targets = false; /* after "--" */
    for (int i = 1; i < argc && rc == CS_CLI_OK; i++) {
        const char *a = argv[i];
        if (only_targets || a[0] != '-' || a[1] == '\0')
            APPEND(o->targets, o->n_targets, argv[i]);
        else if (a[1] == '-' && a[2] == '\0')
            only_targets = true;
        else if (a[1] == '-')
            rc = long_option(&ps, argc, argv, &i);
        else
            rc = short_options(&ps, argc, argv, &i);
    }
    if (rc != CS_CLI_OK)
        return rc;
    if (o->n_targets == 0 && o->n_files == 0 && o->n_certs == 0)
        return usage_error(&ps, "no targets: name some, read them with -f FILE, or give --certs "
                                "PATH");
    return check_combinations(&ps);
}

enum cs_cli_result cs_cli_parse_command(const char *command, const char *const *allowed,
                                        struct cs_options *o, int argc, char **argv,
                                        struct cs_cli_notes *notes)
{
    struct parse_state ps = {.o = o, .notes = notes, .command = command, .allowed = allowed};
    memset(notes, 0, sizeof(*notes));
    enum cs_cli_result rc = CS_CLI_OK;
    bool only_args = false;
    for (int i = 1; i < argc && rc == CS_CLI_OK; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0')
            APPEND(o->targets, o->n_targets, argv[i]);
        else if (a[1] == '-' && a[2] == '\0')
            only_args = true;
        else if (a[1] == '-')
            rc = long_option(&ps, argc, argv, &i);
        else
            rc = short_options(&ps, argc, argv, &i);
    }
    return rc != CS_CLI_OK ? rc : check_combinations(&ps);
}

void cs_cli_notes_free(struct cs_cli_notes *notes)
{
    free(notes->error);
    for (size_t i = 0; i < notes->n_warnings; i++)
        free(notes->warnings[i]);
    free(notes->warnings);
    memset(notes, 0, sizeof(*notes));
}

void cs_options_init(struct cs_options *o)
{
    memset(o, 0, sizeof(*o));
    o->port = 0; /* the probe's own */
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
    o->max_expand = CS_DEFAULT_MAX_EXPAND;
    o->fail_on = fail_on_levels[0].mask;
    o->stdout_format = &cs_writer_text;
}

void cs_options_free(struct cs_options *o)
{
    free(o->targets);
    free(o->files);
    free(o->labels);
    free(o->certs);
    free(o->expect);
    free(o->outputs);
    for (size_t i = 0; i < o->n_pins; i++) {
        free(o->pins[i].host);
        free(o->pins[i].addr);
    }
    free(o->pins);
    free(o->sni_alabel);
    free(o->ehlo);
    if (o->policy)
        cs_policy_free(o->policy);
    free(o->policy);
    free(o->mail_to);
    memset(o, 0, sizeof(*o));
}

enum cs_exit cs_exit_code(const uint64_t count[], unsigned fail_on)
{
    bool crit = (fail_on & (1u << CS_CRITICAL) && count[CS_CRITICAL]) ||
                (fail_on & (1u << CS_EXPIRED) && count[CS_EXPIRED]);
    if (crit)
        return CS_EXIT_CRITICAL;
    if (fail_on & (1u << CS_WARNING) && count[CS_WARNING])
        return CS_EXIT_WARNING;
    if (fail_on & (1u << CS_ERROR) && count[CS_ERROR])
        return CS_EXIT_ERROR;
    return CS_EXIT_OK;
}

const char *cs_cli_option(size_t i, char *letter, const char **metavar)
{
    for (size_t k = 0; k < CS_N_OPTIONS; k++) {
        if (cs_cli_options[k].flags & CS_OPT_HIDDEN || i-- > 0)
            continue;
        *letter = cs_cli_options[k].letter;
        *metavar = cs_cli_options[k].metavar;
        return cs_cli_options[k].name;
    }
    return NULL;
}
