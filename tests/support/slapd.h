/* A real OpenLDAP slapd on 127.0.0.1, started by a test in the foreground
 * (-d) with a slapd.conf it writes: one empty mdb database, pid and args
 * files and the database in the test's directory, and the test's
 * certificate for StartTLS, or no TLS at all.  Never the system service or
 * its configuration.  The child dies with the test process. */
#ifndef CS_TEST_SLAPD_H
#define CS_TEST_SLAPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SLAPD_BINARY "/usr/sbin/slapd"

struct slapd {
    pid_t pid;      /* -1 when not running */
    uint16_t port;  /* on 127.0.0.1 */
    char dir[4096]; /* slapd.conf, slapd.pid, slapd.args, slapd.log, db/ */
};

/* Makes dir (and dir/db), writes dir/slapd.conf with chain (a PEM file,
   leaf first) and key as TLSCertificateFile and TLSCertificateKeyFile, or no
   TLS when chain is NULL, starts slapd on ldap://127.0.0.1:PORT/ for a free
   port and waits until its pid file names it and the port accepts.  Three
   tries with new ports.  0, or -1 with why (and slapd's log) in err. */
int slapd_start(struct slapd *s, const char *dir, const char *chain, const char *key, char *err,
                size_t errlen);
/* Stops it (SIGTERM, SIGKILL after 5 s) and reaps it; nothing if not running. */
void slapd_stop(struct slapd *s);

#endif
