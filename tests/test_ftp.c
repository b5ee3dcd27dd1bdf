/* The ftp probe.  First as a state machine, with no socket: recorded
 * server transcripts go in, and the test checks what the probe said back,
 * whether TLS started, and how it ended.  Hostile transcripts included:
 * refusal, silence after the greeting, an endless multi-line reply, a 1 MiB
 * line, binary garbage, TLS where text was expected, and a go-ahead with no
 * TLS or plaintext after it.  Then end to end: the certsweep binary scans a
 * real vsftpd on 127.0.0.1 serving a certificate of a throw-away PKI, and
 * one with TLS off. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "tests/support/ftpd.h"
#include "tests/support/e2e.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/wire.h"

Test(ftp, auth_tls_after_the_greeting)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    cr_assert_eq(w.sent_len, 0, "the server speaks first");
    wire_say(&w, "220 (vsFTPd 3.0.3)\r\n");
    cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n");
    cr_assert(!wire_tls_started(&w));
    wire_say(&w, "234 Proceed with negotiation.\r\n");
    cr_assert(wire_tls_started(&w), "no ClientHello after the go-ahead: %s", w.why);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n", "nothing else before TLS");
    /* from now on the bytes are TLS: a server that hangs up is a handshake error */
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* The same transcript a byte at a time, lines ending in LF alone. */
Test(ftp, split_delivery_and_bare_lf)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    static const char greeting[] = "220 ProFTPD Server (Debian) [::ffff:192.0.2.7]\n";
    for (size_t i = 0; i < sizeof(greeting) - 1; i++) {
        cr_assert_eq(w.sent_len, 0, "AUTH TLS before the greeting ended (byte %zu)", i);
        wire_feed(&w, greeting + i, 1);
    }
    cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n");
    static const char go[] = "234 AUTH TLS successful\n";
    for (size_t i = 0; i < sizeof(go) - 1; i++) {
        cr_assert(!w.conn.ssl, "TLS before the go-ahead ended (byte %zu)", i);
        wire_feed(&w, go + i, 1);
    }
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

/* Multi-line greetings: every line with the code (the usual form), and
   free text between the first and the last line (RFC 959, 4.2). */
Test(ftp, multi_line_greeting)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220-----------  Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n"
                 "220-You are user number 1 of 50 allowed.\r\n"
                 "220-Local time is now 10:12. Server port: 21.\r\n");
    cr_assert_eq(w.sent_len, 0, "the greeting has not ended");
    wire_say(&w, "220 You will be disconnected after 15 minutes of inactivity.\r\n");
    cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n");
    wire_say(&w, "234 AUTH TLS OK.\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);

    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220-Welcome\r\n"
                 "  this line has no code\r\n"
                 " 220 padded, as RFC 959 asks of a line starting with digits\r\n"
                 "230 another code: still text\r\n"
                 "220-the same code with a hyphen: still text\r\n");
    cr_assert_eq(w.sent_len, 0, "the greeting has not ended");
    wire_say(&w, "220\r\n");
    cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n", "a bare code ends the reply");
    wire_close(&w);

    /* 120 "service ready in nnn minutes" comes before the 220 */
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "120 Service ready in 1 minute.\r\n");
    cr_assert_eq(w.sent_len, 0);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    wire_say(&w, "220 ready now\r\n");
    cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n");
    wire_close(&w);
}

Test(ftp, refusal_is_quoted)
{
    static const char *const refusals[] = {
        "530 Please login with USER and PASS.",
        "500 AUTH not understood",
        "502 Command not implemented.",
        "534 Local policy on server does not allow TLS secure connections.",
        "431 Unable to accept security mechanism.",
        "234-go ahead, after \"one\" more line",
    };
    static const char *const want[] = {
        "starttls: server refused: \"530 Please login with USER and PASS.\"",
        "starttls: server refused: \"500 AUTH not understood\"",
        "starttls: server refused: \"502 Command not implemented.\"",
        "starttls: server refused: \"534 Local policy on server does not allow TLS secure "
        "connections.\"",
        "starttls: server refused: \"431 Unable to accept security mechanism.\"",
        NULL,
    };
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        struct wire w;
        wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
        wire_say(&w, "220 FTP server ready\r\n");
        wire_say(&w, refusals[i]);
        wire_say(&w, "\r\n");
        if (want[i] == NULL) {
            /* a multi-line 234 is not over until its last line */
            cr_assert_eq(w.ends, 0, "%s", w.why);
            cr_assert(!w.conn.ssl);
            wire_say(&w, "500 not the same code: free text\r\n234 now\r\n");
            cr_assert(wire_tls_started(&w), "%s", w.why);
        } else {
            cr_assert_eq(w.ends, 1, "%s", refusals[i]);
            cr_assert_str_eq(w.why, want[i]);
            cr_assert(!w.conn.ssl);
        }
        cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n");
        wire_close(&w);
    }
}

/* A greeting that turns the client away: nothing is sent. */
Test(ftp, greeting_421)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "421-Too many connections (8) from this IP\r\n"
                 "421 Try again \"later\".\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"421 Try again \\x22later\\x22.\"");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(ftp, silence_after_the_greeting)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220 (vsFTPd 3.0.3)\r\n");
    cs_conn_timeout(&w.conn);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "timeout during starttls (after \"220 (vsFTPd 3.0.3)\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls", "nothing said: nothing quoted");
    wire_close(&w);

    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220-first of more\r\n");
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer (after \"220-first of more\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(ftp, endless_multi_line_reply)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220-banner\r\n");
    size_t lines = wire_say_until_end(&w, "220-X\r\n", 5000);
    cr_assert_eq(w.ends, 1);
    cr_assert_eq(lines, 1000, "ended after %zu more lines", lines);
    cr_assert_str_eq(w.why, "starttls: reply longer than 1000 lines (last \"220-X\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* free text lines count the same */
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220 ok\r\n234-go\r\n");
    wire_say_until_end(&w, "text\r\n", 5000);
    cr_assert_str_eq(w.why, "starttls: reply longer than 1000 lines (last \"text\")");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

/* "Service ready in nnn minutes" for ever: each reply is short and whole,
   so only the cap on all bytes before TLS ends it. */
Test(ftp, endless_120_replies)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    static const char wait[] = "120 Service ready in 1 minute.\r\n";
    size_t sent = wire_say_until_end(&w, wait, 100000) * (sizeof wait - 1);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server sent more than 65536 bytes before TLS (last \"120 "
                            "Service ready in 1 minute.\")");
    cr_assert_leq(sent, 65536 + sizeof wait);
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(ftp, megabyte_line)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    size_t off = wire_feed_megabyte_line(&w, "220 ");
    cr_assert_eq(w.ends, 1);
    cr_assert_eq(off, 8192, "read on past the cap (%zu bytes)", off);
    cr_assert_str_eq(w.why, "starttls: server line longer than 4096 bytes (\"220 "
                            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(ftp, garbage_and_tls_instead_of_text)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    cr_assert_str_eq(w.why, "starttls: not an FTP reply (\"SSH-2.0-OpenSSH_9.2p1 Debian-2\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    static const unsigned char bin[] = {0x80, 0xff, 0x01, 0x7f, '\r', '\n'};
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not an FTP reply (\"\\x80\\xFF\\x01\\x7F\")");
    wire_close(&w);

    /* a code out of range, a code glued to its text */
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "620 hello\r\n");
    cr_assert_str_eq(w.why, "starttls: not an FTP reply (\"620 hello\")");
    wire_close(&w);
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220hello\r\n");
    cr_assert_str_eq(w.why, "starttls: not an FTP reply (\"220hello\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_feed(&w, "220 ok\0\r\n", 9);
    cr_assert_str_eq(w.why, "starttls: NUL byte in the server's reply (\"220 ok\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* a ServerHello's record header: the port speaks TLS at once (FTPS) */
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    wire_feed(&w, hello, sizeof hello);
    cr_assert_str_eq(w.why, "starttls: server speaks TLS at once, not this protocol (use its "
                            "implicit-TLS port or scheme, or leave out --starttls)");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

/* The server accepts AUTH TLS and then never speaks TLS. */
Test(ftp, go_ahead_but_no_tls)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220 ready\r\n");
    wire_say(&w, "234 Proceed with negotiation.\r\n");
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* Plaintext after the go-ahead would be read as if it came over TLS by a
   careless client: refused. */
Test(ftp, plaintext_after_the_go_ahead)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220 ready\r\n");
    wire_say(&w, "234 Proceed with negotiation.\r\n230 User logged in\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server sent 20 bytes after its go-ahead (\"234 Proceed "
                            "with negotiation.\"), before TLS (plaintext injection?)");
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);

    /* one byte is enough */
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220 ready\r\n234 go\r\nX");
    cr_assert_str_eq(w.why, "starttls: server sent 1 byte after its go-ahead (\"234 go\"), before "
                            "TLS (plaintext injection?)");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

/* AUTH TLS is sent once, after the greeting only: a 220 that answers it is
   a refusal, not another greeting. */
Test(ftp, auth_tls_sent_once)
{
    struct wire w;
    wire_open(&w, &cs_probe_ftp, "ftp.example.net", NULL);
    wire_say(&w, "220 ready\r\n220 ready again\r\n");
    cr_assert_str_eq(w.why, "starttls: server refused: \"220 ready again\"");
    cr_assert_str_eq(wire_preamble(&w), "AUTH TLS\r\n");
    wire_close(&w);
}

/* ---- end to end, against vsftpd ---- */

#define HOST "ftp.test.example"

static char *dir;
static struct e2e_pki pki;
static struct vsftpd ftpd = {.pid = -1}, plain_ftpd = {.pid = -1};

static void e2e_setup(void)
{
    cr_assert(access(VSFTPD_BINARY, X_OK) == 0,
              VSFTPD_BINARY " is not installed: the ftp end-to-end tests need it "
                            "(apt-get install vsftpd)");
    dir = e2e_dir_with_pki(
        &pki, &(struct e2e_pki_spec){
                  .name = "ftp", .host = HOST, .days_before = 30, .days = 300, .key = PKI_EC256});
    char *chain = e2e_path(dir, "chain.pem"), *key = e2e_path(dir, "leaf.key");
    char *tls_dir = e2e_path(dir, "vsftpd-tls"), err[8192];
    cr_assert_eq(vsftpd_start(&ftpd, tls_dir, chain, key, err, sizeof err), 0, "%s", err);
    free(tls_dir);
    free(chain);
    free(key);
}

static void e2e_teardown(void)
{
    vsftpd_stop(&ftpd);
    vsftpd_stop(&plain_ftpd);
    e2e_dir_free(&dir, &pki);
}

TestSuite(ftp_vsftpd, .init = e2e_setup, .fini = e2e_teardown, .timeout = 120);

Test(ftp_vsftpd, auth_tls_reaches_the_certificate)
{
    struct report_scan s;
    char target[64];
    snprintf(target, sizeof target, "ftp://" HOST ":%u", ftpd.port);
    e2e_scan_one(&s, dir, HOST, ftpd.port, target, NULL);
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);

    e2e_expect_leaf(&s, &(struct e2e_leaf_want){.host = HOST,
                                                .port = ftpd.port,
                                                .protocol = "ftp",
                                                .subject = "CN=" HOST,
                                                .issuer = "CN=certsweep ftp Intermediate",
                                                .sans = HOST,
                                                .key = "EC-256",
                                                .days = 300,
                                                .tls_version = "TLSv1.3",
                                                .leaf = pki.leaf.x509});
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.json, "summary"), "OK")), 1);
    report_scan_free(&s);
}

/* vsftpd with ssl_enable=NO answers AUTH TLS as any command before a login:
   that answer is the record's reason.  The probe is named by --starttls
   this time, for a target with no scheme. */
Test(ftp_vsftpd, tls_off_is_refused_in_its_words)
{
    char *plain_dir = e2e_path(dir, "vsftpd-plain"), err[8192];
    cr_assert_eq(vsftpd_start(&plain_ftpd, plain_dir, NULL, NULL, err, sizeof err), 0, "%s", err);
    free(plain_dir);
    struct report_scan s;
    char target[64];
    snprintf(target, sizeof target, HOST ":%u", plain_ftpd.port);
    e2e_scan_one(&s, dir, HOST, plain_ftpd.port, target, "ftp");
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    e2e_expect_refused(&s, HOST, plain_ftpd.port, "ftp",
                       "starttls: server refused: \"530 Please login with USER and PASS.\"");
    cr_assert_str_eq(e2e_cell(&s, HOST, plain_ftpd.port, "address"), "127.0.0.1");
    report_scan_free(&s);
}
