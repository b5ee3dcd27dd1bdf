/* Server programs for the tests (see servers.h). */
#include "tests/support/servers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/runner.h"

pid_t spawn_server(const char *const *argv, const char *log)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid < 0 ? -1 : pid;
    /* dies with the test process, even if that is killed on a timeout */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log != NULL ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0)
        dup2(in, 0);
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

int wait_server(pid_t *pid, uint16_t port, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        int st;
        if (*pid <= 0)
            return -1;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = -1;
            return -1;
        }
        if (port_accepts(port))
            return 0;
        usleep(50 * 1000);
    }
    stop_child(pid);
    return -1;
}

static int write_conf(const struct nginx *n, nginx_servers_fn servers, void *arg)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/nginx.conf", n->dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    const char *d = n->dir;
    fprintf(fp,
            "daemon off;\n"
            "master_process off;\n"
            "worker_processes 1;\n"
            "pid %s/nginx.pid;\n"
            "error_log %s/error.log notice;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            "    client_body_temp_path %s/client_body;\n"
            "    proxy_temp_path %s/proxy;\n"
            "    fastcgi_temp_path %s/fastcgi;\n"
            "    uwsgi_temp_path %s/uwsgi;\n"
            "    scgi_temp_path %s/scgi;\n",
            d, d, d, d, d, d, d);
    servers(fp, d, n->ports, arg);
    fprintf(fp, "}\n");
    return fclose(fp) == 0 ? 0 : -1;
}

/* One start with the ports chosen: 0 once nginx serves them all. */
static int try_start(struct nginx *n)
{
    char conf[4200], log[4200], out[4200], pid_path[4200];
    snprintf(conf, sizeof conf, "%s/nginx.conf", n->dir);
    snprintf(log, sizeof log, "%s/error.log", n->dir);
    snprintf(out, sizeof out, "%s/nginx.out", n->dir);
    snprintf(pid_path, sizeof pid_path, "%s/nginx.pid", n->dir);
    unlink(pid_path);
    const char *argv[] = {NGINX_BINARY, "-p", n->dir, "-c", conf, "-e", log, NULL};
    n->pid = spawn_server(argv, out);
    if (n->pid < 0)
        return -1;
    for (int i = 0; i < 100; i++) {
        int st;
        if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
            n->pid = -1;
            return -1;
        }
        /* the pid file first: a port that accepts is then nginx's, not a
           process that took it between free_port() and nginx's bind */
        bool up = pid_file_names(pid_path, n->pid);
        for (size_t k = 0; up && k < n->n_ports; k++)
            up = port_accepts(n->ports[k]);
        if (up)
            return 0;
        usleep(50 * 1000);
    }
    stop_child(&n->pid);
    return -1;
}

int nginx_start(struct nginx *n, const char *dir, size_t n_ports, nginx_servers_fn servers,
                void *arg, char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->pid = -1;
    n->n_ports = n_ports;
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    if (n_ports > NGINX_MAX_PORTS) {
        snprintf(err, errlen, "at most %d nginx ports", NGINX_MAX_PORTS);
        return -1;
    }
    for (int tries = 0; tries < 3; tries++) {
        for (size_t k = 0; k < n_ports; k++) {
            bool again;
            do {
                n->ports[k] = free_port();
                again = false;
                for (size_t j = 0; j < k; j++)
                    again = again || n->ports[j] == n->ports[k];
            } while (again && n->ports[k] != 0);
            if (n->ports[k] == 0) {
                snprintf(err, errlen, "no free port on 127.0.0.1");
                return -1;
            }
        }
        if (write_conf(n, servers, arg) != 0) {
            snprintf(err, errlen, "cannot write %s/nginx.conf: %s", dir, strerror(errno));
            return -1;
        }
        if (try_start(n) == 0)
            return 0;
    }
    char log[4200], out[4200];
    snprintf(log, sizeof log, "%s/error.log", dir);
    snprintf(out, sizeof out, "%s/nginx.out", dir);
    char *elog = slurp(log, NULL), *eout = slurp(out, NULL);
    snprintf(err, errlen, "nginx did not start within 5 s (3 tries)\nerror.log:\n%s\noutput:\n%s",
             elog != NULL ? elog : "", eout != NULL ? eout : "");
    free(elog);
    free(eout);
    return -1;
}

void nginx_stop(struct nginx *n)
{
    stop_child(&n->pid);
}

size_t count_lines_with(const char *path, const char *needle)
{
    char *text = slurp(path, NULL);
    size_t count = 0;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *end = strchr(line, '\n');
        if (end != NULL)
            *end = '\0';
        if (strstr(line, needle) != NULL)
            count++;
        line = end != NULL ? end + 1 : NULL;
    }
    free(text);
    return count;
}
