/* Being told after the scan: the certsweep binary over the test fleet with
 * --notify (a webhook on our HTTP test server, which keeps the request it
 * got: the JSON summary is read back and compared with the JSON report of
 * the same scan) and --mail-to (a real Postfix of the test's own, reached
 * through sendmail -t with MAIL_CONFIG, delivering to a maildir).  What a
 * failed delivery does to the exit code, what reaches a chat message or a
 * mail header, and the limits of the webhook client. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/fleet_targets.h"
#include "tests/support/httpd.h"
#include "tests/support/postfix.h"
#include "tests/support/runner.h"

#define HOOK "/services/T000/B000/SECRETTOKEN"

static struct httpd *httpd;
static struct postfix mta = {.master = -1};
static char *mta_dir; /* the private Postfix's, outside dir: its mail owner must get in */

/* Whether problem a may come before b in the report's urgency order:
   status, then fewest days left (none last), then host. */
static bool urgency_le(json_t *a, json_t *b)
{
    int ua = cs_status_urgency(cs_status_parse(json_string_value(json_object_get(a, "status"))));
    int ub = cs_status_urgency(cs_status_parse(json_string_value(json_object_get(b, "status"))));
    if (ua != ub)
        return ua < ub;
    json_t *da = json_object_get(a, "days_remaining"), *db = json_object_get(b, "days_remaining");
    if (json_is_integer(da) != json_is_integer(db))
        return json_is_integer(da);
    if (json_is_integer(da) && json_integer_value(da) != json_integer_value(db))
        return json_integer_value(da) < json_integer_value(db);
    return strcasecmp(json_string_value(json_object_get(a, "host")),
                      json_string_value(json_object_get(b, "host"))) <= 0;
}

static void setup(void)
{
    fx_setup();
    httpd = httpd_start();
    cr_assert_not_null(httpd, "the HTTP test server did not start");
}

static void teardown(void)
{
    postfix_stop(&mta);
    if (mta_dir != NULL)
        remove_tree(mta_dir);
    free(mta_dir);
    mta_dir = NULL;
    httpd_stop(httpd);
    httpd = NULL;
    fx_teardown();
}

TestSuite(notify, .init = setup, .fini = teardown, .timeout = 180);

static bool mixed(const struct fleet_scenario *s)
{
    static const char *const names[] = {"ok", "warning", "expired", "closed"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s->name, names[i]) == 0)
            return true;
    return false;
}

static bool ok_only(const struct fleet_scenario *s)
{
    return strcmp(s->name, "ok") == 0;
}

/* certsweep over the scenarios pick accepts and the extra lines, with more
   arguments (NULL-terminated); the JSON report into *doc when doc != NULL. */
static void scan(bool (*pick)(const struct fleet_scenario *), const char *extra,
                 const char *const *more, struct run_result *r, json_t **doc)
{
    struct fleet_args args = {0};
    char *targets = fleet_targets_write(fx_fleet, fx_dir, pick, extra, &args);
    cr_assert_not_null(targets);
    char *json;
    cr_assert(asprintf(&json, "%s/out.json", fx_dir) > 0);
    remove(json);
    const char *fixed[] = {"-f", targets, "--ca-file", fleet_ca_file(fx_fleet), "-t", "3",
                           "-o", json,    "-q"};
    const char **argv = fleet_args_join(fixed, sizeof(fixed) / sizeof(fixed[0]), &args, more);
    cr_assert_eq(run_certsweep(argv, NULL, r), 0);
    if (doc) {
        json_error_t jerr;
        *doc = json_load_file(json, 0, &jerr);
        cr_assert_not_null(*doc, "no JSON report (%s); stderr: %s", jerr.text, r->err);
    }
    free(argv);
    fleet_args_free(&args);
    free(targets);
    free(json);
}

static char *hook_url(const char *path)
{
    char *url;
    cr_assert(asprintf(&url, "http://127.0.0.1:%u%s", httpd_port(httpd), path) > 0);
    return url;
}

/* The body of the last request to path, parsed; its head into *head. */
static json_t *posted(const char *path, char **head)
{
    char *req = httpd_last_request(httpd, path, NULL);
    cr_assert_not_null(req, "nothing was posted to %s", path);
    char *body = strstr(req, "\r\n\r\n");
    cr_assert_not_null(body);
    *body = '\0';
    json_error_t jerr;
    json_t *o = json_loads(body + 4, 0, &jerr);
    cr_assert_not_null(o, "the body is not JSON (%s): %s", jerr.text, body + 4);
    *head = strdup(req);
    free(req);
    return o;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(notify, webhook_posts_the_summary)
{
    httpd_route_text(httpd, HOOK, 200, "ok");
    char *url = hook_url(HOOK);
    const char *more[] = {"--notify", url, NULL};
    struct run_result r;
    json_t *doc;
    scan(mixed, "<!channel>\n`rm -rf`&x\n", more, &r, &doc);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    cr_assert_eq(httpd_requests(httpd, HOOK), 1);
    char *head;
    json_t *o = posted(HOOK, &head);
    cr_assert_eq(strncmp(head, "POST " HOOK " HTTP/1.1\r\n", strlen(HOOK) + 16), 0, "%s", head);
    cr_assert_not_null(strcasestr(head, "\r\nContent-Type: application/json"), "%s", head);

    /* the counts and the problems are those of the report */
    json_t *results = json_object_get(doc, "results");
    size_t n = json_array_size(results), not_ok = 0;
    json_t *counts = json_object_get(o, "counts");
    json_t *problems = json_object_get(o, "problems");
    for (int st = 0; st < CS_STATUS_COUNT; st++) {
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += cs_status_parse(json_string_value(
                        json_object_get(json_array_get(results, i), "status"))) == st;
        cr_assert_eq(json_integer_value(json_object_get(counts, cs_status_name(st))),
                     (long long)want, "%s", cs_status_name(st));
        if (st != CS_OK)
            not_ok += want;
    }
    cr_assert_eq(json_integer_value(json_object_get(o, "endpoints")), (long long)n);
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "EXPIRED");
    cr_assert(json_is_true(json_object_get(o, "complete")));
    cr_assert_eq(json_array_size(problems), not_ok);
    cr_assert_eq(json_integer_value(json_object_get(o, "problems_omitted")), 0);
    cr_assert_null(json_object_get(o, "changes"), "records carry no change field");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(problems, 0), "status")),
                     "EXPIRED", "most urgent first");
    for (size_t i = 1; i < json_array_size(problems); i++)
        cr_assert(urgency_le(json_array_get(problems, i - 1), json_array_get(problems, i)),
                  "problems %zu and %zu are out of the table's urgency order", i - 1, i);
    for (size_t i = 0; i < json_array_size(problems); i++) {
        json_t *p = json_array_get(problems, i);
        json_t *rec = NULL;
        for (size_t k = 0; k < n && !rec; k++) {
            json_t *c = json_array_get(results, k);
            if (json_equal(json_object_get(c, "host"), json_object_get(p, "host")) &&
                json_equal(json_object_get(c, "port"), json_object_get(p, "port")))
                rec = c;
        }
        cr_assert_not_null(rec, "problem %zu names no record", i);
        static const char *const same[] = {"status",         "reason",    "sni",     "address",
                                           "days_remaining", "not_after", "protocol"};
        for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++)
            cr_assert(json_equal(json_object_get(rec, same[k]), json_object_get(p, same[k])),
                      "problem %zu: %s differs", i, same[k]);
    }

    /* the chat text: the headline, a line per problem, nothing that acts */
    const char *text = json_string_value(json_object_get(o, "text"));
    const char *headline = "certsweep: EXPIRED - 1 expired, 1 warning, 3 error of 6 endpoints\n";
    cr_assert_eq(strncmp(text, headline, strlen(headline)), 0, "%s", text);
    cr_assert_eq(count_lines(text), 1 + not_ok, "%s", text);
    cr_assert_null(strchr(text, '<'), "%s", text);
    cr_assert_not_null(strstr(text, "\nERROR `&lt;!channel&gt; - input: "), "%s", text);
    cr_assert_not_null(strstr(text, "\nERROR `'rm -rf'&amp;x - input: "), "%s", text);
    for (const char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        size_t len = strcspn(line, "\n"), ticks = 0;
        for (size_t k = 0; k < len; k++)
            ticks += line[k] == '`';
        cr_assert_eq(ticks, 2, "one code span per line: %.*s", (int)len, line);
    }
    free(head);
    json_decref(o);
    json_decref(doc);
    run_result_free(&r);
    free(url);
}

Test(notify, notify_on)
{
    httpd_route_text(httpd, HOOK, 200, "ok");
    char *url = hook_url(HOOK);
    struct run_result r;
    const char *problems[] = {"--notify", url, NULL};
    scan(ok_only, NULL, problems, &r, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(httpd_requests(httpd, HOOK), 0, "nothing to say, nothing sent");
    run_result_free(&r);

    const char *changes[] = {"--notify", url, "--notify-on", "changes", NULL};
    scan(ok_only, NULL, changes, &r, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(httpd_requests(httpd, HOOK), 0, "no history, no changes");
    run_result_free(&r);

    const char *always[] = {"--notify", url, "--notify-on", "always", NULL};
    scan(ok_only, NULL, always, &r, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(httpd_requests(httpd, HOOK), 1);
    char *head;
    json_t *o = posted(HOOK, &head);
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "OK");
    cr_assert_eq(json_array_size(json_object_get(o, "problems")), 0);
    cr_assert_str_eq(json_string_value(json_object_get(o, "text")),
                     "certsweep: OK - 1 endpoint OK\n");
    free(head);
    json_decref(o);
    run_result_free(&r);
    free(url);
}

/* A delivery that fails: one line on stderr that names the webhook by its
   origin only, exit 75, and the reports written all the same. */
static void expect_failure(const char *path, const char *says,
                           bool (*pick)(const struct fleet_scenario *))
{
    char *url = hook_url(path);
    const char *more[] = {"--notify", url, "--notify-on", "always", NULL};
    struct run_result r;
    json_t *doc;
    scan(pick, NULL, more, &r, &doc);
    cr_assert_eq(r.status, 75, "exit %d: %s", r.status, r.err);
    cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
    cr_assert_not_null(strstr(r.err, says), "'%s' lacks '%s'", r.err, says);
    cr_assert_null(strstr(r.err, "SECRETTOKEN"), "the webhook's secret on stderr: %s", r.err);
    cr_assert_gt(json_array_size(json_object_get(doc, "results")), 0);
    json_decref(doc);
    run_result_free(&r);
    free(url);
}

Test(notify, failures_exit_75_and_keep_the_reports)
{
    char port[16];
    snprintf(port, sizeof(port), "%u", httpd_port(httpd));
    httpd_route_text(httpd, HOOK, 500, "no such hook");
    char says[128];
    snprintf(says, sizeof(says), "webhook at http://127.0.0.1:%s: HTTP 500 (\"no such hook\")",
             port);
    expect_failure(HOOK, says, ok_only);
    expect_failure(HOOK, "HTTP 500", mixed); /* 75 replaces 2 as well */

    /* a redirect is not followed: a webhook cannot send certsweep elsewhere */
    char *internal = hook_url("/internal/SECRETTOKEN");
    struct httpd_answer moved = {.status = 302, .location = internal};
    httpd_route(httpd, "/moved/SECRETTOKEN", &moved);
    httpd_route_text(httpd, "/internal/SECRETTOKEN", 200, "ok");
    expect_failure("/moved/SECRETTOKEN", "HTTP 302", ok_only);
    cr_assert_eq(httpd_requests(httpd, "/internal/SECRETTOKEN"), 0);
    free(internal);

    /* an answer past the cap is abandoned */
    size_t big = 1 << 20;
    char *body = malloc(big);
    memset(body, 'a', big);
    struct httpd_answer huge = {.status = 200, .body = body, .len = big};
    httpd_route(httpd, "/big/SECRETTOKEN", &huge);
    free(body);
    expect_failure("/big/SECRETTOKEN", "answer longer than 65536 bytes", ok_only);

    /* nobody listening */
    char *closed;
    cr_assert(asprintf(&closed, "http://127.0.0.1:%u/x/SECRETTOKEN",
                       fleet_get(fx_fleet, "closed")->port) > 0);
    const char *more[] = {"--notify", closed, "--notify-on", "always", NULL};
    struct run_result r;
    scan(ok_only, NULL, more, &r, NULL);
    cr_assert_eq(r.status, 75, "exit %d: %s", r.status, r.err);
    cr_assert_null(strstr(r.err, "SECRETTOKEN"), "%s", r.err);
    run_result_free(&r);
    free(closed);
}

static void expect_usage(const char *opt, const char *value, const char *says)
{
    const char *args[] = {opt, value, "--dns-server", "127.0.0.1:9", "x.example", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 64, "%s '%s' was taken (exit %d): %s", opt, value, r.status, r.err);
    cr_assert_not_null(strstr(r.err, says), "%s", r.err);
    cr_assert_eq(count_lines(r.err), 1, "%s", r.err);
    run_result_free(&r);
}

Test(notify, what_the_command_line_refuses)
{
    expect_usage("--notify", "file:///etc/passwd", "not an http:// or https:// URL");
    expect_usage("--notify", "ftp://hooks.example/x", "not an http:// or https:// URL");
    expect_usage("--notify", "gopher://hooks.example/x", "not an http:// or https:// URL");
    expect_usage("--notify", "http://hooks.example/a b", "not a URL");
    expect_usage("--notify", "hooks.example/x", "not a URL");
    expect_usage("--notify-on", "sometimes", "not one of problems, changes or always");
    static const char *const bad[] = {
        "ops@example.test\r\nBcc: spy@evil.test",
        "ops@example.test\nBcc: spy@evil.test",
        "ops\r\nBcc: spy@evil.test\r\nX: a@example.test",
        "Ops <ops@example.test>",
        "ops@example.test, spy@evil.test",
        "ops@example.test,spy@evil.test",
        "\"ops\"@example.test",
        "ops..x@example.test",
        ".ops@example.test",
        "ops@-example.test",
        "ops@example..test",
        "ops@[127.0.0.1]",
        "ops@",
        "@example.test",
        "ops",
        "-oQ/tmp/x@example.test ",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_usage("--mail-to", bad[i], "not an address");
}

/* ---- mail through a real Postfix ------------------------------------------------------------ */

/* A Postfix without an smtpd: mail comes in through sendmail. */
static void start_mta(void)
{
    char err[16384];
    mta_dir = temp_dir();
    cr_assert_not_null(mta_dir);
    cr_assert_eq(postfix_start(&mta, mta_dir, "myhostname = certsweep-test.invalid", NULL, 0, err,
                               sizeof(err)),
                 0, "%s", err);
    setenv("MAIL_CONFIG", mta.dir, 1); /* sendmail finds the private Postfix */
}

Test(notify, mail_through_postfix)
{
    start_mta();
    const char *more[] = {"--mail-to", "ops@" POSTFIX_DOMAIN, "--mail-to", "audit@" POSTFIX_DOMAIN,
                          NULL};
    struct run_result r;
    json_t *doc;
    scan(mixed, "bad\x1b[31mline\n", more, &r, &doc);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    cr_assert_null(strstr(r.err, "certsweep:"), "%s", r.err);
    size_t got = postfix_wait(&mta, 2, 60);
    char path[4200];
    char *log = slurp(postfix_log(&mta, path, sizeof(path)), NULL);
    cr_assert_eq(got, 2, "%zu messages delivered; mail log:\n%s", got, log ? log : "-");
    cr_assert_not_null(strstr(log, "to=<ops@" POSTFIX_DOMAIN ">"), "%s", log);
    cr_assert_not_null(strstr(log, "to=<audit@" POSTFIX_DOMAIN ">"), "%s", log);
    cr_assert_not_null(strstr(log, "status=sent (delivered to maildir)"), "%s", log);
    free(log);

    char *msg = postfix_message(&mta, 0);
    cr_assert_not_null(msg);
    char *body = strstr(msg, "\n\n");
    cr_assert_not_null(body);
    *body = '\0';
    body += 2;
    cr_assert_not_null(strstr(msg, "\nTo: ops@" POSTFIX_DOMAIN ", audit@" POSTFIX_DOMAIN "\n"),
                       "%s", msg);
    cr_assert_not_null(
        strstr(msg,
               "\nSubject: certsweep: EXPIRED - 1 expired, 1 warning, 2 error of 5 endpoints\n"),
        "%s", msg);
    cr_assert_not_null(strstr(msg, "\nContent-Type: text/plain; charset=UTF-8\n"), "%s", msg);
    cr_assert_null(strcasestr(msg, "\nBcc:"), "%s", msg);

    /* the body: the headline and a line per endpoint not OK, as the report says */
    cr_assert_eq(strncmp(body, "certsweep: EXPIRED - ", 21), 0, "%s", body);
    json_t *results = json_object_get(doc, "results");
    size_t not_ok = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *rec = json_array_get(results, i);
        const char *st = json_string_value(json_object_get(rec, "status"));
        if (strcmp(st, "OK") == 0)
            continue;
        not_ok++;
        json_t *port = json_object_get(rec, "port");
        char want[1024];
        if (json_is_integer(port))
            snprintf(want, sizeof(want), "\n%s %s:%lld - %s\n", st,
                     json_string_value(json_object_get(rec, "host")),
                     (long long)json_integer_value(port),
                     json_string_value(json_object_get(rec, "reason")));
        else
            snprintf(want, sizeof(want), "\n%s %s - %s\n", st,
                     json_string_value(json_object_get(rec, "host")),
                     json_string_value(json_object_get(rec, "reason")));
        cr_assert_not_null(strstr(body, want), "no line '%s' in:\n%s", want + 1, body);
    }
    cr_assert_eq(count_lines(body), 1 + not_ok, "%s", body);
    cr_assert_null(strchr(body, '\x1b'), "a control character reached the mail");
    free(msg);
    json_decref(doc);
    run_result_free(&r);
}

Test(notify, mail_failures_exit_75)
{
    const char *missing[] = {"--mail-to", "ops@" POSTFIX_DOMAIN, "--sendmail",
                             "/nonexistent/sendmail", NULL};
    struct run_result r;
    json_t *doc;
    scan(mixed, NULL, missing, &r, &doc);
    cr_assert_eq(r.status, 75, "exit %d: %s", r.status, r.err);
    cr_assert_not_null(
        strstr(r.err, "certsweep: --mail-to: mail: cannot run /nonexistent/sendmail"), "%s", r.err);
    json_decref(doc);
    run_result_free(&r);

    const char *refuses[] = {"--mail-to", "ops@" POSTFIX_DOMAIN, "--sendmail", "/bin/false", NULL};
    scan(mixed, NULL, refuses, &r, &doc);
    cr_assert_eq(r.status, 75, "exit %d: %s", r.status, r.err);
    cr_assert_not_null(strstr(r.err, "mail: /bin/false exited with 1"), "%s", r.err);
    cr_assert_gt(json_array_size(json_object_get(doc, "results")), 0, "the reports are written");
    json_decref(doc);
    run_result_free(&r);
}

/* --notify-on changes with a history: a new endpoint is a change and is
   told, an unchanged one is not; the changes are named in the summary. */
Test(notify, changes_from_the_history)
{
    static const char hook[] = "/hooks/changes";
    httpd_route_text(httpd, hook, 200, "ok");
    char *url, *db;
    cr_assert(asprintf(&url, "http://127.0.0.1:%u%s", httpd_port(httpd), hook) > 0);
    cr_assert(asprintf(&db, "%s/changes.db", fx_dir) > 0);
    const char *more[] = {"--notify", url, "--notify-on", "changes", "--history", db, NULL};
    struct run_result r;
    scan(ok_only, NULL, more, &r, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(httpd_requests(httpd, hook), 1, "the first scan: one new endpoint");
    char *head;
    json_t *o = posted(hook, &head);
    json_t *changes = json_object_get(o, "changes");
    cr_assert_eq(json_array_size(changes), 1, "%s", head);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(changes, 0), "change")),
                     "new");
    free(head);
    json_decref(o);
    run_result_free(&r);

    scan(ok_only, NULL, more, &r, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(httpd_requests(httpd, hook), 1, "the same endpoint again: nothing to tell");
    run_result_free(&r);
    free(url);
    free(db);
}
