/* The probe registry (one line per protocol), and the calls through which
 * the engine drives a connection: before TLS starts they go to the probe's
 * preamble, after it to the shared TLS driver. */
#include <string.h>

#include <uv.h>

#include "probes/probe.h"

static const struct cs_probe *const probes[] = {
    &cs_probe_direct,
};

const struct cs_probe *cs_probe_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        if (strcmp(probes[i]->name, name) == 0)
            return probes[i];
    return NULL;
}

const struct cs_probe *cs_probe_choose(const char *name)
{
    return cs_probe_by_name(name ? name : cs_probe_direct.name);
}

void cs_probe_list(FILE *out)
{
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        fprintf(out, "  %-8s port %-5u %s\n", probes[i]->name, (unsigned)probes[i]->default_port,
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
    if (conn->ssl)
        cs__tls_feed(conn, buf, len);
    else if (conn->probe->on_read(conn, buf, len) < 0)
        cs_conn_end(conn, "starttls: unexpected reply");
}

void cs_conn_eof(struct cs_conn *conn, int err)
{
    if (conn->ended)
        return;
    if (conn->ssl) {
        cs__tls_eof(conn, err);
        return;
    }
    char why[128];
    snprintf(why, sizeof(why), "starttls: %s",
             err == 0 || err == UV_EOF ? "connection closed by peer" : uv_strerror(err));
    cs_conn_end(conn, why);
}

void cs_conn_timeout(struct cs_conn *conn)
{
    if (conn->ended)
        return;
    if (conn->ssl)
        cs__tls_timeout(conn);
    else
        cs_conn_end(conn, "timeout during starttls");
}

void cs_conn_release(struct cs_conn *conn)
{
    if (conn->ssl)
        cs__tls_free(conn);
}
