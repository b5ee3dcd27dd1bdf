/* Name resolution with c-ares, driven by the engine's libuv loop (uv_poll on
 * c-ares' sockets, one uv_timer for its timeouts).  One query per distinct
 * name; answers are kept for the scan and shared by every target that names
 * the same host. */
#ifndef CS_RESOLVE_H
#define CS_RESOLVE_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#define CS_RESOLVE_MAX_ADDRS 8 /* kept per name: the addresses a probe tries in turn */
#define CS_RESOLVE_MAX_ALL 64  /* kept per name with --all-addresses */

struct cs_resolver;

/* error NULL: n addresses (1..the limit, port 0; CS_RESOLVE_MAX_ADDRS unless
   cs_resolver_limit says otherwise).  Otherwise error
   is a short phrase ("NXDOMAIN", "timeout", ...) and n is 0.  Called from the
   loop, never from inside cs_resolve(). */
typedef void (*cs_resolve_cb)(void *arg, const char *error, const struct sockaddr_storage *addrs,
                              size_t n);

/* server: NULL for the system's resolv.conf, or "ADDR[:PORT]"/"[V6]:PORT".
   Returns 0, or a negative code and *out untouched. */
int cs_resolver_new(struct cs_resolver **out, uv_loop_t *loop, const char *server,
                    unsigned timeout_ms, char *err, size_t errlen);
/* Before the first lookup: ask only for family's addresses (AF_INET: A
   records, AF_INET6: AAAA; AF_UNSPEC: both), and keep at most max of a
   name (1..CS_RESOLVE_MAX_ALL), IPv4 first, in the order the server gave. */
void cs_resolver_limit(struct cs_resolver *r, int family, size_t max);
/* Starts (or joins) the lookup of host; cb runs exactly once. */
void cs_resolve(struct cs_resolver *r, const char *host, cs_resolve_cb cb, void *arg);
/* Ends every lookup in progress: their callbacks run with "cancelled". */
void cs_resolver_cancel(struct cs_resolver *r);
/* Closes handles; pending callbacks run with error "cancelled" first. */
void cs_resolver_close(struct cs_resolver *r);
/* Queries sent so far (for tests and statistics). */
unsigned long cs_resolver_queries(const struct cs_resolver *r);

#endif
