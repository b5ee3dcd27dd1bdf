/* The small helpers every module uses, apart from the record: owned strings
 * and allocators, string lists, a growable buffer with a hard cap, UTF-8
 * decoding, the record's time format, and what the reports read out of
 * the record's names.  result.h includes this header. */
#ifndef CS_UTIL_H
#define CS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/error.h"

/* Owned-string helpers; they abort on out-of-memory (the only sane reaction
 * in a scanner whose records must not silently lose fields). */
char *cs_strdup(const char *s);
char *cs_strndup(const char *s, size_t n);
char *cs_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), nonnull(1)));
void *cs_xmalloc(size_t n);
void *cs_xcalloc(size_t n, size_t m);
void *cs_xrealloc(void *p, size_t n);

struct cs_strlist {
    char **v; /* owned strings; grown only by cs_strlist_add */
    size_t n;
};
void cs_strlist_add(struct cs_strlist *l, const char *s);
void cs_strlist_free(struct cs_strlist *l);

/* A growable string, always NUL-terminated once anything was appended, that
 * never holds more than max bytes (the NUL aside).  An append that would go
 * past max fails with CS_ETOOBIG and leaves the buffer as it was, so one
 * hostile field cannot grow a writer's memory without bound.  A buffer
 * zeroed with {0} has the cap CS_BUF_MAX_DEFAULT. */
struct cs_buf {
    char *p;
    size_t len;
    size_t cap; /* bytes allocated at p */
    size_t max; /* the hard cap on len; 0: CS_BUF_MAX_DEFAULT */
};
#define CS_BUF_MAX_DEFAULT ((size_t)16 << 20)

/* An empty buffer whose content may never exceed max bytes (0: the default). */
void cs_buf_init(struct cs_buf *b, size_t max);
/* Appends n bytes of s (s may hold NULs); 0, or CS_ETOOBIG with b untouched. */
int cs_buf_append(struct cs_buf *b, const char *s, size_t n);
int cs_buf_puts(struct cs_buf *b, const char *s);
/* Empties b, keeping its storage and its cap. */
void cs_buf_reset(struct cs_buf *b);
/* Frees the storage; b is then empty, with its cap kept. */
void cs_buf_free(struct cs_buf *b);

/* Decodes one RFC 3629 UTF-8 sequence (no overlongs, surrogates or code
   points past U+10FFFF) at NUL-terminated p into *cp; returns its length,
   or 0 if p does not start a valid sequence. */
size_t cs_utf8_decode(const unsigned char *p, uint32_t *cp);

/* ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes; years past
 * 9999 or before 0 are clamped to the format's range). */
void cs_format_time(int64_t t, char buf[24]);
/* Parses that format (also "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM:SS" with an
 * optional Z); returns 0 and sets *t, or -1. */
int cs_parse_time(const char *s, int64_t *t);

/* The value of the first CN attribute of an RFC 4514 name (dn as the record
   writes subject and issuer), its escapes undone; NULL when it has none or
   when an escaped NUL would hide the rest of it.  Free it. */
char *cs_dn_first_cn(const char *dn);
/* true for an IPv6 literal (optionally with a %zone), which needs brackets
   before ":port"; a bad input line that merely contains ':' is not one. */
bool cs_is_ipv6_literal(const char *host);

#endif
