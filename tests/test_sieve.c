/* The sieve (ManageSieve) probe as a state machine, with no socket:
 * recorded server transcripts go in, and the test checks what the probe
 * said back, whether TLS started, and how it ended.  Literals ("{n}" and n
 * bytes, line ends and all) are read as part of their line.  Hostile
 * transcripts included: refusal, silence after the greeting, endless
 * capability lines, a 1 MiB line, oversized literals, binary garbage, TLS
 * where text was expected, a go-ahead and no TLS, and plaintext after the
 * go-ahead. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "tests/support/wire.h"

#define GREETING_HEAD                                                                              \
    "\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n"                                       \
    "\"SIEVE\" \"fileinto reject envelope encoded-character vacation subaddress\"\r\n"             \
    "\"NOTIFY\" \"mailto\"\r\n"                                                                    \
    "\"SASL\" \"PLAIN\"\r\n"
#define GREETING_TAIL                                                                              \
    "\"VERSION\" \"1.0\"\r\n"                                                                      \
    "OK \"Dovecot (Debian) ready.\"\r\n"

static const char greeting[] = GREETING_HEAD "\"STARTTLS\"\r\n" GREETING_TAIL;
static const char go[] = "OK \"Begin TLS negotiation now.\"\r\n";

Test(sieve, greeting_then_starttls)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    cr_assert_eq(w.sent_len, 0, "the server speaks first");
    wire_say(&w, greeting);
    cr_assert_str_eq(wire_preamble(&w), "STARTTLS\r\n");
    cr_assert(!wire_tls_started(&w));
    wire_say(&w, go);
    cr_assert(wire_tls_started(&w), "no ClientHello after the go-ahead");
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* A byte at a time, LF alone, the capability in lower case. */
Test(sieve, split_delivery)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    static const char script[] = "\"IMPLEMENTATION\" \"Cyrus timsieved \\\"v3\\\"\"\n"
                                 "\"starttls\"\n"
                                 "\"SIEVE\" {9}\nfileinto \n"
                                 "ok\n"
                                 "Ok \"go\"\n";
    wire_feed_bytewise(&w, script, sizeof(script) - 1);
    cr_assert_str_eq(wire_preamble(&w), "STARTTLS\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

/* Literals: their bytes are no lines of their own, whatever they hold. */
Test(sieve, literals_are_read)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"IMPLEMENTATION\" {12}\r\nmulti\r\nline!\r\n"
                 "{8}\r\nSTARTTLS\r\n"
                 "\"SIEVE\" {5+}\r\nabcde\r\n"
                 "OK\r\n");
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert_str_eq(wire_preamble(&w), "STARTTLS\r\n", "STARTTLS sent as a literal counts");
    wire_say(&w, "OK {2}\r\nok\r\n");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);

    /* an OK and STARTTLS inside literals are neither */
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"IMPLEMENTATION\" {16}\r\nOK\r\n\"STARTTLS\"\r\n\r\n");
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert_eq(w.sent_len, 0);
    wire_say(&w, "OK \"ready\"\r\n");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"OK \\x22ready\\x22\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* a "{n}" inside a quoted string is text */
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"IMPLEMENTATION\" \"{3}\"\r\n\"STARTTLS\"\r\nOK\r\n");
    cr_assert_str_eq(wire_preamble(&w), "STARTTLS\r\n", "%s", w.why);
    wire_close(&w);
}

Test(sieve, oversized_literals)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"IMPLEMENTATION\" {5000}\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server literal longer than the probe reads "
                            "(\"\\x22IMPLEMENTATION\\x22 {5000}\\x0D\\x0A\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"X\" {99999999999999999999999999999}\r\n");
    cr_assert(strncmp(w.why, "starttls: server literal longer than the probe reads", 52) == 0, "%s",
              w.why);
    wire_close(&w);

    /* a literal that fits, on a line that does not */
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"X\" {4090}\r\n");
    wire_say_until_end(&w, "x", 4090);
    cr_assert_str_eq(w.why, "starttls: server message longer than 4096 bytes");
    wire_close(&w);
}

Test(sieve, refusal_is_quoted)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "NO \"TLS support isn't enabled.\"\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why,
                     "starttls: server refused: \"NO \\x22TLS support isn't enabled.\\x22\"");
    cr_assert(!wire_tls_started(&w));
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "BYE (TRYLATER) \"Too many connections\"\r\n");
    cr_assert_str_eq(w.why,
                     "starttls: server refused: \"BYE (TRYLATER) \\x22Too many connections\\x22\"");
    wire_close(&w);

    /* a greeting that turns the client away */
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nNO \"maintenance\"\r\n");
    cr_assert_str_eq(w.why, "starttls: server refused: \"NO \\x22maintenance\\x22\"");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(sieve, starttls_not_offered)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, GREETING_HEAD GREETING_TAIL);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"OK \\x22Dovecot (Debian) "
                            "ready.\\x22\")");
    cr_assert_eq(w.sent_len, 0, "no STARTTLS sent");
    wire_close(&w);

    /* STARTTLS as a value, or a longer name, is not the capability */
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"SASL\" \"STARTTLS\"\r\n\"STARTTLSX\"\r\n{9}\r\nSTARTTLS \r\nOK\r\n");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (\"OK\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(sieve, silence_after_the_greeting)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"IMPLEMENTATION\" \"Dovecot\"\r\n");
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls (after \"\\x22IMPLEMENTATION\\x22 "
                            "\\x22Dovecot\\x22\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, greeting);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why,
                     "timeout during starttls (after \"OK \\x22Dovecot (Debian) ready.\\x22\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, greeting);
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer (after \"OK \\x22Dovecot "
                            "(Debian) ready.\\x22\")");
    wire_close(&w);
}

Test(sieve, go_ahead_but_no_tls)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, go);
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

Test(sieve, endless_capability_lines)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say_until_end(&w, "\"STARTTLS\"\r\n", 5000);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: reply longer than 1000 lines (last \"\\x22STARTTLS\\x22\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    /* and after STARTTLS too */
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say_until_end(&w, "\"X\"\r\n", 5000);
    cr_assert_str_eq(w.why, "starttls: reply longer than 1000 lines (last \"\\x22X\\x22\")");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

Test(sieve, megabyte_line)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_feed_megabyte_line(&w, "\"IMPLEMENTATION\" \"");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server message longer than 4096 bytes");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);
}

Test(sieve, garbage_and_tls_instead_of_text)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "* OK IMAP4rev1 ready\r\n");
    cr_assert_str_eq(w.why, "starttls: not a ManageSieve reply (\"* OK IMAP4rev1 ready\")");
    cr_assert_eq(w.sent_len, 0);
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "OKAY\r\n");
    cr_assert_str_eq(w.why, "starttls: not a ManageSieve reply (\"OKAY\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    static const unsigned char bin[] = {0x80, 0xff, 0x01, 0x7f, '\r', '\n'};
    wire_say(&w, greeting);
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not a ManageSieve reply (\"\\x80\\xFF\\x01\\x7F\")");
    cr_assert(!w.conn.ssl);
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_feed(&w, "\"IMPL\0\"\r\n", 9);
    cr_assert_str_eq(w.why, "starttls: NUL byte in the server's reply (\"\\x22IMPL\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, "\"IMPLEMENTATION\r\n");
    cr_assert_str_eq(w.why, "starttls: line end inside a quoted string (\"\\x22IMPLEMENTATION\")");
    wire_close(&w);

    /* a ServerHello's record header, even a byte at a time */
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    wire_feed_bytewise(&w, hello, sizeof hello);
    cr_assert(strncmp(w.why, "starttls: server speaks TLS at once", 35) == 0, "%s", w.why);
    wire_close(&w);
}

Test(sieve, plaintext_after_the_go_ahead)
{
    struct wire w;
    wire_open(&w, &cs_probe_sieve, "mail.example.net", NULL);
    wire_say(&w, greeting);
    wire_say(&w, "OK \"Begin TLS negotiation now.\"\r\n\"STARTTLS\"\r\n");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server sent 12 bytes after its go-ahead (\"OK \\x22Begin "
                            "TLS negotiation now.\\x22\"), before TLS (plaintext injection?)");
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);
}
