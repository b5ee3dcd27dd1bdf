/* A real OCSP responder for the tests: `openssl ocsp` answering from an
 * `openssl ca` index file on 127.0.0.1, and that index file's writer.  The
 * responder's -text log (each request and response) is kept, unbuffered,
 * so a test can count what was asked. */
#ifndef CS_TEST_OCSP_RESPONDER_H
#define CS_TEST_OCSP_RESPONDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STDBUF_BINARY "/usr/bin/stdbuf" /* unbuffers the responder's -text log */

/* One line of the index: V (valid), or R with a revocation time and reason.
   The responder looks serials up; a serial not listed answers unknown. */
struct ocsp_index_entry {
    const char *name;   /* the subject is /CN=NAME.DOMAIN */
    const char *serial; /* hex, as BN_bn2hex writes it */
    int64_t not_after;
    int64_t revoked_at; /* 0: valid */
    const char *reason; /* openssl ca's name: keyCompromise, superseded, ... */
};

/* Writes the index at path; 0, or -1 with errno set. */
int ocsp_index_write(const char *path, const char *domain, const struct ocsp_index_entry *e,
                     size_t n);

struct ocsp_responder {
    pid_t pid; /* -1 when not running */
    char url[64];
    char log[4096];
};

/* Starts `openssl ocsp -index INDEX -CA CA -rsigner RSIGNER -rkey RKEY -nmin 60`
   on a free port (three tries), its log at log, and waits until it listens.
   0, or -1 with the log's text (or why) in err. */
int ocsp_responder_start(struct ocsp_responder *r, const char *index, const char *ca,
                         const char *rsigner, const char *rkey, const char *log, char *err,
                         size_t errlen);
/* Requests the responder has received so far. */
size_t ocsp_responder_requests(const struct ocsp_responder *r);
/* Stops and reaps it; nothing if not running. */
void ocsp_responder_stop(struct ocsp_responder *r);

#endif
