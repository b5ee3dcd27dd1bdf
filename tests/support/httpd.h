/* A scripted HTTP/1.1 server for tests: one port on 127.0.0.1 served by a
 * libuv loop on a thread of its own.  Each path has a scripted answer (a
 * status with a body, a redirect, silence, an echo of the request); the
 * server counts requests per path and the connections open at once.  One
 * request per connection ("Connection: close") unless the answer keeps the
 * connection alive. */
#ifndef CS_TEST_HTTPD_H
#define CS_TEST_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct httpd_answer {
    int status;           /* 0: never answer (read the request, then stay silent); -1: read the
                             request, then close the connection without a word */
    const char *location; /* a Location header, or NULL */
    const void *body;     /* copied by httpd_route; NULL for none */
    size_t len;
    bool chunked;      /* Transfer-Encoding: chunked instead of Content-Length */
    bool echo;         /* the body is the request as received: line, headers, body */
    unsigned delay_ms; /* wait this long after the request before answering */
    bool keep_alive;   /* "Connection: keep-alive": the connection waits for another request */
};

struct httpd;

/* Binds 127.0.0.1 on a port of the kernel's choice and starts serving (paths
   without a route get a 404).  NULL on failure (a line on stderr says why).
   Ignores SIGPIPE in the whole process. */
struct httpd *httpd_start(void);
uint16_t httpd_port(const struct httpd *h);
/* Sets (or replaces) the answer for requests whose path, before any '?', is
   path.  Safe while the server runs. */
void httpd_route(struct httpd *h, const char *path, const struct httpd_answer *a);
/* Shorthand: status with a NUL-terminated body (NULL: none). */
void httpd_route_text(struct httpd *h, const char *path, int status, const char *body);
/* Requests received so far for path (NULL: for any path). */
unsigned httpd_requests(struct httpd *h, const char *path);
/* A copy of the last request received for path: request line, headers and
   body as they came (NUL-terminated; *len gets the length when len != NULL);
   NULL if none came.  The caller frees it. */
char *httpd_last_request(struct httpd *h, const char *path, size_t *len);
/* Connections accepted so far / open now / at most at once so far. */
unsigned httpd_accepted(struct httpd *h);
unsigned httpd_open(struct httpd *h);
unsigned httpd_max_open(struct httpd *h);
/* Stops the thread, closes every connection and frees everything. */
void httpd_stop(struct httpd *h);

#endif
