/* The xmpp and xmpp-server probes with no socket: recorded server streams
 * go in (Prosody's, recorded from Prosody 0.12, and ejabberd's, as its debug
 * log shows them), and the test checks what the probe said back, whether
 * TLS started and how it ended.  Hostile streams included: refusals,
 * silence, an endless stream, a 1 MiB attribute, a DTD with nested
 * entities, deep nesting, garbage, TLS at once, a go-ahead in another
 * namespace, and bytes after the go-ahead.
 *
 * Then end to end: a real Prosody on 127.0.0.1 with a certificate from a
 * throw-away PKI, scanned by the certsweep binary over xmpp:// and
 * xmpp-server://, every certificate field of its reports compared with what
 * the PKI issued. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "tests/support/e2e.h"
#include "tests/support/pki.h"
#include "tests/support/prosody.h"
#include "tests/support/runner.h"
#include "tests/support/wire.h"

#define CLIENT_HEADER(host)                                                                        \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                                   \
    "xmlns:stream='http://etherx.jabber.org/streams' to='" host "' version='1.0'>"
#define SERVER_HEADER(host)                                                                        \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "                                   \
    "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' to='" host  \
    "' version='1.0'>"
#define STARTTLS "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
#define PROCEED "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"

/* Prosody 0.12, c2s, one write each */
static const char prosody_header[] =
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "id='4ae33bfb-0a0e-4e10-901c-db8f5a239177' version='1.0' from='xmpp.test.example' "
    "xmlns='jabber:client' xml:lang='en'>";
static const char prosody_features[] =
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
    "</stream:features>";
/* Prosody 0.12, s2s */
static const char prosody_s2s[] =
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "from='xmpp.test.example' id='5e426e54-2a9a-4fa3-af31-ec2793163441' xmlns='jabber:server' "
    "version='1.0' to='' xmlns:db='jabber:server:dialback' xml:lang='en'><stream:features>"
    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><dialback "
    "xmlns='urn:xmpp:features:dialback'/></stream:features>";

/* The quoted stream header, as the reasons show it (cut to 120 characters). */
#define PROSODY_HEADER_QUOTED                                                                      \
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "                              \
    "id='4ae33bfb-0a0e-4e10-901c-db8f5a239177' version='1.0' f..."

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void open_features(struct wire *w)
{
    wire_open(w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(w, prosody_header);
    wire_say(w, prosody_features);
    cr_assert_eq(w->ends, 0, "%s", w->why);
    cr_assert_str_eq(wire_preamble(w), CLIENT_HEADER("xmpp.test.example") STARTTLS);
}

Test(xmpp, prosody_c2s)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example"),
                     "the client speaks first");
    wire_say(&w, prosody_header);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example"));
    wire_say(&w, prosody_features);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example") STARTTLS);
    cr_assert(!wire_tls_started(&w));
    wire_say(&w, PROCEED);
    cr_assert(wire_tls_started(&w), "no ClientHello after <proceed/>: %s", w.why);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cs_conn_eof(&w.conn, 0);
    cr_assert_eq(w.ends, 1);
    cr_assert(starts(w.why, "handshake: "), "%s", w.why);
    wire_close(&w);
}

Test(xmpp, prosody_s2s)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp_server, "xmpp.test.example", NULL);
    cr_assert_str_eq(wire_preamble(&w), SERVER_HEADER("xmpp.test.example"));
    wire_say(&w, prosody_s2s);
    cr_assert_str_eq(wire_preamble(&w), SERVER_HEADER("xmpp.test.example") STARTTLS);
    wire_say(&w, PROCEED);
    cr_assert(wire_tls_started(&w), "%s", w.why);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    wire_close(&w);
}

/* ejabberd: the header and the features in separate writes, double-quoted
   attributes from other servers parse the same. */
Test(xmpp, ejabberd_c2s)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "alchemy.local", NULL);
    wire_say(&w, "<?xml version='1.0'?><stream:stream id='14250373398070181395' version='1.0' "
                 "xml:lang='en-GB' xmlns:stream='http://etherx.jabber.org/streams' "
                 "from='alchemy.local' xmlns='jabber:client'>");
    wire_say(&w, "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
                 "</starttls></stream:features>");
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("alchemy.local") STARTTLS);
    wire_say(&w, PROCEED);
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

/* Namespaces, not prefixes, name things: features with no prefix, a proceed
   in a child element of its own with an end tag. */
Test(xmpp, namespaces_not_prefixes)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, "<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:client'>\n"
                 "<features xmlns=\"http://etherx.jabber.org/streams\"><t:starttls "
                 "xmlns:t='urn:ietf:params:xml:ns:xmpp-tls'/></features>\n");
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example") STARTTLS);
    wire_say(&w, "\n<tls:proceed xmlns:tls='urn:ietf:params:xml:ns:xmpp-tls'></tls:proceed>");
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

/* The whole Prosody stream a byte at a time. */
Test(xmpp, byte_by_byte)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    char all[1024];
    snprintf(all, sizeof all, "%s%s%s", prosody_header, prosody_features, PROCEED);
    wire_feed_bytewise(&w, all, strlen(all));
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example") STARTTLS);
    cr_assert(wire_tls_started(&w));
    wire_close(&w);
}

/* The name in `to` is XML-escaped: a host can never add markup. */
Test(xmpp, to_is_escaped)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "a'b\"c<d>e&f", NULL);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("a&apos;b&quot;c&lt;d&gt;e&amp;f"));
    wire_close(&w);
    wire_open(&w, &cs_probe_xmpp_server, "192.0.2.7", NULL);
    cr_assert_str_eq(wire_preamble(&w), SERVER_HEADER("192.0.2.7"));
    wire_close(&w);
}

Test(xmpp, starttls_not_offered)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>"
                 "<register xmlns='http://jabber.org/features/iq-register'/></stream:features>");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(
        w.why, "starttls: server does not offer STARTTLS (stream features: mechanisms, register)");
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example"), "no <starttls/> sent");
    wire_close(&w);

    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, "<stream:features/>");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (stream features: none)");
    wire_close(&w);

    /* a starttls in another namespace is no offer */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, "<stream:features><starttls xmlns='jabber:client'/></stream:features>");
    cr_assert_str_eq(w.why, "starttls: server does not offer STARTTLS (stream features: starttls)");
    wire_close(&w);
}

Test(xmpp, failure_is_quoted)
{
    struct wire w;
    open_features(&w);
    wire_say(&w, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(
        w.why, "starttls: server refused: \"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\"");
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

/* Prosody 0.12's answer to a stream to a host it does not serve. */
Test(xmpp, stream_error_is_quoted)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "other.example", NULL);
    wire_say(&w, "<?xml version='1.0'?><stream:stream "
                 "xmlns:stream='http://etherx.jabber.org/streams' "
                 "id='e7bb01d6-f3fd-4703-aed0-aefb240b0164' version='1.0' from='other.example' "
                 "xmlns='jabber:client' xml:lang='en'><stream:error><host-unknown "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve "
                 "other.example</text></stream:error></stream:stream>");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server refused: \"stream error host-unknown: This server "
                            "does not serve other.example\"");
    wire_close(&w);

    /* an error instead of <proceed/>, no text, and a long text cut */
    open_features(&w);
    wire_say(&w, "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                 "</stream:error>");
    cr_assert_str_eq(w.why, "starttls: server refused: \"stream error policy-violation\"");
    wire_close(&w);

    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, "<stream:error><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>");
    for (int i = 0; i < 100; i++)
        wire_say(&w, "go away \"now\" ");
    wire_say(&w, "</text><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    cr_assert(starts(w.why, "starttls: server refused: \"stream error conflict: go away "
                            "\\x22now\\x22 go away"),
              "%s", w.why);
    cr_assert(strcmp(w.why + strlen(w.why) - 4, "...\"") == 0, "%s", w.why);
    wire_close(&w);
}

Test(xmpp, silence_and_hang_ups)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls (after \"" PROSODY_HEADER_QUOTED "\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls");
    wire_close(&w);

    /* features read, <starttls/> sent, no answer */
    open_features(&w);
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer (after \"<stream:features>\")");
    wire_close(&w);

    /* the server closes its stream */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, "</stream:stream>");
    cr_assert_str_eq(
        w.why, "starttls: server closed the XMPP stream (after \"" PROSODY_HEADER_QUOTED "\")");
    wire_close(&w);
}

/* The server says go and never speaks TLS. */
Test(xmpp, proceed_but_no_tls)
{
    struct wire w;
    open_features(&w);
    wire_say(&w, PROCEED);
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* Bytes after <proceed/> (even a newline) would be read as if they came
   over TLS by a careless client: refused. */
Test(xmpp, bytes_after_proceed)
{
    struct wire w;
    open_features(&w);
    wire_say(&w, PROCEED "<iq type='set'/>");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server sent 16 bytes after its go-ahead (\"<proceed "
                            "xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\"), before TLS (plaintext "
                            "injection?)");
    cr_assert(!w.conn.ssl, "TLS must not start");
    wire_close(&w);

    open_features(&w);
    wire_say(&w, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>\n");
    cr_assert_str_eq(w.why, "starttls: server sent 1 byte after its go-ahead (\"<proceed "
                            "xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\"), before TLS (plaintext "
                            "injection?)");
    wire_close(&w);

    /* the features and the go-ahead and more, all in one write */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    char all[1024];
    snprintf(all, sizeof all, "%s%s%sxy", prosody_header, prosody_features, PROCEED);
    wire_say(&w, all);
    cr_assert(starts(w.why, "starttls: server sent 2 bytes after its go-ahead"), "%s", w.why);
    cr_assert(!w.conn.ssl);
    wire_close(&w);
}

/* Only <proceed/> in the TLS namespace, after <starttls/>, is a go-ahead. */
Test(xmpp, proceed_namespace_and_order)
{
    struct wire w;
    open_features(&w);
    wire_say(&w, "<proceed xmlns='jabber:client'/><proceed/>");
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert(!w.conn.ssl, "a proceed in another namespace started TLS");
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls (after \"<proceed/>\")");
    wire_close(&w);

    /* before the features, a proceed is nothing */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, PROCEED);
    cr_assert(!w.conn.ssl);
    cr_assert_eq(w.ends, 0);
    wire_say(&w, prosody_features);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example") STARTTLS);
    cr_assert(!w.conn.ssl);
    wire_close(&w);

    /* a proceed nested in another element is not the server's answer */
    open_features(&w);
    wire_say(&w, "<message>" PROCEED "</message>");
    cr_assert(!w.conn.ssl);
    cr_assert_eq(w.ends, 0);
    wire_close(&w);
}

/* Whitespace keep-alives and unknown elements forever: the bytes before
   TLS are capped in all. */
Test(xmpp, endless_stream)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    size_t sent = strlen(prosody_header) + wire_say_until_end(&w, " <x/>\n<y/>\r\n", 10000) * 12;
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why,
                     "starttls: server sent more than 65536 bytes before TLS (last \"<y/>\")");
    cr_assert_leq(sent, 65536 + 12);
    wire_close(&w);

    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    char spaces[4096];
    memset(spaces, ' ', sizeof spaces);
    wire_feed_until_end(&w, spaces, sizeof spaces, 100);
    cr_assert(starts(w.why, "starttls: server sent more than 65536 bytes before TLS"), "%s", w.why);
    wire_close(&w);
}

/* A 1 MiB attribute: one unfinished tag is capped, long before 1 MiB or the
   total. */
Test(xmpp, megabyte_attribute)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, "<stream:features v='");
    size_t sent = wire_feed_megabyte(&w, "", 0, 'A', 1000);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: server XML token longer than 4096 bytes (\"<stream:features "
                            "v='AAAAAAAAAAAAAAAAAAAA...\")");
    cr_assert_leq(sent, 5000);
    wire_close(&w);

    /* the same in the stream header */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, "<stream:stream id='");
    char b[512];
    memset(b, 'b', sizeof b);
    wire_feed_until_end(&w, b, sizeof b, 100);
    cr_assert(starts(w.why, "starttls: server XML token longer than 4096 bytes (\"<stream:stream "
                            "id='bbb"),
              "%s", w.why);
    wire_close(&w);
}

/* A DTD is refused before expat reads a declaration: no entity expands. */
Test(xmpp, dtd_refused)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, "<?xml version='1.0'?><!DOCTYPE stream:stream [\n"
                 "<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
                 "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
                 "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
                 "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
                 "]><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                 "xmlns='jabber:client' id='&d;&d;&d;&d;&d;&d;&d;&d;'><stream:features>"
                 "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>");
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why,
                     "starttls: server sent a DTD (<!DOCTYPE stream:stream>), which XMPP forbids");
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example"));
    wire_close(&w);

    /* a DTD with no internal subset, after the XML declaration, split */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0 Strict//EN' ");
    wire_say(&w, "'http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd'>");
    cr_assert_str_eq(w.why, "starttls: server sent a DTD (<!DOCTYPE html>), which XMPP forbids");
    wire_close(&w);

    /* with no DTD, an entity is undefined */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say(&w, "<stream:features>&lol;</stream:features>");
    char want[256];
    snprintf(want, sizeof want,
             "starttls: not XMPP: XML undefined entity at byte %zu (\"&lol;</stream:features>\")",
             strlen(prosody_header) + 17);
    cr_assert_str_eq(w.why, want);
    wire_close(&w);
}

Test(xmpp, nesting_capped)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_say_until_end(&w, "<a>", 20);
    cr_assert_eq(w.ends, 1);
    cr_assert_str_eq(w.why, "starttls: XML nested deeper than 16 elements (\"<a>\")");
    wire_close(&w);

    /* 16 deep is allowed */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    for (int i = 0; i < 15; i++)
        wire_say(&w, "<a>");
    for (int i = 0; i < 15; i++)
        wire_say(&w, "</a>");
    wire_say(&w, prosody_features);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example") STARTTLS);
    wire_close(&w);
}

/* Many distinct names fill expat's tables: its arena is bounded. */
Test(xmpp, parser_memory_bounded)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    char el[4096];
    for (int i = 0; i < 1000 && w.ends == 0; i++) {
        size_t n = (size_t)snprintf(el, sizeof el, "<e%d", i);
        for (int k = 0; k < 60; k++)
            n += (size_t)snprintf(el + n, sizeof el - n, " a%d_%d=''", i, k);
        snprintf(el + n, sizeof el - n, "/>");
        wire_say(&w, el);
    }
    cr_assert_eq(w.ends, 1);
    cr_assert(starts(w.why, "starttls: server XML needs more than 256 KiB to parse"), "%s", w.why);
    wire_close(&w);
}

Test(xmpp, not_xmpp)
{
    struct wire w;
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    cr_assert_str_eq(w.why,
                     "starttls: not XMPP: XML syntax error at byte 0 (\"SSH-2.0-OpenSSH_9.2p1 "
                     "Debian-2\\x0D\\x0A\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    static const unsigned char bin[] = {'<', 0x80, 0xff, 0x01, 0x7f, '>'};
    wire_feed(&w, bin, sizeof bin);
    cr_assert_str_eq(w.why, "starttls: not XMPP: XML not well-formed (invalid token) at byte 1 "
                            "(\"\\x80\\xFF\\x01\\x7F>\")");
    wire_close(&w);

    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, prosody_header);
    wire_feed(&w, "<a>\0</a>", 8);
    char want[256];
    snprintf(want, sizeof want,
             "starttls: not XMPP: XML not well-formed (invalid token) at byte %zu (\"\\x00</a>\")",
             strlen(prosody_header) + 3);
    cr_assert_str_eq(w.why, want);
    wire_close(&w);

    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    wire_say(&w, "<html xmlns='http://www.w3.org/1999/xhtml'><body>");
    cr_assert_str_eq(w.why, "starttls: not an XMPP stream (\"<html "
                            "xmlns='http://www.w3.org/1999/xhtml'>\")");
    wire_close(&w);

    /* a ServerHello's record header: the port speaks TLS at once */
    wire_open(&w, &cs_probe_xmpp, "xmpp.test.example", NULL);
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    wire_feed(&w, hello, sizeof hello);
    cr_assert(starts(w.why, "starttls: server speaks TLS at once"), "%s", w.why);
    cr_assert_str_eq(wire_preamble(&w), CLIENT_HEADER("xmpp.test.example"));
    wire_close(&w);
}

Test(xmpp, registered)
{
    cr_assert_eq(cs_probe_by_name("xmpp"), &cs_probe_xmpp);
    cr_assert_eq(cs_probe_by_name("xmpp-server"), &cs_probe_xmpp_server);
    cr_assert_eq(cs_probe_for(NULL, "auto", 5222), &cs_probe_xmpp);
    cr_assert_eq(cs_probe_for(NULL, "auto", 5269), &cs_probe_xmpp_server);
}

/* ---- a real Prosody ------------------------------------------------------ */

#define XMPP_HOST "xmpp.test.example"
#define OTHER_HOST "chat.other.example" /* a host Prosody does not serve */

static char *dir;
static struct e2e_pki pki;
static struct prosody server = {.pid = -1};

static char *path_in(const char *name)
{
    char *p;
    cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static void prosody_setup(void)
{
    cr_assert(access(PROSODY_BINARY, X_OK) == 0,
              PROSODY_BINARY " is not installed: the xmpp end-to-end tests need it "
                             "(apt-get install prosody)");
    dir = e2e_dir_with_pki(
        &pki,
        &(struct e2e_pki_spec){
            .name = "xmpp", .host = XMPP_HOST, .days_before = 10, .days = 90, .key = PKI_EC256});
    char *chain = path_in("chain.pem"), *key = path_in("leaf.key");
    char err[8192];
    int rc = prosody_start(&server, dir, XMPP_HOST, chain, key, err, sizeof err);
    free(chain);
    free(key);
    cr_assert_eq(rc, 0, "%s", err);
}

static void prosody_teardown(void)
{
    prosody_stop(&server);
    e2e_dir_free(&dir, &pki);
}

TestSuite(prosody, .init = prosody_setup, .fini = prosody_teardown, .timeout = 120);

/* Scans targets (URLs to host at the server's two ports, both pinned to
   127.0.0.1) and reads back the reports. */
static void scan(struct report_scan *s, const char *host, const char *const *targets)
{
    e2e_scan(
        s, &(struct e2e_scan_args){.dir = dir,
                                   .host = host,
                                   .ports = (const uint16_t[]){server.c2s_port, server.s2s_port, 0},
                                   .targets = targets});
    cr_assert_eq(s->csv.nrows, 3, "%s", s->csv_text);
}

/* Every certificate field of the record for XMPP_HOST:port, CSV and JSON. */
static void check_leaf(const struct report_scan *s, uint16_t port, const char *protocol)
{
    e2e_expect_leaf(s, &(struct e2e_leaf_want){.host = XMPP_HOST,
                                               .port = port,
                                               .protocol = protocol,
                                               .subject = "CN=" XMPP_HOST,
                                               .issuer = "CN=certsweep xmpp Intermediate",
                                               .sans = XMPP_HOST,
                                               .key = "EC-256",
                                               .days = 90,
                                               .leaf = pki.leaf.x509});
}

Test(prosody, c2s_and_s2s)
{
    char c2s[96], s2s[96];
    snprintf(c2s, sizeof c2s, "xmpp://" XMPP_HOST ":%u", (unsigned)server.c2s_port);
    snprintf(s2s, sizeof s2s, "xmpp-server://" XMPP_HOST ":%u", (unsigned)server.s2s_port);
    struct report_scan s;
    scan(&s, XMPP_HOST, (const char *const[]){c2s, s2s, NULL});
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    check_leaf(&s, server.c2s_port, "xmpp");
    check_leaf(&s, server.s2s_port, "xmpp-server");
    report_scan_free(&s);
}

/* A stream to a host Prosody does not serve: its stream error, quoted. */
Test(prosody, unknown_host)
{
    char c2s[96], s2s[96];
    snprintf(c2s, sizeof c2s, "xmpp://" OTHER_HOST ":%u", (unsigned)server.c2s_port);
    snprintf(s2s, sizeof s2s, "xmpp-server://" OTHER_HOST ":%u", (unsigned)server.s2s_port);
    struct report_scan s;
    scan(&s, OTHER_HOST, (const char *const[]){c2s, s2s, NULL});
    e2e_expect_refused(&s, OTHER_HOST, server.c2s_port, "xmpp",
                       "starttls: server refused: \"stream error host-unknown: This server does "
                       "not serve " OTHER_HOST "\"");
    e2e_expect_refused(&s, OTHER_HOST, server.s2s_port, "xmpp-server",
                       "starttls: server refused: \"stream error host-unknown: This host does not "
                       "serve " OTHER_HOST "\"");
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s", s.run.status, s.run.err);
    report_scan_free(&s);
}
