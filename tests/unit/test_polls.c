/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Polls through the store's public headers: made with their post (and invalid ones refused
 * before queuing), single and multiple choice votes, changing and retracting a vote, a closed
 * poll (-ETIME), counts exact under concurrent voters and after "forget me" and the post's
 * deletion, and the poll as everyone sees it (store_poll_json): counts only.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/secret.h"
#include "harness.h"
#include "store/channels.h"
#include "store/orgs.h"
#include "store/posts.h"
#include "store/reactions.h"
#include "store/store.h"
#include "store_fixture.h"

/* A post with a poll of `n` options ("A", "B", ...). Returns its id, or 0. */
static int64_t poll_post(struct fixture *fx, unsigned n, bool multiple, int64_t closes_ms)
{
    static const char *const names[] = { "A", "B", "C", "D", "E", "F", "G",
                                         "H", "I", "J", "K", "L", "M" };
    struct store_poll_new p = {
        .question = "Quale?", .n_options = n, .multiple = multiple, .closes_ms = closes_ms
    };
    struct store_post_fields f = { .text = "Sondaggio", .poll = &p };
    int64_t id = 0;

    for (unsigned i = 0; i < n && i < POLL_OPTIONS_MAX; i++)
        p.options[i] = names[i];
    if (store_post_create(fx->s, fx->channel, fx->user, &f, NULL, NULL, &id))
        return 0;
    return id;
}

/* Post `id`'s poll as everyone sees it, compact JSON, into `out` ("" if none). */
static int poll_of(struct fixture *fx, int64_t id, char *out, size_t outlen)
{
    struct store_post *p = malloc(sizeof(*p));
    json_t *v = NULL;
    char *s = NULL;
    int err = p ? store_post_get(fx->r, id, p) : -ENOMEM;

    if (!err)
        v = store_poll_json(p->poll_json, clock_now_ms());
    if (v)
        s = json_dumps(v, JSON_COMPACT);
    snprintf(out, outlen, "%s", s ? s : "");
    free(s);
    json_decref(v);
    free(p);
    return err;
}

#define OPTS(a, b, c)                                                              \
    "\"options\":[{\"text\":\"A\",\"votes\":" #a "},{\"text\":\"B\",\"votes\":" #b \
    "},{\"text\":\"C\",\"votes\":" #c "}]"

TEST(poll_made_with_its_post_and_refused_when_invalid)
{
    struct fixture fx;
    struct store_poll_new p = { .question = "Q", .n_options = 1, .options = { "A" } };
    struct store_post_fields f = { .text = "x", .poll = &p };
    struct store_poll_info info;
    char got[1024];
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "poll_make"), ==, 0);
    id = poll_post(&fx, 3, false, 0);
    CHECK(id > 0);
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK_STR(
        got,
        "{\"question\":\"Quale?\"," OPTS(
            0, 0, 0) ",\"multiple\":false,\"closes_at\":null,\"closed\":false,\"total_voters\":0}");
    CHECK_INT(store_poll_get(fx.r, id, &info), ==, 0);
    CHECK_INT(info.n_options, ==, 3);
    CHECK(!info.multiple);
    CHECK_INT(store_poll_get(fx.r, fixture_post(&fx, "senza", 0), &info), ==, -ENOENT);
    /* 1 option, 13 options, an empty or over-long question or option: refused before queuing */
    CHECK_INT(store_post_create(fx.s, fx.channel, fx.user, &f, NULL, NULL, NULL), ==, -EINVAL);
    p.n_options = 13;
    CHECK_INT(store_post_create(fx.s, fx.channel, fx.user, &f, NULL, NULL, NULL), ==, -EINVAL);
    p.n_options = 2;
    p.options[1] = "";
    CHECK_INT(store_post_create(fx.s, fx.channel, fx.user, &f, NULL, NULL, NULL), ==, -EINVAL);
    p.options[1] = "B";
    p.question = "";
    CHECK_INT(store_post_create(fx.s, fx.channel, fx.user, &f, NULL, NULL, NULL), ==, -EINVAL);
    {
        char q[POLL_QUESTION_MAX + 2];

        memset(q, 'q', sizeof(q) - 1);
        q[sizeof(q) - 1] = 0;
        p.question = q;
        CHECK_INT(store_post_create(fx.s, fx.channel, fx.user, &f, NULL, NULL, NULL), ==, -EINVAL);
        q[POLL_QUESTION_MAX] = 0; /* exactly the limit */
        CHECK_INT(store_post_create(fx.s, fx.channel, fx.user, &f, NULL, NULL, NULL), ==, 0);
    }
    fixture_teardown(&fx);
}

TEST(votes_single_choice_change_and_retract)
{
    struct fixture fx;
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN], ghost[SECRET_HASH_LEN];
    char got[1024];
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "poll_single"), ==, 0);
    id = poll_post(&fx, 3, false, 0);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    CHECK_INT(fixture_follower(&fx, 2, b), ==, 0);
    secret_sha256("follower_ghost", 14, ghost);
    CHECK_INT(store_vote_put(fx.s, a, id, 1U << 0 | 1U << 2, NULL, NULL), ==, -EINVAL);
    CHECK_INT(store_vote_put(fx.s, a, id, 1U << 3, NULL, NULL), ==, -EINVAL); /* no option 3 */
    CHECK_INT(store_vote_put(fx.s, a, id, 0, NULL, NULL), ==, -EINVAL);
    CHECK_INT(store_vote_put(fx.s, ghost, id, 1, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_vote_put(fx.s, a, 987654, 1, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_vote_put(fx.s, a, id, 1U << 1, NULL, NULL), ==, 0);
    CHECK_INT(store_vote_put(fx.s, a, id, 1U << 1, NULL, NULL), ==, 0); /* the same again */
    CHECK_INT(store_vote_put(fx.s, b, id, 1U << 1, NULL, NULL), ==, 0);
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK(strstr(got, OPTS(0, 2, 0)));
    CHECK(strstr(got, "\"total_voters\":2"));
    CHECK_INT(store_vote_put(fx.s, a, id, 1U << 2, NULL, NULL), ==, 0); /* change */
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK(strstr(got, OPTS(0, 1, 1)));
    CHECK_INT(store_vote_delete(fx.s, b, id, NULL, NULL), ==, 0); /* retract */
    CHECK_INT(store_vote_delete(fx.s, b, id, NULL, NULL), ==, 0); /* idempotent */
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK(strstr(got, OPTS(0, 0, 1)));
    CHECK(strstr(got, "\"total_voters\":1"));
    /* "forget me" takes the vote and the voter with it */
    CHECK_INT(store_follower_forget(fx.s, a, NULL, NULL), ==, 0);
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK(strstr(got, OPTS(0, 0, 0)));
    CHECK(strstr(got, "\"total_voters\":0"));
    fixture_teardown(&fx);
}

TEST(votes_multiple_choice_and_closed_poll)
{
    struct fixture fx;
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN];
    char got[1024];
    int64_t closes = clock_now_ms() + 60000;
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "poll_multi"), ==, 0);
    id = poll_post(&fx, 3, true, closes);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    CHECK_INT(fixture_follower(&fx, 2, b), ==, 0);
    CHECK_INT(store_vote_put(fx.s, a, id, 1U << 0 | 1U << 2, NULL, NULL), ==, 0);
    CHECK_INT(store_vote_put(fx.s, b, id, 1U << 2, NULL, NULL), ==, 0);
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK(strstr(got, OPTS(1, 0, 2)));
    CHECK(strstr(got, "\"multiple\":true"));
    CHECK(strstr(got, "\"closed\":false"));
    CHECK(strstr(got, "\"total_voters\":2"));
    /* two minutes later the poll is closed: no vote, no change, no retraction */
    clock_set_offset_ms(120000);
    CHECK_INT(store_vote_put(fx.s, a, id, 1U << 1, NULL, NULL), ==, -ETIME);
    CHECK_INT(store_vote_delete(fx.s, b, id, NULL, NULL), ==, -ETIME);
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK(strstr(got, OPTS(1, 0, 2)));
    CHECK(strstr(got, "\"closed\":true"));
    fixture_teardown(&fx);
}

TEST(poll_goes_with_its_post)
{
    struct fixture fx;
    uint8_t a[SECRET_HASH_LEN];
    struct store_poll_info info;
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "poll_delete"), ==, 0);
    id = poll_post(&fx, 2, false, 0);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    CHECK_INT(store_vote_put(fx.s, a, id, 1, NULL, NULL), ==, 0);
    CHECK_INT(store_post_delete(fx.s, id, fx.user, NULL, NULL), ==, 0);
    CHECK_INT(store_poll_get(fx.r, id, &info), ==, -ENOENT);
    CHECK_INT(store_vote_put(fx.s, a, id, 1, NULL, NULL), ==, -ENOENT);
    /* and the follower can still be forgotten (its vote went with the post) */
    CHECK_INT(store_follower_forget(fx.s, a, NULL, NULL), ==, 0);
    fixture_teardown(&fx);
}

struct voters {
    struct fixture *fx;
    int64_t post_id;
    int first, n;
    atomic_int *done, *failed;
};

static void on_done(void *ctx, int err, int64_t id)
{
    struct voters *v = ctx;

    (void)id;
    if (err)
        atomic_fetch_add(v->failed, 1);
    atomic_fetch_add(v->done, 1);
}

static void *vote_burst(void *arg)
{
    struct voters *v = arg;
    uint8_t h[SECRET_HASH_LEN];
    char t[32];

    for (int i = v->first; i < v->first + v->n; i++) {
        snprintf(t, sizeof(t), "follower_%d", i);
        secret_sha256(t, strlen(t), h);
        if (store_vote_put(v->fx->s, h, v->post_id, 1U << (i % 3), on_done, v))
            atomic_fetch_add(v->failed, 1);
    }
    return NULL;
}

TEST(votes_exact_under_concurrent_voters)
{
    struct fixture fx;
    struct voters v[4];
    pthread_t th[4];
    atomic_int done = 0, failed = 0;
    uint8_t h[SECRET_HASH_LEN];
    char got[1024];
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "poll_many"), ==, 0);
    id = poll_post(&fx, 3, false, 0);
    for (int i = 0; i < 300; i++)
        CHECK_INT(fixture_follower(&fx, i, h), ==, 0);
    for (int k = 0; k < 4; k++) {
        v[k] = (struct voters){ &fx, id, k * 75, 75, &done, &failed };
        CHECK_INT(pthread_create(&th[k], NULL, vote_burst, &v[k]), ==, 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    for (int spin = 0; atomic_load(&done) < 300 && spin < 5000; spin++)
        usleep(1000);
    CHECK_INT(atomic_load(&failed), ==, 0);
    CHECK_INT(poll_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK(strstr(got, OPTS(100, 100, 100)));
    CHECK(strstr(got, "\"total_voters\":300"));
    fixture_teardown(&fx);
}

/* So that streams hear the new counts of every post a forgotten follower touched. */
TEST(forget_marks_each_post_whose_counts_dropped_once)
{
    struct fixture fx;
    int64_t written = -1;
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN];
    int64_t reacted, both, voted, viewed, untouched;

    CHECK_INT(fixture_setup(&fx, "poll_forget_touched"), ==, 0);
    reacted = fixture_post(&fx, "uno", 0);
    both = poll_post(&fx, 2, false, 0);
    voted = poll_post(&fx, 2, false, 0);
    viewed = fixture_post(&fx, "visto", 0);
    untouched = fixture_post(&fx, "altro", 0);
    CHECK(reacted > 0 && both > 0 && voted > 0 && viewed > 0 && untouched > 0);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    CHECK_INT(fixture_follower(&fx, 2, b), ==, 0);
    CHECK_INT(store_reaction_put(fx.s, a, reacted, "\xF0\x9F\x91\x8D", 4, NULL, NULL), ==, 0);
    CHECK_INT(store_reaction_put(fx.s, a, both, "\xF0\x9F\x91\x8D", 4, NULL, NULL), ==, 0);
    CHECK_INT(store_vote_put(fx.s, a, both, 1U << 0, NULL, NULL), ==, 0);
    CHECK_INT(store_vote_put(fx.s, a, voted, 1U << 1, NULL, NULL), ==, 0);
    CHECK_INT(store_views_add(fx.s, a, &viewed, 1, NULL, NULL), ==, 0);
    CHECK_INT(store_reaction_put(fx.s, b, untouched, "\xF0\x9F\x91\x8D", 4, NULL, NULL), ==, 0);
    CHECK_INT(store_counts_flush(fx.s, 100, &written), ==, 0); /* the reactions' own marks */
    CHECK_INT(store_follower_forget(fx.s, a, NULL, NULL), ==, 0);
    /* one counts event per post whose counts dropped; views are not among their triggers */
    CHECK_INT(store_counts_flush(fx.s, 100, &written), ==, 0);
    CHECK_INT(written, ==, 3);
    CHECK_INT(store_follower_forget(fx.s, b, NULL, NULL), ==, 0);
    CHECK_INT(store_counts_flush(fx.s, 100, &written), ==, 0);
    CHECK_INT(written, ==, 1); /* its one reaction */
    /* a follower with nothing to take back marks nothing */
    CHECK_INT(fixture_follower(&fx, 3, b), ==, 0);
    CHECK_INT(store_follower_forget(fx.s, b, NULL, NULL), ==, 0);
    CHECK_INT(store_counts_flush(fx.s, 100, &written), ==, 0);
    CHECK_INT(written, ==, 0);
    fixture_teardown(&fx);
}
