/* The mysql probe: greetings and hostile transcripts replayed through a
 * socket-free connection (what it sends, whether TLS starts, how it ends);
 * then a real MariaDB server, started here on 127.0.0.1 with a private data
 * directory and a certificate from a throw-away PKI, scanned by the
 * certsweep binary (with TLS, and without). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "scanner/targets.h"
#include "tests/support/dbservers.h"
#include "tests/support/e2e.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/wire.h"

/* MariaDB 10.11.19 (Debian 12) with --ssl-cert and --ssl-key, as read from
   its socket: capabilities 0xfffe (CLIENT_SSL set). */
static const unsigned char mariadb_10_11[] = {
    0x64, 0x00, 0x00, 0x00, 0x0a, 0x35, 0x2e, 0x35, 0x2e, 0x35, 0x2d, 0x31, 0x30, 0x2e, 0x31,
    0x31, 0x2e, 0x31, 0x39, 0x2d, 0x4d, 0x61, 0x72, 0x69, 0x61, 0x44, 0x42, 0x2d, 0x30, 0x2b,
    0x64, 0x65, 0x62, 0x31, 0x32, 0x75, 0x31, 0x00, 0x03, 0x00, 0x00, 0x00, 0x3d, 0x3f, 0x65,
    0x5e, 0x29, 0x4d, 0x2b, 0x2c, 0x00, 0xfe, 0xff, 0x08, 0x02, 0x00, 0xff, 0x81, 0x15, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x3d, 0x2c, 0x62, 0x2e, 0x5d, 0x67,
    0x6d, 0x6e, 0x63, 0x25, 0x2c, 0x4a, 0x00, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x5f, 0x6e, 0x61,
    0x74, 0x69, 0x76, 0x65, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00,
};

/* The same server with no certificate: capabilities 0xf7fe, no CLIENT_SSL. */
static const unsigned char mariadb_10_11_plain[] = {
    0x64, 0x00, 0x00, 0x00, 0x0a, 0x35, 0x2e, 0x35, 0x2e, 0x35, 0x2d, 0x31, 0x30, 0x2e, 0x31,
    0x31, 0x2e, 0x31, 0x39, 0x2d, 0x4d, 0x61, 0x72, 0x69, 0x61, 0x44, 0x42, 0x2d, 0x30, 0x2b,
    0x64, 0x65, 0x62, 0x31, 0x32, 0x75, 0x31, 0x00, 0x03, 0x00, 0x00, 0x00, 0x75, 0x60, 0x60,
    0x44, 0x72, 0x34, 0x48, 0x4d, 0x00, 0xfe, 0xf7, 0x08, 0x02, 0x00, 0xff, 0x81, 0x15, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x2b, 0x2f, 0x49, 0x63, 0x37, 0x27,
    0x5a, 0x72, 0x4e, 0x6d, 0x5a, 0x5a, 0x00, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x5f, 0x6e, 0x61,
    0x74, 0x69, 0x76, 0x65, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00,
};

/* A MariaDB 11.4 greeting as its protocol documentation lays it out: no
   "5.5.5-" prefix, charset 45, the MariaDB capabilities in the filler. */
static const unsigned char mariadb_11[] = {
    0x5a, 0x00, 0x00, 0x00, 0x0a, 0x31, 0x31, 0x2e, 0x34, 0x2e, 0x35, 0x2d, 0x4d, 0x61, 0x72, 0x69,
    0x61, 0x44, 0x42, 0x2d, 0x75, 0x62, 0x75, 0x32, 0x34, 0x30, 0x34, 0x00, 0x05, 0x00, 0x00, 0x00,
    0x58, 0x71, 0x33, 0x21, 0x6b, 0x50, 0x39, 0x61, 0x00, 0xfe, 0xff, 0x2d, 0x02, 0x00, 0xff, 0x81,
    0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x4c, 0x6d, 0x34, 0x23, 0x75,
    0x54, 0x37, 0x7a, 0x51, 0x77, 0x32, 0x65, 0x00, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x5f, 0x6e, 0x61,
    0x74, 0x69, 0x76, 0x65, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00,
};

/* A MySQL 8.0 greeting as its protocol documentation lays it out:
   capabilities 0xdfffffff, charset 255, caching_sha2_password. */
static const unsigned char mysql_8[] = {
    0x4a, 0x00, 0x00, 0x00, 0x0a, 0x38, 0x2e, 0x30, 0x2e, 0x33, 0x36, 0x00, 0x08, 0x00, 0x00, 0x00,
    0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x01, 0x00, 0xff, 0xff, 0xff, 0x02, 0x00, 0xff, 0xdf,
    0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
    0x66, 0x77, 0x08, 0x19, 0x2a, 0x3b, 0x4c, 0x00, 0x63, 0x61, 0x63, 0x68, 0x69, 0x6e, 0x67, 0x5f,
    0x73, 0x68, 0x61, 0x32, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00,
};

/* What the probe must send: packet 1, 32 bytes: capabilities
   LONG_PASSWORD | LONG_FLAG | PROTOCOL_41 | SSL | TRANSACTIONS |
   SECURE_CONNECTION | MULTI_RESULTS | PLUGIN_AUTH, max packet 16 MiB,
   charset 33, 23 zero bytes. */
static const unsigned char ssl_request[36] = {
    0x20, 0x00, 0x00, 0x01, 0x05, 0xaa, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x21,
};

static void open_my(struct wire *w)
{
    wire_open(w, &cs_probe_mysql, "db.example.net", NULL);
    cr_assert_eq(w->sent_len, 0, "the server speaks first");
}

/* Feeds len bytes to a fresh connection and expects it to end with why. */
static void expect_why(const void *bytes, size_t len, const char *why)
{
    struct wire w;
    open_my(&w);
    wire_feed(&w, bytes, len);
    cr_assert_str_eq(w.why, why, "after %zu bytes", len);
    wire_close(&w);
}

/* A greeting with TLS: exactly the SSLRequest, then a ClientHello. */
static void starts_tls(const unsigned char *greeting, size_t len, size_t step)
{
    struct wire w;
    open_my(&w);
    for (size_t off = 0; off < len; off += step)
        wire_feed(&w, greeting + off, off + step <= len ? step : len - off);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert(wire_tls_started(&w), "no ClientHello after the SSLRequest");
    cr_assert_eq(w.preamble_len, sizeof ssl_request);
    cr_assert(memcmp(w.sent, ssl_request, sizeof ssl_request) == 0, "not the SSLRequest");
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

Test(mysql, mariadb_10_11_greeting)
{
    starts_tls(mariadb_10_11, sizeof mariadb_10_11, sizeof mariadb_10_11);
}

Test(mysql, mariadb_11_and_mysql_8_greetings)
{
    starts_tls(mariadb_11, sizeof mariadb_11, sizeof mariadb_11);
    starts_tls(mysql_8, sizeof mysql_8, sizeof mysql_8);
}

Test(mysql, split_delivery)
{
    starts_tls(mariadb_10_11, sizeof mariadb_10_11, 1);
    starts_tls(mysql_8, sizeof mysql_8, 3);
    starts_tls(mariadb_11, sizeof mariadb_11, 7);
}

Test(mysql, no_ssl_capability)
{
    struct wire w;
    open_my(&w);
    wire_feed(&w, mariadb_10_11_plain, sizeof mariadb_10_11_plain);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why,
                     "starttls: server does not offer TLS (\"5.5.5-10.11.19-MariaDB-0+deb12u1\")");
    cr_assert_eq(w.sent_len, 0, "no SSLRequest to a server without TLS");
    wire_close(&w);

    /* MySQL 8 with CLIENT_SSL cleared (and every other bit left) */
    unsigned char g[sizeof mysql_8];
    memcpy(g, mysql_8, sizeof g);
    g[26] &= 0xf7;
    open_my(&w);
    wire_feed(&w, g, sizeof g);
    cr_assert_str_eq(w.why, "starttls: server does not offer TLS (\"8.0.36\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

/* An error packet instead of a greeting: sent before any handshake, with
   no SQL state ... */
Test(mysql, error_packet_is_quoted)
{
    static const char host[] = "\xff\x6a\x04Host '192.0.2.7' is not allowed to connect to this "
                               "MySQL server";
    unsigned char pkt[128] = {sizeof host - 1, 0, 0, 0};
    memcpy(pkt + 4, host, sizeof host - 1);
    struct wire w;
    open_my(&w);
    wire_feed(&w, pkt, 4 + sizeof host - 1);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"Host '192.0.2.7' is not allowed to "
                            "connect to this MySQL server\" (error 1130)");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* MariaDB 10.11 at --max-connections, as read from its socket */
    static const unsigned char too_many[] = "\x17\0\0\0\xff\x10\x04Too many connections";
    open_my(&w);
    wire_feed(&w, too_many, sizeof too_many - 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"Too many connections\" (error 1040)");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* ... or with one */
    static const char many[] = "\xff\x10\x04#08004Too many connections";
    memset(pkt, 0, sizeof pkt);
    pkt[0] = sizeof many - 1;
    memcpy(pkt + 4, many, sizeof many - 1);
    expect_why(pkt, 4 + sizeof many - 1,
               "starttls: server refused: \"Too many connections\" (error 1040)");

    /* too short for a code */
    expect_why("\x02\0\0\0\xff\x10", 6, "starttls: malformed MySQL error packet");
}

Test(mysql, protocol_version_9)
{
    static const unsigned char old[] = {0x15, 0x00, 0x00, 0x00, 0x09, '3',  '.',  '2',  '2',
                                        '.',  '3',  '2',  0x00, 0x01, 0x00, 0x00, 0x00, 'a',
                                        'b',  'c',  'd',  'e',  'f',  'g',  'h',  0x00};
    struct wire w;
    open_my(&w);
    wire_feed(&w, old, sizeof old);
    cr_assert_str_eq(w.why, "starttls: server speaks MySQL protocol 9, which has no TLS "
                            "(\"3.22.32\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(mysql, truncated_greetings)
{
    struct wire w;
    /* the packet ends right after the capabilities' first byte */
    unsigned char g[64];
    size_t cut = 4 + 1 + 33 + 4 + 8 + 1 + 1; /* version "5.5.5-10.11.19-MariaDB-0+deb12u1" */
    memcpy(g, mariadb_10_11, cut);
    g[0] = (unsigned char)(cut - 4);
    open_my(&w);
    wire_feed(&w, g, cut);
    cr_assert_str_eq(w.why,
                     "starttls: MySQL greeting cut short (\"5.5.5-10.11.19-MariaDB-0+deb12u1\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* the version has no end inside the packet */
    memcpy(g, mariadb_10_11, 20);
    g[0] = 16;
    expect_why(g, 20, "starttls: malformed MySQL greeting (no end to the server version)");

    /* half the greeting, then silence, or a hang-up */
    open_my(&w);
    wire_feed(&w, mariadb_10_11, 50);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
    open_my(&w);
    wire_feed(&w, mariadb_10_11, 50);
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer");
    wire_close(&w);

    /* an empty packet */
    expect_why("\0\0\0\0\x0a", 5, "starttls: empty MySQL packet where the greeting belongs");
}

/* The length is judged when the header arrives: nothing waits for, or
   keeps, what it announces. */
Test(mysql, oversized_lengths)
{
    struct wire w;
    open_my(&w);
    wire_feed(&w, "\xff\xff\xff\x00\x0a", 5);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: MySQL greeting of 16777215 bytes (the cap is 4092)");
    wire_close(&w);

    /* a 1 MiB greeting, sent in full */
    size_t big = (1 << 20) + 4;
    unsigned char *m = calloc(1, big);
    memcpy(m, "\x00\x00\x10\x00\x0a", 5);
    memset(m + 5, 'v', big - 5);
    open_my(&w);
    for (size_t off = 0; off < big && w.ends == 0; off += 8192)
        wire_feed(&w, m + off, big - off < 8192 ? big - off : 8192);
    cr_assert_str_eq(w.why, "starttls: MySQL greeting of 1048576 bytes (the cap is 4092)");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
    free(m);
}

/* The largest greeting the preamble keeps is read; one byte more is not. */
Test(mysql, greeting_at_the_cap)
{
    static unsigned char g[CS_PREAMBLE_LINE_MAX + 1];
    size_t n = CS_PREAMBLE_LINE_MAX - 4;
    memcpy(g, mysql_8, sizeof mysql_8);
    memset(g + sizeof mysql_8, 'p', sizeof g - sizeof mysql_8); /* a long plugin name */
    g[0] = (unsigned char)n;
    g[1] = (unsigned char)(n >> 8);
    struct wire w;
    open_my(&w);
    wire_feed(&w, g, 4 + n);
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);

    n++;
    g[0] = (unsigned char)n;
    g[1] = (unsigned char)(n >> 8);
    open_my(&w);
    wire_feed(&w, g, 4 + n);
    cr_assert_str_eq(w.why, "starttls: MySQL greeting of 4093 bytes (the cap is 4092)");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(mysql, garbage_and_tls_bytes)
{
    struct wire w;
    open_my(&w);
    wire_say(&w, "HTTP/1.1 400 Bad Request\r\n");
    cr_assert_str_eq(w.why,
                     "starttls: not a MySQL greeting (\"HTTP/1.1 400 Bad Request\\x0D\\x0A\")");
    wire_close(&w);

    open_my(&w);
    wire_say(&w, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    cr_assert_str_eq(
        w.why, "starttls: not a MySQL greeting (\"SSH-2.0-OpenSSH_9.2p1 Debian-2\\x0D\\x0A\")");
    wire_close(&w);

    /* a greeting's shape with sequence id 1 */
    unsigned char g[sizeof mysql_8];
    memcpy(g, mysql_8, sizeof g);
    g[3] = 1;
    expect_why(g, 5, "starttls: not a MySQL greeting (\"J\\x00\\x00\\x01\\x0A\")");

    /* a ServerHello's record header, split */
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    open_my(&w);
    wire_feed(&w, hello, 2);
    cr_assert_eq(w.ends, 0);
    wire_feed(&w, hello + 2, sizeof hello - 2);
    cr_assert(strncmp(w.why, "starttls: server speaks TLS at once", 35) == 0, "%s", w.why);
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

/* The greeting is the server's last plaintext: bytes behind it, before our
   ClientHello, would be read as if they came over TLS.  Refused. */
Test(mysql, bytes_after_the_greeting_are_an_injection)
{
    unsigned char g[sizeof mariadb_10_11 + 11];
    memcpy(g, mariadb_10_11, sizeof mariadb_10_11);
    memcpy(g + sizeof mariadb_10_11, "\x07\0\0\x02\0\0\0\x02\0\0\0", 11); /* an OK packet */
    struct wire w;
    open_my(&w);
    wire_feed(&w, g, sizeof g);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server sent 11 bytes after its go-ahead "
                            "(\"5.5.5-10.11.19-MariaDB-0+deb12u1\"), before TLS (plaintext "
                            "injection?)");
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);
}

Test(mysql, silence)
{
    struct wire w;
    open_my(&w);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls");
    wire_close(&w);

    /* a greeting, the SSLRequest, then no TLS from the server */
    open_my(&w);
    wire_feed(&w, mariadb_10_11, sizeof mariadb_10_11);
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* Reached by name, by --starttls auto at its port, and by its URL scheme. */
Test(mysql, registered)
{
    cr_assert_eq(cs_probe_mysql.default_port, 3306);
    e2e_expect_registered(&cs_probe_mysql, (const char *const[]){"mysql", NULL});
}

/* ---- a real MariaDB ---- */

#define DB_HOST "db.test.example"

static char *dir;
static struct e2e_pki pki;
static struct dbserver my = {.pid = -1};

static void server_setup(void)
{
    cr_assert(access(MARIADBD_BINARY, X_OK) == 0 && access(MARIADB_INSTALL_DB, X_OK) == 0,
              MARIADBD_BINARY " or " MARIADB_INSTALL_DB " is not installed: the mysql "
                              "end-to-end tests need them (apt-get install mariadb-server)");
    /* EC P-256, 60 days and a half left */
    dir = e2e_dir_with_pki(
        &pki, &(struct e2e_pki_spec){
                  .name = "db", .host = DB_HOST, .days_before = 1, .days = 60, .key = PKI_EC256});
}

static void server_teardown(void)
{
    dbserver_stop(&my);
    e2e_dir_free(&dir, &pki);
}

TestSuite(mariadb_server, .init = server_setup, .fini = server_teardown, .timeout = 300);

static void start_my(bool ssl, const char *const *extra)
{
    char err[8192];
    char *cert = e2e_path(dir, "chain.pem"), *key = e2e_path(dir, "leaf.key");
    cr_assert_eq(mariadb_start(&my, dir, ssl ? cert : NULL, key, extra, err, sizeof err), 0, "%s",
                 err);
    free(cert);
    free(key);
}

/* One certsweep run over target (SCHEME://db.test.example:PORT), pinned to
   127.0.0.1 with nothing left for a resolver. */
static void scan(const char *scheme, struct report_scan *s)
{
    char target[128];
    snprintf(target, sizeof target, "%s://" DB_HOST ":%u", scheme, my.port);
    e2e_scan_one(s, dir, DB_HOST, my.port, target, NULL);
}

static const char *cell(const struct report_scan *s, const char *column)
{
    return e2e_cell(s, DB_HOST, my.port, column);
}

Test(mariadb_server, ssl_on_every_field)
{
    start_my(true, NULL);
    struct report_scan s;
    scan("mysql", &s);
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    /* MariaDB 10.11 speaks TLS 1.2 and 1.3; OpenSSL agrees on 1.3 */
    e2e_expect_leaf(&s, &(struct e2e_leaf_want){.host = DB_HOST,
                                                .port = my.port,
                                                .protocol = "mysql",
                                                .subject = "CN=" DB_HOST,
                                                .issuer = "CN=certsweep db Intermediate",
                                                .sans = DB_HOST,
                                                .key = "EC-256",
                                                .days = 60,
                                                .tls_version = "TLSv1.3",
                                                .leaf = pki.leaf.x509});
    report_scan_free(&s);
}

/* What `mariadbd --version` says after "Ver ": "10.11.19-MariaDB-0+deb12u1". */
static void server_version(char *out, size_t len)
{
    struct run_result r;
    cr_assert_eq(
        run_binary(MARIADBD_BINARY, (const char *const[]){"--version", NULL}, NULL, 60, &r), 0);
    const char *v = strstr(r.out, " Ver ");
    cr_assert_not_null(v, "%s --version: %s", MARIADBD_BINARY, r.out);
    v += 5;
    size_t n = strcspn(v, " \n");
    cr_assert(n > 0 && n < len);
    memcpy(out, v, n);
    out[n] = '\0';
    run_result_free(&r);
}

/* No certificate: the greeting leaves CLIENT_SSL out. */
Test(mariadb_server, tls_off_is_refused)
{
    start_my(false, NULL);
    struct report_scan s;
    scan("mysql", &s);
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    /* the greeting quotes the server's version; MariaDB 10 puts "5.5.5-"
       before it for clients that only know MySQL 5 */
    char version[128], want[2][256];
    server_version(version, sizeof version);
    snprintf(want[0], sizeof want[0], "starttls: server does not offer TLS (\"5.5.5-%s\")",
             version);
    snprintf(want[1], sizeof want[1], "starttls: server does not offer TLS (\"%s\")", version);
    const char *reason = cell(&s, "reason");
    cr_assert(strcmp(reason, want[0]) == 0 || strcmp(reason, want[1]) == 0, "reason %s, want %s",
              reason, want[0]);
    e2e_expect_refused(&s, DB_HOST, my.port, "mysql", reason);
    report_scan_free(&s);
}

/* What MariaDB lets in at --max-connections=10: ten clients and one more
   (kept for an administrator). */
#define MY_SLOTS 11

/* A connection to the server, and the first packet's first payload byte
   (10 for a greeting, 0xff for an error). */
static int connect_my(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(my.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(*fd >= 0 && connect(*fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    unsigned char buf[256];
    size_t got = 0;
    while (got < 5) {
        ssize_t r = recv(*fd, buf + got, sizeof buf - got, 0);
        cr_assert(r > 0, "no greeting");
        got += (size_t)r;
    }
    return buf[4];
}

/* A real error packet: every connection slot taken (and held: the server's
   connect timeout is an hour), the next client is turned away before any
   greeting. */
Test(mariadb_server, too_many_connections_is_refused)
{
    start_my(true, (const char *const[]){"--max-connections=10", "--connect-timeout=3600", NULL});
    int held[MY_SLOTS];
    size_t n = 0;
    /* a connection of the readiness check may still hold a slot for a
       moment: refused early, try again until ours hold them all */
    for (int tries = 0; n < MY_SLOTS && tries < 1000; tries++) {
        int fd;
        if (connect_my(&fd) == 10) {
            held[n++] = fd;
            continue;
        }
        close(fd);
        usleep(20 * 1000);
    }
    cr_assert_eq(n, MY_SLOTS, "only %zu connections held", n);
    int fd;
    cr_assert_eq(connect_my(&fd), 0xff, "a connection past the slots was let in");
    close(fd);
    struct report_scan s;
    scan("mysql", &s);
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    cr_assert_str_eq(cell(&s, "status"), "ERROR");
    cr_assert_str_eq(cell(&s, "reason"),
                     "starttls: server refused: \"Too many connections\" (error 1040)");
    cr_assert_str_eq(cell(&s, "protocol"), "mysql");
    report_scan_free(&s);
    for (size_t i = 0; i < n; i++)
        close(held[i]);
}
