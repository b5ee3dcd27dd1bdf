/* POP3 STARTTLS (RFC 2595 section 4, RFC 2449): read the +OK greeting,
 * ask CAPA for the capability list (multi-line, ending in "."), look for
 * STLS, send STLS and wait for its +OK.  A server that knows no CAPA
 * (-ERR) may still know STLS: it is asked anyway. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probes/starttls.h"

enum { GREETING, CAPA_SENT, CAPA_LIST, STLS_SENT };

/* Does line[0..len) start with the word w, followed by a space or the end? */
static bool word_is(const char *line, size_t len, const char *w)
{
    size_t n = strlen(w);
    return len >= n && strncasecmp(line, w, n) == 0 && (len == n || line[n] == ' ');
}

/* One line of the CAPA list (a leading '.' un-stuffed); "." ends it. */
static int on_capa_line(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (len == 1 && line[0] == '.') {
        if (!p->offered) {
            cs_preamble_fail(conn, "server does not offer STARTTLS (no STLS in its CAPA list)");
            return 1;
        }
        p->state = STLS_SENT;
        return cs_preamble_say(conn, "STLS\r\n") < 0;
    }
    if (cs_preamble_count_line(conn) < 0)
        return 1;
    if (len > 1 && line[0] == '.')
        line++, len--;
    if (word_is(line, len, "STLS"))
        p->offered = true;
    return 0;
}

static int on_line(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (p->state == CAPA_LIST)
        return on_capa_line(conn, line, len);
    bool ok = word_is(line, len, "+OK");
    if (!ok && !word_is(line, len, "-ERR")) {
        cs_preamble_fail(conn, "not a POP3 reply (\"%s\")", p->last);
        return 1;
    }
    switch (p->state) {
    case GREETING:
        if (!ok)
            break;
        p->state = CAPA_SENT;
        return cs_preamble_say(conn, "CAPA\r\n") < 0;
    case CAPA_SENT:
        p->lines = 0;
        p->state = ok ? CAPA_LIST : STLS_SENT;
        return ok ? 0 : cs_preamble_say(conn, "STLS\r\n") < 0;
    default:
        if (ok)
            return cs_preamble_go(conn);
        break;
    }
    cs_preamble_refused(conn, line, len);
    return 1;
}

CS_PREAMBLE_READER(pop3_read, cs_preamble_lines, on_line)

const struct cs_probe cs_probe_pop3 = {
    .name = "pop3",
    .default_port = 110,
    .helptext = "POP3, CAPA then STLS (pop3://)",
    .start = cs_preamble_start, /* the server speaks first */
    .on_read = pop3_read,
};
