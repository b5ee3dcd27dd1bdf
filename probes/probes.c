/* The probe registry (one line per protocol), and the calls through which
 * the engine drives a connection: before TLS starts they go to the probe's
 * preamble, after it to the shared TLS driver. */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "probes/probe.h"
#include "probes/starttls.h"

/* one line per probe, in registry order */
/* clang-format off */
// clang-format off
static const struct cs_probe *const probes[] = {
    &cs_probe_direct,
    &cs_probe_smtp,
    &cs_probe_submission,
    &cs_probe_imap,
    &cs_probe_pop3,
    &cs_probe_ftp,
    &cs_probe_ldap,
    &cs_probe_postgres,
    &cs_probe_mysql,
    &cs_probe_xmpp,
    &cs_probe_xmpp_server,
    &cs_probe_sieve,
};
// clang-format on
/* clang-format on */

const struct cs_probe *cs_probe_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        if (strcmp(probes[i]->name, name) == 0)
            return probes[i];
    return NULL;
}

const struct cs_probe *cs_probe_choose(const char *name)
{
    return cs_probe_by_name(name && strcmp(name, "auto") ? name : cs_probe_direct.name);
}

const struct cs_probe *cs_probe_for(const char *target_probe, const char *scan_probe, uint16_t port)
{
    const struct cs_probe *p = target_probe ? cs_probe_by_name(target_probe) : NULL;
    if (p)
        return p;
    if (scan_probe && strcmp(scan_probe, "auto") == 0) {
        for (size_t i = 1; i < sizeof(probes) / sizeof(probes[0]); i++)
            if (probes[i]->default_port == port)
                return probes[i];
        return &cs_probe_direct;
    }
    p = cs_probe_choose(scan_probe);
    return p ? p : &cs_probe_direct;
}

const char *cs_probe_name(size_t i)
{
    return i < sizeof(probes) / sizeof(probes[0]) ? probes[i]->name : NULL;
}

void cs_probe_list(FILE *out)
{
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        fprintf(out, "  %-11s port %-5u %s\n", probes[i]->name, (unsigned)probes[i]->default_port,
                probes[i]->helptext);
}

void cs_conn_end(struct cs_conn *conn, const char *error)
{
    if (conn->ended)
        return;
    conn->ended = true;
    conn->done(conn, error);
}

void cs_conn_start(struct cs_conn *conn)
{
    if (conn->probe->start(conn) < 0)
        cs_conn_end(conn, "handshake: cannot start TLS");
}

void cs_conn_feed(struct cs_conn *conn, const char *buf, size_t len)
{
    if (conn->ended)
        return;
    if (conn->tls)
        cs__tls_feed(conn, buf, len);
    else if (conn->probe->on_read(conn, buf, len) < 0)
        cs_conn_end(conn, "starttls: unexpected reply");
}

void cs_conn_eof(struct cs_conn *conn, int err)
{
    if (conn->ended)
        return;
    if (conn->tls) {
        cs__tls_eof(conn, err);
        return;
    }
    char why[128 + sizeof(conn->preamble->last)];
    int n = snprintf(why, sizeof(why), "starttls: %s",
                     err == 0 || err == UV_EOF ? "connection closed by peer" : uv_strerror(err));
    if (conn->preamble && conn->preamble->last[0])
        snprintf(why + n, sizeof(why) - (size_t)n, " (after \"%s\")", conn->preamble->last);
    cs_conn_end(conn, why);
}

void cs_conn_timeout(struct cs_conn *conn)
{
    if (conn->ended)
        return;
    if (conn->tls) {
        cs__tls_timeout(conn);
        return;
    }
    char why[64 + sizeof(conn->preamble->last)] = "timeout during starttls";
    if (conn->preamble && conn->preamble->last[0])
        snprintf(why, sizeof(why), "timeout during starttls (after \"%s\")", conn->preamble->last);
    cs_conn_end(conn, why);
}

void cs_conn_release(struct cs_conn *conn)
{
    if (conn->tls)
        cs__tls_free(conn);
    free(conn->preamble);
    conn->preamble = NULL;
}
