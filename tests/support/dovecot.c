/* See dovecot.h. */
#include "tests/support/dovecot.h"

#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/runner.h"
#include "tests/support/servers.h"

/* Run as root, dovecot drops to its packaged users (dovecot, dovenull) and
   chroots its login processes; run as anyone else it can only stay that
   user, unchrooted. */
static void write_users(FILE *fp)
{
    if (geteuid() == 0)
        return;
    struct passwd *pw = getpwuid(geteuid());
    struct group *gr = getgrgid(getegid());
    const char *user = pw ? pw->pw_name : "nobody", *group = gr ? gr->gr_name : "nogroup";
    fprintf(fp,
            "default_internal_user = %s\n"
            "default_internal_group = %s\n"
            "default_login_user = %s\n"
            "service imap-login {\n  chroot =\n}\n"
            "service pop3-login {\n  chroot =\n}\n"
            "service managesieve-login {\n  chroot =\n}\n"
            "service anvil {\n  chroot =\n}\n",
            user, group, user);
}

static int write_conf(const struct dovecot *d, const char *cert, const char *key)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/dovecot.conf", d->dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    const char *dir = d->dir;
    /* the instance name keeps this dovecot apart from any other on the
       machine (doveadm, the instances list in state_dir) */
    fprintf(fp,
            "instance_name = certsweep-test-%ld-%u\n"
            "base_dir = %s/run\n"
            "state_dir = %s/state\n"
            "log_path = %s/dovecot.log\n"
            "protocols = imap pop3 sieve\n"
            "listen = 127.0.0.1\n"
            "mail_location = maildir:%s/mail/%%u\n"
            "passdb {\n  driver = passwd-file\n  args = %s/users\n}\n"
            "userdb {\n  driver = passwd-file\n  args = %s/users\n}\n"
            "service imap-login {\n"
            "  inet_listener imap {\n    port = %u\n  }\n"
            "  inet_listener imaps {\n    port = 0\n  }\n"
            "}\n"
            "service pop3-login {\n"
            "  inet_listener pop3 {\n    port = %u\n  }\n"
            "  inet_listener pop3s {\n    port = 0\n  }\n"
            "}\n"
            "service managesieve-login {\n"
            "  inet_listener sieve {\n    port = %u\n  }\n"
            "}\n",
            (long)getpid(), d->imap, dir, dir, dir, dir, dir, dir, d->imap, d->pop3, d->sieve);
    if (cert != NULL)
        fprintf(fp, "ssl = yes\nssl_cert = <%s\nssl_key = <%s\n", cert, key);
    else
        fprintf(fp, "ssl = no\n");
    write_users(fp);
    return fclose(fp) == 0 ? 0 : -1;
}

/* One start with the ports chosen: 0 once dovecot serves them all. */
static int try_start(struct dovecot *d)
{
    char conf[4200], out[4200], pid_path[4200];
    snprintf(conf, sizeof conf, "%s/dovecot.conf", d->dir);
    snprintf(out, sizeof out, "%s/dovecot.out", d->dir);
    snprintf(pid_path, sizeof pid_path, "%s/run/master.pid", d->dir);
    unlink(pid_path);
    const char *argv[] = {DOVECOT_BINARY, "-F", "-c", conf, NULL};
    d->pid = spawn_server(argv, out);
    if (d->pid < 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = -1;
            return -1;
        }
        /* the pid file first: a port that accepts is then dovecot's, not a
           process that took it between free_port() and dovecot's bind */
        if (pid_file_names(pid_path, d->pid) && port_accepts(d->imap) && port_accepts(d->pop3) &&
            port_accepts(d->sieve))
            return 0;
        usleep(50 * 1000);
    }
    stop_child(&d->pid);
    return -1;
}

/* Three distinct free ports. */
static int choose_ports(struct dovecot *d)
{
    d->imap = free_port();
    do
        d->pop3 = free_port();
    while (d->pop3 != 0 && d->pop3 == d->imap);
    do
        d->sieve = free_port();
    while (d->sieve != 0 && (d->sieve == d->imap || d->sieve == d->pop3));
    return d->imap && d->pop3 && d->sieve ? 0 : -1;
}

int dovecot_start(struct dovecot *d, const char *dir, const char *cert, const char *key, char *err,
                  size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->pid = -1;
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    if (access(DOVECOT_BINARY, X_OK) != 0) {
        snprintf(err, errlen,
                 DOVECOT_BINARY " is not installed (apt-get install dovecot-imapd "
                                "dovecot-pop3d dovecot-managesieved)");
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/state", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/users", dir);
    if (spit(path, "") != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    for (int tries = 0; tries < 3; tries++) {
        if (choose_ports(d) != 0) {
            snprintf(err, errlen, "no free port on 127.0.0.1");
            return -1;
        }
        if (write_conf(d, cert, key) != 0) {
            snprintf(err, errlen, "cannot write %s/dovecot.conf: %s", dir, strerror(errno));
            return -1;
        }
        if (try_start(d) == 0)
            return 0;
    }
    char log[4200], out[4200];
    snprintf(log, sizeof log, "%s/dovecot.log", dir);
    snprintf(out, sizeof out, "%s/dovecot.out", dir);
    char *elog = slurp(log, NULL), *eout = slurp(out, NULL);
    snprintf(err, errlen,
             "dovecot did not start within 5 s (3 tries)\ndovecot.log:\n%s\noutput:\n%s",
             elog != NULL ? elog : "", eout != NULL ? eout : "");
    free(elog);
    free(eout);
    return -1;
}

void dovecot_stop(struct dovecot *d)
{
    stop_child(&d->pid);
}
