/* See prosody.h. */
#include "tests/support/prosody.h"

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

static int write_conf(const struct prosody *p, const char *host, const char *cert, const char *key)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/prosody.cfg.lua", p->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    /* Prosody refuses to run as root unless told to (CI runs as root) */
    fprintf(f,
            "daemonize = false\n"
            "run_as_root = %s\n"
            "pidfile = \"%s/prosody.pid\"\n"
            "data_path = \"%s/data\"\n"
            "certificates = \"%s/certs\"\n"
            "log = { { levels = { min = \"debug\" }, to = \"file\", filename = "
            "\"%s/prosody.log\" } }\n"
            "interfaces = { \"127.0.0.1\" }\n"
            "local_interfaces = { \"127.0.0.1\" }\n"
            "c2s_ports = { %u }\n"
            "s2s_ports = { %u }\n"
            "c2s_direct_tls_ports = { }\n"
            "s2s_direct_tls_ports = { }\n"
            "legacy_ssl_ports = { }\n"
            "modules_enabled = { \"tls\", \"saslauth\", \"dialback\", \"posix\" }\n"
            "authentication = \"internal_hashed\"\n"
            "storage = \"internal\"\n"
            "s2s_secure_auth = false\n"
            "VirtualHost \"%s\"\n"
            "    ssl = { certificate = \"%s\", key = \"%s\" }\n",
            geteuid() == 0 ? "true" : "false", p->dir, p->dir, p->dir, p->dir,
            (unsigned)p->c2s_port, (unsigned)p->s2s_port, host, cert, key);
    return fclose(f) == 0 ? 0 : -1;
}

/* Prosody logs each service it opens; a port it cannot bind is logged and
   skipped, so the log, not a connect, says the ports are its own. */
static bool listening(const struct prosody *p, const char *log)
{
    char c2s[96], s2s[96];
    snprintf(c2s, sizeof c2s, "Activated service 'c2s' on [127.0.0.1]:%u", (unsigned)p->c2s_port);
    snprintf(s2s, sizeof s2s, "Activated service 's2s' on [127.0.0.1]:%u", (unsigned)p->s2s_port);
    return count_lines_with(log, c2s) > 0 && count_lines_with(log, s2s) > 0;
}

static void log_tail(const char *log, const char *out, char *err, size_t errlen)
{
    size_t n = strlen(err);
    const char *const files[] = {out, log};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *text = slurp(files[i], &len);
        if (!text)
            continue;
        const char *tail = len > 1500 ? text + len - 1500 : text;
        n +=
            (size_t)snprintf(err + n, n < errlen ? errlen - n : 0, "\n--- %s:\n%s", files[i], tail);
        free(text);
        if (n >= errlen)
            break;
    }
}

static int try_start(struct prosody *p, char *err, size_t errlen)
{
    char conf[4200], log[4200], out[4200];
    snprintf(conf, sizeof conf, "%s/prosody.cfg.lua", p->dir);
    snprintf(log, sizeof log, "%s/prosody.log", p->dir);
    snprintf(out, sizeof out, "%s/prosody.out", p->dir);
    unlink(log);
    const char *argv[] = {PROSODY_BINARY, "--config", conf, NULL};
    p->pid = spawn_server(argv, out);
    if (p->pid < 0) {
        snprintf(err, errlen, "cannot start %s: %s", PROSODY_BINARY, strerror(errno));
        return -1;
    }
    for (int i = 0; i < 400; i++) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = -1;
            snprintf(err, errlen, "prosody exited (status %d)", st);
            log_tail(log, out, err, errlen);
            return -1;
        }
        if (listening(p, log))
            return 0;
        if (count_lines_with(log, "Failed to open server port") > 0) {
            stop_child(&p->pid); /* taken since free_port(): new ports */
            snprintf(err, errlen, "prosody could not bind 127.0.0.1:%u or :%u",
                     (unsigned)p->c2s_port, (unsigned)p->s2s_port);
            log_tail(log, out, err, errlen);
            return -1;
        }
        usleep(50 * 1000);
    }
    stop_child(&p->pid);
    snprintf(err, errlen, "prosody did not listen on 127.0.0.1:%u and :%u in 20 s",
             (unsigned)p->c2s_port, (unsigned)p->s2s_port);
    log_tail(log, out, err, errlen);
    return -1;
}

int prosody_start(struct prosody *p, const char *dir, const char *host, const char *cert,
                  const char *key, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->pid = -1;
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    if (access(PROSODY_BINARY, X_OK) != 0) {
        snprintf(err, errlen, "%s is not installed (apt-get install prosody)", PROSODY_BINARY);
        return -1;
    }
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/data", dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/certs", dir);
    mkdir(sub, 0700);
    for (int tries = 0; tries < 3; tries++) {
        p->c2s_port = free_port();
        do
            p->s2s_port = free_port();
        while (p->s2s_port == p->c2s_port && p->s2s_port != 0);
        if (p->c2s_port == 0 || p->s2s_port == 0) {
            snprintf(err, errlen, "no free port on 127.0.0.1");
            return -1;
        }
        if (write_conf(p, host, cert, key) != 0) {
            snprintf(err, errlen, "cannot write %s/prosody.cfg.lua: %s", dir, strerror(errno));
            return -1;
        }
        if (try_start(p, err, errlen) == 0)
            return 0;
    }
    return -1;
}

void prosody_stop(struct prosody *p)
{
    stop_child(&p->pid);
}
