/* Subcommands: `certsweep NAME ...` runs another job than a scan (history,
 * diff, merge, ...).  A subcommand is recognised only as the very first
 * argument and only by its exact name; anything else, or anything after
 * `--`, is a scan's option or target.  So a host that happens to be called
 * like a subcommand is scanned as `certsweep -- diff`, `certsweep diff:443`
 * or `certsweep https://diff`, and a subcommand is never resolved as a
 * host name. */
#ifndef CS_COMMANDS_H
#define CS_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

struct cs_command {
    const char *name;    /* "diff" */
    const char *usage;   /* "OLD NEW [OPTIONS]": what follows the name */
    const char *summary; /* one line for --help */
    /* Runs it: argv[0] is the name, argv[1..argc) what followed.  Returns
       the process's exit code (error.h's enum cs_exit). */
    int (*run)(int argc, char **argv);
};

/* The subcommand argv1 names exactly, or NULL (a scan). */
const struct cs_command *cs_command_find(const char *argv1);
/* One line per subcommand for --help: two spaces, "certsweep NAME USAGE",
   and its summary. */
void cs_command_list(FILE *out);
/* The i-th subcommand of the registry, or NULL past the end (the man page). */
const struct cs_command *cs_command_at(size_t i);

#endif
