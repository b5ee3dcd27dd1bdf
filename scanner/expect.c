/* --expect (see expect.h).  Each record is compared with every leaf kept:
 * meant for a live directory of some hundreds of names. */
#include "scanner/expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "scanner/cert.h"
#include "scanner/certfiles.h"
#include "scanner/result.h"

static void sha256_hex(X509 *x, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (!X509_digest(x, EVP_sha256(), md, &n))
        return;
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02X", md[i]);
}

/* Keeps the leaf of path's chain: 0, or -1 with why. */
static int keep(struct cs_expect *e, size_t *cap, const char *path, char *why, size_t len)
{
    struct cs_raw_chain chain;
    if (cs_certfile_read(path, &chain, why, len) < 0)
        return -1;
    const unsigned char *der;
    size_t dlen;
    X509 *x = NULL;
    if (cs_raw_chain_at(&chain, 0, &der, &dlen) == 0)
        x = d2i_X509(NULL, &der, (long)dlen);
    cs_raw_chain_free(&chain);
    int64_t nb = x ? cs_asn1_time(X509_get0_notBefore(x)) : CS_INT_NONE;
    if (!x || nb == CS_INT_NONE) {
        X509_free(x);
        return snprintf(why, len, "certificate without a readable notBefore"), -1;
    }
    if (e->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        e->v = cs_xrealloc(e->v, *cap * sizeof(*e->v));
    }
    cs_x509_settle(x); /* shared by the workers from now on */
    struct cs_expect_cert *c = &e->v[e->n++];
    *c = (struct cs_expect_cert){.leaf = x, .path = cs_strdup(path), .not_before = nb};
    sha256_hex(x, c->sha256);
    return 0;
}

struct cs_expect *cs_expect_load(char *const *paths, size_t n, char *err, size_t errlen)
{
    struct cs_expect *e = cs_xcalloc(1, sizeof(*e));
    struct cs_certwalk *w = cs_certwalk_new(paths, n);
    size_t cap = 0;
    char *path, why[256];
    while (cs_certwalk_next(w, &path)) {
        if (e->n == CS_EXPECT_MAX_CERTS) {
            snprintf(err, errlen, "--expect: more than %d certificates (give a narrower path)",
                     CS_EXPECT_MAX_CERTS);
            free(path);
            cs_certwalk_free(w);
            cs_expect_free(e);
            return NULL;
        }
        if (keep(e, &cap, path, why, sizeof(why)) < 0 && e->unreadable++ == 0)
            snprintf(e->first_problem, sizeof(e->first_problem), "%s: %s", path, why);
        free(path);
    }
    cs_certwalk_free(w);
    if (e->n == 0) {
        snprintf(err, errlen, "--expect: no certificate found in %s%s%s", paths[0],
                 e->first_problem[0] ? "; " : "", e->first_problem);
        cs_expect_free(e);
        return NULL;
    }
    return e;
}

const struct cs_expect_cert *cs_expect_newest(const struct cs_expect *e, const char *name,
                                              bool is_ip)
{
    const struct cs_expect_cert *best = NULL;
    if (!e || !name || !name[0])
        return NULL;
    for (size_t i = 0; i < e->n; i++) {
        const struct cs_expect_cert *c = &e->v[i];
        if ((!best || c->not_before > best->not_before) &&
            cs_cert_name_matches(c->leaf, name, is_ip))
            best = c;
    }
    return best;
}

void cs_expect_free(struct cs_expect *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        X509_free(e->v[i].leaf);
        free(e->v[i].path);
    }
    free(e->v);
    free(e);
}
