/* Private PostgreSQL and MariaDB servers for the tests (see dbservers.h). */
#include "tests/support/dbservers.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/runner.h"

#define START_TRIES 3
#define READY_WAIT_MS 60000 /* a first start on a busy machine is slow */

/* Who a server runs as: the test's own user, or "nobody" for a root test
   (PostgreSQL will not run as root). */
struct who {
    bool drop;
    uid_t uid;
    gid_t gid;
};

static int server_user(bool may_be_root, struct who *w, char *err, size_t errlen)
{
    w->drop = false;
    w->uid = geteuid();
    w->gid = getegid();
    if (w->uid != 0 || may_be_root)
        return 0;
    struct passwd *pw = getpwnam("nobody");
    if (pw == NULL) {
        snprintf(err, errlen, "no user \"nobody\" to run the server as (it refuses root)");
        return -1;
    }
    w->drop = true;
    w->uid = pw->pw_uid;
    w->gid = pw->pw_gid;
    return 0;
}

/* Forks argv[0] as its own process group, as w's user, output appended to
   log, killed when the calling thread's process dies.  The pid, or -1. */
static pid_t spawn_as(const char *const *argv, const char *log, const struct who *w)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid < 0 ? -1 : pid;
    setpgid(0, 0);
    if (w->drop && (setgroups(0, NULL) != 0 || setgid(w->gid) != 0 || setuid(w->uid) != 0))
        _exit(126);
    /* after setuid: a change of credentials clears the parent-death signal */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0)
        dup2(in, 0);
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

/* Runs a setup program to its end: 0 when it exits 0, or -1 with its
   output in err. */
static int run_to_end(const char *const *argv, const char *log, const struct who *w, char *err,
                      size_t errlen)
{
    pid_t pid = spawn_as(argv, log, w);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *out = slurp(log, NULL);
        snprintf(err, errlen, "%s failed (status 0x%x):\n%s", argv[0], (unsigned)st,
                 out ? out : "");
        free(out);
        return -1;
    }
    return 0;
}

/* A directory of w's user, mode 0700: 0 or -1. */
static int own_dir(const char *path, const struct who *w, char *err, size_t errlen)
{
    if (mkdir(path, 0700) != 0 || chown(path, w->uid, w->gid) != 0) {
        snprintf(err, errlen, "cannot make %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Copies src to dst, owned by w's user with mode: 0 or -1. */
static int copy_as(const char *src, const char *dst, const struct who *w, mode_t mode, char *err,
                   size_t errlen)
{
    size_t len;
    char *text = slurp(src, &len);
    int rc = -1;
    if (text != NULL && strlen(text) == len && spit(dst, text) == 0 &&
        chown(dst, w->uid, w->gid) == 0 && chmod(dst, mode) == 0)
        rc = 0;
    else
        snprintf(err, errlen, "cannot copy %s to %s: %s", src, dst, strerror(errno));
    free(text);
    return rc;
}

/* The server's lock file names it and carries ready (if given), and the
   port accepts.  0, or -1 once the server exited or the wait ran out. */
static int wait_ready(struct dbserver *s, const char *pid_file, const char *ready)
{
    for (int waited = 0; waited <= READY_WAIT_MS; waited += 50) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = -1;
            return -1;
        }
        char *text = slurp(pid_file, NULL);
        bool up = text != NULL && atol(text) == (long)s->pid &&
                  (ready == NULL || strstr(text, ready) != NULL) && port_accepts(s->port);
        free(text);
        if (up)
            return 0;
        usleep(50 * 1000);
    }
    dbserver_stop(s);
    return -1;
}

/* Starts argv (whose port argument is filled in by make_argv) on a fresh
   port until it is ready, up to START_TRIES times. */
typedef void (*argv_fn)(const struct dbserver *s, const char **argv, char *port_arg,
                        size_t port_len, void *arg);

static int start_server(struct dbserver *s, const struct who *w, argv_fn make_argv, void *arg,
                        const char *pid_file, const char *ready, char *err, size_t errlen)
{
    const char *argv[32];
    char port_arg[32];
    for (int tries = 0; tries < START_TRIES; tries++) {
        s->port = free_port();
        if (s->port == 0) {
            snprintf(err, errlen, "no free port on 127.0.0.1");
            return -1;
        }
        make_argv(s, argv, port_arg, sizeof port_arg, arg);
        s->pid = spawn_as(argv, s->log, w);
        if (s->pid < 0) {
            snprintf(err, errlen, "cannot fork: %s", strerror(errno));
            return -1;
        }
        if (wait_ready(s, pid_file, ready) == 0)
            return 0;
    }
    char *log = slurp(s->log, NULL);
    snprintf(err, errlen, "%s did not start (%d tries); its log:\n%s", argv[0], START_TRIES,
             log ? log : "");
    free(log);
    return -1;
}

/* Sets up s's home under dir, for w's user: 0 or -1. */
static int make_home(struct dbserver *s, const char *dir, const char *name, const char *log,
                     const struct who *w, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->stop_signal = SIGTERM;
    snprintf(s->home, sizeof s->home, "%s/%s", dir, name);
    snprintf(s->log, sizeof s->log, "%s/%s", s->home, log);
    /* the server's user must be able to reach its home through dir */
    if (w->drop && chmod(dir, 0711) != 0) {
        snprintf(err, errlen, "cannot open %s to the server: %s", dir, strerror(errno));
        return -1;
    }
    return own_dir(s->home, w, err, errlen);
}

/* Copies the certificate and key into s's home: 0 or -1. */
static int install_cert(const struct dbserver *s, const struct who *w, const char *cert_file,
                        const char *key_file, char *err, size_t errlen)
{
    char cert[4200], key[4200];
    snprintf(cert, sizeof cert, "%s/server.crt", s->home);
    snprintf(key, sizeof key, "%s/server.key", s->home);
    if (copy_as(cert_file, cert, w, 0644, err, errlen) != 0)
        return -1;
    return copy_as(key_file, key, w, 0600, err, errlen);
}

int postgres_bindir(char *out, size_t len)
{
    glob_t g;
    if (glob(POSTGRES_BIN_GLOB, 0, NULL, &g) != 0)
        return -1;
    /* glob sorts: the last is the newest version (as long as they have the
       same number of digits, as Debian's 13 ... 17 do) */
    snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
    globfree(&g);
    char *slash = strrchr(out, '/');
    if (slash != NULL)
        *slash = '\0';
    return 0;
}

struct pg_args {
    char postgres[4200];
    char data[4200];
    char ssl[3][4300];
};

static void pg_argv(const struct dbserver *s, const char **argv, char *port_arg, size_t port_len,
                    void *arg)
{
    struct pg_args *a = arg;
    snprintf(port_arg, port_len, "%u", s->port);
    size_t n = 0;
    const char *fixed[] = {a->postgres, "-D",        a->data, "-k",    s->home,
                           "-h",        "127.0.0.1", "-p",    port_arg};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[n++] = fixed[i];
    for (size_t i = 0; i < 3 && a->ssl[i][0]; i++) {
        argv[n++] = "-c";
        argv[n++] = a->ssl[i];
    }
    argv[n] = NULL;
}

int postgres_start(struct dbserver *s, const char *dir, const char *cert_file, const char *key_file,
                   char *err, size_t errlen)
{
    struct who w;
    char bin[4096], initdb[4200], init_log[4200];
    static struct pg_args a;
    memset(&a, 0, sizeof a);
    if (postgres_bindir(bin, sizeof bin) != 0) {
        snprintf(err, errlen, "PostgreSQL is not installed (no %s)", POSTGRES_BIN_GLOB);
        return -1;
    }
    if (server_user(false, &w, err, errlen) != 0 ||
        make_home(s, dir, "pg", "postgres.log", &w, err, errlen) != 0)
        return -1;
    s->stop_signal = SIGINT; /* fast shutdown: no waiting for clients */
    snprintf(initdb, sizeof initdb, "%s/initdb", bin);
    snprintf(a.postgres, sizeof a.postgres, "%s/postgres", bin);
    snprintf(a.data, sizeof a.data, "%s/data", s->home);
    snprintf(init_log, sizeof init_log, "%s/initdb.log", s->home);
    const char *init_argv[] = {initdb,  "-D", a.data, "-U",         "postgres",  "-A",
                               "trust", "-E", "UTF8", "--locale=C", "--no-sync", NULL};
    if (run_to_end(init_argv, init_log, &w, err, errlen) != 0)
        return -1;
    if (cert_file != NULL) {
        if (install_cert(s, &w, cert_file, key_file, err, errlen) != 0)
            return -1;
        snprintf(a.ssl[0], sizeof a.ssl[0], "ssl=on");
        snprintf(a.ssl[1], sizeof a.ssl[1], "ssl_cert_file=%s/server.crt", s->home);
        snprintf(a.ssl[2], sizeof a.ssl[2], "ssl_key_file=%s/server.key", s->home);
    } else {
        snprintf(a.ssl[0], sizeof a.ssl[0], "ssl=off");
    }
    char pid_file[4300];
    snprintf(pid_file, sizeof pid_file, "%s/postmaster.pid", a.data);
    /* postmaster.pid's status line says "ready" once connections are taken */
    return start_server(s, &w, pg_argv, &a, pid_file, "ready", err, errlen);
}

#define MY_OPTS 12

struct my_args {
    char opt[MY_OPTS][4300];
};

static void my_argv(const struct dbserver *s, const char **argv, char *port_arg, size_t port_len,
                    void *arg)
{
    struct my_args *a = arg;
    snprintf(port_arg, port_len, "--port=%u", s->port);
    size_t n = 0;
    argv[n++] = MARIADBD_BINARY;
    argv[n++] = "--no-defaults"; /* must come first */
    argv[n++] = port_arg;
    argv[n++] = "--bind-address=127.0.0.1";
    argv[n++] = "--skip-log-bin";
    for (size_t i = 0; i < MY_OPTS && a->opt[i][0]; i++)
        argv[n++] = a->opt[i];
    argv[n] = NULL;
}

int mariadb_start(struct dbserver *s, const char *dir, const char *cert_file, const char *key_file,
                  const char *const *extra, char *err, size_t errlen)
{
    struct who w;
    static struct my_args a;
    memset(&a, 0, sizeof a);
    if (access(MARIADBD_BINARY, X_OK) != 0 || access(MARIADB_INSTALL_DB, X_OK) != 0) {
        snprintf(err, errlen, "MariaDB is not installed (no %s or %s)", MARIADBD_BINARY,
                 MARIADB_INSTALL_DB);
        return -1;
    }
    if (server_user(true, &w, err, errlen) != 0 ||
        make_home(s, dir, "my", "error.log", &w, err, errlen) != 0)
        return -1;
    char data[4200], install_log[4200], datadir[4300];
    snprintf(data, sizeof data, "%s/data", s->home);
    snprintf(datadir, sizeof datadir, "--datadir=%s", data);
    snprintf(install_log, sizeof install_log, "%s/install.log", s->home);
    /* temporary tables in its own directory, not in a /tmp other servers share */
    char tmpdir[4300];
    snprintf(tmpdir, sizeof tmpdir, "--tmpdir=%s", s->home);
    bool root = geteuid() == 0;
    const char *install_argv[] = {MARIADB_INSTALL_DB,
                                  "--no-defaults",
                                  datadir,
                                  "--auth-root-authentication-method=normal",
                                  "--skip-test-db",
                                  tmpdir,
                                  root ? "--user=root" : NULL,
                                  NULL};
    if (run_to_end(install_argv, install_log, &w, err, errlen) != 0)
        return -1;
    size_t n = 0;
    snprintf(a.opt[n++], sizeof a.opt[0], "%s", datadir);
    snprintf(a.opt[n++], sizeof a.opt[0], "%s", tmpdir);
    snprintf(a.opt[n++], sizeof a.opt[0], "--socket=%s/mysqld.sock", s->home);
    snprintf(a.opt[n++], sizeof a.opt[0], "--pid-file=%s/mysqld.pid", s->home);
    snprintf(a.opt[n++], sizeof a.opt[0], "--log-error=%s", s->log);
    if (root)
        snprintf(a.opt[n++], sizeof a.opt[0], "--user=root");
    if (cert_file != NULL) {
        if (install_cert(s, &w, cert_file, key_file, err, errlen) != 0)
            return -1;
        snprintf(a.opt[n++], sizeof a.opt[0], "--ssl-cert=%s/server.crt", s->home);
        snprintf(a.opt[n++], sizeof a.opt[0], "--ssl-key=%s/server.key", s->home);
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL && i < 4; i++)
        snprintf(a.opt[n++], sizeof a.opt[0], "%s", extra[i]);
    char pid_file[4300];
    snprintf(pid_file, sizeof pid_file, "%s/mysqld.pid", s->home);
    return start_server(s, &w, my_argv, &a, pid_file, NULL, err, errlen);
}

void dbserver_stop(struct dbserver *s)
{
    if (s->pid <= 0)
        return;
    kill(-s->pid, s->stop_signal);
    for (int i = 0; i < 200; i++) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        /* WNOWAIT: the leader stays a zombie, so its group id is not reused
           before the SIGKILL below */
        if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == s->pid)
            break;
        usleep(50 * 1000);
    }
    kill(-s->pid, SIGKILL); /* whatever of the group is left */
    int st;
    waitpid(s->pid, &st, 0);
    s->pid = -1;
}
