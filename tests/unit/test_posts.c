/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Posts through the store's public headers: create and list with the cursor, scheduled posts
 * (invisible until the scheduler publishes them), edits and their history, the 30-day edit
 * window, pins, views counted once per follower and adjusted by "forget me", and the retention
 * sweeper in batches. Times are explicit: writes take the wall clock shifted with
 * clock_set_offset_ms(), the scheduler and the sweeper take now_ms.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/secret.h"
#include "harness.h"
#include "store/channels.h"
#include "store/media.h"
#include "store/orgs.h"
#include "store/posts.h"
#include "store/store.h"
#include "store_fixture.h"
#include "test_db.h"

#define DAY POST_DAY_MS

struct page {
    int n;
    int64_t ids[128];
    bool scheduled[128];
};

static void collect(void *ctx, const struct store_post *p)
{
    struct page *pg = ctx;

    pg->scheduled[pg->n] = p->scheduled;
    pg->ids[pg->n++] = p->id;
}

static int list(struct fixture *fx, int64_t before, unsigned limit, bool admin, struct page *pg,
                bool *more)
{
    struct store_post_query q = {
        .channel_id = fx->channel, .before_id = before, .limit = limit, .include_scheduled = admin
    };

    memset(pg, 0, sizeof(*pg));
    return store_post_list(fx->r, &q, collect, pg, more);
}

/* A count from the database file itself (tests only: what the store keeps inside). */
static long long count(struct fixture *fx, const char *sql)
{
    return test_db_int(fx->dir, sql);
}

TEST(posts_create_list_cursor)
{
    struct fixture fx;
    struct store_post *p = malloc(sizeof(*p));
    struct store_post_fields bad = { .text = "" };
    struct page pg;
    int64_t ids[5];
    bool more;
    json_t *v;

    CHECK(p);
    CHECK_INT(fixture_setup(&fx, "list"), ==, 0);
    for (int i = 0; i < 5; i++) {
        char t[32];

        snprintf(t, sizeof(t), "post *%d*", i);
        ids[i] = fixture_post(&fx, t, 0);
        CHECK(ids[i] > 0);
    }
    CHECK_INT(store_post_create(fx.s, fx.channel, fx.user, &bad, NULL, NULL, NULL), ==, -EINVAL);
    CHECK_INT(list(&fx, 0, 2, false, &pg, &more), ==, 0);
    CHECK_INT(pg.n, ==, 2);
    CHECK_INT(pg.ids[0], ==, ids[4]);
    CHECK_INT(pg.ids[1], ==, ids[3]);
    CHECK(more);
    CHECK_INT(list(&fx, pg.ids[1], 2, false, &pg, &more), ==, 0);
    CHECK_INT(pg.ids[0], ==, ids[2]);
    CHECK_INT(pg.ids[1], ==, ids[1]);
    CHECK_INT(list(&fx, pg.ids[1], 2, false, &pg, &more), ==, 0);
    CHECK_INT(pg.n, ==, 1);
    CHECK(!more);
    CHECK_INT(list(&fx, 999999, 2, false, &pg, &more), ==, -ENOENT);

    CHECK_INT(store_post_get(fx.r, ids[0], p), ==, 0);
    CHECK_STR(p->channel, "notizie");
    CHECK_INT(p->importance, ==, STORE_NORMAL);
    v = store_post_json(p);
    CHECK_STR(json_string_value(json_object_get(v, "html")), "post <strong>0</strong>");
    CHECK(json_object_get(v, "author") == NULL);
    json_decref(v);
    /* one "post.created" event and one audit entry per post, in the same transactions */
    CHECK_INT(count(&fx, "SELECT count(*) FROM events WHERE kind = 'post.created'"), ==, 5);
    CHECK_INT(count(&fx, "SELECT count(*) FROM audit_log WHERE action = 'post.create'"), ==, 5);
    CHECK_INT(count(&fx, "SELECT posts_count FROM channels"), ==, 5);
    CHECK(count(&fx, "SELECT last_post_ms FROM channels") > 0);
    free(p);
    fixture_teardown(&fx);
}

TEST(posts_scheduled_publish)
{
    struct fixture fx;
    struct page pg;
    int64_t now = clock_now_ms();
    int64_t sched;
    int n = -1;

    CHECK_INT(fixture_setup(&fx, "sched"), ==, 0);
    CHECK(fixture_post(&fx, "now", 0) > 0);
    sched = fixture_post(&fx, "later", now + 60000);
    CHECK(sched > 0);
    CHECK_INT(list(&fx, 0, 10, false, &pg, NULL), ==, 0);
    CHECK_INT(pg.n, ==, 1);
    CHECK_INT(list(&fx, 0, 10, true, &pg, NULL), ==, 0);
    CHECK_INT(pg.n, ==, 2);
    CHECK_INT(pg.ids[0], ==, sched);
    CHECK(pg.scheduled[0]);
    CHECK_INT(count(&fx, "SELECT count(*) FROM events"), ==, 1);

    CHECK_INT(store_posts_publish_due(fx.s, now + 59999, 10, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    CHECK_INT(store_posts_publish_due(fx.s, now + 60000, 10, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(store_posts_publish_due(fx.s, now + 60000, 10, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    CHECK_INT(list(&fx, 0, 10, false, &pg, NULL), ==, 0);
    CHECK_INT(pg.n, ==, 2);
    CHECK_INT(pg.ids[0], ==, sched);
    CHECK(!pg.scheduled[0]);
    CHECK_INT(count(&fx, "SELECT count(*) FROM events WHERE kind = 'post.created'"), ==, 2);
    CHECK_INT(count(&fx, "SELECT count(*) FROM audit_log WHERE action = 'post.publish'"
                         " AND user_id IS NULL"),
              ==, 1);
    CHECK_INT(count(&fx, "SELECT last_post_ms FROM channels"), ==, now + 60000);
    fixture_teardown(&fx);
}

static void edit_count(void *ctx, const struct store_post_edit *e)
{
    int *n = ctx;

    if (!strcmp(e->editor_email, "root@localhost") && *n == 0 && !strcmp(e->text, "v1"))
        *n = 1;
    else
        *n = -100;
}

TEST(posts_edit_window_and_history)
{
    struct fixture fx;
    struct store_post *p = malloc(sizeof(*p));
    struct store_post_fields e = { .text = "v2",
                                   .has_importance = true,
                                   .importance = STORE_IMPORTANT };
    int64_t fresh, old;
    int n = 0;

    CHECK(p);
    CHECK_INT(fixture_setup(&fx, "edit"), ==, 0);
    fresh = fixture_post(&fx, "v1", 0);
    clock_set_offset_ms(-31 * DAY); /* published 31 days ago */
    old = fixture_post(&fx, "old", 0);
    clock_set_offset_ms(0);
    CHECK(fresh > 0 && old > 0);

    CHECK_INT(store_post_edit(fx.s, fresh, fx.user, &e, NULL, NULL), ==, 0);
    CHECK_INT(store_post_get(fx.r, fresh, p), ==, 0);
    CHECK_STR(p->text, "v2");
    CHECK_INT(p->importance, ==, STORE_IMPORTANT);
    CHECK(p->edited_ms > 0);
    CHECK_INT(store_post_edits(fx.r, fresh, edit_count, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(count(&fx, "SELECT count(*) FROM events WHERE kind = 'post.edited'"), ==, 1);

    CHECK_INT(store_post_edit(fx.s, old, fx.user, &e, NULL, NULL), ==, -EKEYEXPIRED);
    CHECK_INT(store_post_edit(fx.s, 424242, fx.user, &e, NULL, NULL), ==, -ENOENT);
    /* 29 days after publication it is still editable */
    clock_set_offset_ms(29 * DAY);
    CHECK_INT(store_post_edit(fx.s, fresh, fx.user, &e, NULL, NULL), ==, 0);
    clock_set_offset_ms(0);
    free(p);
    fixture_teardown(&fx);
}

TEST(posts_delete_and_pin)
{
    struct fixture fx;
    struct store_post *p = malloc(sizeof(*p));
    int64_t a, b, sched;

    CHECK(p);
    CHECK_INT(fixture_setup(&fx, "pin"), ==, 0);
    a = fixture_post(&fx, "a", 0);
    b = fixture_post(&fx, "b", 0);
    sched = fixture_post(&fx, "s", clock_now_ms() + DAY);
    CHECK_INT(store_post_pin(fx.s, fx.channel, a, fx.user, NULL, NULL), ==, 0);
    CHECK_INT(store_post_get(fx.r, a, p), ==, 0);
    CHECK(p->pinned);
    CHECK_INT(store_post_pin(fx.s, fx.channel, b, fx.user, NULL, NULL), ==, 0);
    CHECK_INT(store_post_get(fx.r, a, p), ==, 0);
    CHECK(!p->pinned);
    CHECK_INT(store_post_pin(fx.s, fx.channel, sched, fx.user, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_post_delete(fx.s, b, fx.user, NULL, NULL), ==, 0);
    CHECK_INT(store_post_get(fx.r, b, p), ==, -ENOENT);
    CHECK_INT(count(&fx, "SELECT coalesce(pinned_post_id, 0) FROM channels"), ==, 0);
    CHECK_INT(count(&fx, "SELECT posts_count FROM channels"), ==, 1);
    CHECK_INT(count(&fx, "SELECT count(*) FROM events WHERE kind = 'post.deleted'"), ==, 1);
    CHECK_INT(store_post_delete(fx.s, b, fx.user, NULL, NULL), ==, -ENOENT);
    free(p);
    fixture_teardown(&fx);
}

static void token_hash(int i, uint8_t out[SECRET_HASH_LEN])
{
    char t[32];

    snprintf(t, sizeof(t), "follower_%d", i);
    secret_sha256(t, strlen(t), out);
}

TEST(posts_views_once_per_follower)
{
    struct fixture fx;
    struct store_post *p = malloc(sizeof(*p));
    uint8_t h1[SECRET_HASH_LEN], h2[SECRET_HASH_LEN], h3[SECRET_HASH_LEN];
    int64_t ids[3];

    CHECK(p);
    CHECK_INT(fixture_setup(&fx, "views"), ==, 0);
    ids[0] = fixture_post(&fx, "a", 0);
    ids[1] = fixture_post(&fx, "b", 0);
    ids[2] = 987654; /* unknown: ignored */
    token_hash(1, h1);
    token_hash(2, h2);
    token_hash(3, h3);
    CHECK_INT(store_follower_add(fx.s, h1, NULL, NULL, NULL), ==, 0);
    CHECK_INT(store_follower_add(fx.s, h2, NULL, NULL, NULL), ==, 0);
    CHECK_INT(store_views_add(fx.s, h1, ids, 3, NULL, NULL), ==, 0);
    CHECK_INT(store_views_add(fx.s, h1, ids, 3, NULL, NULL), ==, 0);
    CHECK_INT(store_views_add(fx.s, h2, ids, 1, NULL, NULL), ==, 0);
    CHECK_INT(store_views_add(fx.s, h3, ids, 1, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_views_add(fx.s, h1, ids, 0, NULL, NULL), ==, -EINVAL);
    CHECK_INT(store_post_get(fx.r, ids[0], p), ==, 0);
    CHECK_INT(p->views, ==, 2);
    CHECK_INT(store_post_get(fx.r, ids[1], p), ==, 0);
    CHECK_INT(p->views, ==, 1);
    /* "forget me" takes the follower's views with it, and the count follows */
    CHECK_INT(store_follower_forget(fx.s, h1, NULL, NULL), ==, 0);
    CHECK_INT(store_post_get(fx.r, ids[0], p), ==, 0);
    CHECK_INT(p->views, ==, 1);
    CHECK_INT(store_post_get(fx.r, ids[1], p), ==, 0);
    CHECK_INT(p->views, ==, 0);
    free(p);
    fixture_teardown(&fx);
}

TEST(posts_retention_sweep_in_batches)
{
    struct fixture fx;
    struct store_post_fields e = { .text = "edited" };
    uint8_t h[SECRET_HASH_LEN];
    int64_t now = clock_now_ms();
    int64_t old_ids[25];
    struct page pg;
    int total = 0;
    int rounds = 0;
    int n = 0;

    CHECK_INT(fixture_setup(&fx, "sweep"), ==, 0);
    token_hash(7, h);
    CHECK_INT(store_follower_add(fx.s, h, NULL, NULL, NULL), ==, 0);
    clock_set_offset_ms(-40 * DAY); /* 25 posts 40 days old, viewed and edited */
    for (int i = 0; i < 25; i++) {
        old_ids[i] = fixture_post(&fx, "old", 0);
        CHECK(old_ids[i] > 0);
    }
    CHECK_INT(store_post_edit(fx.s, old_ids[0], fx.user, &e, NULL, NULL), ==, 0);
    clock_set_offset_ms(0);
    CHECK_INT(store_views_add(fx.s, h, old_ids, 25, NULL, NULL), ==, 0);
    CHECK(fixture_post(&fx, "new", 0) > 0);
    CHECK(fixture_post(&fx, "future", now + DAY) > 0);
    CHECK_INT(count(&fx, "SELECT count(*) FROM views"), ==, 25);

    /* 29 days later than the posts: nothing is old enough yet */
    CHECK_INT(store_retention_sweep(fx.s, now - 11 * DAY, 10, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    do {
        CHECK_INT(store_retention_sweep(fx.s, now, 10, &n), ==, 0);
        CHECK(n <= 20); /* at most `batch` posts and `batch` events per transaction */
        total += n;
        rounds++;
    } while (n > 0 && rounds < 100);
    CHECK_INT(rounds, >=, 4);
    CHECK_INT(count(&fx, "SELECT count(*) FROM posts"), ==, 2);
    CHECK_INT(count(&fx, "SELECT count(*) FROM views"), ==, 0);
    CHECK_INT(count(&fx, "SELECT count(*) FROM post_edits"), ==, 0);
    CHECK_INT(count(&fx, "SELECT count(*) FROM events"), ==, 1);
    CHECK_INT(count(&fx, "SELECT posts_count FROM channels"), ==, 1);
    CHECK_INT(total, ==, 25 + 26);
    CHECK_INT(list(&fx, 0, 10, true, &pg, NULL), ==, 0);
    CHECK_INT(pg.n, ==, 2);
    fixture_teardown(&fx);
}

/* A media row uploaded now (by the fixture's operator), named `id`; 0 or an error. */
static int media_add(struct fixture *fx, const char *id)
{
    struct store_media m = { .user_id = fx->user, .width = 64, .height = 48, .bytes = 100 };

    snprintf(m.public_id, sizeof(m.public_id), "%s", id);
    snprintf(m.kind, sizeof(m.kind), "image");
    snprintf(m.mime, sizeof(m.mime), "image/png");
    return store_media_add(fx->s, &m, NULL, NULL, NULL);
}

/* An icon or a logo is a reference like a post's attachment: the sweep must not take it. */
TEST(retention_sweep_keeps_channel_icons_and_org_logos)
{
    struct fixture fx;
    struct store_channel_fields cf = { .icon = "icon-media-0000000" };
    struct store_org_fields of = { .set = STORE_ORG_F_LOGO, .logo = "logo-media-0000000" };
    int n = 0;

    CHECK_INT(fixture_setup(&fx, "sweep_icons"), ==, 0);
    clock_set_offset_ms(-2 * DAY); /* uploaded two days ago: past the one-day grace */
    CHECK_INT(media_add(&fx, "icon-media-0000000"), ==, 0);
    CHECK_INT(media_add(&fx, "logo-media-0000000"), ==, 0);
    CHECK_INT(media_add(&fx, "unused-media-00000"), ==, 0);
    clock_set_offset_ms(0);
    CHECK_INT(store_channel_update(fx.s, fx.channel, fx.user, &cf, "{}", NULL, NULL), ==, 0);
    CHECK_INT(store_org_update(fx.s, fx.user, fx.org, &of, NULL, NULL), ==, 0);
    CHECK_INT(store_retention_sweep(fx.s, clock_now_ms(), 10, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(count(&fx, "SELECT count(*) FROM media WHERE public_id = 'unused-media-00000'"), ==,
              0);
    CHECK_INT(count(&fx, "SELECT count(*) FROM media WHERE public_id = 'icon-media-0000000'"), ==,
              1);
    CHECK_INT(count(&fx, "SELECT count(*) FROM media WHERE public_id = 'logo-media-0000000'"), ==,
              1);
    /* once nothing names them, they go like any other unused upload */
    cf.icon = "";
    of.logo = NULL;
    CHECK_INT(store_channel_update(fx.s, fx.channel, fx.user, &cf, "{}", NULL, NULL), ==, 0);
    CHECK_INT(store_org_update(fx.s, fx.user, fx.org, &of, NULL, NULL), ==, 0);
    CHECK_INT(store_retention_sweep(fx.s, clock_now_ms(), 10, &n), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_INT(count(&fx, "SELECT count(*) FROM media"), ==, 0);
    fixture_teardown(&fx);
}
