/* Certificates on disk (see certfiles.h). */
#include "scanner/certfiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "scanner/util.h"

/* ---- one file ---- */

/* Appends the DER certificate der[0..len) to the wire-layout chain. */
static int chain_add_der(struct cs_raw_chain *c, const unsigned char *der, size_t len)
{
    if (len > 0xFFFFFF)
        return -1;
    unsigned char *buf = OPENSSL_realloc(c->buf, c->len + 3 + len);
    if (!buf)
        return -1;
    buf[c->len] = (unsigned char)(len >> 16);
    buf[c->len + 1] = (unsigned char)(len >> 8);
    buf[c->len + 2] = (unsigned char)len;
    memcpy(buf + c->len + 3, der, len);
    c->buf = buf;
    c->len += 3 + len;
    c->n++;
    return 0;
}

static int chain_add(struct cs_raw_chain *c, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    int rc = n > 0 ? chain_add_der(c, der, (size_t)n) : -1;
    OPENSSL_free(der);
    return rc;
}

/* The length of the DER SEQUENCE at the start of p[0..len) (a certificate's
   outer shape), or 0.  The certificate itself is parsed once, by the
   assessment: decoding it here too would double the cost of a file. */
static size_t der_sequence(const unsigned char *p, long len)
{
    const unsigned char *q = p;
    long body;
    int tag, cls;
    int r = ASN1_get_object(&q, &body, &tag, &cls, len);
    if ((r & 0x80) || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL || r != V_ASN1_CONSTRUCTED)
        return 0;
    return (size_t)(q - p) + (size_t)body;
}

/* PEM: every CERTIFICATE block in order, into chain; every other block (a
   private key above all) is skipped as it was read: its bytes wiped, never
   decoded. */
static int parse_pem(const unsigned char *buf, size_t n, struct cs_raw_chain *chain, char *why,
                     size_t len)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)n);
    if (!bio)
        return snprintf(why, len, "out of memory"), -1;
    unsigned keys = 0, blocks = 0;
    int rc = 0;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
                snprintf(why, len, "PEM block %u is malformed", blocks + 1);
                rc = -1;
            }
            break;
        }
        blocks++;
        if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0 ||
            strcmp(name, "TRUSTED CERTIFICATE") == 0) {
            /* a trusted certificate's trust settings follow its SEQUENCE */
            size_t der = der_sequence(data, dlen);
            bool whole = der == (size_t)dlen || strcmp(name, "TRUSTED CERTIFICATE") == 0;
            if (!der || der > (size_t)dlen || !whole) {
                snprintf(why, len, "PEM block %u (%s) is not a readable certificate", blocks, name);
                rc = -1;
            } else if (chain_add_der(chain, data, der) < 0) {
                snprintf(why, len, "out of memory");
                rc = -1;
            }
        } else if (strstr(name, "PRIVATE KEY")) {
            keys++;
        }
        OPENSSL_cleanse(data, (size_t)dlen);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (rc < 0)
            break;
    }
    BIO_free(bio);
    if (rc == 0 && chain->n == 0)
        snprintf(why, len, "%s",
                 keys ? "no certificate in the file, only a private key"
                      : "no certificate in the PEM file");
    return rc == 0 && chain->n ? 0 : -1;
}

/* The certificate bags of a PKCS#12 bag list; the leaf (the one that has a
   localKeyID, naming its key) goes first.  Key bags are left as they are:
   a shrouded key is never decrypted. */
static void p12_certs(STACK_OF(PKCS12_SAFEBAG) * bags, STACK_OF(X509) * certs, bool *have_leaf)
{
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        if (PKCS12_SAFEBAG_get_nid(bag) != NID_certBag ||
            PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
            continue;
        X509 *x = PKCS12_SAFEBAG_get1_cert(bag);
        if (!x)
            continue;
        if (!*have_leaf && PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID)) {
            sk_X509_unshift(certs, x);
            *have_leaf = true;
        } else {
            sk_X509_push(certs, x);
        }
    }
}

/* PKCS#12 without a password: its MAC checks with the empty password (as
   "" or as none, the two ways tools write it). */
static int parse_p12(PKCS12 *p12, STACK_OF(X509) * certs, char *why, size_t len)
{
    const char *pass = "";
    if (PKCS12_mac_present(p12)) {
        if (PKCS12_verify_mac(p12, "", 0))
            pass = "";
        else if (PKCS12_verify_mac(p12, NULL, 0))
            pass = NULL;
        else
            return snprintf(why, len,
                            "PKCS#12 file is protected by a password (only files without one "
                            "are read)"),
                   -1;
    }
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    if (!safes)
        return snprintf(why, len, "PKCS#12 file cannot be unpacked"), -1;
    bool have_leaf = false;
    for (int i = 0; i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        if (PKCS7_type_is_data(p7))
            bags = PKCS12_unpack_p7data(p7);
        else if (PKCS7_type_is_encrypted(p7))
            bags = PKCS12_unpack_p7encdata(p7, pass, -1);
        if (bags)
            p12_certs(bags, certs, &have_leaf);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    if (sk_X509_num(certs) == 0)
        return snprintf(why, len, "no certificate in the PKCS#12 file"), -1;
    return 0;
}

/* DER: one certificate or several back to back, else a PKCS#12 file. */
static int parse_der(const unsigned char *buf, size_t n, STACK_OF(X509) * certs, char *why,
                     size_t len)
{
    const unsigned char *p = buf, *end = buf + n;
    while (p < end) {
        X509 *x = d2i_X509(NULL, &p, end - p);
        if (!x)
            break;
        sk_X509_push(certs, x);
    }
    if (sk_X509_num(certs) && p == end)
        return 0;
    if (sk_X509_num(certs))
        return snprintf(why, len, "bytes after the DER certificate %d that are not one",
                        sk_X509_num(certs)),
               -1;
    p = buf;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)n);
    if (!p12)
        return snprintf(why, len, "not a certificate file (neither PEM, DER nor PKCS#12)"), -1;
    int rc = parse_p12(p12, certs, why, len);
    PKCS12_free(p12);
    return rc;
}

/* Reads at most CS_CERTFILE_MAX_BYTES + 1 bytes: the cap is known to be
   passed without reading the rest. */
static unsigned char *read_capped(const char *path, size_t *n, char *why, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return snprintf(why, len, "cannot be read: %s", strerror(errno)), NULL;
    struct stat st;
    const char *bad = NULL;
    if (fstat(fd, &st) != 0)
        bad = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        bad = "is a directory";
    else if (!S_ISREG(st.st_mode))
        bad = "not a regular file"; /* a FIFO or a device: never waited on */
    if (bad) {
        snprintf(why, len, "%s", bad);
        close(fd);
        return NULL;
    }
    if (st.st_size > CS_CERTFILE_MAX_BYTES) {
        close(fd);
        return snprintf(why, len, "larger than %d bytes", CS_CERTFILE_MAX_BYTES), NULL;
    }
    size_t cap = (size_t)st.st_size + 1, got = 0;
    unsigned char *buf = cs_xmalloc(cap);
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(why, len, "cannot be read: %s", strerror(errno));
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got == cap) { /* the file grew since fstat: read on, up to the cap */
            if (cap > CS_CERTFILE_MAX_BYTES) {
                snprintf(why, len, "larger than %d bytes", CS_CERTFILE_MAX_BYTES);
                r = -1;
                break;
            }
            size_t more = cap * 2 > CS_CERTFILE_MAX_BYTES + 1 ? CS_CERTFILE_MAX_BYTES + 1 : cap * 2;
            unsigned char *nb = cs_xmalloc(more);
            memcpy(nb, buf, got);
            OPENSSL_cleanse(buf, got);
            free(buf);
            buf = nb;
            cap = more;
        }
    }
    close(fd);
    if (why[0]) {
        OPENSSL_cleanse(buf, got);
        free(buf);
        return NULL;
    }
    *n = got;
    return buf;
}

int cs_certfile_read(const char *path, struct cs_raw_chain *chain, char *why, size_t why_len)
{
    memset(chain, 0, sizeof(*chain));
    why[0] = '\0';
    size_t n = 0;
    unsigned char *buf = read_capped(path, &n, why, why_len);
    if (!buf)
        return -1;
    if (n == 0) {
        free(buf);
        return snprintf(why, why_len, "empty file"), -1;
    }
    int rc = -1;
    if (memmem(buf, n, "-----BEGIN ", 11)) {
        rc = parse_pem(buf, n, chain, why, why_len);
    } else {
        STACK_OF(X509) *certs = sk_X509_new_null();
        if (certs) {
            rc = parse_der(buf, n, certs, why, why_len);
            for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++)
                if (chain_add(chain, sk_X509_value(certs, i)) < 0) {
                    snprintf(why, why_len, "out of memory");
                    rc = -1;
                }
            sk_X509_pop_free(certs, X509_free);
        }
    }
    ERR_clear_error();
    OPENSSL_cleanse(buf, n); /* a private key may have been in it */
    free(buf);
    if (rc < 0)
        cs_raw_chain_free(chain);
    return rc;
}

/* The component of path that ends before end (a '/' or its end), and its
   length. */
static const char *component_before(const char *path, const char *end, size_t *len)
{
    const char *start = end;
    while (start > path && start[-1] != '/')
        start--;
    *len = (size_t)(end - start);
    return start;
}

char *cs_certbot_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return NULL;
    const char *file = slash + 1;
    if (strcmp(file, "fullchain.pem") != 0 && strcmp(file, "cert.pem") != 0)
        return NULL;
    size_t nlen, llen;
    const char *name = component_before(path, slash, &nlen);
    if (nlen == 0 || name == path || (nlen == 1 && name[0] == '.') ||
        (nlen == 2 && memcmp(name, "..", 2) == 0))
        return NULL;
    const char *live = component_before(path, name - 1, &llen);
    if (llen != 4 || memcmp(live, "live", 4) != 0)
        return NULL;
    char *out = cs_xmalloc(nlen + 1);
    memcpy(out, name, nlen);
    out[nlen] = '\0';
    return out;
}

/* ---- walking directories ---- */

struct level {
    DIR *dir;
    char *path;
    dev_t dev;
    ino_t ino;
    bool certbot_root; /* holds live/ and archive/: only live/ is searched */
    bool live_name;    /* a live/NAME directory: only its fullchain.pem counts */
};

struct cs_certwalk {
    char **roots;
    size_t n_roots, next_root;
    struct level stack[CS_CERTWALK_MAX_DEPTH];
    size_t depth;
};

struct cs_certwalk *cs_certwalk_new(char *const *roots, size_t n)
{
    struct cs_certwalk *w = cs_xcalloc(1, sizeof(*w));
    w->roots = cs_xcalloc(n ? n : 1, sizeof(*w->roots));
    for (size_t i = 0; i < n; i++)
        w->roots[i] = cs_strdup(roots[i]);
    w->n_roots = n;
    return w;
}

static bool subdir(DIR *d, const char *name)
{
    struct stat st;
    return fstatat(dirfd(d), name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* Opens path as the next level: 0, or -1 (it cannot be opened, or it is
   already open further up: a symlink loop; errno says which). */
static int push(struct cs_certwalk *w, const char *path, const struct stat *st)
{
    for (size_t i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
            return errno = ELOOP, -1;
    if (w->depth == CS_CERTWALK_MAX_DEPTH)
        return errno = ELOOP, -1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct level *l = &w->stack[w->depth++];
    size_t plen = strlen(path), clen;
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    const char *last = component_before(path, path + plen, &clen);
    size_t llen = 0;
    const char *parent = last > path ? component_before(path, last - 1, &llen) : NULL;
    *l = (struct level){
        .dir = d,
        .path = cs_strdup(path),
        .dev = st->st_dev,
        .ino = st->st_ino,
        .certbot_root = subdir(d, "live") && subdir(d, "archive"),
        .live_name = parent && llen == 4 && memcmp(parent, "live", 4) == 0,
    };
    l->path[plen] = '\0';
    return 0;
}

static void pop(struct cs_certwalk *w)
{
    struct level *l = &w->stack[--w->depth];
    closedir(l->dir);
    free(l->path);
}

static bool certificate_name(const char *name)
{
    static const char *const ext[] = {".pem", ".crt", ".cer", ".der", ".p12", ".pfx"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
        if (n > 4 && strcasecmp(name + n - 4, ext[i]) == 0)
            return true;
    return false;
}

/* What to do with entry name of level l: 1 yield *full, 0 skip (a
   directory may have been pushed). */
static int visit(struct cs_certwalk *w, struct level *l, const char *name, char **full)
{
    if (name[0] == '.')
        return 0; /* ".", "..", and hidden files */
    char *path = cs_asprintf("%s%s%s", l->path, strcmp(l->path, "/") ? "/" : "", name);
    struct stat st;
    if (stat(path, &st) != 0) { /* a dangling symlink: reading it says why */
        if (certificate_name(name) && !(l->live_name && strcmp(name, "fullchain.pem") != 0)) {
            *full = path;
            return 1;
        }
        free(path);
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        bool skip = l->certbot_root && strcmp(name, "live") != 0;
        if (skip || push(w, path, &st) == 0 || errno == ELOOP) {
            free(path);
            return 0;
        }
        *full = path; /* a directory that cannot be opened: reading it says why */
        return 1;
    }
    if (!certificate_name(name) || (l->live_name && strcmp(name, "fullchain.pem") != 0)) {
        free(path);
        return 0;
    }
    *full = path;
    return 1;
}

int cs_certwalk_next(struct cs_certwalk *w, char **path)
{
    for (;;) {
        if (w->depth == 0) {
            if (w->next_root == w->n_roots)
                return 0;
            const char *root = w->roots[w->next_root++];
            struct stat st;
            if (stat(root, &st) == 0 && S_ISDIR(st.st_mode) && push(w, root, &st) == 0)
                continue;
            *path = cs_strdup(root);
            return 1;
        }
        struct level *l = &w->stack[w->depth - 1];
        struct dirent *e = readdir(l->dir);
        if (!e) {
            pop(w);
            continue;
        }
        if (visit(w, l, e->d_name, path))
            return 1;
    }
}

void cs_certwalk_free(struct cs_certwalk *w)
{
    if (!w)
        return;
    while (w->depth)
        pop(w);
    for (size_t i = 0; i < w->n_roots; i++)
        free(w->roots[i]);
    free(w->roots);
    free(w);
}
