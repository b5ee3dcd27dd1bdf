/* vsftpd for the tests (see ftpd.h). */
#include "tests/support/ftpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/runner.h"
#include "tests/support/servers.h"

static int write_conf(const struct vsftpd *v, const char *chain, const char *key)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/vsftpd.conf", v->dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    /* vsftpd refuses to run with both kinds of login off: local logins are
       on, and none is ever tried */
    fprintf(fp,
            "listen=YES\n"
            "listen_ipv6=NO\n"
            "listen_address=127.0.0.1\n"
            "listen_port=%u\n"
            "background=NO\n"
            "anonymous_enable=NO\n"
            "local_enable=YES\n"
            "write_enable=NO\n"
            "xferlog_enable=NO\n"
            "syslog_enable=NO\n"
            "secure_chroot_dir=%s/empty\n"
            "isolate=NO\n"
            "isolate_network=NO\n",
            v->port, v->dir);
    /* without root there is no chroot and no other user to drop to */
    if (geteuid() != 0)
        fprintf(fp, "run_as_launching_user=YES\n");
    if (chain != NULL)
        fprintf(fp,
                "ssl_enable=YES\n"
                "rsa_cert_file=%s\n"
                "rsa_private_key_file=%s\n",
                chain, key);
    else
        fprintf(fp, "ssl_enable=NO\n");
    return fclose(fp) == 0 ? 0 : -1;
}

/* vsftpd's own greeting on port (not another program's that took it). */
static bool greets(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char buf[64] = "";
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (got < sizeof buf - 1 && !memchr(buf, '\n', got) && poll(&p, 1, 2000) == 1) {
            ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            buf[got] = '\0';
        }
    }
    close(fd);
    return strncmp(buf, "220 (vsFTPd ", 12) == 0;
}

/* One start on the port chosen: 0 once vsftpd greets there. */
static int try_start(struct vsftpd *v)
{
    char conf[4200], log[4200];
    snprintf(conf, sizeof conf, "%s/vsftpd.conf", v->dir);
    snprintf(log, sizeof log, "%s/vsftpd.log", v->dir);
    unlink(log); /* the last try's output is the one to show */
    const char *argv[] = {VSFTPD_BINARY, conf, NULL};
    v->pid = spawn_server(argv, log);
    if (v->pid < 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(v->pid, &st, WNOHANG) == v->pid) {
            v->pid = -1;
            return -1;
        }
        if (port_accepts(v->port) && greets(v->port))
            return 0;
        usleep(50 * 1000);
    }
    stop_child(&v->pid);
    return -1;
}

int vsftpd_start(struct vsftpd *v, const char *dir, const char *chain, const char *key, char *err,
                 size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->pid = -1;
    snprintf(v->dir, sizeof v->dir, "%s", dir);
    char empty[4200];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(empty, 0755) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "cannot make %s: %s", empty, strerror(errno));
        return -1;
    }
    for (int tries = 0; tries < 3; tries++) {
        v->port = free_port();
        if (v->port == 0) {
            snprintf(err, errlen, "no free port on 127.0.0.1");
            return -1;
        }
        if (write_conf(v, chain, key) != 0) {
            snprintf(err, errlen, "cannot write %s/vsftpd.conf: %s", dir, strerror(errno));
            return -1;
        }
        if (try_start(v) == 0)
            return 0;
    }
    char log[4200];
    snprintf(log, sizeof log, "%s/vsftpd.log", dir);
    char *text = slurp(log, NULL);
    snprintf(err, errlen, "vsftpd did not greet within 5 s (3 tries); its last output:\n%s",
             text != NULL ? text : "");
    free(text);
    return -1;
}

void vsftpd_stop(struct vsftpd *v)
{
    stop_child(&v->pid);
}
