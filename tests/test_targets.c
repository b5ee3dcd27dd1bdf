/* Target parsing and the targets file format, internationalised names, and
 * a 1,000,000-line file in which nothing is lost. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scanner/targets.h"
#include "tests/support/runner.h"

TestSuite(targets);

/* Options whose TARGET arguments or -f files are the test's own array
   (borrowed: options_done gives it back before freeing the rest). */
static void options_targets(struct cs_options *o, char **targets, size_t n)
{
    cs_options_init(o);
    o->targets = targets;
    o->n_targets = n;
}

static void options_files(struct cs_options *o, char **files, size_t n)
{
    cs_options_init(o);
    o->files = files;
    o->n_files = n;
}

static void options_done(struct cs_options *o)
{
    o->targets = NULL;
    o->n_targets = 0;
    o->files = NULL;
    o->n_files = 0;
    cs_options_free(o);
}

static void expect_ok(const char *text, const char *host, unsigned port, const char *sni,
                      int family)
{
    struct cs_target t;
    const char *why = cs_target_parse(text, 443, NULL, &t);
    cr_assert_null(why, "'%s' rejected: %s", text, why);
    cr_assert_str_eq(t.host, host, "'%s'", text);
    cr_assert_eq(t.port, port, "'%s': port %u", text, t.port);
    if (sni)
        cr_assert_str_eq(t.sni, sni);
    else
        cr_assert_null(t.sni, "'%s' has SNI %s", text, t.sni);
    cr_assert_eq(t.family, family);
    cr_assert_null(t.unicode, "'%s': an ASCII name has no Unicode form", text);
    cs_target_free(&t);
}

static void expect_bad(const char *text, const char *why_part)
{
    struct cs_target t;
    const char *why = cs_target_parse(text, 443, NULL, &t);
    cr_assert_not_null(why, "'%s' accepted", text);
    cr_assert(strstr(why, why_part), "'%s': '%s' lacks '%s'", text, why, why_part);
    cs_target_free(&t);
}

Test(targets, forms)
{
    expect_ok("example.com", "example.com", 443, "example.com", 0);
    expect_ok("example.com:8443", "example.com", 8443, "example.com", 0);
    expect_ok("Example.COM.", "Example.COM", 443, "Example.COM", 0);
    expect_ok("192.0.2.7", "192.0.2.7", 443, NULL, AF_INET);
    expect_ok("192.0.2.7:636", "192.0.2.7", 636, NULL, AF_INET);
    expect_ok("[2001:db8::1]:993", "2001:db8::1", 993, NULL, AF_INET6);
    expect_ok("[::1]", "::1", 443, NULL, AF_INET6);
    expect_ok("2001:db8::2", "2001:db8::2", 443, NULL, AF_INET6);
    expect_ok("https://api.example.com:9443/health?x=1", "api.example.com", 9443, "api.example.com",
              0);
    expect_ok("imaps://mail.example.com/", "mail.example.com", 993, "mail.example.com", 0);
    expect_ok("_dmarc-x.example.com", "_dmarc-x.example.com", 443, "_dmarc-x.example.com", 0);
}

Test(targets, rejects)
{
    expect_bad("example.com:0", "port out of range");
    expect_bad("example.com:65536", "port out of range");
    expect_bad("example.com:443abc", "port is not a number");
    expect_bad("example.com:", "empty port");
    expect_bad("[2001:db8::1", "closing");
    expect_bad("[2001:db8::zz]:443", "bad IPv6");
    expect_bad("[::1]x", "after ']'");
    expect_bad("a:b:c", "IPv6 needs brackets");
    expect_bad("exa mple.com", "not a host name");
    expect_bad("a..b", "not a host name");
    char label[80];
    memset(label, 'a', 64);
    strcpy(label + 64, ".com");
    expect_bad(label, "not a host name");
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    for (int i = 50; i < 299; i += 50)
        longname[i] = '.';
    expect_bad(longname, "longer than 253");
    expect_bad(":443", "empty host");
}

/* host: the A-label (resolved, SNI, hostname check, dedup); unicode: as
 * written, which the record reports. */
static void expect_idn(const char *text, const char *alabel, const char *unicode, unsigned port)
{
    struct cs_target t;
    const char *why = cs_target_parse(text, 443, NULL, &t);
    cr_assert_null(why, "'%s' rejected: %s", text, why);
    cr_assert_str_eq(t.host, alabel, "'%s'", text);
    cr_assert_str_eq(t.sni, alabel, "'%s'", text);
    cr_assert_not_null(t.unicode, "'%s'", text);
    cr_assert_str_eq(t.unicode, unicode, "'%s'", text);
    cr_assert_eq(t.port, port);
    cr_assert_eq(t.family, 0);
    cs_target_free(&t);
}

Test(targets, internationalised_names_become_a_labels)
{
    expect_idn("b\xc3\xbc"
               "cher.example",
               "xn--bcher-kva.example",
               "b\xc3\xbc"
               "cher.example",
               443);
    expect_idn("b\xc3\xbc"
               "cher.example:8443",
               "xn--bcher-kva.example",
               "b\xc3\xbc"
               "cher.example",
               8443);
    /* upper case mapped, NFC applied (u + combining diaeresis), root dot dropped */
    expect_idn("BU\xcc\x88"
               "CHER.example.",
               "xn--bcher-kva.example",
               "BU\xcc\x88"
               "CHER.example",
               443);
    expect_idn("https://b\xc3\xbc"
               "cher.example/x",
               "xn--bcher-kva.example",
               "b\xc3\xbc"
               "cher.example",
               443);
    /* IDNA 2008 non-transitional: sharp s stays (not "ss") */
    expect_idn("stra\xc3\x9f"
               "e.de",
               "xn--strae-oqa.de",
               "stra\xc3\x9f"
               "e.de",
               443);
    expect_idn("\xe6\x97\xa5\xe6\x9c\xac.example", "xn--wgv71a.example",
               "\xe6\x97\xa5\xe6\x9c\xac.example", 443); /* 日本 */
    /* an A-label as given is an ASCII name */
    expect_ok("xn--bcher-kva.example", "xn--bcher-kva.example", 443, "xn--bcher-kva.example", 0);

    struct cs_target t; /* --sni wins over the A-label */
    cr_assert_null(cs_target_parse("b\xc3\xbc"
                                   "cher.example",
                                   443, "other.example", &t));
    cr_assert_str_eq(t.sni, "other.example");
    cr_assert_str_eq(t.host, "xn--bcher-kva.example");
    cs_target_free(&t);
}

Test(targets, internationalised_rejects)
{
    expect_bad("\xff.example", "not valid UTF-8");
    expect_bad("b\xc3"
               "cher.example",
               "not valid UTF-8"); /* truncated sequence */
    expect_bad("\xc0\xaf"
               "x.example",
               "not valid UTF-8"); /* overlong '/' */
    expect_bad("\xed\xa0\x80"
               "x.example",
               "not valid UTF-8"); /* a surrogate */
    expect_bad("\xe2\x80\xae"
               "lper.example",
               "IDNA does not allow");                         /* RIGHT-TO-LEFT OVERRIDE */
    expect_bad("\xe2\x98\x83.example", "IDNA does not allow"); /* a snowman */
    expect_bad("-b\xc3\xbc"
               "cher.example",
               "starts or ends with '-'");
    expect_bad("\xcc\x88"
               "x.example",
               "combining mark");
    expect_bad("b\xc3\xbc"
               "cher .example",
               "not a host name");
    expect_bad("\x01"
               "b\xc3\xbc"
               "cher.example",
               "not a host name");
    expect_bad("b\xc3\xbc"
               "cher..example",
               "not a host name");

    /* 60 u-umlauts: 120 bytes, but an A-label over 63 characters */
    char label[200] = "";
    for (int i = 0; i < 60; i++)
        strcat(label, "\xc3\xbc");
    strcat(label, ".example");
    expect_bad(label, "longer than 63 characters");
    /* 50 ASCII letters and one u-umlaut: an A-label of 4 + 51 + 1 + 3 > 63 */
    memset(label, 'a', 59);
    strcpy(label + 59, "\xc3\xbc.example");
    expect_bad(label, "longer than 63 characters");
    /* more UTF-8 than could ever fit in 253 characters */
    char longname[1200];
    for (size_t i = 0; i + 3 < sizeof(longname); i += 3)
        memcpy(longname + i,
               (i / 3) % 20 == 19 ? ".aa"
                                  : "\xc3\xbc"
                                    "a",
               3);
    longname[sizeof(longname) - 3] = '\0';
    expect_bad(longname, "longer than 253");
}

Test(targets, internationalised_duplicates_by_a_label)
{
    struct cs_options o;
    char *args[] = {"b\xc3\xbc"
                    "cher.example",
                    "xn--bcher-kva.example:443",
                    "B\xc3\x9c"
                    "CHER.example.",
                    "b\xc3\xbc"
                    "cher.example:444"};
    options_targets(&o, args, 4);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    struct cs_target t;
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_str_eq(t.unicode, "b\xc3\xbc"
                                "cher.example");
    cr_assert_eq(t.port, 443);
    cs_target_free(&t);
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_str_eq(t.host, "xn--bcher-kva.example");
    cr_assert_eq(t.port, 444);
    cs_target_free(&t);
    cr_assert_eq(cs_targets_next(ts, &t), 0);
    cs_targets_close(ts);
    options_done(&o);
}

Test(targets, url_scheme_names_the_probe)
{
    struct cs_target t;
    cr_assert_null(cs_target_parse("tls://db.example:5433", 443, NULL, &t));
    cr_assert_str_eq(t.probe, "tls");
    cr_assert_eq(t.port, 5433);
    cs_target_free(&t);
    cr_assert_null(cs_target_parse("imaps://mail.example", 443, NULL, &t));
    cr_assert_str_eq(t.probe, "tls");
    cr_assert_eq(t.port, 993);
    cs_target_free(&t);
    cr_assert_null(cs_target_parse("mail.example", 443, NULL, &t));
    cr_assert_null(t.probe, "a target without a scheme takes the scan's probe");
    cs_target_free(&t);
    expect_bad("gopher://old.example", "unknown URL scheme (known: https,");
    /* a STARTTLS protocol's name is its scheme, at its port unless one is given */
    cr_assert_null(cs_target_parse("smtp://mx.example", 443, NULL, &t));
    cr_assert_str_eq(t.probe, "smtp");
    cr_assert_eq(t.port, 25);
    cr_assert_str_eq(t.host, "mx.example");
    cs_target_free(&t);
    cr_assert_null(cs_target_parse("SUBMISSION://mx.example:2525/", 443, NULL, &t));
    cr_assert_str_eq(t.probe, "submission");
    cr_assert_eq(t.port, 2525);
    cs_target_free(&t);
    expect_bad("smtpx://mx.example", "unknown URL scheme");
    expect_bad("averyveryverylongschemename://mx.example", "unknown URL scheme");

    /* the same endpoint through the same probe is one target, URL or not */
    struct cs_options o;
    char *args[] = {"https://www.example/", "www.example", "tls://www.example:443"};
    options_targets(&o, args, 3);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_str_eq(t.host, "www.example");
    cs_target_free(&t);
    cr_assert_eq(cs_targets_next(ts, &t), 0);
    cs_targets_close(ts);
    options_done(&o);
}

Test(targets, sni_override)
{
    struct cs_target t;
    cr_assert_null(cs_target_parse("10.0.0.1:443", 443, "internal.example", &t));
    cr_assert_str_eq(t.sni, "internal.example");
    cs_target_free(&t);
}

static char *write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char *path;
    cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

struct collected {
    char *text[64];
    char *bad[64];
    size_t n;
};

static void collect(struct cs_options *o, struct collected *c)
{
    struct cs_targets *ts = cs_targets_open(o, NULL, 0);
    cr_assert_not_null(ts);
    struct cs_target t;
    memset(c, 0, sizeof(*c));
    while (cs_targets_next(ts, &t) > 0) {
        cr_assert_lt(c->n, 64);
        if (t.bad) {
            c->bad[c->n] = strdup(t.bad);
            c->text[c->n] = strdup(t.host);
        } else {
            cr_assert(asprintf(&c->text[c->n], "%s|%u|%s", t.host, t.port, t.sni ? t.sni : "-") >
                      0);
        }
        c->n++;
        cs_target_free(&t);
    }
    cr_assert_eq(cs_targets_count(ts), c->n);
    cs_targets_close(ts);
}

static void collected_free(struct collected *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->text[i]);
        free(c->bad[i]);
    }
}

Test(targets, file_format)
{
    char *dir = temp_dir();
    static const char data[] = "\xEF\xBB\xBF# fleet\r\n"
                               "  api.example.com:8443  # team-payments\r\n"
                               "\n"
                               "\t\n"
                               "api.example.com:8443\n"
                               "API.example.com:8443\n"
                               "bad host\n"
                               "web.example.com:99999\n"
                               "nul\0byte.example\n"
                               "[::1]:8443\n"
                               "last.example.com"; /* no final newline */
    char *path = write_file(dir, "t.txt", data, sizeof(data) - 1);
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    struct collected c;
    collect(&o, &c);
    cr_assert_eq(c.n, 6, "got %zu targets", c.n);
    cr_assert_str_eq(c.text[0], "api.example.com|8443|api.example.com");
    cr_assert_str_eq(c.text[1], "bad host");
    char *want;
    cr_assert(asprintf(&want, "%s:7: more than one target on the line", path) > 0);
    cr_assert_str_eq(c.bad[1], want);
    free(want);
    cr_assert(strstr(c.bad[2], ":8: port out of range"), "%s", c.bad[2]);
    cr_assert(strstr(c.bad[3], ":9: NUL byte"), "%s", c.bad[3]);
    cr_assert_str_eq(c.text[3], "nul\\x00byte.example");
    cr_assert_str_eq(c.text[4], "::1|8443|-");
    cr_assert_str_eq(c.text[5], "last.example.com|443|last.example.com");
    collected_free(&c);
    options_done(&o);
    free(path);
    remove_tree(dir);
    free(dir);
}

Test(targets, long_line_and_bad_port_kept)
{
    char *dir = temp_dir();
    size_t n = 1 << 20;
    char *data = malloc(n + 64);
    memset(data, 'a', n);
    strcpy(data + n, "\nok.example:1\n");
    char *path = write_file(dir, "long.txt", data, strlen(data));
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    struct collected c;
    collect(&o, &c);
    cr_assert_eq(c.n, 2);
    cr_assert(strstr(c.bad[0], ":1: line longer than 4096 bytes"), "%s", c.bad[0]);
    cr_assert_eq(strlen(c.text[0]), 253);
    cr_assert_str_eq(c.text[1], "ok.example|1|ok.example");
    collected_free(&c);
    options_done(&o);
    free(data);
    free(path);
    remove_tree(dir);
    free(dir);
}

Test(targets, unreadable_file)
{
    struct cs_options o;
    char *files[] = {"/nonexistent/targets.txt"};
    options_files(&o, files, 1);
    char err[256];
    cr_assert_null(cs_targets_open(&o, err, sizeof(err)));
    cr_assert_str_eq(err, "/nonexistent/targets.txt: No such file or directory (check the path "
                          "given to -f)");
    options_done(&o);
}

/* Appends each notice to the string *arg, a line each, its kind first. */
static void collect_notice(void *arg, enum cs_notice kind, const char *line)
{
    char **all = arg, *more;
    cr_assert(asprintf(&more, "%s%s %s\n", *all ? *all : "",
                       kind == CS_NOTICE_INPUT ? "input" : "bad-line", line) > 0);
    free(*all);
    *all = more;
}

/* A source that fails part-way: the lines before the failure are targets,
   the failure is counted (the caller exits 66) and said once as a notice,
   and the next file is still read.  A directory fails at its first read. */
Test(targets, read_error_part_way)
{
    char *dir = temp_dir();
    char *next = write_file(dir, "next.txt", "next.example\n", 13);
    int in = reset_after("a.example\nb.example:8443\n# c.example\n");
    cr_assert_geq(in, 0, "the reset connection could not be made");
    cr_assert_eq(dup2(in, STDIN_FILENO), STDIN_FILENO);
    close(in);

    struct cs_options o;
    char *files[] = {"-", dir, next};
    options_files(&o, files, 3);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    char *err = NULL;
    cs_targets_on_notice(ts, collect_notice, &err);
    static const char *const want[] = {"a.example", "b.example", "next.example"};
    struct cs_target t;
    size_t n = 0;
    while (cs_targets_next(ts, &t) > 0) {
        cr_assert_lt(n, 3);
        cr_assert_null(t.bad, "%s", t.bad);
        cr_assert_str_eq(t.host, want[n]);
        n++;
        if (n < 3)
            cr_assert_eq(cs_targets_failed(ts), 0, "a failure before the data ran out");
        cs_target_free(&t);
    }
    cr_assert_eq(n, 3);
    cr_assert_eq(cs_targets_failed(ts), 2);
    cr_assert_eq(cs_targets_bad(ts), 0, "a read error is no bad line");
    cs_targets_close(ts);
    char *expect;
    cr_assert(asprintf(&expect,
                       "input <stdin>: read error after line 3: Connection reset by peer; "
                       "the rest of the file is not scanned (check the file given to -f)\n"
                       "input %s: cannot be read: Is a directory; none of its targets is "
                       "scanned (give -f a readable file)\n",
                       dir) > 0);
    cr_assert_str_eq(err, expect);
    free(expect);
    free(err);
    options_done(&o);
    free(next);
    remove_tree(dir);
    free(dir);
}

Test(targets, duplicates_across_args_and_ports)
{
    struct cs_options o;
    char *args[] = {"a.example",     "a.example:443", "A.EXAMPLE",
                    "a.example:444", "127.0.0.1",     "127.0.0.1:443"};
    options_targets(&o, args, 6);
    struct collected c;
    collect(&o, &c);
    cr_assert_eq(c.n, 3);
    cr_assert_str_eq(c.text[0], "a.example|443|a.example");
    cr_assert_str_eq(c.text[1], "a.example|444|a.example");
    cr_assert_str_eq(c.text[2], "127.0.0.1|443|-");
    collected_free(&c);
    options_done(&o);
}

/* ---- a 1,000,000-line file --------------------------------------------- */

#define BIG_LINES 1000000
#define BIG_PORTS 1000
#define BIG_BAD_EVERY 100000 /* line 50000, 150000, ...: 10 bad lines */

/* n distinct loopback ports that nothing listens on (bound, then closed) */
static void refused_ports(unsigned *ports, size_t n)
{
    int *fds = calloc(n, sizeof(*fds));
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_geq(fds[i], 0);
        cr_assert_eq(bind(fds[i], (struct sockaddr *)&a, len), 0);
        cr_assert_eq(getsockname(fds[i], (struct sockaddr *)&a, &len), 0);
        ports[i] = ntohs(a.sin_port);
    }
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
}

static bool big_bad_line(unsigned long line)
{
    return line % BIG_BAD_EVERY == BIG_BAD_EVERY / 2;
}

/* Line `line` (1-based) of the big file: 10 bad lines; the rest cycle over
 * five spellings of three named endpoints and the BIG_PORTS loopback ports,
 * each port many times over. */
static void big_line(FILE *f, unsigned long line, const unsigned *ports, bool names)
{
    if (big_bad_line(line)) {
        fprintf(f, "bad.example:99999\n");
        return;
    }
    unsigned port = ports[(line / 7) % BIG_PORTS];
    switch (names ? line % 7 : 5) {
    case 0:
        fputs("a.example\n", f);
        break;
    case 1:
        fputs("a.example:443\n", f);
        break;
    case 2:
        fputs("  A.EXAMPLE.  # the same, spelt differently\r\n", f);
        break;
    case 3:
        fputs("b.example:8443\n", f);
        break;
    case 4:
        fputs("[::1]:8443\n", f);
        break;
    default:
        fprintf(f, "127.0.0.1:%u%s\n", port, line % 2 ? "" : "   # dup");
        break;
    }
}

static char *write_big_file(const char *dir, const unsigned *ports, unsigned long lines, bool names)
{
    char *path;
    cr_assert(asprintf(&path, "%s/big.txt", dir) > 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (unsigned long line = 1; line <= lines; line++)
        big_line(f, line, ports, names);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static size_t port_index(const unsigned *ports, unsigned port)
{
    for (size_t i = 0; i < BIG_PORTS; i++)
        if (ports[i] == port)
            return i;
    return BIG_PORTS;
}

Test(targets, million_lines_one_record_per_target, .timeout = 120)
{
    unsigned ports[BIG_PORTS];
    refused_ports(ports, BIG_PORTS);
    char *dir = temp_dir();
    char *path = write_big_file(dir, ports, BIG_LINES, true);
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);

    unsigned seen_port[BIG_PORTS] = {0};
    unsigned a = 0, b = 0, v6 = 0, bad = 0, other = 0;
    unsigned long next_bad = BIG_BAD_EVERY / 2;
    struct cs_target t;
    while (cs_targets_next(ts, &t) > 0) {
        if (t.bad) {
            char *want;
            cr_assert(asprintf(&want, "%s:%lu: port out of range (1-65535)", path, next_bad) > 0);
            cr_assert_str_eq(t.bad, want, "bad line %u", bad);
            free(want);
            cr_assert_str_eq(t.host, "bad.example:99999");
            next_bad += BIG_BAD_EVERY;
            bad++;
        } else if (strcmp(t.host, "a.example") == 0 && t.port == 443) {
            a++;
        } else if (strcmp(t.host, "b.example") == 0 && t.port == 8443) {
            b++;
        } else if (strcmp(t.host, "::1") == 0 && t.port == 8443) {
            v6++;
        } else if (strcmp(t.host, "127.0.0.1") == 0 && port_index(ports, t.port) < BIG_PORTS) {
            seen_port[port_index(ports, t.port)]++;
        } else {
            other++;
        }
        cs_target_free(&t);
    }
    cr_assert_eq(a, 1);
    cr_assert_eq(b, 1);
    cr_assert_eq(v6, 1);
    cr_assert_eq(other, 0);
    cr_assert_eq(bad, BIG_LINES / BIG_BAD_EVERY);
    for (size_t i = 0; i < BIG_PORTS; i++)
        cr_assert_eq(seen_port[i], 1, "port %u handed out %u times", ports[i], seen_port[i]);
    cr_assert_eq(cs_targets_count(ts), 3 + BIG_PORTS + BIG_LINES / BIG_BAD_EVERY);
    cr_assert_eq(cs_targets_bad(ts), BIG_LINES / BIG_BAD_EVERY);
    cs_targets_close(ts);
    options_done(&o);
    free(path);
    remove_tree(dir);
    free(dir);
}

/* The binary on a smaller file of the same shape (loopback ports only):
 * one record per distinct target, every bad line on stderr with file:line
 * and as an ERROR record. */
Test(targets, binary_scans_each_distinct_target_once, .timeout = 120)
{
    unsigned ports[BIG_PORTS];
    refused_ports(ports, BIG_PORTS);
    char *dir = temp_dir();
    char *path = write_big_file(dir, ports, 200000, false);
    char *report;
    cr_assert(asprintf(&report, "%s/r.jsonl", dir) > 0);
    const char *args[] = {"-q",  "-t", "5",  "-j", "200",  "--per-address",
                          "200", "-f", path, "-o", report, NULL};
    struct run_result r;
    cr_assert_eq(run_certsweep(args, NULL, &r), 0);
    cr_assert(r.status < 64, "exit %d: %s", r.status, r.err);

    size_t len;
    char *text = slurp(report, &len);
    cr_assert_not_null(text);
    unsigned seen_port[BIG_PORTS] = {0}, bad = 0, records = 0;
    unsigned char bad_seen[200000 / BIG_BAD_EVERY] = {0};
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        cr_assert_not_null(nl, "a JSONL line without its newline");
        json_error_t err;
        json_t *rec = json_loadb(line, (size_t)(nl - line), 0, &err);
        cr_assert_not_null(rec, "%s", err.text);
        records++;
        const char *host = json_string_value(json_object_get(rec, "host"));
        const char *error = json_string_value(json_object_get(rec, "error"));
        if (strcmp(host, "bad.example:99999") == 0) {
            /* bad lines are records in completion order, which several
               workers need not keep: check each is one of the expected */
            unsigned long at = 0;
            char *want;
            cr_assert(sscanf(error + strlen("input: ") + strlen(path), ":%lu:", &at) == 1, "%s",
                      error);
            cr_assert_eq(at % BIG_BAD_EVERY, BIG_BAD_EVERY / 2, "%s", error);
            cr_assert_lt(at / BIG_BAD_EVERY, 200000 / BIG_BAD_EVERY);
            cr_assert_eq(bad_seen[at / BIG_BAD_EVERY]++, 0, "line %lu reported twice", at);
            cr_assert(asprintf(&want, "input: %s:%lu: port out of range (1-65535)", path, at) > 0);
            cr_assert_str_eq(error, want);
            cr_assert(strstr(r.err, want + strlen("input: ")), "stderr lacks %s", want);
            free(want);
            bad++;
        } else {
            cr_assert_str_eq(host, "127.0.0.1");
            size_t i =
                port_index(ports, (unsigned)json_integer_value(json_object_get(rec, "port")));
            cr_assert_lt(i, BIG_PORTS);
            seen_port[i]++;
        }
        json_decref(rec);
    }
    cr_assert_eq(bad, 200000 / BIG_BAD_EVERY);
    cr_assert_eq(records, BIG_PORTS + bad);
    for (size_t i = 0; i < BIG_PORTS; i++)
        cr_assert_eq(seen_port[i], 1, "port %u reported %u times", ports[i], seen_port[i]);
    free(text);
    run_result_free(&r);
    free(report);
    free(path);
    remove_tree(dir);
    free(dir);
}

/* ---- labels on a targets line, and CSV inventories ---- */

/* Splits line; the labels must be exactly the NULL-terminated name, value
   pairs given. */
static void expect_line(const char *line, const char *target, ...)
{
    struct cs_line_parts lp;
    char why[320];
    const char *bad = cs_target_line(line, strlen(line), &lp, why, sizeof(why));
    cr_assert_null(bad, "'%s' refused: %s", line, bad);
    cr_assert_eq(lp.target_len, strlen(target), "'%s': target '%.*s'", line, (int)lp.target_len,
                 lp.target);
    cr_assert_eq(memcmp(lp.target, target, lp.target_len), 0, "'%s'", line);
    va_list ap;
    va_start(ap, target);
    size_t n = 0;
    for (const char *name; (name = va_arg(ap, const char *)) != NULL; n++) {
        const char *value = va_arg(ap, const char *);
        cr_assert_lt(n, lp.labels.n, "'%s': label %s missing", line, name);
        cr_assert_str_eq(lp.labels.name[n], name, "'%s'", line);
        cr_assert_str_eq(lp.labels.value[n], value, "'%s': label %s", line, name);
    }
    va_end(ap);
    cr_assert_eq(lp.labels.n, n, "'%s': %zu labels, want %zu", line, lp.labels.n, n);
    cs_labels_free(&lp.labels);
}

static void expect_bad_line(const char *line, const char *why_part)
{
    struct cs_line_parts lp;
    char why[320];
    const char *bad = cs_target_line(line, strlen(line), &lp, why, sizeof(why));
    cr_assert_not_null(bad, "'%s' accepted", line);
    cr_assert(strstr(bad, why_part), "'%s': '%s' lacks '%s'", line, bad, why_part);
    cs_labels_free(&lp.labels);
}

Test(targets, line_labels)
{
    expect_line("api.example.com:8443 owner=payments env=prod", "api.example.com:8443", "owner",
                "payments", "env", "prod", NULL);
    expect_line("  api.example.com\towner=web \r", "api.example.com", "owner", "web", NULL);
    expect_line("api.example.com   # team-payments", "api.example.com", NULL);
    expect_line("api.example.com#c owner=x", "api.example.com", NULL);
    expect_line("api.example.com owner=x# comment", "api.example.com", "owner", "x", NULL);
    expect_line("# only a comment", "", NULL);
    expect_line("", "", NULL);
    expect_line("a.example team=\"Web Core # 2\" q=\"say \"\"hi\"\"\" # tail", "a.example", "team",
                "Web Core # 2", "q", "say \"hi\"", NULL);
    expect_line("a.example empty= quoted=\"\"", "a.example", "empty", "", "quoted", "", NULL);
    expect_line("a.example x=a=b y=c\"d", "a.example", "x", "a=b", "y", "c\"d", NULL);
    expect_line("https://a.example/?q=1&r=2 env=prod", "https://a.example/?q=1&r=2", "env", "prod",
                NULL);
    expect_line("a.example Owner_1.x-y=v", "a.example", "Owner_1.x-y", "v", NULL);
}

Test(targets, line_label_rejects)
{
    expect_bad_line("a.example b.example", "more than one target on the line");
    expect_bad_line("a.example owner=x b.example:443", "more than one target on the line");
    expect_bad_line("a.example team:x", "'team:x' is neither a label (name=value) nor a target");
    expect_bad_line("owner=x a.example", "the target comes first");
    expect_bad_line("a.example x=\"open # no end", "quoted value without its closing");
    expect_bad_line("a.example x=\"a\"b", "text after the closing quote");
    expect_bad_line("a.example x=1 x=2", "label 'x' given twice");
    expect_bad_line("a.example own!er=1", "a label name is letters, digits");
    expect_bad_line("a.example =1", "a label name is empty");
    expect_bad_line("a.example status=1", "field of the record");
    expect_bad_line("a.example HOST=1", "field of the record");
    char line[4096];
    int n = snprintf(line, sizeof(line), "a.example %s=1",
                     "n234567890123456789012345678901234567890"
                     "1234567890123456789012345");
    cr_assert_gt(n, 0);
    expect_bad_line(line, "longer than 64 characters");
    /* a value of 1024 bytes is taken, 1025 is not */
    memcpy(line, "a.example v=", 12);
    memset(line + 12, 'x', 1024);
    line[12 + 1024] = '\0';
    struct cs_line_parts lp;
    char why[320];
    cr_assert_null(cs_target_line(line, strlen(line), &lp, why, sizeof(why)));
    cr_assert_eq(strlen(lp.labels.value[0]), 1024);
    cs_labels_free(&lp.labels);
    strcpy(line + 12 + 1024, "x");
    expect_bad_line(line, "label 'v': value longer than 1024 bytes");
    memcpy(line + 12, "\"", 1); /* "x...x": 1025 bytes between the quotes */
    strcpy(line + 12 + 1025, "x\"");
    expect_bad_line(line, "label 'v': value longer than 1024 bytes");
    /* 32 labels are taken, 33 are not */
    size_t len = (size_t)snprintf(line, sizeof(line), "a.example");
    for (int i = 0; i < 32; i++)
        len += (size_t)snprintf(line + len, sizeof(line) - len, " l%d=%d", i, i);
    cr_assert_null(cs_target_line(line, len, &lp, why, sizeof(why)));
    cr_assert_eq(lp.labels.n, 32);
    cs_labels_free(&lp.labels);
    snprintf(line + len, sizeof(line) - len, " l32=32");
    expect_bad_line(line, "more than 32 labels on the line");
}

Test(targets, label_names)
{
    cr_assert_null(cs_label_name_check("owner", 5));
    cr_assert_null(cs_label_name_check("a.b-c_D9", 8));
    cr_assert_not_null(cs_label_name_check("", 0));
    cr_assert_not_null(cs_label_name_check("a b", 3));
    cr_assert_not_null(cs_label_name_check("a\x1b", 2));
    cr_assert_not_null(cs_label_name_check("bücher", strlen("bücher")));
    cr_assert_not_null(cs_label_name_check("Protocol", 8));
    cr_assert_not_null(cs_label_name_check("key_proven", 10));
    cr_assert_null(cs_label_name_check("labels", 6));
}

#define LBUF 2048

/* The targets of a file: "host|port|sni|probe|address|name=value,..." or
   "BAD why" for each, in order. */
static size_t collect_labelled(struct cs_options *o, char out[][LBUF], size_t max)
{
    char err[LBUF] = "";
    struct cs_targets *ts = cs_targets_open(o, err, sizeof(err));
    cr_assert_not_null(ts, "%s", err);
    struct cs_target t;
    size_t n = 0;
    while (cs_targets_next(ts, &t) > 0) {
        cr_assert_lt(n, max);
        if (t.bad) {
            cr_assert_eq(t.labels.n, 0, "a bad line carries no labels");
            snprintf(out[n++], LBUF, "BAD %s", t.bad);
        } else {
            int k = snprintf(out[n], LBUF, "%s|%u|%s|%s|%s|", t.host, t.port, t.sni ? t.sni : "-",
                             t.probe ? t.probe : "-", t.address ? t.address : "-");
            for (size_t i = 0; i < t.labels.n; i++)
                k += snprintf(out[n] + k, LBUF - (size_t)k, "%s%s=%s", i ? "," : "",
                              t.labels.name[i], t.labels.value[i]);
            n++;
        }
        cs_target_free(&t);
    }
    cs_targets_close(ts);
    return n;
}

Test(targets, csv_inventory_columns)
{
    char *dir = temp_dir();
    static const char data[] =
        "Host,PORT,sni,Protocol,address,owner,status,,env\n"           /* 1 */
        "mx.example.com,,,smtp,,mail,x,,prod\n"                        /* 2: smtp's port */
        "mx.example.com,2525,,SMTP,,mail2\n"                           /* 3: short row */
        "https://www.example.com/,8443,,,192.0.2.1,web,,,\n"           /* 4 */
        "www.example.com:9443,9443,alt.example.com,,[2001:db8::1],x\n" /* 5 */
        "www.example.com:9443,443,,,,x\n"                              /* 6 */
        "smtp://mx.example.com,,,imap,,x\n"                            /* 7 */
        "a.example.com,,,gopher,,x\n"                                  /* 8 */
        "a.example.com,,,,999.1.1.1,x\n"                               /* 9 */
        "a.example.com,,1.2.3.4,,,x\n"                                 /* 10 */
        ",,,,,,,,\n"                                                   /* 11: blank row */
        ",443,,,,x\n"                                                  /* 12 */
        "a.example.com,,,,,x,,,,,\n"                                   /* 13 */
        "mx.example.com,,,smtp,,other,,,dev\n"                         /* 14: a duplicate of 2 */
        "\"b.example.com\",\"\",,,,\"a,\"\"b\"\"\nc\",,,\n";           /* 15-16 */
    char *path = write_file(dir, "inv.csv", data, sizeof(data) - 1);
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    char got[32][LBUF];
    size_t n = collect_labelled(&o, got, 32);
    static const char *const want[] = {
        "mx.example.com|25|mx.example.com|smtp|-|owner=mail,env=prod",
        "mx.example.com|2525|mx.example.com|smtp|-|owner=mail2,env=",
        "www.example.com|8443|www.example.com|tls|192.0.2.1|owner=web,env=",
        "www.example.com|9443|alt.example.com|-|2001:db8::1|owner=x,env=",
        "BAD ", /* 6 */
        "BAD ", /* 7 */
        "BAD ", /* 8 */
        "BAD ", /* 9 */
        "BAD ", /* 10 */
        "BAD ", /* 12 */
        "BAD ", /* 13 */
        "b.example.com|443|b.example.com|-|-|owner=a,\"b\"\nc,env=",
    };
    static const char *const why[] = {
        "inv.csv:6: the host names another port than the port column",
        "inv.csv:7: the host's URL scheme and the protocol column name different protocols",
        "inv.csv:8: protocol column: unknown protocol 'gopher'",
        "inv.csv:9: address column: not an IPv4 or IPv6 address",
        "inv.csv:10: sni column: an IP address",
        "inv.csv:12: empty host cell",
        "inv.csv:13: row has 11 cells, the header 9",
    };
    cr_assert_eq(n, sizeof(want) / sizeof(want[0]), "%zu targets", n);
    for (size_t i = 0, b = 0; i < n; i++) {
        if (strcmp(want[i], "BAD ") == 0) {
            cr_assert(strncmp(got[i], "BAD ", 4) == 0, "target %zu: %s", i, got[i]);
            cr_assert(strstr(got[i], why[b]), "target %zu: '%s' lacks '%s'", i, got[i], why[b]);
            b++;
        } else {
            cr_assert_str_eq(got[i], want[i], "target %zu", i);
        }
    }
    free(path);
    remove_tree(dir);
    free(dir);
}

Test(targets, csv_inventory_header_refused)
{
    char *dir = temp_dir();
    static const struct {
        const char *data, *why;
    } cases[] = {
        {"name,port\nexample.com,443\n", "the header row has no 'host' column"},
        {"host,owner,Owner,owner\nexample.com,a,b,c\n", "names column 'owner' twice"},
        {"host,HOST\nexample.com,x\n", "names column 'host' twice"},
        {"host,team name\nexample.com,x\n", "header column 2 ('team name'): a label name is"},
        {"host,\"=cmd\"\nexample.com,x\n", "header column 2 ('=cmd')"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_file(dir, "h.csv", cases[i].data, strlen(cases[i].data));
        struct cs_options o;
        char *files[] = {path};
        options_files(&o, files, 1);
        char err[LBUF] = "";
        struct cs_targets *ts = cs_targets_open(&o, err, sizeof(err));
        cr_assert_null(ts, "case %zu opened", i);
        cr_assert(strstr(err, cases[i].why), "case %zu: '%s' lacks '%s'", i, err, cases[i].why);
        cr_assert(strncmp(err, path, strlen(path)) == 0, "case %zu: '%s' names no file", i, err);
        free(path);
    }
    /* 32 label columns are taken, 33 are not */
    char header[1024] = "host";
    for (int i = 0; i < 32; i++)
        snprintf(header + strlen(header), sizeof(header) - strlen(header), ",l%d", i);
    strcat(header, "\nexample.com\n");
    char *path = write_file(dir, "h.csv", header, strlen(header));
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    char err[LBUF] = "";
    struct cs_targets *ts = cs_targets_open(&o, err, sizeof(err));
    cr_assert_not_null(ts, "%s", err);
    cs_targets_close(ts);
    free(path);
    strcpy(strstr(header, "\n"), ",l32\nexample.com\n");
    path = write_file(dir, "h.csv", header, strlen(header));
    files[0] = path;
    ts = cs_targets_open(&o, err, sizeof(err));
    cr_assert_null(ts);
    cr_assert(strstr(err, "more than 32 label columns"), "%s", err);
    free(path);
    remove_tree(dir);
    free(dir);
}

Test(targets, csv_inventory_row_caps)
{
    char *dir = temp_dir();
    /* line 2: a label cell of 1025 bytes; 3: of 1024; 4-5: a row of 5000
       bytes with a quoted line end (skipped to the end of its line); 6-7: a
       quoted cell whose first line passes the cap: cut there, so line 7
       starts a row of its own; 8: fine */
    size_t cap = 20000, len = 0;
    char *data = malloc(cap);
    cr_assert_not_null(data);
    len += (size_t)snprintf(data + len, cap - len, "host,owner\na.example.com,");
    memset(data + len, 'o', 1025);
    len += 1025;
    len += (size_t)snprintf(data + len, cap - len, "\nb.example.com,");
    memset(data + len, 'o', 1024);
    len += 1024;
    len += (size_t)snprintf(data + len, cap - len, "\nc.example.com,\"");
    memset(data + len, 'o', 2000);
    len += 2000;
    data[len++] = '\n';
    memset(data + len, 'o', 3000);
    len += 3000;
    len += (size_t)snprintf(data + len, cap - len, "\"\ne.example.com,\"");
    memset(data + len, 'o', 5000);
    len += 5000;
    len += (size_t)snprintf(data + len, cap - len, "\ntail\"\nd.example.com,fine\n");
    char *path = write_file(dir, "caps.csv", data, len);
    free(data);
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    char got[8][LBUF];
    size_t n = collect_labelled(&o, got, 8);
    cr_assert_eq(n, 6, "%zu targets", n);
    cr_assert(strstr(got[0], "/caps.csv:2: label 'owner' longer than 1024 bytes"), "%s", got[0]);
    cr_assert(strncmp(got[1], "b.example.com|443|b.example.com|-|-|owner=oooo", 46) == 0, "%s",
              got[1]);
    cr_assert_eq(strlen(got[1]), strlen("b.example.com|443|b.example.com|-|-|owner=") + 1024);
    cr_assert(strstr(got[2], "/caps.csv:4: row longer than 4096 bytes"), "%s", got[2]);
    cr_assert(strstr(got[3], "/caps.csv:6: row longer than 4096 bytes"), "%s", got[3]);
    cr_assert(strstr(got[4], "/caps.csv:7: not a host name"), "%s", got[4]);
    cr_assert_str_eq(got[5], "d.example.com|443|d.example.com|-|-|owner=fine");
    free(path);
    remove_tree(dir);
    free(dir);
}

Test(targets, label_names_known_before_the_first_target)
{
    char *dir = temp_dir();
    static const char inv[] = "host,owner,queue\nx.example.com,a,b\n";
    static const char txt[] = "y.example.com env=prod owner=c\n"
                              "z.example.com # tier=1\n"
                              "w.example.com tier=gold\n";
    char *p1 = write_file(dir, "a.csv", inv, sizeof(inv) - 1);
    char *p2 = write_file(dir, "b.txt", txt, sizeof(txt) - 1);
    struct cs_options o;
    char *files[] = {p1, p2};
    options_files(&o, files, 2);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    struct cs_strlist names;
    cs_targets_label_names(ts, &names);
    static const char *const want[] = {"owner", "queue", "env", "tier"};
    cr_assert_eq(names.n, 4, "%zu names", names.n);
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(names.v[i], want[i]);
    cs_strlist_free(&names);
    /* the pre-read rewound the file: every target is still there */
    struct cs_target t;
    size_t n = 0;
    while (cs_targets_next(ts, &t) > 0) {
        cr_assert_null(t.bad, "%s", t.bad);
        n++;
        cs_target_free(&t);
    }
    cr_assert_eq(n, 4);
    cs_targets_close(ts);
    free(p1);
    free(p2);
    remove_tree(dir);
    free(dir);
}

Test(targets, label_names_capped_per_scan)
{
    /* 8 lines of 32 new names each reach the cap of 256; a 257th name makes
       its line bad, and names already known stay usable */
    char *dir = temp_dir();
    char data[32768];
    size_t len = 0;
    for (int line = 0; line < 9; line++) {
        len += (size_t)snprintf(data + len, sizeof(data) - len, "h%d.example.com", line);
        for (int i = 0; i < 32; i++)
            len += (size_t)snprintf(data + len, sizeof(data) - len, " n%d=%d", line * 32 + i, i);
        data[len++] = '\n';
    }
    len += (size_t)snprintf(data + len, sizeof(data) - len, "last.example.com n0=again\n");
    char *path = write_file(dir, "many.txt", data, len);
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    struct cs_strlist names;
    cs_targets_label_names(ts, &names);
    cr_assert_eq(names.n, 256);
    cs_strlist_free(&names);
    struct cs_target t;
    size_t n = 0;
    while (cs_targets_next(ts, &t) > 0) {
        if (n == 8) {
            cr_assert_not_null(t.bad);
            cr_assert(strstr(t.bad, "many.txt:9: more than 256 label names in the scan"), "%s",
                      t.bad);
        } else {
            cr_assert_null(t.bad, "target %zu: %s", n, t.bad);
            cr_assert_eq(t.labels.n, n == 9 ? 1 : 32);
        }
        n++;
        cs_target_free(&t);
    }
    cr_assert_eq(n, 10);
    cs_targets_close(ts);
    free(path);
    remove_tree(dir);
    free(dir);
}

Test(targets, csv_inventory_row_cap_exact)
{
    /* 4096 bytes before the line end are a row; 4097 are not, LF or CRLF */
    char *dir = temp_dir();
    static const size_t cells[2][4] = {{1020, 1020, 1020, 1019}, {1020, 1020, 1020, 1020}};
    static const char *const ends[] = {"\n", "\r\n"};
    for (size_t e = 0; e < 2; e++) {
        char data[12000];
        size_t len = (size_t)snprintf(data, sizeof(data), "host,a,b,c,d%s", ends[e]);
        for (size_t r = 0; r < 2; r++) {
            size_t start = len;
            len += (size_t)snprintf(data + len, sizeof(data) - len, "e.example.com");
            for (size_t c = 0; c < 4; c++) {
                data[len++] = ',';
                memset(data + len, 'a' + (char)c, cells[r][c]);
                len += cells[r][c];
            }
            cr_assert_eq(len - start, r ? 4097u : 4096u);
            len += (size_t)snprintf(data + len, sizeof(data) - len, "%s", ends[e]);
        }
        char *path = write_file(dir, "exact.csv", data, len);
        struct cs_options o;
        char *files[] = {path};
        options_files(&o, files, 1);
        static char got[4][LBUF];
        size_t n = collect_labelled(&o, got, 4);
        cr_assert_eq(n, 2, "%zu targets", n);
        cr_assert(strncmp(got[0], "e.example.com|443|", 18) == 0, "%.80s", got[0]);
        cr_assert(strstr(got[1], "exact.csv:3: row longer than 4096 bytes"), "%.200s", got[1]);
        free(path);
    }
    remove_tree(dir);
    free(dir);
}

/* A range or a port list with labels hands them to each of its targets. */
Test(targets, labels_of_a_range_line_reach_each_target)
{
    char *dir = temp_dir();
    static const char text[] = "192.0.2.0/30:443,8443 owner=payments env=prod\n"
                               "mx.example:25,587 owner=mail\n";
    char *path = write_file(dir, "t.txt", text, sizeof(text) - 1);
    struct cs_options o;
    char *files[] = {path};
    options_files(&o, files, 1);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    struct cs_target t;
    size_t n = 0;
    while (cs_targets_next(ts, &t) > 0) {
        cr_assert_null(t.bad, "%s", t.bad);
        const char *want = n < 4 ? "payments" : "mail";
        cr_assert_str_eq(cs_labels_get(&t.labels, "owner") ? cs_labels_get(&t.labels, "owner")
                                                           : "(none)",
                         want, "%s:%u", t.host, t.port);
        if (n < 4)
            cr_assert_str_eq(cs_labels_get(&t.labels, "env"), "prod");
        n++;
        cs_target_free(&t);
    }
    cr_assert_eq(n, 6, "%zu targets", n);
    cs_targets_close(ts);
    options_done(&o);
    free(path);
    remove_tree(dir);
    free(dir);
}

/* A file target's path is never read as an address range or a port list. */
Test(targets, file_paths_are_not_ranges)
{
    struct cs_options o;
    char *args[] = {"file:/srv/certs-2026/a,b-1.pem?name=www.example",
                    "file:/srv/10.0.0.0-10.0.0.9/c.pem"};
    options_targets(&o, args, 2);
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    struct cs_target t;
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_null(t.bad, "%s", t.bad);
    cr_assert_str_eq(t.host, "/srv/certs-2026/a,b-1.pem");
    cr_assert_str_eq(t.sni, "www.example");
    cs_target_free(&t);
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_null(t.bad, "%s", t.bad);
    cr_assert_str_eq(t.host, "/srv/10.0.0.0-10.0.0.9/c.pem");
    cs_target_free(&t);
    cr_assert_eq(cs_targets_next(ts, &t), 0);
    cs_targets_close(ts);
    options_done(&o);
}
