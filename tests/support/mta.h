/* A private Postfix for the mail tests: one master daemon with a
 * configuration directory, queue, mail log and maildir of its own (never the
 * system's instance), listening on 127.0.0.1 only and delivering every
 * recipient of example.test to one maildir through its virtual(8) agent.
 * A program reaches it through the sendmail -t interface with MAIL_CONFIG
 * set to its directory (mta_dir).  Starting the master needs root. */
#ifndef CS_TEST_MTA_H
#define CS_TEST_MTA_H

#include <stddef.h>
#include <sys/types.h>

#define MTA_POSTFIX "/usr/sbin/postfix"
#define MTA_DOMAIN "example.test"

struct mta {
    char dir[4096]; /* main.cf, master.cf, queue/, data/, mail/inbox/, maillog */
    pid_t master;   /* -1 when not running */
};

/* Makes a fresh directory, writes main.cf and master.cf, and runs
   `postfix -c DIR start`.  0, or -1 with the reason (and the mail log) in
   err; nothing is left running then. */
int mta_start(struct mta *m, char *err, size_t errlen);
/* The configuration directory (for MAIL_CONFIG). */
const char *mta_dir(const struct mta *m);
/* Waits (at most timeout_s seconds) until the maildir holds n messages;
   returns how many it holds. */
size_t mta_wait(const struct mta *m, size_t n, int timeout_s);
/* The i-th message of the maildir in name order (delivery order), or NULL. */
char *mta_message(const struct mta *m, size_t i);
/* The mail log, or NULL. */
char *mta_log(const struct mta *m);
/* `postfix -c DIR stop`, waits for the master to exit (killed after 10 s)
   and removes the directory.  Safe to call when not started. */
void mta_stop(struct mta *m);

#endif
