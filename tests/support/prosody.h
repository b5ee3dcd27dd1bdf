/* A real Prosody (the Debian package) a test starts on 127.0.0.1: its own
 * config file, data, pid file and log in a directory of the test's, one
 * VirtualHost with the test's certificate, client and server ports chosen
 * free.  Never the system service: the process is the test's child and
 * dies with it. */
#ifndef CS_TEST_PROSODY_H
#define CS_TEST_PROSODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROSODY_BINARY "/usr/bin/prosody"

struct prosody {
    pid_t pid;         /* -1 when not running */
    uint16_t c2s_port; /* client-to-server STARTTLS */
    uint16_t s2s_port; /* server-to-server STARTTLS */
    char dir[4096];    /* prosody.cfg.lua, prosody.pid, prosody.log, data/ live here */
};

/* Writes dir/prosody.cfg.lua serving host with the certificate (chain) and
   key at cert and key, starts Prosody in the foreground and waits until
   its log says both ports are listening.  Three tries with new ports.  0, or
   -1 with the reason (and the log's tail) in err. */
int prosody_start(struct prosody *p, const char *dir, const char *host, const char *cert,
                  const char *key, char *err, size_t errlen);
/* Stops it (SIGTERM, SIGKILL after 5 s) and reaps it; nothing if not running. */
void prosody_stop(struct prosody *p);

#endif
