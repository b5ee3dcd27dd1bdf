/* XMPP STARTTLS (RFC 6120 section 5), for clients (xmpp, port 5222) and
 * servers (xmpp-server, port 5269): the client opens the stream, the server
 * answers with its own stream header and <stream:features>; if these offer
 * <starttls/>, the client asks for it and waits for <proceed/>.
 *
 * The server's XML goes through expat as it arrives.  XMPP forbids DTDs, so
 * a DOCTYPE ends the connection before expat reads a declaration in it (no
 * entity is ever declared, let alone expanded); element depth and the bytes
 * of one unfinished token are capped; and everything expat allocates comes from an arena inside the
 * preamble block, so it is bounded, and freed with the connection however
 * that ends (a timeout or hang-up never reaches this file). */
#include <expat.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/starttls.h"
#include "scanner/util.h"

#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define SEP '|' /* between a namespace and a local name in expat's names */

#define XMPP_DEPTH_MAX 16                   /* the stream, a feature, its details... */
#define XMPP_TOKEN_MAX CS_PREAMBLE_LINE_MAX /* bytes of one unfinished tag */
#define XMPP_ARENA (256 * 1024)             /* all expat may allocate */

enum { HEADER, FEATURES, STARTTLS_SENT };
enum { TOP_OTHER, TOP_FEATURES, TOP_ERROR };

struct xmpp {
    struct cs_preamble base; /* first: the framework frees the block through it */
    XML_Parser xml;
    size_t fed;         /* bytes handed to expat */
    size_t mark;        /* where the last thing expat reported ends */
    size_t go_end;      /* where <proceed/> ends */
    bool proceed;       /* it came: the go-ahead, said once expat returns */
    int depth;          /* elements open */
    bool send_starttls; /* the features offered it: ask, once expat returns */
    bool sent_starttls;
    int top;        /* the stream's child open: TOP_... */
    bool in_text;   /* inside <stream:error>'s <text> */
    char cond[48];  /* the stream error's condition */
    char text[200]; /* its text, cut */
    size_t text_len;
    char features[120]; /* the features offered, by local name */
    char why[400];      /* a handler's reason to end (said once expat returns) */
    bool refused;       /* why is the server's own words */
    char pending[48];   /* the first bytes of the unfinished token */
    size_t pending_len;
    size_t arena_used;
    alignas(max_align_t) unsigned char arena[XMPP_ARENA];
};

/* --- expat's memory: a bump arena in the connection's block ----------------
   expat's allocator takes no context argument, so the block being parsed is
   named by a thread-local pointer, set around every expat call. */

static _Thread_local struct xmpp *arena_of;

#define ALIGN alignof(max_align_t)
#define HEAD ((sizeof(size_t) + ALIGN - 1) / ALIGN * ALIGN)

static void *arena_malloc(size_t n)
{
    struct xmpp *x = arena_of;
    size_t need = HEAD + (n + ALIGN - 1) / ALIGN * ALIGN;
    if (n > XMPP_ARENA || need > XMPP_ARENA - x->arena_used)
        return NULL;
    unsigned char *b = x->arena + x->arena_used;
    memcpy(b, &n, sizeof n);
    x->arena_used += need;
    return b + HEAD;
}

static size_t block_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - HEAD, sizeof n);
    return n;
}

/* Only the last block is given back (expat frees most of its blocks in the
   order it took them, or keeps them for reuse). */
static bool is_last(const struct xmpp *x, const void *p)
{
    size_t n = block_size(p);
    const unsigned char *end = (const unsigned char *)p + (n + ALIGN - 1) / ALIGN * ALIGN;
    return end == x->arena + x->arena_used;
}

static void arena_free(void *p)
{
    struct xmpp *x = arena_of;
    if (p && is_last(x, p))
        x->arena_used = (size_t)((unsigned char *)p - HEAD - x->arena);
}

static void *arena_realloc(void *p, size_t n)
{
    struct xmpp *x = arena_of;
    if (!p)
        return arena_malloc(n);
    size_t old = block_size(p);
    if (is_last(x, p)) {
        size_t start = (size_t)((unsigned char *)p - x->arena);
        if (n > XMPP_ARENA || (n + ALIGN - 1) / ALIGN * ALIGN > XMPP_ARENA - start)
            return NULL;
        memcpy((unsigned char *)p - HEAD, &n, sizeof n);
        x->arena_used = start + (n + ALIGN - 1) / ALIGN * ALIGN;
        return p;
    }
    void *q = arena_malloc(n);
    if (q)
        memcpy(q, p, old < n ? old : n);
    return q;
}

static const XML_Memory_Handling_Suite arena_suite = {arena_malloc, arena_realloc, arena_free};

/* --- what the server said ------------------------------------------------ */

/* expat's name "NAMESPACE|local" is ns's local? */
static bool is(const XML_Char *name, const char *ns, const char *local)
{
    size_t n = strlen(ns);
    return strncmp(name, ns, n) == 0 && name[n] == SEP && strcmp(name + n + 1, local) == 0;
}

static const char *local_name(const XML_Char *name)
{
    const char *sep = strrchr(name, SEP);
    return sep ? sep + 1 : name;
}

/* Ends parsing for a reason, said once expat returns (ending the connection
   here would free the arena expat is running in). */
static void stop(struct xmpp *x, bool refused, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void stop(struct xmpp *x, bool refused, const char *fmt, ...)
{
    if (x->why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
    x->refused = refused;
    XML_StopParser(x->xml, XML_FALSE);
}

/* Parsing has stopped: expat may still report the rest of a token. */
static bool stopped(const struct xmpp *x)
{
    return x->why[0] || x->proceed;
}

/* Notes where expat's current event ends in the stream, and, when quote is
   set, its bytes in p->last (what the server said last). */
static void event(struct xmpp *x, bool quote)
{
    int count = XML_GetCurrentByteCount(x->xml);
    size_t end = (size_t)XML_GetCurrentByteIndex(x->xml) + (size_t)(count > 0 ? count : 0);
    if (end > x->mark)
        x->mark = end;
    int off, size;
    const char *ctx = XML_GetInputContext(x->xml, &off, &size);
    if (quote && ctx && count > 0 && off + count <= size)
        cs_preamble_quote(ctx + off, (size_t)count, CS_PREAMBLE_QUOTE, x->base.last,
                          sizeof x->base.last);
}

static void add_feature(struct xmpp *x, const char *name)
{
    size_t n = strlen(x->features);
    snprintf(x->features + n, sizeof x->features - n, "%s%s", n ? ", " : "", name);
}

/* A child of the stream begins. */
static void top_start(struct xmpp *x, const XML_Char *name)
{
    x->top = is(name, NS_STREAMS, "error")      ? TOP_ERROR
             : is(name, NS_STREAMS, "features") ? TOP_FEATURES
                                                : TOP_OTHER;
}

/* Something inside a child of the stream begins (depth 3). */
static void inner_start(struct xmpp *x, const XML_Char *name)
{
    if (x->top == TOP_FEATURES && x->base.state == FEATURES) {
        add_feature(x, local_name(name));
        if (is(name, NS_TLS, "starttls"))
            x->base.offered = true;
    } else if (x->top == TOP_ERROR) {
        x->in_text = is(name, NS_ERRORS, "text");
        if (!x->in_text && !x->cond[0])
            snprintf(x->cond, sizeof x->cond, "%s", local_name(name));
    }
}

static void on_start(void *data, const XML_Char *name, const XML_Char **atts)
{
    struct xmpp *x = data;
    (void)atts;
    if (stopped(x))
        return;
    event(x, x->depth <= 1);
    if (++x->depth > XMPP_DEPTH_MAX)
        stop(x, false, "XML nested deeper than %d elements (\"%s\")", XMPP_DEPTH_MAX, x->base.last);
    else if (x->depth == 1 && !is(name, NS_STREAMS, "stream"))
        stop(x, false, "not an XMPP stream (\"%s\")", x->base.last);
    else if (x->depth == 1)
        x->base.state = FEATURES;
    else if (x->depth == 2)
        top_start(x, name);
    else if (x->depth == 3)
        inner_start(x, name);
}

static void features_end(struct xmpp *x)
{
    if (!x->base.offered) {
        stop(x, false, "server does not offer STARTTLS (stream features: %s)",
             x->features[0] ? x->features : "none");
        return;
    }
    x->base.state = STARTTLS_SENT;
    x->send_starttls = true;
}

/* A child of the stream is complete. */
static void top_end(struct xmpp *x, const XML_Char *name)
{
    if (x->top == TOP_ERROR)
        stop(x, true, "stream error %s%s%.*s", x->cond[0] ? x->cond : "(no condition)",
             x->text_len ? ": " : "", (int)x->text_len, x->text);
    else if (x->top == TOP_FEATURES && x->base.state == FEATURES)
        features_end(x);
    else if (x->base.state == STARTTLS_SENT && is(name, NS_TLS, "failure"))
        stop(x, true, "%s", x->base.last);
    else if (x->base.state == STARTTLS_SENT && is(name, NS_TLS, "proceed")) {
        /* the go-ahead: nothing after it may be read as the server's */
        x->go_end = x->mark;
        x->proceed = true;
        XML_StopParser(x->xml, XML_FALSE);
    }
}

static void on_end(void *data, const XML_Char *name)
{
    struct xmpp *x = data;
    if (stopped(x))
        return;
    event(x, false);
    x->depth--;
    if (x->depth == 0)
        stop(x, false, "server closed the XMPP stream (after \"%s\")", x->base.last);
    else if (x->depth == 1)
        top_end(x, name);
    else if (x->depth == 2)
        x->in_text = false;
}

static void on_text(void *data, const XML_Char *s, int len)
{
    struct xmpp *x = data;
    if (stopped(x))
        return;
    event(x, false);
    if (!x->in_text)
        return;
    size_t n = (size_t)len, room = sizeof x->text - x->text_len;
    if (n > room)
        n = room;
    memcpy(x->text + x->text_len, s, n);
    x->text_len += n;
}

/* XMPP forbids DTDs (RFC 6120 section 11.1): one is a hostile server, or
   no XMPP server at all; refused before expat reads its declarations. */
static void on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int has_internal_subset)
{
    struct xmpp *x = data;
    (void)sysid, (void)pubid, (void)has_internal_subset;
    if (stopped(x))
        return;
    event(x, false);
    stop(x, false, "server sent a DTD (<!DOCTYPE %.40s>), which XMPP forbids", name);
}

/* Comments, processing instructions, the XML declaration: read past. */
static void on_other(void *data, const XML_Char *s, int len)
{
    (void)s, (void)len;
    if (!stopped(data))
        event(data, false);
}

/* --- the probe ----------------------------------------------------------- */

/* s with XML's special characters escaped, for an attribute value. */
static void xml_escape(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *s && o + 7 < outlen; s++) {
        const char *e = *s == '&'    ? "&amp;"
                        : *s == '<'  ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '\'' ? "&apos;"
                        : *s == '"'  ? "&quot;"
                                     : NULL;
        if (e) {
            memcpy(out + o, e, strlen(e));
            o += strlen(e);
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

static XML_Parser new_parser(struct xmpp *x)
{
    arena_of = x;
    /* UTF-8 whatever the server declares: XMPP is UTF-8 only */
    XML_Parser xml = XML_ParserCreate_MM("UTF-8", &arena_suite, (const XML_Char[]){SEP, 0});
    if (!xml)
        return NULL;
    XML_SetUserData(xml, x);
    XML_SetElementHandler(xml, on_start, on_end);
    XML_SetCharacterDataHandler(xml, on_text);
    XML_SetStartDoctypeDeclHandler(xml, on_doctype);
    XML_SetDefaultHandlerExpand(xml, on_other);
    XML_SetParamEntityParsing(xml, XML_PARAM_ENTITY_PARSING_NEVER);
#if defined(CS_HAVE_EXPAT_REPARSE_DEFERRAL) || XML_MAJOR_VERSION > 2 ||                            \
    (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
    /* a complete <proceed/> is acted on when it arrives, not once more comes */
    XML_SetReparseDeferralEnabled(xml, XML_FALSE);
#endif
    return xml;
}

static int open_stream(struct cs_conn *conn, const char *ns, const char *extra)
{
    struct xmpp *x = cs_xmalloc(sizeof *x);
    memset(x, 0, offsetof(struct xmpp, arena));
    conn->preamble = &x->base;
    cs_preamble_open(conn);
    x->xml = new_parser(x);
    if (!x->xml)
        return -1;
    char name[300], to[2048], header[2400];
    cs_preamble_client_name(conn, false, name, sizeof name);
    xml_escape(name, to, sizeof to);
    snprintf(header, sizeof header,
             "<?xml version='1.0'?><stream:stream xmlns='%s' "
             "xmlns:stream='" NS_STREAMS "'%s to='%s' version='1.0'>",
             ns, extra, to);
    return cs_preamble_say(conn, header) < 0 ? -1 : 0;
}

static int xmpp_start(struct cs_conn *conn)
{
    return open_stream(conn, "jabber:client", "");
}

/* Server to server: the dialback namespace declared, as servers that
   authenticate peers by dialback (XEP-0220) expect of a stream. */
static int xmpp_server_start(struct cs_conn *conn)
{
    return open_stream(conn, "jabber:server", " xmlns:db='jabber:server:dialback'");
}

/* Keeps the first bytes of a token that did not end in this chunk, to
   quote it if it grows too long. */
static void note_pending(struct xmpp *x, const unsigned char *data, size_t len)
{
    size_t pending = x->fed - x->mark, from = 0;
    if (pending == 0)
        return;
    if (pending <= len) { /* it began in this chunk */
        x->pending_len = 0;
        from = len - pending;
    }
    size_t n = len - from, room = sizeof x->pending - x->pending_len;
    if (n > room)
        n = room;
    memcpy(x->pending + x->pending_len, data + from, n);
    x->pending_len += n;
}

/* expat could not go on: the stream is not (well-formed) XML. */
static long not_xml(struct cs_conn *conn, struct xmpp *x, const unsigned char *data, size_t len,
                    size_t start)
{
    enum XML_Error e = XML_GetErrorCode(x->xml);
    if (e == XML_ERROR_NO_MEMORY) {
        cs_preamble_fail(conn, "server XML needs more than %d KiB to parse (last \"%s\")",
                         XMPP_ARENA / 1024, x->base.last);
        return -1;
    }
    size_t at = (size_t)XML_GetCurrentByteIndex(x->xml);
    char q[CS_PREAMBLE_QUOTE * 4 + 8] = "";
    if (at >= start && at < start + len)
        cs_preamble_quote((const char *)data + (at - start), start + len - at, 40, q, sizeof q);
    cs_preamble_fail(conn, "not XMPP: XML %s at byte %zu (\"%s\")", XML_ErrorString(e), at, q);
    return -1;
}

static long on_bytes(struct cs_conn *conn, const unsigned char *data, size_t len)
{
    struct xmpp *x = (struct xmpp *)conn->preamble;
    size_t start = x->fed;
    if (start == 0 && len >= 2 && data[0] == 0x16 && data[1] == 0x03) {
        cs_preamble_fail(conn, "server speaks TLS at once, not this protocol (use its "
                               "implicit-TLS port, or leave out --starttls)");
        return -1;
    }
    arena_of = x;
    x->fed += len;
    enum XML_Status st = XML_Parse(x->xml, (const char *)data, (int)len, XML_FALSE);
    if (x->send_starttls && !x->sent_starttls) {
        x->sent_starttls = true;
        if (cs_preamble_say(conn, "<starttls xmlns='" NS_TLS "'/>") < 0)
            return -1;
    }
    if (x->proceed) {
        cs_preamble_go(conn);
        return (long)(x->go_end - start); /* what follows is refused as injection */
    }
    if (x->why[0]) {
        if (x->refused)
            cs_preamble_refused(conn, x->why, strlen(x->why));
        else
            cs_preamble_fail(conn, "%s", x->why);
        return -1;
    }
    if (st != XML_STATUS_OK)
        return not_xml(conn, x, data, len, start);
    note_pending(x, data, len);
    if (x->fed - x->mark > XMPP_TOKEN_MAX) {
        char q[CS_PREAMBLE_QUOTE * 4 + 8];
        cs_preamble_quote(x->pending, x->pending_len, 40, q, sizeof q);
        cs_preamble_fail(conn, "server XML token longer than %d bytes (\"%s\")", XMPP_TOKEN_MAX, q);
        return -1;
    }
    return (long)len;
}

CS_PREAMBLE_READER(xmpp_read, cs_preamble_bytes, on_bytes)

const struct cs_probe cs_probe_xmpp = {
    .name = "xmpp",
    .default_port = 5222,
    .helptext = "XMPP client-to-server, <starttls/> (xmpp://)",
    .start = xmpp_start,
    .on_read = xmpp_read,
};

const struct cs_probe cs_probe_xmpp_server = {
    .name = "xmpp-server",
    .default_port = 5269,
    .helptext = "XMPP server-to-server, as xmpp (xmpp-server://)",
    .start = xmpp_server_start,
    .on_read = xmpp_read,
};
