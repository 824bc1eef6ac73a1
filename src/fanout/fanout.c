/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The fan-out hub (fanout.h; the design note is docs/FANOUT.md).
 *
 * Threads: fanout_publish() runs on the store's writer thread, the heartbeat on a thread of its
 * own; both only encode and append references to each loop's inbox under that loop's mutex,
 * then wake the loop once per burst. Everything else (the channel index, subscribers, delivery)
 * belongs to one loop thread and takes no lock.
 *
 * Memory per idle subscriber is one struct fanout_sub plus one node per channel joined (about
 * 100 bytes with malloc's overhead for a one-channel stream): messages are shared, never
 * queued per subscriber here; what a slow socket has not taken yet waits in the libuv write
 * queue as references to the shared bytes.
 */
#include "fanout/fanout.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"

#define CHANNEL_MAX   63
#define KIND_MAX      31
#define PAYLOAD_MAX   ((size_t)1024 * 1024)
#define BUCKETS_FIRST 64

struct fanout_msg {
    atomic_uint refs;
    enum fanout_msg_type type;
    int64_t channel_id;
    int64_t seq;
    int64_t key; /* FANOUT_ACCESS */
    char channel[CHANNEL_MAX + 1];
    char kind[KIND_MAX + 1];
    size_t off[FANOUT_WIRE_COUNT];
    size_t len[FANOUT_WIRE_COUNT];
    size_t size;
    char data[];
};

struct chan;

/* One subscriber in one channel. */
struct node {
    struct fanout_sub *sub;
    struct chan *chan;
    struct node *prev, *next; /* in chan->head */
    struct node *sub_next;    /* in sub->nodes */
};

struct chan {
    int64_t id;
    struct node *head;
    struct chan *hnext; /* hash chain */
};

struct fanout_sub {
    struct fanout_loop *l;
    const struct fanout_sub_ops *ops;
    void *ctx;
    struct node *nodes;
    struct fanout_sub *prev, *next; /* l->subs: every subscriber, for heartbeats */
};

struct fanout_loop {
    struct fanout *f;
    fanout_post_fn *post;
    void *post_ctx;
    struct fanout_loop *prev, *next; /* f->loops */

    pthread_mutex_t mu; /* guards the inbox and `posted` */
    struct fanout_msg **inbox;
    size_t n, cap;
    bool posted; /* a drain is on its way to the loop */

    /* loop thread only */
    struct chan **buckets;
    size_t nbuckets, nchans;
    struct fanout_sub *subs;
    size_t nsubs;
    /*
     * The delivery in progress, which may span several slices: `batch` (taken from the inbox,
     * one reference each) is delivered run by run; the run [bi, run_end) is one heartbeat or
     * consecutive events of one channel, handed to each subscriber in one write.
     */
    struct fanout_msg **batch;
    size_t bn, bi, run_end;
    size_t run_bytes;            /* what the run adds to a subscriber's queue */
    bool in_run;                 /* a run has started: the iterators below are live */
    struct node *iter_node;      /* next node to deliver the run to */
    struct fanout_sub *iter_sub; /* next subscriber to deliver the heartbeat to */
    struct chan *iter_chan;      /* the channel being delivered: freed after, if emptied */
};

struct fanout {
    struct fanout_opts o;
    pthread_mutex_t mu; /* guards `loops` */
    struct fanout_loop *loops;
    struct fanout_msg *heartbeat;

    pthread_t hb_thread;
    bool hb_running;
    pthread_mutex_t hb_mu;
    pthread_cond_t hb_cond;
    bool hb_stop;

    atomic_uint_fast64_t published, delivered, cutoffs, subscribers;
};

/* ---- messages ---- */

static bool token_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    /* Handles and kinds go into JSON and SSE lines unescaped: allow only what needs none. */
    return n && n <= max &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/*
 * SSE "data:" lines for `p`: a line break in the payload starts a new data line (the spec).
 * `out` holds bytes sent by length, never a C string, so nothing NUL-terminates it.
 */
// NOLINTBEGIN(bugprone-not-null-terminated-result): `out` is bytes, not a string (above)
static size_t sse_data(char *out, const char *p, size_t len)
{
    size_t o = 0;

    if (out)
        memcpy(out, "data: ", 6);
    o = 6;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
            continue;
        if (p[i] == '\n' || p[i] == '\r') {
            if (out)
                memcpy(out + o, "\ndata: ", 7);
            o += 7;
            continue;
        }
        if (out)
            out[o] = p[i];
        o++;
    }
    if (out)
        memcpy(out + o, "\n\n", 2);
    return o + 2;
}
// NOLINTEND(bugprone-not-null-terminated-result)

/* The head of an unmasked, final WebSocket frame of `len` payload bytes (RFC 6455 5.2). */
static size_t ws_head(unsigned char *h, unsigned opcode, size_t len)
{
    h[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

static struct fanout_msg *msg_alloc(size_t size)
{
    struct fanout_msg *m = xcalloc(1, sizeof(*m) + size);

    atomic_init(&m->refs, 1);
    m->size = size;
    return m;
}

/* Section of `m`: chunk header, `body` of `blen` bytes, CRLF; records both views. */
static size_t put_chunked(struct fanout_msg *m, size_t at, enum fanout_wire plain,
                          enum fanout_wire chunk, const char *body, size_t blen)
{
    char hex[24];
    int n = snprintf(hex, sizeof(hex), "%zx\r\n", blen);

    m->off[chunk] = at;
    memcpy(m->data + at, hex, (size_t)n);
    m->off[plain] = at + (size_t)n;
    m->len[plain] = blen;
    memcpy(m->data + at + n, body, blen);
    memcpy(m->data + at + n + blen, "\r\n", 2);
    m->len[chunk] = (size_t)n + blen + 2;
    return at + m->len[chunk];
}

struct fanout_msg *fanout_msg_new(const struct fanout_event *ev)
{
    static const char ws_a[] = "{\"type\":\"event\",\"channel\":\"";
    struct fanout_msg *m = NULL;
    char idl[CHANNEL_MAX + 48], evl[KIND_MAX + 16], wsb[CHANNEL_MAX + KIND_MAX + 96];
    char *sse = NULL;
    size_t dlen, idn, evn, ssen, wsn, wspay, size;
    unsigned char wh[10];
    size_t whn;

    if (!ev || !ev->channel || !ev->kind || !ev->payload || ev->payload_len > PAYLOAD_MAX ||
        !token_ok(ev->channel, CHANNEL_MAX) || !token_ok(ev->kind, KIND_MAX) || ev->seq < 1)
        return NULL;
    idn = (size_t)snprintf(idl, sizeof(idl), "id: %s:%lld\n", ev->channel, (long long)ev->seq);
    evn = (size_t)snprintf(evl, sizeof(evl), "event: %s\n", ev->kind);
    dlen = sse_data(NULL, ev->payload, ev->payload_len);
    /* SSE: id line, event line, data lines; the no-id view is its tail. */
    ssen = idn + evn + dlen;
    sse = xmalloc(ssen);
    memcpy(sse, idl, idn);
    memcpy(sse + idn, evl, evn);
    sse_data(sse + idn + evn, ev->payload, ev->payload_len);
    wsn = (size_t)snprintf(wsb, sizeof(wsb), "%s%s\",\"seq\":%lld,\"event\":\"%s\",\"data\":", ws_a,
                           ev->channel, (long long)ev->seq, ev->kind);
    wspay = wsn + ev->payload_len + 1;
    whn = ws_head(wh, 0x1, wspay);
    size = (ssen + 24) + (ssen - idn + 24) + whn + wspay;
    m = msg_alloc(size);
    m->type = FANOUT_EVENT;
    m->channel_id = ev->channel_id;
    m->seq = ev->seq;
    snprintf(m->channel, sizeof(m->channel), "%s", ev->channel);
    snprintf(m->kind, sizeof(m->kind), "%s", ev->kind);
    {
        size_t at = put_chunked(m, 0, FANOUT_SSE, FANOUT_SSE_CHUNK, sse, ssen);

        at = put_chunked(m, at, FANOUT_SSE_NOID, FANOUT_SSE_NOID_CHUNK, sse + idn, ssen - idn);
        m->off[FANOUT_WS] = at;
        memcpy(m->data + at, wh, whn);
        memcpy(m->data + at + whn, wsb, wsn);
        memcpy(m->data + at + whn + wsn, ev->payload, ev->payload_len);
        m->data[at + whn + wsn + ev->payload_len] = '}';
        m->len[FANOUT_WS] = whn + wspay;
    }
    free(sse);
    return m;
}

static struct fanout_msg *heartbeat_new(void)
{
    static const char sse[] = ":\n\n";
    struct fanout_msg *m = msg_alloc(2 * (sizeof(sse) + 24) + 2);
    size_t at;

    m->type = FANOUT_HEARTBEAT;
    at = put_chunked(m, 0, FANOUT_SSE, FANOUT_SSE_CHUNK, sse, sizeof(sse) - 1);
    at = put_chunked(m, at, FANOUT_SSE_NOID, FANOUT_SSE_NOID_CHUNK, sse, sizeof(sse) - 1);
    m->off[FANOUT_WS] = at;
    m->len[FANOUT_WS] = ws_head((unsigned char *)m->data + at, 0x9, 0); /* ping */
    return m;
}

struct fanout_msg *fanout_msg_ref(struct fanout_msg *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void fanout_msg_unref(struct fanout_msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}

void fanout_msg_release(void *m)
{
    fanout_msg_unref(m);
}

enum fanout_msg_type fanout_msg_type(const struct fanout_msg *m)
{
    return m->type;
}

int64_t fanout_msg_channel_id(const struct fanout_msg *m)
{
    return m->channel_id;
}

int64_t fanout_msg_seq(const struct fanout_msg *m)
{
    return m->seq;
}

const char *fanout_msg_channel(const struct fanout_msg *m)
{
    return m->channel;
}

const char *fanout_msg_kind(const struct fanout_msg *m)
{
    return m->kind;
}

int64_t fanout_msg_key(const struct fanout_msg *m)
{
    return m->key;
}

const char *fanout_msg_bytes(const struct fanout_msg *m, enum fanout_wire w, size_t *len)
{
    if ((unsigned)w >= FANOUT_WIRE_COUNT) {
        *len = 0;
        return "";
    }
    *len = m->len[w];
    return m->data + m->off[w];
}

/* ---- the channel index (loop thread) ---- */

static size_t bucket_of(const struct fanout_loop *l, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;

    return (size_t)(h >> 32) & (l->nbuckets - 1);
}

static struct chan *chan_find(const struct fanout_loop *l, int64_t id)
{
    struct chan *c = l->buckets[bucket_of(l, id)];

    while (c && c->id != id)
        c = c->hnext;
    return c;
}

static void rehash(struct fanout_loop *l)
{
    size_t old = l->nbuckets;
    struct chan **ob = l->buckets;

    l->nbuckets = old * 2;
    l->buckets = xcalloc(l->nbuckets, sizeof(struct chan *));
    for (size_t i = 0; i < old; i++) {
        for (struct chan *c = ob[i], *next; c; c = next) {
            size_t b = bucket_of(l, c->id);

            next = c->hnext;
            c->hnext = l->buckets[b];
            l->buckets[b] = c;
        }
    }
    free(ob);
}

static struct chan *chan_get(struct fanout_loop *l, int64_t id)
{
    struct chan *c = chan_find(l, id);
    size_t b;

    if (c)
        return c;
    if (l->nchans >= 2 * l->nbuckets)
        rehash(l);
    c = xcalloc(1, sizeof(*c));
    c->id = id;
    b = bucket_of(l, id);
    c->hnext = l->buckets[b];
    l->buckets[b] = c;
    l->nchans++;
    return c;
}

static void chan_maybe_free(struct fanout_loop *l, struct chan *c)
{
    struct chan **pp;

    if (c->head || c == l->iter_chan)
        return; /* in use, or being delivered: freed once that delivery ends */
    pp = &l->buckets[bucket_of(l, c->id)];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
    l->nchans--;
    free(c);
}

static void node_unlink(struct fanout_loop *l, struct node *n)
{
    if (l->iter_node == n)
        l->iter_node = n->next;
    if (n->prev) {
        n->prev->next = n->next;
    } else {
        n->chan->head = n->next;
    }
    if (n->next)
        n->next->prev = n->prev;
    chan_maybe_free(l, n->chan);
}

/* ---- delivery (loop thread) ---- */

/*
 * Hand the run to one subscriber, or cut it off. Returns whether it was handed over. A
 * subscriber whose socket took everything so far always gets the run, however large: only one
 * already behind, by more than the queue leaves room for, is cut off.
 */
static bool deliver(struct fanout_loop *l, struct fanout_sub *s)
{
    struct fanout *f = l->f;
    size_t unsent = s->ops->unsent(s->ctx);

    if (unsent && unsent + l->run_bytes > f->o.queue_bytes) {
        atomic_fetch_add_explicit(&f->cutoffs, 1, memory_order_relaxed);
        s->ops->cutoff(s->ctx); /* frees s */
        return false;
    }
    s->ops->write(s->ctx, l->batch + l->bi, l->run_end - l->bi);
    return true;
}

/* Begin the run at l->bi: one heartbeat, or up to FANOUT_RUN_MAX events of one channel. */
static void run_start(struct fanout_loop *l)
{
    struct fanout_msg *first = l->batch[l->bi];
    size_t e = l->bi + 1;

    if (first->type == FANOUT_EVENT) {
        while (e < l->bn && e - l->bi < FANOUT_RUN_MAX && l->batch[e]->type == FANOUT_EVENT &&
               l->batch[e]->channel_id == first->channel_id)
            e++;
    }
    l->run_end = e;
    l->run_bytes = 0;
    for (size_t i = l->bi; i < e; i++)
        l->run_bytes += l->batch[i]->len[FANOUT_SSE_CHUNK];
    if (first->type == FANOUT_HEARTBEAT) {
        l->iter_sub = l->subs;
    } else {
        l->iter_chan = chan_find(l, first->channel_id);
        l->iter_node = l->iter_chan ? l->iter_chan->head : NULL;
    }
    l->in_run = true;
}

/*
 * Deliver the current run to at most `budget` more subscribers. Returns how many it reached;
 * ends the run (dropping its messages) once every subscriber has it.
 */
static size_t run_continue(struct fanout_loop *l, size_t budget)
{
    size_t reached = 0, tried = 0, k = l->run_end - l->bi;
    struct fanout_sub *s;
    struct node *nd;

    /* The iterators move on before each delivery: whatever it frees, iteration stays safe. */
    if (l->batch[l->bi]->type == FANOUT_HEARTBEAT) {
        while (tried < budget && (s = l->iter_sub)) {
            l->iter_sub = s->next;
            tried++;
            reached += deliver(l, s);
        }
        if (l->iter_sub)
            goto paused;
    } else {
        while (tried < budget && (nd = l->iter_node)) {
            struct node *next = nd->next, *after = next ? next->next : NULL;

            /*
             * Tens of thousands of subscribers do not fit in cache. While this one's write runs,
             * fetch ahead, one level per step: the node after next, its subscriber, and the
             * next subscriber's context (each fetched a step earlier is in cache by now).
             */
            if (after) {
                __builtin_prefetch(after->next);
                __builtin_prefetch(after->sub);
            }
            if (next)
                __builtin_prefetch(next->sub->ctx);
            l->iter_node = next;
            tried++;
            reached += deliver(l, nd->sub);
        }
        if (l->iter_node)
            goto paused;
        if (l->iter_chan) {
            struct chan *c = l->iter_chan;

            l->iter_chan = NULL;
            chan_maybe_free(l, c);
        }
    }
    for (size_t i = l->bi; i < l->run_end; i++)
        fanout_msg_unref(l->batch[i]);
    l->bi = l->run_end;
    l->in_run = false;
paused:
    /* One shared counter update per slice, not per subscriber: loops do not contend. */
    if (reached)
        atomic_fetch_add_explicit(&l->f->delivered, reached * k, memory_order_relaxed);
    return tried ? tried : 1; /* a run nobody hears still costs a step: the slice ends */
}
/*
 * The loop's side: one slice of delivery. Takes the inbox when no batch is in progress,
 * delivers FANOUT_SLICE times at most, and asks the loop to call again while work is left
 * (after the loop has seen to its sockets).
 */
static void drain(void *arg)
{
    struct fanout_loop *l = arg;
    size_t budget = FANOUT_SLICE;
    bool more;

    pthread_mutex_lock(&l->mu);
    l->posted = false;
    pthread_mutex_unlock(&l->mu);
    while (budget) {
        if (!l->batch) {
            pthread_mutex_lock(&l->mu);
            l->batch = l->inbox;
            l->bn = l->n;
            l->inbox = NULL;
            l->n = l->cap = 0;
            pthread_mutex_unlock(&l->mu);
            l->bi = 0;
            if (!l->batch)
                break;
        }
        if (!l->in_run)
            run_start(l);
        budget -= run_continue(l, budget); /* at most budget */
        if (l->bi == l->bn) {
            free(l->batch);
            l->batch = NULL;
        }
    }
    pthread_mutex_lock(&l->mu);
    more = l->batch || l->n;
    if (more && !l->posted) {
        l->posted = true;
        if (l->post(l->post_ctx, drain, l) != 0)
            l->posted = false; /* stopping: fanout_loop_free drops what is left */
    }
    pthread_mutex_unlock(&l->mu);
}

/* Queue `n` messages (one reference each taken here) on loop `l`. f->mu held. */
static void enqueue(struct fanout_loop *l, struct fanout_msg **m, size_t n)
{
    bool wake = false;

    pthread_mutex_lock(&l->mu);
    if (l->n + n > l->cap) {
        l->cap = MAX(l->n + n, 2 * l->cap + 8);
        l->inbox = xrealloc(l->inbox, l->cap * sizeof(struct fanout_msg *));
    }
    for (size_t i = 0; i < n; i++)
        l->inbox[l->n++] = fanout_msg_ref(m[i]);
    if (!l->posted) {
        l->posted = true;
        wake = true;
    }
    /*
     * Post under the lock: fanout_loop_free() takes it too, so the loop cannot go away between
     * the decision and the post. A loop that is stopping refuses; its inbox is dropped when
     * it is freed.
     */
    if (wake && l->post(l->post_ctx, drain, l) != 0)
        l->posted = false;
    pthread_mutex_unlock(&l->mu);
}

static void broadcast(struct fanout *f, struct fanout_msg **m, size_t n)
{
    pthread_mutex_lock(&f->mu);
    for (struct fanout_loop *l = f->loops; l; l = l->next)
        enqueue(l, m, n);
    pthread_mutex_unlock(&f->mu);
}

void fanout_publish(struct fanout *f, const struct fanout_event *ev, size_t n)
{
    struct fanout_msg *stack[16];
    struct fanout_msg **m =
        n <= ARRAY_SIZE(stack) ? stack : xmalloc(n * sizeof(struct fanout_msg *));
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        m[k] = fanout_msg_new(&ev[i]);
        if (!m[k]) {
            log_warn("fanout: event %lld of channel %lld cannot be encoded; streams will "
                     "replay it from the store",
                     (long long)ev[i].seq, (long long)ev[i].channel_id);
            continue;
        }
        k++;
    }
    if (k) {
        broadcast(f, m, k);
        atomic_fetch_add_explicit(&f->published, k, memory_order_relaxed);
    }
    for (size_t i = 0; i < k; i++)
        fanout_msg_unref(m[i]);
    if (m != stack)
        free(m);
}

void fanout_notify(struct fanout *f, int64_t key)
{
    struct fanout_msg *m;

    if (key >= 0)
        return; /* a channel id: not ours to signal */
    m = msg_alloc(0);
    m->type = FANOUT_NOTICE;
    m->channel_id = key;
    broadcast(f, &m, 1);
    fanout_msg_unref(m);
}

void fanout_access(struct fanout *f, int64_t channel_id, const char *kind, int64_t key)
{
    struct fanout_msg *m;

    if (channel_id <= 0 || !kind || !token_ok(kind, KIND_MAX))
        return;
    m = msg_alloc(0);
    m->type = FANOUT_ACCESS;
    m->channel_id = channel_id;
    m->key = key;
    snprintf(m->kind, sizeof(m->kind), "%s", kind);
    broadcast(f, &m, 1);
    fanout_msg_unref(m);
}

/* ---- heartbeats ---- */

static void *heartbeat_main(void *arg)
{
    struct fanout *f = arg;
    struct timespec until;

    pthread_setname_np(pthread_self(), "fanout-hb");
    pthread_mutex_lock(&f->hb_mu);
    while (!f->hb_stop) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(f->o.heartbeat_ms / 1000);
        until.tv_nsec += (long)(f->o.heartbeat_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!f->hb_stop && pthread_cond_timedwait(&f->hb_cond, &f->hb_mu, &until) == 0)
            ;
        if (f->hb_stop)
            break;
        pthread_mutex_unlock(&f->hb_mu);
        broadcast(f, &f->heartbeat, 1);
        pthread_mutex_lock(&f->hb_mu);
    }
    pthread_mutex_unlock(&f->hb_mu);
    return NULL;
}

/* ---- the hub ---- */

struct fanout *fanout_new(const struct fanout_opts *o)
{
    struct fanout *f = xcalloc(1, sizeof(*f));
    pthread_condattr_t ca;

    f->o = *o;
    if (!f->o.queue_bytes)
        f->o.queue_bytes = (size_t)256 * 1024;
    pthread_mutex_init(&f->mu, NULL);
    pthread_mutex_init(&f->hb_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->hb_cond, &ca);
    pthread_condattr_destroy(&ca);
    f->heartbeat = heartbeat_new();
    if (f->o.heartbeat_ms) {
        if (pthread_create(&f->hb_thread, NULL, heartbeat_main, f)) {
            log_error("fanout: cannot start the heartbeat thread");
            fanout_free(f);
            return NULL;
        }
        f->hb_running = true;
    }
    return f;
}

void fanout_free(struct fanout *f)
{
    if (!f)
        return;
    if (f->hb_running) {
        pthread_mutex_lock(&f->hb_mu);
        f->hb_stop = true;
        pthread_cond_signal(&f->hb_cond);
        pthread_mutex_unlock(&f->hb_mu);
        pthread_join(f->hb_thread, NULL);
    }
    if (f->loops)
        log_error("fanout: freed with loops still registered");
    fanout_msg_unref(f->heartbeat);
    pthread_cond_destroy(&f->hb_cond);
    pthread_mutex_destroy(&f->hb_mu);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

size_t fanout_queue_bytes(const struct fanout *f)
{
    return f->o.queue_bytes;
}

void fanout_stats(struct fanout *f, struct fanout_stats *out)
{
    out->published = atomic_load_explicit(&f->published, memory_order_relaxed);
    out->delivered = atomic_load_explicit(&f->delivered, memory_order_relaxed);
    out->cutoffs = atomic_load_explicit(&f->cutoffs, memory_order_relaxed);
    out->subscribers = atomic_load_explicit(&f->subscribers, memory_order_relaxed);
}

/* ---- loops ---- */

struct fanout_loop *fanout_loop_new(struct fanout *f, fanout_post_fn *post, void *post_ctx)
{
    struct fanout_loop *l = xcalloc(1, sizeof(*l));

    l->f = f;
    l->post = post;
    l->post_ctx = post_ctx;
    pthread_mutex_init(&l->mu, NULL);
    l->nbuckets = BUCKETS_FIRST;
    l->buckets = xcalloc(l->nbuckets, sizeof(struct chan *));
    pthread_mutex_lock(&f->mu);
    l->next = f->loops;
    if (f->loops)
        f->loops->prev = l;
    f->loops = l;
    pthread_mutex_unlock(&f->mu);
    return l;
}

void fanout_loop_free(struct fanout_loop *l)
{
    struct fanout *f;

    if (!l)
        return;
    f = l->f;
    while (l->subs) {
        log_warn("fanout: a loop is freed with subscribers left");
        // NOLINTNEXTLINE(clang-analyzer-unix.Malloc): fanout_sub_free() unlinks it from l->subs
        fanout_sub_free(l->subs);
    }
    pthread_mutex_lock(&f->mu);
    if (l->prev) {
        l->prev->next = l->next;
    } else {
        f->loops = l->next;
    }
    if (l->next)
        l->next->prev = l->prev;
    pthread_mutex_unlock(&f->mu);
    /* Unregistered: nobody enqueues any more. Take the lock once so a racing post is over. */
    for (size_t i = l->bi; i < l->bn; i++)
        fanout_msg_unref(l->batch[i]);
    free(l->batch);
    l->batch = NULL;
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->n; i++)
        fanout_msg_unref(l->inbox[i]);
    free(l->inbox);
    l->inbox = NULL;
    l->n = 0;
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < l->nbuckets; i++) {
        for (struct chan *c = l->buckets[i], *next; c; c = next) {
            next = c->hnext;
            free(c);
        }
    }
    free(l->buckets);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

size_t fanout_loop_subscribers(const struct fanout_loop *l)
{
    return l->nsubs;
}

size_t fanout_loop_channels(const struct fanout_loop *l)
{
    return l->nchans;
}

struct fanout *fanout_loop_hub(const struct fanout_loop *l)
{
    return l->f;
}

/* ---- subscribers ---- */

struct fanout_sub *fanout_sub_new(struct fanout_loop *l, const struct fanout_sub_ops *ops,
                                  void *ctx)
{
    struct fanout_sub *s = xcalloc(1, sizeof(*s));

    s->l = l;
    s->ops = ops;
    s->ctx = ctx;
    s->next = l->subs;
    if (l->subs)
        l->subs->prev = s;
    l->subs = s;
    l->nsubs++;
    atomic_fetch_add_explicit(&l->f->subscribers, 1, memory_order_relaxed);
    return s;
}

int fanout_sub_join(struct fanout_sub *s, int64_t channel_id)
{
    struct node *n;
    struct chan *c;

    for (n = s->nodes; n; n = n->sub_next) {
        if (n->chan->id == channel_id)
            return -EEXIST;
    }
    c = chan_get(s->l, channel_id);
    n = xcalloc(1, sizeof(*n));
    n->sub = s;
    n->chan = c;
    /*
     * Appended at the head: a subscriber joining during a delivery of this channel does not
     * get the message being delivered (it replays from the store instead, and dedupes by seq).
     */
    n->next = c->head;
    if (c->head)
        c->head->prev = n;
    c->head = n;
    n->sub_next = s->nodes;
    s->nodes = n;
    return 0;
}

int fanout_sub_leave(struct fanout_sub *s, int64_t channel_id)
{
    struct node **pp = &s->nodes;

    while (*pp && (*pp)->chan->id != channel_id)
        pp = &(*pp)->sub_next;
    if (!*pp)
        return -ENOENT;
    {
        struct node *n = *pp;

        *pp = n->sub_next;
        node_unlink(s->l, n);
        free(n);
    }
    return 0;
}

void fanout_sub_free(struct fanout_sub *s)
{
    struct fanout_loop *l;

    if (!s)
        return;
    l = s->l;
    while (s->nodes) {
        struct node *n = s->nodes;

        s->nodes = n->sub_next;
        node_unlink(l, n);
        free(n);
    }
    if (l->iter_sub == s)
        l->iter_sub = s->next;
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        l->subs = s->next;
    }
    if (s->next)
        s->next->prev = s->prev;
    l->nsubs--;
    atomic_fetch_sub_explicit(&l->f->subscribers, 1, memory_order_relaxed);
    free(s);
}
