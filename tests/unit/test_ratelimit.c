/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Token buckets (capacity, refill over the window, retry-after, reset, bounded memory, threads)
 * and the work pool that checks passwords off the event loops.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/ratelimit.h"
#include "core/workpool.h"
#include "harness.h"

#define K(s) (s), strlen(s)

TEST(capacity_then_refused_with_retry_after)
{
    struct ratelimit *rl = ratelimit_new(64, 5, 15 * 60 * 1000);
    int64_t wait = -1;

    for (int i = 0; i < 5; i++)
        CHECK_INT(ratelimit_take(rl, K("acct:a@b.it"), 1000, &wait), ==, 0);
    CHECK_INT(ratelimit_check(rl, K("acct:a@b.it"), 1000, &wait), ==, -EAGAIN);
    CHECK_INT(ratelimit_take(rl, K("acct:a@b.it"), 1000, &wait), ==, -EAGAIN);
    /* One token comes back every window / capacity = 3 minutes. */
    CHECK_INT(wait, ==, 3 * 60 * 1000);
    /* Another key is independent. */
    CHECK_INT(ratelimit_check(rl, K("acct:c@b.it"), 1000, NULL), ==, 0);
    ratelimit_free(rl);
}

TEST(refills_over_the_window)
{
    struct ratelimit *rl = ratelimit_new(64, 2, 1000);
    int64_t wait = 0;

    CHECK_INT(ratelimit_take(rl, K("k"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("k"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("k"), 0, &wait), ==, -EAGAIN);
    CHECK_INT(wait, ==, 500);
    CHECK_INT(ratelimit_take(rl, K("k"), 499, &wait), ==, -EAGAIN);
    CHECK_INT(wait, ==, 1);
    CHECK_INT(ratelimit_take(rl, K("k"), 500, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("k"), 500, NULL), ==, -EAGAIN);
    /* A long pause refills completely but never beyond capacity. */
    CHECK_INT(ratelimit_take(rl, K("k"), 100000, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("k"), 100000, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("k"), 100000, NULL), ==, -EAGAIN);
    ratelimit_free(rl);
}

TEST(check_does_not_take_and_reset_refills)
{
    struct ratelimit *rl = ratelimit_new(16, 1, 60000);

    CHECK_INT(ratelimit_check(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_check(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_check(rl, K("ip:192.0.2.1"), 0, NULL), ==, -EAGAIN);
    ratelimit_reset(rl, K("ip:192.0.2.1"));
    CHECK_INT(ratelimit_check(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    ratelimit_free(rl);
}

TEST(give_refunds_one_token_never_past_capacity)
{
    struct ratelimit *rl = ratelimit_new(16, 2, 60000);

    /* Reserve both tokens, refund one: one more take succeeds, then the bucket is empty. */
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    ratelimit_give(rl, K("ip:192.0.2.1"), 0);
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, -EAGAIN);
    /* Refunds past capacity are dropped; an unknown key is left alone. */
    for (int i = 0; i < 5; i++)
        ratelimit_give(rl, K("ip:192.0.2.1"), 0);
    ratelimit_give(rl, K("ip:192.0.2.9"), 0);
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, 0);
    CHECK_INT(ratelimit_take(rl, K("ip:192.0.2.1"), 0, NULL), ==, -EAGAIN);
    ratelimit_free(rl);
}

TEST(many_keys_stay_bounded_and_keep_limiting_recent_ones)
{
    struct ratelimit *rl = ratelimit_new(16, 1, 60000);
    char key[32];
    int refused = 0;

    /* 10,000 keys through 16 slots: no growth, no crash. */
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "ip:10.0.%d.%d", i / 256, i % 256);
        CHECK_INT(ratelimit_take(rl, key, strlen(key), 0, NULL), ==, 0);
    }
    /* The key just used is still limited. */
    refused = ratelimit_take(rl, key, strlen(key), 0, NULL) == -EAGAIN;
    CHECK(refused);
    ratelimit_free(rl);
    ratelimit_free(NULL);
}

static struct ratelimit *shared;
static int granted;
static pthread_mutex_t granted_mu = PTHREAD_MUTEX_INITIALIZER;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        if (!ratelimit_take(shared, K("shared"), 0, NULL)) {
            pthread_mutex_lock(&granted_mu);
            granted++;
            pthread_mutex_unlock(&granted_mu);
        }
    }
    return NULL;
}

TEST(threads_never_get_more_than_capacity)
{
    pthread_t t[4];

    shared = ratelimit_new(64, 20, 60000);
    for (int i = 0; i < 4; i++)
        CHECK_INT(pthread_create(&t[i], NULL, hammer, NULL), ==, 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_INT(granted, ==, 20);
    ratelimit_free(shared);
}

/* ---- core/workpool, the other half of sign-in's plumbing ---- */

static atomic_int ran;

static void count_job(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
}

static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;

static void hold_job(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hold_mu);
    pthread_mutex_unlock(&hold_mu);
}

TEST(workpool_runs_every_job_and_bounds_its_queue)
{
    struct workpool *p = workpool_new(2, 1000);
    int full = 0;

    CHECK(p);
    for (int i = 0; i < 500; i++)
        CHECK_INT(workpool_submit(p, count_job, NULL), ==, 0);
    workpool_free(p); /* drains */
    CHECK_INT(atomic_load(&ran), ==, 500);

    /* One thread held busy, a queue of 2: the fourth job is refused, never lost silently. */
    p = workpool_new(1, 2);
    pthread_mutex_lock(&hold_mu);
    CHECK_INT(workpool_submit(p, hold_job, NULL), ==, 0);
    usleep(50000); /* let the thread take it */
    CHECK_INT(workpool_submit(p, hold_job, NULL), ==, 0);
    CHECK_INT(workpool_submit(p, hold_job, NULL), ==, 0);
    full = workpool_submit(p, hold_job, NULL);
    pthread_mutex_unlock(&hold_mu);
    CHECK_INT(full, ==, -ENOBUFS);
    workpool_free(p);
    workpool_free(NULL);
}
