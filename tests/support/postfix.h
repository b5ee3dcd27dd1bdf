/* A real Postfix for the tests: one master daemon on 127.0.0.1 with a
 * configuration directory, a queue and a mail log of its own (main.cf and
 * master.cf written here), never the system's instance.  Each service is an
 * smtpd on a port of its own, with its own parameter overrides (master.cf
 * "-o"), so one master serves a relay, a submission port, a server without
 * TLS and one whose TLS is broken.  Every recipient of POSTFIX_DOMAIN is
 * delivered by virtual(8) to one maildir (postfix_wait, postfix_message),
 * whatever way it came in: through an smtpd, or through the sendmail -t
 * interface with MAIL_CONFIG set to the configuration directory (p->dir).
 * The master daemon needs root. */
#ifndef CS_TEST_POSTFIX_H
#define CS_TEST_POSTFIX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define POSTFIX_BINARY "/usr/sbin/postfix"
#define POSTFIX_MAX_SERVICES 8
#define POSTFIX_DOMAIN "example.test"

/* One smtpd service. */
struct postfix_service {
    const char *name;        /* its syslog_name: postfix/NAME (letters, digits, '-') */
    const char *const *opts; /* "parameter=value" overrides (no blanks), NULL-terminated,
                                or NULL */
};

struct postfix {
    pid_t master; /* the master daemon (not our child), -1 when not running */
    uint16_t ports[POSTFIX_MAX_SERVICES]; /* service k listens on 127.0.0.1:ports[k] */
    size_t n_ports;
    char dir[4096]; /* main.cf, master.cf, queue/, data/, mail/inbox/ and maillog live here */
};

/* Writes dir/main.cf (loopback only, IPv4, queue, data, maildir and mail log
   under dir, every command of a loopback client logged, then the lines of
   main_extra) and dir/master.cf (the n services on fresh ports, none for a
   Postfix reached only through sendmail; the internal services without
   chroot), and runs `postfix -c dir start`, which checks the
   installation, makes the queue and starts the master daemon.  Three tries
   with new ports.  0, or -1 with the reason and the mail log in err. */
int postfix_start(struct postfix *p, const char *dir, const char *main_extra,
                  const struct postfix_service *svc, size_t n, char *err, size_t errlen);
/* `postfix -c dir stop`, then waits for the master to exit (its process group
   is killed after 5 s); nothing if not running. */
void postfix_stop(struct postfix *p);
/* The path of its mail log, written into buf (returned). */
const char *postfix_log(const struct postfix *p, char *buf, size_t len);
/* Waits (at most timeout_s seconds) until the maildir holds n messages;
   returns how many it holds. */
size_t postfix_wait(const struct postfix *p, size_t n, int timeout_s);
/* The i-th message of the maildir in name order (delivery order), or NULL. */
char *postfix_message(const struct postfix *p, size_t i);

#endif
