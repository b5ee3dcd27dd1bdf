/* A private Postfix on 127.0.0.1 (see postfix.h). */
#include "tests/support/postfix.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/runner.h"

/* virtual(8) delivers as this user: nobody, above virtual_minimum_uid */
#define MAIL_UID 65534
#define MAIL_GID 65534

/* The internal services a master.cf of Debian's lists, none chrooted (the
   queue lives in a temp dir with nothing copied into it). */
static const char internal_services[] = "pickup    unix  n - n 60    1 pickup\n"
                                        "cleanup   unix  n - n -     0 cleanup\n"
                                        "qmgr      unix  n - n 300   1 qmgr\n"
                                        "tlsmgr    unix  - - n 1000? 1 tlsmgr\n"
                                        "rewrite   unix  - - n -     - trivial-rewrite\n"
                                        "bounce    unix  - - n -     0 bounce\n"
                                        "defer     unix  - - n -     0 bounce\n"
                                        "trace     unix  - - n -     0 bounce\n"
                                        "verify    unix  - - n -     1 verify\n"
                                        "flush     unix  n - n 1000? 0 flush\n"
                                        "proxymap  unix  - - n -     - proxymap\n"
                                        "smtp      unix  - - n -     - smtp\n"
                                        "showq     unix  n - n -     - showq\n"
                                        "error     unix  - - n -     - error\n"
                                        "retry     unix  - - n -     - error\n"
                                        "discard   unix  - - n -     - discard\n"
                                        "virtual   unix  - n n -     - virtual\n"
                                        "anvil     unix  - - n -     1 anvil\n"
                                        "scache    unix  - - n -     1 scache\n"
                                        "postlog   unix-dgram n - n - 1 postlogd\n";

const char *postfix_log(const struct postfix *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s/maillog", p->dir);
    return buf;
}

static int write_main_cf(const struct postfix *p, const char *extra)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/main.cf", p->dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    const char *d = p->dir;
    fprintf(fp,
            "compatibility_level = 3.6\n"
            "queue_directory = %s/queue\n"
            "data_directory = %s/data\n"
            "mail_owner = postfix\n"
            "setgid_group = postdrop\n"
            "inet_interfaces = 127.0.0.1\n"
            "inet_protocols = ipv4\n"
            "mydestination =\n"
            "relayhost =\n"
            "alias_maps =\n"
            "alias_database =\n"
            "virtual_mailbox_domains = " POSTFIX_DOMAIN "\n"
            "virtual_mailbox_base = %s/mail\n"
            "virtual_mailbox_maps = static:inbox/\n"
            "virtual_uid_maps = static:%d\n"
            "virtual_gid_maps = static:%d\n"
            "maillog_file_prefixes = %s\n"
            "maillog_file = %s/maillog\n"
            /* every command a loopback client sends, in the mail log */
            "debug_peer_list = 127.0.0.1\n"
            "%s\n",
            d, d, d, MAIL_UID, MAIL_GID, d, d, extra != NULL ? extra : "");
    return fclose(fp) == 0 ? 0 : -1;
}

static int write_master_cf(const struct postfix *p, const struct postfix_service *svc, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/master.cf", p->dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    for (size_t k = 0; k < n; k++) {
        fprintf(fp, "127.0.0.1:%u inet n - n - - smtpd\n  -o syslog_name=postfix/%s\n",
                (unsigned)p->ports[k], svc[k].name);
        for (size_t i = 0; svc[k].opts != NULL && svc[k].opts[i] != NULL; i++)
            fprintf(fp, "  -o %s\n", svc[k].opts[i]);
    }
    fputs(internal_services, fp);
    return fclose(fp) == 0 ? 0 : -1;
}

/* The queue directory belongs to root (postfix makes what is inside); the
   data directory to the mail owner; the maildir's to virtual(8)'s user, who
   must get to it through dir. */
static int make_dirs(const struct postfix *p, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam("postfix");
    if (pw == NULL) {
        snprintf(err, errlen, "no postfix user (is the postfix package installed?)");
        return -1;
    }
    char queue[4200], data[4200], mail[4200];
    snprintf(queue, sizeof queue, "%s/queue", p->dir);
    snprintf(data, sizeof data, "%s/data", p->dir);
    snprintf(mail, sizeof mail, "%s/mail", p->dir);
    if ((mkdir(queue, 0755) != 0 && errno != EEXIST) ||
        (mkdir(data, 0700) != 0 && errno != EEXIST) || chown(data, pw->pw_uid, (gid_t)-1) != 0 ||
        (mkdir(mail, 0755) != 0 && errno != EEXIST) || chown(mail, MAIL_UID, MAIL_GID) != 0 ||
        chmod(p->dir, 0755) != 0) {
        snprintf(err, errlen, "cannot make %s, %s and %s: %s", queue, data, mail, strerror(errno));
        return -1;
    }
    return 0;
}

static bool alive(pid_t pid)
{
    if (pid <= 0 || kill(pid, 0) != 0)
        return false;
    /* a zombie nobody has reaped yet is gone too */
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    char *stat = slurp(path, NULL);
    const char *paren = stat != NULL ? strrchr(stat, ')') : NULL;
    bool zombie = paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
    free(stat);
    return !zombie;
}

static pid_t master_pid(const struct postfix *p)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/queue/pid/master.pid", p->dir);
    char *text = slurp(path, NULL);
    long pid = text != NULL ? atol(text) : 0;
    free(text);
    return pid > 0 ? (pid_t)pid : -1;
}

static int run_postfix(const struct postfix *p, const char *command, struct run_result *r)
{
    const char *args[] = {"-c", p->dir, command, NULL};
    return run_binary(POSTFIX_BINARY, args, NULL, 60, r);
}

/* One start with the ports chosen: 0 once the master serves them. */
static int try_start(struct postfix *p, char *why, size_t whylen)
{
    struct run_result r;
    if (run_postfix(p, "start", &r) != 0) {
        snprintf(why, whylen, "cannot run %s", POSTFIX_BINARY);
        return -1;
    }
    int status = r.status;
    snprintf(why, whylen, "postfix start: exit %d: %s%s", status, r.out, r.err);
    run_result_free(&r);
    p->master = master_pid(p);
    if (status == 0 && alive(p->master)) {
        bool up = true;
        for (size_t k = 0; up && k < p->n_ports; k++)
            up = port_accepts(p->ports[k]);
        if (up)
            return 0;
        snprintf(why, whylen, "the master runs but a port does not accept");
    }
    postfix_stop(p);
    return -1;
}

int postfix_start(struct postfix *p, const char *dir, const char *main_extra,
                  const struct postfix_service *svc, size_t n, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->master = -1;
    p->n_ports = n;
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    if (n > POSTFIX_MAX_SERVICES) {
        snprintf(err, errlen, "at most %d postfix services", POSTFIX_MAX_SERVICES);
        return -1;
    }
    if (access(POSTFIX_BINARY, X_OK) != 0) {
        snprintf(err, errlen, "%s is not installed (apt-get install postfix)", POSTFIX_BINARY);
        return -1;
    }
    if (geteuid() != 0) {
        snprintf(err, errlen, "the Postfix master daemon must be started as root");
        return -1;
    }
    if (make_dirs(p, err, errlen) != 0)
        return -1;
    if (write_main_cf(p, main_extra) != 0) {
        snprintf(err, errlen, "cannot write %s/main.cf: %s", dir, strerror(errno));
        return -1;
    }
    char why[2048] = "";
    for (int tries = 0; tries < 3; tries++) {
        for (size_t k = 0; k < n; k++) {
            bool again;
            do {
                p->ports[k] = free_port();
                again = false;
                for (size_t j = 0; j < k; j++)
                    again = again || p->ports[j] == p->ports[k];
            } while (again && p->ports[k] != 0);
            if (p->ports[k] == 0) {
                snprintf(err, errlen, "no free port on 127.0.0.1");
                return -1;
            }
        }
        if (write_master_cf(p, svc, n) != 0) {
            snprintf(err, errlen, "cannot write %s/master.cf: %s", dir, strerror(errno));
            return -1;
        }
        if (try_start(p, why, sizeof why) == 0)
            return 0;
    }
    char log[4200];
    char *text = slurp(postfix_log(p, log, sizeof log), NULL);
    snprintf(err, errlen, "Postfix did not start (3 tries): %s\nmaillog:\n%s", why,
             text != NULL ? text : "");
    free(text);
    return -1;
}

void postfix_stop(struct postfix *p)
{
    if (p->dir[0] == '\0')
        return;
    pid_t pid = p->master > 0 ? p->master : master_pid(p);
    p->master = -1;
    if (!alive(pid))
        return;
    struct run_result r;
    if (run_postfix(p, "stop", &r) == 0)
        run_result_free(&r);
    for (int waited = 0; waited < 5000 && alive(pid); waited += 50)
        usleep(50 * 1000);
    if (!alive(pid))
        return;
    /* the master leads its own process group: its children go with it */
    if (getpgid(pid) == pid)
        kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
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
static struct dirent **messages(const struct postfix *p, int *n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/mail/inbox/new", p->dir);
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

size_t postfix_wait(const struct postfix *p, size_t n, int timeout_s)
{
    int have = 0;
    for (int i = 0; i <= timeout_s * 10; i++) {
        struct dirent **list = messages(p, &have); /* have is set here, before it is read */
        free_list(list, have);
        if ((size_t)have >= n)
            break;
        usleep(100 * 1000);
    }
    return (size_t)have;
}

char *postfix_message(const struct postfix *p, size_t i)
{
    int n;
    struct dirent **list = messages(p, &n);
    char *text = NULL;
    if (i < (size_t)n) {
        char path[4600];
        snprintf(path, sizeof path, "%s/mail/inbox/new/%s", p->dir, list[i]->d_name);
        text = slurp(path, NULL);
    }
    free_list(list, n);
    return text;
}
