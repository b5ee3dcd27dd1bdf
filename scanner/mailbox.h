/* A mailbox between threads: any thread posts, one loop takes.  Letters are
 * intrusive (a struct cs_mail inside whatever is sent), so posting costs a
 * lock and a uv_async_send, never an allocation; the loop takes every
 * letter at once, oldest first.  The engine's control loop has one (names
 * to resolve, records to check for revocation), and so has each worker
 * (answered names, answered checks). */
#ifndef CS_MAILBOX_H
#define CS_MAILBOX_H

#include <stddef.h>

#include <uv.h>

struct cs_mail {
    struct cs_mail *next;
    int kind; /* the receiver's tag: what the letter is inside */
};

struct cs_mailbox {
    uv_mutex_t lock;
    struct cs_mail *head, **tail;
    uv_async_t *wake; /* sent after each post; runs the taker */
};

/* The letter's container: CS_MAIL_OF(m, struct dns_req, mail). */
#define CS_MAIL_OF(m, type, member) ((type *)(void *)((char *)(m)-offsetof(type, member)))

/* 0, or a UV_E* code if the lock cannot be made.  wake stays the caller's. */
int cs_mailbox_init(struct cs_mailbox *mb, uv_async_t *wake);
void cs_mailbox_destroy(struct cs_mailbox *mb);
/* Appends m and wakes the taker.  Any thread. */
void cs_mailbox_post(struct cs_mailbox *mb, struct cs_mail *m);
/* Every letter posted so far, oldest first (linked by next), or NULL. */
struct cs_mail *cs_mailbox_take(struct cs_mailbox *mb);

#endif
