/* HTML report: one self-contained page for people to open in a browser (or
 * attach to a ticket).  No external asset of any kind: the style and the
 * small sorting script are inline, the calendar is inline SVG, and a
 * Content-Security-Policy allows nothing else (the two inline blocks by
 * their SHA-256, computed from the constants below, so the policy cannot
 * drift from them).  Nothing needs JavaScript to be read; with it the table
 * sorts by a click on a heading (or by #sort=COLUMN / #sort=-COLUMN in the
 * address), on numeric keys the page carries in data-sort attributes.
 *
 * The page has a header (when the scan ran, its "now", the version, the
 * counts by status), an expiry calendar of the next HTML_DAYS days (a mark
 * per certificate on the UTC day of its notAfter, stacked, coloured by
 * status, each with a <title> naming it), then the table, most urgent
 * first.  The calendar needs every row, so each record is kept as a small
 * row (at most HTML_TEXT_MAX bytes per text, so well under 2 KiB a row) and
 * everything is written at close.
 *
 * Every text from a certificate, a target or a reason goes through
 * html_text(), which escapes & < > " ' (the same in text and attribute
 * context) and shows control characters, bidi controls and invalid UTF-8 as
 * visible \xNN / \uNNNN; record text never goes inside the script or the
 * style. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "report/order.h"

/* A kept text is cut to this many bytes (at a character boundary, with "…"
   after it): a table cell, not a document. */
#define HTML_TEXT_MAX 256
/* Hard cap of one escaped text (6 output bytes per input byte at most). */
#define HTML_CELL_BYTES ((size_t)16 << 10)

/* The calendar: HTML_DAYS columns of HTML_DAY_W user units after a left
   margin of HTML_X0; marks stack upwards from the baseline, at most
   HTML_STACK_MAX on a day (the rest are counted in a "+N" above them). */
#define HTML_DAYS 90
#define HTML_DAY_W 12
#define HTML_X0 48
#define HTML_MARK_W 8
#define HTML_MARK_H 9
#define HTML_MARK_PITCH 11
#define HTML_STACK_MAX 12
#define HTML_TOP 34
#define HTML_BASE (HTML_TOP + HTML_STACK_MAX * HTML_MARK_PITCH + 4)
#define HTML_SVG_W (HTML_X0 + HTML_DAYS * HTML_DAY_W + 48) /* room for a last month's name */
#define HTML_SVG_H (HTML_BASE + 24)
#define HTML_DAY_SECS 86400

static const char html_style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2127;"
    "background:#f6f7f9;margin:0;padding:24px 28px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:14px 0 10px}"
    ".meta{color:#59616b;margin:0 0 14px}.meta b{color:#1d2127;font-weight:600}"
    ".partial{color:#b3261e;font-weight:600}"
    ".summary{display:flex;flex-wrap:wrap;gap:10px;list-style:none;margin:0;padding:0}"
    ".summary li{background:#fff;border:1px solid #dde1e6;border-left:6px solid;"
    "border-radius:6px;padding:6px 14px;min-width:92px}"
    ".summary b{display:block;font-size:22px}"
    ".summary .zero{opacity:.45}"
    "section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:4px 18px 14px;"
    "margin-top:18px}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font:10px system-ui,sans-serif;fill:#59616b}"
    "svg .month text,svg .today{fill:#1d2127;font-weight:600}"
    ".grid-day{stroke:#eef0f3}.grid-week{stroke:#d5d9df}.grid-month{stroke:#8a939e}"
    ".axis{stroke:#1d2127}.more{font-weight:600;fill:#1d2127}"
    ".notes{color:#59616b;margin:6px 0 0}.notes b{color:#1d2127}.notes #cal-expired{color:#b71c1c}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #eceef1;vertical-align:top}"
    "th{background:#f0f2f5;font-weight:600;white-space:nowrap;position:sticky;top:0}"
    "th button{font:inherit;background:none;border:0;padding:0;cursor:pointer;color:inherit}"
    "th[aria-sort=ascending] button::after{content:' \\25B2'}"
    "th[aria-sort=descending] button::after{content:' \\25BC'}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "td.host{overflow-wrap:break-word}td.reason,td.issuer{overflow-wrap:anywhere}"
    "td.date{white-space:nowrap}"
    ".badge{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-size:12px;"
    "font-weight:600;letter-spacing:.02em}"
    "tbody tr:hover{background:#f7f9fc}"
    ".hint{color:#59616b;font-size:12px;margin:0 0 6px}"
    "footer{color:#8a939e;font-size:12px;margin-top:16px}"
    ".summary .s-OK{border-left-color:#2e7d32}.summary .s-WARNING{border-left-color:#e0a100}"
    ".summary .s-CRITICAL{border-left-color:#e65100}"
    ".summary .s-EXPIRED{border-left-color:#b71c1c}.summary .s-ERROR{border-left-color:#6a1b9a}"
    ".badge.s-OK,rect.s-OK{background:#2e7d32;fill:#2e7d32}"
    ".badge.s-WARNING,rect.s-WARNING{background:#e0a100;fill:#e0a100}"
    ".badge.s-CRITICAL,rect.s-CRITICAL{background:#e65100;fill:#e65100}"
    ".badge.s-EXPIRED,rect.s-EXPIRED{background:#b71c1c;fill:#b71c1c}"
    ".badge.s-ERROR,rect.s-ERROR{background:#6a1b9a;fill:#6a1b9a}"
    "@media print{body{background:#fff;padding:0}th{position:static}.hint{display:none}}";

/* Sorts the table on a click of a heading (again: the other way), or on
   load by #sort=COLUMN or #sort=-COLUMN.  Numeric columns (data-num) sort
   by their cells' data-sort, missing values last; the others by text. */
static const char html_script[] =
    "(function(){'use strict';"
    "var t=document.getElementById('endpoints');if(!t||!t.tBodies.length)return;"
    "var hs=t.tHead.rows[0].cells,b=t.tBodies[0];"
    "function key(r,i,num){var c=r.cells[i],v=c.getAttribute('data-sort');"
    "if(num)return v===null||v===''?null:Number(v);"
    "return(v===null?c.textContent:v).toLowerCase();}"
    "function cmp(a,c){if(a===c)return 0;if(a===null)return 1;if(c===null)return -1;"
    "return a<c?-1:1;}"
    "function sort(i,dir){var num=hs[i].hasAttribute('data-num');"
    "var rows=Array.prototype.slice.call(b.rows);"
    "rows.sort(function(x,y){var a=key(x,i,num),c=key(y,i,num);"
    "if(a===null||c===null)return cmp(a,c);return dir*cmp(a,c);});"
    "rows.forEach(function(r){b.appendChild(r);});"
    "for(var k=0;k<hs.length;k++)hs[k].removeAttribute('aria-sort');"
    "hs[i].setAttribute('aria-sort',dir>0?'ascending':'descending');}"
    "Array.prototype.forEach.call(hs,function(h,i){var btn=document.createElement('button');"
    "btn.type='button';while(h.firstChild)btn.appendChild(h.firstChild);h.appendChild(btn);"
    "btn.addEventListener('click',function(){"
    "sort(i,h.getAttribute('aria-sort')==='ascending'?-1:1);});});"
    "var hint=document.getElementById('sort-hint');if(hint)hint.hidden=false;"
    "var m=/^#sort=(-?)([a-z_]+)$/.exec(location.hash);"
    "if(m)Array.prototype.forEach.call(hs,function(h,i){"
    "if(h.getAttribute('data-col')===m[2])sort(i,m[1]?-1:1);});"
    "})();";

struct html_row {
    enum cs_status status;
    int64_t port;            /* CS_INT_NONE when absent */
    int64_t days;            /* days_remaining, CS_INT_NONE when absent */
    int64_t not_after;       /* CS_INT_NONE when absent */
    char *host;              /* each text cut to HTML_TEXT_MAX bytes */
    char *subject;           /* NULL when absent */
    char *issuer;            /* the issuer's CN, or the whole issuer; NULL when absent */
    char *issuer_dn;         /* the whole issuer (the cell's tooltip) */
    char *revocation;        /* NULL when absent */
    char *reason;            /* reason, or error when reason is "" */
    struct cs_order_key key; /* the text table's urgency order (report/order.h) */
};

struct html_state {
    struct html_row *rows;
    size_t n, cap;
    struct cs_buf cell; /* one escaped text, reused */
    bool revocation;    /* show the Revocation column */
    int err;            /* the first failure (CS_ETOOBIG), reported by close */
};

static void html_append(struct cs_buf *b, const char *s, size_t n, int *err)
{
    int rc = cs_buf_append(b, s, n);
    if (rc < 0 && *err == 0)
        *err = rc;
}

/* Code points shown as an escape rather than acted on: C0 (newlines and
   tabs too: a cell is one line), DEL, C1, and the bidi embedding, override
   and isolate controls that would reorder the text around them. */
static bool html_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The entity for a character with a meaning in HTML text or in a quoted
   attribute value, or NULL. */
static const char *html_entity(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    }
    return NULL;
}

/* Appends s to b, safe in element text and in a quoted attribute value. */
static void html_text(struct cs_buf *b, const char *s, int *err)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p != '\0') {
        uint32_t cp = 0;
        size_t len = cs_utf8_decode(p, &cp);
        char esc[16];
        const char *ent = html_entity(*p);
        if (ent != NULL) {
            html_append(b, ent, strlen(ent), err);
            len = 1;
        } else if (len == 0 || (cp < 0x80 && html_is_control(cp))) {
            snprintf(esc, sizeof(esc), "\\x%02X", *p);
            html_append(b, esc, strlen(esc), err);
            len = 1;
        } else if (html_is_control(cp)) {
            snprintf(esc, sizeof(esc), "\\u%04" PRIX32, cp);
            html_append(b, esc, strlen(esc), err);
        } else {
            html_append(b, (const char *)p, len, err);
        }
        p += len;
    }
}

/* Writes s escaped (through the state's cell buffer). */
static void html_put(FILE *out, struct html_state *st, const char *s)
{
    cs_buf_reset(&st->cell);
    html_text(&st->cell, s, &st->err);
    if (st->err == 0 && st->cell.len > 0)
        fwrite(st->cell.p, 1, st->cell.len, out);
}

/* A copy of s cut to HTML_TEXT_MAX bytes at a character boundary, "…"
   marking the cut; NULL for NULL. */
static char *html_clip(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    if (n <= HTML_TEXT_MAX)
        return cs_strdup(s);
    n = HTML_TEXT_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* not inside a UTF-8 sequence */
    char *out = cs_xmalloc(n + 4);
    memcpy(out, s, n);
    memcpy(out + n, "\xE2\x80\xA6", 4);
    return out;
}

/* host:port, escaped ("[v6]:port"). */
static void html_put_endpoint(FILE *out, struct html_state *st, const struct html_row *r)
{
    bool v6 = cs_is_ipv6_literal(r->host);
    if (v6)
        fputc('[', out);
    html_put(out, st, r->host);
    if (v6)
        fputc(']', out);
    if (r->port != CS_INT_NONE)
        fprintf(out, ":%" PRId64, r->port);
}

/* The UTC calendar day of t (days since the epoch, rounded down). */
static int64_t html_day(int64_t t)
{
    int64_t q = t / HTML_DAY_SECS; /* no overflow at INT64_MIN, unlike negating t */
    return t % HTML_DAY_SECS < 0 ? q - 1 : q;
}

/* "sha256-BASE64" of s, for the policy. */
static void html_csp_hash(const char *s, char out[64])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    strcpy(out, "sha256-");
    if (EVP_Digest(s, strlen(s), md, &md_len, EVP_sha256(), NULL) != 1) {
        out[0] = '\0'; /* no hash: the policy then allows no inline block at all */
        return;
    }
    EVP_EncodeBlock((unsigned char *)out + 7, md, (int)md_len);
}

static const char *html_status(enum cs_status s)
{
    return (unsigned)s < CS_STATUS_COUNT ? cs_status_name(s) : "ERROR";
}

static void html_put_head(FILE *out, const struct cs_scan_info *info)
{
    char style_hash[64], script_hash[64], started[24];
    html_csp_hash(html_style, style_hash);
    html_csp_hash(html_script, script_hash);
    if (info->started_at == CS_INT_NONE)
        strcpy(started, "(merged)");
    else
        cs_format_time(info->started_at, started);
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src '%s'; script-src '%s'; base-uri 'none'; form-action 'none'\">\n"
            "<meta name=\"referrer\" content=\"no-referrer\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>certsweep report %s</title>\n<style>%s</style>\n</head>\n",
            style_hash, script_hash, started, html_style);
}

/* A scan-wide time, or "unknown" (merged reports that did not carry it). */
static void html_put_time(FILE *out, const char *id, int64_t t)
{
    char when[24];
    if (t == CS_INT_NONE) {
        fprintf(out, "<b id=\"%s\">unknown</b>", id);
        return;
    }
    cs_format_time(t, when);
    fprintf(out, "<b><time id=\"%s\" datetime=\"%s\">%s</time></b>", id, when, when);
}

static void html_put_header(FILE *out, struct html_state *st, const struct cs_scan_info *info,
                            const struct cs_summary *s)
{
    uint64_t total = 0;
    for (int i = 0; i < CS_STATUS_COUNT; i++)
        total += s->count[i];
    fputs("<body>\n<header>\n<h1>Certificate expiry report</h1>\n<p class=\"meta\">Scanned ", out);
    html_put_time(out, "started", info->started_at);
    fputs(", classified as of ", out);
    html_put_time(out, "now", info->now);
    fputs(" by certsweep ", out);
    html_put(out, st, info->version ? info->version : "");
    fprintf(out, ": <b id=\"total\">%" PRIu64 "</b> endpoint%s", total, total == 1 ? "" : "s");
    if (!s->complete)
        fputs(" <span class=\"partial\">(partial: the scan was interrupted)</span>", out);
    fputs(".</p>\n<ul class=\"summary\" id=\"summary\">\n", out);
    static const enum cs_status order[] = {CS_EXPIRED, CS_CRITICAL, CS_WARNING, CS_ERROR, CS_OK};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *name = cs_status_name(order[i]);
        uint64_t n = s->count[order[i]];
        fprintf(out, "<li class=\"s-%s%s\" data-status=\"%s\"><b>%" PRIu64 "</b>%s</li>\n", name,
                n == 0 ? " zero" : "", name, n, name);
    }
    fputs("</ul>\n</header>\n", out);
}

/* The gridlines and labels: a faint line per day, a stronger one on
   Mondays (labelled with the day of the month), the strongest on the first
   of a month (labelled with the month). */
static void html_put_grid(FILE *out, int64_t first_day)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    fputs("<g class=\"grid\">\n", out);
    for (int i = 0; i <= HTML_DAYS; i++) {
        int64_t day = first_day + i;
        char date[24];
        cs_format_time(day * HTML_DAY_SECS, date);
        int mday = atoi(date + 8), mon = atoi(date + 5), year = atoi(date);
        int64_t weekday = ((day % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday: 0 is Monday */
        int x = HTML_X0 + i * HTML_DAY_W;
        const char *cls = mday == 1 ? "grid-month" : weekday == 0 ? "grid-week" : "grid-day";
        fprintf(out, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", cls, x,
                mday == 1 ? HTML_TOP - 16 : HTML_TOP, x, HTML_BASE);
        if (i == HTML_DAYS)
            break;
        if (mday == 1 || i == 0)
            fprintf(out, "<g class=\"month\"><text x=\"%d\" y=\"%d\">%s %d</text></g>\n", x + 3,
                    HTML_TOP - 8, months[(mon - 1) % 12], year);
        if (weekday == 0)
            fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x,
                    HTML_BASE + 14, mday);
    }
    fprintf(out,
            "<text class=\"today\" x=\"%d\" y=\"%d\" text-anchor=\"end\">today</text>\n"
            "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n</g>\n",
            HTML_X0 - 4, HTML_BASE + 14, HTML_X0, HTML_BASE, HTML_X0 + HTML_DAYS * HTML_DAY_W,
            HTML_BASE);
}

/* The calendar: the rows are in urgency order, so on a crowded day the
   most urgent sit at the bottom and the "+N" counts the least urgent. */
static void html_put_calendar(FILE *out, struct html_state *st, int64_t now)
{
    int64_t first_day = html_day(now);
    size_t stack[HTML_DAYS] = {0};
    uint64_t expired = 0, beyond = 0, none = 0;
    if (now == CS_INT_NONE) {
        fputs("<section id=\"calendar\">\n<h2>Expiry calendar</h2>\n<p class=\"notes\">None: "
              "the reports merged do not say when they were classified.</p>\n</section>\n",
              out);
        return;
    }
    fprintf(out,
            "<section id=\"calendar\">\n<h2>Expiry calendar: the next %d days</h2>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"calendar-svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-label=\"certificates by the day they expire\" data-x0=\"%d\" "
            "data-day-width=\"%d\" data-first-day=\"%" PRId64 "\">\n",
            HTML_DAYS, HTML_SVG_W, HTML_SVG_H, HTML_SVG_W, HTML_SVG_H, HTML_X0, HTML_DAY_W,
            first_day);
    html_put_grid(out, first_day);
    fputs("<g class=\"marks\">\n", out);
    for (size_t i = 0; i < st->n; i++) {
        const struct html_row *r = &st->rows[i];
        if (r->not_after == CS_INT_NONE) {
            none++;
            continue;
        }
        if (r->not_after < now) {
            expired++;
            continue;
        }
        int64_t d = html_day(r->not_after) - first_day;
        if (d < 0 || d >= HTML_DAYS) { /* d < 0 cannot be once not_after >= now */
            beyond++;
            continue;
        }
        if (stack[d]++ >= HTML_STACK_MAX)
            continue; /* counted in the day's "+N" */
        char when[24];
        cs_format_time(r->not_after, when);
        int y = HTML_BASE - (int)stack[d] * HTML_MARK_PITCH;
        fprintf(out,
                "<rect class=\"mark s-%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                "rx=\"2\" data-day=\"%" PRId64 "\"><title>",
                html_status(r->status), HTML_X0 + (int)d * HTML_DAY_W + 2, y, HTML_MARK_W,
                HTML_MARK_H, d);
        html_put_endpoint(out, st, r);
        fprintf(out, " \xE2\x80\x94 %s, not after %s</title></rect>\n", html_status(r->status),
                when);
    }
    for (int d = 0; d < HTML_DAYS; d++)
        if (stack[d] > HTML_STACK_MAX)
            fprintf(out,
                    "<text class=\"more\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">+%zu"
                    "<title>%zu more on this day (see the table)</title></text>\n",
                    HTML_X0 + d * HTML_DAY_W + HTML_DAY_W / 2, HTML_TOP + 1,
                    stack[d] - HTML_STACK_MAX, stack[d] - HTML_STACK_MAX);
    fprintf(out,
            "</g>\n</svg>\n<p class=\"notes\"><b id=\"cal-expired\">%" PRIu64
            "</b> expired before the window, <b id=\"cal-beyond\">%" PRIu64
            "</b> expire after it, <b id=\"cal-none\">%" PRIu64
            "</b> without a certificate.</p>\n</section>\n",
            expired, beyond, none);
}

static void html_put_table_head(FILE *out, const struct html_state *st)
{
    fputs("<section>\n<h2>Endpoints</h2>\n<p class=\"hint\" id=\"sort-hint\" hidden>"
          "Click a column heading to sort.</p>\n"
          "<table id=\"endpoints\">\n<thead><tr>"
          "<th data-col=\"status\" data-num>Status</th>"
          "<th data-col=\"host\">Host:port</th>"
          "<th data-col=\"days\" data-num>Days</th>"
          "<th data-col=\"not_after\" data-num>Not after</th>"
          "<th data-col=\"issuer\">Issuer</th>",
          out);
    if (st->revocation)
        fputs("<th data-col=\"revocation\">Revocation</th>", out);
    fputs("<th data-col=\"reason\">Reason</th></tr></thead>\n<tbody>\n", out);
}

static void html_put_row(FILE *out, struct html_state *st, const struct html_row *r)
{
    const char *status = html_status(r->status);
    fprintf(out,
            "<tr class=\"s-%s\"><td data-sort=\"%d\"><span class=\"badge s-%s\">%s</span></td>",
            status, cs_status_urgency(r->status), status, status);
    fputs("<td class=\"host\"", out);
    if (r->subject != NULL) {
        fputs(" title=\"", out);
        html_put(out, st, r->subject);
        fputc('"', out);
    }
    fputc('>', out);
    html_put_endpoint(out, st, r);
    if (r->days == CS_INT_NONE)
        fputs("</td><td class=\"num\" data-sort=\"\">-</td>", out);
    else
        fprintf(out, "</td><td class=\"num\" data-sort=\"%" PRId64 "\">%" PRId64 "</td>", r->days,
                r->days);
    if (r->not_after == CS_INT_NONE) {
        fputs("<td class=\"date\" data-sort=\"\">-</td>", out);
    } else {
        char when[24];
        cs_format_time(r->not_after, when);
        fprintf(out,
                "<td class=\"date\" data-sort=\"%" PRId64
                "\"><time datetime=\"%s\">%.10s</time></td>",
                r->not_after, when, when);
    }
    fputs("<td class=\"issuer\"", out);
    if (r->issuer_dn != NULL) {
        fputs(" title=\"", out);
        html_put(out, st, r->issuer_dn);
        fputc('"', out);
    }
    fputc('>', out);
    html_put(out, st, r->issuer ? r->issuer : "-");
    fputs("</td>", out);
    if (st->revocation) {
        fputs("<td>", out);
        html_put(out, st, r->revocation ? r->revocation : "-");
        fputs("</td>", out);
    }
    fputs("<td class=\"reason\">", out);
    html_put(out, st, r->reason);
    fputs("</td></tr>\n", out);
}

static void html_state_free(struct html_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++) {
        struct html_row *r = &st->rows[i];
        free(r->host);
        free(r->subject);
        free(r->issuer);
        free(r->issuer_dn);
        free(r->revocation);
        free(r->reason);
        cs_order_key_free(&r->key);
    }
    free(st->rows);
    cs_buf_free(&st->cell);
    free(st);
}

static int html_open(struct cs_writer *w, FILE *out, const struct cs_scan_info *info)
{
    (void)out;
    struct html_state *st = cs_xcalloc(1, sizeof(*st));
    cs_buf_init(&st->cell, HTML_CELL_BYTES);
    st->revocation = info->ocsp || info->crl;
    w->state = st;
    return 0;
}

static int html_record(struct cs_writer *w, const struct cs_result *r)
{
    struct html_state *st = w->state;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->rows = cs_xrealloc(st->rows, st->cap * sizeof(*st->rows));
    }
    const char *reason = r->reason && r->reason[0] ? r->reason : r->error;
    char *cn = r->issuer ? cs_dn_first_cn(r->issuer) : NULL;
    st->rows[st->n++] = (struct html_row){
        .status = r->status,
        .port = r->port,
        .days = r->days_remaining,
        .not_after = r->not_after,
        .host = html_clip(r->host ? r->host : ""),
        .subject = html_clip(r->subject),
        .issuer = html_clip(cn ? cn : r->issuer),
        .issuer_dn = html_clip(r->issuer),
        .revocation = html_clip(r->revocation),
        .reason = html_clip(reason ? reason : ""),
    };
    cs_order_key_set(&st->rows[st->n - 1].key, r, st->n - 1);
    free(cn);
    return 0;
}

static int html_close(struct cs_writer *w, const struct cs_summary *s)
{
    struct html_state *st = w->state;
    FILE *out = w->out;
    if (st->n > 1) /* rows is NULL without records */
        cs_order_sort(st->rows, st->n, sizeof(*st->rows), offsetof(struct html_row, key),
                      CS_SORT_URGENCY);
    html_put_head(out, w->info);
    html_put_header(out, st, w->info, s);
    html_put_calendar(out, st, w->info->now);
    html_put_table_head(out, st);
    for (size_t i = 0; i < st->n; i++)
        html_put_row(out, st, &st->rows[i]);
    fputs("</tbody>\n</table>\n</section>\n<footer>Written by certsweep. Dates and times "
          "are UTC.</footer>\n",
          out);
    fprintf(out, "<script>%s</script>\n</body>\n</html>\n", html_script);
    int err = st->err;
    html_state_free(st);
    w->state = NULL;
    if (fflush(out) == EOF || ferror(out))
        return -EIO;
    return err;
}

const struct cs_writer_ops cs_writer_html = {
    .name = "html",
    .extension = ".html",
    .open = html_open,
    .record = html_record,
    .close = html_close,
};
