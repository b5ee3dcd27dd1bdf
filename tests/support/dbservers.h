/* Private database servers for the end-to-end tests: a real PostgreSQL and
 * a real MariaDB, each with a fresh data directory under a test's temporary
 * directory, listening on 127.0.0.1 only, with TLS from a certificate the
 * test made (or with TLS off).  Never a system service: the test starts
 * each server as its own process group and stops the whole group.
 * PostgreSQL refuses to run as root, so when the test runs as root it runs
 * as "nobody", with its files handed over to that user. */
#ifndef CS_TEST_DBSERVERS_H
#define CS_TEST_DBSERVERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define POSTGRES_BIN_GLOB "/usr/lib/postgresql/*/bin/postgres"
#define MARIADBD_BINARY "/usr/sbin/mariadbd"
#define MARIADB_INSTALL_DB "/usr/bin/mariadb-install-db"

struct dbserver {
    pid_t pid;       /* the server, leader of its own process group; -1 when stopped */
    uint16_t port;   /* on 127.0.0.1 */
    char home[4096]; /* its data directory, socket, certificate and logs live under here */
    char log[4200];  /* the server's own log (quoted when it fails to start) */
    int stop_signal; /* what asks it to shut down (postgres: SIGINT, fast shutdown) */
};

/* The bin directory of the newest PostgreSQL installed ("/usr/lib/postgresql/15/bin"),
   0; or -1 when there is none. */
int postgres_bindir(char *out, size_t len);

/* Makes a cluster under dir/pg (initdb) and starts postgres on a free port of
   127.0.0.1 with ssl on and cert_file (the chain, leaf first) and key_file
   (copied next to the data, mode 0600, owned by the server's user), or with
   ssl off when cert_file is NULL; waits until it accepts connections.  0,
   or -1 with why (and the server's log) in err. */
int postgres_start(struct dbserver *s, const char *dir, const char *cert_file, const char *key_file,
                   char *err, size_t errlen);

/* Makes a MariaDB data directory under dir/my (mariadb-install-db) and
   starts mariadbd on a free port of 127.0.0.1 with --ssl-cert and --ssl-key
   (copied as above), or without TLS when cert_file is NULL, and the options
   in extra (NULL-terminated, at most 4; NULL for none); waits until it
   accepts connections.  0, or -1 with why in err. */
int mariadb_start(struct dbserver *s, const char *dir, const char *cert_file, const char *key_file,
                  const char *const *extra, char *err, size_t errlen);

/* Stops the server's whole process group (its stop signal, SIGKILL after
   10 s) and reaps it; nothing when not running. */
void dbserver_stop(struct dbserver *s);

#endif
