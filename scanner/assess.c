/* Assessment (see assess.h): the chain cache parses and verifies the chain,
 * then come the per-endpoint checks (the name, the proof of key possession,
 * the staple), the revocation plan, and classification. */
#include "scanner/assess.h"

#include <stdlib.h>
#include <string.h>

void cs_assess_ctx_init(struct cs_assess_ctx *ctx, const struct cs_options *opt, int64_t now,
                        X509_STORE *store, struct cs_chain_cache *chains)
{
    *ctx = (struct cs_assess_ctx){
        .store = store,
        .now = now,
        .verify_level = opt->verify_level,
        .with_chain = opt->chain,
        .cert_only = opt->cert_only,
        .ocsp = opt->ocsp,
        .crl = opt->crl,
        .thresholds = {opt->warn_secs, opt->crit_secs, !opt->no_verify, opt->require_revocation},
        .chains = chains,
        .policy = opt->policy,
        .expect = opt->expect_set,
        .observe = opt->observe,
        .observe_arg = opt->observe_arg,
    };
}

static void set_str(char **field, const char *value)
{
    free(*field);
    *field = cs_strdup(value);
}

/* Whether the server proved that it holds the private key of the leaf it
   presented: its signature checked with the leaf's key (decoded once per
   chain by the chain cache), or, for RSA key transport, a handshake that
   completed.  0 with the reason in why, else 1. */
static int key_proven(const struct cs_assess_input *in, X509 *leaf, char *why, size_t len)
{
    static const struct cs_key_proof none = {.kind = CS_PROOF_NONE};
    const struct cs_key_proof *proof = in->proof ? in->proof : &none;
    if (proof->kind == CS_PROOF_FINISHED && in->handshake_complete)
        return 1;
    return cs_key_proof_check(proof, X509_get0_pubkey(leaf), why, len);
}

/* The staple's answer (cached per chain and staple bytes) and what the
   plan asks beyond it. */
static void plan_revocation(const struct cs_assess_ctx *ctx, const struct cs_assess_input *in,
                            const struct cs_result *r, struct cs_assessment *a)
{
    cs_rev_answer_init(&a->staple, CS_SRC_STAPLE);
    if (in->staple) {
        cs_chain_cache_staple(ctx->chains, a->objs.key, in->staple, in->staple_len, &a->subject,
                              &a->staple);
        if (a->staple.state == CS_REV_ERROR)
            snprintf(a->facts.staple_problem, sizeof(a->facts.staple_problem), "%s",
                     a->staple.error);
    }
    /* a valid staple is the responder's own answer: no need to ask again;
       nobody answers for a self-signed leaf (it stays unchecked) */
    bool self_signed = !a->objs.issuer && X509_self_signed(a->objs.leaf, 0) == 1;
    a->ask_ocsp = ctx->ocsp && r->ocsp_uris.n && !self_signed && a->staple.state != CS_REV_GOOD &&
                  a->staple.state != CS_REV_REVOKED;
    a->ask_crl = ctx->crl && r->crl_uris.n && !self_signed;
}

/* The chain's fields, the name check and the key check.  Returns the
   reason the record is an error (*error, or one made in why), or NULL. */
static const char *fill_chain(const struct cs_assess_ctx *ctx, const struct cs_assess_input *in,
                              struct cs_result *r, struct cs_assessment *a, char *why,
                              size_t why_len)
{
    const char *error = in->error;
    const struct cs_target *t = in->target;
    if (!in->chain || in->chain->n < 1)
        return error ? error : "handshake: server sent no certificate";
    struct cs_verify_input vin = {.store = ctx->store, .now = ctx->now, .level = ctx->verify_level};
    bool stapled = in->staple != NULL;
    if (cs_chain_cache_analyse(ctx->chains, r, &a->facts, in->chain, &vin, ctx->with_chain,
                               stapled || ctx->ocsp || ctx->crl, &a->objs) < 0)
        return error        ? error
               : in->source ? "file: the file's certificate cannot be parsed"
                            : "certificate: the server's certificate cannot be parsed";
    if (in->source) { /* a file: a name only when one is given */
        r->hostname_match = t->sni ? cs_cert_name_matches(a->objs.leaf, t->sni, false) : -1;
    } else {
        r->hostname_match = cs_cert_name_matches(a->objs.leaf, t->sni ? t->sni : t->host,
                                                 !t->sni && t->family != 0);
        set_str(&r->tls_version, in->tls_version ? in->tls_version : "");
    }
    if (r->not_after == CS_INT_NONE || r->not_before == CS_INT_NONE)
        return error ? error : "certificate: unreadable validity dates";
    r->days_remaining = cs_days_left(r->not_after, ctx->now);
    if (in->source)
        return error; /* no key to prove, no staple */
    r->key_proven = 0;
    if (!error && !ctx->cert_only) {
        r->key_proven = key_proven(in, a->objs.leaf, why, why_len);
        if (!r->key_proven)
            error = why;
    }
    r->ocsp_stapled = stapled;
    return error;
}

bool cs_assess(const struct cs_assess_ctx *ctx, const struct cs_assess_input *in,
               struct cs_result *r, struct cs_assessment *a)
{
    const struct cs_target *t = in->target;
    memset(a, 0, sizeof(*a));
    if (ctx->observe)
        ctx->observe(ctx->observe_arg, in);
    set_str(&r->host, t->unicode ? t->unicode : t->host);
    r->port = in->source ? CS_INT_NONE : t->port;
    if (in->source) { /* a file: no address, ever */
        set_str(&r->source, in->source);
        free(r->address);
        r->address = NULL;
    }
    set_str(&r->sni, t->sni ? t->sni : "");
    if (in->address)
        set_str(&r->address, in->address);
    r->elapsed_ms = in->elapsed_ms;
    if (in->protocol)
        set_str(&r->protocol, in->protocol);
    cs_labels_copy(&r->labels, &t->labels);

    char why[160];
    const char *error = fill_chain(ctx, in, r, a, why, sizeof(why));
    if (error) {
        cs_classify_error(r, error);
        cs_assessment_free(a);
        return false;
    }
    a->subject = (struct cs_rev_subject){a->objs.leaf, a->objs.issuer, a->objs.certs,
                                         ctx->store,   ctx->now,       a->facts.verify_ok};
    plan_revocation(ctx, in, r, a);
    if (a->ask_ocsp || a->ask_crl)
        return true;
    cs_assess_finish(ctx, r, a, NULL, NULL);
    return false;
}

/* --expect: whether the endpoint serves the newest certificate on disk
   that covers its name (the SNI sent, else the address literal). */
static void check_deployed(const struct cs_assess_ctx *ctx, struct cs_result *r)
{
    if (!ctx->expect || r->source || !r->sha256 || r->not_before == CS_INT_NONE)
        return;
    bool ip = !r->sni || !r->sni[0];
    const struct cs_expect_cert *newest = cs_expect_newest(ctx->expect, ip ? r->host : r->sni, ip);
    if (!newest)
        return;
    r->deployed = strcmp(newest->sha256, r->sha256) == 0 || r->not_before >= newest->not_before;
    if (!r->deployed)
        cs_classify_not_deployed(r, newest->path, newest->not_before);
}

void cs_assess_finish(const struct cs_assess_ctx *ctx, struct cs_result *r, struct cs_assessment *a,
                      const struct cs_rev_answer *ocsp, const struct cs_rev_answer *crl)
{
    struct cs_rev_answer parts[3], combined;
    size_t n = 0;
    parts[n++] = a->staple;
    if (ocsp)
        parts[n++] = *ocsp;
    if (crl)
        parts[n++] = *crl;
    cs_rev_combine(&combined, parts, n);
    cs_rev_to_record(r, &combined);
    cs_classify(r, &a->facts, ctx->now, &ctx->thresholds);
    /* policy (opt-in): findings raise the status, never lower it */
    cs_policy_apply(ctx->policy, &(struct cs_policy_input){a->objs.leaf, a->facts.verify_ok}, r);
    check_deployed(ctx, r);
    cs_assessment_free(a);
}

void cs_assessment_free(struct cs_assessment *a)
{
    cs_chain_objs_free(&a->objs);
    memset(&a->subject, 0, sizeof(a->subject));
}
