/* FTP AUTH TLS (RFC 4217): read the 220 greeting, send AUTH TLS and wait
 * for its 234.  A reply may span lines (RFC 959, 4.2): the first line is
 * "CODE-", the last "CODE " with the same code, and the lines in between
 * are free text (servers usually repeat the code on them). */
#include <stdbool.h>
#include <stddef.h>

#include "probes/starttls.h"

enum { GREETING, AUTH_SENT };

/* One line of a reply: 0 while the reply goes on, 1 at its last line, -1
   once the connection has been ended.  p->tag keeps the reply's code. */
static int reply_line(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    bool more = false;
    int code = cs_preamble_reply_code(line, len, &more);
    if (p->lines == 0) {
        if (code < 0) {
            cs_preamble_fail(conn, "not an FTP reply (\"%s\")", p->last);
            return -1;
        }
        p->tag = code;
    } else if (code != p->tag || more) {
        code = -1; /* free text inside a multi-line reply */
    }
    if (cs_preamble_count_line(conn) < 0)
        return -1;
    if (p->lines == 1 ? more : code < 0)
        return 0;
    p->lines = 0;
    return 1;
}

static int on_line(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    int end = reply_line(conn, line, len);
    if (end <= 0)
        return end < 0;
    if (p->state == GREETING && p->tag == 120)
        return 0; /* "service ready in nnn minutes": the 220 follows */
    if (p->state == GREETING && p->tag == 220) {
        p->state = AUTH_SENT;
        return cs_preamble_say(conn, "AUTH TLS\r\n") < 0;
    }
    if (p->state == AUTH_SENT && p->tag == 234)
        return cs_preamble_go(conn);
    cs_preamble_refused(conn, line, len);
    return 1;
}

CS_PREAMBLE_READER(ftp_read, cs_preamble_lines, on_line)

const struct cs_probe cs_probe_ftp = {
    .name = "ftp",
    .default_port = 21,
    .helptext = "FTP, AUTH TLS after the greeting (ftp://)",
    .start = cs_preamble_start, /* the server speaks first */
    .on_read = ftp_read,
};
