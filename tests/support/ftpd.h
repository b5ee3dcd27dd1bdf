/* A real vsftpd on 127.0.0.1, started by a test in the foreground with a
 * config file it writes: local logins only (none is ever made), no
 * anonymous access, no transfer log, and AUTH TLS with the test's
 * certificate, or no TLS at all.  The child dies with the test process. */
#ifndef CS_TEST_FTPD_H
#define CS_TEST_FTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VSFTPD_BINARY "/usr/sbin/vsftpd"

struct vsftpd {
    pid_t pid;      /* -1 when not running */
    uint16_t port;  /* on 127.0.0.1 */
    char dir[4096]; /* vsftpd.conf, vsftpd.log and the empty secure_chroot_dir */
};

/* Makes dir (and dir/empty), writes dir/vsftpd.conf for a free port with
   chain (a PEM file, leaf first) and key as its certificate, or TLS off when
   chain is NULL, starts vsftpd and waits until it greets on the port.  Three
   tries with new ports.  0, or -1 with why (and vsftpd's output) in err. */
int vsftpd_start(struct vsftpd *v, const char *dir, const char *chain, const char *key, char *err,
                 size_t errlen);
/* Stops it (SIGTERM, SIGKILL after 5 s) and reaps it; nothing if not running. */
void vsftpd_stop(struct vsftpd *v);

#endif
