/* The runner behind criterion/criterion.h in this folder: runs every
 * registered test in a child process, one at a time, and exits non-zero if
 * any failed, crashed or outlived its suite's timeout.  Arguments, if any,
 * name the tests to run ("suite/name"). */
#include "tests/tsan/criterion/criterion.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define TSAN_MAX_TESTS 256

static struct {
    const char *suite, *name;
    void (*fn)(void);
    const struct tsan_suite *config;
} tests[TSAN_MAX_TESTS];
static size_t n_tests;
static const struct tsan_suite *running; /* in a test's child: its suite */

void tsan_register(const char *suite, const char *name, void (*fn)(void),
                   const struct tsan_suite *config)
{
    if (n_tests == TSAN_MAX_TESTS) {
        fputs("tsan runner: too many tests\n", stderr);
        abort();
    }
    tests[n_tests].suite = suite;
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    tests[n_tests].config = config;
    n_tests++;
}

static _Noreturn void tsan_end(void)
{
    fflush(stderr);
    /* like criterion, the suite's fini still runs: it stops what init started */
    const struct tsan_suite *c = running;
    running = NULL;
    if (c != NULL && c->fini != NULL)
        c->fini();
    fflush(NULL);
    _exit(1);
}

void tsan_check(bool ok, const char *file, int line, const char *what, const char *fmt, ...)
{
    if (ok)
        return;
    fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, what);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    tsan_end();
}

void tsan_fail(const char *file, int line, const char *fmt, ...)
{
    fprintf(stderr, "%s:%d: failed: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    tsan_end();
}

static bool wanted(int argc, char **argv, size_t i)
{
    if (argc < 2)
        return true;
    char full[256];
    snprintf(full, sizeof(full), "%s/%s", tests[i].suite, tests[i].name);
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], full) == 0 || strcmp(argv[a], tests[i].suite) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    int failed = 0, ran = 0;
    for (size_t i = 0; i < n_tests; i++) {
        if (!wanted(argc, argv, i))
            continue;
        ran++;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            const struct tsan_suite *c = tests[i].config;
            running = c;
            if (c->timeout > 0)
                alarm((unsigned)c->timeout);
            if (c->init)
                c->init();
            tests[i].fn();
            running = NULL;
            if (c->fini)
                c->fini();
            fflush(NULL);
            _exit(0);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0)
            ;
        bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (!ok)
            failed++;
        if (WIFSIGNALED(st))
            printf("[FAIL] %s::%s: signal %d%s\n", tests[i].suite, tests[i].name, WTERMSIG(st),
                   WTERMSIG(st) == SIGALRM ? " (timed out)" : "");
        else
            printf("[%s] %s::%s\n", ok ? "PASS" : "FAIL", tests[i].suite, tests[i].name);
        fflush(stdout);
    }
    printf("Tested: %d | Passing: %d | Failing: %d\n", ran, ran - failed, failed);
    return failed ? 1 : 0;
}
