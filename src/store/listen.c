/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Live delivery across nodes (PostgreSQL). Every node's writer sends, inside each batch's
 * transaction, a NOTIFY naming the positions it wrote (`(channel, seq)` per event, and the access
 * markers: store__events_notify). PostgreSQL delivers notifications only once their transaction
 * commits, and in commit order. This thread, one per serving node, LISTENs on its own
 * connection and, for each notification in order, reads the events it names from the events
 * table — once per node, whatever the number of subscribers — and hands them to the event sink,
 * which fans them out encoded once (fanout/). The node's own writes come back the same way: one
 * path, one order, the cluster's commit order, with access markers in their place between
 * events.
 *
 * Nothing is lost when a notification is: per channel this thread remembers the last seq the
 * sink heard (store/tail.c), and reads from there up to the notified seq, so a seq that skips
 * ahead fills its gap from the table (counted as backfilled). When the connection breaks (or is
 * reset, which drops the LISTEN), it reconnects, LISTENs again and THEN compares every
 * channel's last seq with what it heard: whatever committed in between is handed over. Access
 * markers committed during the outage cannot be read back (they are not stored); streams that
 * should have lost a channel then keep it until they reconnect, which is said in FANOUT.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store_int.h"

/* How often the thread looks at its stop flag while waiting; and how long between reconnects. */
#define WAIT_MS      200
#define RETRY_MS     1000
/* How long starting waits for the first LISTEN (the server should hear its first post). */
#define FIRST_WAIT_S 10

struct store__listener {
    char *conninfo;
    store_event_sink_fn *sink;
    void *sink_ctx;
    pthread_t thread;
    _Atomic bool stop;

    pthread_mutex_t mu; /* guards started (the first LISTEN, or giving up on it) */
    pthread_cond_t cond;
    bool started;

    /* the thread's own */
    struct db *db;
    struct store__tail heard;
    bool initialized; /* heard holds every channel's position: from now on, all is news */
    int64_t pend_ch, pend_upto; /* a run of one channel's notified events, read in one query */
    size_t pend_n;              /* how many events the run's notifications named */

    _Atomic bool connected;
    _Atomic uint64_t notifications;
    _Atomic uint64_t backfilled;
    _Atomic uint64_t reconnects;
    struct histogram lag;
};

/* Read the pending run of events from the table and hand it over. */
static void flush_run(struct store__listener *l)
{
    size_t got;

    if (!l->pend_ch)
        return;
    got = store__tail_hand_over(&l->heard, l->db, l->pend_ch, l->pend_upto, l->sink, l->sink_ctx);
    if (got > l->pend_n) /* events whose own notification never came (a gap) */
        atomic_fetch_add_explicit(&l->backfilled, got - l->pend_n, memory_order_relaxed);
    l->pend_ch = 0;
    l->pend_n = 0;
}

static bool parse_i64(const char **p, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(*p, &end, 10);
    if (end == *p || errno || v < 0)
        return false;
    *out = v;
    *p = end;
    return true;
}

/* One notification's payload (store_int.h, STORE_NOTIFY_CHANNEL): positions, then markers. */
static void on_notify(void *ctx, const char *payload)
{
    struct store__listener *l = ctx;
    const char *p = payload;
    int64_t sent_ms = 0;

    atomic_fetch_add_explicit(&l->notifications, 1, memory_order_relaxed);
    if (*p++ != 't' || !parse_i64(&p, &sent_ms)) {
        log_warn("store: ignoring a malformed notification on " STORE_NOTIFY_CHANNEL);
        return;
    }
    while (*p == ' ') {
        char tag = *++p;
        int64_t ch = 0, n = 0;

        p++;
        if ((tag != 'e' && tag != 'a') || !parse_i64(&p, &ch) || *p++ != '.' ||
            !parse_i64(&p, &n) || !ch)
            break;
        if (tag == 'e') {
            if (l->pend_ch && l->pend_ch != ch)
                flush_run(l);
            l->pend_ch = ch;
            l->pend_upto = n;
            l->pend_n++;
            continue;
        }
        /* an access marker: its kind runs to the next space; after the events before it */
        if (*p++ != '.')
            break;
        {
            char kind[STORE_EVENT_KIND_MAX + 1];
            size_t k = strcspn(p, " ");
            struct store_event ev = { .channel_id = ch, .channel = "", .payload = "{}",
                                      .payload_len = 2, .key = n, .kind = kind };

            if (!k || k > STORE_EVENT_KIND_MAX)
                break;
            memcpy(kind, p, k);
            kind[k] = '\0';
            p += k;
            flush_run(l);
            ev.created_ms = sent_ms;
            l->sink(l->sink_ctx, &ev, 1);
        }
    }
    flush_run(l);
    if (*p)
        log_warn("store: ignoring the rest of a malformed notification on " STORE_NOTIFY_CHANNEL);
    {
        int64_t now = clock_now_ms();

        histogram_observe(&l->lag, now > sent_ms ? (uint64_t)(now - sent_ms) * 1000 : 0);
    }
}

static void set_started(struct store__listener *l)
{
    pthread_mutex_lock(&l->mu);
    l->started = true;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mu);
}

static void pause_ms(struct store__listener *l, int ms)
{
    for (int t = 0; t < ms && !atomic_load(&l->stop); t += 50)
        nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000L }, NULL);
}

/* Connect, LISTEN, then catch up on what was committed while not listening. */
static bool connect_and_listen(struct store__listener *l)
{
    char err[256];
    size_t behind;

    if (db_pg_open(l->conninfo, &l->db, err, sizeof(err)))
        return false;
    if (db_pg_listen(l->db, STORE_NOTIFY_CHANNEL))
        goto fail;
    if (!l->initialized) {
        /* What was committed before this node started is history, not news. */
        if (store__tail_init(&l->heard, l->db))
            goto fail;
        l->initialized = true;
        return true;
    }
    behind = store__tail_scan(&l->heard, l->db, l->sink, l->sink_ctx);
    if (behind) {
        log_info("store: caught up on %zu channel(s) whose events committed while this node "
                 "was not listening",
                 behind);
    }
    return true;
fail:
    db_close(l->db);
    l->db = NULL;
    return false;
}

static void *listener_main(void *arg)
{
    struct store__listener *l = arg;
    bool said = false;

    while (!atomic_load(&l->stop)) {
        if (!connect_and_listen(l)) {
            if (!said)
                log_warn("store: cannot listen for other nodes' events; retrying every second");
            said = true;
            set_started(l); /* starting does not wait for an unreachable database */
            pause_ms(l, RETRY_MS);
            continue;
        }
        if (said)
            log_info("store: listening for other nodes' events again");
        said = false;
        atomic_store(&l->connected, true);
        set_started(l);
        while (!atomic_load(&l->stop)) {
            if (db_pg_wait_notify(l->db, WAIT_MS, on_notify, l))
                break;
        }
        atomic_store(&l->connected, false);
        db_close(l->db);
        l->db = NULL;
        if (!atomic_load(&l->stop)) {
            atomic_fetch_add_explicit(&l->reconnects, 1, memory_order_relaxed);
            log_warn("store: lost the connection that listens for other nodes' events; "
                     "reconnecting");
        }
    }
    return NULL;
}

struct store__listener *store__listener_start(const char *conninfo, store_event_sink_fn *sink,
                                              void *ctx)
{
    struct store__listener *l = xcalloc(1, sizeof(*l));
    struct timespec until;

    l->conninfo = xstrdup(conninfo);
    l->sink = sink;
    l->sink_ctx = ctx;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cond, NULL);
    if (pthread_create(&l->thread, NULL, listener_main, l)) {
        pthread_cond_destroy(&l->cond);
        pthread_mutex_destroy(&l->mu);
        free(l->conninfo);
        free(l);
        return NULL;
    }
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += FIRST_WAIT_S;
    pthread_mutex_lock(&l->mu);
    while (!l->started && pthread_cond_timedwait(&l->cond, &l->mu, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&l->mu);
    return l;
}

void store__listener_stop(struct store__listener *l)
{
    if (!l)
        return;
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
    db_close(l->db);
    store__tail_release(&l->heard);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->mu);
    free(l->conninfo);
    free(l);
}

void store__listener_stats(struct store__listener *l, struct store_stats *out)
{
    out->listening = l ? (atomic_load(&l->connected) ? 1 : 0) : -1;
    if (!l)
        return;
    out->listen_notifications_total = atomic_load(&l->notifications);
    out->listen_backfilled_total = atomic_load(&l->backfilled);
    out->listen_reconnects_total = atomic_load(&l->reconnects);
    out->listen_lag = &l->lag;
}
