/* certsweep: the command line, the writers, the scan and the exit code.
 * The only place that exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"
#include "scanner/engine.h"
#include "scanner/options.h"
#include "scanner/targets.h"
#include "version.h"

struct sink {
    struct cs_writer *writers;
    size_t n;
    FILE **files;            /* owned FILEs (-o), NULL for stdout */
    struct cs_summary summary;
    int write_error;
};

static void on_result(void *arg, const struct cs_result *r)
{
    struct sink *s = arg;
    s->summary.count[r->status]++;
    s->summary.targets++;
    for (size_t i = 0; i < s->n; i++)
        if (cs_writer_record(&s->writers[i], r) < 0)
            s->write_error = 1;
}

/* Reads every target once without scanning, so that --strict-input can
   refuse a bad file before any probe starts.  0, or the exit code. */
static int strict_precheck(const struct cs_options *o)
{
    for (size_t i = 0; i < o->n_files; i++)
        if (strcmp(o->files[i], "-") == 0)
            return 0; /* stdin cannot be read twice: checked while scanning */
    struct cs_targets *ts = cs_targets_open(o);
    if (!ts)
        return 66;
    struct cs_target t;
    int rc = 0;
    while (cs_targets_next(ts, &t) > 0) {
        if (t.bad)
            rc = 64;
        cs_target_free(&t);
    }
    cs_targets_close(ts);
    return rc;
}

int main(int argc, char **argv)
{
    struct cs_options opt;
    cs_options_init(&opt);
    switch (cs_cli_parse(&opt, argc, argv)) {
    case CS_CLI_OK:
        break;
    case CS_CLI_EXIT:
        cs_options_free(&opt);
        return 0;
    default:
        cs_options_free(&opt);
        return 64;
    }
    int rc = opt.strict_input ? strict_precheck(&opt) : 0;
    if (rc) {
        if (rc == 64)
            fputs("certsweep: bad target lines with --strict-input; nothing scanned\n", stderr);
        cs_options_free(&opt);
        return rc;
    }
    struct cs_targets *targets = cs_targets_open(&opt);
    if (!targets) {
        cs_options_free(&opt);
        return 66;
    }

    int64_t started = (int64_t)time(NULL);
    struct cs_scan_info info = {
        .tool = "certsweep",
        .version = CS_VERSION,
        .started_at = started,
        .now = opt.has_now ? opt.now : started,
        .warn_secs = opt.warn_secs,
        .crit_secs = opt.crit_secs,
    };
    struct sink sink = {0};
    sink.writers = cs_xcalloc(opt.n_outputs + 1, sizeof(*sink.writers));
    sink.files = cs_xcalloc(opt.n_outputs + 1, sizeof(*sink.files));
    rc = 0;
    for (size_t i = 0; i < opt.n_outputs; i++) {
        FILE *f = fopen(opt.outputs[i].path, "w");
        if (!f) {
            fprintf(stderr, "certsweep: %s: cannot create report: %s\n", opt.outputs[i].path,
                    strerror(errno));
            rc = 73;
            break;
        }
        sink.files[sink.n] = f;
        cs_writer_open(&sink.writers[sink.n++], opt.outputs[i].ops, f, &info, 0);
    }
    if (!rc && !opt.quiet) {
        const struct cs_writer_ops *ops = opt.stdout_format;
        int color = ops == &cs_writer_text && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        cs_writer_open(&sink.writers[sink.n++], ops, stdout, &info, color);
    }

    enum cs_engine_status st = CS_ENGINE_OK;
    if (!rc)
        st = cs_engine_run(&opt, info.now, targets, on_result, &sink, NULL);

    sink.summary.finished_at = (int64_t)time(NULL);
    sink.summary.complete = st == CS_ENGINE_OK;
    info.targets = sink.summary.targets;
    for (size_t i = 0; i < sink.n; i++) {
        if (cs_writer_close(&sink.writers[i], &sink.summary) < 0)
            sink.write_error = 1;
        if (sink.files[i] && fclose(sink.files[i]) != 0)
            sink.write_error = 1;
    }
    if (!opt.quiet && fflush(stdout) != 0)
        sink.write_error = 1;
    cs_targets_close(targets);
    free(sink.writers);
    free(sink.files);

    if (!rc) {
        switch (st) {
        case CS_ENGINE_OK:
            rc = cs_exit_code(sink.summary.count, opt.fail_on);
            break;
        case CS_ENGINE_INTERRUPTED:
            fputs("certsweep: interrupted; the reports hold what was scanned\n", stderr);
            rc = 130;
            break;
        default:
            rc = (int)st;
            break;
        }
    }
    if (sink.write_error && rc < 64) {
        fputs("certsweep: writing a report failed (disk full?); the reports are incomplete\n",
              stderr);
        rc = 74;
    }
    cs_options_free(&opt);
    return rc;
}
