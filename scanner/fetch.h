/* HTTP fetches for revocation data (CRLs, OCSP): libcurl's multi interface
 * driven by a libuv loop (curl_multi_socket_action with uv_poll and
 * uv_timer), so fetches run on the engine's control loop with no thread of
 * their own and no blocking call.  Every fetch is bounded: a whole-fetch
 * timeout, a body cap, http/https only (redirects too, and few of them),
 * and a cap on fetches in flight to one host (the rest wait in order). */
#ifndef CS_FETCH_H
#define CS_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct cs_fetch_limits {
    uint64_t timeout_ms; /* whole fetch from the moment it leaves the queue */
    size_t max_bytes;    /* a larger body is an error (checked while it arrives) */
    unsigned per_host;   /* fetches in flight to one host:port at most */
    unsigned max_redirects;
    const char *user_agent;
    /* "host:port:address" entries (curl's CURLOPT_RESOLVE syntax), or NULL */
    const char *const *resolve;
    size_t n_resolve;
};

/* The answer to one fetch.  error is NULL on success (HTTP 2xx; body and len
   hold the body, valid only during the call), else a short phrase without
   a prefix: "timed out", "connection refused", "HTTP 500", "larger than
   33554432 bytes", "cannot resolve host", "too many redirects",
   "unsupported URL (http and https only)", "cancelled", ... */
typedef void (*cs_fetch_cb)(void *arg, const char *error, const unsigned char *body, size_t len);

struct cs_fetcher;

/* NULL (with a line in err) if libcurl cannot be set up. */
struct cs_fetcher *cs_fetcher_new(uv_loop_t *loop, const struct cs_fetch_limits *lim, char *err,
                                  size_t errlen);
/* GETs url, or POSTs body with content_type when body is not NULL.  cb is
   called exactly once, from the loop, never from inside cs_fetch. */
void cs_fetch(struct cs_fetcher *f, const char *url, const void *body, size_t body_len,
              const char *content_type, cs_fetch_cb cb, void *arg);
/* Answers every fetch, queued or in flight, with "cancelled" (from the loop). */
void cs_fetcher_cancel(struct cs_fetcher *f);
/* Fetches started so far (each one a request that left the queue). */
uint64_t cs_fetcher_started(const struct cs_fetcher *f);
/* Answers what is left with "cancelled" before it returns (so the callers'
   arguments may be freed right after) and starts closing the handles; run
   the loop afterwards so they finish closing.  NULL is allowed. */
void cs_fetcher_free(struct cs_fetcher *f);

#endif
