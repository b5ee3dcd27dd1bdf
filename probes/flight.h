/* The server's first flight, read beside OpenSSL.  The client side of the
 * handshake (ClientHello, key share, ServerHello processing) is OpenSSL's;
 * the server's messages after the ServerHello are read here, from the raw
 * bytes the peer sent: TLS 1.3 records are decrypted with the server's
 * handshake traffic secret (which OpenSSL hands over through its key-log
 * callback), TLS 1.2-and-older ones are plaintext.  The reader takes the
 * chain exactly as sent, the stapled OCSP response, and what the server
 * signed to prove it holds the leaf's private key: the TLS 1.3
 * CertificateVerify over the transcript, or the ServerKeyExchange over both
 * randoms and the key-exchange parameters.  OpenSSL itself never parses a
 * certificate, so the proof costs one signature check with a key the chain
 * cache decoded once per distinct chain.  Bytes in, state out: no socket,
 * no SSL object, so tests and the fuzzer drive it directly. */
#ifndef CS_FLIGHT_H
#define CS_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* The chain exactly as the server sent it: n certificates, each a 3-byte
   big-endian length and the DER bytes (the TLS 1.2 wire layout). */
struct cs_raw_chain {
    unsigned char *buf; /* owned */
    size_t len;
    size_t n;
};

/* Certificate i of the chain (0 = leaf); 0, or -1 if there is none. */
int cs_raw_chain_at(const struct cs_raw_chain *c, size_t i, const unsigned char **der, size_t *len);
void cs_raw_chain_free(struct cs_raw_chain *c);

/* How a TLS 1.2-and-older cipher suite exchanges keys (from the ServerHello,
   told by the TLS driver, which asks OpenSSL). */
enum cs_kx {
    CS_KX_UNKNOWN, /* not told yet */
    CS_KX_ECDHE,   /* the ServerKeyExchange is signed with the leaf's key */
    CS_KX_DHE,     /* likewise */
    CS_KX_RSA,     /* RSA key transport: only the server's Finished proves the key */
    CS_KX_OTHER,   /* anything else (PSK, anonymous, ...): nothing to prove with */
};

enum cs_proof_kind {
    CS_PROOF_NONE,      /* nothing in hand (yet) */
    CS_PROOF_SIGNATURE, /* a signature to check with the leaf's key (cs_key_proof_check) */
    CS_PROOF_FINISHED,  /* RSA key transport: the handshake must run through Finished */
};

/* What the server signed to prove possession of the leaf's private key. */
struct cs_key_proof {
    enum cs_proof_kind kind;
    bool tls13;         /* a CertificateVerify (else a ServerKeyExchange) */
    uint16_t scheme;    /* the TLS SignatureScheme; 0 before TLS 1.2 (RSA: MD5+SHA-1,
                            ECDSA and DSA: SHA-1) */
    unsigned char *tbs; /* the exact bytes that were signed (owned) */
    size_t tbs_len;
    unsigned char *sig; /* owned */
    size_t sig_len;
};

struct cs_flight {
    /* what was read: */
    struct cs_raw_chain chain; /* once the Certificate message is in (chain.n > 0) */
    unsigned char *staple;     /* the stapled OCSP response (DER), or NULL */
    size_t staple_len;
    struct cs_key_proof proof;
    bool tls13;          /* the ServerHello chose TLS 1.3 */
    bool server_staples; /* TLS 1.2: the ServerHello carried status_request */
    bool chain_settled;  /* the chain and any staple are final */
    bool done;           /* nothing more to read: the proof is in, or the
                                   server's flight ended (ServerHelloDone) */
    char error[128];     /* why reading stopped ("handshake: ..."), or "" */
    bool chain_only;     /* stop once the chain is settled (--cert-only) */
    /* the reader's own state: */
    size_t max_msg; /* cap on one handshake message (the chain cap) */
    enum cs_kx kx;
    uint16_t version; /* the ServerHello's legacy_version (TLS 1.2 and older) */
    unsigned char client_random[32], server_random[32];
    unsigned char *hello[2]; /* the ClientHellos as sent (the second after a
                                   HelloRetryRequest), until the transcript needs them */
    size_t hello_len[2];
    bool hrr;                 /* a HelloRetryRequest came */
    bool seen_hello;          /* the ServerHello is in */
    EVP_MD_CTX *transcript;   /* TLS 1.3: hash of the handshake so far */
    const EVP_MD *md;         /* TLS 1.3: the cipher suite's hash */
    const EVP_CIPHER *cipher; /* TLS 1.3: the cipher suite's AEAD */
    EVP_CIPHER_CTX *aead;
    unsigned char secret[EVP_MAX_MD_SIZE]; /* server handshake traffic secret */
    size_t secret_len;
    unsigned char iv[12];
    uint64_t seq; /* TLS 1.3: records decrypted so far */
    bool keyed;
    unsigned char head[5]; /* the record header being read */
    size_t head_len;
    unsigned char *rec; /* the record body being read (rec_cap bytes: the largest
                           record so far, at most the largest TLS allows) */
    size_t rec_len, rec_need, rec_cap;
    unsigned char *msg; /* the handshake message being assembled */
    size_t msg_len, msg_cap;
};

/* A reader for one connection; max_msg caps one handshake message (and so
   the chain). */
void cs_flight_init(struct cs_flight *f, size_t max_msg);
/* Frees what the reader holds (the chain, staple and proof too, unless
   taken: set them to NULL/0 first). */
void cs_flight_free(struct cs_flight *f);

/* A ClientHello as it was sent (4-byte header and body); 0 or -1 (no memory,
   or a third one). */
int cs_flight_client_hello(struct cs_flight *f, const unsigned char *msg, size_t len);
/* The TLS 1.3 server handshake traffic secret. */
void cs_flight_secret(struct cs_flight *f, const unsigned char *secret, size_t len);
/* The key exchange of the negotiated TLS 1.2-and-older cipher suite. */
void cs_flight_kx(struct cs_flight *f, enum cs_kx kx);
/* Whether a ServerHello body is a HelloRetryRequest. */
bool cs_flight_hello_retry(const unsigned char *body, size_t len);
/* Bytes from the peer, in order.  Sets done, error, chain, ... as they come;
   after done or an error, further bytes are ignored. */
void cs_flight_feed(struct cs_flight *f, const unsigned char *p, size_t len);

/* For tests and the fuzzer: handshake messages as a TLS 1.3 server's
   records carry them once decrypted, after a ServerHello that chose
   TLS_AES_128_GCM_SHA256 (the record layer and its keys are left out). */
void cs_flight_feed_tls13_plaintext(struct cs_flight *f, const unsigned char *p, size_t len);

/* Checks proof (CS_PROOF_SIGNATURE) with the leaf's public key: 1 if the
   signature verifies, else 0 with the reason in why ("server signature does
   not verify with the certificate's key", ...). */
int cs_key_proof_check(const struct cs_key_proof *proof, EVP_PKEY *key, char *why, size_t len);
void cs_key_proof_free(struct cs_key_proof *proof);

#endif
