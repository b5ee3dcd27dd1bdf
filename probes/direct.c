/* Direct TLS: the handshake starts as soon as TCP is connected. */
#include "probes/probe.h"

static int direct_start(struct cs_conn *conn)
{
    return cs__tls_start(conn);
}

static int direct_on_read(struct cs_conn *conn, const char *buf, size_t len)
{
    (void)conn;
    (void)buf;
    (void)len;
    return -1; /* unreachable: TLS starts at once */
}

const struct cs_probe cs_probe_direct = {
    .name = "tls",
    .default_port = 443,
    .helptext = "TLS from the first byte (HTTPS, IMAPS, SMTPS, ...)",
    .start = direct_start,
    .on_read = direct_on_read,
};
