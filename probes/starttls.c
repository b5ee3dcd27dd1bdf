/* The STARTTLS preamble every text or binary protocol shares (starttls.h). */
#include "probes/starttls.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/util.h"

void cs_preamble_open(struct cs_conn *conn)
{
    if (!conn->preamble)
        conn->preamble = cs_xcalloc(1, sizeof(*conn->preamble));
}

int cs_preamble_start(struct cs_conn *conn)
{
    cs_preamble_open(conn);
    return 0;
}

void cs_preamble_quote(const char *s, size_t len, size_t max, char *out, size_t outlen)
{
    size_t o = 0, shown = 0;
    if (outlen == 0)
        return;
    for (size_t i = 0; i < len && o + 8 < outlen; i++) {
        if (shown == max) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02X", c);
        else
            out[o++] = (char)c;
        shown++;
    }
    out[o] = '\0';
}

void cs_preamble_fail(struct cs_conn *conn, const char *fmt, ...)
{
    char why[sizeof(conn->preamble->last) + 256] = "starttls: ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + 10, sizeof(why) - 10, fmt, ap);
    va_end(ap);
    cs_conn_end(conn, why);
}

void cs_preamble_refused(struct cs_conn *conn, const char *line, size_t len)
{
    char q[sizeof(conn->preamble->last)];
    cs_preamble_quote(line, len, CS_PREAMBLE_QUOTE, q, sizeof(q));
    cs_preamble_fail(conn, "server refused: \"%s\"", q);
}

int cs_preamble_reply_code(const char *line, size_t len, bool *more)
{
    if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9')
        return -1;
    if (len > 3 && line[3] != '-' && line[3] != ' ')
        return -1;
    *more = len > 3 && line[3] == '-';
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

int cs_preamble_send(struct cs_conn *conn, const void *buf, size_t len)
{
    int rc = conn->write(conn, buf, len);
    if (rc < 0) {
        cs_preamble_fail(conn, "cannot send: %s", cs_strerror(rc));
        return -1;
    }
    return 0;
}

int cs_preamble_say(struct cs_conn *conn, const char *text)
{
    return cs_preamble_send(conn, text, strlen(text));
}

int cs_preamble_count_line(struct cs_conn *conn)
{
    if (++conn->preamble->lines <= CS_PREAMBLE_REPLY_LINES)
        return 0;
    cs_preamble_fail(conn, "reply longer than %d lines (last \"%s\")", CS_PREAMBLE_REPLY_LINES,
                     conn->preamble->last);
    return -1;
}

int cs_preamble_go(struct cs_conn *conn)
{
    conn->preamble->go = true;
    return 1;
}

/* After the go-ahead (consumed up to it): TLS, unless more bytes came. */
static void start_tls(struct cs_conn *conn, size_t extra)
{
    if (extra) {
        cs_preamble_fail(conn,
                         "server sent %zu byte%s after its go-ahead (\"%s\"), before TLS "
                         "(plaintext injection?)",
                         extra, extra == 1 ? "" : "s", conn->preamble->last);
        return;
    }
    if (cs__tls_start(conn) < 0)
        cs_conn_end(conn, "handshake: cannot start TLS");
}

/* Counts len more bytes against the total cap: 0, or -1 once ended. */
static int count_bytes(struct cs_conn *conn, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    p->total += len;
    if (p->total <= CS_PREAMBLE_TOTAL_MAX)
        return 0;
    cs_preamble_fail(conn, "server sent more than %d bytes before TLS (last \"%s\")",
                     CS_PREAMBLE_TOTAL_MAX, p->last);
    return -1;
}

/* Text was expected: a TLS handshake record (22, then major version 3)
   means the port speaks TLS from the first byte. */
static bool looks_like_tls(const char *buf, size_t len)
{
    return len >= 2 && buf[0] == 0x16 && buf[1] == 0x03;
}

int cs_preamble_lines(struct cs_conn *conn, const char *buf, size_t len,
                      int (*on_line)(struct cs_conn *conn, const char *line, size_t len))
{
    struct cs_preamble *p = conn->preamble;
    if (p->total == 0 && p->len == 0 && looks_like_tls(buf, len)) {
        cs_preamble_fail(conn, "server speaks TLS at once, not this protocol (use its "
                               "implicit-TLS port or scheme, or leave out --starttls)");
        return 0;
    }
    if (count_bytes(conn, len) < 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\0') {
            cs_preamble_quote(p->buf, p->len, CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
            cs_preamble_fail(conn, "NUL byte in the server's reply (\"%s\")", p->last);
            return 0;
        }
        if (c != '\n') {
            if (p->len == sizeof(p->buf)) {
                cs_preamble_quote(p->buf, p->len, 40, p->last, sizeof(p->last));
                cs_preamble_fail(conn, "server line longer than %d bytes (\"%s\")",
                                 CS_PREAMBLE_LINE_MAX, p->last);
                return 0;
            }
            p->buf[p->len++] = c;
            continue;
        }
        size_t n = p->len;
        if (n && p->buf[n - 1] == '\r')
            n--;
        p->len = 0;
        cs_preamble_quote(p->buf, n, CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
        /* once the connection has ended, p may be gone (the engine releases
           the conn in its done callback): conn->ended is read first */
        if (on_line(conn, p->buf, n) != 0 || conn->ended) {
            if (!conn->ended && p->go)
                start_tls(conn, len - i - 1);
            return 0;
        }
    }
    return 0;
}

int cs_preamble_bytes(struct cs_conn *conn, const char *buf, size_t len,
                      long (*on_bytes)(struct cs_conn *conn, const unsigned char *data, size_t len))
{
    struct cs_preamble *p = conn->preamble;
    if (count_bytes(conn, len) < 0)
        return 0;
    while (len > 0) {
        size_t take = sizeof(p->buf) - p->len;
        if (take == 0) {
            cs_preamble_fail(conn, "server message longer than %d bytes", CS_PREAMBLE_LINE_MAX);
            return 0;
        }
        if (take > len)
            take = len;
        memcpy(p->buf + p->len, buf, take);
        p->len += take;
        buf += take;
        len -= take;
        for (;;) {
            long used = on_bytes(conn, (const unsigned char *)p->buf, p->len);
            if (conn->ended)
                return 0;
            if (used < 0) {
                cs_preamble_fail(conn, "unexpected reply");
                return 0;
            }
            if ((size_t)used > p->len)
                used = (long)p->len;
            memmove(p->buf, p->buf + used, p->len - (size_t)used);
            p->len -= (size_t)used;
            if (p->go) {
                start_tls(conn, p->len + len);
                return 0;
            }
            if (used == 0 || p->len == 0)
                break;
        }
    }
    return 0;
}

void cs_preamble_client_name(const struct cs_conn *conn, bool smtp, char *out, size_t outlen)
{
    const char *name = smtp && conn->ehlo ? conn->ehlo : conn->host ? conn->host : "localhost";
    unsigned char addr[16];
    if (smtp && !conn->ehlo && inet_pton(AF_INET, name, addr) == 1)
        snprintf(out, outlen, "[%s]", name);
    else if (smtp && !conn->ehlo && inet_pton(AF_INET6, name, addr) == 1)
        snprintf(out, outlen, "[IPv6:%s]", name);
    else
        snprintf(out, outlen, "%s", name);
}
