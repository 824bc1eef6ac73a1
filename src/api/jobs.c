/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Background jobs: one thread that publishes scheduled posts when they are due (checked every
 * JOBS_TICK_MS) and runs the retention sweeper (every JOBS_SWEEP_MS, and once at start). Both
 * keep all their state in the database, so a restart simply picks up where they were: a post
 * scheduled while the server was down goes out on the first tick after start.
 *
 * A thread of its own, not an event loop timer: its store calls block until the batch is
 * durable, which an event loop must never do. Each call is one small transaction, so the
 * writer interleaves the jobs with everyone else's writes.
 *
 * Once per cluster: every node runs this thread, and only the node holding the "jobs" lease
 * (api/lease.c) publishes and sweeps; when it dies another node takes the lease over after
 * cluster_lease_s. Publishing stays safe even if two nodes overlapped: the store publishes a
 * post with an UPDATE that matches it only while it is still scheduled.
 */
#include "api/api_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/posts.h"
#include "store/reports.h"

#define JOBS_TICK_MS       1000  /* scheduled posts go out at most this late */
#define JOBS_SWEEP_MS      60000 /* the retention sweeper runs every minute */
#define JOBS_PUBLISH_BATCH 100   /* scheduled posts per transaction */
#define JOBS_SWEEP_BATCH   200   /* swept posts (and events) per transaction */
#define JOBS_SWEEP_ROUNDS  50    /* batches per run at most; the rest waits for the next run */

struct api_jobs {
    struct store *store;
    struct api_app *app;
    struct api_lease lease;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
};

static void publish_due(struct api_jobs *j)
{
    int n = 0;
    int err;

    do {
        err = store_posts_publish_due(j->store, clock_now_ms(), JOBS_PUBLISH_BATCH, &n);
        if (n > 0)
            log_info("jobs: published %d scheduled post(s)", n);
        /* important posts' Web Push is queued by the store in that same transaction */
    } while (!err && n == JOBS_PUBLISH_BATCH);
    if (err && err != -ESHUTDOWN)
        log_warn("jobs: publishing scheduled posts failed: %s", strerror(-err));
}

/* Orphaned media files (api/media.c, when linked): after the rows that listed them went. */
void api__media_sweep(struct api_app *a, struct store_reader *reader) __attribute__((weak));

static void media_sweep(struct api_jobs *j)
{
    char err[256];
    struct store_reader *r = store_reader_open(j->store, err, sizeof(err));

    if (!r) {
        log_warn("jobs: %s", err);
        return;
    }
    api__media_sweep(j->app, r);
    store_reader_close(r);
}

static void sweep(struct api_jobs *j)
{
    int total = 0;
    int n = 0;
    int err = 0;

    for (int i = 0; i < JOBS_SWEEP_ROUNDS && !j->stop; i++) {
        err = store_retention_sweep(j->store, clock_now_ms(), JOBS_SWEEP_BATCH, &n);
        if (err || !n)
            break;
        total += n;
    }
    if (total)
        log_info("jobs: retention removed %d row(s)", total);
    if (err && err != -ESHUTDOWN)
        log_warn("jobs: retention sweep failed: %s", strerror(-err));
    /* Reporters' contact data of reports closed longer ago than their org keeps it. */
    for (int i = 0, e = 0; i < JOBS_SWEEP_ROUNDS && !j->stop; i++) {
        int64_t erased = 0;

        e = store_reports_erase_personal(j->store, clock_now_ms(), JOBS_SWEEP_BATCH, &erased);
        if (e && e != -ESHUTDOWN)
            log_warn("jobs: report contact erasure failed: %s", strerror(-e));
        if (e || !erased)
            break;
        log_info("jobs: erased the contact data of %lld closed report(s)", (long long)erased);
    }
    if (api__media_sweep && !j->stop)
        media_sweep(j);
}

static void *run(void *arg)
{
    struct api_jobs *j = arg;
    uint64_t next_sweep = 0; /* monotonic us; 0: sweep now */
    struct timespec ts;

    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        pthread_mutex_unlock(&j->mu);
        if (api__lease_hold(j->app, &j->lease)) {
            publish_due(j);
            if (clock_mono_us() >= next_sweep) {
                sweep(j);
                next_sweep = clock_mono_us() + JOBS_SWEEP_MS * 1000ULL;
            }
        } else {
            next_sweep = 0; /* sweep as soon as this node takes the lease */
        }
        pthread_mutex_lock(&j->mu);
        if (j->stop)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += JOBS_TICK_MS / 1000;
        ts.tv_nsec += (JOBS_TICK_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&j->cond, &j->mu, &ts);
    }
    pthread_mutex_unlock(&j->mu);
    api__lease_release(j->app, &j->lease);
    return NULL;
}

/*
 * ARALDO_TEST_CLOCK_OFFSET_MS (tests only, documented in docs/API.md): shift the wall
 * clock so API tests can watch retention and scheduling without waiting days. Logged loudly.
 */
static void test_clock(void)
{
    const char *s = getenv("ARALDO_TEST_CLOCK_OFFSET_MS");
    char *end;
    long long v;

    if (!s || !*s)
        return;
    v = strtoll(s, &end, 10);
    if (*end) {
        log_warn("jobs: ignoring ARALDO_TEST_CLOCK_OFFSET_MS='%s': not a number", s);
        return;
    }
    log_warn("jobs: TEST ONLY: wall clock shifted by %lld ms", v);
    clock_set_offset_ms(v);
}

struct api_jobs *api_jobs_start(struct api_app *app)
{
    struct api_jobs *j = xcalloc(1, sizeof(*j));
    pthread_condattr_t ca;
    int err;

    test_clock();
    j->store = app->store;
    j->app = app;
    j->lease.name = "jobs";
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cond, &ca);
    pthread_condattr_destroy(&ca);
    err = pthread_create(&j->thread, NULL, run, j);
    if (err) {
        log_error("jobs: cannot start the scheduler thread: %s", strerror(err));
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->mu);
        free(j);
        return NULL;
    }
    return j;
}

void api_jobs_stop(struct api_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->mu);
    free(j);
}
