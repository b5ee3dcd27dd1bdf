/* What is written from the option table: --help, --version, the man page
 * (roff) and the bash, zsh and fish completion scripts.  The build runs the
 * binary's hidden --print-* options to make the last four. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <csv.h>
#include <curl/curl.h>
#include <expat.h>
#include <idn2.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <uv.h>

#include "scanner/cli.h"
#include "scanner/commands.h"
#include "probes/probe.h"
#include "report/report.h"
#include "version.h"

/* The exit codes, for --help and the man page. */
static const struct {
    enum cs_exit code;
    const char *meaning;
} exit_codes[] = {
    {CS_EXIT_OK, "every endpoint OK, or nothing that --fail-on counts"},
    {CS_EXIT_WARNING, "the worst status counted is WARNING"},
    {CS_EXIT_CRITICAL, "a CRITICAL or EXPIRED endpoint"},
    {CS_EXIT_ERROR, "the worst status counted is ERROR (bad target lines count as ERROR "
                    "unless --fail-on never)"},
    {CS_EXIT_USAGE, "usage error"},
    {CS_EXIT_NOINPUT, "an input file unreadable, or no target at all"},
    {CS_EXIT_SOFTWARE, "internal error"},
    {CS_EXIT_CANTCREAT, "a report cannot be created"},
    {CS_EXIT_IOERR, "a report could not be written"},
};

/* A size as written in help and messages: 1K, 32M, 4G, or bytes. */
static void format_size(uint64_t v, char *buf, size_t len)
{
    static const char units[] = "GMK";
    for (int i = 0; i < 3; i++) {
        uint64_t unit = (uint64_t)1 << (10 * (3 - i));
        if (v >= unit && v % unit == 0) {
            snprintf(buf, len, "%llu%c", (unsigned long long)(v / unit), units[i]);
            return;
        }
    }
    snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* Milliseconds as seconds: 0.001, 5, 2.5. */
static void format_secs(uint64_t ms, char *buf, size_t len)
{
    snprintf(buf, len, "%g", (double)ms / 1000);
}

/* An option's bounds joined by sep ("1-65535", "0.001 to 86400"); "" if none. */
void cs_cli_format_bounds(const struct cs_opt *op, const char *sep, char *buf, size_t len)
{
    char lo[24], hi[24];
    switch (op->arg) {
    case CS_ARG_UINT:
    case CS_ARG_DAYS:
        snprintf(lo, sizeof(lo), "%llu", (unsigned long long)op->min);
        snprintf(hi, sizeof(hi), "%llu", (unsigned long long)op->max);
        break;
    case CS_ARG_SECS:
        format_secs(op->min, lo, sizeof(lo));
        format_secs(op->max, hi, sizeof(hi));
        break;
    case CS_ARG_SIZE:
        format_size(op->min, lo, sizeof(lo));
        format_size(op->max, hi, sizeof(hi));
        break;
    default:
        buf[0] = '\0';
        return;
    }
    snprintf(buf, len, "%s%s%s", lo, sep, hi);
}

/* The unit of an option's bounds, as help writes it after them. */
static const char *bounds_unit(const struct cs_opt *op)
{
    return op->arg == CS_ARG_DAYS ? " days" : op->arg == CS_ARG_SECS ? " seconds" : "";
}

/* The number in the option's field (for the defaults shown in help). */
static uint64_t load_number(const struct cs_opt *op, const struct cs_options *o)
{
    const void *f = (const char *)o + op->offset;
    switch (op->store) {
    case CS_STORE_U16:
        return *(const uint16_t *)f;
    case CS_STORE_UINT:
        return *(const unsigned *)f;
    case CS_STORE_INT: {
        int v = *(const int *)f;
        return (uint64_t)v;
    }
    case CS_STORE_U64:
        return *(const uint64_t *)f;
    case CS_STORE_I64: {
        int64_t v = *(const int64_t *)f;
        return (uint64_t)v;
    }
    case CS_STORE_DOUBLE: {
        double v = *(const double *)f;
        return (uint64_t)v;
    }
    default:
        return 0;
    }
}

/* ---- what is written from the table ------------------------------------------------------- */

#define SUMMARY                                                                                    \
    "Scan TLS endpoints and report certificate expiry: OK, WARNING, CRITICAL, "                    \
    "EXPIRED, ERROR."
#define TARGET_SYNTAX "host | host:port | IPv4[:port] | [IPv6]:port"

/* The help sentence with its bounds and default: "port of ... (1-65535; default 443)". */
static void describe(const struct cs_opt *op, char *buf, size_t len)
{
    char range[128], bounds[160], deflt[64] = "";
    cs_cli_format_bounds(op, "-", range, sizeof(range));
    snprintf(bounds, sizeof(bounds), "%s%s", range, range[0] ? bounds_unit(op) : "");
    if (op->deflt) {
        snprintf(deflt, sizeof(deflt), "%s", op->deflt);
    } else if (op->arg != CS_ARG_NONE && op->arg != CS_ARG_STRING && op->arg != CS_ARG_CUSTOM) {
        struct cs_options d;
        cs_options_init(&d);
        uint64_t v = load_number(op, &d);
        if (op->arg == CS_ARG_SECS)
            format_secs(v, deflt, sizeof(deflt));
        else if (op->arg == CS_ARG_SIZE)
            format_size(v, deflt, sizeof(deflt));
        else
            snprintf(deflt, sizeof(deflt), "%llu",
                     (unsigned long long)(op->arg == CS_ARG_DAYS ? v / CS_DAY_SECS : v));
        cs_options_free(&d);
    }
    if (!bounds[0] && !deflt[0])
        snprintf(buf, len, "%s", op->help);
    else
        snprintf(buf, len, "%s (%s%s%s%s)", op->help, bounds, bounds[0] && deflt[0] ? "; " : "",
                 deflt[0] ? "default " : "", deflt);
}

/* Writes text from column col, wrapped before width, continued at indent. */
static void wrap(FILE *out, const char *text, size_t col, size_t indent, size_t width)
{
    const char *p = text;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (col > indent && col + 1 + w > width) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", (int)w, p);
        col += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

#define HELP_COLUMN 29
#define HELP_WIDTH 79

void cs_cli_write_help(FILE *out)
{
    fputs("Usage: certsweep [OPTIONS] [TARGET ...]\n", out);
    wrap(out, SUMMARY, 0, 0, HELP_WIDTH);
    fputc('\n', out);
    fprintf(out, "  %-*s%s\n", HELP_COLUMN - 2, "TARGET", TARGET_SYNTAX);
    for (size_t i = 0; i < cs_cli_n_options; i++) {
        const struct cs_opt *op = &cs_cli_options[i];
        if (op->flags & CS_OPT_HIDDEN)
            continue;
        char left[64], text[1024];
        snprintf(left, sizeof(left), "%c%c%c --%s%s%s", op->letter ? '-' : ' ',
                 op->letter ? op->letter : ' ', op->letter ? ',' : ' ', op->name,
                 op->metavar ? " " : "", op->metavar ? op->metavar : "");
        describe(op, text, sizeof(text));
        size_t col = 2 + strlen(left);
        fprintf(out, "  %s", left);
        if (col + 1 >= HELP_COLUMN) {
            fprintf(out, "\n%*s", HELP_COLUMN, "");
        } else {
            fprintf(out, "%*s", (int)(HELP_COLUMN - col), "");
        }
        wrap(out, text, HELP_COLUMN, HELP_COLUMN, HELP_WIDTH);
    }
    char *jobs = NULL; /* the subcommands, when there are any */
    size_t jobs_len = 0;
    FILE *m = open_memstream(&jobs, &jobs_len);
    if (m) {
        cs_command_list(m);
        fclose(m);
        if (jobs_len)
            fprintf(out,
                    "\nOther jobs (the first argument; scan a host of that name as "
                    "certsweep -- NAME):\n%s",
                    jobs);
        free(jobs);
    }
    fputs("\nProbes (a target's URL scheme names one: https://, imaps://, ..., tls://):\n", out);
    cs_probe_list(out);
    fputs("\nReport formats (-F NAME, or -o FILE.EXT):\n", out);
    cs_writer_list(out);
    fputs("\nExit status:\n", out);
    for (size_t i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++) {
        fprintf(out, "  %-4d", exit_codes[i].code);
        wrap(out, exit_codes[i].meaning, 6, 6, HELP_WIDTH);
    }
    fprintf(out, "  %-4s", "130");
    wrap(out, "interrupted by SIGINT (143: SIGTERM); the reports say they are partial", 6, 6,
         HELP_WIDTH);
}

/* The version, then each library as the dynamic linker found it: what the
   library says of itself at run time (a bug report needs the copy in use,
   not the headers it was built with).  libcsv has no such call: its line
   says it is the version built against. */
void cs_cli_write_version(FILE *out)
{
    XML_Expat_Version expat = XML_ExpatVersionInfo();
    fprintf(out, "certsweep %s\n", CS_VERSION);
    fprintf(out, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(out, "  libuv %s\n", uv_version_string());
    fprintf(out, "  c-ares %s\n", ares_version(NULL));
    fprintf(out, "  libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    fprintf(out, "  SQLite %s\n", sqlite3_libversion());
    fprintf(out, "  expat %d.%d.%d\n", expat.major, expat.minor, expat.micro);
    fprintf(out, "  jansson %s\n", jansson_version_str());
    fprintf(out, "  libidn2 %s\n", idn2_check_version(NULL));
    fprintf(out, "  libcsv %d.%d.%d (built with)\n", CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
}

/* Text for roff: backslashes and hyphens escaped, a leading dot or quote defused. */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

void cs_cli_write_man(FILE *out)
{
    fprintf(out, ".TH CERTSWEEP 1 \"\" \"certsweep %s\" \"User Commands\"\n", CS_VERSION);
    fputs(".SH NAME\ncertsweep \\- scan TLS endpoints and report certificate expiry\n", out);
    fputs(".SH SYNOPSIS\n.B certsweep\n[\\fIOPTIONS\\fR] [\\fITARGET\\fR ...]\n", out);
    fputs(".SH DESCRIPTION\n", out);
    roff(out, SUMMARY);
    fputs("\n.PP\nA \\fITARGET\\fR is ", out);
    roff(out, TARGET_SYNTAX);
    fputs(".\nTargets are also read from files given to \\fB\\-f\\fR, one a line; '#' starts a "
          "comment.\n.SH OPTIONS\n",
          out);
    for (size_t i = 0; i < cs_cli_n_options; i++) {
        const struct cs_opt *op = &cs_cli_options[i];
        if (op->flags & CS_OPT_HIDDEN)
            continue;
        char text[1024];
        describe(op, text, sizeof(text));
        fputs(".TP\n", out);
        if (op->letter)
            fprintf(out, "\\fB\\-%c\\fR, ", op->letter);
        fputs("\\fB\\-\\-", out);
        roff(out, op->name);
        fputs("\\fR", out);
        if (op->metavar) {
            fputs(" \\fI", out);
            roff(out, op->metavar);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        roff(out, text);
        fputc('\n', out);
    }
    /* the subcommands, from their registry (commands.c) */
    fputs(".SH COMMANDS\nThe first argument may name another job than a scan (a host of that "
          "name is scanned as \\fBcertsweep \\-\\- NAME\\fR):\n",
          out);
    const struct cs_command *cmd;
    for (size_t i = 0; (cmd = cs_command_at(i)); i++) {
        fputs(".TP\n\\fBcertsweep ", out);
        roff(out, cmd->name);
        fputs("\\fR ", out);
        roff(out, cmd->usage);
        fputc('\n', out);
        roff(out, cmd->summary);
        fputc('\n', out);
    }
    fputs(".SH EXIT STATUS\n", out);
    for (size_t i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++) {
        fprintf(out, ".TP\n.B %d\n", exit_codes[i].code);
        roff(out, exit_codes[i].meaning);
        fputc('\n', out);
    }
    fputs(".TP\n.B 130, 143\ninterrupted by SIGINT or SIGTERM; the reports say they are "
          "partial\n",
          out);
    fputs(".SH ENVIRONMENT\n.TP\n.B NO_COLOR\nset and not empty: no colour in the text table "
          "(\\-\\-color always still colours; set but empty changes nothing)\n"
          ".TP\n.B TERM\n\\fBdumb\\fR: no colour in the text table (unless \\-\\-color "
          "always)\n"
          ".TP\n.B COLUMNS\nthe width the text table fits, instead of the terminal's (80 "
          "when neither is known, as for files and pipes)\n",
          out);
    fputs(".SH EXAMPLES\n.nf\ncertsweep example.com example.org:8443\n"
          "certsweep \\-f domains.txt \\-o report.csv \\-o report.json \\-q\n"
          "certsweep \\-\\-ocsp \\-\\-crl \\-\\-fail\\-on critical \\-f domains.txt\n.fi\n",
          out);
}

/* The option names and what completes each argument, as a bash case. */
void cs_cli_write_bash_completion(FILE *out)
{
    fputs("# bash completion for certsweep, written from its option table\n"
          "_certsweep()\n{\n    local cur=${COMP_WORDS[COMP_CWORD]} "
          "prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    case $prev in\n",
          out);
    static const char *const action[] = {
        [CS_COMPLETE_NOTHING] = "return",
        [CS_COMPLETE_FILE] =
            "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return",
        [CS_COMPLETE_DIR] =
            "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\")); return",
    };
    for (size_t i = 0; i < cs_cli_n_options; i++) {
        const struct cs_opt *op = &cs_cli_options[i];
        if ((op->flags & CS_OPT_HIDDEN) || op->arg == CS_ARG_NONE)
            continue;
        fputs("    ", out);
        if (op->letter)
            fprintf(out, "-%c|", op->letter);
        fprintf(out, "--%s) ", op->name);
        if (op->complete == CS_COMPLETE_WORDS)
            fprintf(out, "COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return", op->words);
        else
            fputs(action[op->complete], out);
        fputs(" ;;\n", out);
    }
    fputs("    esac\n    if [[ $cur == -* ]]; then\n        COMPREPLY=($(compgen -W '", out);
    for (size_t i = 0, n = 0; i < cs_cli_n_options; i++)
        if (!(cs_cli_options[i].flags & CS_OPT_HIDDEN))
            fprintf(out, "%s--%s", n++ ? " " : "", cs_cli_options[i].name);
    fputs("' -- \"$cur\"))\n        return\n    fi\n"
          "    COMPREPLY=($(compgen -A hostname -- \"$cur\"))\n}\n"
          "complete -F _certsweep certsweep\n",
          out);
}

static size_t first_clause(const char *s);

/* A help text for zsh's brackets: its first clause, with ' [ ] : escaped. */
static void zsh_text(FILE *out, const char *s)
{
    size_t n = first_clause(s);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            fputs("'\\''", out);
        else if (s[i] == '[' || s[i] == ']')
            fprintf(out, "\\%c", s[i]);
        else
            fputc(s[i], out);
    }
}

void cs_cli_write_zsh_completion(FILE *out)
{
    fputs("#compdef certsweep\n# zsh completion for certsweep, written from its option table\n"
          "_arguments -s -S \\\n",
          out);
    for (size_t i = 0; i < cs_cli_n_options; i++) {
        const struct cs_opt *op = &cs_cli_options[i];
        if (op->flags & CS_OPT_HIDDEN)
            continue;
        fputs("  ", out);
        bool rep = op->flags & CS_OPT_REPEAT;
        if (op->letter && rep)
            fprintf(out, "'*'{-%c,--%s}'", op->letter, op->name);
        else if (op->letter)
            fprintf(out, "'(-%c --%s)'{-%c,--%s}'", op->letter, op->name, op->letter, op->name);
        else
            fprintf(out, "'%s--%s", rep ? "*" : "", op->name);
        fputc('[', out);
        zsh_text(out, op->help);
        fputc(']', out);
        if (op->arg != CS_ARG_NONE) {
            fputc(':', out);
            for (const char *m = op->metavar; *m; m++)
                fprintf(out, "%s%c", *m == ':' ? "\\" : "", *m);
            fputc(':', out);
            if (op->complete == CS_COMPLETE_FILE)
                fputs("_files", out);
            else if (op->complete == CS_COMPLETE_DIR)
                fputs("_files -/", out);
            else if (op->complete == CS_COMPLETE_WORDS)
                fprintf(out, "(%s)", op->words);
        }
        fputs("' \\\n", out);
    }
    fputs("  '*:target:_hosts'\n", out);
}

/* Text for a single-quoted fish string: \\ and \' escaped. */
static void fish_quoted(FILE *out, const char *s, size_t n)
{
    fputc('\'', out);
    for (size_t i = 0; i < n && s[i]; i++) {
        if (s[i] == '\\' || s[i] == '\'')
            fputc('\\', out);
        fputc(s[i], out);
    }
    fputc('\'', out);
}

/* A help text's first clause, as zsh_text takes it, for a description. */
static size_t first_clause(const char *s)
{
    size_t n = strcspn(s, "(;:");
    while (n && s[n - 1] == ' ')
        n--;
    return n;
}

/* One complete line per option: -x for an argument that is no file (fish
   would offer files otherwise), -r -F for a file, the directories or the
   table's words as candidates. */
void cs_cli_write_fish_completion(FILE *out)
{
    fputs("# fish completion for certsweep, written from its option table\n"
          "complete -c certsweep -f -a '(__fish_print_hostnames)'\n",
          out);
    for (size_t i = 0; i < cs_cli_n_options; i++) {
        const struct cs_opt *op = &cs_cli_options[i];
        if (op->flags & CS_OPT_HIDDEN)
            continue;
        fputs("complete -c certsweep", out);
        if (op->letter)
            fprintf(out, " -s %c", op->letter);
        fprintf(out, " -l %s", op->name);
        if (op->arg != CS_ARG_NONE) {
            if (op->complete == CS_COMPLETE_FILE) {
                fputs(" -r -F", out);
            } else if (op->complete == CS_COMPLETE_DIR) {
                fputs(" -x -a '(__fish_complete_directories)'", out);
            } else if (op->complete == CS_COMPLETE_WORDS) {
                fputs(" -x -a ", out);
                fish_quoted(out, op->words, strlen(op->words));
            } else {
                fputs(" -x", out);
            }
        }
        fputs(" -d ", out);
        fish_quoted(out, op->help, first_clause(op->help));
        fputc('\n', out);
    }
}
