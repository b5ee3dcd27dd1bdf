/* Address ranges and port lists: the target reader expands them one target
 * at a time (checked through the reader itself, with its memory measured
 * over a /16), and the certsweep binary scans a range of loopback addresses
 * on which the test fleet serves certificates of its own. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scanner/options.h"
#include "scanner/ranges.h"
#include "scanner/targets.h"
#include "tests/support/fleet.h"
#include "tests/support/runner.h"

#define MAX_SEEN 64

/* What the reader gave for some target texts: host:port (or "BAD why")
   for each, in order. */
struct seen {
    char *item[MAX_SEEN];
    char *sni[MAX_SEEN];
    size_t n;
    uint64_t total;
};

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->item[i]);
        free(s->sni[i]);
    }
    memset(s, 0, sizeof(*s));
}

/* Reads every target of texts (as command-line targets) with options o. */
static void read_targets(struct cs_options *o, const char *const *texts, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    size_t n = 0;
    while (texts[n])
        n++;
    o->targets = (char **)texts;
    o->n_targets = n;
    char err[256];
    struct cs_targets *ts = cs_targets_open(o, err, sizeof(err));
    cr_assert_not_null(ts, "%s", err);
    struct cs_target t;
    while (cs_targets_next(ts, &t) > 0) {
        if (s->n < MAX_SEEN) {
            if (t.bad)
                cr_assert(asprintf(&s->item[s->n], "BAD %s", t.bad) > 0);
            else
                cr_assert(asprintf(&s->item[s->n], "%s:%u", t.host, t.port) > 0);
            s->sni[s->n] = t.sni ? strdup(t.sni) : NULL;
            s->n++;
        }
        s->total++;
        cs_target_free(&t);
    }
    cs_targets_close(ts);
    o->targets = NULL;
    o->n_targets = 0;
}

/* The reader gives exactly want (NULL-terminated), in that order. */
static void expect_targets(struct cs_options *o, const char *const *texts, const char *const *want)
{
    struct seen s;
    read_targets(o, texts, &s);
    const char *what = texts[0] ? texts[0] : "the file";
    size_t n = 0;
    for (; want[n]; n++) {
        cr_assert(n < s.n, "%s: target %zu missing (want %s)", what, n, want[n]);
        cr_assert_str_eq(s.item[n], want[n], "%s: target %zu", what, n);
    }
    cr_assert_eq(s.total, n, "%s: %llu targets, want %zu (extra: %s)", what,
                 (unsigned long long)s.total, n, s.n > n ? s.item[n] : "?");
    seen_free(&s);
}

/* One bad line whose reason contains why. */
static void expect_bad(struct cs_options *o, const char *text, const char *why)
{
    struct seen s;
    read_targets(o, (const char *[]){text, NULL}, &s);
    cr_assert_eq(s.total, 1, "%s: %llu targets", text, (unsigned long long)s.total);
    cr_assert(strncmp(s.item[0], "BAD ", 4) == 0, "%s: not a bad line: %s", text, s.item[0]);
    cr_assert(strstr(s.item[0], why), "%s: %s (want %s)", text, s.item[0], why);
    seen_free(&s);
}

#define T(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(ranges, ipv4_networks_skip_network_and_broadcast)
{
    struct cs_options o;
    cs_options_init(&o);
    expect_targets(&o, T("10.0.0.0/30:443,8443"),
                   T("10.0.0.1:443", "10.0.0.1:8443", "10.0.0.2:443", "10.0.0.2:8443"));
    expect_targets(&o, T("10.0.0.8/29"),
                   T("10.0.0.9:443", "10.0.0.10:443", "10.0.0.11:443", "10.0.0.12:443",
                     "10.0.0.13:443", "10.0.0.14:443"));
    /* a /31 (point to point, RFC 3021) and a /32 have no such addresses */
    expect_targets(&o, T("10.0.0.6/31"), T("10.0.0.6:443", "10.0.0.7:443"));
    expect_targets(&o, T("10.0.0.6/32:993"), T("10.0.0.6:993"));
    /* carries across bytes */
    expect_targets(&o, T("10.0.0.254-10.0.1.1"),
                   T("10.0.0.254:443", "10.0.0.255:443", "10.0.1.0:443", "10.0.1.1:443"));
    cs_options_free(&o);
}

Test(ranges, dash_ranges_keep_both_ends)
{
    struct cs_options o;
    cs_options_init(&o);
    o.port = 8443;
    expect_targets(&o, T("192.0.2.10-192.0.2.12"),
                   T("192.0.2.10:8443", "192.0.2.11:8443", "192.0.2.12:8443"));
    expect_targets(&o, T("192.0.2.255-0"),
                   T("BAD argument 1: range is reversed: 192.0.2.0 "
                     "comes before 192.0.2.255"));
    expect_targets(&o, T("192.0.2.30-31:9000-9001,25"),
                   T("192.0.2.30:25", "192.0.2.30:9000", "192.0.2.30:9001", "192.0.2.31:25",
                     "192.0.2.31:9000", "192.0.2.31:9001"));
    cs_options_free(&o);
}

Test(ranges, ipv6_ranges)
{
    struct cs_options o;
    cs_options_init(&o);
    /* every address of an IPv6 prefix: no broadcast to skip */
    expect_targets(&o, T("[2001:db8::]/126:443,8443"),
                   T("2001:db8:::443", "2001:db8:::8443", "2001:db8::1:443", "2001:db8::1:8443",
                     "2001:db8::2:443", "2001:db8::2:8443", "2001:db8::3:443", "2001:db8::3:8443"));
    expect_targets(&o, T("2001:db8::ff-2001:db8::101"),
                   T("2001:db8::ff:443", "2001:db8::100:443", "2001:db8::101:443"));
    expect_targets(&o, T("[2001:db8::fffe-2001:db8::1:0]:8443"),
                   T("2001:db8::fffe:8443", "2001:db8::ffff:8443", "2001:db8::1:0:8443"));
    expect_targets(&o, T("2001:db8::/127"), T("2001:db8:::443", "2001:db8::1:443"));
    cs_options_free(&o);
}

Test(ranges, port_lists_on_one_host)
{
    struct cs_options o;
    cs_options_init(&o);
    /* sorted, a port listed twice scanned once; a name keeps its SNI */
    expect_targets(&o, T("api.example.com:8443,443,443,440-442"),
                   T("api.example.com:440", "api.example.com:441", "api.example.com:442",
                     "api.example.com:443", "api.example.com:8443"));
    expect_targets(&o, T("[2001:db8::1]:443,8443", "192.0.2.1:443,8443"),
                   T("2001:db8::1:443", "2001:db8::1:8443", "192.0.2.1:443", "192.0.2.1:8443"));
    /* the targets of a port list are remembered one by one */
    expect_targets(&o, T("a.example:443,8443", "a.example:8443", "a.example"),
                   T("a.example:443", "a.example:8443"));
    cs_options_free(&o);
}

Test(ranges, sni_only_when_asked)
{
    struct cs_options o;
    cs_options_init(&o);
    struct seen s;
    read_targets(&o, T("10.0.0.0/30", "web.example:443,8443"), &s);
    cr_assert_eq(s.total, 4);
    cr_assert_null(s.sni[0], "an address of a range sent SNI %s", s.sni[0]);
    cr_assert_null(s.sni[1]);
    cr_assert_str_eq(s.sni[2], "web.example");
    cr_assert_str_eq(s.sni[3], "web.example");
    seen_free(&s);
    o.sni = "www.example";
    read_targets(&o, T("10.0.0.0/30"), &s);
    cr_assert_eq(s.total, 2);
    cr_assert_str_eq(s.sni[0], "www.example");
    cr_assert_str_eq(s.sni[1], "www.example");
    seen_free(&s);
    o.sni = NULL;
    cs_options_free(&o);
}

Test(ranges, the_same_range_twice_is_scanned_once)
{
    struct cs_options o;
    cs_options_init(&o);
    /* the same addresses and ports however written; an address both in a
       range and on its own is scanned for each (ranges are remembered whole) */
    expect_targets(
        &o, T("10.0.0.0/30:443", "10.0.0.1-10.0.0.2", "10.0.0.0/30:8443", "10.0.0.1"),
        T("10.0.0.1:443", "10.0.0.2:443", "10.0.0.1:8443", "10.0.0.2:8443", "10.0.0.1:443"));
    cs_options_free(&o);
}

Test(ranges, bad_ranges)
{
    struct cs_options o;
    cs_options_init(&o);
    expect_bad(&o, "10.0.0.9-10.0.0.1", "range is reversed: 10.0.0.1 comes before 10.0.0.9");
    expect_bad(&o, "10.0.0.1-2001:db8::1", "range mixes IPv4 and IPv6 addresses");
    expect_bad(&o, "2001:db8::1-10.0.0.1", "range mixes IPv4 and IPv6 addresses");
    expect_bad(&o, "10.0.0.0/33", "prefix /33 is longer than an IPv4 address (32 bits)");
    expect_bad(&o, "[2001:db8::]/129", "prefix /129 is longer than an IPv6 address (128 bits)");
    expect_bad(&o, "10.0.0.5/24", "bits set past the /24 prefix (the network is 10.0.0.0/24)");
    expect_bad(&o, "10.0.0.0/2x", "'/2x' is not a prefix length");
    expect_bad(&o, "example.com/24", "'example.com' before the '/' is not an IP address");
    expect_bad(&o, "10.0.0.1-10.0.0.x", "'10.0.0.x' after the '-' is not an IP address");
    expect_bad(&o, "10.0.0.0/24:9010-9000", "port range 9010-9000 is reversed");
    expect_bad(&o, "10.0.0.0/24:443,,8443", "'' in the port list is not a port");
    expect_bad(&o, "10.0.0.0/24:0", "'0' in the port list is not a port");
    expect_bad(&o, "host.example:443,65536", "'65536' in the port list is not a port");
    expect_bad(&o, "10.0.0.0/24:", "empty port");
    expect_bad(&o, "bad_host!:443,8443", "not a host name");
    cs_options_free(&o);
}

Test(ranges, ranges_in_a_targets_file)
{
    char *dir = temp_dir();
    cr_assert_not_null(dir);
    char path[4096];
    snprintf(path, sizeof(path), "%s/targets.txt", dir);
    cr_assert_eq(spit(path, "# a comment\n"
                            "  10.0.0.0/30:443,8443   # the lab\n"
                            "10.0.0.9-10.0.0.1\n"
                            "web.example:443,8443\n"),
                 0);
    struct cs_options o;
    cs_options_init(&o);
    char *files[] = {path};
    o.files = files;
    o.n_files = 1;
    char want_bad[4200];
    snprintf(want_bad, sizeof(want_bad),
             "BAD %s:3: range is reversed: 10.0.0.1 comes before 10.0.0.9", path);
    expect_targets(&o, (const char *const[]){NULL},
                   T("10.0.0.1:443", "10.0.0.1:8443", "10.0.0.2:443", "10.0.0.2:8443", want_bad,
                     "web.example:443", "web.example:8443"));
    o.files = NULL;
    o.n_files = 0;
    cs_options_free(&o);
    remove_tree(dir);
    free(dir);
}

Test(ranges, max_expand_caps_one_line)
{
    struct cs_options o;
    cs_options_init(&o);
    cr_assert_eq(o.max_expand, 65536, "the default cap");
    /* a /15 is 131070 targets: over the default */
    expect_bad(&o, "10.0.0.0/15",
               "expands to 131070 targets, more than --max-expand 65536 allows (raise "
               "--max-expand, or split the range)");
    /* the port list counts: 254 addresses x 2 ports */
    o.max_expand = 507;
    expect_bad(&o, "10.0.0.0/24:443,8443", "expands to 508 targets, more than --max-expand 507");
    o.max_expand = 508;
    struct seen s;
    read_targets(&o, T("10.0.0.0/24:443,8443"), &s);
    cr_assert_eq(s.total, 508, "a range of exactly --max-expand targets is scanned");
    cr_assert(strncmp(s.item[0], "BAD", 3) != 0, "%s", s.item[0]);
    seen_free(&s);
    o.max_expand = 3;
    expect_bad(&o, "web.example:1-4", "expands to 4 targets, more than --max-expand 3");
    expect_bad(&o, "2001:db8::/64", "expands to 2^64 targets or more");
    cs_options_free(&o);
}

Test(ranges, family_restrictions)
{
    struct cs_options o;
    cs_options_init(&o);
    o.ipv4 = true;
    expect_bad(&o, "[2001:db8::]/126", "an IPv6 range, but -4 restricts the scan to IPv4");
    expect_bad(&o, "[2001:db8::1]:443", "an IPv6 address, but -4 restricts the scan to IPv4");
    expect_bad(&o, "[2001:db8::1]:443,8443", "an IPv6 address, but -4");
    expect_targets(&o, T("10.0.0.0/31", "v6.example"),
                   T("10.0.0.0:443", "10.0.0.1:443", "v6.example:443"));
    o.ipv4 = false;
    o.ipv6 = true;
    expect_bad(&o, "10.0.0.0/24", "an IPv4 range, but -6 restricts the scan to IPv6");
    expect_bad(&o, "192.0.2.1", "an IPv4 address, but -6 restricts the scan to IPv6");
    expect_targets(&o, T("[2001:db8::]/127"), T("2001:db8:::443", "2001:db8::1:443"));
    cs_options_free(&o);
}

/* Heap bytes in use: live allocations only (under AddressSanitizer its
   quarantine of freed blocks is not counted, as RSS would count it). */
#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* the sanitizer runtime's */
static size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#define RSS_MEANINGFUL 0
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
#define RSS_MEANINGFUL 1
#endif

/* Resident memory of this process, in kB. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert_not_null(f);
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    cr_assert(kb > 0);
    return kb;
}

/* A /16 with a port list of 16 ports is a million targets; the reader
   walks them with no memory per target, so its heap and RSS stay where
   they were after the first thousand (a digest per target would be over
   8 MB).  Under AddressSanitizer only the heap is measured: its quarantine
   of freed blocks makes RSS grow whatever the reader does. */
Test(ranges, a_slash_16_with_a_port_list_keeps_memory_flat, .timeout = 300)
{
    struct cs_options o;
    cs_options_init(&o);
    o.max_expand = (uint64_t)1 << 20;
    const char *texts[] = {"10.1.0.0/16:8000-8015", NULL};
    o.targets = (char **)texts;
    o.n_targets = 1;
    char err[256];
    struct cs_targets *ts = cs_targets_open(&o, err, sizeof(err));
    cr_assert_not_null(ts, "%s", err);
    struct cs_target t;
    uint64_t n = 0;
    long start = 0;
    size_t heap_start = 0;
    char last[64] = "";
    while (cs_targets_next(ts, &t) > 0) {
        cr_assert_null(t.bad, "%s", t.bad);
        if (++n == 1000) {
            start = rss_kb();
            heap_start = heap_in_use();
        }
        if (n == 65534ull * 16)
            snprintf(last, sizeof(last), "%s:%u", t.host, t.port);
        cs_target_free(&t);
    }
    long end = rss_kb();
    size_t heap_end = heap_in_use();
    cr_assert_eq(n, 65534ull * 16, "%llu targets", (unsigned long long)n);
    cr_assert_str_eq(last, "10.1.255.254:8015");
    cr_assert_eq(cs_targets_count(ts), n);
    cs_targets_close(ts);
    o.targets = NULL;
    o.n_targets = 0;
    cs_options_free(&o);
    cr_log_info("RSS %ld kB after 1000 targets, %ld kB after %llu; heap %zu then %zu bytes", start,
                end, (unsigned long long)n, heap_start, heap_end);
    cr_assert(heap_end < heap_start + 1024 * 1024,
              "the heap grew from %zu to %zu bytes over %llu targets", heap_start, heap_end,
              (unsigned long long)n);
    if (RSS_MEANINGFUL)
        cr_assert(end - start < 2048, "RSS grew from %ld kB to %ld kB over %llu targets", start,
                  end, (unsigned long long)n);
}

/* ---- scanning a range against the fleet ---- */

#define N_ADDRS 3 /* 127.0.1.1 .. 127.0.1.3 */
#define N_BULK 6  /* two ports on each */

static struct fleet *fleet;
static uint16_t base;

static void setup(void)
{
    /* bulk port i listens on 127.0.1.(1 + i % 3), port base + i / 3, each
       with a leaf of its own; the base must be free on those addresses */
    for (int tries = 0; tries < 5 && !fleet; tries++) {
        base = free_port();
        cr_assert(base && base < 65000);
        fleet = fleet_start(&(struct fleet_options){
            .bulk = N_BULK, .bulk_addresses = N_ADDRS, .bulk_port_base = base, .unique = true});
    }
    cr_assert_not_null(fleet, "the test fleet did not start");
}

static void teardown(void)
{
    if (fleet)
        fleet_stop(fleet);
    fleet = NULL;
}

static json_t *scan_json(const char *const *args, struct run_result *r)
{
    cr_assert_eq(run_certsweep(args, NULL, r), 0);
    cr_assert_neq(r->status, 137, "certsweep hung: %s", r->err);
    json_t *doc = json_loads(r->out, 0, NULL);
    cr_assert_not_null(doc, "not JSON (exit %d): %s\n%s", r->status, r->out, r->err);
    return doc;
}

Test(fleet, a_range_with_a_port_list_is_every_address_and_port, .init = setup, .fini = teardown,
     .timeout = 120)
{
    char range[64], port[2][8];
    snprintf(range, sizeof(range), "127.0.1.0/29:%u,%u", base, base + 1);
    snprintf(port[0], sizeof(port[0]), "%u", base);
    snprintf(port[1], sizeof(port[1]), "%u", base + 1);
    const char *args[] = {"--ca-file", fleet_ca_file(fleet), "-F", "json", "-t", "5", range, NULL};
    struct run_result r;
    json_t *doc = scan_json(args, &r);
    json_t *results = json_object_get(doc, "results");
    /* .1 to .6: .0 (network) and .7 (broadcast) are skipped */
    cr_assert_eq(json_array_size(results), 12, "%s", r.out);
    char sha[N_BULK][65];
    for (size_t i = 0; i < N_BULK; i++) {
        const char *addr = fleet_bulk_addr(fleet, i);
        uint16_t p = fleet_bulk_port(fleet, i);
        cr_assert_eq(p, base + i / N_ADDRS);
        json_t *rec = json_find_record(results, addr, p);
        cr_assert_not_null(rec, "no record for %s:%u", addr, p);
        const struct fleet_scenario *sc = fleet_bulk_scenario(fleet, i);
        cr_assert_str_eq(json_string_value(json_object_get(rec, "status")), sc->expect_status,
                         "%s:%u: %s", addr, p, json_string_value(json_object_get(rec, "reason")));
        cr_assert_str_eq(json_string_value(json_object_get(rec, "address")), addr);
        cr_assert(json_is_null(json_object_get(rec, "sni")) ||
                      strcmp(json_string_value(json_object_get(rec, "sni")), "") == 0,
                  "an address of a range sent SNI");
        cr_assert(json_is_true(json_object_get(rec, "hostname_match")), "%s:%u", addr, p);
        snprintf(sha[i], sizeof(sha[i]), "%s", json_string_value(json_object_get(rec, "sha256")));
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(sha[i], sha[k], "two endpoints, one certificate");
        cr_assert_eq(fleet_bulk_accepted(fleet, i), 1, "%s:%u probed %llu times", addr, p,
                     (unsigned long long)fleet_bulk_accepted(fleet, i));
    }
    for (unsigned a = 4; a <= 6; a++)
        for (int k = 0; k < 2; k++) {
            char host[32];
            snprintf(host, sizeof(host), "127.0.1.%u", a);
            json_t *rec = json_find_record(results, host, base + k);
            cr_assert_not_null(rec, "no record for %s:%s", host, port[k]);
            cr_assert_str_eq(json_string_value(json_object_get(rec, "reason")),
                             "connect: connection refused");
        }
    cr_assert_null(json_find_record(results, "127.0.1.0", base), "network address scanned");
    cr_assert_null(json_find_record(results, "127.0.1.7", base), "broadcast address scanned");
    cr_assert_eq(r.status, 2, "exit %d: CRITICAL and EXPIRED are in the range", r.status);
    json_decref(doc);
    run_result_free(&r);
}

Test(fleet, a_range_over_max_expand_is_a_bad_line, .init = setup, .fini = teardown, .timeout = 120)
{
    char range[64], ok[64];
    snprintf(range, sizeof(range), "127.0.1.1-127.0.1.3:%u,%u", base, base + 1);
    snprintf(ok, sizeof(ok), "127.0.1.1:%u", base);
    const char *args[] = {
        "--ca-file", fleet_ca_file(fleet), "-F", "json", "--max-expand", "5", range, ok, NULL};
    struct run_result r;
    json_t *doc = scan_json(args, &r);
    json_t *results = json_object_get(doc, "results");
    cr_assert_eq(json_array_size(results), 2, "%s", r.out);
    char want[160];
    snprintf(want, sizeof(want),
             "input: argument 1: expands to 6 targets, more than --max-expand 5 allows (raise "
             "--max-expand, or split the range)");
    json_t *bad = json_array_get(results, 0);
    if (strcmp(json_string_value(json_object_get(bad, "host")), range) != 0)
        bad = json_array_get(results, 1);
    cr_assert_str_eq(json_string_value(json_object_get(bad, "host")), range);
    cr_assert_str_eq(json_string_value(json_object_get(bad, "reason")), want);
    cr_assert(strstr(r.err, "argument 1: expands to 6 targets"), "%s", r.err);
    cr_assert_eq(fleet_bulk_accepted(fleet, 0), 1, "the other target is scanned");
    for (size_t i = 1; i < N_BULK; i++)
        cr_assert_eq(fleet_bulk_accepted(fleet, i), 0, "bulk port %zu probed", i);
    cr_assert_eq(r.status, 3, "a bad line exits 3, not %d", r.status);
    json_decref(doc);
    run_result_free(&r);
}

Test(fleet, ipv4_only_refuses_an_ipv6_range, .init = setup, .fini = teardown, .timeout = 120)
{
    const char *both[] = {"-4", "-6", "127.0.0.1", NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(both, NULL, &r), 0);
    cr_assert_eq(r.status, 64, "-4 -6: exit %d", r.status);
    cr_assert(strstr(r.err, "--ipv4 (-4) and --ipv6 (-6) together"), "%s", r.err);
    run_result_free(&r);
    const char *args[] = {"-4", "-F", "json", "[2001:db8::]/127:1", NULL};
    json_t *doc = scan_json(args, &r);
    json_t *results = json_object_get(doc, "results");
    cr_assert_eq(json_array_size(results), 1, "%s", r.out);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 0), "reason")),
                     "input: argument 1: an IPv6 range, but -4 restricts the scan to IPv4");
    cr_assert_eq(r.status, 3);
    json_decref(doc);
    run_result_free(&r);
}
