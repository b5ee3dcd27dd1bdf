/* PostgreSQL (protocol 3.0, "SSL Session Encryption"): the client speaks
 * first, an SSLRequest (Int32 length 8, Int32 code 80877103), and the
 * server answers with one byte: 'S' to go ahead, 'N' when it has SSL turned
 * off, or (a server older than SSL support, or one that fails the request)
 * an ErrorResponse.  Nothing may follow the 'S' before the client's
 * ClientHello: bytes there would be read as if they came over TLS
 * (CVE-2021-23214, CVE-2021-23222), so the shared preamble refuses them. */
#include <stdio.h>
#include <string.h>

#include "probes/starttls.h"

#define SSL_REQUEST_CODE 80877103u

/* The 8-byte SSLRequest. */
static int send_ssl_request(struct cs_conn *conn)
{
    unsigned char msg[8] = {0, 0, 0, 8};
    uint32_t code = SSL_REQUEST_CODE;
    for (int i = 0; i < 4; i++)
        msg[4 + i] = (unsigned char)(code >> (24 - 8 * i));
    return cs_preamble_send(conn, msg, sizeof msg);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The 'M' (message) field of a complete ErrorResponse body (fields of a type
   byte and a NUL-terminated string, then a 0 byte), found without reading
   past len: 0 and *msg set (NULL when there is none), or -1 if malformed. */
static int error_message(const unsigned char *body, size_t len, const char **msg, size_t *msg_len)
{
    *msg = NULL;
    size_t i = 0;
    while (i < len && body[i] != 0) {
        unsigned char type = body[i++];
        const unsigned char *end = memchr(body + i, 0, len - i);
        if (end == NULL)
            return -1;
        if (type == 'M') {
            *msg = (const char *)body + i;
            *msg_len = (size_t)(end - (body + i));
        }
        i = (size_t)(end - body) + 1;
    }
    return i < len ? 0 : -1; /* the terminating 0 must be there */
}

/* An ErrorResponse: 'E', Int32 length (itself included), the fields.  A
   server too old for protocol 3.0 sends 'E' and one NUL-terminated text
   instead: its first bytes read as a length far over any cap, and as text. */
static long on_error(struct cs_conn *conn, const unsigned char *data, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (len < 5)
        return 0;
    uint32_t n = get32(data + 1);
    bool text = true;
    for (int i = 1; i < 5; i++)
        text = text && data[i] >= 0x20 && data[i] < 0x7f;
    if (text) {
        const unsigned char *end = memchr(data + 1, 0, len - 1);
        if (end == NULL)
            return 0; /* the preamble caps how long it may grow */
        cs_preamble_refused(conn, (const char *)data + 1, (size_t)(end - (data + 1)));
        return -1;
    }
    if (n < 5 || n > CS_PREAMBLE_LINE_MAX - 1) {
        cs_preamble_fail(conn, "PostgreSQL ErrorResponse of %u bytes (the cap is %d)", n,
                         CS_PREAMBLE_LINE_MAX - 1);
        return -1;
    }
    if (len < 1 + (size_t)n)
        return 0;
    const char *msg;
    size_t msg_len = 0;
    if (error_message(data + 5, n - 4, &msg, &msg_len) < 0) {
        cs_preamble_fail(conn, "malformed PostgreSQL ErrorResponse");
        return -1;
    }
    if (msg == NULL) {
        cs_preamble_fail(conn, "server refused SSLRequest with an ErrorResponse and no message");
        return -1;
    }
    cs_preamble_quote(msg, msg_len, CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
    cs_preamble_refused(conn, msg, msg_len);
    return -1;
}

static long on_bytes(struct cs_conn *conn, const unsigned char *data, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    switch (data[0]) {
    case 'S':
        snprintf(p->last, sizeof(p->last), "S");
        cs_preamble_go(conn);
        return 1;
    case 'N':
        snprintf(p->last, sizeof(p->last), "N");
        cs_preamble_fail(conn, "server refused: \"N\" (SSL not enabled)");
        return -1;
    case 'E':
        return on_error(conn, data, len);
    default:
        break;
    }
    /* a TLS record (handshake 22 or alert 21, then major version 3) */
    if ((data[0] == 0x16 || data[0] == 0x15) && len < 2)
        return 0;
    if ((data[0] == 0x16 || data[0] == 0x15) && data[1] == 0x03) {
        cs_preamble_fail(conn, "server speaks TLS at once, not this protocol (use its "
                               "implicit-TLS port or scheme, or leave out --starttls)");
        return -1;
    }
    cs_preamble_quote((const char *)data, len, CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
    cs_preamble_fail(conn, "not a PostgreSQL reply to SSLRequest (\"%s\")", p->last);
    return -1;
}

static int postgres_start(struct cs_conn *conn)
{
    cs_preamble_open(conn);
    send_ssl_request(conn); /* a failure has ended the connection */
    return 0;
}

CS_PREAMBLE_READER(postgres_read, cs_preamble_bytes, on_bytes)

const struct cs_probe cs_probe_postgres = {
    .name = "postgres",
    .default_port = 5432,
    .helptext = "PostgreSQL, SSLRequest (postgres://, postgresql://)",
    .start = postgres_start,
    .on_read = postgres_read,
};
