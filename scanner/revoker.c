/* The revocation service (see revoker.h).  An OCSP entry is keyed by the
 * responder URL and the request's CertID (issuer name and key hashes and the
 * serial), a CRL entry by its URL.  An entry is pending while its fetch is
 * in flight, with the queries that wait for it; once done it keeps the
 * answer (OCSP) or the CRL.  A CRL is kept parsed only until its signature
 * verifies with an issuer's key; then it is boiled down to an index of its
 * entries (about its DER size, an eighth of OpenSSL's parsed form) and each
 * probe costs a name comparison, a key comparison and a binary search.
 * Both tables are bounded: the oldest finished entries go first. */
#include "scanner/revoker.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#define OCSP_BUCKETS 4096
#define OCSP_KEEP 65536 /* answers remembered at most */
#define CRL_BUCKETS 256
#define CRL_KEEP_BYTES ((size_t)512 << 20) /* memory for CRLs, at most */
#define CRL_PARSED_FACTOR                                                                          \
    8 /* a parsed X509_CRL takes about 8 times its DER size (OpenSSL
                               3.0, 350,000 entries: 8.7 MB of DER, 68 MB of heap; its
                               index 10 MB) */
#define KEY_BYTES 32

struct ocsp_entry {
    unsigned char key[KEY_BYTES];
    struct cs_revoker *rv;
    OCSP_REQUEST *req; /* while the fetch is in flight: its nonce */
    bool done;
    struct cs_rev_answer answer;
    struct cs_rev_query *waiters;
    struct ocsp_entry *next;  /* in its bucket */
    struct ocsp_entry *newer; /* age list */
};

struct crl_entry {
    char *url;
    struct cs_revoker *rv;
    bool done;
    X509_CRL *crl;           /* done, until a key verified it: the parsed CRL */
    struct cs_crl_index *ix; /* once a key verified it: its index */
    EVP_PKEY *key;           /* that key */
    char error[160];         /* done, neither crl nor ix: why */
    size_t bytes;            /* memory it takes, about */
    struct cs_rev_query *waiters;
    struct crl_entry *next;
    struct crl_entry *newer;
};

struct cs_revoker {
    struct cs_fetcher *fetcher;
    bool cancelled;
    struct ocsp_entry *ocsp[OCSP_BUCKETS];
    struct ocsp_entry *ocsp_oldest, *ocsp_newest;
    size_t ocsp_count;
    struct crl_entry *crl[CRL_BUCKETS];
    struct crl_entry *crl_oldest, *crl_newest;
    size_t crl_bytes;
    struct cs_revoker_stats stats;
};

static void ocsp_step(struct cs_revoker *rv, struct cs_rev_query *q);
static void crl_step(struct cs_revoker *rv, struct cs_rev_query *q);

struct cs_revoker *cs_revoker_new(uv_loop_t *loop, const struct cs_fetch_limits *lim, char *err,
                                  size_t errlen)
{
    struct cs_revoker *rv = cs_xcalloc(1, sizeof(*rv));
    rv->fetcher = cs_fetcher_new(loop, lim, err, errlen);
    if (!rv->fetcher) {
        free(rv);
        return NULL;
    }
    return rv;
}

static void part_done(struct cs_rev_query *q)
{
    if (--q->pending == 0)
        q->done(q); /* q may be gone after this */
}

void cs_revoker_check(struct cs_revoker *rv, struct cs_rev_query *q)
{
    cs_rev_answer_init(&q->ocsp_answer, CS_SRC_OCSP);
    cs_rev_answer_init(&q->crl_answer, CS_SRC_CRL);
    q->ocsp_next = q->crl_next = 0;
    q->pending = 1; /* held until both sources are under way */
    /* a chain that leads to no trust anchor names URLs a stranger chose:
       nothing is fetched for it */
    if ((q->ocsp || q->crl) && !cs_rev_chain_anchored(&q->subject)) {
        if (q->ocsp)
            cs_rev_unchecked(&q->ocsp_answer, "chain not trusted");
        if (q->crl)
            cs_rev_unchecked(&q->crl_answer, "chain not trusted");
        part_done(q);
        return;
    }
    if (q->ocsp) {
        q->pending++;
        ocsp_step(rv, q);
    }
    if (q->crl) {
        q->pending++;
        crl_step(rv, q);
    }
    part_done(q);
}

static bool is_http(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* The next http(s) URI of l from *next on, or NULL. */
static const char *next_uri(const struct cs_strlist *l, size_t *next)
{
    while (l && *next < l->n) {
        const char *u = l->v[(*next)++];
        if (is_http(u))
            return u;
    }
    return NULL;
}

/* No URI left to try: the answer stands as the last try left it, or says
   why nothing was tried. */
static void no_more_uris(struct cs_rev_answer *a, const struct cs_strlist *l, const char *what)
{
    if (a->state != CS_REV_UNCHECKED || !l || l->n == 0)
        return; /* an earlier URI's answer, or nothing to check */
    cs_rev_fail(a, "no http or https %s URI", what);
}

/* The next URI a source of q should try, or NULL once q's answer from that
   source is final (q's part is then done: q may be gone). */
static const char *step_url(struct cs_revoker *rv, struct cs_rev_query *q,
                            const struct cs_strlist *uris, size_t *next, struct cs_rev_answer *a,
                            const char *what)
{
    const char *url = next_uri(uris, next);
    if (!url)
        no_more_uris(a, uris, what);
    else if (rv->cancelled)
        cs_rev_fail(a, "cancelled");
    else if (!q->subject.issuer)
        cs_rev_fail(a, "issuer certificate unknown");
    else
        return url;
    part_done(q);
    return NULL;
}

/* ---- OCSP ---- */

static size_t ocsp_bucket(const unsigned char *key)
{
    size_t h;
    memcpy(&h, key, sizeof(h));
    return h % OCSP_BUCKETS;
}

static void ocsp_entry_free(struct ocsp_entry *e)
{
    OCSP_REQUEST_free(e->req);
    free(e);
}

static void ocsp_evict(struct cs_revoker *rv)
{
    while (rv->ocsp_count > OCSP_KEEP && rv->ocsp_oldest && rv->ocsp_oldest->done) {
        struct ocsp_entry *e = rv->ocsp_oldest;
        rv->ocsp_oldest = e->newer;
        if (!rv->ocsp_oldest)
            rv->ocsp_newest = NULL;
        struct ocsp_entry **pp = &rv->ocsp[ocsp_bucket(e->key)];
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        rv->ocsp_count--;
        ocsp_entry_free(e);
    }
}

/* Takes an entry's answer: done, or on to the next URI after a failure. */
static void ocsp_take(struct cs_revoker *rv, struct cs_rev_query *q, const struct ocsp_entry *e)
{
    q->ocsp_answer = e->answer;
    if (e->answer.state == CS_REV_ERROR && q->ocsp_next < q->ocsp_uris->n) {
        ocsp_step(rv, q);
        return;
    }
    part_done(q);
}

static void ocsp_fetched(void *arg, const char *error, const unsigned char *body, size_t len)
{
    struct ocsp_entry *e = arg;
    struct cs_revoker *rv = e->rv;
    struct cs_rev_query *q = e->waiters;
    if (error) {
        cs_rev_answer_init(&e->answer, CS_SRC_OCSP);
        cs_rev_fail(&e->answer, "%s", error);
    } else if (q) {
        cs_ocsp_check(&e->answer, CS_SRC_OCSP, body, len, &q->subject, e->req);
    } else {
        cs_rev_answer_init(&e->answer, CS_SRC_OCSP);
        cs_rev_fail(&e->answer, "cancelled");
    }
    OCSP_REQUEST_free(e->req);
    e->req = NULL;
    e->done = true;
    e->waiters = NULL;
    while (q) {
        struct cs_rev_query *next = q->next_ocsp;
        q->next_ocsp = NULL;
        ocsp_take(rv, q, e);
        q = next;
    }
    ocsp_evict(rv);
}

static void ocsp_step(struct cs_revoker *rv, struct cs_rev_query *q)
{
    const char *url = step_url(rv, q, q->ocsp_uris, &q->ocsp_next, &q->ocsp_answer, "OCSP");
    if (!url)
        return;
    const struct cs_rev_subject *s = &q->subject;
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, s->leaf, s->issuer);
    unsigned char *der = NULL;
    int n = id ? i2d_OCSP_CERTID(id, &der) : -1;
    OCSP_CERTID_free(id);
    unsigned char key[KEY_BYTES];
    unsigned int klen = 0;
    EVP_MD_CTX *md = n > 0 ? EVP_MD_CTX_new() : NULL;
    bool keyed = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
                 EVP_DigestUpdate(md, url, strlen(url) + 1) &&
                 EVP_DigestUpdate(md, der, (size_t)n) && EVP_DigestFinal_ex(md, key, &klen);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ERR_clear_error();
    if (!keyed) {
        cs_rev_fail(&q->ocsp_answer, "cannot build the request");
        part_done(q);
        return;
    }
    size_t b = ocsp_bucket(key);
    for (struct ocsp_entry *e = rv->ocsp[b]; e; e = e->next) {
        if (memcmp(e->key, key, KEY_BYTES) != 0)
            continue;
        rv->stats.ocsp_hits++;
        if (e->done) {
            ocsp_take(rv, q, e);
        } else {
            q->next_ocsp = e->waiters;
            e->waiters = q;
        }
        return;
    }
    struct ocsp_entry *e = cs_xcalloc(1, sizeof(*e));
    memcpy(e->key, key, KEY_BYTES);
    e->rv = rv;
    size_t body_len;
    unsigned char *body;
    e->req = cs_ocsp_request(s, &body, &body_len);
    if (!e->req) {
        free(e);
        cs_rev_fail(&q->ocsp_answer, "cannot build the request");
        part_done(q);
        return;
    }
    e->waiters = q;
    q->next_ocsp = NULL;
    e->next = rv->ocsp[b];
    rv->ocsp[b] = e;
    if (rv->ocsp_newest)
        rv->ocsp_newest->newer = e;
    else
        rv->ocsp_oldest = e;
    rv->ocsp_newest = e;
    rv->ocsp_count++;
    rv->stats.ocsp_fetches++;
    cs_fetch(rv->fetcher, url, body, body_len, "application/ocsp-request", ocsp_fetched, e);
    OPENSSL_free(body);
}

/* ---- CRLs ---- */

static size_t crl_bucket(const char *url)
{
    size_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h % CRL_BUCKETS;
}

static void crl_entry_free(struct crl_entry *e)
{
    X509_CRL_free(e->crl);
    cs_crl_index_free(e->ix);
    EVP_PKEY_free(e->key);
    free(e->url);
    free(e);
}

static void crl_evict(struct cs_revoker *rv)
{
    while (rv->crl_bytes > CRL_KEEP_BYTES && rv->crl_oldest && rv->crl_oldest->done &&
           rv->crl_oldest != rv->crl_newest) {
        struct crl_entry *e = rv->crl_oldest;
        rv->crl_oldest = e->newer;
        struct crl_entry **pp = &rv->crl[crl_bucket(e->url)];
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        rv->crl_bytes -= e->bytes;
        crl_entry_free(e);
    }
}

/* Answers q from a finished entry, or goes on to the next URI. */
static void crl_take(struct cs_revoker *rv, struct cs_rev_query *q, struct crl_entry *e)
{
    const struct cs_rev_subject *s = &q->subject;
    EVP_PKEY *key = s->issuer ? X509_get0_pubkey(s->issuer) : NULL;
    if (e->ix) {
        /* one key made the signature: any other key's check would fail */
        cs_crl_index_check(&q->crl_answer, e->ix, s, key && EVP_PKEY_eq(key, e->key) == 1);
    } else if (e->crl) {
        if (cs_crl_check(&q->crl_answer, e->crl, s, false) && key) {
            struct cs_crl_index *ix = cs_crl_index_new(e->crl);
            if (ix && EVP_PKEY_up_ref(key)) {
                e->ix = ix;
                e->key = key;
                X509_CRL_free(e->crl);
                e->crl = NULL;
                rv->crl_bytes -= e->bytes;
                e->bytes = cs_crl_index_bytes(ix);
                rv->crl_bytes += e->bytes;
            } else {
                cs_crl_index_free(ix);
            }
        }
    } else {
        cs_rev_answer_init(&q->crl_answer, CS_SRC_CRL);
        cs_rev_fail(&q->crl_answer, "%s", e->error);
    }
    if (q->crl_answer.state == CS_REV_ERROR && q->crl_next < q->crl_uris->n) {
        crl_step(rv, q);
        return;
    }
    part_done(q);
}

static void crl_fetched(void *arg, const char *error, const unsigned char *body, size_t len)
{
    struct crl_entry *e = arg;
    struct cs_revoker *rv = e->rv;
    if (error)
        snprintf(e->error, sizeof(e->error), "%s", error);
    else if ((e->crl = cs_crl_parse(body, len, e->error, sizeof(e->error))) != NULL)
        e->bytes = len * CRL_PARSED_FACTOR;
    rv->crl_bytes += e->bytes;
    e->done = true;
    struct cs_rev_query *q = e->waiters;
    e->waiters = NULL;
    while (q) {
        struct cs_rev_query *next = q->next_crl;
        q->next_crl = NULL;
        crl_take(rv, q, e);
        q = next;
    }
    crl_evict(rv);
}

static void crl_step(struct cs_revoker *rv, struct cs_rev_query *q)
{
    const char *url = step_url(rv, q, q->crl_uris, &q->crl_next, &q->crl_answer, "CRL");
    if (!url)
        return;
    size_t b = crl_bucket(url);
    for (struct crl_entry *e = rv->crl[b]; e; e = e->next) {
        if (strcmp(e->url, url) != 0)
            continue;
        rv->stats.crl_hits++;
        if (e->done) {
            crl_take(rv, q, e);
        } else {
            q->next_crl = e->waiters;
            e->waiters = q;
        }
        return;
    }
    struct crl_entry *e = cs_xcalloc(1, sizeof(*e));
    e->url = cs_strdup(url);
    e->rv = rv;
    e->waiters = q;
    q->next_crl = NULL;
    e->next = rv->crl[b];
    rv->crl[b] = e;
    if (rv->crl_newest)
        rv->crl_newest->newer = e;
    else
        rv->crl_oldest = e;
    rv->crl_newest = e;
    rv->stats.crl_fetches++;
    cs_fetch(rv->fetcher, url, NULL, 0, NULL, crl_fetched, e);
}

void cs_revoker_cancel(struct cs_revoker *rv)
{
    if (!rv || rv->cancelled)
        return;
    rv->cancelled = true;
    cs_fetcher_cancel(rv->fetcher); /* the waiters hear "cancelled" from the loop */
}

void cs_revoker_stats(const struct cs_revoker *rv, struct cs_revoker_stats *out)
{
    if (rv)
        *out = rv->stats;
    else
        memset(out, 0, sizeof(*out));
}

void cs_revoker_free(struct cs_revoker *rv)
{
    if (!rv)
        return;
    cs_fetcher_free(rv->fetcher);
    while (rv->ocsp_oldest) {
        struct ocsp_entry *e = rv->ocsp_oldest;
        rv->ocsp_oldest = e->newer;
        ocsp_entry_free(e);
    }
    while (rv->crl_oldest) {
        struct crl_entry *e = rv->crl_oldest;
        rv->crl_oldest = e->newer;
        crl_entry_free(e);
    }
    free(rv);
}
