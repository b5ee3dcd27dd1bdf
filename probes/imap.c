/* IMAP STARTTLS (RFC 3501 section 6.2.1, RFC 9051): read the greeting,
 * ask for the capabilities unless the greeting listed them, look for the
 * STARTTLS capability, send STARTTLS and wait for its tagged OK.  Every
 * command carries a tag of ours ("a1", "a2"); only a completion with the
 * tag of the command in flight ends it, so a line tagged for anything else
 * is never taken for the go-ahead. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probes/starttls.h"

enum { GREETING, CAPABILITY_SENT, STARTTLS_SENT };

/* Does the word w (NUL-terminated) start line[0..len), followed by a space
   or the end?  IMAP atoms are case-insensitive. */
static bool word_is(const char *line, size_t len, const char *w)
{
    size_t n = strlen(w);
    return len >= n && strncasecmp(line, w, n) == 0 && (len == n || line[n] == ' ');
}

/* Is STARTTLS among the space-separated capabilities in caps[0..len)
   (which ends at the end of the line or at a response code's ']')? */
static bool lists_starttls(const char *caps, size_t len)
{
    size_t i = 0;
    while (i < len && caps[i] != ']') {
        size_t start = i;
        while (i < len && caps[i] != ' ' && caps[i] != ']')
            i++;
        if (i - start == 8 && strncasecmp(caps + start, "STARTTLS", 8) == 0)
            return true;
        while (i < len && caps[i] == ' ')
            i++;
    }
    return false;
}

/* The capabilities of a status response's [CAPABILITY ...] code (text is
   what follows "OK "), or of an untagged "CAPABILITY ..." (text after "* "):
   true if they are listed there at all, with *offered set when STARTTLS is
   one of them. */
static bool capabilities(const char *text, size_t len, bool code, bool *offered)
{
    static const char code_word[] = "[CAPABILITY ", data_word[] = "CAPABILITY ";
    const char *w = code ? code_word : data_word;
    size_t n = strlen(w);
    if (len < n || strncasecmp(text, w, n) != 0)
        return false;
    *offered = lists_starttls(text + n, len - n);
    return true;
}

/* A line ending in a literal's announcement ("{12}", "{12+}"): the bytes
   that follow are no line of their own.  No reply before login carries one. */
static bool ends_in_literal(const char *line, size_t len)
{
    if (len < 3 || line[len - 1] != '}')
        return false;
    size_t i = len - 1;
    if (line[i - 1] == '+')
        i--;
    size_t digits = 0;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
        i--, digits++;
    return digits > 0 && i > 0 && line[i - 1] == '{';
}

/* An untagged line: "* " and something. */
static bool untagged(const char *line, size_t len)
{
    return len > 2 && line[0] == '*' && line[1] == ' ';
}

/* A line tagged with tag (case-sensitive, as the client chose it) and a
   status after it. */
static bool tagged(const char *line, size_t len, const char *tag)
{
    size_t n = strlen(tag);
    return len > n + 1 && strncmp(line, tag, n) == 0 && line[n] == ' ';
}

static int send_command(struct cs_conn *conn, const char *command)
{
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "a%d %s\r\n", ++conn->preamble->tag, command);
    conn->preamble->lines = 0;
    return cs_preamble_say(conn, cmd) < 0;
}

/* The greeting: "* OK" goes on (with STARTTLS at once when its capability
   code lists it), anything else turns the client away. */
static int on_greeting(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (!untagged(line, len) || !word_is(line + 2, len - 2, "OK")) {
        if (untagged(line, len))
            cs_preamble_refused(conn, line, len); /* BYE, PREAUTH, ... */
        else
            cs_preamble_fail(conn, "not an IMAP greeting (\"%s\")", p->last);
        return 1;
    }
    bool offered = false;
    size_t skip = len > 5 ? 5 : len;
    if (!capabilities(line + skip, len - skip, true, &offered)) {
        p->state = CAPABILITY_SENT;
        return send_command(conn, "CAPABILITY");
    }
    if (!offered) {
        cs_preamble_fail(conn, "server does not offer STARTTLS (\"%s\")", p->last);
        return 1;
    }
    p->state = STARTTLS_SENT;
    return send_command(conn, "STARTTLS");
}

/* An untagged line while a command runs: counted, read for capabilities;
   BYE ends it. */
static int on_untagged(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (cs_preamble_count_line(conn) < 0)
        return 1;
    if (word_is(line + 2, len - 2, "BYE")) {
        cs_preamble_refused(conn, line, len);
        return 1;
    }
    bool offered = false;
    if (p->state == CAPABILITY_SENT && (capabilities(line + 2, len - 2, false, &offered) ||
                                        (word_is(line + 2, len - 2, "OK") && len > 5 &&
                                         capabilities(line + 5, len - 5, true, &offered))))
        p->offered = p->offered || offered;
    return 0;
}

/* The tagged completion of the command in flight. */
static int on_completion(struct cs_conn *conn, const char *line, size_t len, size_t taglen)
{
    struct cs_preamble *p = conn->preamble;
    const char *status = line + taglen + 1;
    size_t n = len - taglen - 1;
    if (!word_is(status, n, "OK")) {
        cs_preamble_refused(conn, line, len); /* NO, BAD */
        return 1;
    }
    if (p->state == STARTTLS_SENT)
        return cs_preamble_go(conn);
    bool offered = false;
    if (n > 3 && capabilities(status + 3, n - 3, true, &offered))
        p->offered = p->offered || offered;
    if (!p->offered) {
        cs_preamble_fail(conn, "server does not offer STARTTLS (\"%s\")", p->last);
        return 1;
    }
    p->state = STARTTLS_SENT;
    return send_command(conn, "STARTTLS");
}

static int on_line(struct cs_conn *conn, const char *line, size_t len)
{
    struct cs_preamble *p = conn->preamble;
    if (ends_in_literal(line, len)) {
        cs_preamble_fail(
            conn, "server sent a literal, which no reply before login carries (\"%s\")", p->last);
        return 1;
    }
    if (p->state == GREETING)
        return on_greeting(conn, line, len);
    if (untagged(line, len))
        return on_untagged(conn, line, len);
    char tag[16];
    snprintf(tag, sizeof(tag), "a%d", p->tag);
    if (tagged(line, len, tag))
        return on_completion(conn, line, len, strlen(tag));
    if (word_is(line, len, "+"))
        cs_preamble_fail(conn, "unexpected continuation request (\"%s\")", p->last);
    else
        cs_preamble_fail(conn, "not a reply to a%d (\"%s\")", p->tag, p->last);
    return 1;
}

CS_PREAMBLE_READER(imap_read, cs_preamble_lines, on_line)

const struct cs_probe cs_probe_imap = {
    .name = "imap",
    .default_port = 143,
    .helptext = "IMAP, CAPABILITY then STARTTLS (imap://)",
    .start = cs_preamble_start, /* the server speaks first */
    .on_read = imap_read,
};
