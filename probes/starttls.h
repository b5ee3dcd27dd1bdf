/* What every STARTTLS probe shares: the bytes before TLS, bounded; the
 * reply to quote when the server refuses or goes quiet; the go-ahead that
 * hands the stream to the TLS driver.
 *
 * A STARTTLS probe (smtp.c, imap.c, ...) is a state machine over what the
 * server says.  Its start() calls cs_preamble_open and sends what the
 * protocol sends first (cs_preamble_start when the server speaks first);
 * its on_read() (CS_PREAMBLE_READER) passes the bytes to
 * cs_preamble_lines (a text protocol: one call per complete line) or
 * cs_preamble_bytes (a binary one: the probe says how much it consumed),
 * and its callbacks answer with cs_preamble_say, end the connection with
 * cs_preamble_refused / cs_preamble_fail, or return cs_preamble_go() for
 * the server's go-ahead.  Every failure reads "starttls: ...", quotes what the
 * server said (escaped, cut to CS_PREAMBLE_QUOTE characters) and never
 * lets a server make the probe read or keep more than the caps below. */
#ifndef CS_STARTTLS_H
#define CS_STARTTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/probe.h"

#define CS_PREAMBLE_LINE_MAX 4096    /* one line (or binary message) kept */
#define CS_PREAMBLE_TOTAL_MAX 65536  /* every byte before TLS, all replies */
#define CS_PREAMBLE_REPLY_LINES 1000 /* lines in one multi-line reply */
#define CS_PREAMBLE_QUOTE 120        /* characters of a server's words in a reason */

struct cs_preamble {
    char buf[CS_PREAMBLE_LINE_MAX]; /* the line or message being assembled */
    size_t len;
    size_t total;   /* bytes received before TLS */
    unsigned lines; /* lines in the reply being read (the probe resets it) */
    int state;      /* the probe's own */
    int tag;        /* the probe's own (a command counter, a flag set, ...) */
    bool offered;   /* the probe's own: the server offered STARTTLS */
    bool go;        /* cs_preamble_go was called: TLS starts after this message */
    char last[CS_PREAMBLE_QUOTE * 4 + 8]; /* the server's last line, quoted ("" none) */
};

/* Gives conn its preamble state (freed by cs_conn_release). */
void cs_preamble_open(struct cs_conn *conn);

/* The start of a probe whose server speaks first: the preamble state, and
   nothing sent (its cs_probe's .start). */
int cs_preamble_start(struct cs_conn *conn);

/* Defines a probe's on_read, `static int name(conn, buf, len)`, that hands
   the bytes to feed (cs_preamble_lines or cs_preamble_bytes) with the
   probe's callback: the one thing every STARTTLS probe's on_read does. */
#define CS_PREAMBLE_READER(name, feed, callback)                                                   \
    static int name(struct cs_conn *conn, const char *buf, size_t len)                             \
    {                                                                                              \
        return feed(conn, buf, len, callback);                                                     \
    }

/* A text protocol's bytes: each complete line (CRLF or LF, stripped) goes to
   on_line, which returns 0 to go on, or non-zero once it ended the
   connection or said go (cs_preamble_go).  A line longer than
   CS_PREAMBLE_LINE_MAX, a NUL byte, more than CS_PREAMBLE_TOTAL_MAX bytes in
   all, or TLS (a handshake record) instead of text end the connection with
   its reason.  Returns 0 (the probe's on_read returns it: every failure has
   been said). */
int cs_preamble_lines(struct cs_conn *conn, const char *buf, size_t len,
                      int (*on_line)(struct cs_conn *conn, const char *line, size_t len));

/* A binary protocol's bytes: kept (up to CS_PREAMBLE_LINE_MAX) and offered
   to on_bytes, which returns how many it consumed (0: it needs more; it is
   called again as more arrive), or -1 once it ended the connection.  After
   cs_preamble_go, the bytes not consumed are what came after the go-ahead.
   Returns 0, as cs_preamble_lines. */
int cs_preamble_bytes(struct cs_conn *conn, const char *buf, size_t len,
                      long (*on_bytes)(struct cs_conn *conn, const unsigned char *data,
                                       size_t len));

/* Counts one more line of a multi-line reply: 0, or -1 after ending the
   connection once a reply runs past CS_PREAMBLE_REPLY_LINES. */
int cs_preamble_count_line(struct cs_conn *conn);

/* The reply code of a line of a three-digit protocol (SMTP, FTP): 100-599,
   with *more saying whether the reply goes on ("250-"); -1 when the line
   starts no such reply. */
int cs_preamble_reply_code(const char *line, size_t len, bool *more);

/* Sends len bytes (a command); 0, or -1 after ending the connection. */
int cs_preamble_send(struct cs_conn *conn, const void *buf, size_t len);
/* Sends a NUL-terminated command. */
int cs_preamble_say(struct cs_conn *conn, const char *text);

/* Ends with `starttls: server refused: "LINE"` (line quoted). */
void cs_preamble_refused(struct cs_conn *conn, const char *line, size_t len);
/* Ends with "starttls: " and the formatted text. */
void cs_preamble_fail(struct cs_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The server said go (the line or message just read): TLS starts once the
   callback returns.  Bytes that came after the go-ahead, before the client's
   first TLS byte, can only be an injection (a man in the middle, or a server
   that buffers plaintext into TLS), so they end the connection instead.
   Returns 1, for on_line to return. */
int cs_preamble_go(struct cs_conn *conn);

/* Writes s[0..len) into out (size outlen) with control characters, non-ASCII
   bytes, '"' and '\' escaped (\xNN), cut to max characters with "..." when
   cut. */
void cs_preamble_quote(const char *s, size_t len, size_t max, char *out, size_t outlen);

/* The name to give the server for this connection: --ehlo if set (SMTP
   only), else conn->host; an IPv4 or IPv6 literal as an SMTP address
   literal ("[192.0.2.1]", "[IPv6:2001:db8::1]") when smtp is true. */
void cs_preamble_client_name(const struct cs_conn *conn, bool smtp, char *out, size_t outlen);

#endif
