/* The postgres probe: transcripts replayed through a socket-free connection
 * (what it sends, whether TLS starts, how it ends), hostile ones included;
 * then a real PostgreSQL server, started here on 127.0.0.1 with a private
 * data directory and a certificate from a throw-away PKI, scanned by the
 * certsweep binary (with SSL on, and with SSL off). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "scanner/targets.h"
#include "tests/support/dbservers.h"
#include "tests/support/e2e.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/wire.h"

static const unsigned char ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

static void open_pg(struct wire *w)
{
    wire_open(w, &cs_probe_postgres, "db.example.net", NULL);
    cr_assert_eq(w->preamble_len, sizeof ssl_request, "the client speaks first");
    cr_assert(memcmp(w->sent, ssl_request, sizeof ssl_request) == 0, "not an SSLRequest");
}

/* Feeds len bytes to a fresh connection and expects it to end with why. */
static void expect_why(const void *bytes, size_t len, const char *why)
{
    struct wire w;
    open_pg(&w);
    wire_feed(&w, bytes, len);
    cr_assert_str_eq(w.why, why, "after %zu bytes", len);
    wire_close(&w);
}

/* An ErrorResponse: 'E', its length, then each "Xvalue" field, then 0. */
static size_t error_response(unsigned char *out, size_t cap, const char *const *fields)
{
    size_t n = 5;
    for (size_t i = 0; fields[i]; i++) {
        size_t len = strlen(fields[i]) + 1;
        cr_assert(n + len + 1 <= cap);
        memcpy(out + n, fields[i], len);
        n += len;
    }
    out[n++] = 0;
    out[0] = 'E';
    uint32_t body = (uint32_t)(n - 1);
    for (int i = 0; i < 4; i++)
        out[1 + i] = (unsigned char)(body >> (24 - 8 * i));
    return n;
}

/* What a PostgreSQL 15 says to a startup packet it does not support. */
static const char *const unsupported[] = {
    "SFATAL",
    "VFATAL",
    "C0A000",
    "Munsupported frontend protocol 1234.5679: server supports 3.0 to 3.0",
    "Fpostmaster.c",
    "L2136",
    "RProcessStartupPacket",
    NULL,
};

Test(postgres, s_starts_tls)
{
    struct wire w;
    open_pg(&w);
    cr_assert(!wire_tls_started(&w));
    wire_feed(&w, "S", 1);
    cr_assert(wire_tls_started(&w), "no ClientHello after 'S': %s", w.why);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert_eq(w.preamble_len, sizeof ssl_request, "nothing else before TLS");
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

Test(postgres, n_is_refused)
{
    struct wire w;
    open_pg(&w);
    wire_feed(&w, "N", 1);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"N\" (SSL not enabled)");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

Test(postgres, error_response_message_is_quoted)
{
    unsigned char msg[512];
    size_t n = error_response(msg, sizeof msg, unsupported);
    struct wire w;
    open_pg(&w);
    wire_feed(&w, msg, n);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"unsupported frontend protocol "
                            "1234.5679: server supports 3.0 to 3.0\"");
    cr_assert(!w.conn.ssl);
    wire_close(&w);

    /* the same a byte at a time */
    open_pg(&w);
    wire_feed_bytewise(&w, msg, n);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"unsupported frontend protocol "
                            "1234.5679: server supports 3.0 to 3.0\"");
    wire_close(&w);
}

/* A server older than protocol 3.0: 'E' and one NUL-terminated text. */
Test(postgres, old_text_error)
{
    static const char old[] = "EFATAL:  unsupported frontend protocol\n";
    expect_why(old, sizeof old,
               "starttls: server refused: \"FATAL:  unsupported frontend protocol\\x0A\"");
}

Test(postgres, malformed_error_responses)
{
    unsigned char msg[512];

    /* no M field */
    size_t n = error_response(msg, sizeof msg, (const char *const[]){"SFATAL", "C0A000", NULL});
    expect_why(msg, n,
               "starttls: server refused SSLRequest with an ErrorResponse and no "
               "message");

    /* the last field runs past the length (no terminator inside) */
    n = error_response(msg, sizeof msg, unsupported);
    msg[n - 2] = 'x';
    msg[n - 1] = 'x';
    expect_why(msg, n, "starttls: malformed PostgreSQL ErrorResponse");

    /* fields but no final 0 */
    n = error_response(msg, sizeof msg, (const char *const[]){"Mshort", NULL});
    msg[4]--; /* the length leaves the final 0 out */
    expect_why(msg, n - 1, "starttls: malformed PostgreSQL ErrorResponse");

    /* a length too short for any field */
    expect_why("E\0\0\0\x04", 5, "starttls: PostgreSQL ErrorResponse of 4 bytes (the cap is 4095)");
}

/* The length is checked when its 4 bytes arrive: nothing waits for, or
   keeps, what it announces. */
Test(postgres, huge_error_response_length)
{
    struct wire w;
    open_pg(&w);
    wire_feed(&w, "E\x7f\xff\xff\xff", 5);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why,
                     "starttls: PostgreSQL ErrorResponse of 2147483647 bytes (the cap is 4095)");
    wire_close(&w);

    /* 1 MiB, sent whole */
    size_t big = 1 << 20;
    unsigned char *m = calloc(1, big);
    memcpy(m, "E\x00\x0f\xff\xff", 5); /* the length: 1 MiB - 1 */
    memset(m + 5, 'M', big - 6);
    open_pg(&w);
    for (size_t off = 0; off < big && w.ends == 0; off += 8192)
        wire_feed(&w, m + off, 8192);
    cr_assert_str_eq(w.why,
                     "starttls: PostgreSQL ErrorResponse of 1048575 bytes (the cap is 4095)");
    wire_close(&w);
    free(m);
}

/* The largest message that fits the preamble's buffer is read; one byte
   more is refused. */
Test(postgres, error_response_at_the_cap)
{
    static unsigned char msg[CS_PREAMBLE_LINE_MAX + 1];
    char text[CS_PREAMBLE_LINE_MAX];
    memset(text, 'z', sizeof text);
    text[0] = 'M';
    /* 'E' + 4 + "M...\0" + 0 = 4096 */
    text[CS_PREAMBLE_LINE_MAX - 1 - 4 - 2] = '\0';
    size_t n = error_response(msg, sizeof msg, (const char *const[]){text, NULL});
    cr_assert_eq(n, CS_PREAMBLE_LINE_MAX);
    struct wire w;
    open_pg(&w);
    wire_feed(&w, msg, n);
    cr_assert(strncmp(w.why, "starttls: server refused: \"zzzz", 31) == 0, "%s", w.why);
    wire_close(&w);

    text[CS_PREAMBLE_LINE_MAX - 1 - 4 - 2] = 'z';
    text[CS_PREAMBLE_LINE_MAX - 1 - 4 - 1] = '\0';
    n = error_response(msg, sizeof msg, (const char *const[]){text, NULL});
    cr_assert_eq(n, CS_PREAMBLE_LINE_MAX + 1);
    expect_why(msg, n, "starttls: PostgreSQL ErrorResponse of 4096 bytes (the cap is 4095)");
}

/* An endless old-style text error: the message cap ends it. */
Test(postgres, endless_text_error)
{
    char chunk[8192];
    memset(chunk, 'A', sizeof chunk);
    chunk[0] = 'E';
    struct wire w;
    open_pg(&w);
    for (int i = 0; i < 128 && w.ends == 0; i++)
        wire_feed(&w, chunk, sizeof chunk);
    cr_assert_str_eq(w.why, "starttls: server message longer than 4096 bytes");
    wire_close(&w);
}

/* Bytes after 'S' and before the ClientHello would be taken as if they came
   over TLS (CVE-2021-23222): refused, and TLS never starts. */
Test(postgres, bytes_after_s_are_an_injection)
{
    unsigned char msg[600] = {'S'};
    size_t n = 1 + error_response(msg + 1, sizeof msg - 1, unsupported);
    struct wire w;
    open_pg(&w);
    wire_feed(&w, msg, n);
    cr_assert_eq(w.ends, 1);
    char want[200];
    snprintf(want, sizeof want,
             "starttls: server sent %zu bytes after its go-ahead (\"S\"), before TLS "
             "(plaintext injection?)",
             n - 1);
    cr_assert_str_eq(w.why, want);
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);

    open_pg(&w);
    wire_feed(&w, "SS", 2);
    cr_assert_str_eq(w.why, "starttls: server sent 1 byte after its go-ahead (\"S\"), before TLS "
                            "(plaintext injection?)");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

Test(postgres, silence_and_hang_up)
{
    struct wire w;
    open_pg(&w);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls");
    wire_close(&w);

    open_pg(&w);
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer");
    wire_close(&w);

    /* half an ErrorResponse, then nothing */
    open_pg(&w);
    wire_feed(&w, "E\0\0", 3);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls");
    wire_close(&w);
}

/* 'S', then no TLS from the server. */
Test(postgres, go_ahead_but_no_tls)
{
    struct wire w;
    open_pg(&w);
    wire_feed(&w, "S", 1);
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

Test(postgres, garbage_and_tls_bytes)
{
    struct wire w;
    open_pg(&w);
    wire_say(&w, "HTTP/1.1 400 Bad Request\r\n");
    cr_assert_str_eq(w.why, "starttls: not a PostgreSQL reply to SSLRequest (\"HTTP/1.1 400 Bad "
                            "Request\\x0D\\x0A\")");
    wire_close(&w);

    open_pg(&w);
    static const unsigned char bin[] = {0x00, 0xff, 0x80};
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not a PostgreSQL reply to SSLRequest (\"\\x00\\xFF\\x80\")");
    wire_close(&w);

    /* a ServerHello's record header, split after its first byte */
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    open_pg(&w);
    wire_feed(&w, hello, 1);
    cr_assert_eq(w.ends, 0, "one byte is not yet a verdict");
    wire_feed(&w, hello + 1, sizeof hello - 1);
    cr_assert(strncmp(w.why, "starttls: server speaks TLS at once", 35) == 0, "%s", w.why);
    wire_close(&w);

    /* a TLS alert: a server that wanted a ClientHello first */
    static const unsigned char alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x32};
    open_pg(&w);
    wire_feed(&w, alert, sizeof alert);
    cr_assert(strncmp(w.why, "starttls: server speaks TLS at once", 35) == 0, "%s", w.why);
    wire_close(&w);
}

/* Reached by name, by --starttls auto at its port, and by its URL schemes. */
Test(postgres, registered)
{
    cr_assert_eq(cs_probe_postgres.default_port, 5432);
    e2e_expect_registered(&cs_probe_postgres,
                          (const char *const[]){"postgres", "postgresql", NULL});
}

/* ---- a real PostgreSQL ---- */

#define DB_HOST "db.test.example"

static char *dir;
static struct e2e_pki pki;
static struct dbserver pg = {.pid = -1};

static void server_setup(void)
{
    char bin[4096];
    cr_assert_eq(postgres_bindir(bin, sizeof bin), 0,
                 "PostgreSQL is not installed (no " POSTGRES_BIN_GLOB "): the postgres "
                 "end-to-end tests need it (apt-get install postgresql)");
    /* EC P-256, 60 days and a half left */
    dir = e2e_dir_with_pki(
        &pki, &(struct e2e_pki_spec){
                  .name = "db", .host = DB_HOST, .days_before = 1, .days = 60, .key = PKI_EC256});
}

static void server_teardown(void)
{
    dbserver_stop(&pg);
    e2e_dir_free(&dir, &pki);
}

TestSuite(postgres_server, .init = server_setup, .fini = server_teardown, .timeout = 300);

static void start_pg(bool ssl)
{
    char err[8192];
    char *cert = e2e_path(dir, "chain.pem"), *key = e2e_path(dir, "leaf.key");
    cr_assert_eq(postgres_start(&pg, dir, ssl ? cert : NULL, key, err, sizeof err), 0, "%s", err);
    free(cert);
    free(key);
}

/* One certsweep run over target (SCHEME://db.test.example:PORT), pinned to
   127.0.0.1 with nothing left for a resolver. */
static void scan(const char *scheme, struct report_scan *s)
{
    char target[128];
    snprintf(target, sizeof target, "%s://" DB_HOST ":%u", scheme, pg.port);
    e2e_scan_one(s, dir, DB_HOST, pg.port, target, NULL);
}

Test(postgres_server, ssl_on_every_field)
{
    start_pg(true);
    struct report_scan s;
    scan("postgres", &s);
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    /* PostgreSQL 15 speaks TLS 1.2 and 1.3; OpenSSL agrees on 1.3 */
    e2e_expect_leaf(&s, &(struct e2e_leaf_want){.host = DB_HOST,
                                                .port = pg.port,
                                                .protocol = "postgres",
                                                .subject = "CN=" DB_HOST,
                                                .issuer = "CN=certsweep db Intermediate",
                                                .sans = DB_HOST,
                                                .key = "EC-256",
                                                .days = 60,
                                                .tls_version = "TLSv1.3",
                                                .leaf = pki.leaf.x509});
    report_scan_free(&s);
}

/* ssl=off: the server answers the SSLRequest with 'N'. */
Test(postgres_server, ssl_off_is_refused)
{
    start_pg(false);
    struct report_scan s;
    scan("postgresql", &s);
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    e2e_expect_refused(&s, DB_HOST, pg.port, "postgres",
                       "starttls: server refused: \"N\" (SSL not enabled)");
    report_scan_free(&s);
}
