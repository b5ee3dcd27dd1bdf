/* certsweep show HOST[:PORT]: one endpoint in full, for a person.  The
 * endpoint is scanned by the engine exactly as a scan would scan it (one
 * target, the scan's options); an observer (options.h) keeps what the
 * connection brought beside the record: the chain exactly as sent and what
 * the server signed to prove it holds the leaf's key.  From those come each
 * certificate as sent, the path verification built (cert.c's own
 * verification, run once more on the same chain with the same store, time
 * and level), the proof that was checked, the revocation answer and the
 * verdict, which are the record's.  Everything taken from a certificate is
 * escaped as the text table escapes it (cs_text_escape): a hostile name
 * cannot move the cursor.  -F json or jsonl writes the record with its chain
 * instead. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>
#include <uv.h>

#include "report/report.h"
#include "scanner/assess.h"
#include "scanner/cert.h"
#include "scanner/classify.h"
#include "scanner/commands.h"
#include "scanner/engine.h"
#include "scanner/error.h"
#include "scanner/options.h"
#include "scanner/targets.h"
#include "version.h"

#define USAGE "HOST[:PORT] [OPTIONS]"
#define SHOW_LINE_MAX ((size_t)8 << 20) /* one escaped value: more than 4x the 1 MiB chain */
#define SHOW_LABEL 14                   /* the width of a field's name */

static const char *const show_allowed[] = {
    "ca-file",
    "ca-path",
    "cert-only",
    "connect-timeout",
    "crit-days",
    "crl",
    "dns-server",
    "dns-timeout",
    "ehlo",
    "fail-on",
    "fetch-timeout",
    "format",
    "help",
    "ipv4",
    "ipv6",
    "no-verify",
    "now",
    "ocsp",
    "policy",
    "policy-file",
    "port",
    "require-revocation",
    "resolve",
    "sni",
    "starttls",
    "timeout",
    "verify-level",
    "warn-days",
    NULL,
};

static void show_usage(FILE *out)
{
    fputs("usage: certsweep show " USAGE "\n"
          "One endpoint in full: each certificate as sent, the verified path to the trust\n"
          "anchor, the proof of key possession, the revocation answer and the verdict.\n"
          "HOST may be a URL (smtp://mx.example.com).  Options, as in a scan:\n",
          out);
    size_t col = 0;
    for (size_t i = 0; show_allowed[i]; i++) {
        if (strcmp(show_allowed[i], "help") == 0)
            continue;
        size_t len = strlen(show_allowed[i]) + 4;
        if (col && col + len > 78) {
            fputs(",\n", out);
            col = 0;
        }
        fprintf(out, "%s--%s", col ? ", " : "  ", show_allowed[i]);
        col += len;
    }
    fputs("\n-F json or -F jsonl writes the record with its chain instead.\n"
          "Exit status: the scan's for this one endpoint (0-3), 64 usage, 66 input.\n",
          out);
}

static int show_usage_error(const char *why)
{
    fprintf(stderr, "certsweep show: %s (usage: certsweep show " USAGE ")\n", why);
    return CS_EXIT_USAGE;
}

/* ---- what the engine brought ---------------------------------------------------------- */

/* What the observer kept of the (one) connection, and the record. */
struct show_scan {
    uv_mutex_t lock;
    bool observed;
    struct cs_raw_chain chain; /* a copy of the chain as sent */
    enum cs_proof_kind proof;
    bool proof_tls13;
    uint16_t scheme;
    bool handshake_complete;
    size_t staple_len; /* 0: no staple */
    struct cs_result rec;
    size_t records;
    struct cs_writer *writer; /* -F json/jsonl, or NULL */
    int writer_rc;
};

/* On the worker's thread, before the record is assessed. */
static void show_observe(void *arg, const struct cs_assess_input *in)
{
    struct show_scan *s = arg;
    uv_mutex_lock(&s->lock);
    cs_raw_chain_free(&s->chain);
    if (in->chain && in->chain->n && in->chain->len) {
        s->chain.buf = OPENSSL_memdup(in->chain->buf, in->chain->len);
        s->chain.len = s->chain.buf ? in->chain->len : 0;
        s->chain.n = s->chain.buf ? in->chain->n : 0;
    }
    s->proof = in->proof ? in->proof->kind : CS_PROOF_NONE;
    s->proof_tls13 = in->proof && in->proof->tls13;
    s->scheme = in->proof ? in->proof->scheme : 0;
    s->handshake_complete = in->handshake_complete;
    s->staple_len = in->staple ? in->staple_len : 0;
    s->observed = true;
    uv_mutex_unlock(&s->lock);
}

static void show_record(void *arg, const struct cs_result *r)
{
    struct show_scan *s = arg;
    if (s->records++ == 0)
        cs_result_copy(&s->rec, r);
    if (s->writer && s->writer_rc == 0)
        s->writer_rc = cs_writer_record(s->writer, r);
}

/* ---- printing ------------------------------------------------------------------------- */

struct show_out {
    FILE *f;
    struct cs_buf b; /* one escaped value */
    int err;
};

/* s escaped as the text table escapes a cell (control characters, bidi
   controls, invalid UTF-8), uncut. */
static void show_text(struct show_out *o, const char *s)
{
    cs_buf_reset(&o->b);
    cs_text_escape(&o->b, s ? s : "-", 0, &o->err);
    fwrite(o->b.p, 1, o->b.len, o->f);
}

/* Bytes of a certificate string, which may hold NUL: each NUL as \x00. */
static void show_bytes(struct show_out *o, const unsigned char *p, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '\0')
            continue;
        char *part = cs_strndup((const char *)p + start, i - start);
        show_text(o, part);
        free(part);
        if (i < len)
            fputs("\\x00", o->f);
        start = i + 1;
    }
}

static void show_label(struct show_out *o, int indent, const char *label)
{
    fprintf(o->f, "%*s%-*s ", indent, "", SHOW_LABEL, label);
}

/* "LABEL VALUE" on a line of its own, the value escaped */
static void show_field(struct show_out *o, int indent, const char *label, const char *value)
{
    show_label(o, indent, label);
    show_text(o, value);
    fputc('\n', o->f);
}

static void show_time(struct show_out *o, int indent, const char *label, int64_t t)
{
    char buf[24] = "-";
    if (t != CS_INT_NONE)
        cs_format_time(t, buf);
    show_field(o, indent, label, buf);
}

static void show_name(struct show_out *o, int indent, const char *label, const X509_NAME *n)
{
    char *s = cs_name_string(n);
    show_field(o, indent, label, s);
    free(s);
}

/* ---- one certificate -------------------------------------------------------------------- */

static void show_key(struct show_out *o, X509 *x)
{
    char *name = cs_cert_key_name(x);
    char group[64] = "";
    EVP_PKEY *pk = X509_get0_pubkey(x);
    show_label(o, 6, "key:");
    show_text(o, name);
    if (pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
        EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) == 1) {
        fputs(" (", o->f);
        show_text(o, group);
        fputc(')', o->f);
    }
    fputc('\n', o->f);
    free(name);
}

static void show_sans(struct show_out *o, X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    show_label(o, 6, "SANs:");
    int shown = 0, other = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const char *kind = g->type == GEN_DNS     ? "DNS:"
                           : g->type == GEN_EMAIL ? "email:"
                           : g->type == GEN_URI   ? "URI:"
                           : g->type == GEN_IPADD ? "IP:"
                                                  : NULL;
        if (!kind) {
            other++;
            continue;
        }
        fputs(shown++ ? ", " : "", o->f);
        fputs(kind, o->f);
        if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN];
            if (!cs_cert_ip_text(g->d.iPAddress, ip))
                snprintf(ip, sizeof(ip), "(%d bytes)", ASN1_STRING_length(g->d.iPAddress));
            fputs(ip, o->f);
        } else {
            const ASN1_STRING *v = g->d.ia5; /* dNSName, rfc822Name, URI: IA5String */
            show_bytes(o, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
        }
    }
    if (other)
        fprintf(o->f, "%s%d of another kind", shown ? ", and " : "", other);
    fputs(shown || other ? "\n" : "none\n", o->f);
    GENERAL_NAMES_free(gens);
}

/* The URIs of one kind, on one line after label */
struct show_uri_list {
    struct show_out *o;
    int n;
};

static void show_uri(void *arg, const unsigned char *uri, size_t len)
{
    struct show_uri_list *l = arg;
    fputs(l->n++ ? ", " : "", l->o->f);
    show_bytes(l->o, uri, len);
}

static void show_uris(struct show_out *o, X509 *x)
{
    struct show_uri_list l = {.o = o};
    show_label(o, 6, "OCSP:");
    fputs(cs_cert_ocsp_uris(x, show_uri, &l) ? "\n" : "none\n", o->f);
    l.n = 0;
    show_label(o, 6, "CRL:");
    fputs(cs_cert_crl_uris(x, show_uri, &l) ? "\n" : "none\n", o->f);
}

static void show_ca(struct show_out *o, X509 *x)
{
    int crit = 0;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    show_label(o, 6, "CA:");
    if (!bc)
        fputs("no (no basicConstraints)\n", o->f);
    else if (!bc->ca)
        fputs("no\n", o->f);
    else if (bc->pathlen)
        fprintf(o->f, "yes, path length %ld\n", ASN1_INTEGER_get(bc->pathlen));
    else
        fputs("yes, no path length limit\n", o->f);
    BASIC_CONSTRAINTS_free(bc);
}

static void show_cert(struct show_out *o, X509 *x, int64_t now, int64_t leaf_days)
{
    show_name(o, 6, "subject:", X509_get_subject_name(x));
    show_name(o, 6, "issuer:", X509_get_issuer_name(x));
    int64_t nb = cs_asn1_time(X509_get0_notBefore(x)), na = cs_asn1_time(X509_get0_notAfter(x));
    show_time(o, 6, "not before:", nb);
    show_time(o, 6, "not after:", na);
    show_label(o, 6, "days left:");
    if (na == CS_INT_NONE) {
        fputs("-\n", o->f);
    } else {
        char *when = cs_classify_expiry(na, now);
        int64_t days = leaf_days != CS_INT_NONE ? leaf_days : cs_days_left(na, now);
        fprintf(o->f, "%lld (%s)\n", (long long)days, when);
        free(when);
    }
    show_key(o, x);
    show_field(o, 6, "signature:", cs_cert_signature_name(x));
    show_sans(o, x);
    char *serial = cs_cert_serial(x);
    char *sha256 = cs_cert_fingerprint(x, EVP_sha256());
    char *sha1 = cs_cert_fingerprint(x, EVP_sha1());
    show_field(o, 6, "serial:", serial);
    show_field(o, 6, "SHA-256:", sha256);
    show_field(o, 6, "SHA-1:", sha1);
    free(serial);
    free(sha256);
    free(sha1);
    show_uris(o, x);
    show_ca(o, x);
}

/* ---- the sections --------------------------------------------------------------------- */

/* The chain as sent, parsed: a slot per certificate sent (NULL for one that
   does not parse), and the parsed ones leaf first for verification. */
struct show_chain {
    X509 **sent;
    size_t n;
    STACK_OF(X509) * presented;
};

static void show_chain_parse(const struct cs_raw_chain *raw, struct show_chain *c)
{
    c->n = raw->n;
    c->sent = cs_xcalloc(c->n ? c->n : 1, sizeof(*c->sent));
    c->presented = sk_X509_new_null();
    for (size_t i = 0; i < c->n; i++) {
        const unsigned char *der;
        size_t len;
        if (cs_raw_chain_at(raw, i, &der, &len) != 0)
            break;
        c->sent[i] = d2i_X509(NULL, &der, (long)len);
        if (i == 0 && !c->sent[0])
            break; /* no leaf: nothing to verify */
        if (c->sent[i] && sk_X509_push(c->presented, c->sent[i]))
            X509_up_ref(c->sent[i]);
    }
}

static void show_chain_free(struct show_chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        X509_free(c->sent[i]);
    free(c->sent);
    sk_X509_pop_free(c->presented, X509_free);
}

static void show_sent(struct show_out *o, const struct show_chain *c, const struct cs_result *r,
                      int64_t now)
{
    fprintf(o->f, "\nChain as sent (%zu certificate%s, in the order of the %s)\n", c->n,
            c->n == 1 ? "" : "s", r->source ? "file" : "wire");
    for (size_t i = 0; i < c->n; i++) {
        fprintf(o->f, "  [%zu] %s\n", i, i == 0 ? "leaf" : "sent after the leaf");
        if (!c->sent[i])
            fputs("      (cannot be parsed)\n", o->f);
        else
            show_cert(o, c->sent[i], now, i == 0 ? r->days_remaining : CS_INT_NONE);
    }
}

/* The index of x among the certificates sent, or -1. */
static int show_sent_index(const struct show_chain *c, X509 *x)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->sent[i] && X509_cmp(c->sent[i], x) == 0)
            return (int)i;
    return -1;
}

/* Whether x is one of the store's certificates (those a lookup brought in,
   for a hashed directory): a trust anchor.  The scan is over: nothing else
   uses the store now. */
static bool show_in_store(X509_STORE *store, X509 *x)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *a = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (a && X509_cmp(a, x) == 0)
            return true;
    }
    return false;
}

static void show_path(struct show_out *o, const struct show_chain *c,
                      const struct cs_verify_input *vin)
{
    struct cs_verified_path p;
    fputs("\nVerified path (leaf to trust anchor)\n", o->f);
    if (sk_X509_num(c->presented) < 1 || cs_cert_verify_path(c->presented, vin, &p) != 0) {
        fputs("  none: the leaf cannot be parsed\n", o->f);
        return;
    }
    bool ok = p.error == X509_V_OK;
    show_label(o, 2, "verification:");
    fputs(ok ? "ok\n" : "failed: ", o->f);
    if (!ok) {
        show_text(o, p.verify);
        fprintf(o->f, " (OpenSSL error %d at [%d]: %s)\n", p.error, p.depth,
                X509_verify_cert_error_string(p.error));
    }
    int n = sk_X509_num(p.path);
    for (int k = 0; k < n; k++) {
        X509 *x = sk_X509_value(p.path, k);
        int at = show_sent_index(c, x);
        bool anchor = k == n - 1 && show_in_store(vin->store, x);
        fprintf(o->f, "  [%d] %s", k, k == 0 ? "leaf, " : "");
        if (anchor)
            fputs("trust anchor, from the trust store", o->f);
        if (at >= 0)
            fprintf(o->f, "%ssent as [%d]", anchor ? ", also " : "", at);
        else if (!anchor)
            fputs("from the trust store", o->f);
        fputs(": ", o->f);
        char *s = cs_name_string(X509_get_subject_name(x));
        show_text(o, s);
        free(s);
        fputc('\n', o->f);
    }
    if (!ok && !(n > 0 && show_in_store(vin->store, sk_X509_value(p.path, n - 1))))
        fputs("  (the path as far as verification got: no trust anchor)\n", o->f);
    show_label(o, 2, "sent, unused:");
    int unused = 0;
    for (size_t i = 1; i < c->n; i++) {
        bool used = false;
        for (int k = 0; c->sent[i] && k < n && !used; k++)
            used = X509_cmp(sk_X509_value(p.path, k), c->sent[i]) == 0;
        if (used)
            continue;
        fprintf(o->f, "%*s[%zu] ", unused++ ? 2 + SHOW_LABEL + 1 : 0, "", i);
        char *s = c->sent[i] ? cs_name_string(X509_get_subject_name(c->sent[i]))
                             : cs_strdup("(cannot be parsed)");
        show_text(o, s);
        fputc('\n', o->f);
        free(s);
    }
    if (!unused)
        fputs("none\n", o->f);
    cs_verified_path_free(&p);
}

/* The IANA name of a TLS SignatureScheme, or NULL. */
static const char *show_scheme_name(uint16_t scheme)
{
    static const struct {
        uint16_t code;
        const char *name;
    } names[] = {
        {0x0201, "rsa_pkcs1_sha1"},
        {0x0202, "dsa_sha1"},
        {0x0203, "ecdsa_sha1"},
        {0x0301, "rsa_pkcs1_sha224"},
        {0x0302, "dsa_sha224"},
        {0x0303, "ecdsa_sha224"},
        {0x0401, "rsa_pkcs1_sha256"},
        {0x0402, "dsa_sha256"},
        {0x0403, "ecdsa_secp256r1_sha256"},
        {0x0501, "rsa_pkcs1_sha384"},
        {0x0502, "dsa_sha384"},
        {0x0503, "ecdsa_secp384r1_sha384"},
        {0x0601, "rsa_pkcs1_sha512"},
        {0x0602, "dsa_sha512"},
        {0x0603, "ecdsa_secp521r1_sha512"},
        {0x0804, "rsa_pss_rsae_sha256"},
        {0x0805, "rsa_pss_rsae_sha384"},
        {0x0806, "rsa_pss_rsae_sha512"},
        {0x0807, "ed25519"},
        {0x0808, "ed448"},
        {0x0809, "rsa_pss_pss_sha256"},
        {0x080a, "rsa_pss_pss_sha384"},
        {0x080b, "rsa_pss_pss_sha512"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].code == scheme)
            return names[i].name;
    return NULL;
}

static void show_proof(struct show_out *o, const struct show_scan *s, const struct cs_result *r,
                       const struct cs_options *opt)
{
    fputs("\nProof of key possession\n", o->f);
    if (r->source) {
        fputs("  none: a certificate read from a file has no handshake\n", o->f);
        return;
    }
    show_field(o, 2, "TLS version:", r->tls_version && r->tls_version[0] ? r->tls_version : "-");
    show_label(o, 2, "checked:");
    if (opt->cert_only)
        fputs("nothing: --cert-only takes the chain and stops\n", o->f);
    else if (s->proof == CS_PROOF_SIGNATURE) {
        fputs(s->proof_tls13 ? "CertificateVerify, the server's signature over the transcript\n"
                             : "ServerKeyExchange, the server's signature over both randoms "
                               "and its key share\n",
              o->f);
        show_label(o, 2, "scheme:");
        const char *name = show_scheme_name(s->scheme);
        if (s->scheme == 0) /* TLS 1.0 and 1.1 fix the algorithm by the key's type */
            fputs(r->key && strncmp(r->key, "RSA", 3) == 0 ? "RSA over MD5+SHA-1 (TLS 1.0/1.1)"
                                                           : "SHA-1 (TLS 1.0/1.1)",
                  o->f);
        else
            fprintf(o->f, "%s (0x%04X)", name ? name : "unknown", s->scheme);
        fputs(", with the leaf's key", o->f);
        if (r->key) {
            fputs(" (", o->f);
            show_text(o, r->key);
            fputc(')', o->f);
        }
        fputc('\n', o->f);
    } else if (s->proof == CS_PROOF_FINISHED)
        fprintf(o->f,
                "the server's Finished (RSA key transport signs nothing: it shows the server "
                "decrypted the client's key exchange); %s\n",
                s->handshake_complete ? "it came" : "it did not come");
    else
        fputs("nothing: no proof came from the server\n", o->f);
    show_label(o, 2, "result:");
    if (r->key_proven == 1)
        fputs("proven\n", o->f);
    else if (r->key_proven == 0 && opt->cert_only)
        fputs("not asked (--cert-only)\n", o->f);
    else if (r->key_proven == 0) {
        fputs("not proven: ", o->f);
        show_text(o, r->error && r->error[0] ? r->error : r->reason);
        fputc('\n', o->f);
    } else
        fputs("-: no certificate was received\n", o->f);
}

static void show_revocation(struct show_out *o, const struct show_scan *s,
                            const struct cs_result *r, const struct cs_options *opt)
{
    fputs("\nRevocation\n", o->f);
    show_field(o, 2, "answer:", r->revocation ? r->revocation : "-");
    const char *src = r->revocation_source;
    show_field(o, 2, "source:",
               !src                         ? "-"
               : strcmp(src, "staple") == 0 ? "staple (the OCSP response stapled to the handshake)"
               : strcmp(src, "ocsp") == 0   ? "ocsp (the leaf's OCSP responder)"
               : strcmp(src, "crl") == 0    ? "crl (the leaf's CRL)"
                                            : src);
    show_time(o, 2, "this update:", r->revocation_this_update);
    show_time(o, 2, "next update:", r->revocation_next_update);
    if (r->revoked_at != CS_INT_NONE || r->revocation_reason) {
        show_time(o, 2, "revoked at:", r->revoked_at);
        show_field(o, 2, "reason:", r->revocation_reason ? r->revocation_reason : "-");
    }
    show_label(o, 2, "staple:");
    if (s->staple_len)
        fprintf(o->f, "sent (%zu bytes)\n", s->staple_len);
    else
        fputs(s->observed && s->chain.n && !r->source ? "not sent\n" : "-\n", o->f);
    show_field(o, 2, "responder:",
               opt->ocsp ? "asked unless a valid staple answered (--ocsp)"
                         : "not asked (--ocsp asks)");
    show_field(o, 2, "CRL:", opt->crl ? "fetched (--crl)" : "not fetched (--crl fetches)");
}

static void show_endpoint(struct show_out *o, const struct show_scan *s,
                          const struct cs_options *opt, int64_t now, X509_STORE *store)
{
    const struct cs_result *r = &s->rec;
    fputs("Endpoint ", o->f);
    show_text(o, r->host);
    if (r->port != CS_INT_NONE)
        fprintf(o->f, ":%lld", (long long)r->port);
    fputc('\n', o->f);
    show_field(o, 2, "protocol:", r->protocol ? r->protocol : "-");
    show_field(o, 2, "address:", r->address && r->address[0] ? r->address : "-");
    show_field(o, 2, "SNI:", r->sni && r->sni[0] ? r->sni : "none");
    show_time(o, 2, "as of:", now);
    if (s->chain.n) {
        struct show_chain c = {0};
        show_chain_parse(&s->chain, &c);
        show_sent(o, &c, r, now);
        struct cs_verify_input vin = {.store = store, .now = now, .level = opt->verify_level};
        show_path(o, &c, &vin);
        show_chain_free(&c);
        show_proof(o, s, r, opt);
        show_revocation(o, s, r, opt);
    } else {
        fputs("\nChain as sent\n  none: no certificate was received\n", o->f);
    }
    fputs("\nVerdict\n", o->f);
    show_field(o, 2, "status:", cs_status_name(r->status));
    show_field(o, 2, "reason:", r->reason);
}

/* ---- the command ---------------------------------------------------------------------- */

/* The one target's text must give exactly one good target.  0, or the exit
   code after saying why. */
static int show_check_target(const struct cs_options *o)
{
    char err[1024];
    struct cs_targets *ts = cs_targets_open(o, err, sizeof(err));
    if (!ts) {
        fprintf(stderr, "certsweep show: %s\n", err);
        return CS_EXIT_NOINPUT;
    }
    struct cs_target t;
    int rc = 0;
    int n = 0;
    while (n < 2 && cs_targets_next(ts, &t) > 0) {
        if (n++ == 0 && t.bad) {
            snprintf(err, sizeof(err), "%s", t.bad);
            rc = show_usage_error(err);
        }
        cs_target_free(&t);
    }
    cs_targets_close(ts);
    if (!rc && n > 1)
        rc = show_usage_error("the target names more than one endpoint (a range or a port "
                              "list); show takes one");
    return rc;
}

/* Runs the engine on the one target.  The engine status. */
static enum cs_engine_status show_scan_run(struct cs_options *opt, int64_t now, X509_STORE *store,
                                           struct show_scan *s)
{
    char err[1024];
    struct cs_targets *ts = cs_targets_open(opt, err, sizeof(err));
    if (!ts) {
        fprintf(stderr, "certsweep show: %s\n", err);
        return CS_ENGINE_INTERNAL;
    }
    struct cs_engine_stats stats = {0};
    enum cs_engine_status st = cs_engine_run(opt, now, ts, store, show_record, s, NULL, &stats);
    if (stats.error[0])
        fprintf(stderr, "certsweep show: %s\n", stats.error);
    cs_targets_close(ts);
    return st;
}

/* -1: scan; else the exit code (after --help, or a usage error said). */
static int show_parse(int argc, char **argv, struct cs_options *o)
{
    struct cs_cli_notes notes;
    enum cs_cli_result what = cs_cli_parse_command("show", show_allowed, o, argc, argv, &notes);
    if (what == CS_CLI_USAGE)
        fprintf(stderr, "certsweep show: %s (see certsweep show --help)\n", notes.error);
    else
        for (size_t i = 0; i < notes.n_warnings; i++)
            fprintf(stderr, "certsweep show: warning: %s\n", notes.warnings[i]);
    cs_cli_notes_free(&notes);
    if (what == CS_CLI_HELP) {
        show_usage(stdout);
        return fflush(stdout) == 0 ? CS_EXIT_OK : CS_EXIT_IOERR;
    }
    if (what != CS_CLI_OK)
        return CS_EXIT_USAGE;
    if (o->n_targets == 0)
        return show_usage_error("which endpoint? give HOST or HOST:PORT");
    if (o->n_targets > 1)
        return show_usage_error("one endpoint at a time");
    if (o->stdout_format != &cs_writer_text && o->stdout_format != &cs_writer_json &&
        o->stdout_format != &cs_writer_jsonl)
        return show_usage_error("-F takes text, json or jsonl here");
    int rc = show_check_target(o);
    return rc ? rc : -1;
}

static int show_run(int argc, char **argv)
{
    struct cs_options opt;
    cs_options_init(&opt);
    int rc = show_parse(argc, argv, &opt);
    if (rc >= 0) {
        cs_options_free(&opt);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    char err[512];
    X509_STORE *store = cs_trust_load(opt.ca_file, opt.ca_path, err, sizeof(err));
    if (!store) {
        fprintf(stderr, "certsweep show: %s (give a readable PEM file or hashed directory)\n", err);
        cs_options_free(&opt);
        return CS_EXIT_NOINPUT;
    }
    int64_t started = (int64_t)time(NULL);
    int64_t now = opt.has_now ? opt.now : started;
    struct show_scan s = {0};
    uv_mutex_init(&s.lock); /* s.rec is filled by the first record's copy */
    opt.workers = 1;
    opt.chain = true; /* the JSON forms carry the chain */
    opt.observe = show_observe;
    opt.observe_arg = &s;
    struct cs_scan_info info = {
        .tool = "certsweep",
        .version = CS_VERSION,
        .started_at = started,
        .now = now,
        .warn_secs = opt.warn_secs,
        .crit_secs = opt.crit_secs,
        .ocsp = opt.ocsp,
        .crl = opt.crl,
        .require_revocation = opt.require_revocation,
        .fail_on = opt.fail_on,
    };
    struct cs_writer w;
    bool json = opt.stdout_format != &cs_writer_text;
    if (json) {
        s.writer = &w;
        s.writer_rc = cs_writer_open(&w, opt.stdout_format, stdout, &info, 0);
    }
    enum cs_engine_status st = show_scan_run(&opt, now, store, &s);
    struct cs_summary sum = {
        .finished_at = (int64_t)time(NULL), .complete = st == CS_ENGINE_OK, .targets = s.records};
    if (s.records)
        sum.count[s.rec.status]++;
    if (json) {
        int crc = cs_writer_close(&w, &sum);
        s.writer_rc = s.writer_rc ? s.writer_rc : crc;
    } else if (st == CS_ENGINE_OK && s.records) {
        struct show_out o = {.f = stdout};
        cs_buf_init(&o.b, SHOW_LINE_MAX);
        show_endpoint(&o, &s, &opt, now, store);
        cs_buf_free(&o.b);
    }
    rc = st == CS_ENGINE_OK      ? cs_exit_code(sum.count, opt.fail_on)
         : st == CS_ENGINE_USAGE ? CS_EXIT_USAGE
                                 : CS_EXIT_SOFTWARE;
    if (st == CS_ENGINE_OK && !s.records)
        rc = CS_EXIT_SOFTWARE; /* one target, one record: always */
    if ((fflush(stdout) != 0 || ferror(stdout) || s.writer_rc < 0) && rc < CS_EXIT_USAGE) {
        fputs("certsweep show: writing to standard output failed\n", stderr);
        rc = CS_EXIT_IOERR;
    }
    if (s.records)
        cs_result_free(&s.rec);
    cs_raw_chain_free(&s.chain);
    uv_mutex_destroy(&s.lock);
    X509_STORE_free(store);
    cs_options_free(&opt);
    return rc;
}

const struct cs_command cs_command_show = {
    .name = "show",
    .usage = USAGE,
    .summary = "one endpoint in full: chain as sent, verified path, key proof, revocation",
    .run = show_run,
};
