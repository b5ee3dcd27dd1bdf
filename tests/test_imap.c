/* The imap probe as a state machine, with no socket: recorded server
 * transcripts go in, and the test checks what the probe said back, whether
 * TLS started, and how it ended.  Hostile transcripts included: refusal,
 * silence after the greeting, endless untagged lines, a 1 MiB line, binary
 * garbage, TLS where text was expected, a go-ahead and no TLS, plaintext
 * after the go-ahead, and completions tagged for a command never sent. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "tests/support/wire.h"

static const char greeting[] = "* OK Dovecot ready.\r\n";
static const char capability[] =
    "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    "AUTH=PLAIN\r\n"
    "a1 OK Pre-login capabilities listed, post-login capabilities have more.\r\n";

Test(imap, capability_then_starttls)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    cr_assert_eq(w.sent_len, 0, "the server speaks first");
    wire_say(&w, greeting);
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\n");
    wire_say(&w, capability);
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\na2 STARTTLS\r\n");
    cr_assert(!wire_tls_started(&w));
    wire_say(&w, "a2 OK Begin TLS negotiation now.\r\n");
    cr_assert(wire_tls_started(&w), "no ClientHello after the go-ahead");
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* The same transcript a byte at a time, lines ending in LF alone, untagged
   lines of other kinds mixed in, the capability in lower case. */
Test(imap, split_delivery)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    static const char script[] = "* ok hello\n"
                                 "* CAPABILITY IMAP4rev1 LOGINDISABLED\n"
                                 "* OK [ALERT] maintenance tonight\n"
                                 "* capability starttls\n"
                                 "a1 ok done\n"
                                 "* OK still here\n"
                                 "a2 ok go\n";
    wire_feed_bytewise(&w, script, sizeof(script) - 1);
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\na2 STARTTLS\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

/* A greeting that lists the capabilities saves the CAPABILITY command. */
Test(imap, greeting_carries_the_capabilities)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS AUTH=PLAIN] Dovecot "
                 "(Debian) ready.\r\n");
    cr_assert_str_eq(wire_preamble(&w), "a1 STARTTLS\r\n");
    wire_say(&w, "a1 OK Begin TLS negotiation now.\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);

    /* ... and says so when STARTTLS is not among them */
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, "* OK [CAPABILITY IMAP4rev1 STARTTLSX AUTH=PLAIN] ready\r\n");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"* OK [CAPABILITY "
                            "IMAP4rev1 STARTTLSX AUTH=PLAIN] ready\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* STARTTLS in the greeting's text, not its capability code, counts for nothing */
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, "* OK [CAPABILITY IMAP4rev1] STARTTLS soon\r\n");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"* OK [CAPABILITY "
                            "IMAP4rev1] STARTTLS soon\")");
    wire_close(&w);
}

/* The tagged OK may carry the capabilities as a response code. */
Test(imap, capability_code_in_the_completion)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "a1 OK [CAPABILITY IMAP4rev1 STARTTLS] listed\r\n");
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\na2 STARTTLS\r\n");
    wire_close(&w);
}

Test(imap, refusal_is_quoted)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "a2 BAD TLS support isn't enabled.\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"a2 BAD TLS support isn't enabled.\"");
    cr_assert(!wire_tls_started(&w));
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "* BYE shutting down\r\n");
    cr_assert_str_eq(w.why, "starttls: server refused: \"* BYE shutting down\"");
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "a1 NO [UNAVAILABLE] try later\r\n");
    cr_assert_str_eq(w.why, "starttls: server refused: \"a1 NO [UNAVAILABLE] try later\"");
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\n");
    wire_close(&w);

    /* greetings that turn the client away: nothing is sent */
    static const char *const greetings[] = {"* BYE \"too many\" connections\r\n",
                                            "* PREAUTH IMAP4rev1 logged in as root\r\n"};
    static const char *const reasons[] = {
        "starttls: server refused: \"* BYE \\x22too many\\x22 connections\"",
        "starttls: server refused: \"* PREAUTH IMAP4rev1 logged in as root\""};
    for (size_t i = 0; i < 2; i++) {
        wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
        wire_say(&w, greetings[i]);
        cr_assert_str_eq(w.why, reasons[i]);
        cr_assert_eq(w.sent_len, 0);
        wire_close(&w);
    }
}

Test(imap, starttls_not_offered)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "* CAPABILITY IMAP4rev1 STARTTLS-LATER XSTARTTLS AUTH=PLAIN\r\n"
                 "a1 OK done\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"a1 OK done\")");
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\n", "no STARTTLS sent");
    wire_close(&w);

    /* STARTTLS in some other untagged line is no capability */
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "* OK STARTTLS\r\n* CAPABILITY IMAP4rev1\r\na1 OK done\r\n");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"a1 OK done\")");
    wire_close(&w);
}

/* Only the completion of the command in flight counts: an OK tagged for the
   STARTTLS not yet sent, or for the CAPABILITY already done, is no go-ahead. */
Test(imap, tags_must_match)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "* CAPABILITY IMAP4rev1 STARTTLS\r\na2 OK go\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: not a reply to a1 (\"a2 OK go\")");
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\n");
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "a1 OK Begin TLS negotiation now.\r\n");
    cr_assert_str_eq(w.why, "starttls: not a reply to a2 (\"a1 OK Begin TLS negotiation now.\")");
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);

    /* tags are compared as sent: case and all */
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "A2 OK go\r\n");
    cr_assert_str_eq(w.why, "starttls: not a reply to a2 (\"A2 OK go\")");
    cr_assert(!w.conn.ssl);
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "a20 OK go\r\n");
    cr_assert_str_eq(w.why, "starttls: not a reply to a2 (\"a20 OK go\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "+ go ahead\r\n");
    cr_assert_str_eq(w.why, "starttls: unexpected continuation request (\"+ go ahead\")");
    wire_close(&w);
}

Test(imap, silence_after_the_greeting)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls (after \"* OK Dovecot ready.\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer (after \"a1 OK Pre-login "
                            "capabilities listed, post-login capabilities have more.\")");
    wire_close(&w);
}

Test(imap, go_ahead_but_no_tls)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "a2 OK Begin TLS negotiation now.\r\n");
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* Untagged lines count toward the cap of one reply, whatever they say. */
Test(imap, endless_untagged_lines)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say_until_end(&w, "* OK x\r\n", 5000);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: reply longer than 1000 lines (last \"* OK x\")");
    wire_close(&w);

    /* and after STARTTLS too */
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say_until_end(&w, "* CAPABILITY STARTTLS\r\n", 5000);
    cr_assert_str_eq(w.why,
                     "starttls: reply longer than 1000 lines (last \"* CAPABILITY STARTTLS\")");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

Test(imap, megabyte_line)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_feed_megabyte_line(&w, "* OK ");
    cr_assert_eq(w.ends, 1);
    cr_assert(strncmp(w.why, "starttls: server line longer than 4096 bytes (\"* OK AAAA", 55) == 0,
              "%s", w.why);
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(imap, literals_are_refused)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "* CAPABILITY {13}\r\nSTARTTLS\r\na2 OK\r\n");
    cr_assert_str_eq(w.why, "starttls: server sent a literal, which no reply before login "
                            "carries (\"* CAPABILITY {13}\")");
    cr_assert_str_eq(wire_preamble(&w), "a1 CAPABILITY\r\n");
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, "* OK {5+}\r\n");
    cr_assert(strstr(w.why, "server sent a literal"), "%s", w.why);
    wire_close(&w);
}

Test(imap, garbage_and_tls_instead_of_text)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, "220 mx.example.net ESMTP\r\n");
    cr_assert_str_eq(w.why, "starttls: not an IMAP greeting (\"220 mx.example.net ESMTP\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    static const unsigned char bin[] = {0x80, 0xff, 0x01, 0x7f, '\r', '\n'};
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not an IMAP greeting (\"\\x80\\xFF\\x01\\x7F\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not a reply to a1 (\"\\x80\\xFF\\x01\\x7F\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_feed(&w, "* OK\0\r\n", 7);
    cr_assert_str_eq(w.why, "starttls: NUL byte in the server's reply (\"* OK\")");
    wire_close(&w);

    /* a bare "*" and a bare tag are no replies either */
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, "*\r\n");
    cr_assert_str_eq(w.why, "starttls: not an IMAP greeting (\"*\")");
    wire_close(&w);
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "a1\r\n");
    cr_assert_str_eq(w.why, "starttls: not a reply to a1 (\"a1\")");
    wire_close(&w);

    /* a ServerHello's record header: the port speaks TLS at once (imaps) */
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    wire_feed(&w, hello, sizeof hello);
    cr_assert(strncmp(w.why, "starttls: server speaks TLS at once", 35) == 0, "%s", w.why);
    wire_close(&w);
}

Test(imap, plaintext_after_the_go_ahead)
{
    struct wire w;
    wire_open(&w, &cs_probe_imap, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, capability);
    wire_say(&w, "a2 OK Begin TLS negotiation now.\r\n* OK injected\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server sent 15 bytes after its go-ahead (\"a2 OK Begin TLS "
                            "negotiation now.\"), before TLS (plaintext injection?)");
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);
}
