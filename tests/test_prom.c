/* The Prometheus report (-o FILE.prom): the test fleet, hostile certificates
 * and bad target lines included, scanned by the certsweep binary; the file
 * checked by promtool (the format and its lint) and parsed back here with a
 * parser of the exposition format's own, every value compared with the JSON
 * report of the same scan.  Records made by hand check the escapes that no
 * scan can produce (a newline in a label value). */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "scanner/result.h"
#include "tests/support/fleet.h"
#include "tests/support/fleet_fixture.h"
#include "tests/support/fleet_targets.h"
#include "tests/support/runner.h"

#define PROMTOOL "/usr/bin/promtool"

static void setup(void)
{
    fx_setup_with(&(struct fleet_options){.hostile = true});
}

/* ---- the exposition format, read back ------------------------------------------------------- */

#define MAX_LABELS 16

struct sample {
    char *name;
    char *label[MAX_LABELS][2]; /* name, unescaped value */
    size_t nl;
    char *value;
};

struct samples {
    struct sample *v;
    size_t n;
};

/* Parses one label value after its opening quote; *p moves past the
   closing quote.  Only \\, \" and \n are escapes. */
static char *parse_value(const char **p)
{
    size_t cap = strlen(*p) + 1, o = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    const char *s = *p;
    for (; *s && *s != '"'; s++) {
        if (*s == '\\') {
            s++;
            cr_assert(*s == '\\' || *s == '"' || *s == 'n', "bad escape \\%c", *s);
            out[o++] = *s == 'n' ? '\n' : *s;
        } else {
            cr_assert_neq(*s, '\n', "raw newline in a label value");
            out[o++] = *s;
        }
    }
    cr_assert_eq(*s, '"', "unterminated label value");
    out[o] = '\0';
    *p = s + 1;
    return out;
}

static void parse_samples(const char *text, struct samples *ss)
{
    memset(ss, 0, sizeof(*ss));
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        cr_assert_not_null(end, "the last line has no newline");
        if (*line != '#') {
            struct sample s = {0};
            const char *p = line;
            size_t nlen = strcspn(p, "{ ");
            s.name = strndup(p, nlen);
            p += nlen;
            if (*p == '{') {
                p++;
                while (*p != '}') {
                    size_t llen = strcspn(p, "=");
                    cr_assert_lt(s.nl, MAX_LABELS);
                    s.label[s.nl][0] = strndup(p, llen);
                    p += llen;
                    cr_assert_eq(p[0], '=');
                    cr_assert_eq(p[1], '"');
                    p += 2;
                    s.label[s.nl][1] = parse_value(&p);
                    s.nl++;
                    if (*p == ',')
                        p++;
                }
                p++;
            }
            cr_assert_eq(*p, ' ', "no value after %s", s.name);
            s.value = strndup(p + 1, (size_t)(end - p - 1));
            ss->v = realloc(ss->v, (ss->n + 1) * sizeof(*ss->v));
            ss->v[ss->n++] = s;
        }
        line = end + 1;
    }
}

static void samples_free(struct samples *ss)
{
    for (size_t i = 0; i < ss->n; i++) {
        free(ss->v[i].name);
        free(ss->v[i].value);
        for (size_t k = 0; k < ss->v[i].nl; k++) {
            free(ss->v[i].label[k][0]);
            free(ss->v[i].label[k][1]);
        }
    }
    free(ss->v);
}

static const char *label_of(const struct sample *s, const char *name)
{
    for (size_t k = 0; k < s->nl; k++)
        if (strcmp(s->label[k][0], name) == 0)
            return s->label[k][1];
    return NULL;
}

/* The endpoint identity of a JSON record, as the labels must say it. */
struct ident {
    const char *host, *sni, *protocol, *address;
    char port[24];
};

static struct ident ident_of(json_t *rec)
{
    struct ident id = {0};
    const char *p = json_string_value(json_object_get(rec, "protocol"));
    id.host = json_string_value(json_object_get(rec, "host"));
    id.sni = json_string_value(json_object_get(rec, "sni"));
    id.address = json_string_value(json_object_get(rec, "address"));
    id.protocol = p ? p : "";
    json_t *port = json_object_get(rec, "port");
    if (json_is_integer(port))
        snprintf(id.port, sizeof(id.port), "%lld", (long long)json_integer_value(port));
    return id;
}

static bool matches(const struct sample *s, const char *name, const struct ident *id)
{
    return strcmp(s->name, name) == 0 && strcmp(label_of(s, "host"), id->host) == 0 &&
           strcmp(label_of(s, "port"), id->port) == 0 && strcmp(label_of(s, "sni"), id->sni) == 0 &&
           strcmp(label_of(s, "protocol"), id->protocol) == 0 &&
           strcmp(label_of(s, "address"), id->address) == 0;
}

/* The samples of metric `name` for the endpoint (and status, if given). */
static size_t find(const struct samples *ss, const char *name, const struct ident *id,
                   const char *status, const struct sample **found)
{
    size_t n = 0;
    for (size_t i = 0; i < ss->n; i++)
        if (matches(&ss->v[i], name, id) &&
            (!status || strcmp(label_of(&ss->v[i], "status"), status) == 0)) {
            *found = &ss->v[i];
            n++;
        }
    return n;
}

static const struct sample *scalar(const struct samples *ss, const char *name, const char *status)
{
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->v[i].name, name) == 0 &&
            (!status || strcmp(label_of(&ss->v[i], "status"), status) == 0))
            return &ss->v[i];
    cr_assert_fail("no sample %s", name);
    return NULL;
}

static long long time_value(json_t *t)
{
    int64_t v;
    cr_assert_eq(cs_parse_time(json_string_value(t), &v), 0);
    return (long long)v;
}

static void promtool_accepts(const char *text)
{
    struct run_result r;
    const char *args[] = {"check", "metrics", NULL};
    cr_assert_eq(run_binary(PROMTOOL, args, text, 60, &r), 0, "cannot run promtool");
    cr_assert_eq(r.status, 0, "promtool check metrics: %s%s", r.out, r.err);
    run_result_free(&r);
}

/* ---- the fleet ------------------------------------------------------------------------------ */

TestSuite(prom, .init = setup, .fini = fx_teardown, .timeout = 240);

/* Everything the fleet serves but the peers that only waste the deadline. */
static bool scanned(const struct fleet_scenario *s)
{
    return !s->hostile || s->behaviour == FLEET_TLS;
}

Test(prom, fleet_with_hostile_names)
{
    /* bad lines: a double quote and a backslash, twice (one series), a pipe;
       an internationalised name that nothing answers */
    const struct fleet_scenario *closed = fleet_get(fx_fleet, "closed");
    char extra[512], pin[128];
    snprintf(extra, sizeof(extra),
             "bad\"quote\\back\nbad\"quote\\back\nevil|pipe\nb\xc3\xbc"
             "cher.example:%u\n",
             closed->port);
    struct fleet_args args = {0};
    char *targets = fleet_targets_write(fx_fleet, fx_dir, scanned, extra, &args);
    cr_assert_not_null(targets);
    snprintf(pin, sizeof(pin), "xn--bcher-kva.example:%u:127.0.0.1", closed->port);
    fleet_args_add(&args, "--resolve");
    fleet_args_add(&args, pin);
    char *prom, *json;
    cr_assert(asprintf(&prom, "%s/certs.prom", fx_dir) > 0);
    cr_assert(asprintf(&json, "%s/out.json", fx_dir) > 0);
    const char *fixed[] = {"-f", targets, "--ca-file", fleet_ca_file(fx_fleet),
                           "-t", "5",     "-o",        prom,
                           "-o", json,    "-q"};
    const char **argv = fleet_args_join(fixed, sizeof(fixed) / sizeof(fixed[0]), &args, NULL);
    struct run_result r;
    cr_assert_eq(run_certsweep(argv, NULL, &r), 0);
    cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);

    char *text = slurp(prom, NULL);
    cr_assert_not_null(text, "no Prometheus report; stderr: %s", r.err);
    promtool_accepts(text);
    json_error_t jerr;
    json_t *doc = json_load_file(json, 0, &jerr);
    cr_assert_not_null(doc, "%s", jerr.text);
    json_t *results = json_object_get(doc, "results");

    struct samples ss;
    parse_samples(text, &ss);
    size_t status_series = 0, counts[CS_STATUS_COUNT] = {0};
    bool saw_quote = false, saw_idn = false, saw_awkward = false;
    for (size_t i = 0; i < ss.n; i++)
        status_series += strcmp(ss.v[i].name, "certsweep_endpoint_status") == 0;
    size_t distinct = 0;
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *rec = json_array_get(results, i);
        struct ident id = ident_of(rec);
        const char *status = json_string_value(json_object_get(rec, "status"));
        counts[cs_status_parse(status)]++;
        const struct sample *s = NULL;
        cr_assert_eq(find(&ss, "certsweep_endpoint_status", &id, status, &s), 1,
                     "%s:%s: no single status series", id.host, id.port);
        cr_assert_str_eq(s->value, "1", "%s:%s is %s", id.host, id.port, status);
        cr_assert_eq(find(&ss, "certsweep_endpoint_status", &id, NULL, &s), CS_STATUS_COUNT);
        bool first = true; /* the two identical bad lines are one endpoint */
        for (size_t j = 0; j < i; j++) {
            struct ident other = ident_of(json_array_get(results, j));
            if (strcmp(other.host, id.host) == 0 && strcmp(other.port, id.port) == 0 &&
                strcmp(other.sni, id.sni) == 0)
                first = false;
        }
        distinct += first;
        json_t *na = json_object_get(rec, "not_after");
        size_t n = find(&ss, "certsweep_cert_not_after_timestamp_seconds", &id, NULL, &s);
        if (json_is_null(na)) {
            cr_assert_eq(n, 0);
            continue;
        }
        cr_assert_eq(n, 1, "%s:%s: no notAfter series", id.host, id.port);
        cr_assert_eq(strtoll(s->value, NULL, 10), time_value(na), "%s:%s", id.host, id.port);
        cr_assert_eq(find(&ss, "certsweep_cert_info", &id, NULL, &s), 1);
        const char *subject = json_string_value(json_object_get(rec, "subject"));
        const char *issuer = json_string_value(json_object_get(rec, "issuer"));
        if (strlen(subject) < 900)
            cr_assert_str_eq(label_of(s, "subject"), subject, "%s:%s", id.host, id.port);
        if (strlen(issuer) < 900)
            cr_assert_str_eq(label_of(s, "issuer"), issuer, "%s:%s", id.host, id.port);
        cr_assert_str_eq(label_of(s, "serial"), json_string_value(json_object_get(rec, "serial")));
        cr_assert_str_eq(label_of(s, "sha256"), json_string_value(json_object_get(rec, "sha256")));
        /* RFC 4514 escapes: backslashes and double quotes, and UTF-8 */
        saw_awkward |= strstr(subject, "\\\"Quote\\\"") != NULL &&
                       strstr(subject, "\xe6\x97\xa5\xe6\x9c\xac") != NULL;
    }
    for (size_t i = 0; i < json_array_size(results); i++) {
        struct ident id = ident_of(json_array_get(results, i));
        saw_quote |= strcmp(id.host, "bad\"quote\\x5Cback") == 0;
        saw_idn |= strcmp(id.host, "b\xc3\xbc"
                                   "cher.example") == 0 &&
                   strcmp(id.sni, "xn--bcher-kva.example") == 0;
    }
    cr_assert(saw_quote && saw_idn && saw_awkward, "quote %d, idn %d, awkward subject %d",
              saw_quote, saw_idn, saw_awkward);
    cr_assert_eq(status_series, CS_STATUS_COUNT * distinct, "%zu series for %zu endpoints",
                 status_series, distinct);
    cr_assert_eq(distinct + 1, json_array_size(results));
    for (int st = 0; st < CS_STATUS_COUNT; st++) {
        const char *name = cs_status_name((enum cs_status)st);
        cr_assert_eq(strtoull(scalar(&ss, "certsweep_endpoints", name)->value, NULL, 10),
                     counts[st], "%s", name);
    }
    json_t *scan = json_object_get(doc, "scan");
    long long start = strtoll(scalar(&ss, "certsweep_scan_start_timestamp_seconds", NULL)->value,
                              NULL, 10),
              end = strtoll(scalar(&ss, "certsweep_scan_end_timestamp_seconds", NULL)->value, NULL,
                            10);
    cr_assert_eq(start, time_value(json_object_get(scan, "started_at")));
    cr_assert_eq(end, time_value(json_object_get(scan, "finished_at")));
    cr_assert_eq(strtoll(scalar(&ss, "certsweep_scan_duration_seconds", NULL)->value, NULL, 10),
                 end - start);
    cr_assert_str_eq(scalar(&ss, "certsweep_scan_complete", NULL)->value, "1");

    /* written whole and renamed into place: no temporary file is left */
    DIR *d = opendir(fx_dir);
    for (struct dirent *de; (de = readdir(d));)
        cr_assert_null(strstr(de->d_name, ".partial-"), "%s left behind", de->d_name);
    closedir(d);

    samples_free(&ss);
    json_decref(doc);
    free(text);
    run_result_free(&r);
    free(argv);
    fleet_args_free(&args);
    free(targets);
    free(prom);
    free(json);
}

/* ---- records made by hand ------------------------------------------------------------------- */

static void make(struct cs_result *r, const char *host, int64_t port, enum cs_status st)
{
    cs_result_init(r);
    free(r->host);
    r->host = strdup(host);
    r->port = port;
    r->status = st;
    r->protocol = strdup("tls");
}

static char *write_prom(const struct cs_result *recs, size_t n)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    struct cs_scan_info info = {.tool = "certsweep", .version = "test", .started_at = 1000};
    struct cs_summary s = {.finished_at = 1003, .complete = true};
    struct cs_writer w;
    cr_assert_eq(cs_writer_open(&w, &cs_writer_prom, f, &info, 0), 0);
    for (size_t i = 0; i < n; i++) {
        s.count[recs[i].status]++;
        cr_assert_eq(cs_writer_record(&w, &recs[i]), 0);
    }
    cr_assert_eq(cs_writer_close(&w, &s), 0);
    fclose(f);
    return buf;
}

Test(prom, records_escapes_and_duplicates)
{
    struct cs_result r[4];
    make(&r[0], "new\nline \"quoted\" back\\slash \xff", 443, CS_WARNING);
    r[0].not_after = 1800000000;
    free(r[0].address);
    r[0].address = strdup("192.0.2.1");
    r[0].subject = malloc(5001);
    memset(r[0].subject, 'x', 5000);
    r[0].subject[5000] = '\0';
    make(&r[1], "twice.example", 443, CS_ERROR);
    make(&r[2], "twice.example", 443, CS_CRITICAL);
    make(&r[3], "ok.example", 8443, CS_OK);
    char *text = write_prom(r, 4);
    cr_assert_not_null(strstr(text,
                              "certsweep_cert_not_after_timestamp_seconds{host=\"new\\nline "
                              "\\\"quoted\\\" back\\\\slash \xef\xbf\xbd\",port=\"443\","
                              "sni=\"\",protocol=\"tls\",address=\"192.0.2.1\"} 1800000000\n"),
                       "%s", text);
    promtool_accepts(text);
    struct samples ss;
    parse_samples(text, &ss);
    size_t twice = 0;
    for (size_t i = 0; i < ss.n; i++) {
        const char *h = label_of(&ss.v[i], "host");
        if (strcmp(ss.v[i].name, "certsweep_endpoint_status") != 0 || !h ||
            strcmp(h, "twice.example") != 0)
            continue;
        twice++;
        bool critical = strcmp(label_of(&ss.v[i], "status"), "CRITICAL") == 0;
        cr_assert_str_eq(ss.v[i].value, critical ? "1" : "0", "the most urgent record is kept");
    }
    cr_assert_eq(twice, CS_STATUS_COUNT);
    for (size_t i = 0; i < ss.n; i++)
        if (strcmp(ss.v[i].name, "certsweep_cert_info") == 0) {
            const char *subject = label_of(&ss.v[i], "subject");
            cr_assert_eq(strlen(subject), 1024 + 3, "a long value is cut");
            cr_assert_str_eq(subject + 1024, "...");
        }
    cr_assert_str_eq(scalar(&ss, "certsweep_scan_duration_seconds", NULL)->value, "3");
    cr_assert_str_eq(scalar(&ss, "certsweep_endpoints", "ERROR")->value, "1");
    cr_assert_str_eq(scalar(&ss, "certsweep_endpoints", "CRITICAL")->value, "1");
    samples_free(&ss);
    free(text);
    for (size_t i = 0; i < 4; i++)
        cs_result_free(&r[i]);
}

/* A targets line's labels become Prometheus labels of its series, escaped. */
Test(prom, record_labels)
{
    char *targets, *prom;
    cr_assert(asprintf(&targets, "%s/labelled.txt", fx_dir) > 0);
    cr_assert(asprintf(&prom, "%s/labelled.prom", fx_dir) > 0);
    char *line;
    cr_assert(
        asprintf(&line, "file:%s owner=\"pay\"\"ments\" team=a\\b\n", fleet_ca_file(fx_fleet)) > 0);
    cr_assert_eq(spit(targets, line), 0);
    const char *args[] = {"-q", "-f", targets, "-o", prom, "--fail-on", "never", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    run_result_free(&r);
    char *text = slurp(prom, NULL);
    cr_assert_not_null(text);
    promtool_accepts(text);
    struct samples ss = {0};
    parse_samples(text, &ss);
    size_t seen = 0;
    for (size_t i = 0; i < ss.n; i++)
        if (strcmp(ss.v[i].name, "certsweep_cert_not_after_timestamp_seconds") == 0) {
            cr_assert_str_eq(label_of(&ss.v[i], "owner"), "pay\"ments");
            cr_assert_str_eq(label_of(&ss.v[i], "team"), "a\\b");
            cr_assert_str_eq(label_of(&ss.v[i], "protocol"), "file");
            seen++;
        }
    cr_assert_eq(seen, 1);
    samples_free(&ss);
    free(text);
    free(line);
    free(targets);
    free(prom);
}
