/* The private Postfix of the mail tests (see mta.h). */
#include "tests/support/mta.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/runner.h"

/* virtual(8) delivers as this user: nobody, above virtual_minimum_uid */
#define MTA_UID 65534
#define MTA_GID 65534

/* The services sendmail -t and delivery to a maildir need, none of them
   chrooted; no smtpd: nothing listens but the master's own sockets. */
static const char master_cf[] =
    "pickup    unix  n       -       n       60      1       pickup\n"
    "cleanup   unix  n       -       n       -       0       cleanup\n"
    "qmgr      unix  n       -       n       300     1       qmgr\n"
    "rewrite   unix  -       -       n       -       -       trivial-rewrite\n"
    "bounce    unix  -       -       n       -       0       bounce\n"
    "defer     unix  -       -       n       -       0       bounce\n"
    "trace     unix  -       -       n       -       0       bounce\n"
    "verify    unix  -       -       n       -       1       verify\n"
    "flush     unix  n       -       n       1000?   0       flush\n"
    "proxymap  unix  -       -       n       -       -       proxymap\n"
    "smtp      unix  -       -       n       -       -       smtp\n"
    "showq     unix  n       -       n       -       -       showq\n"
    "error     unix  -       -       n       -       -       error\n"
    "retry     unix  -       -       n       -       -       error\n"
    "discard   unix  -       -       n       -       -       discard\n"
    "virtual   unix  -       n       n       -       -       virtual\n"
    "anvil     unix  -       -       n       -       1       anvil\n"
    "scache    unix  -       -       n       -       1       scache\n"
    "postlog   unix-dgram n  -       n       -       1       postlogd\n";

static int write_config(const struct mta *m)
{
    char path[4200], *main_cf;
    const char *d = m->dir;
    if (asprintf(&main_cf,
                 "compatibility_level = 3.6\n"
                 "queue_directory = %s/queue\n"
                 "data_directory = %s/data\n"
                 "mail_owner = postfix\n"
                 "setgid_group = postdrop\n"
                 "inet_interfaces = 127.0.0.1\n"
                 "inet_protocols = ipv4\n"
                 "myhostname = certsweep-test.invalid\n"
                 "mydestination =\n"
                 "relayhost =\n"
                 "alias_maps =\n"
                 "alias_database =\n"
                 "virtual_mailbox_domains = " MTA_DOMAIN "\n"
                 "virtual_mailbox_base = %s/mail\n"
                 "virtual_mailbox_maps = static:inbox/\n"
                 "virtual_uid_maps = static:%d\n"
                 "virtual_gid_maps = static:%d\n"
                 "maillog_file_prefixes = %s\n"
                 "maillog_file = %s/maillog\n",
                 d, d, d, MTA_UID, MTA_GID, d, d) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/main.cf", m->dir);
    int rc = spit(path, main_cf);
    free(main_cf);
    snprintf(path, sizeof(path), "%s/master.cf", m->dir);
    return rc < 0 ? -1 : spit(path, master_cf);
}

static int make_dirs(const struct mta *m)
{
    char path[4200];
    static const char *const sub[] = {"queue", "data", "mail"};
    if (chmod(m->dir, 0755) != 0) /* virtual(8) runs as nobody and must get to mail/ */
        return -1;
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", m->dir, sub[i]);
        if (mkdir(path, 0755) != 0)
            return -1;
    }
    snprintf(path, sizeof(path), "%s/mail", m->dir);
    if (chown(path, MTA_UID, MTA_GID) != 0)
        return -1;
    struct passwd *pw = getpwnam("postfix"); /* the master's lock and caches live in data/ */
    snprintf(path, sizeof(path), "%s/data", m->dir);
    if (!pw || chown(path, pw->pw_uid, pw->pw_gid) != 0)
        return -1;
    return 0;
}

static int postfix_cmd(const struct mta *m, const char *what, struct run_result *r)
{
    const char *args[] = {"-c", m->dir, what, NULL};
    return run_binary(MTA_POSTFIX, args, NULL, 60, r);
}

/* The master's pid from queue/pid/master.pid, or -1. */
static pid_t master_pid(const struct mta *m)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/queue/pid/master.pid", m->dir);
    char *text = slurp(path, NULL);
    long pid = text ? strtol(text, NULL, 10) : -1;
    free(text);
    return pid > 0 ? (pid_t)pid : -1;
}

int mta_start(struct mta *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->master = -1;
    char *dir = temp_dir();
    if (!dir) {
        snprintf(err, errlen, "mta: no temporary directory");
        return -1;
    }
    snprintf(m->dir, sizeof(m->dir), "%s", dir);
    free(dir);
    if (make_dirs(m) < 0 || write_config(m) < 0) {
        snprintf(err, errlen, "mta: cannot set up %s: %s", m->dir, strerror(errno));
        mta_stop(m);
        return -1;
    }
    struct run_result r;
    if (postfix_cmd(m, "start", &r) < 0 || r.status != 0) {
        char *log = mta_log(m);
        snprintf(err, errlen, "mta: postfix start failed (status %d): %s %s; log: %s", r.status,
                 r.out ? r.out : "", r.err ? r.err : "", log ? log : "-");
        free(log);
        run_result_free(&r);
        mta_stop(m);
        return -1;
    }
    run_result_free(&r);
    for (int i = 0; i < 100 && m->master < 0; i++) {
        m->master = master_pid(m);
        if (m->master < 0)
            usleep(50 * 1000);
    }
    if (m->master < 0) {
        snprintf(err, errlen, "mta: the master wrote no pid file");
        mta_stop(m);
        return -1;
    }
    return 0;
}

const char *mta_dir(const struct mta *m)
{
    return m->dir;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* The maildir's messages (new/), sorted; n gets the count. */
static struct dirent **messages(const struct mta *m, int *n)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/mail/inbox/new", m->dir);
    struct dirent **list = NULL;
    *n = scandir(path, &list, not_dot, by_name);
    if (*n < 0)
        *n = 0;
    return list;
}

static void free_list(struct dirent **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

size_t mta_wait(const struct mta *m, size_t n, int timeout_s)
{
    int have = 0;
    for (int i = 0; i <= timeout_s * 10; i++) {
        struct dirent **list = messages(m, &have); /* have is set here, before it is read */
        free_list(list, have);
        if ((size_t)have >= n)
            break;
        usleep(100 * 1000);
    }
    return (size_t)have;
}

char *mta_message(const struct mta *m, size_t i)
{
    int n;
    struct dirent **list = messages(m, &n);
    char *text = NULL;
    if (i < (size_t)n) {
        char path[4600];
        snprintf(path, sizeof(path), "%s/mail/inbox/new/%s", m->dir, list[i]->d_name);
        text = slurp(path, NULL);
    }
    free_list(list, n);
    return text;
}

char *mta_log(const struct mta *m)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/maillog", m->dir);
    return slurp(path, NULL);
}

void mta_stop(struct mta *m)
{
    if (m->dir[0] == '\0')
        return;
    if (m->master > 0) {
        struct run_result r;
        if (postfix_cmd(m, "stop", &r) == 0)
            run_result_free(&r);
        for (int i = 0; i < 100 && kill(m->master, 0) == 0; i++)
            usleep(100 * 1000);
        if (kill(m->master, 0) == 0) /* the master is not our child: its group goes */
            kill(-m->master, SIGKILL);
        m->master = -1;
    }
    remove_tree(m->dir);
    m->dir[0] = '\0';
}
