/* The HTML report in a real browser: a scan of the test fleet (certificates
 * of every status, a few of the test's own under an intermediate named
 * <script>, subjects that close attributes and open <img>, a target that is
 * a tag, an endpoint that refuses) writes report.html, which headless
 * Chromium loads with every host name unresolvable.  The DOM it dumps is
 * read back (tests/html_dom.py) and compared with the JSON report of the
 * same scan and with the certificates' own notAfter: every endpoint in the
 * table, the calendar's marks on their days, no element or handler from a
 * record, sorting with JavaScript and reading without it; and the
 * screenshot is a PNG of the size asked. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/asn1.h>

#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/pki.h"
#include "tests/support/report_fixture.h"
#include "tests/support/runner.h"

#define CHROMIUM "/usr/bin/chromium"
#define PYTHON "/usr/bin/python3"
#define BROWSER_TIMEOUT_S 300
#define WINDOW_DAYS 90

/* What a certificate or a target may carry into the page. */
#define EVIL_ISSUER "<script>alert(1)</script> &lt;b&gt; & \"Co\" 'Intermediate'"
#define EVIL_CN "\"><img src=x onerror=alert(2)>"
#define EVIL_O "<script>alert(4)</script>"
#define EVIL_TARGET "<img src=x onerror=alert(3)>"

/* The test's own endpoints, <name>.html.test, notAfter relative to now. */
static const struct {
    const char *name;
    int64_t not_after;
} own[] = {
    {"soon", 2 * DAY + DAY / 2},    {"week", 9 * DAY + DAY / 2},   {"pair-a", 20 * DAY + DAY / 2},
    {"pair-b", 20 * DAY + DAY / 2}, {"month", 45 * DAY + DAY / 2}, {"edge", 89 * DAY + DAY / 2},
    {"later", 150 * DAY},           {"gone", -3 * DAY - DAY / 2},
};
#define N_OWN (sizeof own / sizeof own[0])

/* Fleet scenarios scanned too: the fleet's own not_after values and its
   awkward subject. */
static const char *const scenarios[] = {"ok",      "warning", "critical",
                                        "expired", "awkward", "closed"};
#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])

static struct fleet *fleet;
static char *dir;
static int64_t now;
static struct pki_cert root, inter, leafs[N_OWN];
static json_t *report; /* the JSON report of the scan */
static char html_path[1024];

static void issue_own(void)
{
    cr_assert_eq(pki_root_and_intermediate(&root, &inter, "certsweep HTML Root", EVIL_ISSUER, now),
                 0);
    for (size_t i = 0; i < N_OWN; i++) {
        char san[96];
        snprintf(san, sizeof san, "DNS:%s.html.test", own[i].name);
        const char *sans[] = {san, NULL};
        const char *subject[] = {"CN", EVIL_CN, "O", EVIL_O, NULL};
        cr_assert_eq(pki_issue(&leafs[i],
                               &(struct pki_spec){.subject = subject,
                                                  .not_before = now - 60 * DAY,
                                                  .not_after = now + own[i].not_after,
                                                  .key = PKI_EC256,
                                                  .sans = sans},
                               &inter),
                     0);
    }
}

/* The fleet's root and the test's, in one CA file. */
static const char *write_ca_file(void)
{
    const char *mine = dir_path(dir, "root.pem");
    cr_assert_eq(pki_write_pem(mine, &root.x509, 1), 0);
    char *a = slurp(fleet_ca_file(fleet), NULL), *b = slurp(mine, NULL);
    cr_assert(a && b);
    char *both;
    cr_assert(asprintf(&both, "%s%s", a, b) > 0);
    const char *path = dir_path(dir, "ca.pem");
    cr_assert_eq(spit(path, both), 0);
    free(a);
    free(b);
    free(both);
    return path;
}

/* Scans everything once: report.html and report.json. */
static void scan(void)
{
    char nowstr[24];
    cs_format_time(now, nowstr);
    char json_path[1024], targets[N_OWN + N_SCENARIOS][128];
    snprintf(html_path, sizeof html_path, "%s", dir_path(dir, "report.html"));
    snprintf(json_path, sizeof json_path, "%s", dir_path(dir, "report.json"));
    char *ca = strdup(write_ca_file());
    const char *args[64] = {"--ca-file",
                            ca,
                            "--now",
                            nowstr,
                            "-t",
                            "3",
                            "--connect-timeout",
                            "1",
                            "--resolve",
                            "*.html.test:*:127.0.0.1",
                            "--resolve",
                            "*.fleet.test:*:127.0.0.1",
                            "-o",
                            html_path,
                            "-o",
                            json_path,
                            "-q",
                            EVIL_TARGET};
    size_t a = 18;
    for (size_t i = 0; i < N_OWN; i++) {
        snprintf(targets[i], sizeof targets[i], "%s.html.test:%u", own[i].name,
                 fleet_custom_port(fleet, i, 0));
        args[a++] = targets[i];
    }
    for (size_t i = 0; i < N_SCENARIOS; i++) {
        const struct fleet_scenario *s = fleet_get(fleet, scenarios[i]);
        cr_assert_not_null(s, "no fleet scenario %s", scenarios[i]);
        snprintf(targets[N_OWN + i], sizeof targets[0], "%s:%u", s->host, s->port);
        args[a++] = targets[N_OWN + i];
    }
    args[a] = NULL;
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_lt(r.status, 64, "exit %d; stderr: %s", r.status, r.err);
    json_error_t jerr;
    report = json_load_file(json_path, 0, &jerr);
    cr_assert_not_null(report, "the JSON report does not parse: %s", jerr.text);
    cr_assert_eq(json_array_size(json_object_get(report, "results")), 1 + N_OWN + N_SCENARIOS);
    run_result_free(&r);
    free(ca);
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    now = (int64_t)time(NULL);
    dir = temp_dir();
    cr_assert_not_null(dir);
    issue_own();
    struct fleet_custom custom[N_OWN];
    X509 *chain[] = {inter.x509};
    for (size_t i = 0; i < N_OWN; i++)
        custom[i] = (struct fleet_custom){
            .name = own[i].name, .leaf = &leafs[i], .chain = chain, .chain_len = 1};
    fleet = fleet_start(&(struct fleet_options){.now = now, .custom = custom, .n_custom = N_OWN});
    cr_assert_not_null(fleet, "the test fleet did not start");
    scan();
}

static void teardown(void)
{
    if (fleet)
        fleet_stop(fleet);
    fleet = NULL;
    for (size_t i = 0; i < N_OWN; i++)
        pki_cert_free(&leafs[i]);
    pki_cert_free(&inter);
    pki_cert_free(&root);
    json_decref(report);
    report = NULL;
    if (dir) {
        remove_tree(dir);
        free(dir);
    }
    dir = NULL;
}

/* One suite (two made criterion's runner leak under --jobs 2): the browser
   tests scan the fleet first, the writer tests below need no fleet. */
TestSuite(html, .timeout = 900);

/* ---- the browser ---- */

/* Runs headless Chromium on the report (url fragment appended) with a
   profile of its own, no network (every name unresolvable, no background
   services), JavaScript blocked by the profile's settings unless js, and the
   extra arguments; returns its standard output.  (--blink-settings=
   scriptEnabled=false would also stop the scripts headless Chromium runs
   itself to dump the DOM or take the screenshot.) */
static char *chromium(const char *fragment, bool js, const char *const *extra)
{
    char profile[1100], url[1200];
    const char *pdir = dir_path(dir, js ? "profile" : "profile-nojs");
    snprintf(profile, sizeof profile, "--user-data-dir=%s", pdir);
    if (!js) {
        char sub[1100];
        snprintf(sub, sizeof sub, "%s", pdir);
        mkdir(sub, 0700);
        snprintf(sub, sizeof sub, "%s/Default", pdir);
        mkdir(sub, 0700);
        snprintf(sub, sizeof sub, "%s/Default/Preferences", pdir);
        cr_assert_eq(
            spit(sub, "{\"profile\":{\"default_content_setting_values\":{\"javascript\":2}}}"), 0);
    }
    snprintf(url, sizeof url, "file://%s%s", html_path, fragment);
    const char *args[32] = {"--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--no-first-run",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync",
                            "--disable-extensions",
                            "--disable-default-apps",
                            "--host-resolver-rules=MAP * ~NOTFOUND",
                            profile};
    size_t a = 11;
    for (size_t i = 0; extra[i]; i++)
        args[a++] = extra[i];
    args[a++] = url;
    args[a] = NULL;
    struct run_result r;
    cr_assert_eq(run_binary(CHROMIUM, args, NULL, BROWSER_TIMEOUT_S, &r), 0,
                 "cannot run " CHROMIUM " (samples/install-deps.sh installs it)");
    cr_assert_eq(r.status, 0, "chromium exit %d; stderr: %s", r.status, r.err);
    char *out = r.out;
    r.out = NULL;
    run_result_free(&r);
    return out;
}

/* What tests/html_dom.py reads from an HTML file (or, with "--png", a
   screenshot). */
static json_t *helper(const char *mode, const char *path)
{
    const char *args[] = {CS_SOURCE_DIR "/tests/html_dom.py", mode ? mode : path,
                          mode ? path : NULL, NULL};
    struct run_result r;
    cr_assert_eq(run_binary(PYTHON, args, NULL, 300, &r), 0);
    cr_assert_eq(r.status, 0, "html_dom.py: %s", r.err);
    json_error_t jerr;
    json_t *d = json_loads(r.out, 0, &jerr);
    cr_assert_not_null(d, "html_dom.py output: %s", jerr.text);
    run_result_free(&r);
    return d;
}

/* The DOM after loading, the page's script run unless js is false. */
static json_t *dom(const char *fragment, bool js)
{
    const char *dump[] = {"--dump-dom", NULL};
    char *html = chromium(fragment, js, dump);
    cr_assert_not_null(strstr(html, "</table>"), "the dumped DOM has no table: %.2000s", html);
    const char *path = dir_path(dir, "dom.html");
    cr_assert_eq(spit(path, html), 0);
    free(html);
    return helper(NULL, path);
}

/* A screenshot of the page in a 1200x1600 window (scripts blocked unless
   js): its size and its colours. */
static json_t *screenshot(bool js)
{
    char shot[1100];
    snprintf(shot, sizeof shot, "--screenshot=%s", dir_path(dir, "shot.png"));
    const char *extra[] = {shot, "--window-size=1200,1600", "--hide-scrollbars", NULL};
    free(chromium("", js, extra));
    size_t len = 0;
    char *png = slurp(dir_path(dir, "shot.png"), &len);
    cr_assert_not_null(png, "no screenshot");
    cr_assert_gt(len, 33u);
    cr_assert_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    cr_assert_eq(memcmp(png + 12, "IHDR", 4), 0);
    free(png);
    json_t *d = helper("--png", dir_path(dir, "shot.png"));
    const char *keep = getenv(js ? "CS_KEEP_SCREENSHOT" : "CS_KEEP_SCREENSHOT_NOJS");
    if (keep != NULL) /* a path to keep it at, to look at */
        cr_assert_eq(rename(dir_path(dir, "shot.png"), keep), 0);
    return d;
}

/* Each status of the scan shows in its colour (the style, allowed by its
   hash, applied). */
static void check_colours(json_t *png)
{
    static const char *const colour[][2] = {{"OK", "#2e7d32"},
                                            {"WARNING", "#e0a100"},
                                            {"CRITICAL", "#e65100"},
                                            {"EXPIRED", "#b71c1c"},
                                            {"ERROR", "#6a1b9a"}};
    json_t *pixels = json_object_get(png, "pixels");
    for (size_t i = 0; i < sizeof colour / sizeof colour[0]; i++) {
        json_int_t n = json_integer_value(json_object_get(pixels, colour[i][1]));
        cr_assert_gt(n, 200, "%s's colour %s: %d pixels", colour[i][0], colour[i][1], (int)n);
    }
}

/* ---- what the page must say ---- */

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *cell(json_t *row, const char *col, const char *what)
{
    json_t *c = json_object_get(row, col);
    cr_assert_not_null(c, "no %s cell", col);
    return str(c, what);
}

/* "host:port" as the page writes an endpoint (the bad line has no port). */
static void endpoint_of(json_t *rec, char *buf, size_t len)
{
    json_t *port = json_object_get(rec, "port");
    if (json_is_integer(port))
        snprintf(buf, len, "%s:%" JSON_INTEGER_FORMAT, str(rec, "host"), json_integer_value(port));
    else
        snprintf(buf, len, "%s", str(rec, "host"));
}

static json_t *row_of(json_t *d, const char *endpoint)
{
    json_t *rows = json_object_get(d, "rows"), *row, *found = NULL;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        if (strcmp(cell(row, "host", "text"), endpoint) == 0) {
            cr_assert_null(found, "%s is in the table twice", endpoint);
            found = row;
        }
    }
    cr_assert_not_null(found, "%s is not in the table", endpoint);
    return found;
}

static int64_t not_after_of(json_t *rec)
{
    int64_t t;
    const char *s = str(rec, "not_after");
    cr_assert(s && cs_parse_time(s, &t) == 0);
    return t;
}

static int64_t cert_not_after(X509 *x)
{
    struct tm tm;
    cr_assert_eq(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
    return (int64_t)timegm(&tm);
}

/* The PKI's notAfter of endpoint i of the test's own, or of the fleet's
   scenario with that host. */
static int64_t expected_not_after(const char *host)
{
    for (size_t i = 0; i < N_OWN; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s.html.test", own[i].name);
        if (strcmp(name, host) == 0)
            return cert_not_after(leafs[i].x509);
    }
    for (size_t i = 0; i < N_SCENARIOS; i++) {
        const struct fleet_scenario *s = fleet_get(fleet, scenarios[i]);
        if (strcmp(s->host, host) == 0 && s->leaf.x509 != NULL)
            return cert_not_after(s->leaf.x509);
    }
    return CS_INT_NONE;
}

static int64_t floor_day(int64_t t)
{
    return t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
}

static int urgency(const char *status)
{
    static const char *const order[] = {"EXPIRED", "CRITICAL", "WARNING", "ERROR", "OK"};
    for (int i = 0; i < 5; i++)
        if (strcmp(order[i], status) == 0)
            return i;
    cr_assert_fail("status %s", status);
    return -1;
}

/* Every record is one row with its status, days, notAfter, issuer and
   reason; the certificates' notAfter is the PKI's. */
static void check_rows(json_t *d)
{
    json_t *results = json_object_get(report, "results"), *rec;
    size_t i;
    cr_assert_eq(json_array_size(json_object_get(d, "rows")), json_array_size(results));
    json_array_foreach(results, i, rec)
    {
        char ep[512], num[32];
        endpoint_of(rec, ep, sizeof ep);
        json_t *row = row_of(d, ep);
        cr_assert_str_eq(cell(row, "status", "text"), str(rec, "status"), "%s", ep);
        json_t *days = json_object_get(rec, "days_remaining");
        if (json_is_integer(days)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(days));
            cr_assert_str_eq(cell(row, "days", "text"), num, "%s", ep);
            cr_assert_str_eq(cell(row, "days", "sort"), num, "%s", ep);
        } else {
            cr_assert_str_eq(cell(row, "days", "text"), "-", "%s", ep);
        }
        int64_t want = expected_not_after(str(rec, "host"));
        if (want != CS_INT_NONE) {
            cr_assert_eq(not_after_of(rec), want, "%s", ep);
            char date[24];
            cs_format_time(want, date);
            date[10] = '\0';
            cr_assert_str_eq(cell(row, "not_after", "text"), date, "%s", ep);
            snprintf(num, sizeof num, "%" PRId64, want);
            cr_assert_str_eq(cell(row, "not_after", "sort"), num, "%s", ep);
            cr_assert_str_eq(cell(row, "host", "title"), str(rec, "subject"), "%s", ep);
        } else {
            cr_assert_str_eq(cell(row, "not_after", "text"), "-", "%s", ep);
        }
        const char *reason = str(rec, "reason");
        if (reason == NULL || reason[0] == '\0')
            reason = str(rec, "error");
        cr_assert_str_eq(cell(row, "reason", "text"), reason, "%s", ep);
        if (strstr(str(rec, "host"), ".html.test") != NULL)
            cr_assert_str_eq(cell(row, "issuer", "text"), EVIL_ISSUER, "%s", ep);
    }
    /* the awkward subject arrives whole, quotes, ampersand and all */
    const struct fleet_scenario *aw = fleet_get(fleet, "awkward");
    char ep[256];
    snprintf(ep, sizeof ep, "%s:%u", aw->host, aw->port);
    cr_assert_not_null(strstr(cell(row_of(d, ep), "host", "title"), "Comma\\, \\\"Quote\\\" & Co"),
                       "%s", cell(row_of(d, ep), "host", "title"));
    cr_assert_str_eq(cell(row_of(d, EVIL_TARGET), "status", "text"), "ERROR");
}

/* Nothing from a record became an element or a handler. */
static void check_no_injection(json_t *d)
{
    json_t *el = json_object_get(d, "elements");
    cr_assert_null(json_object_get(el, "img"));
    cr_assert_null(json_object_get(el, "iframe"));
    cr_assert_null(json_object_get(el, "object"));
    cr_assert_eq(json_integer_value(json_object_get(el, "script")), 1,
                 "only the page's own script");
    cr_assert_eq(json_array_size(json_object_get(d, "on_attrs")), 0);
}

/* Rows in urgency order: most urgent status first, then fewest days. */
static void check_urgency_order(json_t *d)
{
    json_t *rows = json_object_get(d, "rows"), *row;
    size_t i;
    int last_u = -1;
    long last_days = LONG_MIN;
    json_array_foreach(rows, i, row)
    {
        int u = urgency(cell(row, "status", "text"));
        const char *ds = cell(row, "days", "sort");
        long days = ds && ds[0] ? strtol(ds, NULL, 10) : LONG_MAX;
        cr_assert_geq(u, last_u, "row %zu out of order", i);
        if (u == last_u)
            cr_assert_geq(days, last_days, "row %zu out of order", i);
        else
            last_days = LONG_MIN;
        last_u = u;
        last_days = days;
    }
}

static void check_summary(json_t *d)
{
    json_t *want = json_object_get(report, "summary"), *got = json_object_get(d, "summary");
    const char *k;
    json_t *v;
    long total = 0;
    json_object_foreach(want, k, v)
    {
        cr_assert_eq(json_integer_value(json_object_get(got, k)), json_integer_value(v), "%s", k);
        total += (long)json_integer_value(v);
    }
    char num[32];
    snprintf(num, sizeof num, "%ld", total);
    cr_assert_str_eq(str(json_object_get(d, "ids"), "total"), num);
}

Test(html, every_endpoint_in_the_table_with_the_values_scanned, .init = setup, .fini = teardown)
{
    json_t *d = dom("", true);
    check_rows(d);
    check_no_injection(d);
    check_urgency_order(d);
    check_summary(d);
    json_decref(d);
}

/* One mark per certificate that expires within the window, on its day
   (x inside that day's column), coloured by its status, named in its
   title; the rest counted beside the calendar. */
Test(html, calendar_marks_on_their_days, .init = setup, .fini = teardown)
{
    json_t *d = dom("", true);
    json_t *svg = json_object_get(d, "svg"), *marks = json_object_get(d, "marks");
    int64_t x0 = json_integer_value(json_object_get(svg, "data-x0"));
    int64_t w = json_integer_value(json_object_get(svg, "data-day-width"));
    cr_assert_eq(json_integer_value(json_object_get(svg, "data-first-day")), floor_day(now));
    json_t *results = json_object_get(report, "results"), *rec;
    size_t i, in_window = 0, expired = 0, beyond = 0, none = 0;
    json_array_foreach(results, i, rec)
    {
        char ep[512], title[600];
        endpoint_of(rec, ep, sizeof ep);
        int64_t na = expected_not_after(str(rec, "host"));
        if (na == CS_INT_NONE) {
            none++;
            continue;
        }
        int64_t day = floor_day(na) - floor_day(now);
        if (na < now) {
            expired++;
            continue;
        }
        if (day >= WINDOW_DAYS) {
            beyond++;
            continue;
        }
        in_window++;
        snprintf(title, sizeof title, "%s \xE2\x80\x94 %s, not after %s", ep, str(rec, "status"),
                 str(rec, "not_after"));
        json_t *m, *found = NULL;
        size_t k;
        json_array_foreach(marks, k, m)
        {
            if (strcmp(str(m, "title"), title) == 0) {
                cr_assert_null(found, "two marks for %s", ep);
                found = m;
            }
        }
        cr_assert_not_null(found, "no mark titled %s", title);
        cr_assert_eq(json_integer_value(json_object_get(found, "day")), day, "%s", ep);
        double x = json_real_value(json_object_get(found, "x"));
        cr_assert(x >= (double)(x0 + day * w) && x < (double)(x0 + (day + 1) * w),
                  "%s: x %g is not in day %" PRId64, ep, x, day);
        char cls[32];
        snprintf(cls, sizeof cls, "s-%s", str(rec, "status"));
        cr_assert_not_null(strstr(str(found, "class"), cls), "%s: %s", ep, str(found, "class"));
    }
    cr_assert_eq(json_array_size(marks), in_window);
    cr_assert_geq(in_window, 6); /* soon, week, the pair, month, warning, critical... */
    cr_assert_geq(expired, 2);
    cr_assert_geq(beyond, 2);
    json_t *ids = json_object_get(d, "ids");
    char num[32];
    snprintf(num, sizeof num, "%zu", expired);
    cr_assert_str_eq(str(ids, "cal-expired"), num);
    snprintf(num, sizeof num, "%zu", beyond);
    cr_assert_str_eq(str(ids, "cal-beyond"), num);
    snprintf(num, sizeof num, "%zu", none);
    cr_assert_str_eq(str(ids, "cal-none"), num);

    /* the pair expires on the same day: stacked, not drawn over each other */
    double y[2];
    for (int p = 0; p < 2; p++) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "pair-%c.html.test:%u ", 'a' + p,
                 fleet_custom_port(fleet, (size_t)(2 + p), 0));
        json_t *m;
        size_t k;
        y[p] = -1;
        json_array_foreach(marks, k, m)
        {
            if (strncmp(str(m, "title"), prefix, strlen(prefix)) == 0)
                y[p] = json_real_value(json_object_get(m, "y"));
        }
        cr_assert_geq(y[p], 0, "no mark for %s", prefix);
    }
    cr_assert(y[0] != y[1], "the pair's marks overlap");
    json_decref(d);
}

/* With JavaScript the headings sort (the page's policy let its script
   run); #sort= picks the column as a click would. */
Test(html, sorts_with_javascript, .init = setup, .fini = teardown)
{
    json_t *d = dom("#sort=host", true);
    json_t *rows = json_object_get(d, "rows"), *row;
    size_t i;
    char last[512] = "";
    json_array_foreach(rows, i, row)
    {
        const char *h = cell(row, "host", "text");
        cr_assert_leq(strcasecmp(last, h), 0, "%s before %s", last, h);
        snprintf(last, sizeof last, "%s", h);
    }
    cr_assert_eq(json_integer_value(json_object_get(d, "buttons")),
                 (json_int_t)json_array_size(json_object_get(d, "columns")));
    json_t *hidden = json_object_get(d, "hidden"), *h;
    json_array_foreach(hidden, i, h) cr_assert_str_neq(json_string_value(h), "sort-hint");
    check_rows(d);
    json_decref(d);

    d = dom("#sort=-days", true);
    rows = json_object_get(d, "rows");
    long prev = LONG_MAX;
    bool nulls = false;
    json_array_foreach(rows, i, row)
    {
        const char *s = cell(row, "days", "sort");
        if (s[0] == '\0') {
            nulls = true; /* no days: last whichever the direction */
            continue;
        }
        cr_assert(!nulls, "a row with days after one without");
        long v = strtol(s, NULL, 10);
        cr_assert_leq(v, prev, "days %ld after %ld", v, prev);
        prev = v;
    }
    json_decref(d);
}

/* Without JavaScript everything is there, most urgent first, and styled;
   #sort= does nothing. */
Test(html, reads_without_javascript, .init = setup, .fini = teardown)
{
    json_t *d = dom("#sort=host", false);
    check_rows(d);
    check_no_injection(d);
    check_urgency_order(d);
    cr_assert_eq(json_integer_value(json_object_get(d, "buttons")), 0);
    json_t *hidden = json_object_get(d, "hidden"), *h;
    size_t i;
    bool hint_hidden = false;
    json_array_foreach(hidden, i, h) hint_hidden |= strcmp(json_string_value(h), "sort-hint") == 0;
    cr_assert(hint_hidden, "the sorting hint shows without a script");
    json_decref(d);

    json_t *png = screenshot(false);
    check_colours(png);
    json_decref(png);
}

/* The file asks for nothing outside itself, and its policy allows only its
   own inline blocks. */
Test(html, self_contained, .init = setup, .fini = teardown)
{
    char *html = slurp(html_path, NULL);
    cr_assert_not_null(html);
    static const char *const fetches[] = {"src=\"", "href=\"", "url(",    "@import",
                                          "<link",  "<img",    "<iframe", "srcset"};
    for (size_t i = 0; i < sizeof fetches / sizeof fetches[0]; i++)
        cr_assert_null(strcasestr(html, fetches[i]), "the report has %s", fetches[i]);
    /* the only URL is the SVG namespace, which nothing fetches */
    for (const char *p = strstr(html, "://"); p; p = strstr(p + 1, "://"))
        cr_assert(p - html >= 4 && strncmp(p - 4, "http://www.w3.org/2000/svg\"", 27) == 0,
                  "a URL: %.60s", p - 4);
    cr_assert_not_null(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" "
                                    "content=\"default-src 'none'; style-src 'sha256-"));
    cr_assert_not_null(strstr(html, "; script-src 'sha256-"));
    /* one script, the page's own, after the table */
    const char *script = strstr(html, "<script>");
    cr_assert_not_null(script);
    cr_assert_null(strstr(script + 1, "<script"));
    cr_assert_lt(strstr(html, "</table>"), script);
    free(html);
}

/* A screenshot of the size asked, every status in its colour. */
Test(html, screenshot, .init = setup, .fini = teardown)
{
    json_t *png = screenshot(true);
    cr_assert_eq(json_integer_value(json_object_get(png, "width")), 1200);
    cr_assert_eq(json_integer_value(json_object_get(png, "height")), 1600);
    check_colours(png);
    json_decref(png);
}

/* ---- the writer alone, on records made in memory ---- */

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Every text of a record is escaped for HTML, in text and in attributes;
   control characters, bidi controls and invalid UTF-8 arrive as visible
   escapes, never as themselves. */
Test(html, writer_record_text_is_escaped)
{
    struct cs_result recs[2];
    make_hostile(&recs[0]);
    make_ok(&recs[1]);
    set_str(&recs[1].host, "'\"<b>&amp;x");
    set_str(&recs[1].subject, "CN=\"><img src=x onerror=alert(1)> 'single'");
    set_str(&recs[1].reason, "<i>it's</i> \xe2\x80\xae\xff\x7f");
    set_str(&recs[1].revocation, "<script>alert(2)</script>");
    struct cs_scan_info info = test_info;
    info.crl = true; /* the revocation column */
    char *out = run_writer(&cs_writer_html, &info, 0, recs, 2, NULL);
    cr_assert_eq(count(out, "<script"), 1, "only the page's own script");
    cr_assert_eq(count(out, "<img"), 0);
    cr_assert_null(strstr(out, "<b>&"));
    cr_assert_eq(count(out, "<i>"), 0);
    cr_assert_not_null(strstr(out, ">&#39;&quot;&lt;b&gt;&amp;amp;x:443<"), "%s", out);
    cr_assert_not_null(
        strstr(out, " title=\"CN=&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &#39;single&#39;\""));
    cr_assert_not_null(strstr(out, "&lt;i&gt;it&#39;s&lt;/i&gt; \\u202E\\xFF\\x7F<"));
    cr_assert_not_null(strstr(out, "&lt;script&gt;alert(2)&lt;/script&gt;"));
    cr_assert_not_null(strstr(out, "\\x1B[31mred"));            /* the hostile subject's ESC */
    cr_assert_not_null(strstr(out, "CN=line1\\x0Aline2\\x0D")); /* its newline and CR */
    for (const unsigned char *p = (const unsigned char *)out; *p; p++)
        cr_assert(*p >= 0x20 || *p == '\n', "a raw control byte 0x%02X at %zu", *p,
                  (size_t)((const char *)p - out));
    cr_assert_null(strstr(out, "\xc2\x9b"));     /* C1 CSI */
    cr_assert_null(strstr(out, "\xe2\x80\xae")); /* right-to-left override */
    free(out);
    free_all(recs, 2);
}

/* A kept text is cut: a huge name costs a bounded cell. */
Test(html, writer_long_texts_are_cut)
{
    struct cs_result r;
    make_ok(&r);
    char *big = malloc(100001);
    memset(big, 'a', 100000);
    big[100000] = '\0';
    set_str(&r.host, big);
    set_str(&r.reason, big);
    set_str(&r.subject, big);
    size_t len = 0;
    char *out = run_writer(&cs_writer_html, &test_info, 0, &r, 1, &len);
    cr_assert_lt(len, 40000u, "%zu bytes", len);
    char want[300];
    memset(want, 'a', 256);
    strcpy(want + 256, "\xe2\x80\xa6<");
    cr_assert_not_null(strstr(out, want));
    memset(want, 'a', 257);
    want[257] = '\0';
    cr_assert_null(strstr(out, want));
    free(out);
    free(big);
    cs_result_free(&r);
}

/* Twenty certificates on one day: twelve marks stacked, "+8" above them. */
Test(html, writer_crowded_day)
{
    struct cs_result recs[20];
    for (size_t i = 0; i < 20; i++) {
        make_ok(&recs[i]);
        recs[i].port = (int64_t)(1000 + i);
        recs[i].not_after = T_2026_03_01 + 10 * DAY + DAY / 2;
        recs[i].days_remaining = 10;
    }
    char *out = run_writer(&cs_writer_html, &test_info, 0, recs, 20, NULL);
    cr_assert_eq(count(out, "<rect class=\"mark s-OK\""), 12, "%s", out);
    cr_assert_eq(count(out, "data-day=\"10\""), 12);
    cr_assert_not_null(strstr(out, ">+8<title>8 more on this day"));
    cr_assert_eq(count(out, "<tr class="), 20); /* the table has them all */
    free(out);
    free_all(recs, 20);
}

/* No records: a page all the same, every count 0. */
Test(html, writer_empty_scan)
{
    char *out = run_writer(&cs_writer_html, &test_info, 0, NULL, 0, NULL);
    cr_assert_not_null(strstr(out, "<b id=\"total\">0</b> endpoints"));
    cr_assert_not_null(strstr(out, "<b id=\"cal-expired\">0</b>"));
    cr_assert_not_null(strstr(out, "</tbody>\n</table>"));
    cr_assert_eq(count(out, "<rect"), 0);
    cr_assert_not_null(strstr(out, "</html>\n"));
    free(out);
}

/* Merged JSON Lines carry no scan time: the header says so, the calendar
   is left out, and no notAfter, however far out, draws outside it. */
Test(html, writer_no_classification_time)
{
    struct cs_result recs[3];
    make_ok(&recs[0]);
    make_ok(&recs[1]);
    recs[1].not_after = INT64_MIN + 1;
    make_ok(&recs[2]);
    recs[2].not_after = INT64_MAX;
    struct cs_scan_info info = test_info;
    info.now = CS_INT_NONE;
    info.started_at = CS_INT_NONE;
    char *out = run_writer(&cs_writer_html, &info, 0, recs, 3, NULL);
    cr_assert_not_null(strstr(out, "Scanned <b id=\"started\">unknown</b>, classified as of "
                                   "<b id=\"now\">unknown</b>"));
    cr_assert_null(strstr(out, "<svg"));
    cr_assert_eq(count(out, "<tr class="), 3);
    free(out);

    info = test_info; /* with a time, the extremes fall before and after the window */
    out = run_writer(&cs_writer_html, &info, 0, recs, 3, NULL);
    cr_assert_eq(count(out, "<rect"), 1); /* make_ok's, 80 days out */
    cr_assert_not_null(strstr(out, "<b id=\"cal-expired\">1</b>"));
    cr_assert_not_null(strstr(out, "<b id=\"cal-beyond\">1</b>"));
    free(out);
    free_all(recs, 3);
}
