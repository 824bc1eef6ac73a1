/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The counts coalescer. On a flood day thousands of followers react to the same post within
 * seconds; an event per reaction would be thousands of events a second per post, each sent to
 * every subscriber. Instead a reaction or vote only marks its post dirty (a set of post ids
 * under a mutex: O(1), no store work), and this thread, every COUNTS_INTERVAL_MS, takes the
 * whole set and writes one "counts" event per dirty post in one store write, with the
 * counters as they are in that transaction. The events go through the store like any other,
 * so the fan-out delivers them and a stream resuming with Last-Event-ID gets them too.
 *
 * The interval is measured from the end of one flush to the start of the next, so two events
 * for the same post are always at least COUNTS_INTERVAL_MS apart. A mark that arrives during a
 * flush lands in the fresh set and goes out at the next tick: no change is ever lost, it is at
 * most one interval (plus a commit) late. A thread, not a loop timer: the store write blocks
 * until it is durable.
 */
#include "api/counts_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/reactions.h"

#define DIRTY_MIN_CAP 64

/* Open addressing over post ids (never 0), load at most 1/2. Members private. */
struct dirty {
    int64_t *slot;
    size_t cap, len;
};

struct api_counts {
    struct store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    struct dirty set; /* under mu */
};

static size_t slot_of(int64_t id, size_t cap)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL; /* Fibonacci hashing */

    return (size_t)(h >> 32) & (cap - 1);
}

/* Insert without growing; true when `id` was not there yet. */
static bool dirty_put(struct dirty *d, int64_t id)
{
    size_t i = slot_of(id, d->cap);

    while (d->slot[i]) {
        if (d->slot[i] == id)
            return false;
        i = (i + 1) & (d->cap - 1);
    }
    d->slot[i] = id;
    d->len++;
    return true;
}

static void dirty_add(struct dirty *d, int64_t id)
{
    if (!d->slot) {
        d->cap = DIRTY_MIN_CAP;
        d->slot = xcalloc(d->cap, sizeof(*d->slot));
    }
    if ((d->len + 1) * 2 > d->cap) {
        struct dirty bigger = { xcalloc(d->cap * 2, sizeof(*d->slot)), d->cap * 2, 0 };

        for (size_t i = 0; i < d->cap; i++) {
            if (d->slot[i])
                (void)dirty_put(&bigger, d->slot[i]);
        }
        free(d->slot);
        *d = bigger;
    }
    (void)dirty_put(d, id);
}

void api__counts_mark(struct api_counts *c, int64_t post_id)
{
    if (!c || post_id <= 0)
        return;
    pthread_mutex_lock(&c->mu);
    dirty_add(&c->set, post_id);
    pthread_mutex_unlock(&c->mu);
}

/* One store write with the "counts" events of `n` posts (blocks until durable). */
static void write_batch(struct api_counts *c, const int64_t *ids, size_t n)
{
    int err = store_counts_events(c->store, ids, n, NULL, NULL, NULL);

    if (err == -ENOBUFS) {
        /* The write queue is full (overload): these posts go out at the next tick. */
        pthread_mutex_lock(&c->mu);
        for (size_t k = 0; k < n; k++)
            dirty_add(&c->set, ids[k]);
        pthread_mutex_unlock(&c->mu);
    } else if (err && err != -ESHUTDOWN) {
        log_warn("counts: writing counts events failed: %s", strerror(-err));
    }
}

/* Write one "counts" event per post of `d`, COUNTS_BATCH_MAX posts per store write. */
static void flush(struct api_counts *c, const struct dirty *d)
{
    int64_t *ids = xmalloc(COUNTS_BATCH_MAX * sizeof(*ids));
    size_t n = 0;

    for (size_t i = 0; i < d->cap; i++) {
        if (!d->slot[i])
            continue;
        ids[n++] = d->slot[i];
        if (n == COUNTS_BATCH_MAX) {
            write_batch(c, ids, n);
            n = 0;
        }
    }
    if (n)
        write_batch(c, ids, n);
    free(ids);
}

static void *run(void *arg)
{
    struct api_counts *c = arg;
    struct dirty taken;
    struct timespec ts;
    bool stopping = false;

    pthread_mutex_lock(&c->mu);
    while (!stopping) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += COUNTS_INTERVAL_MS / 1000;
        ts.tv_nsec += (COUNTS_INTERVAL_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!c->stop && pthread_cond_timedwait(&c->cond, &c->mu, &ts) != ETIMEDOUT)
            ;
        stopping = c->stop;
        taken = c->set;
        memset(&c->set, 0, sizeof(c->set));
        pthread_mutex_unlock(&c->mu);
        if (taken.len)
            flush(c, &taken);
        free(taken.slot);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

struct api_counts *api__counts_start(struct store *store)
{
    struct api_counts *c = xcalloc(1, sizeof(*c));
    pthread_condattr_t ca;
    int err;

    c->store = store;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    err = pthread_create(&c->thread, NULL, run, c);
    if (err) {
        log_error("counts: cannot start the coalescer thread: %s", strerror(err));
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return NULL;
    }
    return c;
}

void api__counts_stop(struct api_counts *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL); /* the thread flushes what is left before it exits */
    free(c->set.slot);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
