/* The pop3 probe as a state machine, with no socket: recorded server
 * transcripts go in, and the test checks what the probe said back, whether
 * TLS started, and how it ended.  Hostile transcripts included: refusal,
 * silence after the greeting, an endless CAPA list, a 1 MiB line, binary
 * garbage, TLS where text was expected, a go-ahead and no TLS, and
 * plaintext after the go-ahead. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "tests/support/wire.h"

static const char greeting[] = "+OK Dovecot (Debian) ready.\r\n";
static const char capa[] = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
                           "AUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n";

Test(pop3, capa_then_stls)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    cr_assert_eq(w.sent_len, 0, "the server speaks first");
    wire_say(&w, greeting);
    cr_assert_str_eq(wire_preamble(&w), "CAPA\r\n");
    wire_say(&w, capa);
    cr_assert_str_eq(wire_preamble(&w), "CAPA\r\nSTLS\r\n");
    cr_assert(!wire_tls_started(&w));
    wire_say(&w, "+OK Begin TLS negotiation now.\r\n");
    cr_assert(wire_tls_started(&w), "no ClientHello after the go-ahead");
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* A byte at a time, LF alone, the capability in lower case and
   dot-stuffed. */
Test(pop3, split_delivery)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    static const char script[] = "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\n"
                                 "+OK Capability list follows\n"
                                 "TOP\n"
                                 ".stls\n"
                                 "..\n"
                                 ".\n"
                                 "+OK go\n";
    wire_feed_bytewise(&w, script, sizeof(script) - 1);
    cr_assert_str_eq(wire_preamble(&w), "CAPA\r\nSTLS\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

/* No CAPA (RFC 1939 servers): STLS is tried anyway. */
Test(pop3, no_capa_tries_stls)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "-ERR unknown command\r\n");
    cr_assert_str_eq(wire_preamble(&w), "CAPA\r\nSTLS\r\n");
    wire_say(&w, "+OK begin TLS\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);

    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "-ERR unknown command\r\n");
    wire_say(&w, "-ERR unknown command\r\n");
    cr_assert_str_eq(w.why, "starttls: server refused: \"-ERR unknown command\"");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

Test(pop3, refusal_is_quoted)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capa);
    wire_say(&w, "-ERR TLS support isn't enabled.\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"-ERR TLS support isn't enabled.\"");
    cr_assert(!wire_tls_started(&w));
    wire_close(&w);

    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, "-ERR [SYS/TEMP] \"busy\"\r\n");
    cr_assert_str_eq(w.why, "starttls: server refused: \"-ERR [SYS/TEMP] \\x22busy\\x22\"");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(pop3, starttls_not_offered)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "+OK\r\nCAPA\r\nSTLSX\r\nX-STLS\r\nSASL STLS\r\nUSER\r\n.\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (no STLS in its CAPA list)");
    cr_assert_str_eq(wire_preamble(&w), "CAPA\r\n", "no STLS sent");
    wire_close(&w);

    /* STLS in the +OK line is not in the list */
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, "+OK STLS\r\n+OK STLS\r\nUSER\r\n.\r\n");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (no STLS in its CAPA list)");
    wire_close(&w);
}

Test(pop3, silence_after_the_greeting)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls (after \"+OK Dovecot (Debian) ready.\")");
    wire_close(&w);

    /* a CAPA list that never ends */
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "+OK\r\nSTLS\r\n");
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer (after \"STLS\")");
    cr_assert_str_eq(wire_preamble(&w), "CAPA\r\n");
    wire_close(&w);
}

Test(pop3, go_ahead_but_no_tls)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capa);
    wire_say(&w, "+OK Begin TLS negotiation now.\r\n");
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

Test(pop3, endless_capa_list)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "+OK\r\n");
    wire_say_until_end(&w, "STLS\r\n", 5000);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: reply longer than 1000 lines (last \"STLS\")");
    cr_assert_str_eq(wire_preamble(&w), "CAPA\r\n");
    wire_close(&w);
}

Test(pop3, megabyte_line)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_feed_megabyte_line(&w, "+OK ");
    cr_assert_eq(w.ends, 1);
    cr_assert(strncmp(w.why, "starttls: server line longer than 4096 bytes (\"+OK AAAA", 54) == 0,
              "%s", w.why);
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(pop3, garbage_and_tls_instead_of_text)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, "* OK IMAP4rev1 ready\r\n");
    cr_assert_str_eq(w.why, "starttls: not a POP3 reply (\"* OK IMAP4rev1 ready\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, "+OKAY\r\n");
    cr_assert_str_eq(w.why, "starttls: not a POP3 reply (\"+OKAY\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    static const unsigned char bin[] = {0x80, 0xff, 0x01, 0x7f, '\r', '\n'};
    wire_say(&w, greeting);
    wire_say(&w, capa);
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not a POP3 reply (\"\\x80\\xFF\\x01\\x7F\")");
    cr_assert(!w.conn.ssl);
    wire_close(&w);

    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_feed(&w, "+OK\0\r\n", 6);
    cr_assert_str_eq(w.why, "starttls: NUL byte in the server's reply (\"+OK\")");
    wire_close(&w);

    /* a ServerHello's record header: the port speaks TLS at once (pop3s) */
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    wire_feed(&w, hello, sizeof hello);
    cr_assert(strncmp(w.why, "starttls: server speaks TLS at once", 35) == 0, "%s", w.why);
    wire_close(&w);
}

Test(pop3, plaintext_after_the_go_ahead)
{
    struct wire w;
    wire_open(&w, &cs_probe_pop3, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capa);
    wire_say(&w, "+OK Begin TLS negotiation now.\r\n+OK\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server sent 5 bytes after its go-ahead (\"+OK Begin TLS "
                            "negotiation now.\"), before TLS (plaintext injection?)");
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);
}
