/* --expect: the certificates on disk that endpoints should be serving (a
 * certbot live directory, or any files and directories --certs takes),
 * loaded once before the scan and read by every worker. */
#ifndef CS_EXPECT_H
#define CS_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define CS_EXPECT_MAX_CERTS 100000 /* leafs kept from the --expect paths */

struct cs_expect_cert {
    X509 *leaf;
    char *path; /* as walked (certbot's live/NAME/fullchain.pem, not its archive file) */
    int64_t not_before;
    char sha256[65]; /* uppercase hex, as the record's sha256 */
};

struct cs_expect {
    struct cs_expect_cert *v;
    size_t n;
    size_t unreadable;       /* files that held no usable certificate */
    char first_problem[512]; /* "PATH: why" of the first of them, or "" */
};

/* Reads the leaf of every certificate file under paths.  NULL with a
   one-line reason in err when nothing could be read at all. */
struct cs_expect *cs_expect_load(char *const *paths, size_t n, char *err, size_t errlen);
/* The newest (by notBefore) certificate that covers name (an IP literal
   when is_ip), or NULL.  Thread-safe. */
const struct cs_expect_cert *cs_expect_newest(const struct cs_expect *e, const char *name,
                                              bool is_ip);
void cs_expect_free(struct cs_expect *e);

#endif
