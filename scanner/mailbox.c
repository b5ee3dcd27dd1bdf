/* The mailbox (see mailbox.h): a locked singly linked FIFO. */
#include "scanner/mailbox.h"

int cs_mailbox_init(struct cs_mailbox *mb, uv_async_t *wake)
{
    mb->head = NULL;
    mb->tail = &mb->head;
    mb->wake = wake;
    return uv_mutex_init(&mb->lock);
}

void cs_mailbox_destroy(struct cs_mailbox *mb)
{
    uv_mutex_destroy(&mb->lock);
}

void cs_mailbox_post(struct cs_mailbox *mb, struct cs_mail *m)
{
    m->next = NULL;
    uv_mutex_lock(&mb->lock);
    *mb->tail = m;
    mb->tail = &m->next;
    uv_mutex_unlock(&mb->lock);
    uv_async_send(mb->wake);
}

struct cs_mail *cs_mailbox_take(struct cs_mailbox *mb)
{
    uv_mutex_lock(&mb->lock);
    struct cs_mail *all = mb->head;
    mb->head = NULL;
    mb->tail = &mb->head;
    uv_mutex_unlock(&mb->lock);
    return all;
}
