/* Runs the certsweep binary as a user would and reads back what it wrote:
 * exit status, standard output and error, and parsed CSV/JSON reports. */
#ifndef CS_TEST_RUNNER_H
#define CS_TEST_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct run_result {
    int status; /* exit status, or 128+signal */
    char *out;  /* standard output, NUL-terminated */
    char *err;  /* standard error */
};

/* Runs `binary args...` (args NULL-terminated) with stdin from stdin_text
   (NULL: /dev/null), and NO_COLOR and the proxy variables libcurl reads
   (http_proxy, https_proxy, ALL_PROXY, no_proxy, ...) unset; waits at most timeout_s seconds
   (then kills it and reports status 137).  0 or -1. */
int run_binary(const char *binary, const char *const *args, const char *stdin_text, int timeout_s,
               struct run_result *r);
/* Same with the certsweep binary the build made. */
int run_certsweep(const char *const *args, const char *stdin_text, struct run_result *r);
void run_result_free(struct run_result *r);

/* A parsed CSV document: rows of cells. */
struct csv_doc {
    char ***rows;   /* rows[i][j] */
    size_t *ncells; /* cells per row */
    size_t nrows;
};
int csv_doc_parse(const char *text, size_t len, struct csv_doc *d);
void csv_doc_free(struct csv_doc *d);
/* Cell of row (1-based data row; 0 is the header) by header name; NULL if absent. */
const char *csv_doc_get(const struct csv_doc *d, size_t row, const char *column);
/* First data row whose `column` equals value, or 0 if none. */
size_t csv_doc_find(const struct csv_doc *d, const char *column, const char *value);

/* The fields of a record, in the order of the CSV header and of a JSON
   record's keys: DESIGN.md's record table, then the revocation fields.
   Spelled out here, not taken from the scanner's field table, so that the
   tests hold the code's order against an independent list. */
extern const char *const expected_fields[];
extern const size_t n_expected_fields;
/* Whether a run's reports have that layout: the CSV header is
   expected_fields, every CSV row has as many cells, and every record in the
   JSON document's "results" has those keys in that order.  0, or -1 with the
   first difference in err. */
int check_record_layout(const struct csv_doc *csv, json_t *doc, char *err, size_t errlen);

/* One certsweep run and the CSV and JSON reports it wrote. */
struct report_scan {
    struct run_result run;
    char *csv_text;     /* the CSV as written */
    struct csv_doc csv; /* ... and parsed */
    json_t *json;
};

/* Reads back the reports of s's run: the CSV at csv_path and the JSON at
   json_path.  0, or -1 with what failed in err and no report kept. */
int read_reports(struct report_scan *s, const char *csv_path, const char *json_path, char *err,
                 size_t errlen);
/* Frees the run and its reports. */
void report_scan_free(struct report_scan *s);

/* Reads a whole file; NULL if it cannot.  *len gets its size if len != NULL. */
char *slurp(const char *path, size_t *len);
/* Writes text to path; 0 or -1. */
int spit(const char *path, const char *text);

/* The record in a JSON document's "results" (or a JSONL array of records)
   whose host and port match; NULL if none. */
json_t *json_find_record(json_t *results, const char *host, long port);

/* A port on 127.0.0.1 free for both TCP and UDP a moment ago, or 0. */
uint16_t free_port(void);
/* 1 if something accepts TCP connections on 127.0.0.1:port. */
int port_accepts(uint16_t port);
/* 1 once the pid file at path names pid: the process has bound its sockets
   (so a connect that succeeds reached it, not a process that took the port
   between free_port() and its bind). */
int pid_file_names(const char *path, pid_t pid);
/* SIGTERM to *pid, SIGKILL after 5 s, reaped; *pid becomes -1. */
void stop_child(pid_t *pid);

/* A fresh empty directory under /tmp; caller frees the string. */
char *temp_dir(void);
/* rm -r of a directory made by temp_dir(). */
void remove_tree(const char *dir);

#endif
