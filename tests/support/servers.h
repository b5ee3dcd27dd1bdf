/* Server programs a test starts on 127.0.0.1 and stops by pid: a real nginx
 * with server blocks the test writes, and any other program (an `openssl
 * ocsp` responder, ...).  Each child dies with the test process. */
#ifndef CS_TEST_SERVERS_H
#define CS_TEST_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define NGINX_BINARY "/usr/sbin/nginx"
#define OPENSSL_BINARY "/usr/bin/openssl"
#define NGINX_MAX_PORTS 16

/* Starts argv[0] (a path) with argv, standard output and error appended to
   log (NULL: /dev/null), standard input /dev/null, killed (SIGKILL) when the
   calling thread's process dies.  The pid, or -1. */
pid_t spawn_server(const char *const *argv, const char *log);

/* Waits up to timeout_ms for 127.0.0.1:port to accept while *pid lives.
   0 once it does; -1 if the child exited (*pid becomes -1) or the time ran
   out (the child is stopped). */
int wait_server(pid_t *pid, uint16_t port, int timeout_ms);

/* Prints the inside of nginx's http { } block for the ports chosen (server
   blocks listening on 127.0.0.1:ports[i], locations, logs).  dir is nginx's
   working directory. */
typedef void (*nginx_servers_fn)(FILE *fp, const char *dir, const uint16_t *ports, void *arg);

struct nginx {
    pid_t pid;                       /* -1 when not running */
    uint16_t ports[NGINX_MAX_PORTS]; /* the ports it serves, free on 127.0.0.1 when chosen */
    size_t n_ports;
    char dir[4096]; /* nginx.conf, nginx.pid, error.log, nginx.out live here */
};

/* Writes dir/nginx.conf (no daemon, no master, one worker, pid and error log
   and temp paths in dir, access_log off unless the servers say otherwise)
   with servers() printing the http block's contents for n_ports fresh ports,
   starts nginx and waits until every port accepts.  Three tries with new
   ports.  0, or -1 with the error log's text in err. */
int nginx_start(struct nginx *n, const char *dir, size_t n_ports, nginx_servers_fn servers,
                void *arg, char *err, size_t errlen);
/* Stops it (SIGTERM, SIGKILL after 5 s) and reaps it; nothing if not running. */
void nginx_stop(struct nginx *n);

/* Lines of the file at path that contain needle (e.g. an access log and
   "GET /x.crl "); 0 if the file cannot be read. */
size_t count_lines_with(const char *path, const char *needle);

#endif
