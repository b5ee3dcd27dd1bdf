/* Target parsing and the targets file format. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/targets.h"
#include "support/runner.h"

TestSuite(targets);

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
    expect_ok("https://api.example.com:9443/health?x=1", "api.example.com", 9443,
              "api.example.com", 0);
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
    expect_bad("bücher.example", "non-ASCII");
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
    struct cs_targets *ts = cs_targets_open(o);
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
    cs_options_init(&o);
    char *files[] = {path};
    o.files = files;
    o.n_files = 1;
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
    o.files = NULL;
    o.n_files = 0;
    cs_options_free(&o);
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
    cs_options_init(&o);
    char *files[] = {path};
    o.files = files;
    o.n_files = 1;
    struct collected c;
    collect(&o, &c);
    cr_assert_eq(c.n, 2);
    cr_assert(strstr(c.bad[0], ":1: line longer than 4096 bytes"), "%s", c.bad[0]);
    cr_assert_eq(strlen(c.text[0]), 253);
    cr_assert_str_eq(c.text[1], "ok.example|1|ok.example");
    collected_free(&c);
    o.files = NULL;
    o.n_files = 0;
    cs_options_free(&o);
    free(data);
    free(path);
    remove_tree(dir);
    free(dir);
}

Test(targets, unreadable_file)
{
    struct cs_options o;
    cs_options_init(&o);
    char *files[] = {"/nonexistent/targets.txt"};
    o.files = files;
    o.n_files = 1;
    cr_assert_null(cs_targets_open(&o));
    o.files = NULL;
    o.n_files = 0;
    cs_options_free(&o);
}

Test(targets, duplicates_across_args_and_ports)
{
    struct cs_options o;
    cs_options_init(&o);
    char *args[] = {"a.example", "a.example:443", "A.EXAMPLE", "a.example:444", "127.0.0.1",
                    "127.0.0.1:443"};
    o.targets = args;
    o.n_targets = 6;
    struct collected c;
    collect(&o, &c);
    cr_assert_eq(c.n, 3);
    cr_assert_str_eq(c.text[0], "a.example|443|a.example");
    cr_assert_str_eq(c.text[1], "a.example|444|a.example");
    cr_assert_str_eq(c.text[2], "127.0.0.1|443|-");
    collected_free(&c);
    o.targets = NULL;
    o.n_targets = 0;
    cs_options_free(&o);
}
