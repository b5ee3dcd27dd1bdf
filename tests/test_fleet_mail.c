/* The fleet's mail servers (fleet_options.mail, .bulk_smtp): the SMTP and
 * IMAP preambles it speaks before TLS, replayed byte for byte over a socket
 * (greetings, capabilities, refusals, the caps on a line and on the commands,
 * bytes pipelined behind STARTTLS dropped before the handshake), the SMTP
 * endpoints scanned by the certsweep binary and the IMAP one by
 * `openssl s_client -starttls imap`. */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

#define BULK 4

static void setup(void)
{
    fx_setup_with(&(struct fleet_options){.mail = true, .bulk = BULK, .bulk_smtp = true});
}

TestSuite(fleet_mail, .init = setup, .fini = fx_teardown, .timeout = 120);

static uint16_t port_of(const char *name)
{
    const struct fleet_scenario *s = fleet_get(fx_fleet, name);
    cr_assert_not_null(s, "no scenario %s", name);
    return s->port;
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "%s", strerror(errno));
    return fd;
}

static void say(int fd, const char *text)
{
    size_t len = strlen(text);
    cr_assert_eq(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads until what came ends with want (or the peer closes, or 10 s pass) and
   asserts that it is exactly want.  One byte at a time: nothing past the
   reply is taken from the socket. */
static void expect(int fd, const char *want)
{
    char got[4096];
    size_t n = 0, wl = strlen(want);
    while (n < sizeof got - 1 && (n < wl || memcmp(got + n - wl, want, wl) != 0)) {
        ssize_t r = recv(fd, got + n, 1, 0);
        if (r <= 0)
            break;
        n++;
    }
    got[n] = '\0';
    cr_assert_str_eq(got, want);
}

/* The peer closes: the next read sees the end of the stream. */
static void expect_eof(int fd)
{
    char c;
    cr_assert_eq(recv(fd, &c, 1, 0), 0, "the fleet did not close");
}

/* TLS on the connection (blocking), verified against the fleet's CA for
   name; the leaf must be the scenario's. */
static void handshake(int fd, const char *name, X509 *want)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    cr_assert_not_null(ctx);
    cr_assert_eq(SSL_CTX_load_verify_locations(ctx, fleet_ca_file(fx_fleet), NULL), 1);
    SSL *ssl = SSL_new(ctx);
    cr_assert_not_null(ssl);
    SSL_set_tlsext_host_name(ssl, name);
    cr_assert_eq(SSL_set1_host(ssl, name), 1);
    SSL_set_fd(ssl, fd);
    cr_assert_eq(SSL_connect(ssl), 1, "TLS after the go-ahead failed");
    cr_assert_eq(SSL_get_verify_result(ssl), X509_V_OK);
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    cr_assert_not_null(leaf);
    cr_assert_eq(X509_cmp(leaf, want), 0, "another leaf than the scenario's");
    X509_free(leaf);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

#define SMTP_GREETING "220 smtp.fleet.test ESMTP certsweep test fleet\r\n"
#define SMTP_EHLO                                                                                  \
    "250-smtp.fleet.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"               \
    "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"
#define IMAP_GREETING                                                                              \
    "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] imap.fleet.test certsweep test fleet "     \
    "ready\r\n"

Test(fleet_mail, smtp_preamble_then_tls)
{
    int fd = connect_to(port_of("smtp-starttls"));
    expect(fd, SMTP_GREETING);
    say(fd, "EHLO client.example\r\n");
    expect(fd, SMTP_EHLO);
    say(fd, "HELO\r\n");
    expect(fd, "501 5.5.4 Syntax: HELO hostname\r\n");
    say(fd, "MAIL FROM:<a@example.net>\r\n");
    expect(fd, "502 5.5.2 Error: command not recognized\r\n");
    say(fd, "STARTTLS now\r\n");
    expect(fd, "501 5.5.4 Syntax: STARTTLS\r\n");
    /* a command pipelined behind STARTTLS is dropped, not read as TLS */
    say(fd, "starttls\r\nEHLO injected.example\r\n");
    expect(fd, "220 2.0.0 Ready to start TLS\r\n");
    handshake(fd, "smtp.fleet.test", fleet_get(fx_fleet, "smtp-starttls")->leaf.x509);
    close(fd);
    cr_assert_eq(fleet_accepted(fx_fleet, "smtp-starttls"), 1);
}

Test(fleet_mail, smtp_quit)
{
    int fd = connect_to(port_of("smtp-starttls"));
    expect(fd, SMTP_GREETING);
    say(fd, "QUIT\r\n");
    expect(fd, "221 2.0.0 Bye\r\n");
    expect_eof(fd);
    close(fd);
}

Test(fleet_mail, smtp_line_cap)
{
    char line[600];
    int fd = connect_to(port_of("smtp-starttls"));
    expect(fd, SMTP_GREETING);
    /* 510 bytes and CRLF: the longest line taken */
    memset(line, 'A', 510);
    strcpy(line + 510, "\r\n");
    say(fd, line);
    expect(fd, "502 5.5.2 Error: command not recognized\r\n");
    /* 511 bytes (and no end of line yet) are too long */
    memset(line, 'A', 511);
    line[511] = '\0';
    say(fd, line);
    expect(fd, "500 5.5.2 Error: line too long\r\n");
    expect_eof(fd);
    close(fd);
}

Test(fleet_mail, smtp_command_cap)
{
    int fd = connect_to(port_of("smtp-starttls"));
    expect(fd, SMTP_GREETING);
    for (int i = 0; i < 32; i++) {
        say(fd, "NOOP\r\n");
        expect(fd, "250 2.0.0 Ok\r\n");
    }
    say(fd, "NOOP\r\n");
    expect(fd, "421 4.7.0 Error: too many commands\r\n");
    expect_eof(fd);
    close(fd);
}

Test(fleet_mail, imap_preamble_then_tls)
{
    int fd = connect_to(port_of("imap-starttls"));
    expect(fd, IMAP_GREETING);
    say(fd, "a1 CAPABILITY\r\n");
    expect(fd, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK CAPABILITY completed\r\n");
    say(fd, "CAPABILITY\r\n");
    expect(fd, "* BAD invalid tag\r\n");
    say(fd, "a(2 NOOP\r\n");
    expect(fd, "* BAD invalid tag\r\n");
    say(fd, "a2 NOOP\r\n");
    expect(fd, "a2 OK NOOP completed\r\n");
    say(fd, "a3 LOGIN user pass\r\n");
    expect(fd, "a3 BAD command unknown or arguments invalid\r\n");
    say(fd, "a4 STARTTLS\r\na5 injected\r\n");
    expect(fd, "a4 OK Begin TLS negotiation now\r\n");
    handshake(fd, "imap.fleet.test", fleet_get(fx_fleet, "imap-starttls")->leaf.x509);
    close(fd);
}

Test(fleet_mail, imap_logout_and_caps)
{
    int fd = connect_to(port_of("imap-starttls"));
    expect(fd, IMAP_GREETING);
    say(fd, "z LOGOUT\r\n");
    expect(fd, "* BYE certsweep test fleet logging out\r\nz OK LOGOUT completed\r\n");
    expect_eof(fd);
    close(fd);

    char line[600];
    memset(line, 'x', 511);
    line[511] = '\0';
    fd = connect_to(port_of("imap-starttls"));
    expect(fd, IMAP_GREETING);
    say(fd, line);
    expect(fd, "* BYE line too long\r\n");
    expect_eof(fd);
    close(fd);
}

/* The SMTP endpoints as a user scans them: the scenario by its URL, the bulk
   ports with --starttls smtp. */
Test(fleet_mail, certsweep_over_smtp)
{
    const struct fleet_scenario *s = fleet_get(fx_fleet, "smtp-starttls");
    char target[96], pin[96], json[4200];
    snprintf(target, sizeof target, "smtp://smtp.fleet.test:%u", (unsigned)s->port);
    snprintf(pin, sizeof pin, "smtp.fleet.test:%u:127.0.0.1", (unsigned)s->port);
    snprintf(json, sizeof json, "%s/out.json", fx_dir);
    char bulk[BULK][32];
    const char *args[32] = {"--ca-file",    fleet_ca_file(fx_fleet),
                            "--resolve",    pin,
                            "--dns-server", "127.0.0.1:9",
                            "-o",           json,
                            "-q",           target};
    size_t n = 10;
    args[n++] = "--starttls";
    args[n++] = "smtp";
    for (size_t i = 0; i < BULK; i++) {
        snprintf(bulk[i], sizeof bulk[i], "127.0.0.1:%u", (unsigned)fleet_bulk_port(fx_fleet, i));
        args[n++] = bulk[i];
    }
    struct run_result r;
    cr_assert_eq(run_binary(CS_BINARY, args, NULL, 120, &r), 0);
    char *text = slurp(json, NULL);
    cr_assert_not_null(text, "no report; stderr: %s", r.err);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    cr_assert_not_null(doc, "%s", err.text);
    json_t *results = json_object_get(doc, "results");

    json_t *rec = json_find_record(results, "smtp.fleet.test", s->port);
    cr_assert_not_null(rec);
    char sha[65];
    pki_sha256_hex(s->leaf.x509, sha);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), "OK", "%s",
                     json_string_value(json_object_get(rec, "reason")));
    cr_assert_str_eq(json_string_value(json_object_get(rec, "protocol")), "smtp");
    cr_assert_str_eq(json_string_value(json_object_get(rec, "sha256")), sha);
    cr_assert_str_eq(json_string_value(json_object_get(rec, "verify")), "ok");
    cr_assert(json_is_true(json_object_get(rec, "hostname_match")));
    cr_assert(json_is_true(json_object_get(rec, "key_proven")));

    static const char *const want[] = {"OK", "WARNING", "CRITICAL", "EXPIRED"};
    for (size_t i = 0; i < BULK; i++) {
        rec = json_find_record(results, "127.0.0.1", fleet_bulk_port(fx_fleet, i));
        cr_assert_not_null(rec, "bulk port %zu", i);
        cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), want[i % 4],
                         "bulk %zu: %s", i, json_string_value(json_object_get(rec, "reason")));
        cr_assert_str_eq(json_string_value(json_object_get(rec, "protocol")), "smtp");
        pki_sha256_hex(fleet_bulk_scenario(fx_fleet, i)->leaf.x509, sha);
        cr_assert_str_eq(json_string_value(json_object_get(rec, "sha256")), sha);
        cr_assert_eq(fleet_bulk_accepted(fx_fleet, i), 1);
    }
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err); /* CRITICAL and EXPIRED */
    json_decref(doc);
    free(text);
    run_result_free(&r);
}

/* The IMAP endpoint as openssl sees it after its own STARTTLS preamble. */
Test(fleet_mail, openssl_over_imap)
{
    const struct fleet_scenario *s = fleet_get(fx_fleet, "imap-starttls");
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%u", (unsigned)s->port);
    const char *args[] = {"s_client",
                          "-starttls",
                          "imap",
                          "-connect",
                          connect,
                          "-servername",
                          "imap.fleet.test",
                          "-CAfile",
                          fleet_ca_file(fx_fleet),
                          "-verify_hostname",
                          "imap.fleet.test",
                          "-verify_return_error",
                          NULL};
    struct run_result r;
    cr_assert_eq(run_binary(OPENSSL_BINARY, args, "", 60, &r), 0);
    cr_assert_eq(r.status, 0, "openssl s_client exit %d: %s", r.status, r.err);
    cr_assert_not_null(strstr(r.out, "Verify return code: 0 (ok)"), "%s", r.out);
    /* the certificate it printed is the scenario's leaf */
    const char *pem = strstr(r.out, "-----BEGIN CERTIFICATE-----");
    cr_assert_not_null(pem, "%s", r.out);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *got = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    cr_assert_not_null(got);
    cr_assert_eq(X509_cmp(got, s->leaf.x509), 0);
    X509_free(got);
    BIO_free(bio);
    cr_assert_eq(fleet_accepted(fx_fleet, "imap-starttls"), 1);
    run_result_free(&r);
}
