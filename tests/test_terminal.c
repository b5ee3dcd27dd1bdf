/* The text table as people see it: the certsweep binary scans the local
 * fleet and its table is read back from a pipe (COLUMNS set), from a
 * -o FILE.txt, and from a real terminal: a tmux pane 100 columns wide,
 * captured with its escape codes.  Checked against the JSON report of the
 * same scan: every line fits the width, reasons are whole where there is
 * room, a long host keeps its end, an internationalised name shows its
 * A-label (as idn2(1) computes it), the scan's times are stated, and colour
 * follows --color, NO_COLOR and TERM. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/util.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/runner.h"

#define RUN_LIMIT_S 120
#define PANE_WIDTH 100
#define ELLIPSIS "\xe2\x80\xa6"
#define LONG_NAME "api-gateway-internal-eu-west-1-production-cluster.services.fleet.test"
#define IDN_NAME "\xd1\x95\xd1\x80\xd0\xbe\xd0\xbe\xd2\x93.fleet.test" /* ѕрооғ: Cyrillic */
#define END_MARK "certsweep-test-finished"

static char tmux_socket[64]; /* the tmux server this test started, "" for none */

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx_setup();
}

/* A program on PATH, or NULL. */
static const char *find_program(const char *name)
{
    static char found[4][512];
    static size_t next;
    const char *path = getenv("PATH");
    char *copy = cs_strdup(path ? path : "/usr/bin:/bin");
    const char *hit = NULL;
    for (char *save = NULL, *d = strtok_r(copy, ":", &save); d && !hit;
         d = strtok_r(NULL, ":", &save)) {
        char *p = found[next % 4];
        snprintf(p, sizeof(found[0]), "%s/%s", d, name);
        if (access(p, X_OK) == 0) {
            hit = p;
            next++;
        }
    }
    free(copy);
    return hit;
}

static void tmux_stop(void)
{
    if (tmux_socket[0] == '\0')
        return;
    const char *tmux = find_program("tmux");
    const char *args[] = {"-L", tmux_socket, "kill-server", NULL};
    struct run_result r;
    if (tmux && run_binary(tmux, args, NULL, 30, &r) == 0)
        run_result_free(&r);
    /* the socket file stays behind a killed server */
    const char *tmp = getenv("TMUX_TMPDIR");
    char path[600];
    snprintf(path, sizeof(path), "%s/tmux-%u/%s", tmp && tmp[0] ? tmp : "/tmp", (unsigned)getuid(),
             tmux_socket);
    unlink(path);
    tmux_socket[0] = '\0';
}

static void teardown(void)
{
    tmux_stop();
    fx_teardown();
}

TestSuite(terminal, .init = setup, .fini = teardown, .timeout = 300);

static unsigned port_of(const char *scenario)
{
    const struct fleet_scenario *sc = fleet_get(fx_fleet, scenario);
    cr_assert_not_null(sc, "no fleet scenario %s", scenario);
    return sc->port;
}

/* The targets file: the fleet's TLS endpoints and a few that fail fast, a
   long name and an internationalised one (both served by "ok", so both are
   hostname mismatches). */
static const char *write_targets(void)
{
    static const char *const names[] = {
        "ok",          "warning",  "critical", "expired", "expired-intermediate",
        "self-signed", "mismatch", "revoked",  "tls12",   "closed",
        "reset",       "http"};
    char text[4096] = "";
    size_t n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct fleet_scenario *sc = fleet_get(fx_fleet, names[i]);
        cr_assert_not_null(sc, "no fleet scenario %s", names[i]);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s:%u\n", sc->host, sc->port);
    }
    snprintf(text + n, sizeof(text) - n, LONG_NAME ":%u\n" IDN_NAME ":%u\n", port_of("ok"),
             port_of("ok"));
    const char *path = dir_path(fx_dir, "targets.txt");
    cr_assert_eq(spit(path, text), 0);
    return path;
}

/* Runs certsweep on the targets with extra (NULL-terminated) arguments, a
   JSON report beside, and with env ("NAME=VALUE", through env(1); run_binary
   itself unsets NO_COLOR) unless NULL; returns the JSON document and fills
   *r. */
static json_t *scan_env(const char *env, const char *const *extra, struct run_result *r)
{
    const char *json = dir_path(fx_dir, "report.json");
    const char *args[32] = {env,         CS_BINARY,
                            "--ca-file", fleet_ca_file(fx_fleet),
                            "--resolve", "*:*:127.0.0.1",
                            "-f",        write_targets(),
                            "-o",        json};
    size_t k = 10;
    for (size_t i = 0; extra && extra[i]; i++)
        args[k++] = extra[i];
    args[k] = NULL;
    if (env) {
        const char *program = find_program("env");
        cr_assert_not_null(program);
        cr_assert_eq(run_binary(program, args, NULL, RUN_LIMIT_S, r), 0);
    } else {
        cr_assert_eq(run_binary(CS_BINARY, args + 2, NULL, RUN_LIMIT_S, r), 0);
    }
    cr_assert_eq(r->status, 2, "exit %d; stderr: %s", r->status, r->err);
    json_error_t jerr;
    json_t *doc = json_load_file(json, 0, &jerr);
    cr_assert_not_null(doc, "JSON report: %s", jerr.text);
    return doc;
}

static json_t *scan(const char *const *extra, struct run_result *r)
{
    return scan_env(NULL, extra, r);
}

/* Terminal columns of s[0..n): one per code point (the fleet's names hold
   no wide characters), none for an SGR escape sequence. */
static size_t columns(const char *s, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b && i + 1 < n && s[i + 1] == '[') {
            for (i += 2; i < n && !(s[i] >= 0x40 && s[i] <= 0x7e); i++)
                ;
            continue;
        }
        cols += (c & 0xC0) != 0x80;
    }
    return cols;
}

/* Asserts every line of out fits width; returns the widest. */
static size_t assert_fits(const char *out, size_t width)
{
    size_t widest = 0;
    for (const char *line = out; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t cols = columns(line, len);
        cr_assert_leq(cols, width, "a line of %zu columns at %zu: %.*s", cols, width, (int)len,
                      line);
        widest = cols > widest ? cols : widest;
        line += len + (nl != NULL);
    }
    return widest;
}

/* The line of out that holds needle, copied (no newline), or NULL. */
static char *line_with(const char *out, const char *needle)
{
    const char *at = strstr(out, needle);
    if (!at)
        return NULL;
    const char *start = at, *end = strchr(at, '\n');
    while (start > out && start[-1] != '\n')
        start--;
    return cs_strndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* Every record's row (by "host:port  ") ends in its whole reason, but the
   one of skip_host. */
static void assert_reasons_whole(const char *out, json_t *doc, const char *skip_host)
{
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(doc, "results"), i, rec)
    {
        const char *host = json_string_value(json_object_get(rec, "host"));
        if (skip_host && strcmp(host, skip_host) == 0)
            continue;
        char key[300], tail[1200];
        snprintf(key, sizeof(key), "%s:%lld ", host,
                 (long long)json_integer_value(json_object_get(rec, "port")));
        char *row = line_with(out, key);
        cr_assert_not_null(row, "no row for %s in:\n%s", key, out);
        const char *reason = json_string_value(json_object_get(rec, "reason"));
        if (reason == NULL || reason[0] == '\0')
            reason = json_string_value(json_object_get(rec, "error"));
        snprintf(tail, sizeof(tail), "  %s", reason);
        size_t rl = strlen(row), tl = strlen(tail);
        cr_assert(rl > tl && strcmp(row + rl - tl, tail) == 0, "row of %s does not end in%s:\n%s",
                  host, tail, row);
        free(row);
    }
}

/* The long name's row shows it cut in the middle: a head of the name, one
   ellipsis, and the end of "name:port". */
static void assert_cut_in_the_middle(const char *out)
{
    char *row = line_with(out, "  api-");
    cr_assert_not_null(row, "no row for the long name:\n%s", out);
    char full[256];
    snprintf(full, sizeof(full), LONG_NAME ":%u", port_of("ok"));
    const char *head = strstr(row, "api-"), *dots = strstr(row, ELLIPSIS);
    cr_assert_not_null(dots, "%s", row);
    const char *tail = dots + strlen(ELLIPSIS), *tail_end = strchr(tail, ' ');
    size_t head_len = (size_t)(dots - head), tail_len = (size_t)(tail_end - tail);
    cr_assert_eq(strncmp(full, head, head_len), 0, "%s", row);
    cr_assert_geq(tail_len, strlen(".test:NNNNN"), "%s", row);
    cr_assert_eq(strncmp(full + strlen(full) - tail_len, tail, tail_len), 0, "%s", row);
    free(row);
}

Test(terminal, the_table_fits_columns_80_120_and_200)
{
    static const char *const widths[] = {"80", "120", "200"};
    for (size_t k = 0; k < 3; k++) {
        setenv("COLUMNS", widths[k], 1);
        struct run_result r;
        json_t *doc = scan(NULL, &r);
        size_t width = (size_t)atoi(widths[k]);
        size_t widest = assert_fits(r.out, width);
        cr_assert_geq(widest, width - 8, "the table does not use the width %zu:\n%s", width, r.out);
        assert_cut_in_the_middle(r.out);
        if (width == 200)
            assert_reasons_whole(r.out, doc, LONG_NAME);
        cr_assert_null(strchr(r.out, '\x1b'), "colour into a pipe:\n%s", r.out);
        json_decref(doc);
        run_result_free(&r);
    }
}

Test(terminal, wide_cuts_nothing)
{
    setenv("COLUMNS", "80", 1);
    struct run_result r;
    json_t *doc = scan((const char *[]){"--wide", NULL}, &r);
    assert_reasons_whole(r.out, doc, NULL); /* the long name's too */
    char full[256];
    snprintf(full, sizeof(full), "  " LONG_NAME ":%u  ", port_of("ok"));
    cr_assert_not_null(strstr(r.out, full), "%s", r.out);
    cr_assert_null(strstr(r.out, ELLIPSIS), "%s", r.out);
    cr_assert_null(strstr(r.out, "..."), "%s", r.out);
    json_decref(doc);
    run_result_free(&r);
}

/* A report file is 80 columns wide whatever the terminal, and its last line
   says when the scan ran and what time its days are counted from. */
Test(terminal, a_txt_report_is_80_wide_and_says_when)
{
    unsetenv("COLUMNS");
    const char *txt = dir_path(fx_dir, "report.txt");
    struct run_result r;
    json_t *doc =
        scan((const char *[]){"-q", "-o", txt, "--now", "2026-12-01T08:00:00Z", NULL}, &r);
    char *text = slurp(txt, NULL);
    cr_assert_not_null(text);
    size_t widest = assert_fits(text, 80);
    cr_assert_geq(widest, 72, "%s", text);
    json_t *info = json_object_get(doc, "scan");
    char want[160];
    snprintf(want, sizeof(want), "\nscanned at %s, days counted from %s\n",
             json_string_value(json_object_get(info, "started_at")),
             json_string_value(json_object_get(info, "now")));
    cr_assert_not_null(strstr(text, "days counted from 2026-12-01T08:00:00Z\n"), "%s", text);
    size_t tl = strlen(text), wl = strlen(want);
    cr_assert(tl > wl && strcmp(text + tl - wl, want) == 0, "no %s at the end of:\n%s", want, text);
    free(text);
    json_decref(doc);
    run_result_free(&r);
}

/* idn2(1)'s A-label of name (the idn2 package), without its newline. */
static char *idn2_alabel(const char *name)
{
    const char *idn2 = find_program("idn2");
    cr_assert_not_null(idn2,
                       "idn2 is not installed: apt-get install idn2 (samples/install-deps.sh)");
    const char *args[] = {name, NULL};
    struct run_result r;
    cr_assert_eq(run_binary(idn2, args, NULL, 30, &r), 0);
    cr_assert_eq(r.status, 0, "idn2 %s: %s", name, r.err);
    char *nl = strchr(r.out, '\n');
    char *alabel = cs_strndup(r.out, nl ? (size_t)(nl - r.out) : strlen(r.out));
    run_result_free(&r);
    return alabel;
}

Test(terminal, a_non_ascii_name_shows_its_a_label)
{
    setenv("COLUMNS", "200", 1);
    struct run_result r;
    json_t *doc = scan(NULL, &r);
    char *alabel = idn2_alabel(IDN_NAME);
    cr_assert_eq(strncmp(alabel, "xn--", 4), 0, "%s", alabel);
    char want[256];
    snprintf(want, sizeof(want), "  " IDN_NAME ":%u (%s)  ", port_of("ok"), alabel);
    cr_assert_not_null(strstr(r.out, want), "no %s in:\n%s", want, r.out);
    /* the same A-label the scan sent as SNI */
    json_t *rec = json_find_record(json_object_get(doc, "results"), IDN_NAME, port_of("ok"));
    cr_assert_not_null(rec);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "sni")), alabel);
    /* an all-ASCII name as it is */
    snprintf(want, sizeof(want), "  ok.fleet.test:%u  ", port_of("ok"));
    cr_assert_not_null(strstr(r.out, want), "%s", r.out);
    free(alabel);
    json_decref(doc);
    run_result_free(&r);
}

/* Colour into a pipe: only when asked for, and then whatever NO_COLOR says. */
Test(terminal, colour_into_a_pipe_only_when_asked)
{
    static const struct {
        const char *color, *no_color;
        bool sgr;
    } cases[] = {
        {NULL, NULL, false},    {"auto", NULL, false},  {"auto", "", false},
        {"never", NULL, false}, {"always", NULL, true}, {"always", "1", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *extra[3] = {NULL};
        if (cases[i].color) {
            extra[0] = "--color";
            extra[1] = cases[i].color;
        }
        char env[32];
        snprintf(env, sizeof(env), "NO_COLOR=%s", cases[i].no_color ? cases[i].no_color : "");
        struct run_result r;
        json_t *doc = scan_env(cases[i].no_color ? env : NULL, extra, &r);
        bool has = strstr(r.out, "\x1b[32mOK\x1b[0m") != NULL;
        cr_assert_eq(has, cases[i].sgr, "--color %s: colour %s:\n%s",
                     cases[i].color ? cases[i].color : "(none)", has ? "on" : "off", r.out);
        json_decref(doc);
        run_result_free(&r);
    }
}

/* ---- under tmux ---------------------------------------------------------- */

/* A word for sh, in single quotes. */
static void sh_quote(char *out, size_t len, const char *word)
{
    size_t n = 0;
    out[n++] = '\'';
    for (const char *p = word; *p && n + 5 < len; p++) {
        if (*p == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *p;
        }
    }
    out[n++] = '\'';
    out[n] = '\0';
}

/* Runs certsweep (on the targets, with env_prefix, e.g. "NO_COLOR=1", and
   extra arguments) in a tmux pane PANE_WIDTH columns wide; returns what the
   pane shows, escape codes kept and wrapped lines joined. */
static char *in_tmux(const char *env_prefix, const char *const *extra)
{
    const char *tmux = find_program("tmux");
    cr_assert_not_null(tmux,
                       "tmux is not installed: apt-get install tmux (samples/install-deps.sh)");
    char cmd[4096], word[1024];
    size_t n = (size_t)snprintf(cmd, sizeof(cmd), "env -u COLUMNS -u NO_COLOR %s", env_prefix);
    const char *args[24] = {CS_BINARY,       "--ca-file", fleet_ca_file(fx_fleet), "--resolve",
                            "*:*:127.0.0.1", "-f",        write_targets()};
    size_t k = 7;
    for (size_t i = 0; extra && extra[i]; i++)
        args[k++] = extra[i];
    for (size_t i = 0; i < k; i++) {
        sh_quote(word, sizeof(word), args[i]);
        n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " %s", word);
    }
    snprintf(cmd + n, sizeof(cmd) - n, "; echo " END_MARK "; exec sleep 600");

    tmux_stop();
    static unsigned sessions; /* a server each: one being stopped may linger */
    snprintf(tmux_socket, sizeof(tmux_socket), "certsweep-test-%d-%u", (int)getpid(), sessions++);
    char x[16], y[16];
    snprintf(x, sizeof(x), "%d", PANE_WIDTH);
    snprintf(y, sizeof(y), "%d", 50);
    const char *start[] = {"-L", tmux_socket, "-f", "/dev/null", "new-session", "-d", "-x",
                           x,    "-y",        y,    "-s",        "t",           cmd,  NULL};
    struct run_result r;
    cr_assert_eq(run_binary(tmux, start, NULL, 30, &r), 0);
    cr_assert_eq(r.status, 0, "tmux new-session: %s", r.err);
    run_result_free(&r);
    const char *capture[] = {"-L", tmux_socket, "capture-pane", "-p", "-e", "-J",
                             "-S", "-",         "-t",           "t",  NULL};
    char *shown = NULL;
    for (int tries = 0; tries < 10 * RUN_LIMIT_S && !shown; tries++) {
        cr_assert_eq(run_binary(tmux, capture, NULL, 30, &r), 0);
        if (r.status == 0 && strstr(r.out, END_MARK "\n"))
            shown = cs_strdup(r.out);
        run_result_free(&r);
        if (!shown)
            usleep(100 * 1000);
    }
    cr_assert_not_null(shown, "certsweep did not finish in the tmux pane");
    tmux_stop();
    *strstr(shown, END_MARK) = '\0';
    return shown;
}

/* The table fits the pane, and is coloured by default. */
Test(terminal, a_terminal_gets_its_width_and_colour)
{
    char *shown = in_tmux("", NULL);
    size_t widest = assert_fits(shown, PANE_WIDTH);
    cr_assert_geq(widest, PANE_WIDTH - 8, "the table does not use the pane's width:\n%s", shown);
    assert_cut_in_the_middle(shown);
    cr_assert_not_null(strstr(shown, "\x1b[32mOK"), "no colour on a terminal:\n%s", shown);
    cr_assert_not_null(strstr(shown, "\x1b[31mEXPIRED"), "%s", shown);
    free(shown);
}

Test(terminal, colour_rules_on_a_terminal)
{
    static const struct {
        const char *env;
        const char *color;
        bool sgr;
    } cases[] = {
        {"NO_COLOR=1", NULL, false},    /* set: no colour */
        {"NO_COLOR=", NULL, true},      /* set but empty: as if unset */
        {"TERM=dumb", NULL, false},     /* a terminal that shows escapes as text */
        {"", "never", false},           /* asked */
        {"NO_COLOR=1", "always", true}, /* the command line beats the environment */
        {"TERM=dumb", "always", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *extra[] = {cases[i].color ? "--color" : NULL, cases[i].color, NULL};
        char *shown = in_tmux(cases[i].env, extra);
        cr_assert_not_null(strstr(shown, "  ok.fleet.test:"), "no table:\n%s", shown);
        bool has = strstr(shown, "\x1b[32mOK") != NULL;
        cr_assert_eq(has, cases[i].sgr, "%s --color %s: colour %s:\n%s", cases[i].env,
                     cases[i].color ? cases[i].color : "(none)", has ? "on" : "off", shown);
        free(shown);
    }
}
