/* The option table and what is shared between parsing it (cli.c) and
 * writing --help, the man page and the shell completions from it
 * (cli_write.c).  Not for use outside the command line. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/options.h"

#define CS_DAY_SECS 86400

/* What an option's argument is. */
enum cs_arg_kind {
    CS_ARG_NONE,   /* a flag: sets a bool, or is an action (help, version) */
    CS_ARG_UINT,   /* a whole number in [min, max] */
    CS_ARG_DAYS,   /* whole days in [min, max], stored as seconds */
    CS_ARG_SECS,   /* decimal seconds, [min, max] in milliseconds, stored as milliseconds */
    CS_ARG_SIZE,   /* bytes, or with K, M or G (powers of 1024), in [min, max] bytes */
    CS_ARG_STRING, /* stored as given */
    CS_ARG_CUSTOM, /* parsed by the entry's own function */
};

/* The type of the field an option is stored in, from the field itself. */
enum cs_store {
    CS_STORE_NONE,
    CS_STORE_BOOL,
    CS_STORE_U16,
    CS_STORE_UINT,
    CS_STORE_INT,
    CS_STORE_U64,
    CS_STORE_I64,
    CS_STORE_DOUBLE,
    CS_STORE_STR,
};

/* What completes an option's argument in a shell. */
enum cs_complete {
    CS_COMPLETE_NOTHING,
    CS_COMPLETE_FILE,
    CS_COMPLETE_DIR,
    CS_COMPLETE_WORDS, /* one of the entry's words */
};

enum {
    CS_OPT_REPEAT = 1 << 0, /* may be given more than once; each counts */
    CS_OPT_HIDDEN = 1 << 1, /* for the build (man page, completions): not in --help */
};

struct cs_opt;
/* Parses arg into o: NULL, or what the argument is instead, written to be read
   after "'ARG' is " (e.g. "not a host name ..."), in buf or static. */
typedef const char *cs_opt_parse_fn(const struct cs_opt *op, struct cs_options *o, const char *arg,
                                    char *buf, size_t len);

struct cs_opt {
    const char *name; /* long name, without "--" */
    char letter;      /* short option, or 0 */
    enum cs_arg_kind arg;
    uint64_t min, max;         /* bounds of CS_ARG_UINT, _DAYS, _SECS, _SIZE (in the stored unit) */
    size_t offset;             /* the field in struct cs_options (TO(field)) */
    enum cs_store store;       /* ... and its type */
    cs_opt_parse_fn *parse;    /* CS_ARG_CUSTOM */
    enum cs_cli_result action; /* CS_ARG_NONE without a field: what it asks main to do */
    const char *metavar;       /* the argument's name in help ("N", "FILE") */
    const char *help;          /* one sentence or two, without the bounds and the default */
    const char *deflt;         /* the default as shown; NULL: the value cs_options_init sets;
                                  "": none shown */
    enum cs_complete complete;
    const char *words; /* CS_COMPLETE_WORDS: the values, space-separated */
    unsigned flags;    /* CS_OPT_* */
};

/* The table, sorted by long name; --help, the man page and the completions
   list the options in its order. */
extern const struct cs_opt cs_cli_options[];
extern const size_t cs_cli_n_options;

/* An option's bounds joined by sep ("1-65535", "0.001 to 86400"); "" if it
   has none. */
void cs_cli_format_bounds(const struct cs_opt *op, const char *sep, char *buf, size_t len);

#endif
