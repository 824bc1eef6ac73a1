/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Outgoing e-mail (mail.h): the message builder (RFC 5322, RFC 2045 quoted-printable, RFC 2047
 * encoded words), one SMTP transaction per message with libcurl, and a small queue with a
 * thread of its own for callers that must not wait (the alert-source poller).
 */
#include "mail/mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "push/outbound.h"

#define LINE_MAX_QP 76 /* RFC 2045: encoded lines at most 76 characters */
#define WORD_BYTES  39 /* bytes per RFC 2047 word: 52 base64 characters, 64 with the frame */

struct queued {
    char *to, *subject, *body;
};

struct mail {
    char *url; /* with the EHLO name as its path */
    char *user, *password, *from, *ca_file;
    bool plain_ok; /* the relay is on the allow-list: STARTTLS when offered, else plain */
    long timeout_ms;
    _Atomic uint64_t sent, failed;
    /* the queue */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    struct queued q[MAIL_QUEUE_MAX];
    size_t head, n;
};

/* ---- addresses ---- */

bool mail_address_valid(const char *addr)
{
    const char *at;
    const char *d;
    size_t n;

    if (!addr)
        return false;
    n = strnlen(addr, MAIL_ADDR_MAX + 1);
    if (n == 0 || n > MAIL_ADDR_MAX)
        return false;
    for (const char *c = addr; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || strchr("<>()[],;:\"\\", *c))
            return false;
    }
    at = strchr(addr, '@');
    if (!at || at == addr || strchr(at + 1, '@') || (size_t)(at - addr) > 64)
        return false;
    d = at + 1;
    if (!*d || *d == '.' || *d == '-' || d[strlen(d) - 1] == '.' || strstr(d, ".."))
        return false;
    for (const char *c = d; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-'))
            return false;
    }
    return true;
}

/* ---- the message ---- */

static bool has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static bool ascii_printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

static int base64(struct buf *out, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int err = 0;

    for (size_t i = 0; !err && i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63], tab[v >> 6 & 63], tab[v & 63] };

        if (i + 1 >= n)
            q[2] = '=';
        if (i + 2 >= n)
            q[3] = '=';

        err = buf_append(out, q, 4);
    }
    return err;
}

/*
 * The subject: as is when it is printable ASCII without "=?", else RFC 2047 "B" words of at
 * most WORD_BYTES bytes each, never cutting a UTF-8 sequence, on folded lines.
 */
static int put_subject(struct buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int err;

    if (ascii_printable(s) && !strstr(s, "=?"))
        return buf_printf(out, "Subject: %s\r\n", s);
    err = buf_puts(out, "Subject:");
    while (!err && n) {
        size_t k = n < WORD_BYTES ? n : WORD_BYTES;

        while (k < n && k > 1 && (p[k] & 0xc0) == 0x80)
            k--; /* the next word starts on a character */
        err = buf_puts(out, " =?UTF-8?B?");
        if (!err)
            err = base64(out, p, k);
        if (!err)
            err = buf_puts(out, "?=\r\n"); /* the next word on a folded line */
        p += k;
        n -= k;
    }
    return err;
}

/* One line of text, quoted-printable, soft-broken at LINE_MAX_QP; `hard` adds the line end. */
static int qp_line(struct buf *out, const unsigned char *p, size_t n, bool hard)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    int err = 0;

    for (size_t i = 0; !err && i < n; i++) {
        unsigned char c = p[i];
        char e[3];
        size_t w;
        bool last = i + 1 == n;

        if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
            e[0] = (char)c;
            w = 1;
        } else {
            e[0] = '=';
            e[1] = hex[c >> 4];
            e[2] = hex[c & 15];
            w = 3;
        }
        /* room for the soft break's '=' unless this is the line's last character */
        if (col + w > (last ? LINE_MAX_QP : LINE_MAX_QP - 1)) {
            err = buf_puts(out, "=\r\n");
            col = 0;
        }
        if (!err)
            err = buf_append(out, e, w);
        col += w;
    }
    return !err && hard ? buf_puts(out, "\r\n") : err;
}

static int put_body(struct buf *out, const char *body)
{
    const unsigned char *p = (const unsigned char *)body;
    int err = 0;

    while (!err && *p) {
        size_t n = strcspn((const char *)p, "\r\n");
        bool eol = p[n] != '\0';

        err = qp_line(out, p, n, eol || n);
        p += n;
        if (*p == '\r' && p[1] == '\n')
            p++;
        if (*p)
            p++;
    }
    return err;
}

int mail_build(const char *from, const struct mail_msg *msg, int64_t now_ms, struct buf *out)
{
    unsigned char rnd[12];
    char id[2 * sizeof(rnd) + 1];
    char date[64];
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    int err;

    if (!mail_address_valid(from) || !mail_address_valid(msg->to) || !msg->subject ||
        has_crlf(msg->subject) || strlen(msg->subject) > MAIL_SUBJECT_MAX || !msg->body ||
        strlen(msg->body) > MAIL_BODY_MAX)
        return -EINVAL;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm); /* C locale: English */
    secret_random(rnd, sizeof(rnd));
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    err =
        buf_printf(out, "From: araldo <%s>\r\nTo: <%s>\r\nDate: %s\r\nMessage-ID: <%lld.%s@%s>\r\n",
                   from, msg->to, date, (long long)now_ms, id, strchr(from, '@') + 1);
    if (!err)
        err = put_subject(out, msg->subject);
    if (!err) {
        err = buf_puts(out, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                            "Content-Transfer-Encoding: quoted-printable\r\n"
                            "Auto-Submitted: auto-generated\r\n\r\n");
    }
    if (!err)
        err = put_body(out, msg->body);
    return err;
}

/* ---- sending ---- */

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *userdata)
{
    struct upload *u = userdata;
    size_t n = size * nmemb < u->left ? size * nmemb : u->left;

    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static void count(struct mail *m, int err)
{
    atomic_fetch_add_explicit(err ? &m->failed : &m->sent, 1, memory_order_relaxed);
}

int mail_send(struct mail *m, const struct mail_msg *msg, char *why, size_t whylen)
{
    struct buf text;
    struct upload up;
    struct curl_slist *rcpt = NULL;
    char path[MAIL_ADDR_MAX + 3];
    CURL *h = NULL;
    CURLcode rc;
    int err;

    snprintf(why, whylen, "%s", "");
    buf_init(&text, (size_t)MAIL_BODY_MAX * 2);
    err = mail_build(m->from, msg, clock_now_ms(), &text);
    if (err) {
        snprintf(why, whylen, "%s", "the message is not valid (an address or the subject)");
        goto out;
    }
    h = curl_easy_init();
    if (!h) {
        err = -ENOMEM;
        goto out;
    }
    up = (struct upload){ text.data, text.len };
    snprintf(path, sizeof(path), "<%s>", msg->to);
    rcpt = curl_slist_append(rcpt, path);
    curl_easy_setopt(h, CURLOPT_URL, m->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never an environment proxy */
    curl_easy_setopt(h, CURLOPT_USE_SSL, m->plain_ok ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (m->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, m->ca_file);
    if (m->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, m->password ? m->password : "");
    }
    snprintf(path, sizeof(path), "<%s>", m->from);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, path);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)text.len);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, m->timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, m->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        long code = 0;

        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        /* curl's words name the step (RCPT failed, TLS, timeout), never the address */
        if (code) {
            snprintf(why, whylen, "the mail relay refused it (SMTP %ld: %s)", code,
                     curl_easy_strerror(rc));
        } else {
            snprintf(why, whylen, "the mail relay could not be reached (%s)",
                     curl_easy_strerror(rc));
        }
        err = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
    }
out:
    count(m, err);
    if (err)
        log_warn("mail: a message was not sent: %s", *why ? why : strerror(-err));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    buf_release(&text);
    return err;
}

/* ---- the queue ---- */

static void queued_release(struct queued *q)
{
    free(q->to);
    free(q->subject);
    free(q->body);
    memset(q, 0, sizeof(*q));
}

static void *run(void *arg)
{
    struct mail *m = arg;

    pthread_mutex_lock(&m->mu);
    for (;;) {
        struct queued q;
        char why[300];

        while (!m->n && !m->stop)
            pthread_cond_wait(&m->cond, &m->mu);
        if (!m->n)
            break; /* stopping, and everything queued was sent */
        q = m->q[m->head];
        m->head = (m->head + 1) % MAIL_QUEUE_MAX;
        m->n--;
        pthread_mutex_unlock(&m->mu);
        if (mail_send(m, &(struct mail_msg){ q.to, q.subject, q.body }, why, sizeof(why)) != 0)
            log_debug("mail: a queued message failed (logged above)");
        queued_release(&q);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int mail_queue(struct mail *m, const struct mail_msg *msg)
{
    int err = 0;

    if (!mail_address_valid(msg->to) || !msg->subject || has_crlf(msg->subject) ||
        strlen(msg->subject) > MAIL_SUBJECT_MAX || !msg->body || strlen(msg->body) > MAIL_BODY_MAX)
        return -EINVAL;
    pthread_mutex_lock(&m->mu);
    if (m->n == MAIL_QUEUE_MAX || m->stop) {
        err = -ENOBUFS;
    } else {
        struct queued *q = &m->q[(m->head + m->n) % MAIL_QUEUE_MAX];

        q->to = xstrdup(msg->to);
        q->subject = xstrdup(msg->subject);
        q->body = xstrdup(msg->body);
        m->n++;
        pthread_cond_signal(&m->cond);
    }
    pthread_mutex_unlock(&m->mu);
    if (err) {
        count(m, err);
        log_warn("mail: the queue is full; a message was dropped");
    }
    return err;
}

void mail_stats(const struct mail *m, struct mail_stats *out)
{
    out->sent = atomic_load_explicit(&m->sent, memory_order_relaxed);
    out->failed = atomic_load_explicit(&m->failed, memory_order_relaxed);
}

/* ---- setup ---- */

/* "smtps://host[:port][/]" or "smtp://…": the host into `host`, whether TLS is implicit. */
static int url_parse(const char *url, char *host, size_t hostlen, bool *implicit_tls)
{
    const char *h;
    size_t n;

    if (!strncmp(url, "smtps://", 8)) {
        *implicit_tls = true;
        h = url + 8;
    } else if (!strncmp(url, "smtp://", 7)) {
        *implicit_tls = false;
        h = url + 7;
    } else {
        return -EINVAL;
    }
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return -EINVAL;
    }
    n = strcspn(h, "/?#");
    if (memchr(h, '@', n) || (h[n] && strcmp(h + n, "/") != 0))
        return -EINVAL; /* credentials go in smtp_user and smtp_password; no path */
    if (*h == '[') {
        const char *rb = memchr(h, ']', n);

        if (!rb || rb == h + 1)
            return -EINVAL;
        snprintf(host, hostlen, "%.*s", (int)(rb - h - 1), h + 1);
        return 0;
    }
    n = strcspn(h, ":/");
    if (n == 0 || n >= hostlen)
        return -EINVAL;
    snprintf(host, hostlen, "%.*s", (int)n, h);
    for (char *c = host; *c; c++) {
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    }
    return 0;
}

struct mail *mail_new(const struct mail_opts *o, char *err, size_t errlen)
{
    struct outbound_policy *pol;
    struct mail *m;
    char host[OUTBOUND_HOST_MAX + 1];
    bool implicit_tls = false;
    size_t n;

    if (!o->smtp_url || url_parse(o->smtp_url, host, sizeof(host), &implicit_tls) != 0) {
        snprintf(err, errlen, "%s",
                 "smtp_url must be smtps://host[:port] or smtp://host[:port] (no user, no path)");
        return NULL;
    }
    if (!mail_address_valid(o->from)) {
        snprintf(err, errlen, "%s", "mail_from is not an e-mail address");
        return NULL;
    }
    pol =
        outbound_policy_new(&(struct outbound_opts){ .allow_hosts = o->allow_hosts }, err, errlen);
    if (!pol)
        return NULL;
    m = xcalloc(1, sizeof(*m));
    m->plain_ok = !implicit_tls && outbound_host_allowed(pol, host);
    outbound_policy_free(pol);
    /* The URL's path is the name curl gives in EHLO: the From address's domain. */
    n = strlen(o->smtp_url);
    m->url = xcalloc(1, n + strlen(o->from) + 2);
    memcpy(m->url, o->smtp_url, n);
    if (n && m->url[n - 1] == '/')
        m->url[--n] = '\0';
    snprintf(m->url + n, strlen(o->from) + 2, "/%s", strchr(o->from, '@') + 1);
    m->user = o->user && *o->user ? xstrdup(o->user) : NULL;
    m->password = o->password && *o->password ? xstrdup(o->password) : NULL;
    m->from = xstrdup(o->from);
    m->ca_file = o->ca_file && *o->ca_file ? xstrdup(o->ca_file) : NULL;
    m->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cond, NULL);
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        snprintf(err, errlen, "%s", "mail: cannot start the sending thread");
        m->stop = true; /* no thread to join */
        mail_free(m);
        return NULL;
    }
    return m;
}

void mail_free(struct mail *m)
{
    bool joined;

    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    joined = !m->stop;
    m->stop = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->mu);
    if (joined)
        pthread_join(m->thread, NULL);
    for (size_t i = 0; i < m->n; i++)
        queued_release(&m->q[(m->head + i) % MAIL_QUEUE_MAX]);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cond);
    if (m->password)
        explicit_bzero(m->password, strlen(m->password));
    free(m->password);
    free(m->url);
    free(m->user);
    free(m->from);
    free(m->ca_file);
    free(m);
}
