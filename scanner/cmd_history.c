/* certsweep history --history FILE.db HOST[:PORT]: one endpoint's timeline
 * from a scan history (scanner/history.h): one line per observation (when,
 * status, what changed, the certificate's notAfter and fingerprint, the
 * reason), then each certificate seen, with the first and last scan that
 * saw it.  Without PORT, every endpoint of HOST.  Read-only. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/commands.h"
#include "scanner/error.h"
#include "scanner/history.h"

#define USAGE "--history FILE.db HOST[:PORT]"

static int usage(const char *why)
{
    fprintf(stderr, "certsweep history: %s (usage: certsweep history " USAGE ")\n", why);
    return CS_EXIT_USAGE;
}

/* s with control characters, DEL, '\' and non-ASCII bytes as \xNN: the
   database is a file anyone may have edited, the terminal must not obey it. */
static void put_safe(const unsigned char *s, int width, FILE *out)
{
    int n = 0;
    for (; s && *s; s++, n++) {
        if (*s < 0x20 || *s >= 0x7f || *s == '\\') {
            fprintf(out, "\\x%02X", *s);
            n += 3;
        } else
            fputc(*s, out);
    }
    for (; n < width; n++)
        fputc(' ', out);
}

static void put_time(sqlite3_stmt *st, int col, bool date_only, FILE *out)
{
    char buf[24] = "-";
    if (sqlite3_column_type(st, col) != SQLITE_NULL)
        cs_format_time(sqlite3_column_int64(st, col), buf);
    if (date_only && buf[0] != '-')
        buf[10] = '\0';
    fprintf(out, "%-*s", date_only ? 12 : 22, buf);
}

/* HOST[:PORT], [IPv6]:PORT or a bare IPv6 address; port 0 when none.  0 or -1. */
static int parse_endpoint(const char *arg, char **host, long *port)
{
    const char *colon = strrchr(arg, ':');
    const char *end = arg + strlen(arg);
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return -1;
        *host = cs_strndup(arg + 1, (size_t)(close - arg - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon && strchr(arg, ':') != colon) {
        colon = NULL; /* a bare IPv6 address */
        *host = cs_strdup(arg);
    } else
        *host = cs_strndup(arg, colon ? (size_t)(colon - arg) : (size_t)(end - arg));
    *port = 0;
    if (colon) {
        char *stop;
        *port = strtol(colon + 1, &stop, 10);
        if (*stop != '\0' || *port < 1 || *port > 65535 || colon[1] == '\0') {
            free(*host);
            return -1;
        }
    }
    if ((*host)[0] == '\0') {
        free(*host);
        return -1;
    }
    return 0;
}

/* One endpoint's observations, oldest first. */
static int put_timeline(sqlite3 *db, int64_t endpoint, FILE *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT o.scan_id, s.started_at, o.status, o.change, o.not_after,"
                                " o.sha256, o.address, o.reason"
                                " FROM observations o JOIN scans s ON s.id = o.scan_id"
                                " WHERE o.endpoint_id = ?1 ORDER BY o.scan_id, o.id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, endpoint);
    fputs("  SCAN  STARTED               STATUS    CHANGE    NOT AFTER   SHA256        "
          "ADDRESS          REASON\n",
          out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(out, "  %4" PRId64 "  ", (int64_t)sqlite3_column_int64(st, 0));
        put_time(st, 1, false, out);
        put_safe(sqlite3_column_text(st, 2), 10, out);
        put_safe(sqlite3_column_text(st, 3), 10, out);
        put_time(st, 4, true, out);
        const unsigned char *sha = sqlite3_column_text(st, 5);
        char short_sha[13] = "-";
        if (sha)
            snprintf(short_sha, sizeof(short_sha), "%s", (const char *)sha);
        put_safe((const unsigned char *)short_sha, 14, out);
        put_safe(sqlite3_column_text(st, 6), 17, out);
        put_safe(sqlite3_column_text(st, 7), 0, out);
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Each certificate the endpoint served, in the order first seen. */
static int put_certificates(sqlite3 *db, int64_t endpoint, FILE *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT o.sha256, min(s.started_at), max(s.started_at), count(*), o.not_after, o.serial,"
        " o.issuer FROM observations o JOIN scans s ON s.id = o.scan_id"
        " WHERE o.endpoint_id = ?1 AND o.sha256 IS NOT NULL"
        " GROUP BY o.sha256 ORDER BY min(o.id)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, endpoint);
    fputs("  certificates seen:\n", out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs("    ", out);
        put_safe(sqlite3_column_text(st, 0), 0, out);
        fputs("\n      not after ", out);
        put_time(st, 4, true, out);
        fputs("serial ", out);
        put_safe(sqlite3_column_text(st, 5), 0, out);
        fputs(", issuer ", out);
        put_safe(sqlite3_column_text(st, 6), 0, out);
        fputs("\n      seen ", out);
        put_time(st, 1, false, out);
        fputs("to ", out);
        put_time(st, 2, false, out);
        fprintf(out, "(%" PRId64 " scan%s)\n", (int64_t)sqlite3_column_int64(st, 3),
                sqlite3_column_int64(st, 3) == 1 ? "" : "s");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Every endpoint of host (and port): its heading, timeline and certificates.
   The number of endpoints shown, or -1. */
static int put_endpoints(sqlite3 *db, const char *host, long port, FILE *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, host, port, sni, protocol, first_seen FROM endpoints"
                                " WHERE host = ?1 COLLATE NOCASE AND (?2 = 0 OR port = ?2)"
                                " ORDER BY port, sni, protocol",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, port);
    int n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        fputs(n++ ? "\n" : "", out);
        put_safe(sqlite3_column_text(st, 1), 0, out);
        fprintf(out, ":%" PRId64 " (sni ", (int64_t)sqlite3_column_int64(st, 2));
        const unsigned char *sni = sqlite3_column_text(st, 3);
        put_safe(sni && sni[0] ? sni : (const unsigned char *)"none", 0, out);
        fputs(", ", out);
        put_safe(sqlite3_column_text(st, 4), 0, out);
        char first[24];
        cs_format_time(sqlite3_column_int64(st, 5), first);
        fprintf(out, "), first seen %s\n", first);
        if (put_timeline(db, id, out) != SQLITE_OK || put_certificates(db, id, out) != SQLITE_OK) {
            rc = SQLITE_ERROR;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

static int run_history(int argc, char **argv)
{
    const char *db_path = NULL, *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--history") == 0 && i + 1 < argc)
            db_path = argv[++i];
        else if (strncmp(argv[i], "--history=", 10) == 0)
            db_path = argv[i] + 10;
        else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && !target)
            target = argv[++i];
        else if (argv[i][0] == '-')
            return usage(strcmp(argv[i], "--history") == 0 ? "--history needs a FILE.db"
                                                           : "unknown option");
        else if (target)
            return usage("one endpoint at a time");
        else
            target = argv[i];
    }
    if (!db_path)
        return usage("--history FILE.db is required");
    if (!target)
        return usage("which endpoint? give HOST or HOST:PORT");
    char *host;
    long port;
    if (parse_endpoint(target, &host, &port) != 0)
        return usage("not HOST, HOST:PORT or [IPv6]:PORT");
    enum cs_history_fault fault;
    char err[600];
    sqlite3 *db = cs_history_open_readonly(db_path, &fault, err, sizeof(err));
    if (!db) {
        free(host);
        fprintf(stderr, "certsweep history: %s\n", err);
        return CS_EXIT_NOINPUT;
    }
    int n = put_endpoints(db, host, port, stdout);
    int rc = CS_EXIT_OK;
    if (n < 0) {
        fprintf(stderr, "certsweep history: %s: cannot be read (%s)\n", db_path,
                sqlite3_errmsg(db));
        rc = CS_EXIT_NOINPUT;
    } else if (n == 0) {
        fprintf(stderr, "certsweep history: %s: nothing recorded for %s\n", db_path, target);
        rc = 1;
    }
    sqlite3_close(db);
    free(host);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = CS_EXIT_IOERR;
    return rc;
}

const struct cs_command cs_command_history = {
    .name = "history",
    .usage = USAGE,
    .summary = "one endpoint's timeline: certificates seen, changes, status over time",
    .run = run_history,
};
