/* The result record's field table, its value accessor, and the record's
 * constructors, copies and destructors (the helpers are in util.c). */
#include "scanner/result.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const cs_field_names[CS_FIELD_COUNT] = {
#define X(id, name, kind, member) name,
    CS_FIELDS(X)
#undef X
};

static const char *const status_names[CS_STATUS_COUNT] = {
#define X(name) #name,
    CS_STATUS_MAP(X)
#undef X
};

const char *cs_status_name(enum cs_status s)
{
    return (unsigned)s < CS_STATUS_COUNT ? status_names[s] : "?";
}

int cs_status_parse(const char *s)
{
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        if (strcasecmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

int cs_status_urgency(enum cs_status s)
{
    static const int rank[CS_STATUS_COUNT] = {
        [CS_EXPIRED] = 0, [CS_CRITICAL] = 1, [CS_WARNING] = 2, [CS_ERROR] = 3, [CS_OK] = 4,
    };
    return (unsigned)s < CS_STATUS_COUNT ? rank[s] : 5;
}

static void set_str(struct cs_value *v, const char *s)
{
    v->s = s;
    v->null = s == NULL;
}

static void set_int(struct cs_value *v, int64_t i)
{
    v->i = i;
    v->null = i == CS_INT_NONE;
}

static void set_time(struct cs_value *v, int64_t t)
{
    set_int(v, t);
    if (!v->null) {
        cs_format_time(t, v->buf);
        v->s = v->buf;
    }
}

static void set_list(struct cs_value *v, const struct cs_strlist *l)
{
    v->list = l;
}

static void set_bool(struct cs_value *v, int b)
{
    v->i = b > 0;
    v->null = b < 0;
}

static void set_status(struct cs_value *v, enum cs_status s)
{
    v->s = cs_status_name(s);
}

#define SETTER_CS_FK_STR set_str
#define SETTER_CS_FK_INT set_int
#define SETTER_CS_FK_TIME set_time
#define SETTER_CS_FK_LIST(v, m) set_list(v, &(m))
#define SETTER_CS_FK_BOOL set_bool
#define SETTER_CS_FK_STATUS set_status

void cs_result_get(const struct cs_result *r, enum cs_field f, struct cs_value *v)
{
    memset(v, 0, sizeof(*v));
    switch (f) {
#define X(id, name, kind_, member)                                                                 \
    case CS_F_##id:                                                                                \
        v->kind = kind_;                                                                           \
        SETTER_##kind_(v, r->member);                                                              \
        break;
        CS_FIELDS(X)
#undef X
    default:
        v->null = true;
        break;
    }
}

void cs_result_init(struct cs_result *r)
{
    memset(r, 0, sizeof(*r));
    r->host = cs_strdup("");
    r->port = CS_INT_NONE;
    r->address = cs_strdup("");
    r->sni = cs_strdup("");
    r->status = CS_ERROR;
    r->reason = cs_strdup("");
    r->days_remaining = CS_INT_NONE;
    r->not_before = CS_INT_NONE;
    r->not_after = CS_INT_NONE;
    r->chain_not_after = CS_INT_NONE;
    r->hostname_match = -1;
    r->key_proven = -1;
    r->deployed = -1;
    r->elapsed_ms = CS_INT_NONE; /* no connection tried */
    r->error = cs_strdup("");
    r->ocsp_stapled = -1;
    r->revoked_at = CS_INT_NONE;
    r->revocation_this_update = CS_INT_NONE;
    r->revocation_next_update = CS_INT_NONE;
    r->first_seen = CS_INT_NONE;
}

const char *cs_change_name(enum cs_change c)
{
    static const char *const names[CS_CHANGE_COUNT] = {
#define X(id, name) name,
        CS_CHANGE_MAP(X)
#undef X
    };
    return (unsigned)c < CS_CHANGE_COUNT ? names[c] : "?";
}

static void copy_list(struct cs_strlist *d, const struct cs_strlist *s)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < s->n; i++)
        cs_strlist_add(d, s->v[i]);
}

#define COPY_CS_FK_STR(d, s) d = cs_strdup(s)
#define COPY_CS_FK_INT(d, s) d = s
#define COPY_CS_FK_TIME(d, s) d = s
#define COPY_CS_FK_BOOL(d, s) d = s
#define COPY_CS_FK_STATUS(d, s) d = s
#define COPY_CS_FK_LIST(d, s) copy_list(&(d), &(s))

void cs_chain_copy(struct cs_result *dst, const struct cs_result *src)
{
    cs_chain_free(dst);
    if (!src->chain_n)
        return;
    dst->chain = cs_xcalloc(src->chain_n, sizeof(*dst->chain));
    for (size_t i = 0; i < src->chain_n; i++) {
        const struct cs_chain_cert *s = &src->chain[i];
        dst->chain[i] = (struct cs_chain_cert){
            .subject = cs_strdup(s->subject),
            .issuer = cs_strdup(s->issuer),
            .serial = cs_strdup(s->serial),
            .sha256 = cs_strdup(s->sha256),
            .key = cs_strdup(s->key),
            .not_before = s->not_before,
            .not_after = s->not_after,
        };
    }
    dst->chain_n = src->chain_n;
}

void cs_chain_free(struct cs_result *r)
{
    for (size_t i = 0; i < r->chain_n; i++) {
        struct cs_chain_cert *c = &r->chain[i];
        free(c->subject);
        free(c->issuer);
        free(c->serial);
        free(c->sha256);
        free(c->key);
    }
    free(r->chain);
    r->chain = NULL;
    r->chain_n = 0;
}

void cs_labels_add(struct cs_labels *l, const char *name, const char *value)
{
    l->name = cs_xrealloc(l->name, (l->n + 1) * sizeof(*l->name));
    l->value = cs_xrealloc(l->value, (l->n + 1) * sizeof(*l->value));
    l->name[l->n] = cs_strdup(name);
    l->value[l->n] = cs_strdup(value);
    l->n++;
}

void cs_labels_copy(struct cs_labels *dst, const struct cs_labels *src)
{
    cs_labels_free(dst);
    for (size_t i = 0; i < src->n; i++)
        cs_labels_add(dst, src->name[i], src->value[i]);
}

const char *cs_labels_get(const struct cs_labels *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->name[i], name) == 0)
            return l->value[i];
    return NULL;
}

void cs_labels_free(struct cs_labels *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->name[i]);
        free(l->value[i]);
    }
    free(l->name);
    free(l->value);
    memset(l, 0, sizeof(*l));
}

void cs_result_copy(struct cs_result *dst, const struct cs_result *src)
{
#define X(id, name, kind, member) COPY_##kind(dst->member, src->member);
    CS_FIELDS(X)
#undef X
    dst->chain = NULL;
    dst->chain_n = 0;
    cs_chain_copy(dst, src);
    memset(&dst->labels, 0, sizeof(dst->labels));
    cs_labels_copy(&dst->labels, &src->labels);
}

#define FREE_CS_FK_STR(m) (free(m), (m) = NULL)
#define FREE_CS_FK_INT(m) (void)0
#define FREE_CS_FK_TIME(m) (void)0
#define FREE_CS_FK_BOOL(m) (void)0
#define FREE_CS_FK_STATUS(m) (void)0
#define FREE_CS_FK_LIST(m) cs_strlist_free(&(m))

void cs_result_free(struct cs_result *r)
{
#define X(id, name, kind, member) FREE_##kind(r->member);
    CS_FIELDS(X)
#undef X
    cs_chain_free(r);
    cs_labels_free(&r->labels);
}
