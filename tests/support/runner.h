/* Runs the certsweep binary as a user would and gets back what it wrote:
 * exit status, standard output and error (the reports it wrote are read back
 * with reports.h, which this header includes); and the loopback, process and
 * file helpers the end-to-end suites share. */
#ifndef CS_TEST_RUNNER_H
#define CS_TEST_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct run_result {
    int status; /* exit status, or 128+signal */
    char *out;  /* standard output, NUL-terminated */
    char *err;  /* standard error */
};

/* Runs `binary args...` (args NULL-terminated) with stdin from stdin_text
   (NULL: /dev/null), and NO_COLOR and the proxy variables libcurl reads
   (http_proxy, https_proxy, ALL_PROXY, no_proxy, ...) unset; waits at most timeout_s seconds
   (then kills it and reports status 137).  0 or -1. */
int run_binary(const char *binary, const char *const *args, const char *stdin_text, int timeout_s,
               struct run_result *r);
/* Same with the certsweep binary the build made. */
int run_certsweep(const char *const *args, const char *stdin_text, struct run_result *r);
void run_result_free(struct run_result *r);

/* Reads a whole file; NULL if it cannot.  *len gets its size if len != NULL. */
char *slurp(const char *path, size_t *len);
/* Writes text to path; 0 or -1. */
int spit(const char *path, const char *text);

/* A port on 127.0.0.1 free for both TCP and UDP a moment ago, or 0. */
uint16_t free_port(void);
/* 1 if something accepts TCP connections on 127.0.0.1:port. */
int port_accepts(uint16_t port);
/* A loopback TCP connection whose reading end holds text and then a reset:
   reads return text, then fail with ECONNRESET (a read error part-way, for
   the targets reader).  Returns the reading end, or -1. */
int reset_after(const char *text);
/* 1 once the pid file at path names pid: the process has bound its sockets
   (so a connect that succeeds reached it, not a process that took the port
   between free_port() and its bind). */
int pid_file_names(const char *path, pid_t pid);
/* SIGTERM to *pid, SIGKILL after 5 s, reaped; *pid becomes -1. */
void stop_child(pid_t *pid);

/* A fresh empty directory under /tmp; caller frees the string. */
char *temp_dir(void);
/* rm -r of a directory made by temp_dir(). */
void remove_tree(const char *dir);
/* dir/NAME, NAME made from fmt, in one of 16 static buffers used in turn (no
   frees to forget; good for 16 paths at a time). */
const char *dir_path(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include "tests/support/reports.h"

#endif
