/* Target input: positional arguments and -f files, parsed and validated one
 * line at a time as the scan asks for more (nothing is read ahead), with
 * duplicates (same host, port and SNI) dropped through a set of 16-byte
 * digests. */
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
};

struct cs_targets;

/* What the reader has to say as it reads: a bad line ("FILE:LINE: why", the
   same text as the bad record's reason) or an input that failed part-way
   ("FILE: why; what is lost (what to do)").  One line each, no newline. */
enum cs_notice { CS_NOTICE_BAD_LINE, CS_NOTICE_INPUT };
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
