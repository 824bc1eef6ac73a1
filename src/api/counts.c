/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The counts coalescer. On a flood day thousands of followers react to the same post within
 * seconds; an event per reaction would be thousands of events a second per post, each sent to
 * every subscriber. Instead a reaction or vote only marks its post dirty, in its own
 * transaction (a row in counts_dirty: store__counts_mark), and this thread, every
 * COUNTS_INTERVAL_MS, turns the marks into one "counts" event per dirty post in one store
 * write, with the counters as they are in that transaction, deleting the marks it took. The
 * events go through the store like any other, so the fan-out delivers them and a stream
 * resuming with Last-Event-ID gets them too.
 *
 * Once per cluster: the marks live in the database, so reactions sent to any node of a cluster
 * are seen here, and only the node holding the "counts" lease (api/lease.c) writes the events.
 * So a post gets at most one counts event per interval from the whole cluster, not one per
 * node. A node that only reads that nothing is marked (one indexed read per interval) neither
 * takes the lease nor writes.
 *
 * The interval is measured from the end of one flush to the start of the next, so two events
 * for the same post are at least COUNTS_INTERVAL_MS apart (the lease changing hands, when its
 * holder died, is the one exception). A mark made during a flush is a new row (or stays,
 * taken after its event was read) and goes out at the next tick: no change is ever lost, it is
 * at most one interval (plus a commit) late, and not lost when a node stops: the next holder
 * writes it. A thread, not a loop timer: the store write blocks until it is durable.
 */
#include "api/counts_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "core/alloc.h"
#include "core/log.h"
#include "store/reactions.h"

struct api_counts {
    struct api_app *app;
    struct store_reader *rd;
    struct api_lease lease;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
};

/* Write the counts events of every marked post, COUNTS_BATCH_MAX per store write. */
static void flush(struct api_counts *c)
{
    int64_t n = 0;
    bool any = false;
    int err = store_counts_pending(c->rd, &any);

    if (err || !any || !api__lease_hold(c->app, &c->lease))
        return;
    do {
        err = store_counts_flush(c->app->store, COUNTS_BATCH_MAX, &n);
    } while (!err && n == COUNTS_BATCH_MAX);
    /* -ENOBUFS (the write queue is full): the marks stay, and go out at the next tick. */
    if (err && err != -ENOBUFS && err != -ESHUTDOWN)
        log_warn("counts: writing counts events failed: %s", strerror(-err));
}

static void *run(void *arg)
{
    struct api_counts *c = arg;
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
        pthread_mutex_unlock(&c->mu);
        flush(c);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    api__lease_release(c->app, &c->lease);
    return NULL;
}

struct api_counts *api__counts_start(struct api_app *app)
{
    struct api_counts *c = xcalloc(1, sizeof(*c));
    pthread_condattr_t ca;
    char why[256];
    int err;

    c->app = app;
    c->lease.name = "counts";
    c->rd = store_reader_open(app->store, why, sizeof(why));
    if (!c->rd) {
        log_error("counts: %s", why);
        free(c);
        return NULL;
    }
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
        store_reader_close(c->rd);
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
    store_reader_close(c->rd);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
