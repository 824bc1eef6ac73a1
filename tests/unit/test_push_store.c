/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push in the store (store/push.h): campaigns written with the post, the 15-minute edit
 * window, the queue's leases surviving a crash, outcomes (sent, gone, retry), deletion, limits
 * and "forget me". Times move with clock_set_offset_ms().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "harness.h"
#include "store/channels.h"
#include "store/posts.h"
#include "store/push.h"
#include "store_fixture.h"

#define MINUTE (60LL * 1000)

static struct store_push_job jobs[8];

static int64_t important(struct fixture *fx, const char *text, int64_t publish_at_ms)
{
    struct store_post_fields f = { .text = text,
                                   .has_importance = true,
                                   .importance = STORE_IMPORTANT,
                                   .publish_at_ms = publish_at_ms };
    int64_t id = 0;

    return store_post_create(fx->s, fx->channel, fx->user, &f, NULL, NULL, &id) ? 0 : id;
}

static int subscribe(struct fixture *fx, const uint8_t h[SECRET_HASH_LEN], int n, unsigned max)
{
    struct store_push_sub_new sub = { .origin = "https://push.example" };
    char ep[64];

    snprintf(ep, sizeof(ep), "https://push.example/s/%d", n);
    sub.endpoint = ep;
    memset(sub.p256dh, n, sizeof(sub.p256dh));
    sub.p256dh[0] = 0x04;
    return store_push_sub_add(fx->s, h, &sub, max, NULL, NULL);
}

static struct store_push_progress progress(struct fixture *fx, int64_t post)
{
    struct store_push_progress p;

    if (store_push_progress(fx->r, post, &p) != 0)
        memset(&p, 0xff, sizeof(p));
    return p;
}

#define NODE_A "node-a"
#define NODE_B "node-b"

static size_t claim_as(struct fixture *fx, const char *node, int64_t lease_ms)
{
    size_t n = 0;

    return store_push_claim(fx->s, node, 8, NULL, lease_ms, jobs, &n) ? 99 : n;
}

static size_t claim(struct fixture *fx)
{
    return claim_as(fx, NODE_A, 60000);
}

static int outcome_as(struct fixture *fx, const char *node, const struct store_push_job *j,
                      enum store_push_outcome o, int64_t at)
{
    struct store_push_result r = { .queue_id = j->queue_id,
                                   .post_id = j->post_id,
                                   .sub_id = j->sub_id,
                                   .outcome = o,
                                   .retry_at_ms = at };

    return store_push_results(fx->s, node, &r, 1);
}

static int outcome(struct fixture *fx, const struct store_push_job *j, enum store_push_outcome o,
                   int64_t at)
{
    return outcome_as(fx, NODE_A, j, o, at);
}

TEST(campaign_is_written_with_the_post_and_edits_replace_within_15_minutes)
{
    struct fixture fx;
    uint8_t h[SECRET_HASH_LEN];
    char topic[32];
    int64_t post, normal;
    int released = 0;

    CHECK_INT(fixture_setup(&fx, "push_campaign"), ==, 0);
    CHECK_INT(fixture_follower(&fx, 1, h), ==, 0);
    CHECK_INT(subscribe(&fx, h, 1, 5), ==, 0);
    normal = fixture_post(&fx, "Orari", 0);
    CHECK(!progress(&fx, normal).exists);
    post = important(&fx, "Allerta rossa\nseconda riga", 0);
    CHECK(progress(&fx, post).exists);
    CHECK_INT(progress(&fx, post).total, ==, 1);
    CHECK_INT(claim(&fx), ==, 1);
    CHECK(strstr(jobs[0].payload, "\"title\":\"Allerta rossa\"") != NULL);
    CHECK_STR(jobs[0].endpoint, "https://push.example/s/1");
    snprintf(topic, sizeof(topic), "post-%lld", (long long)post);
    CHECK_STR(jobs[0].topic, topic);
    CHECK_INT(claim(&fx), ==, 0); /* leased */
    /* A crash: the next start releases the lease and the delivery is due again. */
    CHECK_INT(store_push_recover(fx.s, NODE_A, &released), ==, 0);
    CHECK_INT(released, ==, 1);
    CHECK_INT(claim(&fx), ==, 1);
    CHECK_INT(outcome(&fx, &jobs[0], STORE_PUSH_SENT, 0), ==, 0);
    CHECK_INT(progress(&fx, post).sent, ==, 1);
    CHECK_INT(progress(&fx, post).remaining, ==, 0);
    /* Edited 10 minutes later: queued again with the new text. */
    clock_set_offset_ms(10 * MINUTE);
    CHECK_INT(store_post_edit(fx.s, post, fx.user,
                              &(struct store_post_fields){ .text = "Allerta rossa: evacuare" },
                              NULL, NULL),
              ==, 0);
    CHECK_INT(progress(&fx, post).total, ==, 2);
    CHECK_INT(claim(&fx), ==, 1);
    CHECK(strstr(jobs[0].payload, "evacuare") != NULL);
    /* Edited again while in flight: sent once more after this answer. */
    CHECK_INT(store_post_edit(fx.s, post, fx.user,
                              &(struct store_post_fields){ .text = "Allerta rossa: evacuare ora" },
                              NULL, NULL),
              ==, 0);
    CHECK_INT(outcome(&fx, &jobs[0], STORE_PUSH_SENT, 0), ==, 0);
    CHECK_INT(claim(&fx), ==, 1);
    CHECK(strstr(jobs[0].payload, "evacuare ora") != NULL);
    CHECK_INT(outcome(&fx, &jobs[0], STORE_PUSH_SENT, 0), ==, 0);
    CHECK_INT(progress(&fx, post).remaining, ==, 0);
    /* 16 minutes after publication an edit pushes nothing. */
    clock_set_offset_ms(16 * MINUTE);
    CHECK_INT(store_post_edit(fx.s, post, fx.user,
                              &(struct store_post_fields){ .text = "Cessata allerta" }, NULL, NULL),
              ==, 0);
    CHECK_INT(progress(&fx, post).remaining, ==, 0);
    CHECK_INT(claim(&fx), ==, 0);
    fixture_teardown(&fx);
}

TEST(scheduled_posts_push_when_published_and_deleted_posts_drop_their_queue)
{
    struct fixture fx;
    uint8_t h[SECRET_HASH_LEN];
    int64_t post;
    int n = 0;

    CHECK_INT(fixture_setup(&fx, "push_sched"), ==, 0);
    CHECK_INT(fixture_follower(&fx, 1, h), ==, 0);
    CHECK_INT(subscribe(&fx, h, 1, 5), ==, 0);
    post = important(&fx, "Esercitazione", clock_now_ms() + 5 * MINUTE);
    CHECK(post > 0);
    CHECK(!progress(&fx, post).exists);
    CHECK_INT(store_posts_publish_due(fx.s, clock_now_ms() + 6 * MINUTE, 10, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(progress(&fx, post).remaining, ==, 1);
    CHECK_INT(store_post_delete(fx.s, post, fx.user, NULL, NULL), ==, 0);
    CHECK(!progress(&fx, post).exists);
    CHECK_INT(claim(&fx), ==, 0);
    fixture_teardown(&fx);
}

TEST(outcomes_gone_retry_and_limits)
{
    struct fixture fx;
    uint8_t h[SECRET_HASH_LEN];
    int64_t post, due = 0;
    struct store_push_progress p;

    CHECK_INT(fixture_setup(&fx, "push_outcomes"), ==, 0);
    CHECK_INT(fixture_follower(&fx, 1, h), ==, 0);
    CHECK_INT(subscribe(&fx, h, 1, 2), ==, 0);
    CHECK_INT(subscribe(&fx, h, 2, 2), ==, 0);
    CHECK_INT(subscribe(&fx, h, 1, 2), ==, 0); /* a refresh is not a third */
    CHECK_INT(subscribe(&fx, h, 3, 2), ==, -EDQUOT);
    post = important(&fx, "Ponte chiuso", 0);
    CHECK_INT(claim(&fx), ==, 2);
    CHECK_INT(outcome(&fx, &jobs[0], STORE_PUSH_GONE, 0), ==, 0);
    CHECK_INT(outcome(&fx, &jobs[1], STORE_PUSH_RETRY, clock_now_ms() + 60000), ==, 0);
    p = progress(&fx, post);
    CHECK_INT(p.failed, ==, 1);
    CHECK_INT(p.remaining, ==, 1);
    CHECK_INT(store_push_next_due(fx.r, &due), ==, 0);
    CHECK(due > clock_now_ms() + 50000);
    CHECK_INT(claim(&fx), ==, 0); /* not due yet */
    /* The gone subscription is deleted: only one is left. */
    CHECK_INT(subscribe(&fx, h, 3, 2), ==, 0);
    /* "Forget me" takes the subscriptions and their deliveries. */
    CHECK_INT(store_follower_forget(fx.s, h, NULL, NULL), ==, 0);
    CHECK_INT(progress(&fx, post).remaining, ==, 0);
    CHECK_INT(store_push_next_due(fx.r, &due), ==, 0);
    CHECK(due == INT64_MAX);
    fixture_teardown(&fx);
}

/*
 * Several nodes on one database (issue 16): a node's restart releases only its own leases; a
 * lease whose node stopped renewing it is taken over when it ends; the old owner's late
 * outcomes are final if sent, and its retry no longer moves a delivery another node holds.
 */
TEST(leases_belong_to_their_node_and_are_taken_over_when_they_end)
{
    struct fixture fx;
    uint8_t h[SECRET_HASH_LEN];
    struct store_push_job a0, a1;
    int64_t ids[2];
    int64_t post;
    int released = -1, renewed = -1;

    CHECK_INT(fixture_setup(&fx, "push_lease"), ==, 0);
    CHECK_INT(fixture_follower(&fx, 1, h), ==, 0);
    CHECK_INT(subscribe(&fx, h, 1, 5), ==, 0);
    CHECK_INT(subscribe(&fx, h, 2, 5), ==, 0);
    post = important(&fx, "Allerta arancione", 0);
    CHECK_INT(claim_as(&fx, NODE_A, MINUTE), ==, 2);
    a0 = jobs[0];
    a1 = jobs[1];
    CHECK_INT(claim_as(&fx, NODE_B, MINUTE), ==, 0); /* A's leases */
    /* B (re)starting releases none of A's: A may be alive and sending. */
    CHECK_INT(store_push_recover(fx.s, NODE_B, &released), ==, 0);
    CHECK_INT(released, ==, 0);
    CHECK_INT(claim_as(&fx, NODE_B, MINUTE), ==, 0);
    /* A live A renews the leases it is sending: 50 s later, then 100 s after the claim, they
     * still hold. */
    clock_set_offset_ms(50 * 1000);
    ids[0] = a0.queue_id;
    ids[1] = a1.queue_id;
    CHECK_INT(store_push_renew(fx.s, NODE_A, ids, 2, MINUTE, &renewed), ==, 0);
    CHECK_INT(renewed, ==, 2);
    CHECK_INT(store_push_renew(fx.s, NODE_B, ids, 2, MINUTE, &renewed), ==, 0);
    CHECK_INT(renewed, ==, 0); /* not B's */
    clock_set_offset_ms(100 * 1000);
    CHECK_INT(claim_as(&fx, NODE_B, MINUTE), ==, 0);
    /* A dies: a minute after its last renewal B takes both over. */
    clock_set_offset_ms(111 * 1000);
    CHECK_INT(claim_as(&fx, NODE_B, MINUTE), ==, 2);
    CHECK_INT(store_push_renew(fx.s, NODE_A, ids, 2, MINUTE, &renewed), ==, 0);
    CHECK_INT(renewed, ==, 0); /* not A's any more */
    /* A was only slow: its retry must not release B's lease (a third node would send it). */
    CHECK_INT(outcome_as(&fx, NODE_A, &a0, STORE_PUSH_RETRY, clock_now_ms()), ==, 0);
    CHECK_INT(claim_as(&fx, "node-c", MINUTE), ==, 0);
    /* A's "sent" is final: the row goes, counted once; B's later answer changes nothing. */
    CHECK_INT(outcome_as(&fx, NODE_A, &a1, STORE_PUSH_SENT, 0), ==, 0);
    CHECK_INT(progress(&fx, post).sent, ==, 1);
    CHECK_INT(progress(&fx, post).remaining, ==, 1);
    CHECK_INT(outcome_as(&fx, NODE_B, &a1, STORE_PUSH_SENT, 0), ==, 0);
    CHECK_INT(outcome_as(&fx, NODE_B, &a0, STORE_PUSH_SENT, 0), ==, 0);
    CHECK_INT(progress(&fx, post).sent, ==, 2);
    CHECK_INT(progress(&fx, post).remaining, ==, 0);
    /* A restarting releases its own leases at once (a single node's fast recovery). */
    post = important(&fx, "Allerta rossa", 0);
    CHECK_INT(claim_as(&fx, NODE_A, MINUTE), ==, 2);
    CHECK_INT(store_push_recover(fx.s, NODE_B, &released), ==, 0);
    CHECK_INT(released, ==, 0);
    CHECK_INT(store_push_recover(fx.s, NODE_A, &released), ==, 0);
    CHECK_INT(released, ==, 2);
    CHECK_INT(claim_as(&fx, NODE_B, MINUTE), ==, 2);
    CHECK_INT(store_push_recover(fx.s, "", &released), ==, -EINVAL);
    fixture_teardown(&fx);
}

TEST(one_vapid_key_per_database_the_first_offered_wins)
{
    struct fixture fx;
    char first[128], second[128];
    char *pem = NULL;
    bool stored = false;

    memset(first, 'a', sizeof(first) - 1);
    first[sizeof(first) - 1] = '\0';
    memset(second, 'b', sizeof(second) - 1);
    second[sizeof(second) - 1] = '\0';
    CHECK_INT(fixture_setup(&fx, "push_vapid"), ==, 0);
    CHECK_INT(store_push_vapid(fx.s, first, &pem, &stored), ==, 0);
    CHECK(stored);
    CHECK_STR(pem, first);
    free(pem);
    pem = NULL;
    CHECK_INT(store_push_vapid(fx.s, second, &pem, &stored), ==, 0);
    CHECK(!stored);
    CHECK_STR(pem, first);
    free(pem);
    pem = NULL;
    CHECK_INT(store_push_vapid(fx.s, "short", &pem, &stored), ==, -EINVAL);
    CHECK(pem == NULL);
    fixture_teardown(&fx);
}
