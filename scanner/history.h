/* Scan history: every scan appended to a SQLite database (--history), each
 * record compared with its endpoint's previous observation (the record's
 * change and first_seen), the endpoints of the previous scan that this one
 * did not see (gone), and old scans pruned (--history-keep).  The schema
 * is documented in README.md ("History"); it carries a version and is
 * migrated forward when an older one is opened.
 *
 * An endpoint is (host, port, sni, protocol): the address is what was
 * probed that time, kept with each observation, so a name behind DNS round
 * robin stays one endpoint.  Bad target lines are not endpoints and are not
 * recorded.  Observations are written in batches, one transaction each, in
 * WAL mode, so a scan killed part-way leaves every earlier scan whole and
 * the database valid.  Not thread-safe: one caller at a time (the record
 * sink already serialises the records). */
#ifndef CS_HISTORY_H
#define CS_HISTORY_H

#include <stdint.h>

#include "scanner/options.h"
#include "scanner/result.h"

#define CS_HISTORY_SCHEMA 1 /* the schema version this certsweep writes */

/* Why a history could not be used; main maps each to an exit code. */
enum cs_history_fault {
    CS_HISTORY_CANTCREATE = 1, /* cannot be made or opened for writing (73) */
    CS_HISTORY_NOTOURS,        /* not a database, not a certsweep history, a newer
                                  schema, corrupt (66) */
    CS_HISTORY_WRITE,          /* writing failed part-way: disk full, I/O error (74) */
};

struct cs_history;

/* Opens the history at path (made if missing), migrates it forward, and
   starts this scan's row.  NULL on failure, with *fault and one line in
   err naming the file. */
struct cs_history *cs_history_open(const char *path, const struct cs_options *o,
                                   const struct cs_scan_info *info, enum cs_history_fault *fault,
                                   char *err, size_t errlen);

/* Records r and tells what changed since its endpoint's previous
   observation: 1 with *change and *first_seen set; 0 for a record that is
   no endpoint (a bad target line: nothing recorded); or -1 with err when
   writing failed (the history is then unusable: close it). */
int cs_history_observe(struct cs_history *h, const struct cs_result *r, enum cs_change *change,
                       int64_t *first_seen, char *err, size_t errlen);

/* Ends the scan: the last batch, the scan's counts and end, the endpoints
   gone since the previous complete scan (into hs, which the caller frees
   with cs_history_summary_free), and with keep_secs > 0 the pruning of
   scans that started more than keep_secs before this one.  0, or -1 with
   err (hs then holds what was known). */
int cs_history_finish(struct cs_history *h, const struct cs_summary *s, int64_t keep_secs,
                      struct cs_history_summary *hs, char *err, size_t errlen);

/* Closes the database; what was not finished stays as it is (a scan row
   without an end).  NULL is fine. */
void cs_history_close(struct cs_history *h);

void cs_history_summary_free(struct cs_history_summary *hs);

struct sqlite3;
/* For readers (certsweep history): opens path read-only and checks that it
   is a certsweep history this certsweep can read.  The handle (close it
   with sqlite3_close) or NULL with *fault and err. */
struct sqlite3 *cs_history_open_readonly(const char *path, enum cs_history_fault *fault, char *err,
                                         size_t errlen);

#endif
