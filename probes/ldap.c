/* LDAP StartTLS (RFC 4511 4.14, RFC 4513 3): the client speaks first, the
 * StartTLS ExtendedRequest as message 1; the server answers with an
 * ExtendedResponse whose resultCode 0 is the go-ahead.  The answer is BER,
 * read here with lengths checked against what holds them: short and long
 * forms up to 4 length octets, never an indefinite length, and a whole
 * message within CS_PREAMBLE_LINE_MAX, so a length a server claims is never
 * waited for past that. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "probes/starttls.h"

#define TAG_SEQUENCE 0x30
#define TAG_INTEGER 0x02
#define TAG_ENUMERATED 0x0a
#define TAG_OCTET_STRING 0x04
#define TAG_EXTENDED_RESPONSE 0x78 /* [APPLICATION 24], constructed */

/* LDAPMessage { messageID 1, extendedReq [APPLICATION 23] { requestName [0]
   "1.3.6.1.4.1.1466.20037" } }, in DER. */
static const unsigned char starttls_request[] = {
    0x30, 0x1d,       /* LDAPMessage, 29 bytes */
    0x02, 0x01, 0x01, /* messageID 1 */
    0x77, 0x18,       /* ExtendedRequest, 24 bytes */
    0x80, 0x16,       /* requestName, 22 bytes */
    '1',  '.',  '3',  '.', '6', '.', '1', '.', '4', '.', '1',
    '.',  '1',  '4',  '6', '6', '.', '2', '0', '0', '3', '7',
};

/* RFC 4511 4.1.9 */
static const struct {
    unsigned code;
    const char *name;
} result_names[] = {
    {0, "success"},
    {1, "operationsError"},
    {2, "protocolError"},
    {3, "timeLimitExceeded"},
    {4, "sizeLimitExceeded"},
    {5, "compareFalse"},
    {6, "compareTrue"},
    {7, "authMethodNotSupported"},
    {8, "strongerAuthRequired"},
    {10, "referral"},
    {11, "adminLimitExceeded"},
    {12, "unavailableCriticalExtension"},
    {13, "confidentialityRequired"},
    {14, "saslBindInProgress"},
    {16, "noSuchAttribute"},
    {17, "undefinedAttributeType"},
    {18, "inappropriateMatching"},
    {19, "constraintViolation"},
    {20, "attributeOrValueExists"},
    {21, "invalidAttributeSyntax"},
    {32, "noSuchObject"},
    {33, "aliasProblem"},
    {34, "invalidDNSyntax"},
    {36, "aliasDereferencingProblem"},
    {48, "inappropriateAuthentication"},
    {49, "invalidCredentials"},
    {50, "insufficientAccessRights"},
    {51, "busy"},
    {52, "unavailable"},
    {53, "unwillingToPerform"},
    {54, "loopDetect"},
    {64, "namingViolation"},
    {65, "objectClassViolation"},
    {66, "notAllowedOnNonLeaf"},
    {67, "notAllowedOnRDN"},
    {68, "entryAlreadyExists"},
    {69, "objectClassModsProhibited"},
    {71, "affectsMultipleDSAs"},
    {80, "other"},
};

/* Bytes of a BER element's contents still to be read. */
struct slice {
    const unsigned char *p;
    size_t len;
};

/* The header of the BER element at d[0..len): its tag (one octet: the
   high-tag-number form is not LDAP's), the length of its contents and of the
   header.  1, 0 when more bytes are needed, or -1 with *why. */
static int ber_header(const unsigned char *d, size_t len, unsigned *tag, size_t *clen, size_t *hlen,
                      const char **why)
{
    if (len < 2)
        return 0;
    if ((d[0] & 0x1f) == 0x1f) {
        *why = "multi-octet tag";
        return -1;
    }
    *tag = d[0];
    if (d[1] < 0x80) {
        *clen = d[1];
        *hlen = 2;
        return 1;
    }
    size_t n = d[1] & 0x7f;
    if (n == 0) {
        *why = "indefinite length";
        return -1;
    }
    if (n > 4) {
        *why = "length of more than 4 octets";
        return -1;
    }
    if (len < 2 + n)
        return 0;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | d[2 + i];
    *clen = v;
    *hlen = 2 + n;
    return 1;
}

/* Takes the next element of s (which holds a whole message): its tag and
   its contents, which must fit in s.  0, or -1 with *why. */
static int ber_next(struct slice *s, unsigned *tag, struct slice *out, const char **why)
{
    size_t clen, hlen;
    int rc = ber_header(s->p, s->len, tag, &clen, &hlen, why);
    if (rc == 0)
        *why = "element cut short";
    if (rc <= 0)
        return -1;
    if (clen > s->len - hlen) {
        *why = "element longer than what holds it";
        return -1;
    }
    out->p = s->p + hlen;
    out->len = clen;
    s->p += hlen + clen;
    s->len -= hlen + clen;
    return 0;
}

/* A non-negative INTEGER or ENUMERATED of at most 4 octets (messageID and
   resultCode both fit 0..2^31-1): its value, or -1. */
static long ber_uint(struct slice v)
{
    if (v.len < 1 || v.len > 4 || (v.p[0] & 0x80))
        return -1;
    long n = 0;
    for (size_t i = 0; i < v.len; i++)
        n = n << 8 | v.p[i];
    return n;
}

/* What a result is called in a reason: "name: diagnosticMessage", or
   "number: ..." for a code RFC 4511 does not name. */
static void result_text(unsigned code, struct slice diag, char *out, size_t outlen)
{
    const char *name = NULL;
    for (size_t i = 0; i < sizeof(result_names) / sizeof(result_names[0]); i++)
        if (result_names[i].code == code)
            name = result_names[i].name;
    int n = name ? snprintf(out, outlen, "%s", name) : snprintf(out, outlen, "%u", code);
    size_t room = outlen - (size_t)n;
    if (diag.len > 0 && room > 3) {
        size_t take = diag.len < room - 3 ? diag.len : room - 3;
        memcpy(out + n, ": ", 2);
        memcpy(out + n + 2, diag.p, take);
        out[n + 2 + take] = '\0';
    }
}

/* A whole LDAPMessage's contents: ends the connection, or says go.  Returns
   0 after go, -1 once ended. */
static int on_message(struct cs_conn *conn, struct slice m)
{
    struct cs_preamble *p = conn->preamble;
    struct slice id, op, code, dn, diag;
    unsigned tag;
    const char *why = NULL;
    if (ber_next(&m, &tag, &id, &why) < 0 || tag != TAG_INTEGER) {
        cs_preamble_fail(conn, "malformed LDAP message (messageID: %s)",
                         why ? why : "not an INTEGER");
        return -1;
    }
    long msgid = ber_uint(id);
    if (msgid < 0) {
        cs_preamble_fail(conn, "malformed LDAP message (messageID out of range)");
        return -1;
    }
    if (ber_next(&m, &tag, &op, &why) < 0) {
        cs_preamble_fail(conn, "malformed LDAP message (protocolOp: %s)", why);
        return -1;
    }
    /* 0 is an unsolicited notification (a Notice of Disconnection) */
    if (msgid != 1 && msgid != 0) {
        cs_preamble_fail(conn, "reply to message %ld, not to StartTLS (message 1)", msgid);
        return -1;
    }
    if (tag != TAG_EXTENDED_RESPONSE) {
        cs_preamble_fail(conn, "not an ExtendedResponse (protocolOp tag 0x%02X)", tag);
        return -1;
    }
    long result = -1;
    if (ber_next(&op, &tag, &code, &why) < 0 || tag != TAG_ENUMERATED ||
        (result = ber_uint(code)) < 0 || ber_next(&op, &tag, &dn, &why) < 0 ||
        tag != TAG_OCTET_STRING || ber_next(&op, &tag, &diag, &why) < 0 ||
        tag != TAG_OCTET_STRING) {
        cs_preamble_fail(conn, "malformed LDAP message (ExtendedResponse: %s)",
                         why          ? why
                         : result < 0 ? "bad resultCode"
                                      : "bad LDAPResult");
        return -1;
    }
    char text[CS_PREAMBLE_QUOTE * 2];
    result_text((unsigned)result, diag, text, sizeof(text));
    cs_preamble_quote(text, strlen(text), CS_PREAMBLE_QUOTE, p->last, sizeof(p->last));
    if (msgid == 1 && result == 0)
        return cs_preamble_go(conn) > 0 ? 0 : -1;
    cs_preamble_refused(conn, text, strlen(text));
    return -1;
}

/* BER was expected: a TLS record (a handshake, or the alert a TLS server
   sends back for plaintext) means the port speaks TLS at once. */
static bool looks_like_tls(const unsigned char *d)
{
    return (d[0] == 0x16 || d[0] == 0x15) && d[1] == 0x03;
}

static long on_bytes(struct cs_conn *conn, const unsigned char *d, size_t len)
{
    if (len < 2)
        return 0; /* a message is never shorter; TLS is told by two bytes */
    if (looks_like_tls(d)) {
        cs_preamble_fail(conn, "server speaks TLS at once, not this protocol (use its "
                               "implicit-TLS port or scheme, or leave out --starttls)");
        return -1;
    }
    if (d[0] != TAG_SEQUENCE) {
        cs_preamble_fail(conn, "not an LDAP message (first byte 0x%02X)", d[0]);
        return -1;
    }
    unsigned tag;
    size_t clen, hlen;
    const char *why;
    int rc = ber_header(d, len, &tag, &clen, &hlen, &why);
    if (rc < 0) {
        cs_preamble_fail(conn, "malformed LDAP message (%s)", why);
        return -1;
    }
    if (rc == 0)
        return 0;
    if (clen > CS_PREAMBLE_LINE_MAX - hlen) {
        cs_preamble_fail(conn, "server announces an LDAP message of %zu bytes, more than %d",
                         clen + hlen, CS_PREAMBLE_LINE_MAX);
        return -1;
    }
    if (len < hlen + clen)
        return 0;
    if (on_message(conn, (struct slice){d + hlen, clen}) < 0)
        return -1;
    return (long)(hlen + clen);
}

static int ldap_start(struct cs_conn *conn)
{
    cs_preamble_open(conn);
    /* the client speaks first; a send that fails has ended the connection */
    cs_preamble_send(conn, starttls_request, sizeof(starttls_request));
    return 0;
}

CS_PREAMBLE_READER(ldap_read, cs_preamble_bytes, on_bytes)

const struct cs_probe cs_probe_ldap = {
    .name = "ldap",
    .default_port = 389,
    .helptext = "LDAP, the StartTLS extended operation (ldap://)",
    .start = ldap_start,
    .on_read = ldap_read,
};
