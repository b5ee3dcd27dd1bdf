/* certsweep: the command line, the reports, the scan and the exit code.
 * The only place that exits.  Each -o report to a regular file is written
 * to a temporary file beside it and renamed into place when complete (see
 * report/outfile.h), so a report that exists is whole; one report that
 * cannot be written never stops the others. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report/outfile.h"
#include "report/report.h"
#include "scanner/cert.h"
#include "scanner/commands.h"
#include "scanner/engine.h"
#include "scanner/expect.h"
#include "scanner/error.h"
#include "scanner/notify.h"
#include "scanner/history.h"
#include "scanner/options.h"
#include "scanner/progress.h"
#include "scanner/targets.h"
#include "scanner/terminal.h"
#include "version.h"

struct report {
    const char *path;      /* NULL: the standard output table (not -o) */
    struct cs_outfile out; /* an -o report */
    FILE *f;
    struct cs_writer w;
    bool failed; /* a write failed: the report is abandoned */
    int err;     /* the first failure: a negative code (error.h) */
};

struct sink {
    struct report *reports;
    size_t n;
    struct cs_summary summary;
    struct cs_notify *notify;   /* --notify, --mail-to: NULL without */
    struct cs_history *history; /* --history; NULL without it or once it failed */
    int history_rc;             /* the exit code a history failure asks for, or 0 */
    bool hold_progress;         /* a report streams to the terminal the progress is on */
};

/* The progress on stderr while the scan runs (NULL: none): whatever else
   goes to the terminal meanwhile erases it first. */
static struct cs_progress *progress;

static int history_exit_code(enum cs_history_fault fault)
{
    return fault == CS_HISTORY_NOTOURS ? CS_EXIT_NOINPUT
           : fault == CS_HISTORY_WRITE ? CS_EXIT_IOERR
                                       : CS_EXIT_CANTCREAT;
}

/* A history that fails is said once and dropped; the scan and its reports
   go on without it. */
static void history_failed(struct sink *s, const char *err, enum cs_history_fault fault)
{
    cs_progress_hold(progress);
    fprintf(stderr, "certsweep: %s; the scan goes on without history\n", err);
    cs_progress_release(progress);
    s->history_rc = s->history_rc ? s->history_rc : history_exit_code(fault);
    cs_history_close(s->history);
    s->history = NULL;
}

static const char *report_name(const struct report *r)
{
    return r->path && strcmp(r->path, "-") != 0 ? r->path : "standard output";
}

/* err: a negative code, or 0 for "what errno says" (a stdio failure) */
static void report_failed(struct report *r, int err)
{
    if (!r->failed) {
        r->failed = true;
        r->err = err < 0 ? err : errno ? -errno : -EIO;
    }
}

static void on_result(void *arg, const struct cs_result *rec)
{
    struct sink *s = arg;
    struct cs_result with_change; /* rec, borrowed, with the history's fields */
    const struct cs_result *res = rec;
    enum cs_change change;
    int64_t first_seen;
    char err[512];
    if (s->history) {
        int hrc = cs_history_observe(s->history, rec, &change, &first_seen, err, sizeof(err));
        if (hrc < 0)
            history_failed(s, err, CS_HISTORY_WRITE);
        else if (hrc > 0) {
            with_change = *rec;
            with_change.change = (char *)cs_change_name(change);
            with_change.first_seen = first_seen;
            res = &with_change;
        }
    }
    s->summary.count[res->status]++;
    s->summary.targets++;
    if (s->notify)
        cs_notify_record(s->notify, res);
    if (s->hold_progress)
        cs_progress_hold(progress);
    for (size_t i = 0; i < s->n; i++) {
        struct report *r = &s->reports[i];
        if (r->failed)
            continue;
        int rc = cs_writer_record(&r->w, res);
        if (rc < 0 || ferror(r->f))
            report_failed(r, rc);
    }
    if (s->hold_progress) {
        fflush(stdout); /* the record whole on the terminal before the progress returns */
        cs_progress_release(progress);
    }
}

/* Finishes a report: flush, and for -o put it in place.  0 or a negative code. */
static int report_finish(struct report *r)
{
    if (!r->path) {
        if (fflush(r->f) != 0 || ferror(r->f))
            report_failed(r, 0);
    } else if (r->failed) {
        cs_outfile_abandon(&r->out);
    } else {
        int e = cs_outfile_commit(&r->out);
        if (e)
            report_failed(r, e);
    }
    r->f = NULL;
    return r->failed ? r->err : 0;
}

/* Reads every target once without scanning, so that --strict-input can
   refuse a bad file before any probe starts.  0, or the exit code. */
/* --help, --version and what the build writes from the option table. */
static int print_and_exit(enum cs_cli_result what)
{
    switch (what) {
    case CS_CLI_HELP:
        cs_cli_write_help(stdout);
        break;
    case CS_CLI_VERSION:
        cs_cli_write_version(stdout);
        break;
    case CS_CLI_MAN:
        cs_cli_write_man(stdout);
        break;
    case CS_CLI_BASH:
        cs_cli_write_bash_completion(stdout);
        break;
    case CS_CLI_FISH:
        cs_cli_write_fish_completion(stdout);
        break;
    default:
        cs_cli_write_zsh_completion(stdout);
        break;
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? CS_EXIT_OK : CS_EXIT_IOERR;
}

static struct cs_interrupt interrupt; /* raised by SIGINT and SIGTERM */

static void on_signal(int signum)
{
    cs_interrupt_raise(&interrupt, signum);
}

/* During the scan, SIGINT and SIGTERM interrupt it (a second time: at once);
   before and after it, they have their default effect. */
static void catch_interrupts(bool on)
{
    struct sigaction sa = {.sa_handler = on ? on_signal : SIG_DFL, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The target reader's notices, from whichever thread reads: a bad line as
   it is ("FILE:LINE: why"), an input failure as certsweep's own. */
static void say_notice(void *arg, enum cs_notice kind, const char *line)
{
    (void)arg;
    cs_progress_hold(progress);
    fprintf(stderr, "%s%s\n",
            kind == CS_NOTICE_BAD_LINE ? ""
            : kind == CS_NOTICE_LABEL  ? "certsweep: warning: "
                                       : "certsweep: ",
            line);
    cs_progress_release(progress);
}

/* The targets of o, or NULL after saying why */
static struct cs_targets *open_targets(const struct cs_options *o)
{
    char err[1024];
    struct cs_targets *ts = cs_targets_open(o, err, sizeof(err));
    if (!ts)
        fprintf(stderr, "certsweep: %s\n", err);
    else
        cs_targets_on_notice(ts, say_notice, NULL);
    return ts;
}

/* ---- being told (--notify, --mail-to) ------------------------------------------------------ */

/* After the reports are in place: the webhook and the mail, when
   --notify-on says so.  A delivery that fails is one line on stderr and exit
   75 (replacing 0-3); the reports are already written.  0 or 75. */
static int send_notifications(const struct cs_options *o, const struct cs_notify *n,
                              const struct cs_scan_info *info, const struct cs_summary *s)
{
    if (!n || !cs_notify_due(n, (enum cs_notify_on)o->notify_on))
        return 0;
    char err[1024];
    int rc = 0;
    if (o->notify && cs_notify_post(n, o->notify, info, s, err, sizeof(err)) < 0) {
        fprintf(stderr, "certsweep: --notify: %s (the reports are written)\n", err);
        rc = CS_EXIT_TEMPFAIL;
    }
    if (o->n_mail_to &&
        cs_notify_mail(n, o->sendmail, o->mail_to, o->n_mail_to, info, s, err, sizeof(err)) < 0) {
        fprintf(stderr, "certsweep: --mail-to: %s (the reports are written)\n", err);
        rc = CS_EXIT_TEMPFAIL;
    }
    return rc;
}

static int strict_precheck(const struct cs_options *o)
{
    for (size_t i = 0; i < o->n_files; i++)
        if (strcmp(o->files[i], "-") == 0)
            return 0; /* stdin cannot be read twice: checked while scanning */
    struct cs_targets *ts = open_targets(o);
    if (!ts)
        return CS_EXIT_NOINPUT;
    struct cs_target t;
    int rc = 0;
    while (cs_targets_next(ts, &t) > 0) {
        if (t.bad)
            rc = CS_EXIT_USAGE;
        cs_target_free(&t);
    }
    if (!rc && cs_targets_failed(ts))
        rc = CS_EXIT_NOINPUT; /* said by the reader; nothing scanned */
    cs_targets_close(ts);
    return rc;
}

/* Raises the open-file limit to its hard limit and lowers -j, with a
   warning, to what fits in it: each probe in flight holds a socket. */
static void fit_concurrency(struct cs_options *opt)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
            return;
    }
    rlim_t reserve = 64; /* stdio, reports, DNS sockets, trust store */
    unsigned want = opt->concurrency;
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)want + reserve > rl.rlim_cur) {
        unsigned fit = rl.rlim_cur > reserve + 1 ? (unsigned)(rl.rlim_cur - reserve) : 1;
        fprintf(stderr,
                "certsweep: -j %u needs more open files than allowed (%llu); using -j %u "
                "(raise 'ulimit -n')\n",
                want, (unsigned long long)rl.rlim_cur, fit);
        opt->concurrency = fit;
    }
}

int main(int argc, char **argv)
{
    const struct cs_command *command = argc > 1 ? cs_command_find(argv[1]) : NULL;
    if (command)
        return command->run(argc - 1, argv + 1);
    struct cs_options opt;
    cs_options_init(&opt);
    struct cs_cli_notes notes;
    enum cs_cli_result what = cs_cli_parse(&opt, argc, argv, &notes);
    if (what == CS_CLI_USAGE) /* one line: the error, without the warnings before it */
        fprintf(stderr, "certsweep: %s (see certsweep --help)\n", notes.error);
    else
        for (size_t i = 0; i < notes.n_warnings; i++)
            fprintf(stderr, "certsweep: warning: %s\n", notes.warnings[i]);
    cs_cli_notes_free(&notes);
    if (what != CS_CLI_OK) {
        cs_options_free(&opt);
        return what == CS_CLI_USAGE ? CS_EXIT_USAGE : print_and_exit(what);
    }
    signal(SIGPIPE, SIG_IGN);
    int rc = opt.strict_input ? strict_precheck(&opt) : 0;
    if (rc) {
        if (rc == CS_EXIT_USAGE)
            fputs("certsweep: bad target lines with --strict-input; nothing scanned\n", stderr);
        cs_options_free(&opt);
        return rc;
    }
    char err[512];
    X509_STORE *store = cs_trust_load(opt.ca_file, opt.ca_path, err, sizeof(err));
    if (!store) {
        fprintf(stderr, "certsweep: %s (give a readable PEM file or hashed directory)\n", err);
        cs_options_free(&opt);
        return CS_EXIT_NOINPUT;
    }
    struct cs_expect *expect = NULL;
    if (opt.n_expect) {
        expect = cs_expect_load(opt.expect, opt.n_expect, err, sizeof(err));
        if (!expect) {
            fprintf(stderr, "certsweep: %s\n", err);
            X509_STORE_free(store);
            cs_options_free(&opt);
            return CS_EXIT_NOINPUT;
        }
        if (expect->unreadable)
            fprintf(stderr,
                    "certsweep: warning: --expect: %zu file%s not read (first: %s); the "
                    "others are compared\n",
                    expect->unreadable, expect->unreadable == 1 ? "" : "s", expect->first_problem);
        opt.expect_set = expect;
    }
    struct cs_targets *targets = open_targets(&opt);
    if (!targets) {
        cs_expect_free(expect);
        X509_STORE_free(store);
        cs_options_free(&opt);
        return CS_EXIT_NOINPUT;
    }

    struct cs_strlist label_names;
    cs_targets_label_names(targets, &label_names); /* the CSV reports' label columns */
    int64_t started = (int64_t)time(NULL);
    struct cs_scan_info info = {
        .label_names = &label_names,
        .text_labels = opt.labels,
        .n_text_labels = opt.n_labels,
        .tool = "certsweep",
        .version = CS_VERSION,
        .started_at = started,
        .now = opt.has_now ? opt.now : started,
        .warn_secs = opt.warn_secs,
        .crit_secs = opt.crit_secs,
        .ocsp = opt.ocsp,
        .crl = opt.crl,
        .require_revocation = opt.require_revocation,
        .fail_on = opt.fail_on,
        .only = opt.only, /* --only and --sort: the writers' (report/order.h) */
        .sort = opt.sort,
        /* the text table's width (--wide, COLUMNS, the terminal's) */
        .text_width = cs_terminal_columns(-1),
        .text_width_stdout = cs_terminal_columns(STDOUT_FILENO),
        .text_wide = opt.wide,
    };
    struct sink sink = {0};
    if (opt.notify || opt.n_mail_to)
        sink.notify = cs_notify_new();
    sink.reports = cs_xcalloc(opt.n_outputs + 1, sizeof(*sink.reports));
    int out_rc = 0;
    unsigned flags = opt.csv_raw ? CS_WRITER_CSV_RAW : 0;
    flags |= opt.csv_excel ? CS_WRITER_CSV_EXCEL : 0;
    bool to_stdout = false; /* an -o FORMAT:- replaces the standard output table */
    for (size_t i = 0; i < opt.n_outputs; i++) {
        struct report *r = &sink.reports[sink.n];
        r->path = opt.outputs[i].path;
        to_stdout |= strcmp(r->path, "-") == 0;
        int e = cs_outfile_open(&r->out, r->path);
        if (e < 0) {
            fprintf(stderr, "certsweep: %s: cannot create report: %s (the scan goes on)\n",
                    opt.outputs[i].path, cs_strerror(e));
            out_rc = CS_EXIT_CANTCREAT;
            memset(r, 0, sizeof(*r));
            continue;
        }
        r->f = r->out.f;
        int wrc = cs_writer_open(&r->w, opt.outputs[i].ops, r->f, &info, flags);
        if (wrc < 0)
            report_failed(r, wrc);
        sink.n++;
    }
    if (!opt.quiet && !to_stdout) {
        struct report *r = &sink.reports[sink.n++];
        const struct cs_writer_ops *ops = opt.stdout_format;
        int color = ops == &cs_writer_text && cs_terminal_color(opt.color, STDOUT_FILENO);
        r->f = stdout;
        setvbuf(stdout, NULL, _IOLBF, 0); /* each record as it finishes: can be followed */
        int wrc = cs_writer_open(&r->w, ops, stdout, &info, flags | (color ? CS_WRITER_COLOR : 0));
        if (wrc < 0)
            report_failed(r, wrc);
    }

    if (opt.history) {
        enum cs_history_fault fault;
        sink.history = cs_history_open(opt.history, &opt, &info, &fault, err, sizeof(err));
        if (!sink.history)
            history_failed(&sink, err, fault);
    }

    struct cs_engine_stats stats = {0};
    fit_concurrency(&opt);
    catch_interrupts(true);
    /* progress and --stats (scanner/progress.h): erased before anything follows */
    uint64_t scan_ns = uv_hrtime();
    progress = cs_progress_start(STDERR_FILENO, (enum cs_progress_mode)opt.progress);
    opt.progress_board = progress;
    /* the text table waits for the end; other formats write each record as it comes */
    sink.hold_progress =
        progress && (to_stdout || (!opt.quiet && opt.stdout_format != &cs_writer_text));
    enum cs_engine_status st =
        cs_engine_run(&opt, info.now, targets, store, on_result, &sink, &interrupt, &stats);
    cs_progress_stop(progress);
    progress = opt.progress_board = NULL;
    double scan_secs = (double)(uv_hrtime() - scan_ns) / 1e9;
    catch_interrupts(false);
    if (stats.error[0])
        fprintf(stderr, "certsweep: %s\n", stats.error);

    sink.summary.finished_at = (int64_t)time(NULL);
    sink.summary.complete = st == CS_ENGINE_OK;
    sink.summary.crl_fetches = stats.crl_fetches;
    sink.summary.ocsp_fetches = stats.ocsp_fetches;
    info.targets = sink.summary.targets;
    struct cs_history_summary hsum = {0};
    if (sink.history) {
        if (cs_history_finish(sink.history, &sink.summary, opt.history_keep_secs, &hsum, err,
                              sizeof(err)) == 0)
            sink.summary.history = &hsum;
        else
            history_failed(&sink, err, CS_HISTORY_WRITE);
        cs_history_close(sink.history);
        sink.history = NULL;
    }
    for (size_t i = 0; i < sink.n; i++) {
        struct report *r = &sink.reports[i];
        int wrc = cs_writer_close(&r->w, &sink.summary); /* frees the writer's state */
        if (wrc < 0)
            report_failed(r, wrc);
        int e = report_finish(r);
        bool direct = !r->path || strcmp(r->path, "-") == 0;
        if (e == -EPIPE && direct)
            continue; /* standard output closed early (| head): not an error */
        if (e) {
            fprintf(stderr, "certsweep: %s: writing the report failed: %s%s\n", report_name(r),
                    cs_strerror(e), direct ? "" : "; nothing was left in its place");
            out_rc = out_rc ? out_rc : CS_EXIT_IOERR;
        }
    }
    if (opt.stats)
        cs_progress_summary(stderr, &sink.summary, scan_secs);
    /* A broken inventory fails closed: a file not read to its end, or no
       target at all, is an input error (said on stderr) */
    int in_rc = cs_targets_failed(targets) ? CS_EXIT_NOINPUT : 0;
    uint64_t bad_lines = cs_targets_bad(targets);
    if (!in_rc && st == CS_ENGINE_OK && !opt.allow_empty && cs_targets_count(targets) == 0) {
        fputs("certsweep: no target at all: ", stderr);
        for (size_t i = 0; i < opt.n_files; i++)
            fprintf(stderr, "%s%s", i ? ", " : "",
                    strcmp(opt.files[i], "-") ? opt.files[i] : "standard input");
        for (size_t i = 0; i < opt.n_certs; i++)
            fprintf(stderr, "%s--certs %s", i || opt.n_files ? ", " : "", opt.certs[i]);
        fputs(opt.n_files + opt.n_certs == 1 ? " holds none" : " hold none", stderr);
        fputs(" (give --allow-empty where an empty list is normal)\n", stderr);
        in_rc = CS_EXIT_NOINPUT;
    }
    int notify_rc = send_notifications(&opt, sink.notify, &info, &sink.summary);
    cs_notify_free(sink.notify);
    cs_targets_close(targets);
    cs_strlist_free(&label_names);
    cs_expect_free(expect);
    X509_STORE_free(store);
    free(sink.reports);
    cs_history_summary_free(&hsum);

    switch (st) {
    case CS_ENGINE_OK:
        rc = cs_exit_code(sink.summary.count, opt.fail_on);
        if (rc == CS_EXIT_OK && bad_lines && opt.fail_on)
            rc = CS_EXIT_ERROR; /* a bad target line counts as ERROR unless --fail-on never */
        break;
    case CS_ENGINE_INTERRUPTED:
        fputs("certsweep: interrupted; the reports hold what was scanned and say it is "
              "partial\n",
              stderr);
        rc = CS_EXIT_SIGNAL + (stats.signal ? stats.signal : SIGINT);
        break;
    case CS_ENGINE_USAGE:
        rc = CS_EXIT_USAGE;
        break;
    default:
        rc = CS_EXIT_SOFTWARE;
        break;
    }
    int file_rc = in_rc;
    if (sink.history_rc && (!file_rc || sink.history_rc < file_rc))
        file_rc = sink.history_rc;
    if (out_rc && (!file_rc || out_rc < file_rc))
        file_rc = out_rc;
    if (!file_rc)
        file_rc = notify_rc;
    if (rc < CS_EXIT_USAGE && file_rc)
        rc = file_rc; /* 66, then 73, then 74, then 75 replace 0-3 */
    cs_options_free(&opt);
    return rc;
}
