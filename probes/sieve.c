/* ManageSieve STARTTLS (RFC 5804 sections 1.7 and 2.2): the server greets
 * with its capabilities, one per line ("IMPLEMENTATION" "...", "STARTTLS",
 * ...), ending in OK; if STARTTLS is among them, send STARTTLS and wait for
 * its OK.
 *
 * A string may be sent as a literal, "{n}" at the end of a line and then n
 * bytes that may hold line ends of their own, so the bytes are read as
 * messages (cs_preamble_bytes), not lines: a reply line is taken whole,
 * literals and all, once it has arrived (a line and its literals stay under
 * CS_PREAMBLE_LINE_MAX bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probes/starttls.h"

enum { GREETING, STARTTLS_SENT };

/* How a literal's announcement "{n}" / "{n+}" + CRLF at d[0..len) reads:
   its length through the line end into *skip and n into *n: 1; 0 if more
   bytes are needed to tell; -1 when it is no announcement. */
static int literal_at(const unsigned char *d, size_t len, size_t *skip, size_t *n)
{
    size_t i = 1, v = 0;
    for (; i < len && d[i] >= '0' && d[i] <= '9'; i++)
        if ((v = v * 10 + (size_t)(d[i] - '0')) > CS_PREAMBLE_TOTAL_MAX)
            v = CS_PREAMBLE_TOTAL_MAX + 1; /* too long to read, however long */
    if (i == 1 && i < len)
        return -1;
    if (i < len && d[i] == '+')
        i++;
    if (i < len && d[i] != '}')
        return -1;
    if (++i < len && d[i] == '\r')
        i++;
    if (i >= len)
        return 0;
    if (d[i] != '\n')
        return -1;
    *skip = i + 1;
    *n = v;
    return 1;
}

/* Fails, quoting d[0..len) as the server's last words. */
static long fail_quoting(struct cs_conn *conn, const unsigned char *d, size_t len, const char *what)
{
    struct cs_preamble *p = conn->preamble;
    cs_preamble_quote((const char *)d, len, CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
    cs_preamble_fail(conn, "%s (\"%s\")", what, p->last);
    return -1;
}

/* The length of the reply line at d[0..len), its line end and literals
   included: > 0; 0 while incomplete; -1 once the connection ended. */
static long line_length(struct cs_conn *conn, const unsigned char *d, size_t len)
{
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        if (d[i] == '\0')
            return fail_quoting(conn, d, i, "NUL byte in the server's reply");
        if (quoted) {
            if (d[i] == '\\' && i + 1 < len && d[i + 1] != '\r' && d[i + 1] != '\n')
                i++;
            else if (d[i] == '"')
                quoted = false;
            else if (d[i] == '\r' || d[i] == '\n')
                return fail_quoting(conn, d, i, "line end inside a quoted string");
            continue;
        }
        if (d[i] == '"')
            quoted = true;
        else if (d[i] == '\n')
            return (long)i + 1;
        else if (d[i] == '{') {
            size_t skip, n;
            int r = literal_at(d + i, len - i, &skip, &n);
            if (r == 0)
                return 0;
            if (r > 0 && n > CS_PREAMBLE_LINE_MAX)
                return fail_quoting(conn, d, i + skip,
                                    "server literal longer than the probe reads");
            if (r > 0)
                i += skip + n - 1; /* the loop's i++ steps past the literal */
        }
    }
    return 0;
}

/* The first string of a capability line (quoted or a literal) is name:
   "STARTTLS" (any case)? */
static bool names_starttls(const unsigned char *d, size_t len)
{
    static const char want[] = "STARTTLS";
    size_t n = sizeof(want) - 1, skip, lit;
    if (d[0] == '"')
        return len >= n + 2 && strncasecmp((const char *)d + 1, want, n) == 0 && d[n + 1] == '"';
    if (literal_at(d, len, &skip, &lit) == 1)
        return lit == n && len >= skip + n && strncasecmp((const char *)d + skip, want, n) == 0;
    return false;
}

/* Does the line start with the response atom w, then a space or the end? */
static bool response_is(const unsigned char *d, size_t len, const char *w)
{
    size_t n = strlen(w);
    return len >= n && strncasecmp((const char *)d, w, n) == 0 && (len == n || d[n] == ' ');
}

/* One whole reply line d[0..len), its line end stripped. */
static int on_reply_line(struct cs_conn *conn, const unsigned char *d, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (len > 0 && (d[0] == '"' || d[0] == '{')) {
        if (cs_preamble_count_line(conn) < 0)
            return -1;
        if (p->state == GREETING && names_starttls(d, len))
            p->offered = true;
        return 0;
    }
    if (response_is(d, len, "OK")) {
        if (p->state == STARTTLS_SENT)
            return cs_preamble_go(conn);
        if (!p->offered) {
            cs_preamble_fail(conn, "server does not offer STARTTLS (\"%s\")", p->last);
            return -1;
        }
        p->state = STARTTLS_SENT;
        p->lines = 0;
        return cs_preamble_say(conn, "STARTTLS\r\n");
    }
    if (response_is(d, len, "NO") || response_is(d, len, "BYE"))
        cs_preamble_refused(conn, (const char *)d, len);
    else
        cs_preamble_fail(conn, "not a ManageSieve reply (\"%s\")", p->last);
    return -1;
}

static long on_bytes(struct cs_conn *conn, const unsigned char *d, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (p->state == GREETING && p->lines == 0 && len >= 2 && d[0] == 0x16 && d[1] == 0x03) {
        cs_preamble_fail(conn, "server speaks TLS at once, not this protocol (leave out "
                               "--starttls or the sieve:// scheme)");
        return -1;
    }
    long n = line_length(conn, d, len);
    if (n <= 0)
        return n;
    size_t text = (size_t)n - 1;
    if (text > 0 && d[text - 1] == '\r')
        text--;
    cs_preamble_quote((const char *)d, text, CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
    return on_reply_line(conn, d, text) < 0 ? -1 : n;
}

CS_PREAMBLE_READER(sieve_read, cs_preamble_bytes, on_bytes)

const struct cs_probe cs_probe_sieve = {
    .name = "sieve",
    .default_port = 4190,
    .helptext = "ManageSieve, STARTTLS after the greeting (sieve://)",
    .start = cs_preamble_start, /* the server speaks first */
    .on_read = sieve_read,
};
