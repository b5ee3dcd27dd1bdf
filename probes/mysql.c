/* MySQL and MariaDB (client/server protocol 10): the server speaks first,
 * an initial handshake packet (3-byte little-endian length, sequence id 0,
 * protocol version 10, NUL-terminated server version, connection id, the
 * first 8 bytes of the scramble, a filler, the lower 16 capability bits,
 * charset, status, the upper 16 capability bits, ...) or, when it turns the
 * client away at once, an error packet (0xff, code, message).  A server
 * that can do TLS sets CLIENT_SSL; the client then sends an SSLRequest (the
 * first 32 bytes of a handshake response, sequence id 1, CLIENT_SSL set)
 * and its ClientHello right behind it.  The server never answers the
 * SSLRequest: the go-ahead is our own request, so the greeting is the
 * server's last plaintext, and bytes it sends after the greeting, before
 * our ClientHello, can only be an injection (the shared preamble refuses
 * them). */
#include <stdio.h>
#include <string.h>

#include "probes/starttls.h"

#define PACKET_HEADER 4
#define PACKET_MAX (CS_PREAMBLE_LINE_MAX - PACKET_HEADER) /* payload kept */

#define CLIENT_LONG_PASSWORD 0x00000001u /* MariaDB: CLIENT_MYSQL, no extended caps */
#define CLIENT_LONG_FLAG 0x00000004u
#define CLIENT_PROTOCOL_41 0x00000200u
#define CLIENT_SSL 0x00000800u
#define CLIENT_TRANSACTIONS 0x00002000u
#define CLIENT_SECURE_CONNECTION 0x00008000u
#define CLIENT_MULTI_RESULTS 0x00020000u
#define CLIENT_PLUGIN_AUTH 0x00080000u

#define CHARSET_UTF8 33 /* utf8_general_ci: known since MySQL 4.1 */

static void put32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The SSLRequest: capability flags, max packet size, charset, 23 zero
   bytes, as packet 1 of the exchange. */
static int send_ssl_request(struct cs_conn *conn)
{
    unsigned char msg[PACKET_HEADER + 32] = {32, 0, 0, 1};
    put32le(msg + 4, CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41 | CLIENT_SSL |
                         CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS |
                         CLIENT_PLUGIN_AUTH);
    put32le(msg + 8, 1u << 24);
    msg[12] = CHARSET_UTF8;
    return cs_preamble_send(conn, msg, sizeof msg);
}

/* An error packet's payload: 0xff, code (2 bytes), "#" and a 5-character
   SQL state when the server knows the client speaks 4.1 (never before the
   greeting, but tolerated), then the message to the packet's end. */
static void on_error(struct cs_conn *conn, const unsigned char *pl, size_t n)
{
    if (n < 3) {
        cs_preamble_fail(conn, "malformed MySQL error packet");
        return;
    }
    unsigned code = pl[1] | (unsigned)pl[2] << 8;
    size_t off = n >= 9 && pl[3] == '#' ? 9 : 3;
    char q[sizeof(conn->preamble->last)];
    cs_preamble_quote((const char *)pl + off, n - off, CS_PREAMBLE_QUOTE, q, sizeof q);
    snprintf(conn->preamble->last, sizeof(conn->preamble->last), "%s", q);
    cs_preamble_fail(conn, "server refused: \"%s\" (error %u)", q, code);
}

/* The server version (NUL-terminated right after the protocol version):
   quoted into p->last, and the offset past its NUL, or 0 when it has none. */
static size_t server_version(struct cs_conn *conn, const unsigned char *pl, size_t n)
{
    const unsigned char *end = memchr(pl + 1, 0, n - 1);
    if (end == NULL)
        return 0;
    cs_preamble_quote((const char *)pl + 1, (size_t)(end - (pl + 1)), CS_PREAMBLE_QUOTE,
                      conn->preamble->last, sizeof(conn->preamble->last));
    return (size_t)(end - pl) + 1;
}

/* A complete greeting's payload: SSLRequest and go, or the reason not. */
static void on_greeting(struct cs_conn *conn, const unsigned char *pl, size_t n)
{
    struct cs_preamble *p = conn->preamble;
    size_t at = server_version(conn, pl, n);
    if (at == 0) {
        cs_preamble_fail(conn, "malformed MySQL greeting (no end to the server version)");
        return;
    }
    if (pl[0] != 10) {
        cs_preamble_fail(conn, "server speaks MySQL protocol %u, which has no TLS (\"%s\")", pl[0],
                         p->last);
        return;
    }
    /* connection id 4, scramble 8, filler 1, then the lower capabilities */
    if (n - at < 4 + 8 + 1 + 2) {
        cs_preamble_fail(conn, "MySQL greeting cut short (\"%s\")", p->last);
        return;
    }
    unsigned caps = pl[at + 13] | (unsigned)pl[at + 14] << 8;
    if (!(caps & CLIENT_SSL)) {
        cs_preamble_fail(conn, "server does not offer TLS (\"%s\")", p->last);
        return;
    }
    if (send_ssl_request(conn) == 0)
        cs_preamble_go(conn);
}

/* Does data start like a packet a server may greet with: sequence id 0,
   then protocol version 10 (or the old 9), or an error (0xff)? */
static bool greeting_header(const unsigned char *data)
{
    return data[3] == 0 && (data[4] == 10 || data[4] == 9 || data[4] == 0xff);
}

static long on_bytes(struct cs_conn *conn, const unsigned char *data, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (len < PACKET_HEADER + 1)
        return 0;
    if (!greeting_header(data)) {
        /* a TLS record (handshake 22 or alert 21, then major version 3) */
        if ((data[0] == 0x16 || data[0] == 0x15) && data[1] == 0x03) {
            cs_preamble_fail(conn, "server speaks TLS at once, not this protocol (use its "
                                   "implicit-TLS port or scheme, or leave out --starttls)");
            return -1;
        }
        cs_preamble_quote((const char *)data, len, CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
        cs_preamble_fail(conn, "not a MySQL greeting (\"%s\")", p->last);
        return -1;
    }
    size_t n = data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16;
    if (n == 0) {
        cs_preamble_fail(conn, "empty MySQL packet where the greeting belongs");
        return -1;
    }
    if (n > PACKET_MAX) {
        cs_preamble_fail(conn, "MySQL greeting of %zu bytes (the cap is %d)", n, PACKET_MAX);
        return -1;
    }
    if (len < PACKET_HEADER + n)
        return 0;
    if (data[4] == 0xff)
        on_error(conn, data + PACKET_HEADER, n);
    else
        on_greeting(conn, data + PACKET_HEADER, n);
    return conn->ended ? -1 : (long)(PACKET_HEADER + n);
}

CS_PREAMBLE_READER(mysql_read, cs_preamble_bytes, on_bytes)

const struct cs_probe cs_probe_mysql = {
    .name = "mysql",
    .default_port = 3306,
    .helptext = "MySQL and MariaDB, greeting then SSLRequest (mysql://)",
    .start = cs_preamble_start, /* the server speaks first */
    .on_read = mysql_read,
};
