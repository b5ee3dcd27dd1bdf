/* Progress at the terminal: the certsweep binary scans the test fleet (one
 * endpoint of which accepts and never answers, so the scan waits for its
 * timeout) in a pane of a tmux server of the test's own, 120 columns wide;
 * the pane is read back (capture-pane) while it waits and after it ends.
 * Then the same scan with stderr a pipe (no progress, one --stats line),
 * and the pieces the drawing is made of: the escaping of a host name and
 * the width of a line. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/progress.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/fleet_targets.h"
#include "tests/support/runner.h"

#define PANE_COLUMNS "120"
#define WAIT_SECS 120 /* the longest any wait below polls: a hang, not a speed */

static char tmux_bin[256];
static char tmux_socket[64]; /* a private server: -L NAME */
static bool tmux_started;

static void setup(void)
{
    fx_setup();
    snprintf(tmux_socket, sizeof(tmux_socket), "certsweep-progress-%ld", (long)getpid());
}

static void tmux_kill(void);

static void teardown(void)
{
    tmux_kill();
    fx_teardown();
}

TestSuite(progress, .init = setup, .fini = teardown, .timeout = 240);

/* ---- the scan ---- */

static bool picked(const struct fleet_scenario *s)
{
    static const char *const names[] = {"ok", "warning", "expired", "closed", "silent"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s->name, names[i]) == 0)
            return true;
    return false;
}

#define N_PICKED 5

/* certsweep's arguments for a scan of the picked scenarios with a probe
   timeout of timeout seconds, then more (NULL-terminated); free the array. */
static const char **scan_args(const char *timeout, const char *const *more)
{
    static struct fleet_args pins;
    fleet_args_free(&pins);
    char *targets = fleet_targets_write(fx_fleet, fx_dir, picked, NULL, &pins);
    cr_assert_not_null(targets);
    static char targets_path[512];
    snprintf(targets_path, sizeof(targets_path), "%s", targets);
    free(targets);
    const char *fixed[] = {
        "--ca-file", fleet_ca_file(fx_fleet), "-f", targets_path, "-t", timeout, "-T", "2",
        "--wide" /* whole host names in the table, whatever the pane's width */};
    return fleet_args_join(fixed, sizeof(fixed) / sizeof(fixed[0]), &pins, more);
}

/* "silent.fleet.test:PORT" */
static const char *silent_where(void)
{
    static char where[128];
    const struct fleet_scenario *s = fleet_get(fx_fleet, "silent");
    cr_assert_not_null(s);
    snprintf(where, sizeof(where), "%s:%u", s->host, s->port);
    return where;
}

/* ---- tmux ---- */

static void tmux_find(void)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    tmux_bin[0] = '\0';
    for (char *save, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(tmux_bin, sizeof(tmux_bin), "%s/tmux", d);
        if (access(tmux_bin, X_OK) == 0)
            break;
        tmux_bin[0] = '\0';
    }
    free(copy);
    cr_assert(tmux_bin[0], "tmux is not installed: the terminal tests need it (apt-get install "
                           "tmux, as samples/install-deps.sh does)");
}

/* tmux -L <ours> args...; its standard output (the caller frees). */
static char *tmux(const char *const *args)
{
    const char *argv[16] = {"-L", tmux_socket};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++) {
        cr_assert(n < sizeof(argv) / sizeof(argv[0]) - 1);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    struct run_result r;
    cr_assert_eq(run_binary(tmux_bin, argv, NULL, 30, &r), 0);
    cr_assert_eq(r.status, 0, "tmux %s failed (%d): %s", args[0], r.status, r.err);
    char *out = r.out;
    r.out = NULL;
    run_result_free(&r);
    return out;
}

static void tmux_kill(void)
{
    if (!tmux_started)
        return;
    tmux_started = false;
    struct run_result r;
    const char *argv[] = {"-L", tmux_socket, "kill-server", NULL};
    if (run_binary(tmux_bin, argv, NULL, 30, &r) == 0)
        run_result_free(&r);
}

/* A shell word for a path or an argument (none of ours holds a quote). */
static void shell_add(char **cmd, const char *word)
{
    cr_assert_null(strchr(word, '\''));
    char *next;
    cr_assert(asprintf(&next, "%s%s'%s'", *cmd ? *cmd : "", *cmd ? " " : "", word) > 0);
    free(*cmd);
    *cmd = next;
}

/* Runs certsweep with args in a fresh pane of PANE_COLUMNS x 30, with the
   environment variable env (NAME=VALUE) set unless NULL; it prints
   "certsweep-exit=N" when it ends and the pane stays. */
/* The shell command for certsweep with args, env (NAME=VALUE) set unless NULL. */
static char *certsweep_command(const char *env, const char *const *args)
{
    char *cmd = NULL;
    if (env) {
        shell_add(&cmd, "env");
        shell_add(&cmd, env);
    }
    shell_add(&cmd, CS_BINARY);
    for (size_t i = 0; args[i]; i++)
        shell_add(&cmd, args[i]);
    return cmd;
}

/* Runs the shell command line in a fresh pane of PANE_COLUMNS x 30. */
static void tmux_run_line(const char *line)
{
    tmux_started = true;
    const char *new_session[] = {"new-session", "-d", "-x", PANE_COLUMNS, "-y", "30", line, NULL};
    free(tmux(new_session));
}

static void tmux_run(const char *env, const char *const *args)
{
    char *cmd = certsweep_command(env, args);
    char *full;
    cr_assert(asprintf(&full, "%s; echo certsweep-exit=$?; sleep 600", cmd) > 0);
    free(cmd);
    tmux_run_line(full);
    free(full);
}

/* What the pane shows, wrapped lines joined, with its history. */
static char *pane(void)
{
    const char *capture[] = {"capture-pane", "-p", "-J", "-S", "-", NULL};
    return tmux(capture);
}

/* The pane's line that starts with prefix (a copy), or NULL. */
static char *pane_line(const char *text, const char *prefix)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, prefix, strlen(prefix)) == 0) {
            const char *end = strchr(l, '\n');
            return strndup(l, end ? (size_t)(end - l) : strlen(l));
        }
    }
    return NULL;
}

static bool pane_waiting_shown(const char *text)
{
    char *counts = pane_line(text, "certsweep: ");
    char *waits = pane_line(text, "  waiting longest:");
    bool shown = counts && waits && strstr(counts, "/5 done") && strstr(waits, silent_where());
    free(counts);
    free(waits);
    return shown;
}

Test(progress, drawn_on_the_terminal_while_waiting_and_erased_before_the_table)
{
    tmux_find();
    const char **args = scan_args("8", NULL);
    tmux_run(NULL, args);
    free(args);

    /* while the silent endpoint holds the scan: done/total, in flight, and it */
    char *text = NULL;
    for (int i = 0; i < WAIT_SECS * 10; i++) {
        free(text);
        text = pane();
        if (pane_waiting_shown(text) || strstr(text, "certsweep-exit="))
            break;
        usleep(100000);
    }
    cr_assert(pane_waiting_shown(text), "no progress naming %s in the pane:\n%s", silent_where(),
              text);
    char *counts = pane_line(text, "certsweep: ");
    unsigned long long done, total;
    unsigned in_flight;
    cr_assert_eq(sscanf(counts, "certsweep: %llu/%llu done", &done, &total), 2, "%s", counts);
    cr_assert_eq(total, N_PICKED, "%s", counts);
    cr_assert_lt(done, total, "%s", counts);
    const char *fl = strstr(counts, " in flight");
    cr_assert_not_null(fl, "%s", counts);
    while (fl > counts && fl[-1] != ' ')
        fl--;
    cr_assert_eq(sscanf(fl, "%u in flight", &in_flight), 1, "%s", counts);
    cr_assert_geq(in_flight, 1, "%s", counts);
    cr_assert_eq(done + in_flight, total, "every target is done or in flight: %s", counts);
    cr_assert_lt(strlen(counts), 120, "the line wraps: %s", counts);
    free(counts);

    /* the end: the table, its summary, and nothing left of the progress */
    for (int i = 0; i < WAIT_SECS * 10 && !strstr(text, "certsweep-exit="); i++) {
        usleep(100000);
        free(text);
        text = pane();
    }
    cr_assert_not_null(strstr(text, "certsweep-exit=2\n"), "the scan did not end:\n%s", text);
    cr_assert_null(strstr(text, "in flight"), "progress left on the terminal:\n%s", text);
    cr_assert_null(strstr(text, "waiting longest"), "progress left on the terminal:\n%s", text);
    cr_assert_null(strstr(text, "certsweep: "), "progress left on the terminal:\n%s", text);
    /* line by line: the header first, then one row per endpoint, whole */
    static const char *const statuses[] = {"OK ", "WARNING ", "CRITICAL ", "EXPIRED ", "ERROR "};
    size_t rows = 0, line_no = 0;
    char *save;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line_no++) {
        if (line_no == 0) {
            cr_assert(strncmp(l, "STATUS ", 7) == 0, "the first line is not the header: %s", l);
            continue;
        }
        if (strncmp(l, "certsweep-exit=", 15) == 0 || strstr(l, " endpoints: ") ||
            strncmp(l, "scanned at ", 11) == 0)
            continue;
        bool row = false;
        for (size_t k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
            row |= strncmp(l, statuses[k], strlen(statuses[k])) == 0;
        cr_assert(row, "line %zu is neither the table's nor the summary's: '%s'", line_no, l);
        rows++;
    }
    cr_assert_eq(rows, N_PICKED);
    free(text);
}

Test(progress, nothing_on_stderr_when_it_is_not_a_terminal)
{
    const char **args = scan_args("2", NULL);
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    free(args);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_str_eq(r.err, "", "stderr is a pipe: no progress");
    cr_assert_not_null(strstr(r.out, silent_where()));
    run_result_free(&r);
}

/* The counts of the picked scenarios by the status the fleet says they get. */
static void expected_counts(unsigned long long count[5])
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "EXPIRED", "ERROR"};
    memset(count, 0, 5 * sizeof(count[0]));
    for (size_t i = 0; i < fleet_count(fx_fleet); i++) {
        const struct fleet_scenario *s = fleet_at(fx_fleet, i);
        if (!picked(s))
            continue;
        for (size_t k = 0; k < 5; k++)
            if (strcmp(s->expect_status, names[k]) == 0)
                count[k]++;
    }
}

/* The --stats line (a copy, without its newline): its scanned count and
   its status counts, checked against the fleet. */
static void check_stats_line(const char *line)
{
    unsigned long long n, c[5], want[5];
    double secs, rate;
    int got = sscanf(line,
                     "certsweep: scanned %llu endpoints in %lf s (%lf/s): %llu OK, %llu WARNING, "
                     "%llu CRITICAL, %llu EXPIRED, %llu ERROR",
                     &n, &secs, &rate, &c[0], &c[1], &c[2], &c[3], &c[4]);
    cr_assert_eq(got, 8, "not the --stats line: '%s'", line);
    cr_assert_eq(n, N_PICKED, "%s", line);
    cr_assert_gt(secs, 0, "%s", line);
    expected_counts(want);
    for (size_t k = 0; k < 5; k++)
        cr_assert_eq(c[k], want[k], "status %zu: %s", k, line);
}

Test(progress, stats_is_one_line_when_stderr_is_not_a_terminal)
{
    const char *more[] = {"--stats", NULL};
    const char **args = scan_args("2", more);
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    free(args);
    cr_assert_eq(r.status, 2, "%s", r.err);
    size_t len = strlen(r.err);
    cr_assert(len > 0 && r.err[len - 1] == '\n', "'%s'", r.err);
    cr_assert_eq(strchr(r.err, '\n'), r.err + len - 1, "more than one line: '%s'", r.err);
    cr_assert_null(strpbrk(r.err, "\r\033"), "progress bytes on a pipe: '%s'", r.err);
    r.err[len - 1] = '\0';
    check_stats_line(r.err);
    run_result_free(&r);
}

Test(progress, always_draws_on_a_pipe_and_erases_before_the_stats_line)
{
    const char *more[] = {"--progress", "always", "--stats", NULL};
    const char **args = scan_args("2", more);
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    free(args);
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_not_null(strstr(r.err, " in flight"), "no progress with --progress always");
    cr_assert_not_null(strstr(r.err, silent_where()), "the silent endpoint is not shown waiting");
    const char *stats = strstr(r.err, "certsweep: scanned ");
    cr_assert_not_null(stats, "%s", r.err);
    /* right before it, the erasing of the last drawing: line by line from
       the last up, the cursor left where the first began */
    cr_assert(stats - r.err >= 4 && memcmp(stats - 3, "\033[K", 3) == 0, "%s", r.err);
    const char *erase = stats;
    while (erase - r.err >= 6 && memcmp(erase - 6, "\033[A\033[K", 6) == 0)
        erase -= 6;
    cr_assert(erase - r.err >= 4 && memcmp(erase - 4, "\r\033[K", 4) == 0, "%s", r.err);
    char *line = strndup(stats, strcspn(stats, "\n"));
    check_stats_line(line);
    cr_assert_str_eq(stats + strlen(line), "\n", "something after the stats line");
    free(line);
    run_result_free(&r);
}

Test(progress, records_streamed_to_the_terminal_stay_whole_beside_it)
{
    tmux_find();
    const char *more[] = {"-F", "jsonl", NULL};
    const char **args = scan_args("4", more);
    tmux_run(NULL, args);
    free(args);
    char *text = NULL;
    bool seen = false; /* the progress below the records already out */
    for (int i = 0; i < WAIT_SECS * 10; i++) {
        free(text);
        text = pane();
        seen |= pane_waiting_shown(text);
        if (strstr(text, "certsweep-exit="))
            break;
        usleep(100000);
    }
    cr_assert_not_null(strstr(text, "certsweep-exit=2\n"), "the scan did not end:\n%s", text);
    cr_assert(seen, "no progress while the silent endpoint was waited for");
    /* every line a whole record: nothing of the progress before, after or
       inside one */
    size_t records = 0;
    bool silent = false;
    char *save;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "certsweep-exit=", 15) == 0)
            continue;
        json_error_t e;
        json_t *rec = json_loads(l, 0, &e);
        cr_assert_not_null(rec, "not a whole record: '%s' (%s)", l, e.text);
        char where[160];
        snprintf(where, sizeof(where), "%s:%lld", json_string_value(json_object_get(rec, "host")),
                 (long long)json_integer_value(json_object_get(rec, "port")));
        silent |= strcmp(where, silent_where()) == 0;
        json_decref(rec);
        records++;
    }
    cr_assert_eq(records, N_PICKED);
    cr_assert(silent, "no record of %s", silent_where());
    free(text);
}

/* Waits for the end of a scan that must draw no progress; its table. */
static void check_pane_without_progress(void)
{
    char *text = NULL;
    bool seen = false;
    for (int i = 0; i < WAIT_SECS * 10; i++) {
        free(text);
        text = pane();
        seen |= strstr(text, "in flight") != NULL;
        if (strstr(text, "certsweep-exit="))
            break;
        usleep(100000);
    }
    cr_assert_not_null(strstr(text, "certsweep-exit=2\n"), "the scan did not end:\n%s", text);
    cr_assert_not(seen, "progress drawn where none belongs");
    cr_assert(strncmp(text, "STATUS ", 7) == 0, "%s", text);
    free(text);
}

/* A scan with more arguments (NULL-terminated), env set unless NULL, that
   must draw no progress. */
static void check_no_progress(const char *env, const char *const *more)
{
    tmux_find();
    const char **args = scan_args("3", more);
    tmux_run(env, args);
    free(args);
    check_pane_without_progress();
}

Test(progress, never_draws_even_on_a_terminal)
{
    const char *more[] = {"--progress", "never", NULL};
    check_no_progress(NULL, more);
}

Test(progress, auto_does_not_draw_on_a_dumb_terminal)
{
    check_no_progress("TERM=dumb", NULL);
}

Test(progress, a_background_job_leaves_the_terminal_alone)
{
    /* a shell with job control runs it with & (its own process group, not
       the terminal's foreground one) and waits */
    tmux_find();
    const char **args = scan_args("3", NULL);
    char *cmd = certsweep_command(NULL, args);
    free(args);
    char *script;
    cr_assert(asprintf(&script, "set -m\n%s &\nwait $!\necho certsweep-exit=$?\nsleep 600\n", cmd) >
              0);
    free(cmd);
    const char *path = dir_path(fx_dir, "background.sh");
    cr_assert_eq(spit(path, script), 0);
    free(script);
    char *line;
    cr_assert(asprintf(&line, "bash --norc --noprofile '%s'", path) > 0);
    tmux_run_line(line);
    free(line);
    check_pane_without_progress();
}

/* ---- the pieces ---- */

static void assert_printable(const char *s)
{
    for (const char *p = s; *p; p++)
        cr_assert((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
                  "byte 0x%02x at %zu of '%s'", (unsigned char)*p, (size_t)(p - s), s);
}

Test(progress_pieces, where_shows_a_host_escaped_and_cut_in_its_middle)
{
    char where[CS_PROGRESS_WHERE];
    cs_progress_where(where, "ok.example", 443);
    cr_assert_str_eq(where, "ok.example:443");
    cs_progress_where(where, "::1", 8443);
    cr_assert_str_eq(where, "[::1]:8443");
    /* what a terminal would obey: escape sequences, a bell, a newline, UTF-8 */
    cs_progress_where(where, "evil\033]0;title\007\n\xd1\x95.example", 443);
    cr_assert_str_eq(where, "evil?]0;title????.example:443");
    assert_printable(where);

    char longest[300];
    memset(longest, 'a', sizeof(longest));
    strcpy(longest + sizeof(longest) - 20, ".deep.example.com");
    cs_progress_where(where, longest, 65535);
    cr_assert_eq(strlen(where), CS_PROGRESS_WHERE - 1, "%s", where);
    cr_assert_not_null(strstr(where, "~"), "%s", where);
    cr_assert_str_eq(where + strlen(where) - strlen(".deep.example.com:65535"),
                     ".deep.example.com:65535");
    cr_assert(strncmp(where, "aaaa", 4) == 0, "%s", where);
}

static void view_fill(struct cs_progress_view *v, bool read_all)
{
    memset(v, 0, sizeof(*v));
    v->done[CS_OK] = 7;
    v->done[CS_WARNING] = 2;
    v->done[CS_EXPIRED] = 3;
    v->read = 25;
    v->read_all = read_all;
    v->elapsed = 4.0;
    v->in_flight = 5;
    for (size_t i = 0; i < CS_PROGRESS_SLOWEST; i++) {
        memset(v->slowest[i].where, 'h', CS_PROGRESS_WHERE - 1);
        v->slowest[i].where[CS_PROGRESS_WHERE - 1] = '\0';
        v->slowest[i].age_ms = 9000 - i * 1000;
    }
    memcpy(v->slowest[0].where, "slow.example:443", 17);
    v->n_slowest = CS_PROGRESS_SLOWEST;
}

Test(progress_pieces, render_says_done_total_rate_eta_and_the_waits)
{
    struct cs_progress_view v;
    view_fill(&v, true);
    char buf[2048];
    cr_assert_eq(cs_progress_render(&v, 1000, buf, sizeof(buf)), 2);
    char hs[CS_PROGRESS_WHERE];
    memset(hs, 'h', CS_PROGRESS_WHERE - 1);
    hs[CS_PROGRESS_WHERE - 1] = '\0';
    char *want;
    cr_assert(asprintf(&want,
                       "certsweep: 12/25 done, 3.0/s, ETA 4s, 5 in flight | 7 OK, 2 WARNING, 3 "
                       "EXPIRED\n  waiting longest: slow.example:443 9.0s, %s 8.0s, %s 7.0s",
                       hs, hs) > 0);
    cr_assert_str_eq(buf, want);
    free(want);
    view_fill(&v, false);
    v.n_slowest = 0;
    cr_assert_eq(cs_progress_render(&v, 1000, buf, sizeof(buf)), 1);
    cr_assert_str_eq(buf, "certsweep: 12/? done (25 read), 3.0/s, 5 in flight | 7 OK, 2 "
                          "WARNING, 3 EXPIRED");
    /* every target left is in flight: no ETA, the waits tell */
    view_fill(&v, true);
    v.in_flight = 13;
    v.n_slowest = 0;
    cs_progress_render(&v, 1000, buf, sizeof(buf));
    cr_assert_str_eq(buf,
                     "certsweep: 12/25 done, 3.0/s, 13 in flight | 7 OK, 2 WARNING, 3 EXPIRED");
}

Test(progress_pieces, render_never_fills_a_line_of_the_terminal)
{
    struct cs_progress_view v;
    view_fill(&v, true);
    char buf[2048];
    for (unsigned width = 1; width <= 400; width++) {
        unsigned lines = cs_progress_render(&v, width, buf, sizeof(buf));
        cr_assert_eq(lines, 2);
        size_t n = 0;
        for (char *save, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            cr_assert_leq(strlen(l), width > 1 ? width - 1 : 1, "width %u: '%s'", width, l);
            assert_printable(l);
            n++;
        }
        cr_assert_eq(n, 2, "width %u", width);
    }
    /* a buffer too small is cut, never overrun */
    char small[16];
    memset(small, 'x', sizeof(small));
    cs_progress_render(&v, 400, small, 10);
    cr_assert_eq(strlen(small), 9);
    cr_assert_eq(small[10], 'x');
}

Test(progress, a_mode_that_is_not_one_is_a_usage_error)
{
    const char *args[] = {"--progress", "sometimes", "127.0.0.1:9", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 64, "%s", r.err);
    cr_assert_str_eq(r.err, "certsweep: --progress: 'sometimes' is not a progress mode (auto, "
                            "always or never) (see certsweep --help)\n");
    cr_assert_str_eq(r.out, "");
    run_result_free(&r);
}
