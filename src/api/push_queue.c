/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The Web Push queue thread: claims due deliveries from the store (a lease, so a crash loses
 * none), encrypts each for its subscription (RFC 8291), signs (VAPID, cached per origin) and
 * hands it to the sender thread (push/sender.c, libcurl multi); then writes the outcomes back
 * in batches: sent, subscription gone (404/410), retry later (429 with Retry-After, 5xx,
 * timeout: exponential backoff with full jitter) or given up after push_max_tries.
 *
 * Why a thread of its own: claims and outcomes are blocking store writes, and encryption costs
 * ~0.1 ms of CPU per message; neither may run on an HTTP loop. docs/PUSH.md has the design.
 */
#include "api/push_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/workpool.h"
#include "push/ece.h"
#include "store/push.h"

#define IDLE_POLL_MS    200     /* an idle queue is looked at this often */
#define RETRY_AFTER_MAX 3600    /* seconds: a longer Retry-After is capped */
#define BACKOFF_MAX_MS  3600000 /* the longest backoff between two tries */
#define PAD_TO          64      /* plaintext padded to a multiple of this (hides lengths) */
#define ORIGIN_BACKLOG  4       /* x per-origin concurrency: claimed per origin at most */
#define DONE_BATCH      1024    /* outcomes written per transaction at most */
#define PUSH_NICE       5       /* the push threads' nice value: below the HTTP loops */

/* A delivery between claim and outcome (on the queue thread's list until its outcome). */
struct flight {
    struct flight *prev, *next;
    int64_t queue_id, post_id, sub_id;
    int tries;
    char origin[PUSH_ORIGIN_MAX + 1];
};

struct push_done {
    struct push_done *next;
    struct flight *f;
    struct push_result res;
};

/* Per-origin deliveries claimed and not yet reported (the queue thread's own). */
struct origin_load {
    struct origin_load *next;
    char origin[PUSH_ORIGIN_MAX + 1];
    unsigned n;
};

struct queue_state {
    struct api_push *p;
    struct store_reader *reader;
    struct origin_load *loads;
    unsigned outstanding;
    struct store_push_job *jobs;
    struct store_push_result *res;
    struct flight *flights; /* sent, outcome not yet written: the leases this node renews */
    int64_t renewed_ms;     /* monotonic: when the leases were last renewed */
};

static void flight_unlink(struct queue_state *q, struct flight *f)
{
    if (f->prev) {
        f->prev->next = f->next;
    } else {
        q->flights = f->next;
    }
    if (f->next)
        f->next->prev = f->prev;
}

static struct origin_load *load_of(struct queue_state *q, const char *origin)
{
    struct origin_load *l;

    for (l = q->loads; l; l = l->next) {
        if (!strcmp(l->origin, origin))
            return l;
    }
    l = xcalloc(1, sizeof(*l));
    snprintf(l->origin, sizeof(l->origin), "%s", origin);
    l->next = q->loads;
    q->loads = l;
    return l;
}

/* The sender's callback (sender thread): queue the outcome for the queue thread. */
static void on_result(void *ctx, const struct push_result *r)
{
    struct api_push *p = ctx;
    struct push_done *d = xcalloc(1, sizeof(*d));

    d->f = r->arg;
    d->res = *r;
    pthread_mutex_lock(&p->mu);
    if (!p->done)
        pthread_cond_signal(&p->cond); /* once per batch: the thread takes them all */
    d->next = p->done;
    p->done = d;
    pthread_mutex_unlock(&p->mu);
}

/* Exponential backoff with full jitter (AWS architecture blog), or Retry-After when given. */
static int64_t retry_at(const struct api_push *p, int tries, long retry_after_s, int64_t now)
{
    uint64_t cap = (uint64_t)p->set.push_retry_base_ms << (tries < 20 ? tries : 20);
    uint64_t r = 0;

    if (retry_after_s >= 0) {
        return now +
               1000 * (int64_t)(retry_after_s < RETRY_AFTER_MAX ? retry_after_s : RETRY_AFTER_MAX);
    }
    if (cap > BACKOFF_MAX_MS)
        cap = BACKOFF_MAX_MS;
    secret_random(&r, sizeof(r));
    return now + (int64_t)(cap / 2 + r % (cap / 2 + 1)); /* half fixed, half random */
}

/* What the answer means for the delivery. */
static enum store_push_outcome judge(struct api_push *p, const struct push_done *d, int64_t now,
                                     int64_t *at)
{
    int s = d->res.status;

    if (s >= 200 && s < 300) {
        atomic_fetch_add(&p->sent, 1);
        return STORE_PUSH_SENT;
    }
    if (s == 404 || s == 410) {
        atomic_fetch_add(&p->gone, 1);
        return STORE_PUSH_GONE;
    }
    if (s == 0 || s == 429 || s >= 500) {
        if (d->f->tries + 1 < (int)p->set.push_max_tries) {
            atomic_fetch_add(&p->retried, 1);
            *at = retry_at(p, d->f->tries, s ? d->res.retry_after_s : -1, now);
            return STORE_PUSH_RETRY;
        }
    } else {
        /* 400, 401/403 (VAPID refused), 413: trying again would change nothing. */
        log_warn("push: a push service refused a notification with status %d", s);
    }
    atomic_fetch_add(&p->failed, 1);
    return STORE_PUSH_FAILED;
}

/* Write the outcomes the sender reported. Returns whether there were any. */
static bool flush_done(struct queue_state *q)
{
    struct api_push *p = q->p;
    struct push_done *list;
    size_t n = 0;
    int64_t now = clock_now_ms();
    int err;

    pthread_mutex_lock(&p->mu);
    list = p->done;
    p->done = NULL;
    pthread_mutex_unlock(&p->mu);
    if (!list)
        return false;
    while (list) {
        struct push_done *d = list;
        struct store_push_result *r = &q->res[n];

        list = d->next;
        /* Stopping: left leased, sent again after the next start. */
        if (d->res.curl_code != CURLE_ABORTED_BY_CALLBACK || d->res.status) {
            r->queue_id = d->f->queue_id;
            r->post_id = d->f->post_id;
            r->sub_id = d->f->sub_id;
            r->retry_at_ms = 0;
            r->outcome = judge(p, d, now, &r->retry_at_ms);
            n++;
        }
        load_of(q, d->f->origin)->n--;
        q->outstanding--;
        flight_unlink(q, d->f);
        free(d->f);
        free(d);
        if (n == DONE_BATCH || (!list && n)) {
            err = store_push_results(p->store, p->app->node_id, q->res, n);
            if (err && err != -ESHUTDOWN)
                log_warn("push: cannot record outcomes: %s", strerror(-err));
            n = 0;
        }
    }
    return true;
}

/* A JSON array of the origins that have their share claimed already (NULL: none). */
static char *busy_origins(struct queue_state *q)
{
    unsigned cap = ORIGIN_BACKLOG * q->p->set.push_origin_concurrency;
    json_t *a = NULL;
    char *s;

    for (struct origin_load *l = q->loads; l; l = l->next) {
        if (l->n < cap)
            continue;
        if (!a)
            a = json_array();
        json_array_append_new(a, json_string(l->origin));
    }
    if (!a)
        return NULL;
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* Encrypt, sign and hand one delivery to the sender; false if it could not be sent at all. */
static bool send_job(struct queue_state *q, const struct store_push_job *j, int64_t now)
{
    struct api_push *p = q->p;
    uint8_t body[ECE_BODY_MAX];
    char vapid[VAPID_HEADER_MAX];
    size_t len = strlen(j->payload);
    size_t pad = (PAD_TO - (len + 1) % PAD_TO) % PAD_TO;
    size_t blen = 0;
    long ttl = (long)p->set.push_ttl_s - (long)((now - j->created_ms) / 1000);
    struct flight *f;
    int err;

    /* An alert's notification: until the alert expires, at most push_alert_ttl_s (issue 13). */
    if (j->expires_ms > 0) {
        ttl = (long)((j->expires_ms - now) / 1000);
        if (ttl > (long)p->set.push_alert_ttl_s)
            ttl = (long)p->set.push_alert_ttl_s;
    }
    if (ttl <= 0) {
        atomic_fetch_add(&p->expired, 1); /* past its TTL: nobody should see it now */
        return false;
    }
    if (pad > ECE_PLAINTEXT_MAX - len)
        pad = ECE_PLAINTEXT_MAX - len;
    err = ece_encrypt(j->p256dh, j->auth, j->payload, len, pad, NULL, body, &blen);
    if (!err) {
        err = vapid_header(p->vapid, j->origin, p->set.push_contact, now / 1000, vapid,
                           sizeof(vapid));
    }
    if (err) {
        log_warn("push: cannot prepare a notification: %s", strerror(-err));
        return false;
    }
    f = xcalloc(1, sizeof(*f));
    f->queue_id = j->queue_id;
    f->post_id = j->post_id;
    f->sub_id = j->sub_id;
    f->tries = j->tries;
    snprintf(f->origin, sizeof(f->origin), "%s", j->origin);
    err = push_sender_submit(p->sender, &(struct push_msg){
                                            .arg = f,
                                            .endpoint = j->endpoint,
                                            .origin = j->origin,
                                            .vapid = vapid,
                                            .ttl_s = ttl,
                                            .urgency = j->urgency,
                                            .topic = j->topic,
                                            .body = body,
                                            .len = blen,
                                        });
    if (err) {
        free(f);
        return false;
    }
    load_of(q, j->origin)->n++;
    q->outstanding++;
    f->next = q->flights;
    if (q->flights)
        q->flights->prev = f;
    q->flights = f;
    return true;
}

/*
 * A claimed delivery is this node's until its lease ends (push_lease_s), renewed every third
 * of it while the node runs: only a node that stopped (died, or lost the database) for a whole
 * lease has its deliveries taken over by another.
 */
static int64_t lease_ms(const struct api_push *p)
{
    return 1000LL * (p->set.push_lease_s >= 3 ? p->set.push_lease_s : 60);
}

/*
 * Renew the leases of the deliveries in flight when a third of their length has passed since
 * the last time. Only those: a delivery whose outcome could not be written stays leased to no
 * purpose, and its lease must end so that it is sent again (by this node or another).
 */
static void renew_leases(struct queue_state *q)
{
    int64_t now = (int64_t)(clock_mono_us() / 1000);
    int64_t *ids;
    size_t n = 0;
    int renewed = 0;
    int err;

    if (!q->flights || now - q->renewed_ms < lease_ms(q->p) / 3)
        return;
    q->renewed_ms = now;
    ids = xmalloc(q->outstanding * sizeof(*ids));
    for (struct flight *f = q->flights; f && n < q->outstanding; f = f->next)
        ids[n++] = f->queue_id;
    err = store_push_renew(q->p->store, q->p->app->node_id, ids, n, lease_ms(q->p), &renewed);
    free(ids);
    if (err && err != -ESHUTDOWN)
        log_warn("push: cannot renew this node's leases: %s", strerror(-err));
}

/* Claim what is due and send it. Returns how many were claimed. */
static size_t claim_and_send(struct queue_state *q)
{
    struct api_push *p = q->p;
    unsigned room = p->set.push_inflight_max - q->outstanding;
    int64_t now = clock_now_ms();
    int64_t due = INT64_MAX;
    size_t n = 0;
    size_t failed = 0;
    char *skip;
    int err;

    if (q->outstanding >= p->set.push_inflight_max)
        return 0;
    /*
     * At most one origin's share per claim: a node claims again as soon as it has room, so
     * this costs nothing alone, and with several nodes each takes a share of a campaign
     * instead of the first to look taking it all (and, dying, leaving it all to a lease's end).
     */
    if (room > ORIGIN_BACKLOG * p->set.push_origin_concurrency)
        room = ORIGIN_BACKLOG * p->set.push_origin_concurrency;
    if (room > PUSH_CLAIM_MAX)
        room = PUSH_CLAIM_MAX;
    err = store_push_next_due(q->reader, &due);
    if (err || due > now)
        return 0;
    skip = busy_origins(q);
    err = store_push_claim(p->store, p->app->node_id, room, skip, lease_ms(p), q->jobs, &n);
    free(skip);
    if (err) {
        if (err != -ESHUTDOWN)
            log_warn("push: cannot claim deliveries: %s", strerror(-err));
        return 0;
    }
    atomic_fetch_add(&p->claimed, n);
    for (size_t i = 0; i < n; i++) {
        if (send_job(q, &q->jobs[i], now))
            continue;
        q->res[failed++] = (struct store_push_result){ .queue_id = q->jobs[i].queue_id,
                                                       .post_id = q->jobs[i].post_id,
                                                       .sub_id = q->jobs[i].sub_id,
                                                       .outcome = STORE_PUSH_FAILED };
    }
    if (failed) {
        atomic_fetch_add(&p->failed, failed);
        err = store_push_results(p->store, p->app->node_id, q->res, failed);
        if (err && err != -ESHUTDOWN)
            log_warn("push: cannot record outcomes: %s", strerror(-err));
    }
    return n;
}

static void wait_a_bit(struct api_push *p, unsigned ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    if (!p->stop && !p->done)
        pthread_cond_timedwait(&p->cond, &p->mu, &ts);
    pthread_mutex_unlock(&p->mu);
}

static bool stopping(struct api_push *p)
{
    bool s;

    pthread_mutex_lock(&p->mu);
    s = p->stop;
    pthread_mutex_unlock(&p->mu);
    return s;
}

/*
 * The push threads yield to the HTTP loops when the CPU is short: on a flood day the site must
 * stay fast while a campaign runs, and a notification a few seconds later costs less than every
 * page being slow. Linux applies nice per thread.
 */
static void lower_priority(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), PUSH_NICE);
}

static void *run(void *arg)
{
    struct queue_state q = { .p = arg };
    char err[256];
    int released = 0;

    lower_priority();
    q.reader = store_reader_open(q.p->store, err, sizeof(err));
    if (!q.reader) {
        log_error("push: %s", err);
        return NULL;
    }
    q.jobs = xcalloc(PUSH_CLAIM_MAX, sizeof(*q.jobs));
    q.res = xcalloc(PUSH_CLAIM_MAX > DONE_BATCH ? PUSH_CLAIM_MAX : DONE_BATCH, sizeof(*q.res));
    q.renewed_ms = (int64_t)(clock_mono_us() / 1000);
    if (store_push_recover(q.p->store, q.p->app->node_id, &released) == 0 && released)
        log_info("push: %d notification(s) of an interrupted run are due again", released);
    while (!stopping(q.p)) {
        bool busy = flush_done(&q);

        renew_leases(&q);
        if (claim_and_send(&q) > 0)
            busy = true;
        if (!busy)
            wait_a_bit(q.p, IDLE_POLL_MS);
    }
    store_reader_close(q.reader);
    free(q.jobs);
    free(q.res);
    while (q.loads) {
        struct origin_load *l = q.loads;

        q.loads = l->next;
        free(l);
    }
    return NULL;
}

/* ---- start and stop ---- */

static void push_free(struct api_push *p)
{
    struct push_done *d;

    push_sender_free(p->sender); /* reports what was in flight: dropped below */
    workpool_free(p->checks);
    while ((d = p->done) != NULL) {
        p->done = d->next;
        free(d->f);
        free(d);
    }
    outbound_policy_free(p->policy);
    vapid_free(p->vapid);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int api_push_start(struct api_app *app, char *err, size_t errlen)
{
    struct api_push *p = xcalloc(1, sizeof(*p));
    enum api_vapid_how how = API_VAPID_SHARED;
    bool differs = false;
    pthread_condattr_t ca;
    int rc;

    p->app = app;
    p->store = app->store;
    p->set = app->set;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->vapid = api_push_vapid_load(p->store, app->set.data_dir, &how, &differs, err, errlen);
    if (!p->vapid)
        goto fail;
    if (how == API_VAPID_MADE)
        log_info("push: made the VAPID key (kept in the database, shared by every node)");
    if (how == API_VAPID_IMPORTED) {
        log_info("push: moved the VAPID key of '%s/vapid.pem' into the database",
                 app->set.data_dir);
    }
    if (differs) {
        log_warn("push: '%s/vapid.pem' is not the key in the database, which every node uses: "
                 "the file is ignored",
                 app->set.data_dir);
    }
    p->policy = outbound_policy_new(
        &(struct outbound_opts){
            .allow_hosts = app->set.push_allow_hosts,
            .ca_file = app->set.push_ca_file,
            .connect_timeout_ms = app->set.push_timeout_ms,
            .timeout_ms = app->set.push_timeout_ms,
            .max_response_bytes = (size_t)64 * 1024,
        },
        err, errlen);
    if (!p->policy)
        goto fail;
    p->sender = push_sender_new(
        &(struct push_sender_opts){
            .policy = p->policy,
            .per_origin = app->set.push_origin_concurrency,
            .nice = PUSH_NICE,
            .done = on_result,
            .ctx = p,
        },
        err, errlen);
    p->checks = workpool_new(2, 256);
    if (!p->sender || !p->checks) {
        if (p->sender)
            snprintf(err, errlen, "push: cannot start the address-check threads");
        goto fail;
    }
    rc = pthread_create(&p->thread, NULL, run, p);
    if (rc) {
        snprintf(err, errlen, "push: cannot start the queue thread: %s", strerror(rc));
        goto fail;
    }
    app->push = p;
    return 0;
fail:
    push_free(p);
    return -1;
}

void api_push_stop(struct api_push *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->app->push = NULL;
    push_free(p);
}

/* ---- metrics ---- */

/*
 * One campaign's lines; an alert's campaign (key -alert id) is labelled alert="<id>", a
 * report's (key -(STORE_PUSH_REPORT_BASE + id)) report="<id>".
 */
static void campaign_line(void *ctx, int64_t post_id, const struct store_push_progress *pr)
{
    struct buf *out = ctx;
    bool report = post_id <= -STORE_PUSH_REPORT_BASE;
    const char *label = report ? "report" : post_id < 0 ? "alert" : "post";
    long long id = report        ? -(long long)(post_id + STORE_PUSH_REPORT_BASE)
                   : post_id < 0 ? -(long long)post_id
                                 : (long long)post_id;

    if (buf_printf(out,
                   "araldo_push_campaign_sent{%s=\"%lld\"} %lld\n"
                   "araldo_push_campaign_failed{%s=\"%lld\"} %lld\n"
                   "araldo_push_campaign_remaining{%s=\"%lld\"} %lld\n",
                   label, id, (long long)pr->sent, label, id, (long long)pr->failed, label, id,
                   (long long)pr->remaining))
        return; /* the /metrics page's cap: the rest is left out */
}

int api__push_metrics(struct api_app *app, struct store_reader *reader, struct buf *out)
{
    struct api_push *p = app->push;
    int err;

    if (!p)
        return 0;
    err = buf_printf(
        out,
        "# HELP araldo_push_notifications_total Web Push deliveries since start, by outcome.\n"
        "# TYPE araldo_push_notifications_total counter\n"
        "araldo_push_notifications_total{outcome=\"sent\"} %llu\n"
        "araldo_push_notifications_total{outcome=\"gone\"} %llu\n"
        "araldo_push_notifications_total{outcome=\"retried\"} %llu\n"
        "araldo_push_notifications_total{outcome=\"given_up\"} %llu\n"
        "araldo_push_notifications_total{outcome=\"expired\"} %llu\n"
        "# HELP araldo_push_campaign_sent Deliveries of a running campaign (post) so far.\n"
        "# TYPE araldo_push_campaign_sent gauge\n"
        "# TYPE araldo_push_campaign_failed gauge\n"
        "# TYPE araldo_push_campaign_remaining gauge\n",
        (unsigned long long)atomic_load(&p->sent), (unsigned long long)atomic_load(&p->gone),
        (unsigned long long)atomic_load(&p->retried), (unsigned long long)atomic_load(&p->failed),
        (unsigned long long)atomic_load(&p->expired));
    if (!err)
        err = store_push_active(reader, 50, campaign_line, out);
    return err;
}
