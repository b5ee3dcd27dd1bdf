/* Certificates on disk: reading one file (PEM, DER or PKCS#12 without a
 * password) into a chain, certbot's layout, and walking --certs paths one
 * entry at a time, so that a directory of any size costs a bounded amount
 * of memory.  No loop and no socket: the engine's workers call it for a
 * file target, and --expect loads its certificates with it. */
#ifndef CS_CERTFILES_H
#define CS_CERTFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/flight.h"

#define CS_CERTFILE_MAX_BYTES (1 << 20) /* a larger file is not read */
#define CS_CERTWALK_MAX_DEPTH 32        /* directories open at once in a walk */

/* The probe name of a file target (cs_target.probe) and the record's protocol. */
#define CS_FILE_PROBE "file"

/* Reads the certificates of the file at path into chain (leaf first, in the
   wire layout cs_assess takes).  Private keys in the file are skipped as
   text or as encrypted bags, never decoded into key objects, and the bytes
   read are wiped before they are freed.  0, or -1 with a one-line reason
   in why ("empty file", "larger than 1048576 bytes", ...). */
int cs_certfile_read(const char *path, struct cs_raw_chain *chain, char *why, size_t why_len);

/* certbot's NAME when path is DIR/live/NAME/fullchain.pem or
   DIR/live/NAME/cert.pem (as given, not through its symlinks): a copy to
   free, else NULL. */
char *cs_certbot_name(const char *path);

/* A walk over files and directories, depth first: directories are read
   with readdir one entry at a time, never listed into memory. */
struct cs_certwalk;
struct cs_certwalk *cs_certwalk_new(char *const *roots, size_t n);
/* The next file: 1 and *path (free it), or 0 at the end.  A root is always
   yielded (a file, or a directory that cannot be opened: reading it then
   says why); inside a directory, files named *.pem, *.crt, *.cer, *.der,
   *.p12 or *.pfx are, but certbot's own files (see the README). */
int cs_certwalk_next(struct cs_certwalk *w, char **path);
void cs_certwalk_free(struct cs_certwalk *w);

#endif
