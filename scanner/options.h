/* Everything the command line decides, parsed once by cli.c. */
#ifndef CS_OPTIONS_H
#define CS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scanner/error.h"

struct cs_expect;

#include "report/report.h"

struct cs_policy;
struct cs_assess_input;
struct cs_progress;

struct cs_pin {
    char *host; /* a name, "*" (any) or "*.domain" (any below) */
    int port;   /* -1: any port */
    char *addr; /* IPv4 or IPv6 literal */
};

struct cs_output {
    char *path; /* "-": standard output */
    const struct cs_writer_ops *ops;
};

struct cs_options {
    char **targets; /* positional targets */
    size_t n_targets;
    char **files; /* -f files, "-" for stdin */
    size_t n_files;
    uint16_t port;     /* default port; 0: the probe's own (443 for "tls") */
    int64_t warn_secs; /* -1: lifetime-aware */
    int64_t crit_secs;
    struct cs_output *outputs;
    size_t n_outputs;
    const struct cs_writer_ops *stdout_format;
    bool csv_raw;   /* --csv-raw: no formula defusing in CSV cells */
    bool csv_excel; /* --csv-excel: CSV for spreadsheets (BOM, CRLF, date cells) */
    unsigned concurrency;
    unsigned workers;     /* event loops (threads); 0: one per online CPU */
    double rate;          /* new connections per second, 0: unlimited */
    unsigned per_address; /* connections in flight to one IP at most */
    uint64_t timeout_ms;  /* whole probe: connect + handshake */
    uint64_t connect_timeout_ms;
    uint64_t dns_timeout_ms; /* per DNS try */
    char *ca_file;
    char *ca_path;
    bool no_verify;
    int verify_level;          /* --verify-level: security level of chain verification, 0..5 */
    bool chain;                /* --chain: every presented certificate in JSON and text */
    bool cert_only;            /* --cert-only: no proof of key possession asked for */
    bool ocsp;                 /* --ocsp: ask the leaf's OCSP responder */
    bool crl;                  /* --crl: fetch the leaf's CRL */
    bool require_revocation;   /* a check that did not say good is CRITICAL */
    uint64_t fetch_timeout_ms; /* one OCSP/CRL fetch */
    unsigned fetch_per_host;   /* fetches in flight to one host at most */
    uint64_t crl_max_bytes;    /* largest CRL (or OCSP response) taken */
    char *sni;                 /* as given, or sni_alabel */
    char *sni_alabel;          /* owned: the A-label form of an internationalised --sni */
    struct cs_pin *pins;
    size_t n_pins;
    char *dns_server;
    bool has_now;
    int64_t now;
    unsigned fail_on; /* bit (1 << status) for each status that counts */
    bool quiet;
    bool strict_input;
    bool allow_empty;       /* --allow-empty: no target at all is not an input error */
    const char *probe_name; /* --starttls: the probe of every target without a URL scheme
                               (a registry name, or "auto": by port); NULL: "tls" */
    char *ehlo;             /* owned: --ehlo, the SMTP EHLO name (A-label or [address]) */
    /* --policy, --policy-file (policy.h): owned; NULL when neither is given */
    struct cs_policy *policy;
    const char *policy_file;    /* --policy-file, read once the command line is parsed */
    uint64_t max_expand;        /* --max-expand: targets one range or port list may give */
    bool all_addresses;         /* --all-addresses: every address of a name, one record each */
    bool ipv4, ipv6;            /* -4, -6: only addresses of that family */
    const char *targets_format; /* --targets-format: "csv" or "text" for every -f file;
                                   NULL: by extension (.csv is CSV) */
    char **labels;              /* --label NAME: the text table's label columns */
    size_t n_labels;
    char **certs; /* --certs: certificate files and directories */
    size_t n_certs;
    char **expect; /* --expect: what the endpoints should serve */
    size_t n_expect;
    const struct cs_expect *expect_set; /* --expect's certificates, loaded (and freed)
                                           by the caller before the scan; NULL: none */
    /* Being told after the scan (scanner/notify.h) */
    char *notify;       /* --notify: the webhook URL (http or https), or NULL */
    unsigned notify_on; /* --notify-on: enum cs_notify_on */
    char **mail_to;     /* --mail-to: validated addresses (argv strings) */
    size_t n_mail_to;
    char *sendmail;   /* --sendmail: the sendmail program, NULL for /usr/sbin/sendmail */
    unsigned shard_k; /* --shard K/N: scan only the targets whose identity hashes to */
    unsigned shard_n; /* shard K of N (0 <= K < N); N 0: every target */
    char *history;    /* --history: the SQLite database scans are appended to; NULL: none */
    int64_t history_keep_secs; /* --history-keep: scans older than this are pruned; 0: kept */
    /* --only, --sort (report/order.h): which records the row-per-endpoint
       reports show, and in which order */
    unsigned only; /* bit (1 << status) per status shown; 0: every record */
    unsigned sort; /* enum cs_sort; 0: not given */
    /* certsweep show (cmd_show.c), not an option: told what each connection
       brought (the chain as sent, the key proof) as it is assessed, on the
       worker's thread; NULL in a scan */
    void (*observe)(void *arg, const struct cs_assess_input *in);
    void *observe_arg;
    /* At the terminal (scanner/progress.h) */
    unsigned progress;                  /* --progress: enum cs_progress_mode */
    bool stats;                         /* --stats: one summary line on stderr at the end */
    struct cs_progress *progress_board; /* where the engine publishes its progress, made
                                           by the caller; NULL: none (no cost) */
    unsigned color;                     /* --color: enum cs_color_when */
    bool wide;                          /* --wide: the text table cuts no cell */
};

/* --color: auto colours the text table on a terminal unless NO_COLOR (not
   empty) or TERM=dumb says not to (scanner/terminal.h). */
enum cs_color_when { CS_COLOR_AUTO, CS_COLOR_ALWAYS, CS_COLOR_NEVER };

/* What the command line asks for.  cs_cli_parse prints nothing: main prints
   the notes and decides the exit code. */
enum cs_cli_result {
    CS_CLI_OK = 0,  /* scan */
    CS_CLI_USAGE,   /* notes.error says what is wrong */
    CS_CLI_HELP,    /* --help: cs_cli_write_help */
    CS_CLI_VERSION, /* --version: cs_cli_write_version */
    CS_CLI_MAN,     /* --print-man (hidden): cs_cli_write_man */
    CS_CLI_BASH,    /* --print-bash-completion (hidden) */
    CS_CLI_ZSH,     /* --print-zsh-completion (hidden) */
    CS_CLI_FISH,    /* --print-fish-completion (hidden) */
};

/* What parsing has to say: one usage error, or warnings about pointless
   combinations (the scan goes on).  Each a single line without a newline. */
struct cs_cli_notes {
    char *error;
    char **warnings;
    size_t n_warnings;
};

void cs_options_init(struct cs_options *o);
void cs_options_free(struct cs_options *o);
enum cs_cli_result cs_cli_parse(struct cs_options *o, int argc, char **argv,
                                struct cs_cli_notes *notes);
/* A subcommand's arguments, with the scan's option table: only the options
   named in allowed (long names, NULL-ended) are taken, others are usage
   errors; what is not an option (files) goes to o->targets, which may be
   empty. */
enum cs_cli_result cs_cli_parse_command(const char *command, const char *const *allowed,
                                        struct cs_options *o, int argc, char **argv,
                                        struct cs_cli_notes *notes);
void cs_cli_notes_free(struct cs_cli_notes *notes);

/* The i-th option --help shows: its long name (NULL past the end), its short
   letter (0: none) and its argument's metavar (NULL: none). */
const char *cs_cli_option(size_t i, char *letter, const char **metavar);

/* Written from the option table (cli_write.c); main chooses the stream. */
void cs_cli_write_help(FILE *out);
void cs_cli_write_version(FILE *out);
void cs_cli_write_man(FILE *out);
void cs_cli_write_bash_completion(FILE *out);
void cs_cli_write_zsh_completion(FILE *out);
void cs_cli_write_fish_completion(FILE *out);

/* Exit code for the given counts (CS_EXIT_OK to CS_EXIT_ERROR), as the
   README's "Exit codes" says. */
enum cs_exit cs_exit_code(const uint64_t count[], unsigned fail_on);

#define CS_DEFAULT_CONCURRENCY 500
#define CS_DEFAULT_TIMEOUT_MS 10000
#define CS_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define CS_MAX_CONCURRENCY 1000000
#define CS_DEFAULT_PER_ADDRESS 64
#define CS_MAX_WORKERS 256
#define CS_DEFAULT_FETCH_TIMEOUT_MS 10000
#define CS_DEFAULT_FETCH_PER_HOST 4
#define CS_DEFAULT_CRL_MAX_BYTES ((uint64_t)32 << 20)
#define CS_DEFAULT_VERIFY_LEVEL 2

#endif
