/* A private dovecot on 127.0.0.1 (IMAP, POP3 and ManageSieve, STARTTLS on
 * each when given a certificate): its own configuration file, runtime and
 * state directories and log in a directory of the test's, free ports, no
 * user able to log in.  It never touches the system's dovecot service. */
#ifndef CS_TEST_DOVECOT_H
#define CS_TEST_DOVECOT_H

#include <stdint.h>
#include <sys/types.h>

#define DOVECOT_BINARY "/usr/sbin/dovecot"

struct dovecot {
    pid_t pid; /* the master, -1 when not running */
    uint16_t imap, pop3, sieve;
    char dir[4096]; /* dovecot.conf, dovecot.log, dovecot.out, run/, state/ */
};

/* Writes dir/dovecot.conf and starts `dovecot -F -c dir/dovecot.conf`:
   ssl = yes with the PEM files cert (leaf first, then its chain) and key, or
   ssl = no when cert is NULL; waits until every port accepts.  Three tries
   with new ports.  0, or -1 with why (and the logs) in err. */
int dovecot_start(struct dovecot *d, const char *dir, const char *cert, const char *key, char *err,
                  size_t errlen);
/* Stops it (SIGTERM to the master, which stops its children; SIGKILL after
   5 s) and reaps it; nothing if not running. */
void dovecot_stop(struct dovecot *d);

#endif
