/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The sender thread. Submitted messages go on an inbox (a mutex and a list) and the thread is
 * woken with curl_multi_wakeup(); it moves them to their origin's queue and starts them while
 * the origin has fewer than `per_origin` in flight. Per-origin queues are ours, not curl's:
 * curl's own pending queue (CURLMOPT_MAX_HOST_CONNECTIONS) counts queued time against each
 * transfer's timeout, so a busy origin would time out requests that never started.
 */
#include "push/sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

#define VAPID_HDR_ROOM 1100 /* "Authorization: " and a VAPID header */

struct origin;

struct xfer {
    struct xfer *next;
    struct xfer *aprev, *anext; /* the active list, while in curl's hands */
    struct origin *origin;
    CURL *h;
    struct curl_slist *headers;
    struct outbound_xfer ox;
    struct push_result res;
    char *endpoint;
    char *origin_name;
    size_t len;
    uint8_t body[ECE_BODY_MAX];
};

struct origin {
    struct origin *next;
    char *name;
    unsigned inflight;
    struct xfer *head, *tail; /* waiting */
};

struct push_sender {
    struct push_sender_opts o;
    CURLM *multi;
    pthread_t thread;
    pthread_mutex_t mu;
    struct xfer *inbox; /* LIFO; reversed when taken */
    bool stop;
    struct origin *origins; /* the thread's only */
    struct xfer *active;    /* the thread's only: added to the multi handle */
};

static void report(struct push_sender *s, struct xfer *x)
{
    s->o.done(s->o.ctx, &x->res);
    if (x->h)
        curl_easy_cleanup(x->h);
    curl_slist_free_all(x->headers);
    free(x->endpoint);
    free(x->origin_name);
    free(x);
}

static struct origin *origin_of(struct push_sender *s, const char *name)
{
    struct origin *o;

    for (o = s->origins; o; o = o->next) {
        if (!strcmp(o->name, name))
            return o;
    }
    o = xcalloc(1, sizeof(*o));
    o->name = xstrdup(name);
    o->next = s->origins;
    s->origins = o;
    return o;
}

/* Start waiting transfers of `o` while it has room. */
static void pump(struct push_sender *s, struct origin *o)
{
    while (o->head && o->inflight < s->o.per_origin) {
        struct xfer *x = o->head;

        o->head = x->next;
        if (!o->head)
            o->tail = NULL;
        x->next = NULL;
        if (curl_multi_add_handle(s->multi, x->h) != CURLM_OK) {
            x->res.curl_code = CURLE_FAILED_INIT;
            report(s, x);
            continue;
        }
        o->inflight++;
        x->anext = s->active;
        if (s->active)
            s->active->aprev = x;
        s->active = x;
    }
}

static void take_inbox(struct push_sender *s)
{
    struct xfer *list, *rev = NULL;

    pthread_mutex_lock(&s->mu);
    list = s->inbox;
    s->inbox = NULL;
    pthread_mutex_unlock(&s->mu);
    while (list) {
        struct xfer *n = list->next;

        list->next = rev;
        rev = list;
        list = n;
    }
    while (rev) {
        struct xfer *x = rev;
        struct origin *o = origin_of(s, x->origin_name);

        rev = x->next;
        x->next = NULL;
        x->origin = o;
        if (o->tail) {
            o->tail->next = x;
        } else {
            o->head = x;
        }
        o->tail = x;
        pump(s, o);
    }
}

static void finished(struct push_sender *s, CURLMsg *m)
{
    struct xfer *x = NULL;
    long code = 0;

    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    curl_multi_remove_handle(s->multi, m->easy_handle);
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
    x->res.curl_code = (int)m->data.result;
    /*
     * Once a status came back, the push service has decided, whatever happened after: a body
     * we cut short, or a server that answered before reading all of ours and then reset the
     * HTTP/2 stream (which libcurl 7.88 reports as CURLE_HTTP2_STREAM). Retrying those would
     * send a delivered notification twice.
     */
    x->res.status = code >= 200 ? (int)code : 0;
    x->res.retry_after_s = x->ox.retry_after_s;
    x->res.refused = x->ox.refused;
    if (x->aprev) {
        x->aprev->anext = x->anext;
    } else {
        s->active = x->anext;
    }
    if (x->anext)
        x->anext->aprev = x->aprev;
    x->origin->inflight--;
    pump(s, x->origin);
    report(s, x);
}

static void *run(void *arg)
{
    struct push_sender *s = arg;
    int running = 0;
    bool stop = false;

    if (s->o.nice)
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(), s->o.nice);
    while (!stop) {
        CURLMsg *m;
        int left;

        take_inbox(s);
        curl_multi_perform(s->multi, &running);
        while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (m->msg == CURLMSG_DONE)
                finished(s, m);
        }
        curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
        pthread_mutex_lock(&s->mu);
        stop = s->stop;
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

struct push_sender *push_sender_new(const struct push_sender_opts *o, char *err, size_t errlen)
{
    struct push_sender *s;
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "push: cannot initialise libcurl");
        return NULL;
    }
    s = xcalloc(1, sizeof(*s));
    s->o = *o;
    if (!s->o.per_origin)
        s->o.per_origin = 1;
    s->multi = curl_multi_init();
    if (!s->multi) {
        snprintf(err, errlen, "push: cannot make a curl multi handle");
        free(s);
        return NULL;
    }
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    /* Keep enough idle connections that each origin's stay open between campaigns. */
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)(4 * s->o.per_origin + 16));
    pthread_mutex_init(&s->mu, NULL);
    rc = pthread_create(&s->thread, NULL, run, s);
    if (rc) {
        snprintf(err, errlen, "push: cannot start the sender thread: %s", strerror(rc));
        curl_multi_cleanup(s->multi);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

/* Report every transfer that did not finish, in flight or waiting. Thread joined. */
static void drain(struct push_sender *s)
{
    struct origin *o;

    take_inbox(s);
    while ((o = s->origins) != NULL) {
        s->origins = o->next;
        while (o->head) {
            struct xfer *x = o->head;

            o->head = x->next;
            x->res.curl_code = CURLE_ABORTED_BY_CALLBACK;
            report(s, x);
        }
        free(o->name);
        free(o);
    }
}

void push_sender_free(struct push_sender *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    curl_multi_wakeup(s->multi);
    pthread_join(s->thread, NULL);
    /* Transfers still in flight: removed and reported as aborted. */
    while (s->active) {
        struct xfer *x = s->active;

        s->active = x->anext;
        curl_multi_remove_handle(s->multi, x->h);
        x->res.curl_code = CURLE_ABORTED_BY_CALLBACK;
        report(s, x);
    }
    drain(s);
    curl_multi_cleanup(s->multi);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int push_sender_submit(struct push_sender *s, const struct push_msg *m)
{
    struct xfer *x;
    char h[VAPID_HDR_ROOM];
    bool stop;
    bool wake;

    if (m->len > ECE_BODY_MAX)
        return -EINVAL;
    x = xcalloc(1, sizeof(*x));
    x->h = curl_easy_init();
    if (!x->h || outbound_easy_setup(s->o.policy, x->h, m->endpoint, &x->ox) != 0) {
        if (x->h)
            curl_easy_cleanup(x->h);
        free(x);
        return -EINVAL;
    }
    x->res.arg = m->arg;
    x->res.retry_after_s = -1;
    x->endpoint = xstrdup(m->endpoint);
    x->origin_name = xstrdup(m->origin);
    memcpy(x->body, m->body, m->len);
    x->len = m->len;
    snprintf(h, sizeof(h), "TTL: %ld", m->ttl_s);
    x->headers = curl_slist_append(x->headers, h);
    snprintf(h, sizeof(h), "Urgency: %s", m->urgency);
    x->headers = curl_slist_append(x->headers, h);
    if (m->topic && *m->topic) {
        snprintf(h, sizeof(h), "Topic: %s", m->topic);
        x->headers = curl_slist_append(x->headers, h);
    }
    snprintf(h, sizeof(h), "Authorization: %s", m->vapid);
    x->headers = curl_slist_append(x->headers, h);
    x->headers = curl_slist_append(x->headers, "Content-Encoding: aes128gcm");
    x->headers = curl_slist_append(x->headers, "Content-Type: application/octet-stream");
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->h, CURLOPT_POST, 1L);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, (long)x->len);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    pthread_mutex_lock(&s->mu);
    stop = s->stop;
    wake = !s->inbox; /* one wake-up per batch: the thread takes the whole inbox at once */
    if (!stop) {
        x->next = s->inbox;
        s->inbox = x;
    }
    pthread_mutex_unlock(&s->mu);
    if (stop) {
        x->res.curl_code = 0;
        curl_easy_cleanup(x->h);
        curl_slist_free_all(x->headers);
        free(x->endpoint);
        free(x->origin_name);
        free(x);
        return -ESHUTDOWN;
    }
    if (wake)
        curl_multi_wakeup(s->multi);
    return 0;
}
