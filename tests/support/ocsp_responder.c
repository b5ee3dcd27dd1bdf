/* See ocsp_responder.h. */
#include "tests/support/ocsp_responder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/pki.h"
#include "tests/support/runner.h"
#include "tests/support/servers.h"

int ocsp_index_write(const char *path, const char *domain, const struct ocsp_index_entry *e,
                     size_t n)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char expires[16], when[16];
        pki_index_time(e[i].not_after, expires);
        if (e[i].revoked_at == 0) {
            fprintf(fp, "V\t%s\t\t%s\tunknown\t/CN=%s.%s\n", expires, e[i].serial, e[i].name,
                    domain);
        } else {
            pki_index_time(e[i].revoked_at, when);
            fprintf(fp, "R\t%s\t%s,%s\t%s\tunknown\t/CN=%s.%s\n", expires, when, e[i].reason,
                    e[i].serial, e[i].name, domain);
        }
    }
    return fclose(fp) == 0 ? 0 : -1;
}

/* Waits until the responder says it listens (it is not probed with a
   connection: `openssl ocsp` (3.0) hangs on a client that connects and
   closes without a request).  0, or -1 once it has exited. */
static int wait_listening(struct ocsp_responder *r)
{
    for (int waited = 0; waited < 5000; waited += 20) {
        int st;
        if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
            r->pid = -1;
            return -1;
        }
        if (count_lines_with(r->log, "waiting for OCSP client") > 0)
            return 0;
        usleep(20 * 1000);
    }
    return -1;
}

int ocsp_responder_start(struct ocsp_responder *r, const char *index, const char *ca,
                         const char *rsigner, const char *rkey, const char *log, char *err,
                         size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->pid = -1;
    snprintf(r->log, sizeof r->log, "%s", log);
    if (access(OPENSSL_BINARY, X_OK) != 0 || access(STDBUF_BINARY, X_OK) != 0) {
        snprintf(err, errlen, "%s and %s are needed for the OCSP responder", OPENSSL_BINARY,
                 STDBUF_BINARY);
        return -1;
    }
    for (int tries = 0; tries < 3; tries++) {
        uint16_t port = free_port();
        if (port == 0)
            continue;
        char port_s[8];
        snprintf(port_s, sizeof port_s, "%u", port);
        const char *argv[] = {STDBUF_BINARY, "-o0",   OPENSSL_BINARY, "ocsp",     "-index",
                              index,         "-port", port_s,         "-rsigner", rsigner,
                              "-rkey",       rkey,    "-CA",          ca,         "-ignore_err",
                              "-nmin",       "60",    "-text",        NULL};
        unlink(r->log);
        r->pid = spawn_server(argv, r->log);
        if (r->pid > 0 && wait_listening(r) == 0) {
            snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u/", port);
            return 0;
        }
        stop_child(&r->pid);
    }
    char *text = slurp(r->log, NULL);
    snprintf(err, errlen, "openssl ocsp did not start on 127.0.0.1 (3 tries):\n%s",
             text ? text : "");
    free(text);
    return -1;
}

size_t ocsp_responder_requests(const struct ocsp_responder *r)
{
    return count_lines_with(r->log, "Received request");
}

void ocsp_responder_stop(struct ocsp_responder *r)
{
    stop_child(&r->pid);
}
