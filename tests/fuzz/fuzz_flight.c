/* libFuzzer target: the flight reader (probes/flight.c), the hand-written
 * parser of what a server sends after its ServerHello, on arbitrary bytes.
 * Input layout:
 *   byte 0        flags: bits 0-1 the key exchange told to the reader
 *                 (ECDHE, DHE, RSA, other), bit 2 chain-only, bit 3 a
 *                 second ClientHello (as after a HelloRetryRequest), bits
 *                 4-7 the size of each feed (0: all at once, else 1 << n)
 *   byte 1        n, the length of the TLS 1.3 handshake secret that follows;
 *                 255: no secret, and the server's bytes are TLS 1.3
 *                 handshake messages as decrypted records carry them (so
 *                 that the fuzzer reaches the TLS 1.3 message parsers)
 *   n bytes       the secret (so that a seed captured from a real handshake,
 *                 with its secret, decrypts)
 *   32 bytes      the client random
 *   the rest      the server's bytes
 * Checks beyond the sanitizers: a chain the reader took walks to its end in
 * whole certificates, a signature proof has both its parts, an error is one
 * "handshake: " line, and the proof check never crashes on what was read. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "probes/flight.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_flight: check failed: %s (line %d)\n", #cond, __LINE__);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static EVP_PKEY *fuzz_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_key = EVP_EC_gen("P-256");
    return fuzz_key ? 0 : -1;
}

static void check(const struct cs_flight *f)
{
    if (f->chain.n) {
        size_t total = 0, i = 0;
        const unsigned char *der;
        size_t len;
        for (; cs_raw_chain_at(&f->chain, i, &der, &len) == 0; i++) {
            FUZZ_CHECK(len > 0);
            total += 3 + len;
        }
        FUZZ_CHECK(i == f->chain.n);
        FUZZ_CHECK(total == f->chain.len);
    }
    if (f->proof.kind == CS_PROOF_SIGNATURE) {
        FUZZ_CHECK(f->proof.sig && f->proof.sig_len > 0);
        FUZZ_CHECK(f->proof.tbs && f->proof.tbs_len >= 64);
        char why[160];
        (void)cs_key_proof_check(&f->proof, fuzz_key, why, sizeof why);
        FUZZ_CHECK(memchr(why, '\0', sizeof why) != NULL);
    }
    if (f->error[0]) {
        FUZZ_CHECK(strncmp(f->error, "handshake: ", 11) == 0);
        FUZZ_CHECK(strchr(f->error, '\n') == NULL);
    }
    FUZZ_CHECK(!f->staple == !f->staple_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool plain13 = size >= 2 && data[1] == 255;
    if (size < 2 + 32 || (!plain13 && (size_t)data[1] > size - 2 - 32))
        return 0;
    uint8_t flags = data[0];
    size_t secret_len = plain13 ? 0 : data[1];
    const uint8_t *secret = data + 2, *random = data + 2 + secret_len;
    const uint8_t *p = random + 32;
    size_t n = size - 2 - secret_len - 32;

    struct cs_flight f;
    cs_flight_init(&f, 1 << 16);
    static const enum cs_kx kx[] = {CS_KX_ECDHE, CS_KX_DHE, CS_KX_RSA, CS_KX_OTHER};
    cs_flight_kx(&f, kx[flags & 3]);
    f.chain_only = flags & 4;
    unsigned char hello[4 + 2 + 32 + 8] = {1, 0, 0, 2 + 32 + 8, 3, 3};
    memcpy(hello + 6, random, 32);
    FUZZ_CHECK(cs_flight_client_hello(&f, hello, sizeof hello) == 0);
    if (flags & 8)
        FUZZ_CHECK(cs_flight_client_hello(&f, hello, sizeof hello) == 0);
    cs_flight_secret(&f, secret, secret_len);
    size_t step = flags >> 4 ? (size_t)1 << ((flags >> 4) - 1) : n;
    for (size_t off = 0; off < n; off += step) {
        size_t piece = n - off < step ? n - off : step;
        if (plain13)
            cs_flight_feed_tls13_plaintext(&f, p + off, piece);
        else
            cs_flight_feed(&f, p + off, piece);
        check(&f);
    }
    check(&f);
    cs_flight_free(&f);
    ERR_clear_error();
    return 0;
}
