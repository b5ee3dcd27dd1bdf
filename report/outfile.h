/* Report files on disk: a report to a regular file is written to a hidden
 * temporary file beside the file it replaces and renamed into place when
 * whole, after the data and then the rename are on disk (fsync); it keeps
 * the permission bits of the file it replaces, and a symbolic link is
 * written through to the file it names.  Anything else (a FIFO, a terminal,
 * /dev/stdout) is written directly.  Nothing here prints or exits. */
#ifndef CS_OUTFILE_H
#define CS_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct cs_outfile {
    FILE *f;     /* where the writer writes */
    char *dest;  /* the file the report replaces (a symlink's target); NULL if direct */
    char *dir;   /* dest's directory, fsynced after the rename */
    char *tmp;   /* the temporary file beside dest, locked while it is written */
    bool direct; /* written in place, line-buffered: can be followed */
};

/* Opens path for a report.  0, or a negated errno (nothing is left behind).  A
   temporary file of an earlier run that was killed while writing this
   report (.NAME.partial-XXXXXX, not locked by a live writer) is removed.
   Call before any thread that could fork or change the umask starts. */
int cs_outfile_open(struct cs_outfile *o, const char *path);
/* Finishes a report: flush, fsync, rename into place, fsync the directory,
   close.  0, or a negated errno, and then nothing is left in path's place. */
int cs_outfile_commit(struct cs_outfile *o);
/* Gives a report up: the temporary file is removed, path is untouched. */
void cs_outfile_abandon(struct cs_outfile *o);

/* The prefix of the temporary files of a report named base: ".base.partial-". */
#define CS_OUTFILE_PARTIAL ".partial-"

#endif
