/* Target input: positional arguments and -f files, parsed and validated one
 * line at a time as the scan asks for more (nothing is read ahead), with
 * duplicates (same host, port and SNI) dropped through a set of 8-byte
 * digests.  A line that is an address range or a port list (ranges.h) is
 * walked one target at a time; a range is remembered as a whole, not
 * address by address, so that its size costs no memory. */
#ifndef CS_TARGETS_H
#define CS_TARGETS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "scanner/options.h"

struct cs_target {
    /* The name resolved, sent as SNI and checked against the certificate:
       as named, but an internationalised name in its xn-- A-label form; an
       IPv6 literal without brackets. */
    char *host;
    char *unicode; /* an internationalised name as written (UTF-8,
                                the record's host); NULL when host is as named */
    uint16_t port;
    char *sni;         /* NULL: none (IP literal without --sni) */
    int family;        /* 0 for a name, AF_INET or AF_INET6 for a literal */
    const char *probe; /* the probe its URL scheme names ("tls" for https://, ...;
                                a name in the probe registry), or NULL: the scan's */
    /* For a bad line: the reason ("FILE:LINE: why"), and host holds the
       escaped line text cut to 253 characters; port_known says whether port
       was parsed. */
    char *bad;
    bool port_known;
    char *address;           /* connect here instead of resolving (an inventory's address
                                column: an IP literal without brackets), or NULL */
    struct cs_labels labels; /* name=value labels of its line or row, carried to the record */
};

/* Label caps: a name is 1-64 of [A-Za-z0-9_.-]; a value at most 1024 bytes;
   a target at most 32 labels; a scan at most 256 label names. */
#define CS_LABEL_NAME_MAX 64
#define CS_LABEL_VALUE_MAX 1024
#define CS_LABELS_MAX 32
#define CS_LABEL_NAMES_MAX 256

struct cs_targets;

/* What the reader has to say as it reads: a bad line ("FILE:LINE: why", the
   same text as the bad record's reason) or an input that failed part-way
   ("FILE: why; what is lost (what to do)").  One line each, no newline. */
enum cs_notice { CS_NOTICE_BAD_LINE, CS_NOTICE_INPUT, CS_NOTICE_LABEL };
/* CS_NOTICE_LABEL: a label name first met after the report columns were
   fixed (cs_targets_label_names), "FILE:LINE: label 'NAME' ...": a warning. */
/* Called on the thread that reads (the engine's intake thread, during a
   scan), one notice at a time per reader; line is only borrowed. */
typedef void (*cs_notice_fn)(void *arg, enum cs_notice kind, const char *line);

/* Opens every -f file now, so that an unreadable one is known before any
   probe starts; returns NULL and "FILE: why (what to do)" in err (exit 66). */
struct cs_targets *cs_targets_open(const struct cs_options *o, char *err, size_t errlen);
/* Where notices go (none are said before this is called). */
void cs_targets_on_notice(struct cs_targets *ts, cs_notice_fn fn, void *arg);
/* The next target (of this shard, with --shard K/N): 1 and *t filled (free
   with cs_target_free), or 0 at the end. */
int cs_targets_next(struct cs_targets *ts, struct cs_target *t);
void cs_target_free(struct cs_target *t);
/* A copy of src that owns its own strings (free it with cs_target_free). */
void cs_target_copy(struct cs_target *dst, const struct cs_target *src);
/* Distinct targets read so far (bad lines included); with --shard, those of
   every shard, so that an input with targets is never "no target at all". */
uint64_t cs_targets_count(const struct cs_targets *ts);
/* Bad lines seen so far (with --shard, this shard's). */
uint64_t cs_targets_bad(const struct cs_targets *ts);
/* Targets files that could not be read to their end (a read error part-way,
   a directory): each was a CS_NOTICE_INPUT, and its remaining lines are not
   targets.  The scan goes on with the next file; the caller exits 66. */
unsigned cs_targets_failed(const struct cs_targets *ts);
/* Makes a read in progress (another thread's cs_targets_next waiting on a
   pipe) give up within 100 ms, and every later one end at once. */
void cs_targets_abort(struct cs_targets *ts);
void cs_targets_close(struct cs_targets *ts);

/* The label names known now, in first-seen order (copied into names, which
   the caller frees): every CSV inventory's header and every label of a
   regular targets file (read through once at open); standard input and
   pipes are not read ahead.  A name met later is a CS_NOTICE_LABEL. */
void cs_targets_label_names(struct cs_targets *ts, struct cs_strlist *names);

/* One targets-file line, split: its target and its labels. */
struct cs_line_parts {
    const char *target; /* the first token; target_len 0: a blank or comment line */
    size_t target_len;
    const char *text; /* the line without its comment and surrounding blanks */
    size_t text_len;
    struct cs_labels labels; /* free with cs_labels_free, whatever the result */
};
/* Splits line[0..len) (comment and blanks included): target, then blank-
   separated labels, name=value or name="value with blanks" ("" inside
   quotes is one "); '#' outside a quoted value starts a comment.  NULL, or
   why the line is bad (a static string or why, of whylen bytes). */
const char *cs_target_line(const char *line, size_t len, struct cs_line_parts *lp, char *why,
                           size_t whylen);
/* NULL if name[0..len) can be a label name, else why not (a static string):
   1-64 of [A-Za-z0-9_.-], and not the name of a record field. */
const char *cs_label_name_check(const char *name, size_t len);
/* Checks a server name given for a target (an inventory's sni column) as
   --sni is checked: NULL and *sent (the name to send, an internationalised
   one as its A-label; free it), or why not (a static string). */
const char *cs_sni_check(const char *name, char **sent);
/* Parses one target text (no comment, trimmed).  Returns NULL and fills t,
   or a static string saying why the text is not a target. */
const char *cs_target_parse(const char *text, uint16_t default_port, const char *sni,
                            struct cs_target *t);

/* Converts the UTF-8 host name name[0..len) to its A-label form with libidn2
   (IDNA 2008, UTS #46 non-transitional, NFC): NULL and *alabel (free it),
   or a static string saying why the name is refused. */
const char *cs_idna_to_ascii(const char *name, size_t len, char **alabel);

/* Copies s into buf (size len) with control characters and non-ASCII bytes
   escaped as \xNN, cut to max characters of output. */
void cs_escape(const char *s, size_t slen, char *buf, size_t len);

#endif
