/* The report loaders (see reports.h). */
#include "tests/support/reports.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/result.h"

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
