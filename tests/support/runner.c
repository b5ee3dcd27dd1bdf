/* Test runner helpers (see runner.h). */
#include "tests/support/runner.h"

#include "scanner/result.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CS_BINARY
#define CS_BINARY "certsweep"
#endif

/* What a run's output or a report read back may hold: far past what any test
   writes, short of exhausting the machine */
#define RUNNER_OUTPUT_MAX ((size_t)1 << 30)

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every JSON and JSON Lines report a certsweep run wrote must match the
   shipped schema (reports.h, validate_run_reports): 0, or -1 with the
   validator's message on stderr. */
static int runner_check_reports(const char *binary, const char *const *args,
                                const struct run_result *r)
{
    const char *base = strrchr(binary, '/');
    if (strcmp(base != NULL ? base + 1 : binary, "certsweep") != 0)
        return 0;
    char err[8192];
    if (validate_run_reports(args, r, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "%s\n", err);
    return -1;
}

int run_binary(const char *binary, const char *const *args, const char *stdin_text, int timeout_s,
               struct run_result *r)
{
    int in[2], out[2], err[2];
    memset(r, 0, sizeof(*r));
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return -1;
    size_t argc = 0;
    while (args[argc])
        argc++;
    char **argv = calloc(argc + 2, sizeof(*argv));
    argv[0] = (char *)binary;
    for (size_t i = 0; i < argc; i++)
        argv[i + 1] = (char *)args[i];
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        unsetenv("NO_COLOR");
        /* libcurl (revocation fetches) honours these: tests talk to 127.0.0.1 only */
        static const char *const proxy_vars[] = {"http_proxy",  "https_proxy", "HTTP_PROXY",
                                                 "HTTPS_PROXY", "ALL_PROXY",   "all_proxy",
                                                 "no_proxy",    "NO_PROXY"};
        for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
            unsetenv(proxy_vars[i]);
        execv(binary, argv);
        _exit(127);
    }
    free(argv);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    signal(SIGPIPE, SIG_IGN);
    if (stdin_text) {
        size_t len = strlen(stdin_text), off = 0;
        while (off < len) {
            ssize_t w = write(in[1], stdin_text + off, len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    close(in[1]);
    struct cs_buf bo, be;
    cs_buf_init(&bo, RUNNER_OUTPUT_MAX);
    cs_buf_init(&be, RUNNER_OUTPUT_MAX);
    cs_buf_append(&bo, "", 0);
    cs_buf_append(&be, "", 0);
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2, killed = 0;
    int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
    while (open_fds > 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 && !killed) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        int n = poll(fds, 2, left > 0 ? (int)left : 1000);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[65536];
            ssize_t got = read(fds[i].fd, chunk, sizeof(chunk));
            if (got <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else if (cs_buf_append(i ? &be : &bo, chunk, (size_t)got) < 0 && !killed) {
                /* a runaway child: ended like one that outlived its timeout */
                kill(pid, SIGKILL);
                killed = 1;
            }
        }
    }
    int st = 0;
    waitpid(pid, &st, 0);
    r->status = killed ? 137 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = bo.p;
    r->err = be.p;
    return runner_check_reports(binary, args, r);
}

int run_certsweep(const char *const *args, const char *stdin_text, struct run_result *r)
{
    return run_binary(CS_BINARY, args, stdin_text, 120, r);
}

void run_result_free(struct run_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
}

char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct cs_buf b;
    cs_buf_init(&b, RUNNER_OUTPUT_MAX);
    cs_buf_append(&b, "", 0);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (cs_buf_append(&b, chunk, n) < 0) {
            fclose(f);
            cs_buf_free(&b);
            return NULL;
        }
    fclose(f);
    if (len)
        *len = b.len;
    return b.p;
}

int spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t len = strlen(text);
    int rc = fwrite(text, 1, len, f) == len ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

static struct sockaddr_in loopback(uint16_t port)
{
    return (struct sockaddr_in){
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

uint16_t free_port(void)
{
    for (int tries = 0; tries < 20; tries++) {
        int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof(sa);
        int ok = t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                 getsockname(t, (struct sockaddr *)&sa, &len) == 0 &&
                 bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        if (t >= 0)
            close(t);
        if (u >= 0)
            close(u);
        if (ok)
            return ntohs(sa.sin_port);
    }
    return 0;
}

int port_accepts(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = loopback(port);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

int pid_file_names(const char *path, pid_t pid)
{
    char *text = slurp(path, NULL);
    int ok = text && atol(text) == (long)pid;
    free(text);
    return ok;
}

void stop_child(pid_t *pid)
{
    if (*pid <= 0)
        return;
    int st;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = -1;
            return;
        }
        usleep(50 * 1000);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, &st, 0);
    *pid = -1;
}

char *temp_dir(void)
{
    char *d = strdup("/tmp/certsweep-test-XXXXXX");
    if (!d || !mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void remove_tree(const char *dir)
{
    if (dir && strncmp(dir, "/tmp/certsweep-test-", 20) == 0)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int reset_after(const char *text)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, s = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    size_t len = strlen(text);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) != 0 ||
        (c = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        connect(c, (struct sockaddr *)&a, sizeof(a)) != 0 || (s = accept(l, NULL, NULL)) < 0 ||
        write(s, text, len) != (ssize_t)len)
        goto fail;
    close(l);
    l = -1;
    for (int queued = 0; queued < (int)len; usleep(1000)) /* the text is in the queue ... */
        if (ioctl(c, FIONREAD, &queued) != 0)
            goto fail;
    struct linger lg = {1, 0};
    if (setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0)
        goto fail;
    close(s); /* ... then an RST */
    s = -1;
    for (;;) {
        struct pollfd p = {.fd = c, .events = POLLRDHUP};
        if (poll(&p, 1, -1) < 0)
            goto fail;
        if (p.revents & (POLLERR | POLLHUP))
            return c;
    }
fail:
    if (l >= 0)
        close(l);
    if (s >= 0)
        close(s);
    if (c >= 0)
        close(c);
    return -1;
}

const char *dir_path(const char *dir, const char *fmt, ...)
{
    static char bufs[16][4096];
    static unsigned next;
    char name[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}
