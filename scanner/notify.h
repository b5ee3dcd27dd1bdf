/* Being told after the scan: a JSON summary POSTed to a webhook (--notify)
 * and the same summary as a plain-text mail handed to the local MTA through
 * the sendmail -t interface (--mail-to).  The notifier sees every record as
 * the reports do and keeps only a bounded summary: the counts, the most
 * urgent problems and, when records carry a `change` field (a scan with
 * history), the most notable changes.  Nothing here prints: failures come
 * back as a code and a one-line reason. */
#ifndef CS_NOTIFY_H
#define CS_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "scanner/result.h"

/* --notify-on */
enum cs_notify_on {
    CS_NOTIFY_PROBLEMS = 0, /* an endpoint that is not OK (the default) */
    CS_NOTIFY_CHANGES,      /* an endpoint whose change is not "same" */
    CS_NOTIFY_ALWAYS,       /* every scan */
};

/* Problems and changes listed in the JSON and the mail at most (the counts
   cover all); the chat text lists fewer. */
#define CS_NOTIFY_MAX_LISTED 100
#define CS_NOTIFY_MAX_TEXT_LINES 20
/* The webhook's answer is read up to this many bytes, then the transfer is
   abandoned; connect and whole-request deadlines. */
#define CS_NOTIFY_MAX_ANSWER ((size_t)64 << 10)
#define CS_NOTIFY_CONNECT_TIMEOUT_MS 5000
#define CS_NOTIFY_TIMEOUT_MS 15000
/* sendmail must have taken the message and exited by then. */
#define CS_NOTIFY_SENDMAIL_TIMEOUT_MS 60000
#define CS_NOTIFY_SENDMAIL "/usr/sbin/sendmail"

struct cs_notify;

struct cs_notify *cs_notify_new(void);
/* Takes one record into the summary; never called by two threads at once. */
void cs_notify_record(struct cs_notify *n, const struct cs_result *r);
/* Whether `on` asks for a notification of what was seen. */
bool cs_notify_due(const struct cs_notify *n, enum cs_notify_on on);
/* The JSON summary (a new string, with a "text" field for chat webhooks). */
char *cs_notify_json(const struct cs_notify *n, const struct cs_scan_info *info,
                     const struct cs_summary *s);
/* POSTs the JSON summary to url (http or https).  0, or a negative code
   with the reason in err (the URL is named by scheme, host and port only:
   its path is often the webhook's secret). */
int cs_notify_post(const struct cs_notify *n, const char *url, const struct cs_scan_info *info,
                   const struct cs_summary *s, char *err, size_t errlen);
/* Hands the summary as a mail to the n_to addresses to `sendmail -t -i`
   (sendmail: its path; NULL for CS_NOTIFY_SENDMAIL).  0 once sendmail
   exited 0, or a negative code with the reason in err. */
int cs_notify_mail(const struct cs_notify *n, const char *sendmail, char *const *to, size_t n_to,
                   const struct cs_scan_info *info, const struct cs_summary *s, char *err,
                   size_t errlen);
void cs_notify_free(struct cs_notify *n);

/* For the command line: NULL if url is a webhook URL certsweep takes
   (http:// or https://, as libcurl parses it), else why not ("not ..."). */
const char *cs_notify_check_url(const char *url);
/* NULL if addr is a plain addr-spec (dot-atom local part, host name domain),
   else why not ("not ...").  Nothing else can reach a mail header. */
const char *cs_notify_check_addr(const char *addr);

#endif
