/* The probe boundary without a socket: the registry, and the calls the
 * engine drives a connection with, routed to a probe's plaintext preamble
 * before TLS starts (a stand-in STARTTLS probe here) and ending the
 * connection exactly once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "probes/probe.h"
#include "scanner/options.h"
#include "scanner/targets.h"

Test(probe, registry)
{
    const struct cs_probe *tls = cs_probe_by_name("tls");
    cr_assert_not_null(tls);
    cr_assert_eq(tls->default_port, 443);
    cr_assert_eq(cs_probe_choose(NULL), tls, "no name: tls");
    cr_assert_eq(cs_probe_choose("tls"), tls);
    cr_assert_null(cs_probe_by_name("gopher"));
    cr_assert_null(cs_probe_choose("gopher"));

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cs_probe_list(out);
    fclose(out);
    /* one line per probe, in registry order, the first being tls */
    static const char tls_line[] =
        "  tls         port 443   TLS from the first byte (HTTPS, IMAPS, SMTPS, ...)\n";
    cr_assert(strncmp(text, tls_line, sizeof(tls_line) - 1) == 0, "%s", text);
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    size_t n = 0;
    while (cs_probe_name(n))
        n++;
    cr_assert_eq(lines, n);
    /* --starttls takes auto and every probe but tls, in that order */
    char words[256] = "auto";
    for (size_t i = 1; i < n; i++) {
        strcat(words, " ");
        strcat(words, cs_probe_name(i));
        cr_assert_not_null(strstr(text, cs_probe_name(i)));
    }
    cr_assert_str_eq(words, CS_STARTTLS_WORDS);
    free(text);
}

/* A probe that waits for a "220" greeting before it would start TLS. */
struct fake {
    char got[64];
    size_t got_len;
    int ends;
    char why[128];
};

static int fake_start(struct cs_conn *c)
{
    (void)c;
    return 0; /* waits for the greeting */
}

static int fake_on_read(struct cs_conn *c, const char *buf, size_t len)
{
    struct fake *f = c->owner;
    memcpy(f->got + f->got_len, buf, len);
    f->got_len += len;
    return strncmp(f->got, "220", f->got_len < 3 ? f->got_len : 3) == 0 ? 0 : -1;
}

static int fake_refuse(struct cs_conn *c)
{
    (void)c;
    return -1;
}

static void fake_done(struct cs_conn *c, const char *error)
{
    struct fake *f = c->owner;
    f->ends++;
    snprintf(f->why, sizeof f->why, "%s", error ? error : "");
}

static const struct cs_probe fake_probe = {
    .name = "fake",
    .default_port = 25,
    .helptext = "a stand-in",
    .start = fake_start,
    .on_read = fake_on_read,
};

static struct cs_conn conn_for(struct fake *f, const struct cs_probe *p)
{
    memset(f, 0, sizeof(*f));
    return (struct cs_conn){.probe = p, .done = fake_done, .owner = f};
}

Test(probe, bytes_eof_and_timeouts_go_to_the_preamble)
{
    struct fake f;
    struct cs_conn c = conn_for(&f, &fake_probe);
    cs_conn_start(&c);
    cs_conn_feed(&c, "22", 2);
    cs_conn_feed(&c, "0 ", 2);
    cr_assert_eq(f.got_len, 4);
    cr_assert_eq(f.ends, 0);
    cs_conn_feed(&c, "x", 1); /* still a 220 line: fine */
    cr_assert_eq(f.ends, 0);
    cs_conn_eof(&c, UV_EOF);
    cr_assert_eq(f.ends, 1);
    cr_assert_str_eq(f.why, "starttls: connection closed by peer");
    cs_conn_timeout(&c); /* after the end: nothing */
    cs_conn_feed(&c, "more", 4);
    cr_assert_eq(f.ends, 1);
    cr_assert_eq(f.got_len, 5);
    cs_conn_release(&c);

    c = conn_for(&f, &fake_probe);
    cs_conn_start(&c);
    cs_conn_feed(&c, "SSH-2.0", 7);
    cr_assert_eq(f.ends, 1);
    cr_assert_str_eq(f.why, "starttls: unexpected reply");

    c = conn_for(&f, &fake_probe);
    cs_conn_start(&c);
    cs_conn_timeout(&c);
    cr_assert_str_eq(f.why, "timeout during starttls");
    cs_conn_eof(&c, UV_ECONNRESET);
    cr_assert_eq(f.ends, 1);

    c = conn_for(&f, &fake_probe);
    cs_conn_start(&c);
    cs_conn_eof(&c, UV_ECONNRESET);
    cr_assert_str_eq(f.why, "starttls: connection reset by peer");

    const struct cs_probe refusing = {.name = "no", .start = fake_refuse, .on_read = fake_on_read};
    c = conn_for(&f, &refusing);
    cs_conn_start(&c);
    cr_assert_eq(f.ends, 1);
    cr_assert_str_eq(f.why, "handshake: cannot start TLS");
}

Test(probe, the_default_port_comes_from_the_probe)
{
    char *names[] = {"a.example", "b.example:8443"};
    struct cs_options o;
    cs_options_init(&o);
    o.targets = names;
    o.n_targets = 2;
    o.port = 0;
    struct cs_targets *ts = cs_targets_open(&o, NULL, 0);
    cr_assert_not_null(ts);
    struct cs_target t;
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_str_eq(t.host, "a.example");
    cr_assert_eq(t.port, 443, "tls's port");
    cs_target_free(&t);
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_eq(t.port, 8443);
    cs_target_free(&t);
    cs_targets_close(ts);

    o.port = 4443; /* -p wins */
    ts = cs_targets_open(&o, NULL, 0);
    cr_assert_eq(cs_targets_next(ts, &t), 1);
    cr_assert_eq(t.port, 4443);
    cs_target_free(&t);
    cs_targets_close(ts);
    o.targets = NULL;
    o.n_targets = 0;
    cs_options_free(&o);
}

/* Which probe a target gets: its URL scheme's, else --starttls's, else (auto)
   the probe registered at its port, else tls. */
Test(probe, chosen_per_target)
{
    const struct cs_probe *tls = cs_probe_by_name("tls"), *smtp = cs_probe_by_name("smtp"),
                          *sub = cs_probe_by_name("submission");
    cr_assert(tls && smtp && sub);
    cr_assert_eq(cs_probe_for(NULL, NULL, 25), tls, "no --starttls: TLS at once, port 25 too");
    cr_assert_eq(cs_probe_for("smtp", NULL, 443), smtp, "the scheme wins over the port");
    cr_assert_eq(cs_probe_for("tls", "smtp", 25), tls, "the scheme wins over --starttls");
    cr_assert_eq(cs_probe_for(NULL, "smtp", 443), smtp);
    cr_assert_eq(cs_probe_for(NULL, "auto", 25), smtp);
    cr_assert_eq(cs_probe_for(NULL, "auto", 587), sub);
    cr_assert_eq(cs_probe_for(NULL, "auto", 443), tls);
    cr_assert_eq(cs_probe_for(NULL, "auto", 8443), tls);
    cr_assert_eq(cs_probe_for("submission", "auto", 25), sub);
    /* every probe but tls is picked by auto at its own port */
    for (size_t i = 1; cs_probe_name(i); i++) {
        const struct cs_probe *p = cs_probe_by_name(cs_probe_name(i));
        cr_assert_eq(cs_probe_for(NULL, "auto", p->default_port), p, "%s", p->name);
    }
    cr_assert_eq(cs_probe_choose("auto"), tls, "auto's default port is tls's");
}
