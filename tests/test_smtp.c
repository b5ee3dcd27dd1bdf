/* The smtp and submission probes as state machines, with no socket:
 * recorded server transcripts go in, and the test checks what the probe
 * said back, whether TLS started, and how it ended.  Hostile transcripts
 * included: refusal, silence after the greeting, an endless multi-line
 * reply, a 1 MiB line, binary garbage, TLS where text was expected, and a
 * go-ahead with plaintext after it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "tests/support/wire.h"

static const char greeting[] = "220-mx.example.net ESMTP Postfix (Debian/GNU)\r\n"
                               "220 mx.example.net says hello\r\n";
static const char ehlo_reply[] = "250-mx.example.net\r\n"
                                 "250-PIPELINING\r\n"
                                 "250-SIZE 10240000\r\n"
                                 "250-STARTTLS\r\n"
                                 "250-ENHANCEDSTATUSCODES\r\n"
                                 "250 CHUNKING\r\n";

Test(smtp, starttls_after_ehlo)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    cr_assert_eq(w.sent_len, 0, "the server speaks first");
    wire_say(&w, greeting);
    cr_assert_str_eq(wire_preamble(&w), "EHLO mx.example.net\r\n");
    wire_say(&w, ehlo_reply);
    cr_assert_str_eq(wire_preamble(&w), "EHLO mx.example.net\r\nSTARTTLS\r\n");
    cr_assert(!wire_tls_started(&w));
    wire_say(&w, "220 2.0.0 Ready to start TLS\r\n");
    cr_assert(wire_tls_started(&w), "no ClientHello after the go-ahead");
    cr_assert_eq(w.ends, 0, "%s", w.why);
    /* from now on the bytes are TLS: a server that hangs up is a handshake error */
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* The same transcript a byte at a time, lines ending in LF alone. */
Test(smtp, byte_by_byte_and_bare_lf)
{
    struct wire w;
    wire_open(&w, &cs_probe_submission, "mail.example.org", NULL);
    static const char script[] = "220 mail.example.org ESMTP\n250-mail.example.org\n"
                                 "250-starttls\n250 8BITMIME\n220 go ahead\n";
    wire_feed_bytewise(&w, script, sizeof(script) - 1);
    cr_assert_str_eq(wire_preamble(&w), "EHLO mail.example.org\r\nSTARTTLS\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

Test(smtp, ehlo_name_for_addresses_and_ehlo_option)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "127.0.0.1", NULL);
    wire_say(&w, "220 x ESMTP\r\n");
    cr_assert_str_eq(wire_preamble(&w), "EHLO [127.0.0.1]\r\n");
    wire_close(&w);
    wire_open(&w, &cs_probe_smtp, "::1", NULL);
    wire_say(&w, "220 x ESMTP\r\n");
    cr_assert_str_eq(wire_preamble(&w), "EHLO [IPv6:::1]\r\n");
    wire_close(&w);
    wire_open(&w, &cs_probe_smtp, "mx.example.net", "scanner.example.com");
    wire_say(&w, "220 x ESMTP\r\n");
    cr_assert_str_eq(wire_preamble(&w), "EHLO scanner.example.com\r\n");
    wire_close(&w);
}

Test(smtp, refusal_is_quoted)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, ehlo_reply);
    wire_say(&w, "454 4.7.0 TLS not available due to local problem\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"454 4.7.0 TLS not available due to local "
                            "problem\"");
    cr_assert(!wire_tls_started(&w));
    wire_close(&w);

    /* a greeting that turns the client away */
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, "554 5.7.1 no \"scanners\" here\r\n");
    cr_assert_str_eq(w.why, "starttls: server refused: \"554 5.7.1 no \\x22scanners\\x22 here\"");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(smtp, starttls_not_offered)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, "220 mx ESMTP\r\n250-mx\r\n250-SIZE 1000\r\n250-STARTTLSX\r\n250 HELP\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"250 HELP\")");
    cr_assert_str_eq(wire_preamble(&w), "EHLO mx.example.net\r\n", "no STARTTLS sent");
    wire_close(&w);
}

Test(smtp, silence_after_the_greeting)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, "220 mx.example.net ESMTP\r\n");
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls (after \"220 mx.example.net ESMTP\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls", "nothing said: nothing quoted");
    wire_close(&w);

    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, "220 mx.example.net ESMTP\r\n");
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why,
                     "starttls: connection closed by peer (after \"220 mx.example.net ESMTP\")");
    wire_close(&w);
}

/* The server accepts STARTTLS and then never speaks TLS. */
Test(smtp, go_ahead_but_no_tls)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, ehlo_reply);
    wire_say(&w, "220 2.0.0 Ready to start TLS\r\n");
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

Test(smtp, endless_multiline_reply)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, "220 mx ESMTP\r\n");
    wire_say_until_end(&w, "250-X\r\n", 5000);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: reply longer than 1000 lines (last \"250-X\")");
    wire_close(&w);
}

Test(smtp, megabyte_line)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_feed_megabyte_line(&w, "220 ");
    cr_assert_eq(w.ends, 1);
    cr_assert(strncmp(w.why, "starttls: server line longer than 4096 bytes (\"220 AAAA", 54) == 0,
              "%s", w.why);
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

/* Many short replies: the bytes before TLS are capped in all. */
Test(smtp, total_bytes_capped)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    char line[128];
    memset(line, 'x', sizeof line);
    memcpy(line, "220-", 4);
    memcpy(line + sizeof line - 2, "\r\n", 2);
    size_t sent = wire_feed_until_end(&w, line, sizeof line, 900) * sizeof line;
    cr_assert_eq(w.ends, 1);
    cr_assert(strncmp(w.why, "starttls: server sent more than 65536 bytes before TLS", 54) == 0,
              "%s", w.why);
    cr_assert_leq(sent, 65536 + sizeof line);
    wire_close(&w);
}

Test(smtp, garbage_and_tls_instead_of_text)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    cr_assert_str_eq(w.why, "starttls: not an SMTP reply (\"SSH-2.0-OpenSSH_9.2p1 Debian-2\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    static const unsigned char bin[] = {0x80, 0xff, 0x01, 0x7f, '\r', '\n'};
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not an SMTP reply (\"\\x80\\xFF\\x01\\x7F\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_feed(&w, "220 ok\0\r\n", 9);
    cr_assert_str_eq(w.why, "starttls: NUL byte in the server's reply (\"220 ok\")");
    wire_close(&w);

    /* a ServerHello's record header: the port speaks TLS at once */
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    wire_feed(&w, hello, sizeof hello);
    cr_assert(strncmp(w.why, "starttls: server speaks TLS at once", 35) == 0, "%s", w.why);
    wire_close(&w);

    /* a continuation line with another code */
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, "220-mx\r\n250 mx\r\n");
    cr_assert_str_eq(w.why, "starttls: not an SMTP reply (\"250 mx\")");
    wire_close(&w);
}

/* Plaintext after the go-ahead would be read as if it came over TLS by a
   careless client (CVE-2011-0411 is the server-side twin): refused. */
Test(smtp, plaintext_after_the_go_ahead)
{
    struct wire w;
    wire_open(&w, &cs_probe_smtp, "mx.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, ehlo_reply);
    wire_say(&w, "220 2.0.0 Ready to start TLS\r\n250 injected\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why,
                     "starttls: server sent 14 bytes after its go-ahead (\"220 2.0.0 Ready to "
                     "start TLS\"), before TLS (plaintext injection?)");
    cr_assert(!wire_tls_started(&w), "TLS must not start");
    wire_close(&w);
}

Test(smtp, quote_caps_and_escapes)
{
    char out[CS_PREAMBLE_QUOTE * 4 + 8];
    char in[400];
    memset(in, 'q', sizeof in);
    cs_preamble_quote(in, sizeof in, CS_PREAMBLE_QUOTE, out, sizeof out);
    cr_assert_eq(strlen(out), CS_PREAMBLE_QUOTE + 3);
    cr_assert_str_eq(out + CS_PREAMBLE_QUOTE, "...");
    cs_preamble_quote("a\"b\\c\x1b", 6, 10, out, sizeof out);
    cr_assert_str_eq(out, "a\\x22b\\x5Cc\\x1B");
}
