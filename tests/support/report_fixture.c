/* The report writer suites' shared fixture (report_fixture.h). */
#include "tests/support/report_fixture.h"

#include <criterion/criterion.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cs_scan_info test_info = {
    .tool = "certsweep",
    .version = "0.1.0",
    .started_at = T_2026_03_01,
    .now = T_2026_03_01,
    .warn_secs = -1,
    .crit_secs = -1,
    .targets = 0,
};

void set_str(char **field, const char *s)
{
    free(*field);
    *field = s ? cs_strdup(s) : NULL;
}

/* A healthy record with every field filled, full of characters that need
 * quoting or escaping. */
void make_ok(struct cs_result *r)
{
    cs_result_init(r);
    set_str(&r->host, "www.example.com");
    r->port = 443;
    set_str(&r->address, "93.184.216.34");
    set_str(&r->sni, "www.example.com");
    r->status = CS_OK;
    set_str(&r->reason, "expires in 60 days");
    r->days_remaining = 60;
    r->not_before = T_2025_01_01;
    r->not_after = T_2026_03_01 + 60 * DAY + 3600;
    set_str(&r->subject, "CN=www.example.com,O=Acme\\, \"Quoted\" Inc.,L=Montr\xc3\xa9"
                         "al,C=CA");
    set_str(&r->issuer, "CN=R3,O=Let's Encrypt,C=US");
    cs_strlist_add(&r->sans, "www.example.com");
    cs_strlist_add(&r->sans, "example.com");
    cs_strlist_add(&r->sans, "\xe6\x97\xa5\xe6\x9c\xac.example"); /* 日本 */
    cs_strlist_add(&r->ocsp_uris, "http://r3.o.lencr.org");
    set_str(&r->serial, "04A1B2C3D4E5F6");
    set_str(&r->sha256, "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08");
    set_str(&r->key, "EC-256");
    set_str(&r->signature, "ecdsa-with-SHA256");
    set_str(&r->tls_version, "TLSv1.3");
    r->chain_not_after = T_2026_03_01 + 60 * DAY;
    set_str(&r->verify, "ok");
    r->hostname_match = 1;
    r->elapsed_ms = 123;
    r->ocsp_stapled = 1;
    set_str(&r->revocation, "revoked");
    set_str(&r->revocation_source, "staple");
    r->revoked_at = T_2026_03_01 - DAY;
    set_str(&r->revocation_reason, "keyCompromise");
    r->revocation_this_update = T_2026_03_01 - 3600;
    r->revocation_next_update = T_2026_03_01 + 7 * DAY;
}

/* An expired certificate whose names carry newlines, CR, control characters,
 * terminal escapes and a spreadsheet formula. */
void make_hostile(struct cs_result *r)
{
    cs_result_init(r);
    set_str(&r->host, "\xc3\xa9t\xc3\xa9.example"); /* été */
    r->port = 8443;
    set_str(&r->address, "192.0.2.7");
    set_str(&r->sni, "");
    r->status = CS_EXPIRED;
    set_str(&r->reason, "expired 3 days ago");
    r->days_remaining = -3;
    r->not_before = T_2025_01_01;
    r->not_after = T_2026_03_01 - 3 * DAY;
    set_str(&r->subject, "CN=line1\nline2\r\nline3,O=\"q\",OU=a\x01"
                         "b\x1b[31mred\x1b[0m");
    set_str(&r->issuer, "CN=\x1b]0;pwned\x07\xc2\x9b"
                        "31m Evil \xe6\x97\xa5\xe6\x9c\xac CA,O=x");
    cs_strlist_add(&r->sans, "=HYPERLINK(\"http://evil\")");
    /* ocsp_uris: empty list; crl_uris: three entries */
    cs_strlist_add(&r->crl_uris, "http://a/1.crl");
    cs_strlist_add(&r->crl_uris, "http://b/2.crl");
    cs_strlist_add(&r->crl_uris, "http://c/3.crl");
    set_str(&r->serial, "");
    set_str(&r->sha256, "");
    set_str(&r->key, "RSA-2048");
    set_str(&r->signature, "sha256WithRSAEncryption");
    set_str(&r->tls_version, "TLSv1.2");
    r->chain_not_after = T_2026_03_01 - 3 * DAY;
    set_str(&r->verify, "certificate has expired");
    r->hostname_match = 0;
    r->elapsed_ms = 0;
}

/* An ERROR without a certificate: nulls everywhere. */
void make_error(struct cs_result *r)
{
    cs_result_init(r);
    set_str(&r->host, "2001:db8::1");
    r->port = 443;
    set_str(&r->address, "2001:db8::1");
    r->status = CS_ERROR;
    set_str(&r->reason, "connect: connection refused");
    set_str(&r->error, "connect: connection refused");
    r->elapsed_ms = 5;
}

void make_all(struct cs_result recs[NREC])
{
    make_ok(&recs[0]);
    make_hostile(&recs[1]);
    make_error(&recs[2]);
}

void free_all(struct cs_result *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cs_result_free(&recs[i]);
}

struct cs_summary summarize(const struct cs_result *recs, size_t n)
{
    struct cs_summary s = {.finished_at = T_2026_03_01 + 90, .targets = n, .complete = true};
    for (size_t i = 0; i < n; i++)
        s.count[recs[i].status]++;
    return s;
}

/* Runs a writer over recs into memory; returns the bytes written.  flags:
 * CS_WRITER_COLOR, CS_WRITER_CSV_RAW. */
char *run_writer(const struct cs_writer_ops *ops, const struct cs_scan_info *info, unsigned flags,
                 const struct cs_result *recs, size_t n, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    cr_assert_not_null(f);
    struct cs_writer w;
    struct cs_summary s = summarize(recs, n);
    cr_assert_eq(cs_writer_open(&w, ops, f, info, flags), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(cs_writer_record(&w, &recs[i]), 0);
    cr_assert_eq(cs_writer_close(&w, &s), 0);
    cr_assert_eq(fclose(f), 0);
    if (len)
        *len = size;
    return buf;
}

/* The keys of o, in document order, must be exactly names[0..n). */
void assert_keys(json_t *o, const char *const *names, size_t n)
{
    cr_assert(json_is_object(o));
    cr_assert_eq(json_object_size(o), n);
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        (void)v;
        cr_assert_lt(i, n);
        cr_assert_str_eq(key, names[i], "key %zu: %s, want %s", i, key, names[i]);
        i++;
    }
    cr_assert_eq(i, n);
}

/* Compares a parsed record with the struct it came from, field by field,
   then its labels object (always there, after the fields). */
void assert_record(json_t *o, const struct cs_result *r)
{
    const char *names[CS_FIELD_COUNT + 1];
    memcpy(names, cs_field_names, sizeof(cs_field_names));
    names[CS_FIELD_COUNT] = "labels";
    assert_keys(o, names, CS_FIELD_COUNT + 1);
    json_t *labels = json_object_get(o, "labels");
    cr_assert(json_is_object(labels));
    cr_assert_eq(json_object_size(labels), r->labels.n);
    for (size_t i = 0; i < r->labels.n; i++)
        cr_assert_str_eq(json_string_value(json_object_get(labels, r->labels.name[i])),
                         r->labels.value[i], "label %s", r->labels.name[i]);
    for (int f = 0; f < CS_FIELD_COUNT; f++) {
        const char *name = cs_field_names[f];
        json_t *j = json_object_get(o, name);
        struct cs_value v;
        cs_result_get(r, (enum cs_field)f, &v);
        if (v.kind == CS_FK_LIST) {
            cr_assert(json_is_array(j), "%s", name);
            cr_assert_eq(json_array_size(j), v.list->n, "%s", name);
            for (size_t i = 0; i < v.list->n; i++)
                cr_assert_str_eq(json_string_value(json_array_get(j, i)), v.list->v[i]);
            continue;
        }
        if (v.null) {
            cr_assert(json_is_null(j), "%s should be null", name);
            continue;
        }
        switch (v.kind) {
        case CS_FK_INT:
            cr_assert(json_is_integer(j), "%s", name);
            cr_assert_eq(json_integer_value(j), v.i, "%s", name);
            break;
        case CS_FK_BOOL:
            cr_assert(json_is_boolean(j), "%s", name);
            cr_assert_eq(json_is_true(j), v.i != 0, "%s", name);
            break;
        default:
            cr_assert(json_is_string(j), "%s", name);
            cr_assert_str_eq(json_string_value(j), v.s, "%s", name);
            break;
        }
    }
}
