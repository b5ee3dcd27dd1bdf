/* The server's first flight, read beside OpenSSL (see flight.h). */
#include "probes/flight.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <uv.h>

#define RECORD_MAX (16384 + 2048) /* the largest record TLS allows (TLS 1.2 ciphertext) */
#define REC_MIN 512               /* the record buffer's first size: a ServerHello record fits */
#define TAG_LEN 16
#define HS_HEADER 4

/* TLS handshake message and record types (RFC 8446 and 5246). */
enum {
    REC_CCS = 20,
    REC_ALERT = 21,
    REC_HANDSHAKE = 22,
    REC_APPDATA = 23,
    MT_SERVER_HELLO = 2,
    MT_ENCRYPTED_EXTENSIONS = 8,
    MT_CERTIFICATE = 11,
    MT_SERVER_KEY_EXCHANGE = 12,
    MT_CERTIFICATE_REQUEST = 13,
    MT_SERVER_HELLO_DONE = 14,
    MT_CERTIFICATE_VERIFY = 15,
    MT_FINISHED = 20,
    MT_CERTIFICATE_STATUS = 22,
    MT_MESSAGE_HASH = 254,
    EXT_STATUS_REQUEST = 5,
    EXT_SUPPORTED_VERSIONS = 43,
};

/* The ServerHello random that marks a HelloRetryRequest (RFC 8446 4.1.3). */
static const unsigned char hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

/* Algorithms fetched once per process: an implicit fetch on every use costs
   more than the hashing it does. */
static struct {
    EVP_MD *md5, *sha1, *sha224, *sha256, *sha384, *sha512, *md5_sha1;
    EVP_CIPHER *aes128gcm, *aes256gcm, *chacha;
    EVP_KDF *hkdf;
} algs;
static uv_once_t algs_once = UV_ONCE_INIT;

static void algs_fetch(void)
{
    algs.md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    algs.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    algs.sha224 = EVP_MD_fetch(NULL, "SHA224", NULL);
    algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    algs.sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    algs.sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
    algs.md5_sha1 = EVP_MD_fetch(NULL, "MD5-SHA1", NULL);
    algs.aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    algs.aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    algs.chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    algs.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

bool cs_flight_hello_retry(const unsigned char *body, size_t len)
{
    return len >= 2 + 32 && memcmp(body + 2, hrr_random, 32) == 0;
}

static size_t get16(const unsigned char *p)
{
    return (size_t)p[0] << 8 | p[1];
}

static size_t get24(const unsigned char *p)
{
    return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

int cs_raw_chain_at(const struct cs_raw_chain *c, size_t i, const unsigned char **der, size_t *len)
{
    size_t off = 0;
    for (size_t k = 0; off + 3 <= c->len; k++) {
        size_t n = get24(c->buf + off);
        if (n > c->len - off - 3)
            return -1;
        if (k == i) {
            *der = c->buf + off + 3;
            *len = n;
            return 0;
        }
        off += 3 + n;
    }
    return -1;
}

void cs_raw_chain_free(struct cs_raw_chain *c)
{
    OPENSSL_free(c->buf);
    memset(c, 0, sizeof(*c));
}

void cs_key_proof_free(struct cs_key_proof *proof)
{
    OPENSSL_free(proof->tbs);
    OPENSSL_free(proof->sig);
    memset(proof, 0, sizeof(*proof));
}

void cs_flight_init(struct cs_flight *f, size_t max_msg)
{
    memset(f, 0, sizeof(*f));
    f->max_msg = max_msg;
    uv_once(&algs_once, algs_fetch);
}

void cs_flight_free(struct cs_flight *f)
{
    cs_raw_chain_free(&f->chain);
    OPENSSL_free(f->staple);
    cs_key_proof_free(&f->proof);
    for (size_t i = 0; i < 2; i++)
        OPENSSL_free(f->hello[i]);
    EVP_MD_CTX_free(f->transcript);
    EVP_CIPHER_CTX_free(f->aead);
    OPENSSL_cleanse(f->secret, sizeof(f->secret));
    OPENSSL_free(f->rec);
    OPENSSL_free(f->msg);
    memset(f, 0, sizeof(*f));
}

static void fail(struct cs_flight *f, const char *why)
{
    if (!f->error[0])
        snprintf(f->error, sizeof(f->error), "handshake: %s", why);
}

int cs_flight_client_hello(struct cs_flight *f, const unsigned char *msg, size_t len)
{
    size_t i = f->hello[0] ? 1 : 0;
    if (f->hello[i] || len < HS_HEADER + 2 + 32)
        return -1;
    f->hello[i] = OPENSSL_memdup(msg, len);
    if (!f->hello[i])
        return -1;
    f->hello_len[i] = len;
    if (i == 0)
        memcpy(f->client_random, msg + HS_HEADER + 2, 32);
    return 0;
}

void cs_flight_secret(struct cs_flight *f, const unsigned char *secret, size_t len)
{
    if (len <= sizeof(f->secret)) {
        memcpy(f->secret, secret, len);
        f->secret_len = len;
    }
}

void cs_flight_kx(struct cs_flight *f, enum cs_kx kx)
{
    f->kx = kx;
}

/* ---- TLS 1.3: transcript and record protection ---- */

static bool transcript_add(struct cs_flight *f, const unsigned char *p, size_t n)
{
    if (f->chain_only)
        return true; /* no CertificateVerify will be read */
    if (!f->transcript && !(f->transcript = EVP_MD_CTX_new()))
        return false;
    if (EVP_MD_CTX_get0_md(f->transcript) == NULL &&
        EVP_DigestInit_ex2(f->transcript, f->md, NULL) != 1)
        return false;
    return EVP_DigestUpdate(f->transcript, p, n) == 1;
}

/* The hash of the transcript so far, without ending it. */
static bool transcript_hash(struct cs_flight *f, unsigned char *out, unsigned int *n)
{
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    bool ok = copy && f->transcript && EVP_MD_CTX_copy_ex(copy, f->transcript) == 1 &&
              EVP_DigestFinal_ex(copy, out, n) == 1;
    EVP_MD_CTX_free(copy);
    return ok;
}

/* HKDF-Expand-Label(secret, label, "", out_len) (RFC 8446 7.1). */
static bool expand_label(struct cs_flight *f, const char *label, unsigned char *out, size_t out_len)
{
    unsigned char info[2 + 1 + 6 + 16 + 1];
    size_t llen = strlen(label), n = 0;
    info[n++] = (unsigned char)(out_len >> 8);
    info[n++] = (unsigned char)out_len;
    info[n++] = (unsigned char)(6 + llen);
    memcpy(info + n, "tls13 ", 6);
    memcpy(info + n + 6, label, llen);
    n += 6 + llen;
    info[n++] = 0; /* no context */
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(f->md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, f->secret, f->secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
        OSSL_PARAM_construct_end(),
    };
    EVP_KDF_CTX *k = algs.hkdf ? EVP_KDF_CTX_new(algs.hkdf) : NULL;
    bool ok = k && EVP_KDF_derive(k, out, out_len, params) == 1;
    EVP_KDF_CTX_free(k);
    return ok;
}

static bool set_keys(struct cs_flight *f)
{
    unsigned char key[32];
    size_t key_len = (size_t)EVP_CIPHER_get_key_length(f->cipher);
    if (f->secret_len == 0 || key_len > sizeof(key))
        return false;
    f->aead = EVP_CIPHER_CTX_new();
    bool ok = f->aead && expand_label(f, "key", key, key_len) &&
              expand_label(f, "iv", f->iv, sizeof(f->iv)) &&
              EVP_DecryptInit_ex2(f->aead, f->cipher, key, NULL, NULL) == 1;
    OPENSSL_cleanse(key, sizeof(key));
    f->keyed = ok;
    return ok;
}

/* Decrypts the TLS 1.3 record in f->rec in place; returns the inner content
   type and sets *len to the content's length, or returns -1. */
static int unprotect(struct cs_flight *f, size_t *len)
{
    if (f->rec_len < TAG_LEN + 1)
        return -1;
    unsigned char nonce[12];
    memcpy(nonce, f->iv, sizeof(nonce));
    for (size_t i = 0; i < 8; i++)
        nonce[11 - i] ^= (unsigned char)(f->seq >> (8 * i));
    f->seq++;
    size_t ct = f->rec_len - TAG_LEN;
    int outl = 0, fin = 0;
    if (EVP_DecryptInit_ex2(f->aead, NULL, NULL, nonce, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(f->aead, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, f->rec + ct) != 1 ||
        EVP_DecryptUpdate(f->aead, NULL, &outl, f->head, sizeof(f->head)) != 1 ||
        EVP_DecryptUpdate(f->aead, f->rec, &outl, f->rec, (int)ct) != 1 ||
        EVP_DecryptFinal_ex(f->aead, f->rec + outl, &fin) != 1)
        return -1;
    size_t n = (size_t)outl + (size_t)fin;
    while (n > 0 && f->rec[n - 1] == 0) /* padding */
        n--;
    if (n == 0)
        return -1;
    *len = n - 1;
    return f->rec[n - 1];
}

/* ---- messages ---- */

static bool keep(unsigned char **dst, size_t *dst_len, const unsigned char *p, size_t n)
{
    OPENSSL_free(*dst);
    *dst = n ? OPENSSL_memdup(p, n) : NULL;
    *dst_len = *dst ? n : 0;
    return n == 0 || *dst != NULL;
}

/* The OCSP response in a TLS 1.3 leaf entry's extensions (RFC 8446 4.4.2.1). */
static void leaf_staple(struct cs_flight *f, const unsigned char *ext, size_t len)
{
    for (size_t off = 0; off + 4 <= len;) {
        size_t type = get16(ext + off), n = get16(ext + off + 2);
        off += 4;
        if (n > len - off)
            return;
        if (type == EXT_STATUS_REQUEST && n > 4 && ext[off] == 1 && get24(ext + off + 1) == n - 4 &&
            !f->staple)
            keep(&f->staple, &f->staple_len, ext + off + 4, n - 4);
        off += n;
    }
}

/* Copies the certificates of a Certificate message body into f->chain. */
static void certificates(struct cs_flight *f, const unsigned char *p, size_t len)
{
    size_t off = 0;
    if (f->chain.n) {
        fail(f, "server sent a second Certificate message");
        return;
    }
    if (f->tls13) {
        if (len < 1 || (size_t)p[0] + 1 > len) {
            fail(f, "malformed Certificate message");
            return;
        }
        off = 1 + p[0]; /* certificate_request_context */
    }
    if (off + 3 > len || get24(p + off) != len - off - 3) {
        fail(f, "malformed Certificate message");
        return;
    }
    off += 3;
    if (off == len) {
        fail(f, "server sent no certificate");
        return;
    }
    unsigned char *out = OPENSSL_malloc(len); /* the copy is never larger */
    size_t out_len = 0, n = 0;
    if (!out) {
        fail(f, "out of memory");
        return;
    }
    while (off < len) {
        size_t cert_len = off + 3 <= len ? get24(p + off) : 0;
        if (cert_len == 0 || cert_len > len - off - 3)
            goto bad;
        memcpy(out + out_len, p + off, 3 + cert_len);
        out_len += 3 + cert_len;
        off += 3 + cert_len;
        n++;
        if (f->tls13) {
            if (off + 2 > len || get16(p + off) > len - off - 2)
                goto bad; /* an entry's extensions must fit in what is left */
            size_t ext = get16(p + off);
            if (n == 1)
                leaf_staple(f, p + off + 2, ext);
            off += 2 + ext;
        }
    }
    f->chain.buf = out;
    f->chain.len = out_len;
    f->chain.n = n;
    return;
bad:
    OPENSSL_free(out);
    fail(f, "malformed Certificate message");
}

/* The signature that ends a CertificateVerify or ServerKeyExchange body at
   p[off..len): [scheme] signature<2>. */
static void take_signature(struct cs_flight *f, const unsigned char *p, size_t off, size_t len,
                           bool has_scheme, const unsigned char *tbs, size_t tbs_len)
{
    uint16_t scheme = 0;
    if (has_scheme) {
        if (off + 2 > len) {
            fail(f, "malformed signature");
            return;
        }
        scheme = (uint16_t)get16(p + off);
        off += 2;
    }
    if (off + 2 > len || get16(p + off) != len - off - 2 || len - off - 2 == 0) {
        fail(f, "malformed signature");
        return;
    }
    struct cs_key_proof *pr = &f->proof;
    pr->kind = CS_PROOF_SIGNATURE;
    pr->tls13 = f->tls13;
    pr->scheme = scheme;
    if (!keep(&pr->sig, &pr->sig_len, p + off + 2, len - off - 2) ||
        !keep(&pr->tbs, &pr->tbs_len, tbs, tbs_len)) {
        cs_key_proof_free(pr);
        fail(f, "out of memory");
        return;
    }
    f->done = true;
}

/* TLS 1.3 CertificateVerify: the server's signature over the transcript up to
   its Certificate (RFC 8446 4.4.3). */
static void certificate_verify(struct cs_flight *f, const unsigned char *p, size_t len)
{
    static const char context[] = "TLS 1.3, server CertificateVerify";
    unsigned char tbs[64 + sizeof(context) + EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    if (!f->chain.n) {
        fail(f, "CertificateVerify before any Certificate");
        return;
    }
    memset(tbs, 0x20, 64);
    memcpy(tbs + 64, context, sizeof(context)); /* with its NUL separator */
    if (!transcript_hash(f, tbs + 64 + sizeof(context), &hlen)) {
        fail(f, "cannot hash the transcript");
        return;
    }
    take_signature(f, p, 0, len, true, tbs, 64 + sizeof(context) + hlen);
}

/* TLS 1.2 and older ServerKeyExchange of an (EC)DHE suite: the parameters and
   the signature over both randoms and them (RFC 8422 5.4, RFC 5246 7.4.3). */
static void server_key_exchange(struct cs_flight *f, const unsigned char *p, size_t len)
{
    size_t off = 0;
    if (f->kx == CS_KX_ECDHE) {
        if (len < 4 || p[0] != 3 /* named_curve */ || (size_t)p[3] > len - 4) {
            fail(f, "malformed ServerKeyExchange");
            return;
        }
        off = 4 + p[3];
    } else if (f->kx == CS_KX_DHE) {
        for (int i = 0; i < 3; i++) { /* dh_p, dh_g, dh_Ys */
            if (off + 2 > len || get16(p + off) > len - off - 2) {
                fail(f, "malformed ServerKeyExchange");
                return;
            }
            off += 2 + get16(p + off);
        }
    } else {
        return; /* PSK and others: nothing signed */
    }
    unsigned char *tbs = OPENSSL_malloc(64 + off);
    if (!tbs) {
        fail(f, "out of memory");
        return;
    }
    memcpy(tbs, f->client_random, 32);
    memcpy(tbs + 32, f->server_random, 32);
    memcpy(tbs + 64, p, off);
    take_signature(f, p, off, len, f->version >= TLS1_2_VERSION, tbs, 64 + off);
    OPENSSL_free(tbs);
}

static void server_hello(struct cs_flight *f, const unsigned char *whole, size_t wlen)
{
    const unsigned char *p = whole + HS_HEADER;
    size_t len = wlen - HS_HEADER, off = 2 + 32;
    if (off + 1 > len || off + 1 + p[off] + 3 > len) {
        fail(f, "malformed ServerHello");
        return;
    }
    bool hrr = memcmp(p + 2, hrr_random, 32) == 0;
    off += 1 + p[off];
    size_t suite = get16(p + off);
    off += 3;
    bool tls13 = false, staples = false;
    size_t end = off + 2 <= len ? off + 2 + get16(p + off) : off;
    if (end > len) {
        fail(f, "malformed ServerHello");
        return;
    }
    for (off += 2; off + 4 <= end;) {
        size_t type = get16(p + off), n = get16(p + off + 2);
        if (n > end - off - 4)
            break;
        if (type == EXT_SUPPORTED_VERSIONS && n == 2 && get16(p + off + 4) == TLS1_3_VERSION)
            tls13 = true;
        if (type == EXT_STATUS_REQUEST)
            staples = true;
        off += 4 + n;
    }
    f->version = (uint16_t)get16(p);
    memcpy(f->server_random, p + 2, 32);
    if (!tls13) {
        if (hrr || f->hrr) {
            fail(f, "HelloRetryRequest without TLS 1.3");
            return;
        }
        f->seen_hello = true;
        f->server_staples = staples;
        return;
    }
    f->tls13 = true;
    switch (suite) {
    case 0x1301:
        f->md = algs.sha256, f->cipher = algs.aes128gcm;
        break;
    case 0x1302:
        f->md = algs.sha384, f->cipher = algs.aes256gcm;
        break;
    case 0x1303:
        f->md = algs.sha256, f->cipher = algs.chacha;
        break;
    default:
        fail(f, "unsupported TLS 1.3 cipher suite");
        return;
    }
    if (!f->md || !f->cipher) {
        fail(f, "the cipher suite's algorithms are not available");
        return;
    }
    if (hrr) {
        /* the first ClientHello goes into the transcript as its hash
           (RFC 8446 4.4.1), then the HelloRetryRequest and the second
           ClientHello, which OpenSSL has already sent */
        unsigned char synth[HS_HEADER + EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (f->hrr || !f->hello[0] || !f->hello[1] ||
            EVP_Digest(f->hello[0], f->hello_len[0], synth + HS_HEADER, &n, f->md, NULL) != 1) {
            fail(f, "unexpected HelloRetryRequest");
            return;
        }
        synth[0] = MT_MESSAGE_HASH;
        synth[1] = synth[2] = 0;
        synth[3] = (unsigned char)n;
        f->hrr = true;
        if (!transcript_add(f, synth, HS_HEADER + n) || !transcript_add(f, whole, wlen) ||
            !transcript_add(f, f->hello[1], f->hello_len[1]))
            fail(f, "cannot hash the transcript");
        return;
    }
    if ((!f->hrr && (!f->hello[0] || !transcript_add(f, f->hello[0], f->hello_len[0]))) ||
        !transcript_add(f, whole, wlen)) {
        fail(f, "cannot hash the transcript");
        return;
    }
    f->seen_hello = true;
}

static void message13(struct cs_flight *f, const unsigned char *whole, size_t wlen)
{
    const unsigned char *body = whole + HS_HEADER;
    size_t len = wlen - HS_HEADER;
    switch (whole[0]) {
    case MT_CERTIFICATE_VERIFY:
        certificate_verify(f, body, len);
        return;
    case MT_CERTIFICATE:
        certificates(f, body, len);
        f->chain_settled = f->chain.n > 0;
        f->done = f->chain_settled && f->chain_only;
        break;
    case MT_ENCRYPTED_EXTENSIONS:
    case MT_CERTIFICATE_REQUEST:
        break;
    case MT_FINISHED:
        fail(f, "server finished without proving possession of a certificate key");
        return;
    default:
        fail(f, "unexpected handshake message");
        return;
    }
    if (!f->error[0] && !transcript_add(f, whole, wlen))
        fail(f, "cannot hash the transcript");
}

static void message12(struct cs_flight *f, const unsigned char *whole, size_t wlen)
{
    const unsigned char *body = whole + HS_HEADER;
    size_t len = wlen - HS_HEADER;
    if (f->chain.n && whole[0] != MT_CERTIFICATE) {
        f->chain_settled = true; /* the message after Certificate: any staple came */
        if (f->chain_only && whole[0] != MT_CERTIFICATE_STATUS) {
            f->done = true;
            return;
        }
    }
    switch (whole[0]) {
    case MT_CERTIFICATE:
        certificates(f, body, len);
        f->chain_settled = f->chain.n > 0 && !f->server_staples;
        f->done = f->chain_settled && f->chain_only;
        return;
    case MT_CERTIFICATE_STATUS:
        if (len >= 4 && body[0] == 1 /* ocsp */ && get24(body + 1) == len - 4)
            keep(&f->staple, &f->staple_len, body + 4, len - 4);
        f->done = f->chain_only;
        return;
    case MT_SERVER_KEY_EXCHANGE:
        if (!f->chain.n) {
            fail(f, "ServerKeyExchange before any Certificate");
            return;
        }
        server_key_exchange(f, body, len);
        return;
    case MT_CERTIFICATE_REQUEST:
        return;
    case MT_SERVER_HELLO_DONE:
        if (f->chain.n && f->kx == CS_KX_RSA)
            f->proof.kind = CS_PROOF_FINISHED;
        else if (f->chain.n && (f->kx == CS_KX_ECDHE || f->kx == CS_KX_DHE))
            fail(f, "server sent no ServerKeyExchange");
        f->chain_settled = true;
        f->done = true;
        return;
    default:
        fail(f, "unexpected handshake message");
        return;
    }
}

static void message(struct cs_flight *f, const unsigned char *whole, size_t wlen)
{
    if (!f->seen_hello) {
        if (whole[0] != MT_SERVER_HELLO)
            fail(f, "server did not answer with a ServerHello");
        else
            server_hello(f, whole, wlen);
    } else if (f->tls13) {
        message13(f, whole, wlen);
    } else {
        message12(f, whole, wlen);
    }
}

/* Handshake bytes from a record: assembled into messages, each handled when
   whole. */
static void handshake_bytes(struct cs_flight *f, const unsigned char *p, size_t n)
{
    while (n > 0 && !f->done && !f->error[0]) {
        size_t want = f->msg_len < HS_HEADER ? HS_HEADER : HS_HEADER + get24(f->msg + 1);
        if (want > f->msg_cap) {
            size_t cap = f->msg_cap ? f->msg_cap : 1024;
            while (cap < want)
                cap *= 2;
            unsigned char *m = OPENSSL_realloc(f->msg, cap);
            if (!m) {
                fail(f, "out of memory");
                return;
            }
            f->msg = m;
            f->msg_cap = cap;
        }
        size_t take = want - f->msg_len < n ? want - f->msg_len : n;
        memcpy(f->msg + f->msg_len, p, take);
        f->msg_len += take;
        p += take;
        n -= take;
        if (f->msg_len == HS_HEADER && get24(f->msg + 1) > f->max_msg) {
            fail(f, "server message over the size cap");
            return;
        }
        if (f->msg_len >= HS_HEADER && f->msg_len == HS_HEADER + get24(f->msg + 1)) {
            size_t whole = f->msg_len;
            f->msg_len = 0;
            message(f, f->msg, whole);
        }
    }
}

static void alert(struct cs_flight *f, const unsigned char *p, size_t n)
{
    char why[96];
    snprintf(why, sizeof(why), "server sent alert: %s",
             n >= 2 ? SSL_alert_desc_string_long(p[1]) : "(truncated)");
    fail(f, why);
}

static void record(struct cs_flight *f)
{
    size_t n = f->rec_len;
    switch (f->head[0]) {
    case REC_CCS:
        return; /* TLS 1.3 middlebox compatibility */
    case REC_ALERT:
        alert(f, f->rec, n);
        return;
    case REC_HANDSHAKE:
        if (f->tls13 && f->seen_hello)
            fail(f, "plaintext handshake record after the ServerHello");
        else
            handshake_bytes(f, f->rec, n);
        return;
    case REC_APPDATA:
        break;
    default:
        fail(f, "unexpected record type");
        return;
    }
    if (!f->tls13 || !f->seen_hello) {
        fail(f, "application data before the handshake ended");
        return;
    }
    if (!f->keyed && !set_keys(f)) {
        fail(f, "no handshake traffic keys");
        return;
    }
    int type = unprotect(f, &n);
    if (type == REC_HANDSHAKE)
        handshake_bytes(f, f->rec, n);
    else if (type == REC_ALERT)
        alert(f, f->rec, n);
    else
        fail(f, type < 0 ? "record does not decrypt" : "unexpected record type");
}

/* Room for the record announced in f->head (at most RECORD_MAX, checked
   before): the buffer grows to the largest record seen, not to what TLS
   allows, so a probe holds a few hundred bytes for a ServerHello record, not
   18 KiB. */
static bool rec_room(struct cs_flight *f)
{
    size_t want = f->rec_need > REC_MIN ? f->rec_need : REC_MIN;
    if (want <= f->rec_cap)
        return true;
    unsigned char *r = OPENSSL_realloc(f->rec, want);
    if (!r)
        return false;
    f->rec = r;
    f->rec_cap = want;
    return true;
}

void cs_flight_feed_tls13_plaintext(struct cs_flight *f, const unsigned char *p, size_t len)
{
    if (!f->seen_hello) { /* as after a ServerHello that chose TLS_AES_128_GCM_SHA256 */
        f->tls13 = f->seen_hello = true;
        f->md = algs.sha256;
        f->cipher = algs.aes128gcm;
        if (f->hello[0] && !transcript_add(f, f->hello[0], f->hello_len[0]))
            fail(f, "cannot hash the transcript");
    }
    handshake_bytes(f, p, len);
}

void cs_flight_feed(struct cs_flight *f, const unsigned char *p, size_t len)
{
    while (len > 0 && !f->done && !f->error[0]) {
        if (f->head_len < sizeof(f->head)) {
            size_t take = sizeof(f->head) - f->head_len;
            take = take < len ? take : len;
            memcpy(f->head + f->head_len, p, take);
            f->head_len += take;
            p += take;
            len -= take;
            if (f->head_len < sizeof(f->head))
                return;
            f->rec_need = get16(f->head + 3);
            f->rec_len = 0;
            if (f->head[1] != 3 || f->rec_need > RECORD_MAX) {
                fail(f, "not a TLS record");
                return;
            }
            if (!rec_room(f)) {
                fail(f, "out of memory");
                return;
            }
        }
        size_t take = f->rec_need - f->rec_len < len ? f->rec_need - f->rec_len : len;
        memcpy(f->rec + f->rec_len, p, take);
        f->rec_len += take;
        p += take;
        len -= take;
        if (f->rec_len == f->rec_need) {
            f->head_len = 0;
            record(f);
        }
    }
    if (f->done || f->error[0]) { /* what is left is not needed */
        OPENSSL_free(f->rec);
        f->rec = NULL;
        f->rec_cap = 0;
        OPENSSL_free(f->msg);
        f->msg = NULL;
        f->msg_cap = f->msg_len = 0;
    }
}

/* ---- checking the proof ---- */

/* How a SignatureScheme is checked: the key type it needs, the digest, and
   for RSA the padding; false for a scheme not known here. */
static bool scheme_params(uint16_t scheme, int *type, const EVP_MD **md, int *pad)
{
    *pad = RSA_PKCS1_PADDING;
    switch (scheme) {
    case 0x0807:
        *type = EVP_PKEY_ED25519, *md = NULL;
        return true;
    case 0x0808:
        *type = EVP_PKEY_ED448, *md = NULL;
        return true;
    case 0x0804:
    case 0x0805:
    case 0x0806: /* rsa_pss_rsae_* */
    case 0x0809:
    case 0x080a:
    case 0x080b: /* rsa_pss_pss_* */
        *type = scheme >= 0x0809 ? EVP_PKEY_RSA_PSS : EVP_PKEY_RSA;
        switch ((scheme - 0x0804) % 5) { /* 0x0804 and 0x0809 take SHA-256, ... */
        case 0:
            *md = algs.sha256;
            break;
        case 1:
            *md = algs.sha384;
            break;
        default:
            *md = algs.sha512;
            break;
        }
        *pad = RSA_PKCS1_PSS_PADDING;
        return true;
    default:
        break;
    }
    switch (scheme >> 8) { /* TLS 1.2 HashAlgorithm */
    case 1:
        *md = algs.md5;
        break;
    case 2:
        *md = algs.sha1;
        break;
    case 3:
        *md = algs.sha224;
        break;
    case 4:
        *md = algs.sha256;
        break;
    case 5:
        *md = algs.sha384;
        break;
    case 6:
        *md = algs.sha512;
        break;
    default:
        return false;
    }
    switch (scheme & 0xff) { /* SignatureAlgorithm */
    case 1:
        *type = EVP_PKEY_RSA;
        return true;
    case 2:
        *type = EVP_PKEY_DSA;
        return true;
    case 3:
        *type = EVP_PKEY_EC;
        return true;
    default:
        return false;
    }
}

/* TLS 1.3 allows RSA-PSS, EdDSA, and ECDSA with the curve its hash names. */
static bool tls13_allows(uint16_t scheme, EVP_PKEY *key)
{
    switch (scheme) {
    case 0x0403:
        return EVP_PKEY_get_bits(key) == 256;
    case 0x0503:
        return EVP_PKEY_get_bits(key) == 384;
    case 0x0603:
        return EVP_PKEY_get_bits(key) == 521;
    default:
        return (scheme >= 0x0804 && scheme <= 0x080b);
    }
}

int cs_key_proof_check(const struct cs_key_proof *proof, EVP_PKEY *key, char *why, size_t len)
{
    int type = EVP_PKEY_NONE, pad = RSA_PKCS1_PADDING;
    const EVP_MD *md = NULL;
    uv_once(&algs_once, algs_fetch);
    if (proof->kind != CS_PROOF_SIGNATURE || !key) {
        snprintf(why, len, "handshake: server did not prove possession of the certificate's key");
        return 0;
    }
    int key_type = EVP_PKEY_get_base_id(key);
    if (proof->scheme == 0) { /* before TLS 1.2: fixed by the key type */
        type = key_type;
        md = key_type == EVP_PKEY_RSA ? algs.md5_sha1 : algs.sha1;
    } else if (!scheme_params(proof->scheme, &type, &md, &pad)) {
        snprintf(why, len, "handshake: server signed with unknown scheme 0x%04X", proof->scheme);
        return 0;
    }
    if (type != key_type) {
        snprintf(why, len,
                 "handshake: server signed with scheme 0x%04X, which does not fit the "
                 "certificate's key",
                 proof->scheme);
        return 0;
    }
    if (proof->tls13 && !tls13_allows(proof->scheme, key)) {
        snprintf(why, len, "handshake: server signed with scheme 0x%04X, which TLS 1.3 forbids",
                 proof->scheme);
        return 0;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = ctx && (md || type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448) &&
             EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) == 1;
    if (ok && pad == RSA_PKCS1_PSS_PADDING)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    ok = ok && EVP_DigestVerify(ctx, proof->sig, proof->sig_len, proof->tbs, proof->tbs_len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok)
        snprintf(why, len,
                 "handshake: server signature does not verify with the certificate's key");
    return ok;
}
