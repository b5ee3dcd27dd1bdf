/* SMTP STARTTLS (RFC 3207), for relays (smtp, port 25) and mail submission
 * (submission, port 587): read the 220 greeting, EHLO, look for STARTTLS
 * among the extensions, send STARTTLS and wait for its 220.  Every reply may
 * span lines ("250-..."), each line carrying the same code. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probes/starttls.h"

enum { GREETING, EHLO_SENT, STARTTLS_SENT };

/* Does this EHLO line announce the STARTTLS extension? */
static bool offers_starttls(const char *line, size_t len)
{
    const char *kw = line + 4;
    size_t n = len > 4 ? len - 4 : 0;
    return n >= 8 && strncasecmp(kw, "STARTTLS", 8) == 0 && (n == 8 || kw[8] == ' ');
}

static int send_ehlo(struct cs_conn *conn)
{
    char name[300], cmd[320];
    cs_preamble_client_name(conn, true, name, sizeof(name));
    snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", name);
    return cs_preamble_say(conn, cmd);
}

static int on_line(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    bool more;
    int code = cs_preamble_reply_code(line, len, &more);
    if (code < 0 || (p->lines > 0 && code != p->tag)) {
        cs_preamble_fail(conn, "not an SMTP reply (\"%s\")", p->last);
        return 1;
    }
    if (p->lines == 0)
        p->tag = code; /* a multi-line reply keeps its code */
    if (cs_preamble_count_line(conn) < 0)
        return 1;
    if (p->state == EHLO_SENT && code == 250 && p->lines > 1 && offers_starttls(line, len))
        p->offered = true;
    if (more)
        return 0;
    p->lines = 0;
    switch (p->state) {
    case GREETING:
        if (code != 220)
            break;
        p->state = EHLO_SENT;
        return send_ehlo(conn) < 0;
    case EHLO_SENT:
        if (code != 250)
            break;
        if (!p->offered) {
            cs_preamble_fail(conn, "server does not offer STARTTLS (\"%s\")", p->last);
            return 1;
        }
        p->state = STARTTLS_SENT;
        return cs_preamble_say(conn, "STARTTLS\r\n") < 0;
    default:
        if (code == 220)
            return cs_preamble_go(conn);
        break;
    }
    cs_preamble_refused(conn, line, len);
    return 1;
}

CS_PREAMBLE_READER(smtp_read, cs_preamble_lines, on_line)

const struct cs_probe cs_probe_smtp = {
    .name = "smtp",
    .default_port = 25,
    .helptext = "SMTP relay, EHLO then STARTTLS (smtp://)",
    .start = cs_preamble_start, /* the server speaks first */
    .on_read = smtp_read,
};

const struct cs_probe cs_probe_submission = {
    .name = "submission",
    .default_port = 587,
    .helptext = "mail submission, as smtp (submission://)",
    .start = cs_preamble_start, /* the server speaks first */
    .on_read = smtp_read,
};
