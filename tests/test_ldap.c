/* The ldap probe.  First as a state machine, with no socket: the test
 * checks the StartTLS request byte for byte, then feeds hand-built BER
 * answers (the ones OpenLDAP sends, and hostile ones: wrong message, cut
 * short, lengths of 2^31 bytes or none at all, garbage, TLS, a go-ahead with
 * no TLS or plaintext after it) and checks whether TLS started and how it
 * ended.  Then end to end: the certsweep binary scans a real slapd on
 * 127.0.0.1 serving a certificate of a throw-away PKI, and one without TLS. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/probe.h"
#include "probes/starttls.h"
#include "tests/support/e2e.h"
#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/slapd.h"
#include "tests/support/wire.h"

/* LDAPMessage { messageID 1, extendedReq { requestName
   "1.3.6.1.4.1.1466.20037" } } */
static const unsigned char request[] = {
    0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16, '1', '.', '3', '.', '6', '.', '1',
    '.',  '4',  '.',  '1',  '.',  '1',  '4',  '6',  '6',  '.', '2', '0', '0', '3', '7'};

/* What OpenLDAP's slapd answers when it can start TLS: messageID 1,
   ExtendedResponse { success, "", "" }, no responseName. */
static const unsigned char success[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
                                        0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};

/* A BER element: tag, short-form length (len < 128), contents. */
static size_t tlv(unsigned char *out, unsigned tag, const void *data, size_t len)
{
    cr_assert_lt(len, 128);
    out[0] = (unsigned char)tag;
    out[1] = (unsigned char)len;
    memcpy(out + 2, data, len);
    return len + 2;
}

/* An LDAPMessage { messageID id, ExtendedResponse { code, "", diag, extra } }
   with short-form lengths; its size. */
static size_t response(unsigned char *out, unsigned char id, unsigned char code, const char *diag,
                       const void *extra, size_t extra_len)
{
    unsigned char op[256], msg[300];
    size_t n = 0;
    n += tlv(op + n, 0x0a, &code, 1);
    n += tlv(op + n, 0x04, "", 0);
    n += tlv(op + n, 0x04, diag, strlen(diag));
    if (extra_len > 0)
        memcpy(op + n, extra, extra_len);
    n += extra_len;
    size_t m = tlv(msg, 0x02, &id, 1);
    m += tlv(msg + m, 0x78, op, n);
    return tlv(out, 0x30, msg, m);
}

static void open_sent(struct wire *w)
{
    wire_open(w, &cs_probe_ldap, "ldap.example.net", NULL);
    cr_assert_eq(w->ends, 0, "%s", w->why);
    cr_assert_eq(w->sent_len, sizeof request, "the client speaks first");
    cr_assert(memcmp(w->sent, request, sizeof request) == 0, "not the StartTLS request");
}

/* Feeds len bytes and expects the connection to end with why, TLS not
   started. */
static void expect_end(const void *bytes, size_t len, const char *why)
{
    struct wire w;
    open_sent(&w);
    wire_feed(&w, bytes, len);
    cr_assert_eq(w.ends, 1, "still going after %zu bytes (want %s)", len, why);
    cr_assert_str_eq(w.why, why);
    cr_assert(!w.conn.ssl, "TLS must not start");
    cr_assert_eq(w.sent_len, sizeof request, "nothing more sent");
    wire_close(&w);
}

Test(ldap, starttls_success)
{
    struct wire w;
    open_sent(&w);
    wire_feed(&w, success, sizeof success);
    cr_assert(wire_tls_started(&w), "no ClientHello after the go-ahead: %s", w.why);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cr_assert_eq(w.preamble_len, sizeof request, "nothing else before TLS");
    cr_assert(wire_hang_up_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* Long-form lengths (4 octets, as older OpenLDAP writes them), a
   responseName, a control, delivered a byte at a time. */
Test(ldap, long_form_lengths_byte_by_byte)
{
    static const unsigned char answer[] = {
        0x30, 0x84, 0x00, 0x00, 0x00, 0x2b,           /* LDAPMessage */
        0x02, 0x01, 0x01,                             /* messageID 1 */
        0x78, 0x84, 0x00, 0x00, 0x00, 0x20,           /* ExtendedResponse */
        0x0a, 0x01, 0x00,                             /* success */
        0x04, 0x81, 0x00,                             /* matchedDN "" */
        0x04, 0x00,                                   /* diagnosticMessage "" */
        0x8a, 0x16, '1',  '.',  '3',  '.',  '6', '.', /* responseName */
        '1',  '.',  '4',  '.',  '1',  '.',  '1', '4',  '6',
        '6',  '.',  '2',  '0',  '0',  '3',  '7', 0xa0, 0x00, /* controls (empty) */
    };
    cr_assert_eq(sizeof answer, 6 + 0x2b);
    struct wire w;
    open_sent(&w);
    for (size_t i = 0; i < sizeof answer; i++) {
        cr_assert(!w.conn.ssl, "TLS before the answer ended (byte %zu)", i);
        cr_assert_eq(w.ends, 0, "byte %zu: %s", i, w.why);
        wire_feed(&w, answer + i, 1);
    }
    cr_assert(wire_tls_started(&w), "%s", w.why);
    wire_close(&w);
}

Test(ldap, refusals_name_the_result_and_quote_the_message)
{
    unsigned char m[300];
    /* what slapd without TLS configured answers */
    size_t n = response(m, 1, 2, "unsupported extended operation", NULL, 0);
    expect_end(m, n, "starttls: server refused: \"protocolError: unsupported extended operation\"");
    n = response(m, 1, 52, "Could not initialize TLS", NULL, 0);
    expect_end(m, n, "starttls: server refused: \"unavailable: Could not initialize TLS\"");
    n = response(m, 1, 1, "", NULL, 0);
    expect_end(m, n, "starttls: server refused: \"operationsError\"");
    n = response(m, 1, 99, "say \"no\"\r\n", NULL, 0);
    expect_end(m, n, "starttls: server refused: \"99: say \\x22no\\x22\\x0D\\x0A\"");
    /* a long message is cut as every quoted reply is */
    char diag[111];
    memset(diag, 'z', sizeof diag - 1);
    diag[sizeof diag - 1] = '\0';
    n = response(m, 1, 53, diag, NULL, 0);
    char want[300];
    snprintf(want, sizeof want, "starttls: server refused: \"unwillingToPerform: %.*s...\"",
             CS_PREAMBLE_QUOTE - 20, diag);
    expect_end(m, n, want);
}

/* An unsolicited Notice of Disconnection (RFC 4511 4.4.1) instead of the
   answer. */
Test(ldap, notice_of_disconnection)
{
    unsigned char name[24], m[300];
    size_t k = tlv(name, 0x8a, "1.3.6.1.4.1.1466.20036", 22);
    size_t n = response(m, 0, 52, "server is shutting down", name, k);
    expect_end(m, n, "starttls: server refused: \"unavailable: server is shutting down\"");
    /* even one that says success is no go-ahead */
    n = response(m, 0, 0, "", name, k);
    expect_end(m, n, "starttls: server refused: \"success\"");
}

Test(ldap, wrong_message_or_operation)
{
    unsigned char m[300];
    size_t n = response(m, 2, 0, "", NULL, 0);
    expect_end(m, n, "starttls: reply to message 2, not to StartTLS (message 1)");
    /* a BindResponse [APPLICATION 1] to message 1 */
    static const unsigned char bind[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07,
                                         0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
    expect_end(bind, sizeof bind, "starttls: not an ExtendedResponse (protocolOp tag 0x61)");
    /* messageID as an OCTET STRING, negative, or wider than 4 octets */
    static const unsigned char id_string[] = {0x30, 0x0c, 0x04, 0x01, 0x01, 0x78, 0x07,
                                              0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
    expect_end(id_string, sizeof id_string,
               "starttls: malformed LDAP message (messageID: not an INTEGER)");
    static const unsigned char id_negative[] = {0x30, 0x0c, 0x02, 0x01, 0xff, 0x78, 0x07,
                                                0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
    expect_end(id_negative, sizeof id_negative,
               "starttls: malformed LDAP message (messageID out of range)");
    static const unsigned char id_wide[] = {0x30, 0x10, 0x02, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01,
                                            0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
    expect_end(id_wide, sizeof id_wide,
               "starttls: malformed LDAP message (messageID out of range)");
    /* the resultCode as an INTEGER */
    static const unsigned char code_int[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
                                             0x02, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
    expect_end(code_int, sizeof code_int,
               "starttls: malformed LDAP message (ExtendedResponse: bad resultCode)");
    /* no diagnosticMessage */
    static const unsigned char short_result[] = {0x30, 0x0a, 0x02, 0x01, 0x01, 0x78,
                                                 0x05, 0x0a, 0x01, 0x00, 0x04, 0x00};
    expect_end(short_result, sizeof short_result,
               "starttls: malformed LDAP message (ExtendedResponse: element cut short)");
}

Test(ldap, truncated_message)
{
    /* half an answer, then silence or a hang-up */
    struct wire w;
    open_sent(&w);
    wire_feed(&w, success, 7);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    cs_conn_timeout(&w.conn);
    cr_assert_str_eq(w.why, "timeout during starttls");
    wire_close(&w);

    open_sent(&w);
    wire_feed(&w, success, sizeof success - 1);
    cs_conn_eof(&w.conn, 0);
    cr_assert_str_eq(w.why, "starttls: connection closed by peer");
    cr_assert(!w.conn.ssl);
    wire_close(&w);

    /* an element longer than the message that holds it */
    static const unsigned char inner[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
                                          0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x01};
    expect_end(inner, sizeof inner,
               "starttls: malformed LDAP message (ExtendedResponse: element longer than what "
               "holds it)");
    static const unsigned char op_long[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x08,
                                            0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
    expect_end(op_long, sizeof op_long,
               "starttls: malformed LDAP message (protocolOp: element longer than what holds "
               "it)");
}

Test(ldap, lengths_out_of_bounds)
{
    /* 2^31 bytes announced: refused at once, nothing waited for */
    static const unsigned char huge[] = {0x30, 0x84, 0x80, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01};
    expect_end(huge, sizeof huge,
               "starttls: server announces an LDAP message of 2147483654 bytes, more than 4096");
    /* one byte over the cap, and five length octets */
    static const unsigned char over[] = {0x30, 0x82, 0x0f, 0xfd};
    expect_end(over, sizeof over,
               "starttls: server announces an LDAP message of 4097 bytes, more than 4096");
    static const unsigned char five[] = {0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x0c};
    expect_end(five, sizeof five,
               "starttls: malformed LDAP message (length of more than 4 octets)");
    /* 2^31 inside a message */
    static const unsigned char inner[] = {0x30, 0x0e, 0x02, 0x01, 0x01, 0x78, 0x84, 0x7f,
                                          0xff, 0xff, 0xff, 0x0a, 0x01, 0x00, 0x04, 0x00};
    expect_end(inner, sizeof inner,
               "starttls: malformed LDAP message (protocolOp: element longer than what holds "
               "it)");
}

/* A message of exactly the cap is read whole. */
Test(ldap, message_at_the_cap)
{
    unsigned char *m = calloc(1, 4096);
    cr_assert_not_null(m);
    static const unsigned char head[] = {0x30, 0x82, 0x0f, 0xfc, 0x02, 0x01, 0x01,
                                         0x78, 0x82, 0x0f, 0xf5, 0x0a, 0x01, 0x34,
                                         0x04, 0x00, 0x04, 0x82, 0x0f, 0xec};
    memcpy(m, head, sizeof head);
    memset(m + sizeof head, 'm', 4096 - sizeof head);
    struct wire w;
    open_sent(&w);
    wire_feed(&w, m, 4096);
    cr_assert_eq(w.ends, 1);
    cr_assert(strncmp(w.why, "starttls: server refused: \"unavailable: mmmm", 44) == 0, "%s",
              w.why);
    wire_close(&w);
    free(m);
}

Test(ldap, indefinite_length)
{
    static const unsigned char outer[] = {0x30, 0x80, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a,
                                          0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00};
    expect_end(outer, sizeof outer, "starttls: malformed LDAP message (indefinite length)");
    static const unsigned char inner[] = {0x30, 0x0e, 0x02, 0x01, 0x01, 0x78, 0x80, 0x0a,
                                          0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00};
    expect_end(inner, sizeof inner,
               "starttls: malformed LDAP message (protocolOp: indefinite length)");
    static const unsigned char tag[] = {0x30, 0x0c, 0x1f, 0x81, 0x01, 0x01, 0x78,
                                        0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04};
    expect_end(tag, sizeof tag, "starttls: malformed LDAP message (messageID: multi-octet tag)");
}

Test(ldap, garbage_and_megabytes)
{
    static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    expect_end(http, sizeof http - 1, "starttls: not an LDAP message (first byte 0x48)");
    static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1\r\n";
    expect_end(ssh, sizeof ssh - 1, "starttls: not an LDAP message (first byte 0x53)");

    /* a megabyte of noise, and a megabyte message: both end at their head */
    struct wire w;
    open_sent(&w);
    size_t off = wire_feed_megabyte(&w, "", 0, 0xa5, 8192);
    cr_assert_eq(off, 8192);
    cr_assert_str_eq(w.why, "starttls: not an LDAP message (first byte 0xA5)");
    wire_close(&w);

    static const unsigned char head[] = {0x30, 0x83, 0x10, 0x00, 0x00};
    open_sent(&w);
    off = wire_feed_megabyte(&w, head, sizeof head, 0xa5, 8192);
    cr_assert_eq(off, 8192);
    cr_assert_str_eq(w.why,
                     "starttls: server announces an LDAP message of 1048581 bytes, more than 4096");
    wire_close(&w);
}

/* An ldaps port: the server answers the plaintext request with a TLS
   alert, or a handshake record. */
Test(ldap, tls_instead_of_ber)
{
    static const char want[] = "starttls: server speaks TLS at once, not this protocol (use its "
                               "implicit-TLS port or scheme, or leave out --starttls)";
    static const unsigned char alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46};
    expect_end(alert, sizeof alert, want);
    static const unsigned char hello[] = {0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00};
    expect_end(hello, sizeof hello, want);
    /* one byte says nothing yet */
    struct wire w;
    open_sent(&w);
    wire_feed(&w, hello, 1);
    cr_assert_eq(w.ends, 0, "%s", w.why);
    wire_feed(&w, hello + 1, sizeof hello - 1);
    cr_assert_str_eq(w.why, want);
    wire_close(&w);
}

/* The server says success and then never speaks TLS. */
Test(ldap, success_but_no_tls)
{
    struct wire w;
    open_sent(&w);
    wire_feed(&w, success, sizeof success);
    cr_assert(wire_tls_started(&w));
    cr_assert(wire_time_out_in_handshake(&w), "%d end(s): %s", w.ends, w.why);
    wire_close(&w);
}

/* Bytes after the success, before the client's first TLS byte: a man in
   the middle's, or a server's that would read them as sent over TLS. */
Test(ldap, bytes_after_success_are_injection)
{
    unsigned char m[sizeof success + 14];
    memcpy(m, success, sizeof success);
    memcpy(m + sizeof success, success, sizeof success);
    expect_end(m, sizeof m,
               "starttls: server sent 14 bytes after its go-ahead (\"success\"), before TLS "
               "(plaintext injection?)");
    expect_end(m, sizeof success + 1,
               "starttls: server sent 1 byte after its go-ahead (\"success\"), before TLS "
               "(plaintext injection?)");
    unsigned char r[300];
    size_t n = response(r, 1, 0, "start TLS", NULL, 0);
    r[n] = 'X';
    expect_end(r, n + 1,
               "starttls: server sent 1 byte after its go-ahead (\"success: start TLS\"), before "
               "TLS (plaintext injection?)");
}

/* ---- end to end, against slapd ---- */

#define HOST "ldap.test.example"

static char *dir;
static struct e2e_pki pki;
static struct slapd ldapd = {.pid = -1}, plain_ldapd = {.pid = -1};

static void e2e_setup(void)
{
    cr_assert(access(SLAPD_BINARY, X_OK) == 0,
              SLAPD_BINARY " is not installed: the ldap end-to-end tests need it "
                           "(apt-get install slapd)");
    /* an RSA key, as many directories have */
    dir = e2e_dir_with_pki(
        &pki, &(struct e2e_pki_spec){
                  .name = "ldap",
                  .host = HOST,
                  .subject = (const char *const[]){"CN", HOST, "O", "certsweep tests", NULL},
                  .days_before = 30,
                  .days = 250,
                  .key = PKI_RSA2048});
    char *chain = e2e_path(dir, "chain.pem"), *key = e2e_path(dir, "leaf.key");
    char *tls_dir = e2e_path(dir, "slapd-tls"), err[8192];
    cr_assert_eq(slapd_start(&ldapd, tls_dir, chain, key, err, sizeof err), 0, "%s", err);
    free(tls_dir);
    free(chain);
    free(key);
}

static void e2e_teardown(void)
{
    slapd_stop(&ldapd);
    slapd_stop(&plain_ldapd);
    e2e_dir_free(&dir, &pki);
}

TestSuite(ldap_slapd, .init = e2e_setup, .fini = e2e_teardown, .timeout = 120);

Test(ldap_slapd, starttls_reaches_the_certificate)
{
    struct report_scan s;
    char target[64];
    snprintf(target, sizeof target, "ldap://" HOST ":%u", ldapd.port);
    e2e_scan_one(&s, dir, HOST, ldapd.port, target, NULL);
    cr_assert_eq(s.run.status, 0, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);

    e2e_expect_leaf(&s, &(struct e2e_leaf_want){.host = HOST,
                                                .port = ldapd.port,
                                                .protocol = "ldap",
                                                .subject = "O=certsweep tests,CN=" HOST,
                                                .issuer = "CN=certsweep ldap Intermediate",
                                                .sans = HOST,
                                                .key = "RSA-2048",
                                                .days = 250,
                                                .tls_version = "TLSv1.3",
                                                .leaf = pki.leaf.x509});
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(s.json, "summary"), "OK")), 1);
    report_scan_free(&s);
}

/* slapd with no certificate has no StartTLS handler: its answer is the
   record's reason.  The probe is named by --starttls this time, for a
   target with no scheme. */
Test(ldap_slapd, tls_off_is_refused_in_its_words)
{
    char *plain_dir = e2e_path(dir, "slapd-plain"), err[8192];
    cr_assert_eq(slapd_start(&plain_ldapd, plain_dir, NULL, NULL, err, sizeof err), 0, "%s", err);
    free(plain_dir);
    struct report_scan s;
    char target[64];
    snprintf(target, sizeof target, HOST ":%u", plain_ldapd.port);
    e2e_scan_one(&s, dir, HOST, plain_ldapd.port, target, "ldap");
    cr_assert_eq(s.run.status, 3, "exit %d; stderr: %s\n%s", s.run.status, s.run.err, s.csv_text);
    e2e_expect_refused(
        &s, HOST, plain_ldapd.port, "ldap",
        "starttls: server refused: \"protocolError: unsupported extended operation\"");
    cr_assert_str_eq(e2e_cell(&s, HOST, plain_ldapd.port, "address"), "127.0.0.1");
    report_scan_free(&s);
}
