/* What the history costs per record, without a network: N records of
 * distinct endpoints observed by the history layer alone (scanner/history.h),
 * three scans into one database (every endpoint new, the same, renewed),
 * the CPU time of cs_history_observe per record and of cs_history_finish.
 * The CPU time, not the wall time, is what a shared machine lets one
 * measure; tests/bench/history.sh runs it beside the real scans.
 *
 *   certsweep-bench-history DB N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scanner/history.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Record i of a scan: a certificate of its own, another one in "renewed". */
static void fill(struct cs_result *r, int i, bool renewed, char host[64], char sha[72])
{
    cs_result_init(r);
    snprintf(host, 64, "h%07d.bulk.test", i);
    snprintf(sha, 72, "%064d", renewed ? i + 1 : i);
    free(r->host);
    free(r->sni);
    free(r->reason);
    free(r->address);
    r->host = cs_strdup(host);
    r->sni = cs_strdup(host);
    r->reason = cs_strdup("expires in 199 days");
    r->address = cs_strdup("127.0.0.1");
    r->port = 21500 + i % 8;
    r->status = CS_OK;
    r->protocol = "tls";
    r->not_after = renewed ? 1800086400 : 1800000000;
    r->serial = "4FACED6EF222D5D37031408E290257BD";
    r->sha256 = sha;
    r->issuer = "O=certsweep test fleet,CN=certsweep Test Intermediate";
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: certsweep-bench-history DB N\n", stderr);
        return 64;
    }
    int n = atoi(argv[2]);
    struct cs_options o;
    cs_options_init(&o);
    const char *names[] = {"new", "same", "renewed"};
    for (int scan = 0; scan < 3; scan++) {
        struct cs_scan_info info = {.tool = "certsweep",
                                    .version = "bench",
                                    .started_at = (int64_t)time(NULL) + scan,
                                    .now = (int64_t)time(NULL),
                                    .warn_secs = -1,
                                    .crit_secs = -1};
        enum cs_history_fault fault;
        char err[512];
        struct cs_history *h = cs_history_open(argv[1], &o, &info, &fault, err, sizeof(err));
        if (!h) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        double t0 = cpu_now();
        for (int i = 0; i < n; i++) {
            struct cs_result r;
            char host[64], sha[72];
            fill(&r, i, scan == 2, host, sha);
            enum cs_change c;
            int64_t first_seen;
            if (cs_history_observe(h, &r, &c, &first_seen, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            if (c != (enum cs_change)(scan == 0   ? CS_CHANGE_NEW
                                      : scan == 1 ? CS_CHANGE_SAME
                                                  : CS_CHANGE_RENEWED)) {
                fprintf(stderr, "record %d of scan %d: %s\n", i, scan, cs_change_name(c));
                return 1;
            }
            r.protocol = r.serial = r.sha256 = r.issuer = NULL; /* not ours */
            cs_result_free(&r);
        }
        double t1 = cpu_now();
        struct cs_summary s = {
            .complete = true, .targets = (uint64_t)n, .finished_at = (int64_t)time(NULL)};
        struct cs_history_summary hs;
        int rc = cs_history_finish(h, &s, 0, &hs, err, sizeof(err));
        double t2 = cpu_now();
        cs_history_summary_free(&hs);
        cs_history_close(h);
        if (rc) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        printf("%s %d %.2f %.3f\n", names[scan], n, (t1 - t0) / n * 1e6, t2 - t1);
    }
    cs_options_free(&o);
    return 0;
}
