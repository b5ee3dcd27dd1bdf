/* Scan history in SQLite (history.h; the schema is README.md's "History"). */
#include "scanner/history.h"

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* 'crsw': marks a database as a certsweep history */
#define APPLICATION_ID 0x63727377
#define BATCH_RECORDS 1000 /* observations per transaction at most ... */
#define BATCH_MS 1000      /* ... or the first one a second after the batch began */
#define BUSY_MS 10000      /* another certsweep writing the same history */

/* Migration i takes the schema from version i to i + 1; 0 makes it. */
static const char *const migrations[CS_HISTORY_SCHEMA] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES (0);"
    "CREATE TABLE scans ("
    " id INTEGER PRIMARY KEY,"
    " started_at INTEGER NOT NULL,"
    " finished_at INTEGER,"
    " now INTEGER NOT NULL,"
    " complete INTEGER,"
    " version TEXT NOT NULL,"
    " options TEXT NOT NULL,"
    " targets INTEGER,"
    " ok INTEGER, warning INTEGER, critical INTEGER, expired INTEGER, error INTEGER,"
    " gone INTEGER);"
    "CREATE INDEX scans_started ON scans (started_at);"
    "CREATE TABLE endpoints ("
    " id INTEGER PRIMARY KEY,"
    " host TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " sni TEXT NOT NULL,"
    " protocol TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " last_scan INTEGER,"
    " last_observation INTEGER);"
    "CREATE UNIQUE INDEX endpoints_identity ON endpoints (host, port, sni, protocol);"
    "CREATE TABLE observations ("
    " id INTEGER PRIMARY KEY,"
    " scan_id INTEGER NOT NULL REFERENCES scans (id),"
    " endpoint_id INTEGER NOT NULL REFERENCES endpoints (id),"
    " address TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " not_after INTEGER,"
    " serial TEXT,"
    " sha256 TEXT,"
    " issuer TEXT,"
    " labels TEXT,"
    " change TEXT NOT NULL);"
    "CREATE INDEX observations_scan ON observations (scan_id);"
    "CREATE INDEX observations_endpoint ON observations (endpoint_id);"
    "CREATE VIEW timeline AS SELECT o.scan_id, s.started_at, e.host, e.port, e.sni,"
    " e.protocol, o.address, o.status, o.reason, o.not_after, o.serial, o.sha256, o.issuer,"
    " o.labels, o.change, e.first_seen"
    " FROM observations o JOIN scans s ON s.id = o.scan_id"
    " JOIN endpoints e ON e.id = o.endpoint_id;",
};

enum stmt {
    ST_LOOKUP,
    ST_NEW_ENDPOINT,
    ST_OBSERVE,
    ST_MOVE_ENDPOINT,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_LOOKUP] = "SELECT e.id, e.first_seen, o.status, o.not_after, o.sha256"
                  " FROM endpoints e LEFT JOIN observations o ON o.id = e.last_observation"
                  " WHERE e.host = ?1 AND e.port = ?2 AND e.sni = ?3 AND e.protocol = ?4",
    [ST_NEW_ENDPOINT] = "INSERT INTO endpoints (host, port, sni, protocol, first_seen)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_OBSERVE] = "INSERT INTO observations (scan_id, endpoint_id, address, status, reason,"
                   " not_after, serial, sha256, issuer, labels, change)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_MOVE_ENDPOINT] = "UPDATE endpoints SET last_scan = ?2, last_observation = ?3"
                         " WHERE id = ?1",
};

struct cs_history {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st[ST_COUNT];
    int64_t scan_id;
    int64_t started_at;
    bool in_batch;
    unsigned batch_n;
    int64_t batch_ms; /* monotonic start of the batch */
    uint64_t changes[CS_CHANGE_COUNT];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line about the database's last failure: "FILE: what (sqlite's words)". */
static void say(char *err, size_t errlen, const char *path, const char *what, sqlite3 *db)
{
    snprintf(err, errlen, "%s: %s (%s)", path, what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* The fault an SQLite result code means at open time. */
static enum cs_history_fault fault_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
        return CS_HISTORY_NOTOURS;
    case SQLITE_FULL:
    case SQLITE_IOERR:
        return CS_HISTORY_WRITE;
    default:
        return CS_HISTORY_CANTCREATE;
    }
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A single integer from sql, or fallback when it has no row. */
static int query_int(sqlite3 *db, const char *sql, int64_t fallback, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
               ? sqlite3_column_int64(st, 0)
               : fallback;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The schema version of a database that is ours (0 for an empty one), or
   -1 with err: not a certsweep history, or newer than this certsweep. */
static int64_t schema_of(sqlite3 *db, const char *path, enum cs_history_fault *fault, char *err,
                         size_t errlen)
{
    int64_t app, tables, version = 0;
    int rc = query_int(db, "PRAGMA application_id", 0, &app);
    if (rc == SQLITE_OK)
        rc = query_int(db, "SELECT count(*) FROM sqlite_schema", 0, &tables);
    if (rc != SQLITE_OK) {
        *fault = fault_of(rc);
        say(err, errlen, path,
            *fault == CS_HISTORY_NOTOURS ? "not a SQLite database" : "cannot be read", db);
        return -1;
    }
    if (tables == 0 && app == 0)
        return 0;
    if (app != APPLICATION_ID ||
        query_int(db, "SELECT max(version) FROM schema_version", -1, &version) != SQLITE_OK ||
        version < 0) {
        *fault = CS_HISTORY_NOTOURS;
        snprintf(err, errlen, "%s: a SQLite database, but not a certsweep history", path);
        return -1;
    }
    if (version > CS_HISTORY_SCHEMA) {
        *fault = CS_HISTORY_NOTOURS;
        snprintf(err, errlen,
                 "%s: history schema version %lld is newer than this certsweep knows (%d); "
                 "use a newer certsweep",
                 path, (long long)version, CS_HISTORY_SCHEMA);
        return -1;
    }
    return version;
}

/* Brings the schema from version to CS_HISTORY_SCHEMA, one transaction per
   step, so a step that fails leaves the previous version whole. */
static int migrate(sqlite3 *db, int64_t version, const char *path, enum cs_history_fault *fault,
                   char *err, size_t errlen)
{
    for (int64_t v = version; v < CS_HISTORY_SCHEMA; v++) {
        char bump[160];
        snprintf(bump, sizeof(bump),
                 "UPDATE schema_version SET version = %lld; PRAGMA application_id = %d;",
                 (long long)v + 1, APPLICATION_ID);
        int rc = exec(db, "BEGIN IMMEDIATE");
        if (rc == SQLITE_OK)
            rc = exec(db, migrations[v]);
        if (rc == SQLITE_OK)
            rc = exec(db, bump);
        if (rc == SQLITE_OK)
            rc = exec(db, "COMMIT");
        if (rc != SQLITE_OK) {
            *fault = fault_of(rc);
            say(err, errlen, path, "cannot update the history schema", db);
            exec(db, "ROLLBACK");
            return -1;
        }
    }
    return 0;
}

/* The options that decide a scan's verdicts, as a JSON object. */
static char *options_json(const struct cs_options *o, const struct cs_scan_info *info)
{
    json_t *j = json_object();
    json_object_set_new(j, "warn_days",
                        info->warn_secs >= 0 ? json_integer(info->warn_secs / 86400) : json_null());
    json_object_set_new(j, "crit_days",
                        info->crit_secs >= 0 ? json_integer(info->crit_secs / 86400) : json_null());
    json_object_set_new(j, "ocsp", json_boolean(o->ocsp));
    json_object_set_new(j, "crl", json_boolean(o->crl));
    json_object_set_new(j, "require_revocation", json_boolean(o->require_revocation));
    json_object_set_new(j, "no_verify", json_boolean(o->no_verify));
    json_object_set_new(j, "verify_level", json_integer(o->verify_level));
    json_object_set_new(j, "cert_only", json_boolean(o->cert_only));
    json_object_set_new(j, "starttls", o->probe_name ? json_string(o->probe_name) : json_null());
    json_object_set_new(j, "sni", o->sni ? json_string(o->sni) : json_null());
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s ? s : cs_strdup("{}");
}

static int start_scan(struct cs_history *h, const struct cs_options *o,
                      const struct cs_scan_info *info)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(h->db,
                                "INSERT INTO scans (started_at, now, version, options)"
                                " VALUES (?1, ?2, ?3, ?4)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    char *opts = options_json(o, info);
    sqlite3_bind_int64(st, 1, info->started_at);
    sqlite3_bind_int64(st, 2, info->now);
    sqlite3_bind_text(st, 3, info->version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, opts, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(opts);
    if (rc != SQLITE_DONE)
        return rc;
    h->scan_id = sqlite3_last_insert_rowid(h->db);
    h->started_at = info->started_at;
    return SQLITE_OK;
}

/* Opens path for writing, or read-only; the handle or NULL with err. */
static sqlite3 *open_db(const char *path, bool write, enum cs_history_fault *fault, char *err,
                        size_t errlen)
{
    sqlite3 *db = NULL;
    int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        *fault = write ? CS_HISTORY_CANTCREATE : CS_HISTORY_NOTOURS;
        snprintf(err, errlen, "%s: cannot %s: %s", path, write ? "open or create it" : "open it",
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
    return db;
}

struct cs_history *cs_history_open(const char *path, const struct cs_options *o,
                                   const struct cs_scan_info *info, enum cs_history_fault *fault,
                                   char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        *fault = CS_HISTORY_NOTOURS;
        snprintf(err, errlen, "%s: not a regular file", path);
        return NULL;
    }
    sqlite3 *db = open_db(path, true, fault, err, errlen);
    if (!db)
        return NULL;
    int64_t version = schema_of(db, path, fault, err, errlen);
    if (version < 0) {
        sqlite3_close(db);
        return NULL;
    }
    if (sqlite3_db_readonly(db, "main") == 1) {
        *fault = CS_HISTORY_CANTCREATE;
        snprintf(err, errlen, "%s: cannot be written (permission denied)", path);
        sqlite3_close(db);
        return NULL;
    }
    /* WAL: a writer killed part-way leaves the last committed batch and
       everything before it; NORMAL: commits do not wait for the disk, a
       checkpoint does (a power cut may lose the last batches, never the
       database). */
    int rc = exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    if (rc != SQLITE_OK) {
        *fault = fault_of(rc);
        say(err, errlen, path, "cannot be written", db);
        sqlite3_close(db);
        return NULL;
    }
    if (migrate(db, version, path, fault, err, errlen) != 0) {
        sqlite3_close(db);
        return NULL;
    }
    struct cs_history *h = cs_xcalloc(1, sizeof(*h));
    h->db = db;
    h->path = cs_strdup(path);
    rc = start_scan(h, o, info);
    for (int i = 0; rc == SQLITE_OK && i < ST_COUNT; i++)
        rc = sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &h->st[i], NULL);
    if (rc != SQLITE_OK) {
        *fault = fault_of(rc);
        say(err, errlen, path, "cannot be written", db);
        cs_history_close(h);
        return NULL;
    }
    return h;
}

/* How bad a status is, for worse and better: an endpoint that stops
   answering is worse than one about to expire, better than one whose
   certificate is refused. */
static int severity(int status)
{
    static const int rank[CS_STATUS_COUNT] = {
        [CS_OK] = 0, [CS_WARNING] = 1, [CS_ERROR] = 2, [CS_CRITICAL] = 3, [CS_EXPIRED] = 4,
    };
    return status >= 0 && status < CS_STATUS_COUNT ? rank[status] : 0;
}

/* The change from the previous observation (status, not_after, sha256) to r. */
static enum cs_change change_of(const struct cs_result *r, int prev_status, int64_t prev_not_after,
                                const char *prev_sha256)
{
    if (severity((int)r->status) > severity(prev_status))
        return CS_CHANGE_WORSE;
    if (r->sha256 && prev_sha256 && strcmp(r->sha256, prev_sha256) != 0)
        return r->not_after != CS_INT_NONE && prev_not_after != CS_INT_NONE &&
                       r->not_after > prev_not_after
                   ? CS_CHANGE_RENEWED
                   : CS_CHANGE_REPLACED;
    if (severity((int)r->status) < severity(prev_status))
        return CS_CHANGE_BETTER;
    return CS_CHANGE_SAME;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_identity(sqlite3_stmt *st, const struct cs_result *r)
{
    sqlite3_bind_text(st, 1, r->host ? r->host : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->port);
    sqlite3_bind_text(st, 3, r->sni ? r->sni : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->protocol, -1, SQLITE_STATIC);
}

/* Runs a prepared statement that returns no row; an SQLite code. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The endpoint of r: its id, first_seen and previous observation (prev_status
   -1 when it has none).  An SQLite code. */
static int lookup(struct cs_history *h, const struct cs_result *r, int64_t *id, int64_t *first_seen,
                  int *prev_status, int64_t *prev_not_after, char prev_sha256[80])
{
    sqlite3_stmt *st = h->st[ST_LOOKUP];
    bind_identity(st, r);
    *id = 0;
    *prev_status = -1;
    prev_sha256[0] = '\0';
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *first_seen = sqlite3_column_int64(st, 1);
        const unsigned char *status = sqlite3_column_text(st, 2);
        *prev_status = status ? cs_status_parse((const char *)status) : -1;
        *prev_not_after =
            sqlite3_column_type(st, 3) == SQLITE_NULL ? CS_INT_NONE : sqlite3_column_int64(st, 3);
        const unsigned char *sha = sqlite3_column_text(st, 4);
        if (sha)
            snprintf(prev_sha256, 80, "%s", (const char *)sha);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int new_endpoint(struct cs_history *h, const struct cs_result *r, int64_t *id)
{
    sqlite3_stmt *st = h->st[ST_NEW_ENDPOINT];
    bind_identity(st, r);
    sqlite3_bind_int64(st, 5, h->started_at);
    int rc = step_done(st);
    *id = sqlite3_last_insert_rowid(h->db);
    return rc;
}

static int insert_observation(struct cs_history *h, const struct cs_result *r, int64_t endpoint,
                              enum cs_change change)
{
    sqlite3_stmt *st = h->st[ST_OBSERVE];
    sqlite3_bind_int64(st, 1, h->scan_id);
    sqlite3_bind_int64(st, 2, endpoint);
    sqlite3_bind_text(st, 3, r->address ? r->address : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, cs_status_name(r->status), -1, SQLITE_STATIC);
    const char *reason = r->reason && r->reason[0] ? r->reason : r->error;
    sqlite3_bind_text(st, 5, reason ? reason : "", -1, SQLITE_STATIC);
    if (r->not_after != CS_INT_NONE)
        sqlite3_bind_int64(st, 6, r->not_after);
    bind_text_or_null(st, 7, r->serial);
    bind_text_or_null(st, 8, r->sha256);
    bind_text_or_null(st, 9, r->issuer);
    char *labels = NULL; /* 10: the record's labels as a JSON object, NULL without */
    if (r->labels.n) {
        json_t *o = json_object();
        for (size_t i = 0; i < r->labels.n; i++)
            json_object_set_new(o, r->labels.name[i], json_string(r->labels.value[i]));
        labels = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
    }
    bind_text_or_null(st, 10, labels);
    sqlite3_bind_text(st, 11, cs_change_name(change), -1, SQLITE_STATIC);
    int rc = step_done(st);
    free(labels);
    return rc;
}

static int move_endpoint(struct cs_history *h, int64_t endpoint, int64_t observation)
{
    sqlite3_stmt *st = h->st[ST_MOVE_ENDPOINT];
    sqlite3_bind_int64(st, 1, endpoint);
    sqlite3_bind_int64(st, 2, h->scan_id);
    sqlite3_bind_int64(st, 3, observation);
    return step_done(st);
}

static int commit_batch(struct cs_history *h)
{
    if (!h->in_batch)
        return SQLITE_OK;
    h->in_batch = false;
    return exec(h->db, "COMMIT");
}

int cs_history_observe(struct cs_history *h, const struct cs_result *r, enum cs_change *change,
                       int64_t *first_seen, char *err, size_t errlen)
{
    if (!r->protocol || r->port == CS_INT_NONE)
        return 0; /* a bad target line: no endpoint */
    int rc = SQLITE_OK;
    if (!h->in_batch) {
        rc = exec(h->db, "BEGIN IMMEDIATE");
        h->in_batch = rc == SQLITE_OK;
        h->batch_n = 0;
        h->batch_ms = mono_ms();
    }
    int64_t id = 0, seen = h->started_at, prev_not_after = CS_INT_NONE;
    int prev_status = -1;
    char prev_sha256[80];
    if (rc == SQLITE_OK)
        rc = lookup(h, r, &id, &seen, &prev_status, &prev_not_after, prev_sha256);
    if (rc == SQLITE_OK && id == 0)
        rc = new_endpoint(h, r, &id);
    enum cs_change c = prev_status < 0 ? CS_CHANGE_NEW
                                       : change_of(r, prev_status, prev_not_after,
                                                   prev_sha256[0] ? prev_sha256 : NULL);
    if (rc == SQLITE_OK)
        rc = insert_observation(h, r, id, c);
    if (rc == SQLITE_OK)
        rc = move_endpoint(h, id, sqlite3_last_insert_rowid(h->db));
    if (rc == SQLITE_OK && (++h->batch_n >= BATCH_RECORDS || mono_ms() - h->batch_ms >= BATCH_MS))
        rc = commit_batch(h);
    if (rc != SQLITE_OK) {
        say(err, errlen, h->path, "writing the history failed", h->db);
        if (h->in_batch)
            exec(h->db, "ROLLBACK");
        h->in_batch = false;
        return -1;
    }
    h->changes[c]++;
    *change = c;
    *first_seen = seen;
    return 1;
}

static int end_scan(struct cs_history *h, const struct cs_summary *s, int64_t gone)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(h->db,
                                "UPDATE scans SET finished_at = ?2, complete = ?3, targets = ?4,"
                                " ok = ?5, warning = ?6, critical = ?7, expired = ?8, error = ?9,"
                                " gone = ?10 WHERE id = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, h->scan_id);
    sqlite3_bind_int64(st, 2, s->finished_at);
    sqlite3_bind_int(st, 3, s->complete);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)s->targets);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)s->count[CS_OK]);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)s->count[CS_WARNING]);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)s->count[CS_CRITICAL]);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)s->count[CS_EXPIRED]);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)s->count[CS_ERROR]);
    if (gone >= 0)
        sqlite3_bind_int64(st, 10, gone);
    return step_done(st) == SQLITE_OK ? sqlite3_finalize(st) : (sqlite3_finalize(st), SQLITE_ERROR);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return cs_strdup(s ? (const char *)s : "");
}

/* The endpoints of the previous complete scan that this scan did not see:
   all counted, the first CS_GONE_LIST_MAX listed. */
static int find_gone(struct cs_history *h, struct cs_history_summary *hs)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        h->db,
        "SELECT e.host, e.port, e.sni, e.protocol, o.address, o.status, o.not_after, s.started_at"
        " FROM observations o JOIN endpoints e ON e.id = o.endpoint_id"
        " JOIN scans s ON s.id = o.scan_id"
        " WHERE o.scan_id = ?1 AND (e.last_scan IS NULL OR e.last_scan < ?2)"
        " ORDER BY e.host, e.port, e.sni, e.protocol",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, hs->previous_scan_id);
    sqlite3_bind_int64(st, 2, h->scan_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (hs->gone++ >= CS_GONE_LIST_MAX)
            continue;
        if (hs->gone_n % 64 == 0)
            hs->gone_list = cs_xrealloc(hs->gone_list, (hs->gone_n + 64) * sizeof(*hs->gone_list));
        const unsigned char *status = sqlite3_column_text(st, 5);
        int sv = status ? cs_status_parse((const char *)status) : -1;
        hs->gone_list[hs->gone_n++] = (struct cs_gone){
            .host = column_dup(st, 0),
            .port = sqlite3_column_int64(st, 1),
            .sni = column_dup(st, 2),
            .protocol = column_dup(st, 3),
            .address = column_dup(st, 4),
            .status = sv < 0 ? CS_ERROR : (enum cs_status)sv,
            .not_after = sqlite3_column_type(st, 6) == SQLITE_NULL ? CS_INT_NONE
                                                                   : sqlite3_column_int64(st, 6),
            .last_seen = sqlite3_column_int64(st, 7),
        };
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Deletes the scans that started before cutoff (never this one), their
   observations, and the endpoints left without any. */
static int prune(struct cs_history *h, int64_t cutoff)
{
    char sql[640];
    snprintf(sql, sizeof(sql),
             "BEGIN IMMEDIATE;"
             "DELETE FROM observations WHERE scan_id IN"
             " (SELECT id FROM scans WHERE started_at < %lld AND id != %lld);"
             "DELETE FROM scans WHERE started_at < %lld AND id != %lld;"
             "DELETE FROM endpoints WHERE NOT EXISTS"
             " (SELECT 1 FROM observations o WHERE o.endpoint_id = endpoints.id);"
             "COMMIT;",
             (long long)cutoff, (long long)h->scan_id, (long long)cutoff, (long long)h->scan_id);
    int rc = exec(h->db, sql);
    if (rc != SQLITE_OK)
        exec(h->db, "ROLLBACK");
    return rc;
}

int cs_history_finish(struct cs_history *h, const struct cs_summary *s, int64_t keep_secs,
                      struct cs_history_summary *hs, char *err, size_t errlen)
{
    memset(hs, 0, sizeof(*hs));
    hs->scan_id = h->scan_id;
    memcpy(hs->changes, h->changes, sizeof(hs->changes));
    int rc = commit_batch(h);
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT max(id) FROM scans WHERE id < %lld AND complete = 1",
             (long long)h->scan_id);
    if (rc == SQLITE_OK)
        rc = query_int(h->db, sql, 0, &hs->previous_scan_id);
    hs->gone_known = s->complete;
    if (rc == SQLITE_OK && s->complete && hs->previous_scan_id > 0)
        rc = find_gone(h, hs);
    if (rc == SQLITE_OK)
        rc = end_scan(h, s, s->complete ? (int64_t)hs->gone : -1);
    if (rc == SQLITE_OK && keep_secs > 0)
        rc = prune(h, h->started_at - keep_secs);
    if (rc != SQLITE_OK) {
        say(err, errlen, h->path, "writing the history failed", h->db);
        return -1;
    }
    return 0;
}

void cs_history_close(struct cs_history *h)
{
    if (!h)
        return;
    if (h->in_batch)
        exec(h->db, "ROLLBACK");
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(h->st[i]);
    sqlite3_close(h->db);
    free(h->path);
    free(h);
}

void cs_history_summary_free(struct cs_history_summary *hs)
{
    for (size_t i = 0; i < hs->gone_n; i++) {
        struct cs_gone *g = &hs->gone_list[i];
        free(g->host);
        free(g->sni);
        free(g->protocol);
        free(g->address);
    }
    free(hs->gone_list);
    memset(hs, 0, sizeof(*hs));
}

struct sqlite3 *cs_history_open_readonly(const char *path, enum cs_history_fault *fault, char *err,
                                         size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        *fault = CS_HISTORY_NOTOURS;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    sqlite3 *db = open_db(path, false, fault, err, errlen);
    if (!db)
        return NULL;
    int64_t version = schema_of(db, path, fault, err, errlen);
    if (version >= 0 && version < CS_HISTORY_SCHEMA) {
        /* older schemas are migrated by the next scan that writes */
        *fault = CS_HISTORY_NOTOURS;
        snprintf(err, errlen,
                 version == 0
                     ? "%s: no scan recorded in it"
                     : "%s: an older history schema; scan once with --history to update it",
                 path);
        version = -1;
    }
    if (version < 0) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}
