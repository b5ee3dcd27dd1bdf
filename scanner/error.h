/* How certsweep reports failure: one convention for every module.
 *
 * Return codes.  A function that can fail returns int: 0 (or a count, never
 * negative) on success, a negative code on failure.  A negative code is one
 * of two kinds, and cs_strerror() names either:
 *   - a libuv code, UV_E*, passed through as it came.  On Unix these are
 *     -errno, so a failed system call reports -errno (never a bare -1 with
 *     errno set, never a positive errno);
 *   - one of certsweep's own codes, CS_E* below, in a range of their own
 *     (CS_ERR_BASE downwards) that no UV_E* reaches.
 * A parser whose only failure is "not valid" may return -1 when its comment
 * says so (cs_parse_time).  A constructor that returns a pointer returns
 * NULL on failure and says why through a reason buffer.
 *
 * Reasons.  When the code alone would not tell a user what to fix (which
 * file, which line, what OpenSSL said), the function takes `char *err, size_t
 * errlen` and writes one line there: no "certsweep:" prefix, no newline, no
 * trailing period, the thing named first ("ca.pem: no certificate in it").
 * A reason that belongs to a target goes into its record instead (the
 * record's error, reason and revocation fields), never to stderr.
 *
 * Process state.  Library code (everything but scanner/main.c) never
 * prints, never exits, never installs signal dispositions, never changes
 * rlimits, the umask or the working directory: it returns codes and reasons,
 * and main decides what is said, what the process does and with which exit
 * code (enum cs_exit, decided in scanner/main.c alone).  The one exception
 * is running out of memory: the cs_x*alloc helpers (util.h) say so on stderr
 * and abort, since no caller could do better. */
#ifndef CS_ERROR_H
#define CS_ERROR_H

/* certsweep's own failure codes, below every UV_E* (which ends at -4095) */
#define CS_ERR_BASE (-20000)
#define CS_ERRORS(X)                                                                               \
    X(ETOOBIG, -1, "value exceeds its size limit")                                                 \
    X(EFORMAT, -2, "malformed input")                                                              \
    X(ETLS, -3, "TLS library failure")                                                             \
    X(EINTERNAL, -4, "internal error")                                                             \
    X(ESORTBUF, -5,                                                                                \
      "--sort holds CSV and JSON Lines rows in memory and this report passed its 2 GiB: drop "     \
      "--sort and sort the file afterwards")

enum cs_error {
#define X(name, off, text) CS_##name = CS_ERR_BASE + (off),
    CS_ERRORS(X)
#undef X
};

/* A static, human-readable text for any code of the convention: 0, a CS_E*
   or a UV_E* (hence a negated errno).  Never NULL. */
const char *cs_strerror(int code);

/* The exit codes, decided in scanner/main.c and nowhere else (the README's
   "Exit codes" says when each is used).  0-3 follow the Nagios plugin
   convention and come from the counted statuses; the rest are sysexits.h's. */
enum cs_exit {
    CS_EXIT_OK = 0,        /* every endpoint OK (or nothing counted by --fail-on) */
    CS_EXIT_WARNING = 1,   /* the worst counted status is WARNING */
    CS_EXIT_CRITICAL = 2,  /* a counted CRITICAL or EXPIRED */
    CS_EXIT_ERROR = 3,     /* the worst counted status is ERROR (bad target lines too) */
    CS_EXIT_USAGE = 64,    /* a usage error; with --strict-input, a bad target line */
    CS_EXIT_NOINPUT = 66,  /* an input file unreadable, or no target at all */
    CS_EXIT_SOFTWARE = 70, /* internal error */
    CS_EXIT_INTERNAL = CS_EXIT_SOFTWARE,
    CS_EXIT_CANTCREAT = 73, /* a report cannot be created */
    CS_EXIT_IOERR = 74,     /* a report could not be written */
    CS_EXIT_TEMPFAIL = 75,  /* a notification (--notify, --mail-to) was not delivered */
    CS_EXIT_SIGNAL = 128,   /* plus the signal's number: interrupted */
    CS_EXIT_SIGINT = 130,
    CS_EXIT_SIGTERM = 143,
};

#endif
