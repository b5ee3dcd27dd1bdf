/* The report loaders (see reports.h). */
#include "tests/support/reports.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner/commands.h"
#include "scanner/result.h"

#ifndef CS_SOURCE_DIR
#define CS_SOURCE_DIR "."
#endif

/* Debian's python3 (python3-jsonschema), whatever else is first on PATH */
#define REPORTS_PYTHON "/usr/bin/python3"
#define REPORTS_VALIDATE_MAX 32 /* reports validated per run */
#define REPORTS_VALIDATE_TIMEOUT_S 120

struct csv_state {
    struct csv_doc *d;
    char **row;
    size_t n;
};

static void csv_cell(void *s, size_t len, void *data)
{
    struct csv_state *st = data;
    st->row = realloc(st->row, (st->n + 1) * sizeof(*st->row));
    st->row[st->n] = malloc(len + 1);
    memcpy(st->row[st->n], s, len);
    st->row[st->n][len] = '\0';
    st->n++;
}

static void csv_row(int c, void *data)
{
    struct csv_state *st = data;
    struct csv_doc *d = st->d;
    (void)c;
    d->rows = realloc(d->rows, (d->nrows + 1) * sizeof(*d->rows));
    d->ncells = realloc(d->ncells, (d->nrows + 1) * sizeof(*d->ncells));
    d->rows[d->nrows] = st->row;
    d->ncells[d->nrows] = st->n;
    d->nrows++;
    st->row = NULL;
    st->n = 0;
}

int csv_doc_parse(const char *text, size_t len, struct csv_doc *d)
{
    struct csv_parser p;
    memset(d, 0, sizeof(*d));
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return -1;
    struct csv_state st = {d, NULL, 0};
    int rc = 0;
    if (csv_parse(&p, text, len, csv_cell, csv_row, &st) != len)
        rc = -1;
    if (csv_fini(&p, csv_cell, csv_row, &st) != 0)
        rc = -1;
    csv_free(&p);
    return rc;
}

void csv_doc_free(struct csv_doc *d)
{
    for (size_t i = 0; i < d->nrows; i++) {
        for (size_t j = 0; j < d->ncells[i]; j++)
            free(d->rows[i][j]);
        free(d->rows[i]);
    }
    free(d->rows);
    free(d->ncells);
    memset(d, 0, sizeof(*d));
}

const char *csv_doc_get(const struct csv_doc *d, size_t row, const char *column)
{
    if (d->nrows == 0 || row >= d->nrows)
        return NULL;
    for (size_t j = 0; j < d->ncells[0]; j++)
        if (strcmp(d->rows[0][j], column) == 0)
            return j < d->ncells[row] ? d->rows[row][j] : NULL;
    return NULL;
}

size_t csv_doc_find(const struct csv_doc *d, const char *column, const char *value)
{
    for (size_t i = 1; i < d->nrows; i++) {
        const char *v = csv_doc_get(d, i, column);
        if (v && strcmp(v, value) == 0)
            return i;
    }
    return 0;
}

const char *const expected_fields[] = {
    "host",
    "port",
    "address",
    "sni",
    "status",
    "reason",
    "days_remaining",
    "not_before",
    "not_after",
    "subject",
    "issuer",
    "sans",
    "ocsp_uris",
    "crl_uris",
    "serial",
    "sha256",
    "key",
    "signature",
    "tls_version",
    "chain_not_after",
    "verify",
    "hostname_match",
    "elapsed_ms",
    "error",
    "ocsp_stapled",
    "revocation",
    "revocation_source",
    "revoked_at",
    "revocation_reason",
    "revocation_this_update",
    "revocation_next_update",
    "key_proven",
    "protocol",
    "findings",
    "source",
    "deployed",
    "change",
    "first_seen",
};
const size_t n_expected_fields = sizeof expected_fields / sizeof expected_fields[0];

int check_record_layout(const struct csv_doc *csv, json_t *doc, char *err, size_t errlen)
{
    /* the fields, then a column per label name of the scan */
    if (csv->nrows == 0 || csv->ncells[0] < n_expected_fields) {
        snprintf(err, errlen, "%zu CSV header cells, want %zu", csv->nrows ? csv->ncells[0] : 0,
                 n_expected_fields);
        return -1;
    }
    for (size_t i = 0; i < n_expected_fields; i++)
        if (strcmp(csv->rows[0][i], expected_fields[i]) != 0) {
            snprintf(err, errlen, "CSV header cell %zu is \"%s\", want \"%s\"", i, csv->rows[0][i],
                     expected_fields[i]);
            return -1;
        }
    for (size_t i = 1; i < csv->nrows; i++)
        if (csv->ncells[i] != csv->ncells[0]) {
            snprintf(err, errlen, "CSV row %zu has %zu cells, want %zu", i, csv->ncells[i],
                     csv->ncells[0]);
            return -1;
        }
    json_t *results = json_object_get(doc, "results");
    if (!json_is_array(results)) {
        snprintf(err, errlen, "the JSON document has no \"results\" array");
        return -1;
    }
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r)
    {
        /* the fields, then the labels object (then --chain's array) */
        size_t keys = json_object_size(r) - (json_object_get(r, "chain") != NULL);
        if (keys != n_expected_fields + 1) {
            snprintf(err, errlen, "JSON record %zu has %zu keys, want %zu and labels", i, keys,
                     n_expected_fields);
            return -1;
        }
        if (!json_is_object(json_object_get(r, "labels"))) {
            snprintf(err, errlen, "JSON record %zu has no labels object", i);
            return -1;
        }
        const char *k;
        json_t *v;
        size_t j = 0;
        json_object_foreach(r, k, v)
        {
            if (j == n_expected_fields)
                break; /* labels (checked above), chain */
            if (strcmp(k, expected_fields[j]) != 0) {
                snprintf(err, errlen, "JSON record %zu: key %zu is \"%s\", want \"%s\"", i, j, k,
                         expected_fields[j]);
                return -1;
            }
            j++;
        }
    }
    return 0;
}

int read_reports(struct report_scan *s, const char *csv_path, const char *json_path, char *err,
                 size_t errlen)
{
    size_t len;
    s->json = NULL;
    memset(&s->csv, 0, sizeof s->csv);
    s->csv_text = slurp(csv_path, &len);
    if (s->csv_text == NULL) {
        snprintf(err, errlen, "no CSV report at %s: %s", csv_path, strerror(errno));
        return -1;
    }
    if (csv_doc_parse(s->csv_text, len, &s->csv) != 0) {
        snprintf(err, errlen, "the CSV does not parse:\n%s", s->csv_text);
        goto fail;
    }
    json_error_t jerr;
    s->json = json_load_file(json_path, 0, &jerr);
    if (s->json == NULL) {
        snprintf(err, errlen, "the JSON does not parse: %s", jerr.text);
        goto fail;
    }
    if (validate_reports((const char *[]){"json"}, &json_path, 1, err, errlen) < 0) {
        json_decref(s->json);
        s->json = NULL;
        goto fail;
    }
    return 0;
fail:
    csv_doc_free(&s->csv);
    free(s->csv_text);
    s->csv_text = NULL;
    return -1;
}

void report_scan_free(struct report_scan *s)
{
    run_result_free(&s->run);
    free(s->csv_text);
    s->csv_text = NULL;
    csv_doc_free(&s->csv);
    json_decref(s->json);
    s->json = NULL;
}

json_t *json_find_record(json_t *results, const char *host, long port)
{
    size_t i;
    json_t *rec;
    json_array_foreach(results, i, rec)
    {
        const char *h = json_string_value(json_object_get(rec, "host"));
        json_t *p = json_object_get(rec, "port");
        if (h && strcmp(h, host) == 0 && json_is_integer(p) && json_integer_value(p) == port)
            return rec;
    }
    return NULL;
}

int validate_reports(const char *const *kinds, const char *const *paths, size_t n, char *err,
                     size_t errlen)
{
    if (n == 0)
        return 0;
    if (n > REPORTS_VALIDATE_MAX) {
        snprintf(err, errlen, "%zu reports to validate at once, at most %d", n,
                 REPORTS_VALIDATE_MAX);
        return -1;
    }
    const char *args[2 * REPORTS_VALIDATE_MAX + 3];
    size_t k = 0;
    args[k++] = CS_SOURCE_DIR "/tests/support/validate_report.py";
    const char *schema_dir = getenv("CS_TEST_SCHEMA_DIR");
    args[k++] = schema_dir != NULL ? schema_dir : CS_SOURCE_DIR "/report/schema";
    for (size_t i = 0; i < n; i++) {
        args[k++] = kinds[i];
        args[k++] = paths[i];
    }
    args[k] = NULL;
    struct run_result v = {0};
    if (run_binary(REPORTS_PYTHON, args, NULL, REPORTS_VALIDATE_TIMEOUT_S, &v) < 0) {
        snprintf(err, errlen, "cannot run %s (install python3-jsonschema)", REPORTS_PYTHON);
        return -1;
    }
    int rc = v.status == 0 ? 0 : -1;
    if (rc < 0)
        snprintf(err, errlen, "not what the JSON Schema in %s allows (exit %d):\n%s%s", args[1],
                 v.status, v.out, v.err);
    run_result_free(&v);
    return rc;
}

/* "json" or "jsonl" for an -o value (FORMAT:PATH, or PATH by its extension),
   with *path set; NULL for other formats. */
static const char *reports_output_kind(const char *arg, const char **path)
{
    *path = arg;
    const char *colon = strchr(arg, ':');
    if (colon != NULL) {
        size_t n = (size_t)(colon - arg);
        *path = colon + 1;
        if (n == 4 && strncmp(arg, "json", 4) == 0)
            return "json";
        if (n == 5 && strncmp(arg, "jsonl", 5) == 0)
            return "jsonl";
        if (n <= 6 && strspn(arg, "abcdefghijklmnopqrstuvwxyz") == n)
            return NULL; /* another format's name */
        *path = arg;
    }
    size_t len = strlen(arg);
    if (len > 6 && strcmp(arg + len - 6, ".jsonl") == 0)
        return "jsonl";
    if (len > 5 && strcmp(arg + len - 5, ".json") == 0)
        return "json";
    return NULL;
}

/* The value of option short_name/long_name at args[*i] ("-o X", "-oX",
   "--output X", "--output=X"), advancing *i past it; NULL if args[*i] is
   not that option. */
static const char *reports_opt_value(const char *const *args, size_t *i, const char *short_name,
                                     const char *long_name)
{
    const char *a = args[*i];
    size_t ll = strlen(long_name);
    if (strcmp(a, short_name) == 0 || strcmp(a, long_name) == 0)
        return args[*i + 1] != NULL ? args[++*i] : NULL;
    if (strncmp(a, long_name, ll) == 0 && a[ll] == '=')
        return a + ll + 1;
    if (strncmp(a, short_name, 2) == 0 && a[1] != '-' && a[2] != '\0')
        return a + 2;
    return NULL;
}

static bool reports_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int validate_run_reports(const char *const *args, const struct run_result *r, char *err,
                         size_t errlen)
{
    if (r->status == 137)
        return 0; /* killed: what it left is not a finished report */
    const struct cs_command *cmd = args[0] != NULL ? cs_command_find(args[0]) : NULL;
    if (cmd != NULL && strcmp(cmd->name, "merge") != 0)
        return 0; /* diff and history print their own shapes, not reports */
    const char *kinds[REPORTS_VALIDATE_MAX], *paths[REPORTS_VALIDATE_MAX];
    const char *stdout_kind = NULL;
    size_t n = 0;
    for (size_t i = 0; args[i] != NULL && strcmp(args[i], "--") != 0; i++) {
        const char *v, *path;
        if ((v = reports_opt_value(args, &i, "-F", "--format")) != NULL) {
            stdout_kind = strcmp(v, "json") == 0 || strcmp(v, "jsonl") == 0 ? v : NULL;
        } else if ((v = reports_opt_value(args, &i, "-o", "--output")) != NULL) {
            const char *kind = reports_output_kind(v, &path);
            if (kind == NULL)
                continue;
            if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0)
                stdout_kind = kind;
            else if (reports_is_file(path) && n < REPORTS_VALIDATE_MAX) {
                kinds[n] = kind;
                paths[n++] = path;
            }
        }
    }
    char tmp[] = "/tmp/certsweep-stdout-XXXXXX";
    int fd = -1;
    if (stdout_kind != NULL && r->out != NULL && r->out[0] != '\0' && n < REPORTS_VALIDATE_MAX) {
        fd = mkstemp(tmp);
        size_t len = strlen(r->out);
        if (fd < 0 || write(fd, r->out, len) != (ssize_t)len) {
            snprintf(err, errlen, "cannot keep standard output to validate it: %s",
                     strerror(errno));
            if (fd >= 0)
                close(fd), unlink(tmp);
            return -1;
        }
        kinds[n] = stdout_kind;
        paths[n++] = tmp;
    }
    int rc = validate_reports(kinds, paths, n, err, errlen);
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    return rc;
}
