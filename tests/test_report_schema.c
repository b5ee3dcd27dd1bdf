/* The JSON Schemas (report/schema/) against the code: the record schema lists
 * exactly the fields of CS_FIELDS, in order, each with the JSON type its kind
 * writes; the json and jsonl writers' output of the fixture's records (with
 * labels and a --chain chain) validates; documents broken on purpose (a
 * wrong type, a missing field, an unknown status, a field nobody declared)
 * do not, and the validator says where; and the hooks that validate every
 * report the tests read (read_reports) or a certsweep run writes
 * (run_binary) fail a test when the schema does not hold. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/pki.h"
#include "tests/support/report_fixture.h"
#include "tests/support/reports.h"
#include "tests/support/runner.h"

#define SCHEMA_DIR CS_SOURCE_DIR "/report/schema"

static char *dir;

static void setup(void)
{
    dir = temp_dir();
    cr_assert_not_null(dir);
    unsetenv("CS_TEST_SCHEMA_DIR");
}

static void teardown(void)
{
    unsetenv("CS_TEST_SCHEMA_DIR");
    if (dir != NULL)
        remove_tree(dir);
    free(dir);
    dir = NULL;
}

TestSuite(schema, .init = setup, .fini = teardown, .timeout = 120);

static json_t *load_schema(const char *name)
{
    json_error_t err;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SCHEMA_DIR, name);
    json_t *s = json_load_file(path, 0, &err);
    cr_assert_not_null(s, "%s: %s (line %d)", path, err.text, err.line);
    return s;
}

/* Whether schema s (a property's) admits JSON type `type` ("integer",
   "null", ...): through "type", a "$ref" to a string definition, an "enum"
   or an "anyOf" of those. */
static bool admits(json_t *s, const char *type)
{
    json_t *t = json_object_get(s, "type");
    if (json_is_string(t) && strcmp(json_string_value(t), type) == 0)
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(t, i, v) if (strcmp(json_string_value(v), type) == 0) return true;
    if (json_object_get(s, "$ref") != NULL && strcmp(type, "string") == 0)
        return true; /* the time definition */
    json_array_foreach(json_object_get(s, "enum"), i, v)
    {
        if ((json_is_string(v) && strcmp(type, "string") == 0) ||
            (json_is_null(v) && strcmp(type, "null") == 0))
            return true;
    }
    json_array_foreach(json_object_get(s, "anyOf"), i, v) if (admits(v, type)) return true;
    return false;
}

/* What each field kind writes (report/json.c): its JSON type, and whether
   it can be null (lists never are: an empty array). */
static const char *kind_type(enum cs_field_kind k)
{
    switch (k) {
    case CS_FK_INT:
        return "integer";
    case CS_FK_BOOL:
        return "boolean";
    case CS_FK_LIST:
        return "array";
    default:
        return "string";
    }
}

static const enum cs_field_kind field_kinds[] = {
#define X(id, name, kind, member) kind,
    CS_FIELDS(X)
#undef X
};

/* Both schemas are valid JSON Schema (their metaschema, by the validator the
   loaders use). */
Test(schema, schemas_are_schemas)
{
    const char *args[] = {CS_SOURCE_DIR "/tests/support/validate_report.py", SCHEMA_DIR,
                          "--check-schemas", NULL};
    struct run_result r;
    cr_assert_eq(run_binary("/usr/bin/python3", args, NULL, 120, &r), 0);
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    run_result_free(&r);
}

Test(schema, record_schema_lists_exactly_the_fields)
{
    json_t *s = load_schema("certsweep-record.schema.json");
    json_t *props = json_object_get(s, "properties");
    cr_assert(json_is_object(props));
    /* the fields in the table's order, then labels and chain, nothing else */
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach(props, k, v)
    {
        const char *want = i < CS_FIELD_COUNT        ? cs_field_names[i]
                           : i == CS_FIELD_COUNT     ? "labels"
                           : i == CS_FIELD_COUNT + 1 ? "chain"
                                                     : "(nothing)";
        cr_assert_str_eq(k, want, "schema property %zu", i);
        if (i < CS_FIELD_COUNT) {
            cr_assert(admits(v, kind_type(field_kinds[i])), "%s: not a %s", k,
                      kind_type(field_kinds[i]));
            if (field_kinds[i] == CS_FK_LIST)
                cr_assert(!admits(v, "null"), "%s: a list is never null", k);
        }
        i++;
    }
    cr_assert_eq(i, CS_FIELD_COUNT + 2, "%zu schema properties, want %d fields, labels, chain", i,
                 CS_FIELD_COUNT);
    /* every field and labels required; chain only with --chain */
    json_t *req = json_object_get(s, "required");
    cr_assert_eq(json_array_size(req), CS_FIELD_COUNT + 1);
    for (size_t j = 0; j < CS_FIELD_COUNT; j++)
        cr_assert_str_eq(json_string_value(json_array_get(req, j)), cs_field_names[j]);
    cr_assert_str_eq(json_string_value(json_array_get(req, CS_FIELD_COUNT)), "labels");
    cr_assert(json_is_false(json_object_get(s, "additionalProperties")));
    /* the status enum is the scanner's */
    json_t *st = json_object_get(json_object_get(props, "status"), "enum");
    cr_assert_eq(json_array_size(st), CS_STATUS_COUNT);
    for (int j = 0; j < CS_STATUS_COUNT; j++)
        cr_assert_str_eq(json_string_value(json_array_get(st, (size_t)j)),
                         cs_status_name((enum cs_status)j));
    json_decref(s);
}

/* The fixture's records, the first with labels and a two-certificate chain. */
static void make_records(struct cs_result recs[NREC])
{
    make_all(recs);
    cs_labels_add(&recs[0].labels, "owner", "=1+1");
    cs_labels_add(&recs[0].labels, "site", "Z\xC3\xBCrich");
    recs[0].chain = calloc(2, sizeof(*recs[0].chain));
    recs[0].chain_n = 2;
    for (size_t i = 0; i < 2; i++) {
        struct cs_chain_cert *c = &recs[0].chain[i];
        c->subject = strdup(i ? "CN=Intermediate" : "CN=leaf");
        c->issuer = strdup(i ? "CN=Root" : "CN=Intermediate");
        c->serial = strdup("0A");
        c->sha256 = strdup("AB");
        c->key = strdup("EC-256");
        c->not_before = T_2025_01_01;
        c->not_after = T_2026_03_01 + 30 * DAY;
    }
}

/* Writes the json (kind "json") or jsonl report of the fixture's records to
   dir/NAME and returns its path. */
static const char *write_report(const char *kind, const char *name)
{
    struct cs_result recs[NREC];
    make_records(recs);
    size_t len;
    const struct cs_writer_ops *ops =
        strcmp(kind, "json") == 0 ? &cs_writer_json : &cs_writer_jsonl;
    char *out = run_writer(ops, &test_info, 0, recs, NREC, &len);
    free_all(recs, NREC);
    const char *path = dir_path(dir, "%s", name);
    cr_assert_eq(spit(path, out), 0);
    free(out);
    return path;
}

static void expect_valid(const char *kind, const char *path)
{
    char err[8192] = "";
    cr_assert_eq(validate_reports(&kind, &path, 1, err, sizeof(err)), 0, "%s", err);
}

/* The validator rejects path, naming `where` in its message. */
static void expect_invalid(const char *kind, const char *path, const char *where)
{
    char err[8192] = "";
    cr_assert_eq(validate_reports(&kind, &path, 1, err, sizeof(err)), -1, "%s: valid", path);
    cr_assert(strstr(err, where) != NULL, "the message does not say %s: %s", where, err);
}

Test(schema, writers_output_validates)
{
    expect_valid("json", write_report("json", "r.json"));
    expect_valid("jsonl", write_report("jsonl", "r.jsonl"));
}

/* Loads dir/NAME, applies change to its first record (or the document when
   rec is false), and writes it back to dir/OUT. */
static const char *broken(const char *name, const char *out, bool jsonl, bool rec,
                          void (*change)(json_t *))
{
    json_error_t je;
    json_t *doc;
    if (jsonl) {
        char *text = slurp(dir_path(dir, "%s", name), NULL);
        cr_assert_not_null(text);
        doc = json_loadb(text, strcspn(text, "\n"), 0, &je);
        free(text);
    } else {
        doc = json_load_file(dir_path(dir, "%s", name), 0, &je);
    }
    cr_assert_not_null(doc, "%s", je.text);
    change(rec && !jsonl ? json_array_get(json_object_get(doc, "results"), 0) : doc);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    const char *path = dir_path(dir, "%s", out);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n", text);
    fclose(f);
    free(text);
    return path;
}

static void port_as_string(json_t *r)
{
    json_object_set_new(r, "port", json_string("443"));
}

static void no_status(json_t *r)
{
    json_object_del(r, "status");
}

static void unknown_status(json_t *r)
{
    json_object_set_new(r, "status", json_string("FINE"));
}

static void extra_field(json_t *r)
{
    json_object_set_new(r, "surprise", json_true());
}

static void chain_extra_key(json_t *r)
{
    json_object_set_new(json_array_get(json_object_get(r, "chain"), 0), "pem", json_string("x"));
}

static void bad_time(json_t *r)
{
    json_object_set_new(r, "not_after", json_string("2026-03-01 00:00:00"));
}

static void label_not_text(json_t *r)
{
    json_object_set_new(json_object_get(r, "labels"), "owner", json_integer(1));
}

static void no_summary(json_t *d)
{
    json_object_del(d, "summary");
}

Test(schema, broken_documents_are_refused)
{
    write_report("json", "r.json");
    write_report("jsonl", "r.jsonl");
    static const struct {
        void (*change)(json_t *);
        const char *where;
    } cases[] = {
        {port_as_string, "/port"},         {no_status, "'status' is a required property"},
        {unknown_status, "/status"},       {extra_field, "surprise"},
        {chain_extra_key, "/chain/0"},     {bad_time, "/not_after"},
        {label_not_text, "/labels/owner"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_invalid("json", broken("r.json", "bad.json", false, true, cases[i].change),
                       cases[i].where);
        expect_invalid("jsonl", broken("r.jsonl", "bad.jsonl", true, true, cases[i].change),
                       cases[i].where);
    }
    expect_invalid("json", broken("r.json", "bad.json", false, false, no_summary),
                   "'summary' is a required property");
    /* JSON Lines: the line is named */
    expect_invalid("jsonl", broken("r.jsonl", "bad.jsonl", true, true, unknown_status),
                   "bad.jsonl:1:");
}

/* A schema directory whose record schema also requires a field no report
   has: every real report fails it. */
static void strict_schema_dir(void)
{
    char *d = strdup(dir_path(dir, "strict"));
    cr_assert_eq(mkdir(d, 0755), 0);
    json_t *rec = load_schema("certsweep-record.schema.json");
    json_array_append_new(json_object_get(rec, "required"), json_string("no_such_field"));
    cr_assert_eq(json_dump_file(rec, dir_path(d, "certsweep-record.schema.json"), JSON_INDENT(2)),
                 0);
    json_decref(rec);
    json_t *doc = load_schema("certsweep.schema.json");
    cr_assert_eq(json_dump_file(doc, dir_path(d, "certsweep.schema.json"), JSON_INDENT(2)), 0);
    json_decref(doc);
    setenv("CS_TEST_SCHEMA_DIR", d, 1);
    free(d);
}

/* A certificate file to scan: certsweep writes real reports, no network. */
static const char *cert_file(void)
{
    struct pki_cert c;
    int64_t now = time(NULL);
    struct pki_spec spec = {
        .subject = (const char *const[]){"CN", "file.schema.test", NULL},
        .not_before = now - DAY,
        .not_after = now + 90 * DAY,
        .key = PKI_EC256,
    };
    cr_assert_eq(pki_issue(&c, &spec, NULL), 0);
    const char *path = dir_path(dir, "leaf.pem");
    cr_assert_eq(pki_write_pem(path, &c.x509, 1), 0);
    pki_cert_free(&c);
    return path;
}

Test(schema, run_binary_validates_what_certsweep_wrote)
{
    const char *pem = strdup(cert_file());
    char *json = strdup(dir_path(dir, "out.json")), *jsonl = strdup(dir_path(dir, "out.jsonl"));
    const char *args[] = {"--certs", pem, "-o", json, "-o", jsonl, "-q", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0, "the real schema refused a real report");
    run_result_free(&r);
    /* standard output too */
    const char *out_args[] = {"--certs", pem, "-F", "jsonl", NULL};
    cr_assert_eq(run_certsweep(out_args, NULL, &r), 0);
    cr_assert(strstr(r.out, "\"host\"") != NULL, "%s", r.out);
    run_result_free(&r);

    strict_schema_dir();
    cr_assert_eq(run_certsweep(args, NULL, &r), -1, "a report against the schema went unnoticed");
    run_result_free(&r);
    cr_assert_eq(run_certsweep(out_args, NULL, &r), -1, "standard output went unvalidated");
    run_result_free(&r);
    free(json);
    free(jsonl);
    free((char *)pem);
}

Test(schema, read_reports_validates_the_json)
{
    const char *pem = strdup(cert_file());
    char *csv = strdup(dir_path(dir, "out.csv")), *json = strdup(dir_path(dir, "out.json"));
    const char *args[] = {"--certs", pem, "-o", csv, "-o", json, "-q", NULL};
    struct report_scan s = {0};
    cr_assert_eq(run_certsweep(args, NULL, &s.run), 0);
    char err[8192];
    cr_assert_eq(read_reports(&s, csv, json, err, sizeof(err)), 0, "%s", err);
    report_scan_free(&s);
    strict_schema_dir();
    memset(&s, 0, sizeof(s));
    cr_assert_eq(read_reports(&s, csv, json, err, sizeof(err)), -1, "read an invalid report");
    cr_assert(strstr(err, "no_such_field") != NULL, "%s", err);
    cr_assert_null(s.json);
    free(csv);
    free(json);
    free((char *)pem);
}
