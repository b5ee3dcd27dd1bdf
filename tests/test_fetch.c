/* HTTP fetches (scanner/fetch.c) against the scripted server of
 * tests/support/httpd on 127.0.0.1: bodies, POST, HTTP and network errors,
 * the body cap, redirects, the per-host cap and queue, connection reuse,
 * cancel and free. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "scanner/fetch.h"
#include "tests/support/httpd.h"
#include "tests/support/runner.h"

#define GUARD_MS 20000 /* no test waits longer than this for its answers */

TestSuite(fetch);

struct answer {
    int calls;
    char *error;         /* NULL on success */
    unsigned char *body; /* copy of the body */
    size_t len;
    uint64_t at_ms; /* when it came, from the test's start */
};

static uv_loop_t loop;
static uv_timer_t guard;
static struct httpd *srv;
static unsigned answered; /* callbacks so far */
static unsigned awaited;  /* run_until's goal (0: none) */
static bool in_call;      /* inside cs_fetch or cs_fetcher_cancel */
static uint64_t t0;

static uint64_t now_ms(void)
{
    return (uv_hrtime() - t0) / 1000000;
}

static void record_cb(void *arg, const char *error, const unsigned char *body, size_t len)
{
    struct answer *a = arg;
    cr_assert(!in_call, "a callback from inside cs_fetch or cs_fetcher_cancel");
    cr_assert_eq(++a->calls, 1, "answered %d times", a->calls);
    if (++answered == awaited)
        uv_stop(&loop);
    a->at_ms = now_ms();
    if (error) {
        cr_assert_null(strchr(error, '\n'), "newline in \"%s\"", error);
        a->error = strdup(error);
        return;
    }
    cr_assert_not_null(body);
    a->body = malloc(len + 1);
    memcpy(a->body, body, len);
    a->body[len] = '\0';
    a->len = len;
}

static void answer_free(struct answer *a)
{
    free(a->error);
    free(a->body);
    memset(a, 0, sizeof(*a));
}

static void setup(void)
{
    /* tests talk to 127.0.0.1 only, never through a proxy */
    static const char *const proxies[] = {"http_proxy",  "https_proxy", "HTTP_PROXY",
                                          "HTTPS_PROXY", "ALL_PROXY",   "all_proxy"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    cr_assert_eq(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &guard);
    srv = httpd_start();
    cr_assert_not_null(srv);
    answered = 0;
    t0 = uv_hrtime();
}

static char *url(const char *path)
{
    static char buf[8][128];
    static unsigned n;
    char *b = buf[n++ % 8];
    snprintf(b, sizeof(buf[0]), "http://127.0.0.1:%u%s", httpd_port(srv), path);
    return b;
}

static struct cs_fetch_limits limits(void)
{
    return (struct cs_fetch_limits){.timeout_ms = 5000,
                                    .max_bytes = 1 << 20,
                                    .per_host = 4,
                                    .max_redirects = 5,
                                    .user_agent = "certsweep-test/1"};
}

static struct cs_fetcher *fetcher(const struct cs_fetch_limits *lim)
{
    char err[256] = "";
    struct cs_fetcher *f = cs_fetcher_new(&loop, lim, err, sizeof(err));
    cr_assert_not_null(f, "cs_fetcher_new: %s", err);
    return f;
}

static void get(struct cs_fetcher *f, const char *u, struct answer *a)
{
    in_call = true;
    cs_fetch(f, u, NULL, 0, NULL, record_cb, a);
    in_call = false;
}

static void post(struct cs_fetcher *f, const char *u, const void *body, size_t len,
                 const char *type, struct answer *a)
{
    in_call = true;
    cs_fetch(f, u, body, len, type, record_cb, a);
    in_call = false;
}

static void guard_cb(uv_timer_t *t)
{
    (void)t;
    cr_assert_fail("no answer within %d ms (%u so far)", GUARD_MS, answered);
}

/* Runs the loop until `want` answers came in all.  (Not UV_RUN_ONCE: an
   answer given before the loop polls would leave it blocked in the poll.) */
static void run_until(unsigned want)
{
    awaited = want;
    uv_timer_start(&guard, guard_cb, GUARD_MS, 0);
    while (answered < want)
        uv_run(&loop, UV_RUN_DEFAULT);
    uv_timer_stop(&guard);
    awaited = 0;
}

static void tick_cb(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until the server has seen n requests for path. */
static void run_until_requests(const char *path, unsigned n)
{
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, tick_cb, 5, 5);
    uv_timer_start(&guard, guard_cb, GUARD_MS, 0);
    while (httpd_requests(srv, path) < n)
        uv_run(&loop, UV_RUN_ONCE);
    uv_timer_stop(&guard);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* Runs the loop for ms (answers may come meanwhile). */
static void run_for(unsigned ms)
{
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, tick_cb, ms, 0);
    while (uv_is_active((uv_handle_t *)&t))
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* Frees f (NULL: already freed), lets every handle close, and checks that
   nothing is left on the loop. */
static void finish(struct cs_fetcher *f)
{
    cs_fetcher_free(f);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "handles left on the loop");
    httpd_stop(srv);
    srv = NULL;
}

static void expect_ok(const struct answer *a, const void *body, size_t len)
{
    cr_assert_eq(a->calls, 1);
    cr_assert_null(a->error, "error \"%s\"", a->error);
    cr_assert_eq(a->len, len, "%zu bytes, want %zu", a->len, len);
    cr_assert(len == 0 || memcmp(a->body, body, len) == 0, "body differs");
}

static void expect_error(const struct answer *a, const char *error)
{
    cr_assert_eq(a->calls, 1);
    cr_assert_not_null(a->error, "success (%zu bytes), want \"%s\"", a->len, error);
    cr_assert_str_eq(a->error, error);
    cr_assert_null(a->body);
}

static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

Test(fetch, get_bodies, .init = setup)
{
    static const unsigned char small[] = "CRL\0with a NUL \xff\xfe and more";
    size_t big_len = 5 * 1024 * 1024 + 17;
    unsigned char *big = pattern(big_len);
    httpd_route(srv, "/crl",
                &(struct httpd_answer){.status = 200, .body = small, .len = sizeof(small)});
    httpd_route(srv, "/big", &(struct httpd_answer){.status = 200, .body = big, .len = big_len});
    httpd_route(
        srv, "/big-chunked",
        &(struct httpd_answer){.status = 200, .body = big, .len = big_len, .chunked = true});
    httpd_route_text(srv, "/empty", 200, NULL);
    httpd_route_text(srv, "/204", 204, NULL);

    struct cs_fetch_limits lim = limits();
    lim.max_bytes = 8 * 1024 * 1024;
    struct cs_fetcher *f = fetcher(&lim);
    cr_assert_eq(cs_fetcher_started(f), 0);
    struct answer a[5] = {0};
    get(f, url("/crl"), &a[0]);
    get(f, url("/big"), &a[1]);
    get(f, url("/big-chunked"), &a[2]);
    get(f, url("/empty"), &a[3]);
    get(f, url("/204?x=1"), &a[4]);
    cr_assert_eq(answered, 0);
    run_until(5);
    expect_ok(&a[0], small, sizeof(small));
    expect_ok(&a[1], big, big_len);
    expect_ok(&a[2], big, big_len);
    expect_ok(&a[3], "", 0);
    expect_ok(&a[4], "", 0);
    cr_assert_eq(cs_fetcher_started(f), 5);
    cr_assert_eq(httpd_requests(srv, "/crl"), 1);
    cr_assert_eq(httpd_requests(srv, "/204"), 1);
    cr_assert_eq(httpd_requests(srv, NULL), 5);
    for (size_t i = 0; i < 5; i++)
        answer_free(&a[i]);
    free(big);
    finish(f);
}

/* The part of an echoed request after its headers. */
static const unsigned char *echo_body(const struct answer *a, size_t *len)
{
    const unsigned char *end = memmem(a->body, a->len, "\r\n\r\n", 4);
    cr_assert_not_null(end, "no end of headers in the echo");
    *len = a->len - (size_t)(end + 4 - a->body);
    return end + 4;
}

/* 1 if the echoed request's headers hold line (case-insensitive name). */
static int echo_has(const struct answer *a, const char *line)
{
    const unsigned char *end = memmem(a->body, a->len, "\r\n\r\n", 4);
    char *head = strndup((const char *)a->body, (size_t)(end - a->body) + 2);
    int found = strcasestr(head, line) != NULL;
    free(head);
    return found;
}

Test(fetch, post_body_and_content_type, .init = setup)
{
    httpd_route(srv, "/ocsp", &(struct httpd_answer){.status = 200, .echo = true});
    unsigned char req[300];
    for (size_t i = 0; i < sizeof(req); i++)
        req[i] = (unsigned char)(i * 7);
    struct cs_fetcher *f = fetcher(&(struct cs_fetch_limits){
        .timeout_ms = 5000, .max_bytes = 65536, .per_host = 2, .user_agent = "certsweep-test/1"});
    struct answer a[3] = {0};
    unsigned char *copy = malloc(sizeof(req));
    memcpy(copy, req, sizeof(req));
    post(f, url("/ocsp"), copy, sizeof(req), "application/ocsp-request", &a[0]);
    memset(copy, 0, sizeof(req)); /* cs_fetch keeps a copy of its own */
    free(copy);
    post(f, url("/ocsp"), "", 0, "text/plain", &a[1]);
    get(f, url("/ocsp?q"), &a[2]);
    run_until(3);

    cr_assert_null(a[0].error, "%s", a[0].error);
    cr_assert(memcmp(a[0].body, "POST /ocsp HTTP/1.1\r\n", 21) == 0, "%s", a[0].body);
    cr_assert(echo_has(&a[0], "\r\nContent-Type: application/ocsp-request\r\n"), "%s", a[0].body);
    cr_assert(echo_has(&a[0], "\r\nContent-Length: 300\r\n"), "%s", a[0].body);
    cr_assert(echo_has(&a[0], "\r\nUser-Agent: certsweep-test/1\r\n"), "%s", a[0].body);
    cr_assert(!echo_has(&a[0], "\r\nExpect:"), "%s", a[0].body);
    size_t n;
    const unsigned char *b = echo_body(&a[0], &n);
    cr_assert_eq(n, sizeof(req));
    cr_assert(memcmp(b, req, n) == 0, "the POST body differs");

    cr_assert_null(a[1].error, "%s", a[1].error);
    cr_assert(memcmp(a[1].body, "POST /ocsp HTTP/1.1\r\n", 21) == 0, "%s", a[1].body);
    cr_assert(echo_has(&a[1], "\r\nContent-Type: text/plain\r\n"), "%s", a[1].body);
    cr_assert(echo_has(&a[1], "\r\nContent-Length: 0\r\n"), "%s", a[1].body);
    echo_body(&a[1], &n);
    cr_assert_eq(n, 0);

    cr_assert_null(a[2].error, "%s", a[2].error);
    cr_assert(memcmp(a[2].body, "GET /ocsp?q HTTP/1.1\r\n", 22) == 0, "%s", a[2].body);
    cr_assert(!echo_has(&a[2], "\r\nContent-Type:"), "%s", a[2].body);
    echo_body(&a[2], &n);
    cr_assert_eq(n, 0);
    cr_assert_eq(httpd_requests(srv, "/ocsp"), 3);
    for (size_t i = 0; i < 3; i++)
        answer_free(&a[i]);
    finish(f);
}

Test(fetch, http_errors, .init = setup)
{
    httpd_route_text(srv, "/fail", 500, "oops");
    httpd_route_text(srv, "/moved-nowhere", 302, NULL);
    httpd_route(srv, "/hangup", &(struct httpd_answer){.status = -1});
    struct cs_fetch_limits lim = limits();
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[4] = {0};
    get(f, url("/fail"), &a[0]);
    get(f, url("/nothing-here"), &a[1]);
    get(f, url("/moved-nowhere"), &a[2]);
    get(f, url("/hangup"), &a[3]);
    run_until(4);
    expect_error(&a[0], "HTTP 500");
    expect_error(&a[1], "HTTP 404");
    expect_error(&a[2], "HTTP 302");
    expect_error(&a[3], "empty reply");
    for (size_t i = 0; i < 4; i++)
        answer_free(&a[i]);
    finish(f);
}

Test(fetch, connection_refused, .init = setup)
{
    uint16_t port = free_port();
    cr_assert_neq(port, 0);
    char u[64];
    snprintf(u, sizeof(u), "http://127.0.0.1:%u/crl", port);
    struct cs_fetch_limits lim = limits();
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a = {0};
    get(f, u, &a);
    run_until(1);
    expect_error(&a, "connection refused");
    cr_assert_eq(cs_fetcher_started(f), 1);
    answer_free(&a);
    finish(f);
}

Test(fetch, timeout, .init = setup)
{
    httpd_route(srv, "/silent", &(struct httpd_answer){.status = 0});
    httpd_route(srv, "/silent-too", &(struct httpd_answer){.status = 0});
    struct cs_fetch_limits lim = limits();
    lim.timeout_ms = 500;
    struct cs_fetcher *f = fetcher(&lim);
    /* a witness: the same silence under a longer timeout, on the same loop */
    struct cs_fetch_limits lim_long = limits();
    lim_long.timeout_ms = 1500;
    struct cs_fetcher *f_long = fetcher(&lim_long);
    struct answer a = {0}, witness = {0};
    uint64_t start = now_ms();
    get(f_long, url("/silent-too"), &witness);
    get(f, url("/silent"), &a);
    run_until(2);
    expect_error(&a, "timed out");
    expect_error(&witness, "timed out");
    uint64_t took = a.at_ms - start;
    cr_assert_geq(took, 450, "timed out after %llu ms", (unsigned long long)took);
    /* the fetcher's own timeout ended it: before the witness's, whatever the
       machine's load did to both */
    cr_assert_lt(a.at_ms, witness.at_ms, "timed out after %llu ms, the witness after %llu ms",
                 (unsigned long long)took, (unsigned long long)(witness.at_ms - start));
    cr_assert_eq(httpd_requests(srv, "/silent"), 1);
    answer_free(&a);
    answer_free(&witness);
    cs_fetcher_free(f_long);
    finish(f);
}

Test(fetch, body_cap, .init = setup)
{
    unsigned char *p = pattern(4 << 20);
    httpd_route(srv, "/1000", &(struct httpd_answer){.status = 200, .body = p, .len = 1000});
    httpd_route(srv, "/1001", &(struct httpd_answer){.status = 200, .body = p, .len = 1001});
    httpd_route(srv, "/c1000",
                &(struct httpd_answer){.status = 200, .body = p, .len = 1000, .chunked = true});
    httpd_route(srv, "/c1001",
                &(struct httpd_answer){.status = 200, .body = p, .len = 1001, .chunked = true});
    httpd_route(srv, "/huge", &(struct httpd_answer){.status = 200, .body = p, .len = 4 << 20});
    httpd_route(srv, "/c-huge",
                &(struct httpd_answer){.status = 200, .body = p, .len = 4 << 20, .chunked = true});
    httpd_route(srv, "/500-chunked-huge",
                &(struct httpd_answer){.status = 500, .body = p, .len = 4 << 20, .chunked = true});
    httpd_route(srv, "/500-huge", &(struct httpd_answer){.status = 500, .body = p, .len = 4 << 20});
    struct cs_fetch_limits lim = limits();
    lim.max_bytes = 1000;
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[8] = {0};
    get(f, url("/1000"), &a[0]);
    get(f, url("/1001"), &a[1]);
    get(f, url("/c1000"), &a[2]);
    get(f, url("/c1001"), &a[3]);
    get(f, url("/huge"), &a[4]);
    get(f, url("/c-huge"), &a[5]);
    get(f, url("/500-huge"), &a[6]);
    get(f, url("/500-chunked-huge"), &a[7]);
    run_until(8);
    expect_ok(&a[0], p, 1000);
    expect_error(&a[1], "larger than 1000 bytes");
    expect_ok(&a[2], p, 1000);
    expect_error(&a[3], "larger than 1000 bytes");
    expect_error(&a[4], "larger than 1000 bytes");
    expect_error(&a[5], "larger than 1000 bytes");
    /* an error status is the answer, whatever its body */
    expect_error(&a[6], "HTTP 500");
    expect_error(&a[7], "HTTP 500");
    for (size_t i = 0; i < 8; i++)
        answer_free(&a[i]);
    free(p);
    finish(f);
}

Test(fetch, http_and_https_only, .init = setup)
{
    char ftp[96];
    snprintf(ftp, sizeof(ftp), "ftp://127.0.0.1:%u/x", httpd_port(srv));
    httpd_route(srv, "/to-file",
                &(struct httpd_answer){.status = 302, .location = "file:///etc/passwd"});
    httpd_route(srv, "/to-ftp", &(struct httpd_answer){.status = 301, .location = ftp});
    httpd_route(srv, "/hop", &(struct httpd_answer){.status = 302, .location = "/to-file"});
    struct cs_fetch_limits lim = limits();
    struct cs_fetcher *f = fetcher(&lim);
    const char *direct[] = {"file:///etc/passwd", ftp, "gopher://127.0.0.1/", "ldap://127.0.0.1/"};
    const char *malformed[] = {"", "not a url", "http://", "http://127.0.0.1:99999/"};
    struct answer a[3 + 4 + 4] = {0};
    get(f, url("/to-file"), &a[0]);
    get(f, url("/to-ftp"), &a[1]);
    get(f, url("/hop"), &a[2]);
    for (size_t i = 0; i < 4; i++)
        get(f, direct[i], &a[3 + i]);
    for (size_t i = 0; i < 4; i++)
        get(f, malformed[i], &a[7 + i]);
    cr_assert_eq(answered, 0);
    cr_assert_eq(cs_fetcher_started(f), 3);
    run_until(11);
    for (size_t i = 0; i < 7; i++)
        expect_error(&a[i], "unsupported URL (http and https only)");
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(a[7 + i].calls, 1);
        cr_assert_str_eq(a[7 + i].error, "malformed URL", "\"%s\": %s", malformed[i],
                         a[7 + i].error);
    }
    cr_assert_eq(cs_fetcher_started(f), 3);
    cr_assert_eq(httpd_requests(srv, "/to-file"), 2);
    for (size_t i = 0; i < 11; i++)
        answer_free(&a[i]);
    finish(f);
}

Test(fetch, redirects, .init = setup)
{
    char done[96];
    snprintf(done, sizeof(done), "http://127.0.0.1:%u/done", httpd_port(srv));
    httpd_route(srv, "/r0", &(struct httpd_answer){.status = 302, .location = "/r1"});
    httpd_route(srv, "/r1", &(struct httpd_answer){.status = 301, .location = "r2"});
    httpd_route(srv, "/r2", &(struct httpd_answer){.status = 302, .location = "/r3?x"});
    httpd_route(srv, "/r3", &(struct httpd_answer){.status = 302, .location = done});
    httpd_route_text(srv, "/done", 200, "done");
    httpd_route(srv, "/loop", &(struct httpd_answer){.status = 302, .location = "/loop"});

    struct cs_fetch_limits lim = limits();
    lim.max_redirects = 3;
    struct cs_fetcher *f3 = fetcher(&lim);
    lim.max_redirects = 4;
    struct cs_fetcher *f4 = fetcher(&lim);
    lim.max_redirects = 0;
    struct cs_fetcher *f0 = fetcher(&lim);
    struct answer a[5] = {0};
    get(f3, url("/r0"), &a[0]);
    get(f4, url("/r0"), &a[1]);
    get(f4, url("/loop"), &a[2]);
    get(f0, url("/r3"), &a[3]);
    get(f0, url("/done"), &a[4]);
    run_until(5);
    expect_error(&a[0], "too many redirects");
    expect_ok(&a[1], "done", 4);
    expect_error(&a[2], "too many redirects");
    expect_error(&a[3], "too many redirects");
    expect_ok(&a[4], "done", 4);
    cr_assert_eq(httpd_requests(srv, "/loop"), 5, "%u", httpd_requests(srv, "/loop"));
    cr_assert_eq(httpd_requests(srv, "/done"), 2);
    for (size_t i = 0; i < 5; i++)
        answer_free(&a[i]);
    cs_fetcher_free(f3);
    cs_fetcher_free(f0);
    finish(f4);
}

Test(fetch, per_host_cap, .init = setup)
{
    httpd_route(srv, "/slow",
                &(struct httpd_answer){.status = 200, .body = "slow", .len = 4, .delay_ms = 100});
    struct cs_fetch_limits lim = limits();
    lim.per_host = 2;
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[10] = {0};
    for (size_t i = 0; i < 10; i++)
        get(f, url("/slow"), &a[i]);
    cr_assert_eq(cs_fetcher_started(f), 2, "the other 8 wait in the queue");
    run_until(10);
    for (size_t i = 0; i < 10; i++)
        expect_ok(&a[i], "slow", 4);
    cr_assert_eq(httpd_requests(srv, "/slow"), 10);
    cr_assert_eq(httpd_max_open(srv), 2, "%u connections at once", httpd_max_open(srv));
    cr_assert_eq(cs_fetcher_started(f), 10);
    /* first in, first out */
    for (size_t i = 2; i < 10; i++)
        cr_assert_geq(a[i].at_ms, a[i - 2].at_ms);
    for (size_t i = 0; i < 10; i++)
        answer_free(&a[i]);
    finish(f);
}

Test(fetch, timeout_starts_when_leaving_the_queue, .init = setup)
{
    httpd_route(srv, "/slow",
                &(struct httpd_answer){.status = 200, .body = "slow", .len = 4, .delay_ms = 300});
    struct cs_fetch_limits lim = limits();
    lim.per_host = 1;
    lim.timeout_ms = 1000;
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[5] = {0};
    uint64_t start = now_ms();
    for (size_t i = 0; i < 5; i++)
        get(f, url("/slow"), &a[i]);
    run_until(5);
    for (size_t i = 0; i < 5; i++)
        expect_ok(&a[i], "slow", 4);
    cr_assert_geq(a[4].at_ms - start, 1500, "5 x 300 ms one after the other");
    cr_assert_eq(httpd_max_open(srv), 1);
    for (size_t i = 0; i < 5; i++)
        answer_free(&a[i]);
    finish(f);
}

Test(fetch, hosts_queue_apart, .init = setup)
{
    httpd_route(srv, "/slow",
                &(struct httpd_answer){.status = 200, .body = "slow", .len = 4, .delay_ms = 300});
    httpd_route(srv, "/echo", &(struct httpd_answer){.status = 200, .echo = true});
    char resolve[64], other[96];
    snprintf(resolve, sizeof(resolve), "other.test:%u:127.0.0.1", httpd_port(srv));
    snprintf(other, sizeof(other), "http://other.test:%u/echo", httpd_port(srv));
    const char *const entries[] = {resolve};
    struct cs_fetch_limits lim = limits();
    lim.per_host = 1;
    lim.resolve = entries;
    lim.n_resolve = 1;
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[4] = {0};
    for (size_t i = 0; i < 3; i++)
        get(f, url("/slow"), &a[i]);
    get(f, other, &a[3]);
    cr_assert_eq(cs_fetcher_started(f), 2, "one per host:port");
    run_until(4);
    for (size_t i = 0; i < 3; i++)
        expect_ok(&a[i], "slow", 4);
    cr_assert_null(a[3].error, "%s", a[3].error);
    char host[64];
    snprintf(host, sizeof(host), "\r\nHost: other.test:%u\r\n", httpd_port(srv));
    cr_assert(echo_has(&a[3], host), "%s", a[3].body);
    cr_assert_lt(a[3].at_ms, a[1].at_ms, "other.test waited behind 127.0.0.1");
    cr_assert_eq(httpd_max_open(srv), 2);
    for (size_t i = 0; i < 4; i++)
        answer_free(&a[i]);
    finish(f);
}

Test(fetch, cancel, .init = setup)
{
    httpd_route(srv, "/silent", &(struct httpd_answer){.status = 0});
    httpd_route_text(srv, "/ok", 200, "ok");
    struct cs_fetch_limits lim = limits();
    lim.per_host = 1;
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[6] = {0};
    for (size_t i = 0; i < 5; i++)
        get(f, url("/silent"), &a[i]);
    run_until_requests("/silent", 1);
    cr_assert_eq(answered, 0);
    in_call = true;
    cs_fetcher_cancel(f);
    in_call = false;
    cr_assert_eq(answered, 0, "answers come from the loop");
    run_until(5);
    for (size_t i = 0; i < 5; i++)
        expect_error(&a[i], "cancelled");
    cr_assert_eq(cs_fetcher_started(f), 1);
    run_for(200); /* no second answer (record_cb checks) */
    cr_assert_eq(answered, 5);
    cr_assert_eq(httpd_requests(srv, "/silent"), 1);
    cr_assert_eq(httpd_open(srv), 0, "the cancelled transfer's connection is closed");
    /* the fetcher is still good */
    get(f, url("/ok"), &a[5]);
    run_until(6);
    expect_ok(&a[5], "ok", 2);
    cr_assert_eq(cs_fetcher_started(f), 2);
    for (size_t i = 0; i < 6; i++)
        answer_free(&a[i]);
    finish(f);
}

Test(fetch, free_answers_what_is_left, .init = setup)
{
    httpd_route(srv, "/silent", &(struct httpd_answer){.status = 0});
    httpd_route_text(srv, "/ok", 200, "ok");
    struct cs_fetch_limits lim = limits();
    lim.per_host = 1;
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[4] = {0};
    for (size_t i = 0; i < 3; i++)
        get(f, url("/silent"), &a[i]);
    run_until_requests("/silent", 1);
    /* its caller may free the callbacks' arguments once it returns */
    cs_fetcher_free(f);
    cr_assert_eq(answered, 3);
    for (size_t i = 0; i < 3; i++)
        expect_error(&a[i], "cancelled");
    /* a fetch asked for afterwards still gets its answer, from the loop */
    get(f, url("/ok"), &a[3]);
    cr_assert_eq(answered, 3);
    run_for(100);
    cr_assert_eq(answered, 4);
    expect_error(&a[3], "cancelled");
    cr_assert_eq(httpd_requests(srv, "/ok"), 0);
    finish(NULL);
    for (size_t i = 0; i < 4; i++)
        answer_free(&a[i]);
}

/* A fetcher with nothing to do keeps no handle active, so the engine's
   uv_run can return, even with a kept-alive connection in curl's cache. */
Test(fetch, idle_fetcher_keeps_the_loop_free, .init = setup)
{
    httpd_route(srv, "/ka",
                &(struct httpd_answer){.status = 200, .body = "ka", .len = 2, .keep_alive = true});
    struct cs_fetch_limits lim = limits();
    struct cs_fetcher *f = fetcher(&lim);
    struct answer a[2] = {0};
    get(f, url("/ka"), &a[0]);
    run_until(1);
    expect_ok(&a[0], "ka", 2);
    cr_assert_eq(httpd_open(srv), 1, "the server keeps the connection");
    cr_assert(!uv_loop_alive(&loop), "an idle fetcher keeps the loop running");
    get(f, url("/ka"), &a[1]);
    run_until(2);
    expect_ok(&a[1], "ka", 2);
    cr_assert_eq(httpd_accepted(srv), 1, "the connection was reused");
    cr_assert(!uv_loop_alive(&loop), "an idle fetcher keeps the loop running");
    for (size_t i = 0; i < 2; i++)
        answer_free(&a[i]);
    finish(f);
}

/* Callbacks that fetch again, and one that frees the fetcher. */
struct chain {
    struct cs_fetcher *f;
    int steps;
    struct answer last;  /* queued when the fetcher is freed */
    struct answer after; /* asked for after the free, from the callback */
};

static void chain_cb(void *arg, const char *error, const unsigned char *body, size_t len)
{
    struct chain *c = arg;
    cr_assert(!in_call);
    cr_assert_null(error, "%s", error);
    cr_assert_eq(len, 2);
    cr_assert(memcmp(body, "ok", 2) == 0);
    if (++answered == awaited)
        uv_stop(&loop);
    if (++c->steps < 3) {
        cs_fetch(c->f, url("/ok"), NULL, 0, NULL, chain_cb, c);
        return;
    }
    cs_fetch(c->f, url("/silent"), NULL, 0, NULL, record_cb, &c->last);
    cs_fetcher_free(c->f);
    cs_fetch(c->f, url("/ok"), NULL, 0, NULL, record_cb, &c->after);
}

Test(fetch, reentrant_callbacks, .init = setup)
{
    httpd_route(srv, "/silent", &(struct httpd_answer){.status = 0});
    httpd_route_text(srv, "/ok", 200, "ok");
    struct cs_fetch_limits lim = limits();
    struct chain c = {.f = fetcher(&lim)};
    in_call = true;
    cs_fetch(c.f, url("/ok"), NULL, 0, NULL, chain_cb, &c);
    in_call = false;
    run_until(3);
    cr_assert_eq(httpd_requests(srv, "/ok"), 3);
    finish(NULL); /* c.f freed itself from its callback */
    cr_assert_eq(c.steps, 3);
    expect_error(&c.last, "cancelled");
    expect_error(&c.after, "cancelled");
    answer_free(&c.last);
    answer_free(&c.after);
}
