/* certsweep merge SHARD... : the reports of the N shards of one scan
 * (certsweep --shard K/N) as one scan's reports.  Every format reads back
 * (report/read.h) and every format is written, through the same writers and
 * report files as a scan (-o, -F, -q, --csv-raw); the summary, the counts,
 * the text table's order and the exit code (--fail-on, a bad target line
 * counting as ERROR) are those of one scan of every shard's targets.  A
 * shard whose scan was interrupted (a JSON document's "complete": false)
 * makes the merged reports partial and the exit code 66; so does a shard
 * that cannot be read to its end, and then no -o report is left in place.
 * An endpoint found in two shards (a shard given twice, or reports of
 * different scans) is refused the same way.  Shards written with --only
 * (a JSON document's scan.only) list some records only: the merged reports
 * keep the first shard's filter and take the counts from the shards' own
 * summaries, and a shard whose header says another filter is refused. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "report/outfile.h"
#include "report/read.h"
#include "report/report.h"
#include "scanner/commands.h"
#include "scanner/error.h"
#include "scanner/options.h"
#include "scanner/terminal.h"
#include "version.h"

struct merge_out {
    const char *path; /* NULL: the standard output report */
    struct cs_outfile out;
    FILE *f;
    struct cs_writer w;
    int err; /* the first failure, a negative code; 0: fine */
};

/* The endpoints seen so far, as 64-bit digests of their identity (host in
   lower case, port, SNI, protocol, address): an open-addressing set. */
struct merge_seen {
    uint64_t *keys; /* 0: empty */
    size_t cap, used;
};

static uint64_t merge_digest(const struct cs_result *r)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    const char *parts[] = {r->host, r->sni, r->protocol, r->address};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        for (const char *p = parts[i] ? parts[i] : ""; *p; p++) {
            unsigned char c = (unsigned char)*p;
            h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32u : c)) * 0x100000001b3ull;
        }
        h = (h ^ 0xffu) * 0x100000001b3ull;
    }
    h = (h ^ (uint64_t)r->port) * 0x100000001b3ull;
    return h | 1;
}

/* 1 if r's endpoint is new (and now in the set), 0 if seen before. */
static int merge_seen_add(struct merge_seen *s, const struct cs_result *r)
{
    if ((s->used + 1) * 4 > s->cap * 3) {
        size_t ncap = s->cap ? 2 * s->cap : 1024;
        uint64_t *nk = cs_xcalloc(ncap, sizeof(*nk));
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i]) {
                size_t h = (size_t)(s->keys[i] * 0x9E3779B97F4A7C15ull) & (ncap - 1);
                while (nk[h])
                    h = (h + 1) & (ncap - 1);
                nk[h] = s->keys[i];
            }
        free(s->keys);
        s->keys = nk;
        s->cap = ncap;
    }
    uint64_t k = merge_digest(r);
    for (size_t h = (size_t)(k * 0x9E3779B97F4A7C15ull) & (s->cap - 1);;
         h = (h + 1) & (s->cap - 1)) {
        if (s->keys[h] == k)
            return 0;
        if (!s->keys[h]) {
            s->keys[h] = k;
            s->used++;
            return 1;
        }
    }
}

/* A bad target line's record: no probe, and the reason says where. */
static bool merge_bad_line(const struct cs_result *r)
{
    return r->status == CS_ERROR && !r->protocol && r->reason &&
           strncmp(r->reason, "input: ", 7) == 0;
}

static void merge_usage(FILE *out)
{
    fputs("usage: certsweep merge SHARD... [-o FILE]... [-F FORMAT] [-q] [--fail-on LEVEL] "
          "[--csv-raw] [--only STATUSES] [--sort KEY]\n"
          "The reports of the shards of one scan (certsweep --shard K/N, any mix of JSON, JSON "
          "Lines and CSV) as the reports of one scan: every format, the summary, the order and "
          "the exit code.\n",
          out);
}

/* Folds one shard's header into the merged scan's. */
static void merge_meta(struct cs_scan_info *info, struct cs_summary *sum, bool first,
                       const struct cs_report_meta *m)
{
    if (!m->complete)
        sum->complete = false;
    sum->ocsp_fetches += m->ocsp_fetches;
    sum->crl_fetches += m->crl_fetches;
    if (!m->has_scan)
        return;
    if (first || info->started_at == CS_INT_NONE ||
        (m->started_at != CS_INT_NONE && m->started_at < info->started_at))
        info->started_at = m->started_at;
    if (m->finished_at != CS_INT_NONE &&
        (sum->finished_at == CS_INT_NONE || m->finished_at > sum->finished_at))
        sum->finished_at = m->finished_at;
    if (first || info->now == CS_INT_NONE) {
        info->now = m->now;
        info->warn_secs = m->warn_secs;
        info->crit_secs = m->crit_secs;
        info->ocsp = m->ocsp;
        info->crl = m->crl;
        info->require_revocation = m->require_revocation;
    }
}

static int merge_open_outputs(const struct cs_options *o, struct merge_out *outs, size_t *n,
                              const struct cs_scan_info *info)
{
    unsigned flags = o->csv_raw ? CS_WRITER_CSV_RAW : 0;
    flags |= o->csv_excel ? CS_WRITER_CSV_EXCEL : 0;
    bool to_stdout = false;
    for (size_t i = 0; i < o->n_outputs; i++) {
        struct merge_out *m = &outs[*n];
        m->path = o->outputs[i].path;
        to_stdout |= strcmp(m->path, "-") == 0;
        int e = cs_outfile_open(&m->out, m->path);
        if (e < 0) {
            fprintf(stderr, "certsweep: %s: cannot create report: %s\n", m->path, cs_strerror(e));
            return CS_EXIT_CANTCREAT;
        }
        m->f = m->out.f;
        m->err = cs_writer_open(&m->w, o->outputs[i].ops, m->f, info, flags);
        (*n)++;
    }
    if (!o->quiet && !to_stdout) {
        struct merge_out *m = &outs[(*n)++];
        m->f = stdout;
        bool color =
            o->stdout_format == &cs_writer_text && cs_terminal_color(o->color, STDOUT_FILENO);
        m->err = cs_writer_open(&m->w, o->stdout_format, stdout, info,
                                flags | (color ? CS_WRITER_COLOR : 0));
    }
    return 0;
}

/* Closes every report: committed when all went well, else abandoned. */
static int merge_close_outputs(struct merge_out *outs, size_t n, const struct cs_summary *sum,
                               bool keep)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct merge_out *m = &outs[i];
        int e = cs_writer_close(&m->w, sum);
        m->err = m->err ? m->err : e;
        if (m->path && (!keep || m->err))
            cs_outfile_abandon(&m->out);
        else if (m->path)
            m->err = cs_outfile_commit(&m->out);
        else if (fflush(stdout) != 0 && !m->err)
            m->err = -errno;
        if (m->err && keep && m->err != -EPIPE) {
            fprintf(stderr, "certsweep: %s: writing the report failed: %s\n",
                    m->path ? m->path : "standard output", cs_strerror(m->err));
            rc = CS_EXIT_IOERR;
        }
    }
    return rc;
}

/* Refuses a shard whose --only (from its JSON header) is not the first
   shard's: the merged counts and rows would mix filtered and whole scans.
   0, or CS_EXIT_NOINPUT after saying why. */
static int merge_same_filter(const char *path, const struct cs_report_meta *m,
                             const char *first_path, unsigned first_only)
{
    if (!m->has_scan || m->only == first_only)
        return 0;
    char words[64], first_words[64];
    cs_report_only_words(m->only, words, sizeof(words));
    cs_report_only_words(first_only, first_words, sizeof(first_words));
    fprintf(stderr,
            "certsweep: %s: written with %s%s but %s with %s%s: merge shards filtered the same "
            "way (the same --only, or none)\n",
            path, m->only ? "--only " : "no --only", words, first_path,
            first_only ? "--only " : "no --only", first_words);
    return CS_EXIT_NOINPUT;
}

/* A filtered shard's counts are its summary's (every record, as the scan
   counted them); an unfiltered one's are counted from its records. */
static void merge_count_summary(struct cs_summary *sum, const struct cs_report_meta *m)
{
    for (int st = 0; st < CS_STATUS_COUNT; st++) {
        sum->count[st] += m->summary[st];
        sum->targets += m->summary[st];
    }
}

/* Reads every shard into the reports.  0, or CS_EXIT_NOINPUT after saying
   why on stderr. */
static int merge_shards(const struct cs_options *o, struct cs_report_reader *first,
                        struct merge_out *outs, size_t n_outs, struct cs_scan_info *info,
                        struct cs_summary *sum, uint64_t *bad_lines)
{
    struct merge_seen seen = {0};
    char err[1024];
    int rc = 0;
    unsigned first_only = cs_report_meta(first)->only; /* first is closed in the loop */
    for (size_t i = 0; i < o->n_targets && !rc; i++) {
        struct cs_report_reader *rd = i ? cs_report_open(o->targets[i], err, sizeof(err)) : first;
        if (!rd) {
            fprintf(stderr, "certsweep: %s\n", err);
            rc = CS_EXIT_NOINPUT;
            break;
        }
        const struct cs_report_meta *m = cs_report_meta(rd);
        if (i) { /* the first one's header was taken before the reports were opened */
            merge_meta(info, sum, false, m);
            rc = merge_same_filter(o->targets[i], m, o->targets[0], first_only);
        }
        bool filtered = !rc && m->only != 0;
        if (filtered)
            merge_count_summary(sum, m);
        struct cs_result r;
        int got = 0;
        while (!rc && (got = cs_report_next(rd, &r, err, sizeof(err))) > 0) {
            if (merge_bad_line(&r)) {
                (*bad_lines)++;
            } else if (!merge_seen_add(&seen, &r)) {
                fprintf(stderr,
                        "certsweep: %s: %s:%lld (%s) is in an earlier shard too: a shard given "
                        "twice, or shards of different scans\n",
                        o->targets[i], r.host, (long long)r.port, r.protocol ? r.protocol : "tls");
                rc = CS_EXIT_NOINPUT;
            }
            if (!filtered) {
                sum->count[r.status]++;
                sum->targets++;
            }
            for (size_t k = 0; !rc && k < n_outs; k++)
                if (!outs[k].err)
                    outs[k].err = cs_writer_record(&outs[k].w, &r);
            cs_result_free(&r);
        }
        if (!rc && got < 0) {
            fprintf(stderr, "certsweep: %s\n", err);
            rc = CS_EXIT_NOINPUT;
        }
        cs_report_close(rd);
    }
    free(seen.keys);
    return rc;
}

/* The merged reports' filter: the shards' (the first one's header), narrowed
   by merge's own --only.  0 when there is none, or when the two keep no
   status in common (said). */
static unsigned merge_only(const struct cs_options *o, const char *first_path, unsigned shards)
{
    if (!shards || !o->only)
        return shards | o->only; /* one filter, or none */
    if (shards & o->only)
        return shards & o->only;
    char words[64];
    cs_report_only_words(shards, words, sizeof(words));
    fprintf(stderr,
            "certsweep merge: --only keeps none of the records of %s, written with --only %s "
            "(give statuses among those)\n",
            first_path, words);
    return 0;
}

static int merge_run(int argc, char **argv)
{
    static const char *const allowed[] = {"color",  "csv-excel", "csv-raw", "fail-on",
                                          "format", "help",      "only",    "output",
                                          "quiet",  "sort",      "wide",    NULL};
    struct cs_options o;
    cs_options_init(&o);
    struct cs_cli_notes notes;
    enum cs_cli_result what = cs_cli_parse_command("merge", allowed, &o, argc, argv, &notes);
    if (what == CS_CLI_USAGE)
        fprintf(stderr, "certsweep merge: %s (see certsweep merge --help)\n", notes.error);
    else
        for (size_t i = 0; i < notes.n_warnings; i++)
            fprintf(stderr, "certsweep merge: warning: %s\n", notes.warnings[i]);
    cs_cli_notes_free(&notes);
    if (what == CS_CLI_OK && o.n_targets == 0) {
        fputs("certsweep merge: no shard reports (give the reports of certsweep --shard K/N; "
              "see certsweep merge --help)\n",
              stderr);
        what = CS_CLI_USAGE;
    }
    if (what != CS_CLI_OK) {
        if (what == CS_CLI_HELP)
            merge_usage(stdout);
        cs_options_free(&o);
        return what == CS_CLI_HELP ? CS_EXIT_OK : CS_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    char err[1024];
    /* the first shard is opened before the reports: its header says what the
       scan was (a text table shows revocation when it was asked for) */
    struct cs_report_reader *first = cs_report_open(o.targets[0], err, sizeof(err));
    if (!first) {
        fprintf(stderr, "certsweep: %s\n", err);
        cs_options_free(&o);
        return CS_EXIT_NOINPUT;
    }
    unsigned only = merge_only(&o, o.targets[0], cs_report_meta(first)->only);
    if (only == 0 && o.only) {
        cs_report_close(first);
        cs_options_free(&o);
        return CS_EXIT_USAGE;
    }
    struct cs_scan_info info = {.tool = "certsweep",
                                .version = CS_VERSION,
                                .started_at = CS_INT_NONE,
                                .now = CS_INT_NONE,
                                .warn_secs = -1,
                                .crit_secs = -1,
                                .only = only,
                                .sort = o.sort,
                                /* the table as a scan's (scanner/terminal.h) */
                                .text_width = cs_terminal_columns(-1),
                                .text_width_stdout = cs_terminal_columns(STDOUT_FILENO),
                                .text_wide = o.wide};
    struct cs_summary sum = {.complete = true, .finished_at = CS_INT_NONE};
    merge_meta(&info, &sum, true, cs_report_meta(first));
    struct merge_out *outs = cs_xcalloc(o.n_outputs + 1, sizeof(*outs));
    size_t n_outs = 0;
    int rc = merge_open_outputs(&o, outs, &n_outs, &info);
    uint64_t bad_lines = 0;
    if (rc)
        cs_report_close(first);
    else
        rc = merge_shards(&o, first, outs, n_outs, &info, &sum, &bad_lines);
    info.targets = sum.targets;
    int out_rc = merge_close_outputs(outs, n_outs, &sum, rc == 0);
    free(outs);
    if (!rc && !sum.complete) {
        fputs("certsweep: a shard's scan was interrupted (\"complete\": false): the merged "
              "reports say they are partial\n",
              stderr);
        rc = CS_EXIT_NOINPUT;
    }
    if (!rc && !out_rc) {
        rc = cs_exit_code(sum.count, o.fail_on);
        if (rc == CS_EXIT_OK && bad_lines && o.fail_on)
            rc = CS_EXIT_ERROR; /* as in a scan: a bad target line counts as ERROR */
    }
    cs_options_free(&o);
    return rc ? rc : out_rc;
}

const struct cs_command cs_command_merge = {
    .name = "merge",
    .usage = "SHARD... [-o FILE]... [-F FORMAT] [--fail-on LEVEL]",
    .summary = "the reports of --shard K/N runs as one scan's reports and exit code",
    .run = merge_run,
};
