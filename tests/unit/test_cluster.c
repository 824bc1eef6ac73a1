/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the nodes of a cluster share through the store (store/cluster.h, issue 16): leases taken
 * by one owner at a time, renewed by their owner, taken over after they expire and given up;
 * sign-in failures counted per key in a window; and the counts marks that reactions and votes
 * write in their own transaction, turned into one "counts" event per post by
 * store_counts_flush. Runs on SQLite and, in make check, on PostgreSQL (cluster_pg).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/secret.h"
#include "harness.h"
#include "store/cluster.h"
#include "store/reactions.h"
#include "store/store.h"
#include "store_fixture.h"
#include "test_db.h"

#define THUMBS "\xf0\x9f\x91\x8d" /* 👍 */
#define HEART  "\xe2\x9d\xa4\xef\xb8\x8f"

TEST(lease_one_owner_at_a_time_renewed_taken_over_after_expiry_released)
{
    struct fixture fx;
    int64_t until = 0, until2 = 0;

    CHECK_INT(fixture_setup(&fx, "lease"), ==, 0);
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-a", 5000, &until), ==, 0);
    CHECK(until >= clock_now_ms() + 4000);
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-b", 5000, &until2), ==, -EBUSY);
    /* Another name is another lease. */
    CHECK_INT(store_lease_take(fx.s, "counts", "node-b", 5000, &until2), ==, 0);
    /* The owner renews. */
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-a", 5000, &until2), ==, 0);
    CHECK(until2 >= until);
    /* Past its end (node-a died), node-b takes it; node-a then cannot renew it. */
    clock_set_offset_ms(6000);
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-b", 5000, &until), ==, 0);
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-a", 5000, &until), ==, -EBUSY);
    CHECK_INT(test_db_int(fx.dir, "SELECT count(*) FROM leases WHERE name = 'jobs'"), ==, 1);
    /* Given up, it is free at once; releasing someone else's lease changes nothing. */
    CHECK_INT(store_lease_release(fx.s, "jobs", "node-a"), ==, 0);
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-a", 5000, &until), ==, -EBUSY);
    CHECK_INT(store_lease_release(fx.s, "jobs", "node-b"), ==, 0);
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-a", 5000, &until), ==, 0);
    CHECK_INT(store_lease_take(fx.s, "", "node-a", 5000, &until), ==, -EINVAL);
    CHECK_INT(store_lease_take(fx.s, "jobs", "node-a", 0, &until), ==, -EINVAL);
    fixture_teardown(&fx);
}

TEST(signin_failures_count_per_key_in_a_window_and_clear)
{
    struct fixture fx;
    uint8_t k[2][SECRET_HASH_LEN];
    const uint8_t(*both)[SECRET_HASH_LEN] = (const uint8_t(*)[SECRET_HASH_LEN])k;
    const uint8_t(*ip)[SECRET_HASH_LEN] = both + 1;
    int64_t fails = 0, since = 0;
    const int64_t window = 60000;

    CHECK_INT(fixture_setup(&fx, "signin"), ==, 0);
    secret_sha256("acct:ana@a.it", 13, k[0]);
    secret_sha256("ip:192.0.2.1", 12, k[1]);
    CHECK_INT(store_signin_failures(fx.r, k[0], clock_now_ms(), window, &fails, &since), ==, 0);
    CHECK_INT(fails, ==, 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT(store_signin_fail(fx.s, both, 2, window, NULL, NULL), ==, 0);
    CHECK_INT(store_signin_fail(fx.s, ip, 1, window, NULL, NULL), ==, 0);
    CHECK_INT(store_signin_failures(fx.r, k[0], clock_now_ms(), window, &fails, &since), ==, 0);
    CHECK_INT(fails, ==, 3);
    CHECK(since > 0 && since <= clock_now_ms());
    CHECK_INT(store_signin_failures(fx.r, k[1], clock_now_ms(), window, &fails, &since), ==, 0);
    CHECK_INT(fails, ==, 4);
    /* A right password forgets the account's failures, not the address's. */
    CHECK_INT(store_signin_clear(fx.s, k[0], NULL, NULL), ==, 0);
    CHECK_INT(store_signin_failures(fx.r, k[0], clock_now_ms(), window, &fails, &since), ==, 0);
    CHECK_INT(fails, ==, 0);
    /* Once the window is over the failures no longer count, and the next one starts anew. */
    clock_set_offset_ms(window + 1000);
    CHECK_INT(store_signin_failures(fx.r, k[1], clock_now_ms(), window, &fails, &since), ==, 0);
    CHECK_INT(fails, ==, 0);
    CHECK_INT(store_signin_fail(fx.s, ip, 1, window, NULL, NULL), ==, 0);
    CHECK_INT(store_signin_failures(fx.r, k[1], clock_now_ms(), window, &fails, &since), ==, 0);
    CHECK_INT(fails, ==, 1);
    CHECK_INT(store_signin_fail(fx.s, both, 3, window, NULL, NULL), ==, -EINVAL);
    fixture_teardown(&fx);
}

TEST(counts_marks_become_one_event_per_post_and_go)
{
    struct fixture fx;
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN];
    int64_t p1, p2, n = 0;
    bool any = true;

    CHECK_INT(fixture_setup(&fx, "marks"), ==, 0);
    p1 = fixture_post(&fx, "uno", 0);
    p2 = fixture_post(&fx, "due", 0);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    CHECK_INT(fixture_follower(&fx, 2, b), ==, 0);
    CHECK_INT(store_counts_pending(fx.r, &any), ==, 0);
    CHECK(!any);
    /* Nothing changes, nothing is marked. */
    CHECK_INT(store_reaction_delete(fx.s, a, p1, NULL, NULL), ==, 0);
    CHECK_INT(store_counts_pending(fx.r, &any), ==, 0);
    CHECK(!any);
    /* Three reactions on p1 and one on p2: two marks, two events. */
    CHECK_INT(store_reaction_put(fx.s, a, p1, THUMBS, strlen(THUMBS), NULL, NULL), ==, 0);
    CHECK_INT(store_reaction_put(fx.s, b, p1, THUMBS, strlen(THUMBS), NULL, NULL), ==, 0);
    CHECK_INT(store_reaction_put(fx.s, a, p1, HEART, strlen(HEART), NULL, NULL), ==, 0);
    CHECK_INT(store_reaction_put(fx.s, b, p2, HEART, strlen(HEART), NULL, NULL), ==, 0);
    CHECK_INT(store_counts_pending(fx.r, &any), ==, 0);
    CHECK(any);
    CHECK_INT(test_db_int(fx.dir, "SELECT count(*) FROM counts_dirty"), ==, 2);
    CHECK_INT(store_counts_flush(fx.s, 1, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(store_counts_flush(fx.s, COUNTS_BATCH_MAX, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(store_counts_flush(fx.s, COUNTS_BATCH_MAX, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    CHECK_INT(test_db_int(fx.dir, "SELECT count(*) FROM events WHERE kind = 'counts'"), ==, 2);
    CHECK_INT(store_counts_pending(fx.r, &any), ==, 0);
    CHECK(!any);
    /* "Forget me" marks the posts its reactions counted on. */
    CHECK_INT(store_follower_forget(fx.s, b, NULL, NULL), ==, 0);
    CHECK_INT(test_db_int(fx.dir, "SELECT count(*) FROM counts_dirty"), ==, 2);
    CHECK_INT(store_counts_flush(fx.s, 0, &n), ==, -EINVAL);
    fixture_teardown(&fx);
}
