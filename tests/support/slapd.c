/* slapd for the tests (see slapd.h). */
#include "tests/support/slapd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/runner.h"
#include "tests/support/servers.h"

static int write_conf(const struct slapd *s, const char *chain, const char *key)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/slapd.conf", s->dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    const char *d = s->dir;
    /* the package's core schema defines dc, which the suffix names */
    fprintf(fp,
            "include /etc/ldap/schema/core.schema\n"
            "pidfile %s/slapd.pid\n"
            "argsfile %s/slapd.args\n"
            "modulepath /usr/lib/ldap\n"
            "moduleload back_mdb\n",
            d, d);
    if (chain != NULL)
        fprintf(fp,
                "TLSCertificateFile %s\n"
                "TLSCertificateKeyFile %s\n",
                chain, key);
    fprintf(fp,
            "database mdb\n"
            "suffix \"dc=test,dc=example\"\n"
            "directory %s/db\n",
            d);
    return fclose(fp) == 0 ? 0 : -1;
}

/* One start on the port chosen: 0 once slapd serves it. */
static int try_start(struct slapd *s)
{
    char conf[4200], log[4200], pid_path[4200], url[64];
    snprintf(conf, sizeof conf, "%s/slapd.conf", s->dir);
    snprintf(log, sizeof log, "%s/slapd.log", s->dir);
    snprintf(pid_path, sizeof pid_path, "%s/slapd.pid", s->dir);
    snprintf(url, sizeof url, "ldap://127.0.0.1:%u/", s->port);
    unlink(pid_path);
    unlink(log); /* the last try's log is the one to show */
    /* -d keeps it in the foreground and logs to the file: connections and
       operations, and each config line with what is wrong with it */
    const char *argv[] = {SLAPD_BINARY, "-f", conf, "-h", url, "-d", "stats,config", NULL};
    s->pid = spawn_server(argv, log);
    if (s->pid < 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = -1;
            return -1;
        }
        /* the pid file is written once the listener is bound: a port that
           accepts is then slapd's */
        if (pid_file_names(pid_path, s->pid) && port_accepts(s->port))
            return 0;
        usleep(50 * 1000);
    }
    stop_child(&s->pid);
    return -1;
}

int slapd_start(struct slapd *s, const char *dir, const char *chain, const char *key, char *err,
                size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    char db[4200];
    snprintf(db, sizeof db, "%s/db", dir);
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || (mkdir(db, 0700) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "cannot make %s: %s", db, strerror(errno));
        return -1;
    }
    for (int tries = 0; tries < 3; tries++) {
        s->port = free_port();
        if (s->port == 0) {
            snprintf(err, errlen, "no free port on 127.0.0.1");
            return -1;
        }
        if (write_conf(s, chain, key) != 0) {
            snprintf(err, errlen, "cannot write %s/slapd.conf: %s", dir, strerror(errno));
            return -1;
        }
        if (try_start(s) == 0)
            return 0;
    }
    char log[4200];
    snprintf(log, sizeof log, "%s/slapd.log", dir);
    char *text = slurp(log, NULL);
    snprintf(err, errlen, "slapd did not serve within 5 s (3 tries); its last log:\n%s",
             text != NULL ? text : "");
    free(text);
    return -1;
}

void slapd_stop(struct slapd *s)
{
    stop_child(&s->pid);
}
