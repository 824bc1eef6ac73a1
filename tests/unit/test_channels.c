/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Channels, admins, invite links, followers and the directory through store/channels.h: handle
 * rules, the admin cap, followers_count staying exact through follow, unfollow, forget-me and
 * deletion, accent-insensitive search, and gap-free event numbering.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/secret.h"
#include "harness.h"
#include "store/channels.h"
#include "store/orgs.h"
#include "store/store.h"
#include "test_db.h"

#define PW "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"

struct fixture {
    struct store *s;
    struct store_reader *r;
    int64_t op, org, staff[20];
    char dir[512];
};

static int setup(struct fixture *fx, const char *name)
{
    char err[256] = "", email[64];
    struct store_opts o = { 0 };
    struct store_org_fields of = { .set = STORE_ORG_F_NAME, .name = "Comune di Prova" };

    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "%s/%s", harness_tmpdir(), name);
    o.data_dir = fx->dir;
    o.database_url = test_database_url(fx->dir);
    fx->s = store_open(&o, err, sizeof(err));
    if (!fx->s) {
        fprintf(stderr, "  %s\n", err);
        return -1;
    }
    fx->r = store_reader_open(fx->s, err, sizeof(err));
    if (!fx->r)
        return -1;
    if (store_user_add(fx->s, "op@x.it", STORE_ROLE_OPERATOR, PW, false, NULL, NULL, &fx->op) ||
        store_org_add(fx->s, fx->op, "prova", &of, NULL, NULL, &fx->org))
        return -1;
    for (int i = 0; i < 20; i++) {
        snprintf(email, sizeof(email), "staff%d@x.it", i);
        if (store_staff_add(fx->s, fx->op, fx->org, email, STORE_ROLE_STAFF, PW, false, NULL, NULL,
                            &fx->staff[i]))
            return -1;
    }
    return 0;
}

static void teardown(struct fixture *fx)
{
    store_reader_close(fx->r);
    store_close(fx->s);
}

static int create(struct fixture *fx, const char *handle, const char *name, const char *desc,
                  bool listed, int64_t *id)
{
    struct store_channel_fields f = {
        .handle = handle,
        .name = name,
        .description = desc,
        .category = "news",
        .language = "it",
        .has_listed = true,
        .listed = listed,
    };

    return store_channel_create(fx->s, fx->org, fx->staff[0], &f, NULL, NULL, id);
}

static void follower_hash(int i, uint8_t out[SECRET_HASH_LEN])
{
    char tok[32];

    snprintf(tok, sizeof(tok), "follower_test_%d", i);
    secret_sha256(tok, strlen(tok), out);
}

static int64_t followers_of(struct fixture *fx, const char *handle)
{
    struct store_channel *ch = malloc(sizeof(*ch));
    int64_t n = -1;

    if (!store_channel_get(fx->r, handle, ch))
        n = ch->followers_count;
    free(ch);
    return n;
}

TEST(handle_rules)
{
    bool reserved;

    CHECK(store_channel_handle_valid("comune-news", NULL));
    CHECK(store_channel_handle_valid("Comune_News1", NULL));
    CHECK(!store_channel_handle_valid("ab", NULL));
    CHECK(!store_channel_handle_valid("-abc", NULL));
    CHECK(!store_channel_handle_valid("_abc", NULL));
    CHECK(!store_channel_handle_valid("abc def", NULL));
    CHECK(!store_channel_handle_valid("città", NULL));
    CHECK(!store_channel_handle_valid("a234567890123456789012345678901234", NULL));
    CHECK(store_channel_handle_valid("a2345678901234567890123456789012", NULL));
    CHECK(!store_channel_handle_valid("Admin", &reserved));
    CHECK(reserved);
    CHECK(!store_channel_handle_valid("a!c", &reserved));
    CHECK(!reserved);
}

TEST(handle_unique_case_insensitive)
{
    struct fixture fx;
    struct store_channel *ch = malloc(sizeof(*ch));
    int64_t id = 0, id2 = 0;

    CHECK(ch);
    CHECK_INT(setup(&fx, "uniq"), ==, 0);
    CHECK_INT(create(&fx, "Comune-News", "Notizie", "", true, &id), ==, 0);
    CHECK_INT(create(&fx, "comune-news", "Altro", "", true, &id2), ==, -EEXIST);
    CHECK_INT(create(&fx, "COMUNE-NEWS", "Altro", "", true, &id2), ==, -EEXIST);
    CHECK_INT(store_channel_get(fx.r, "COMUNE-news", ch), ==, 0);
    CHECK_STR(ch->handle, "comune-news");
    CHECK_INT(ch->id, ==, id);
    CHECK_INT(ch->retention_days, ==, CHANNEL_RETENTION_DEF);
    CHECK_STR(ch->org_slug, "prova");
    /* the creator is the owner */
    int role = 0;
    CHECK_INT(store_channel_role(fx.r, id, fx.staff[0], &role), ==, 0);
    CHECK_INT(role, ==, STORE_CHANNEL_OWNER);
    CHECK_INT(store_channel_role(fx.r, id, fx.staff[1], &role), ==, 0);
    CHECK_INT(role, ==, STORE_CHANNEL_NONE);
    free(ch);
    teardown(&fx);
}

TEST(owner_must_be_operator_or_staff_of_the_org)
{
    struct store_org_fields of = { .set = STORE_ORG_F_NAME, .name = "Comune di Altrove" };
    struct store_channel_fields f = {
        .handle = "altrui", .name = "Altrui", .category = "news", .language = "it"
    };
    struct fixture fx;
    int64_t other_org = 0, outsider = 0, id = 0;

    CHECK_INT(setup(&fx, "owner_rule"), ==, 0);
    CHECK_INT(store_org_add(fx.s, fx.op, "altrove", &of, NULL, NULL, &other_org), ==, 0);
    CHECK_INT(store_staff_add(fx.s, fx.op, other_org, "boss@altrove.it", STORE_ROLE_ORG_ADMIN, PW,
                              false, NULL, NULL, &outsider),
              ==, 0);
    /* The rule itself. */
    CHECK(store_channel_owner_allowed(STORE_ROLE_OPERATOR, 0, fx.org));
    CHECK(store_channel_owner_allowed(STORE_ROLE_STAFF, fx.org, fx.org));
    CHECK(!store_channel_owner_allowed(STORE_ROLE_ORG_ADMIN, other_org, fx.org));
    CHECK(!store_channel_owner_allowed(STORE_ROLE_STAFF, 0, 0));
    /* Enforced by the store, whoever calls it: nothing is created. */
    CHECK_INT(store_channel_create(fx.s, fx.org, outsider, &f, NULL, NULL, &id), ==, -EPERM);
    CHECK_INT(store_channel_create(fx.s, fx.org, 999999, &f, NULL, NULL, &id), ==, -ENOENT);
    CHECK_INT(store_channel_create(fx.s, fx.org, fx.op, &f, NULL, NULL, &id), ==, 0);
    teardown(&fx);
}

TEST(admin_cap_and_ownership)
{
    struct fixture fx;
    int64_t ch = 0, inv = 0;
    int role;

    CHECK_INT(setup(&fx, "admins"), ==, 0);
    CHECK_INT(create(&fx, "capped", "Capped", "", true, &ch), ==, 0);
    for (int i = 1; i <= CHANNEL_ADMINS_MAX; i++) {
        CHECK_INT(store_admin_invite(fx.s, ch, fx.staff[0], fx.staff[i], NULL, NULL, &inv), ==, 0);
        /* only the invitee accepts */
        CHECK_INT(store_invitation_accept(fx.s, inv, fx.staff[19], NULL, NULL), ==, -ENOENT);
        CHECK_INT(store_invitation_accept(fx.s, inv, fx.staff[i], NULL, NULL), ==, 0);
    }
    /* the 17th admin is refused, whether invited now or accepting later */
    CHECK_INT(store_admin_invite(fx.s, ch, fx.staff[0], fx.staff[17], NULL, NULL, &inv), ==,
              -EMLINK);
    CHECK_INT(store_admin_invite(fx.s, ch, fx.staff[0], fx.staff[3], NULL, NULL, &inv), ==,
              -EEXIST);
    /* the owner cannot leave; an admin can */
    CHECK_INT(store_admin_remove(fx.s, ch, fx.staff[0], fx.staff[0], NULL, NULL), ==, -EBUSY);
    CHECK_INT(store_admin_remove(fx.s, ch, fx.staff[5], fx.staff[5], NULL, NULL), ==, 0);
    CHECK_INT(store_admin_remove(fx.s, ch, fx.staff[5], fx.staff[5], NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_admin_invite(fx.s, ch, fx.staff[0], fx.staff[17], NULL, NULL, &inv), ==, 0);
    /* transfer: only to an admin, only by the owner; the old owner becomes an admin */
    CHECK_INT(store_owner_transfer(fx.s, ch, fx.staff[0], fx.staff[18], NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_owner_transfer(fx.s, ch, fx.staff[2], fx.staff[1], NULL, NULL), ==, -EACCES);
    CHECK_INT(store_owner_transfer(fx.s, ch, fx.staff[0], fx.staff[1], NULL, NULL), ==, 0);
    CHECK_INT(store_channel_role(fx.r, ch, fx.staff[1], &role), ==, 0);
    CHECK_INT(role, ==, STORE_CHANNEL_OWNER);
    CHECK_INT(store_channel_role(fx.r, ch, fx.staff[0], &role), ==, 0);
    CHECK_INT(role, ==, STORE_CHANNEL_ADMIN);
    teardown(&fx);
}

TEST(invitation_expires)
{
    struct fixture fx;
    int64_t ch = 0, inv = 0;

    CHECK_INT(setup(&fx, "expiry"), ==, 0);
    CHECK_INT(create(&fx, "expiring", "Expiring", "", true, &ch), ==, 0);
    CHECK_INT(store_admin_invite(fx.s, ch, fx.staff[0], fx.staff[1], NULL, NULL, &inv), ==, 0);
    clock_set_offset_ms((int64_t)(CHANNEL_INVITATION_DAYS * 86400 + 60) * 1000);
    CHECK_INT(store_invitation_accept(fx.s, inv, fx.staff[1], NULL, NULL), ==, -ETIME);
    /* an expired invitation may be sent again */
    CHECK_INT(store_admin_invite(fx.s, ch, fx.staff[0], fx.staff[1], NULL, NULL, &inv), ==, 0);
    CHECK_INT(store_invitation_accept(fx.s, inv, fx.staff[1], NULL, NULL), ==, 0);
    clock_set_offset_ms(0);
    teardown(&fx);
}

TEST(followers_count_exact)
{
    struct fixture fx;
    uint8_t h[10][SECRET_HASH_LEN];
    int64_t a = 0, b = 0;
    bool yes;

    CHECK_INT(setup(&fx, "count"), ==, 0);
    CHECK_INT(create(&fx, "chan-a", "A", "", true, &a), ==, 0);
    CHECK_INT(create(&fx, "chan-b", "B", "", true, &b), ==, 0);
    for (int i = 0; i < 10; i++) {
        follower_hash(i, h[i]);
        CHECK_INT(store_follower_add(fx.s, h[i], NULL, NULL, NULL), ==, 0);
        CHECK_INT(store_follow(fx.s, h[i], a, NULL, NULL, NULL), ==, 0);
        if (i % 2)
            CHECK_INT(store_follow(fx.s, h[i], b, NULL, NULL, NULL), ==, 0);
    }
    CHECK_INT(store_follower_add(fx.s, h[0], NULL, NULL, NULL), ==, -EEXIST);
    CHECK_INT(followers_of(&fx, "chan-a"), ==, 10);
    CHECK_INT(followers_of(&fx, "chan-b"), ==, 5);
    /* following again changes nothing */
    CHECK_INT(store_follow(fx.s, h[0], a, NULL, NULL, NULL), ==, 0);
    CHECK_INT(followers_of(&fx, "chan-a"), ==, 10);
    CHECK_INT(store_unfollow(fx.s, h[0], a, NULL, NULL), ==, 0);
    CHECK_INT(store_unfollow(fx.s, h[0], a, NULL, NULL), ==, 0);
    CHECK_INT(followers_of(&fx, "chan-a"), ==, 9);
    CHECK_INT(store_follower_follows(fx.r, h[0], a, &yes), ==, 0);
    CHECK(!yes);
    CHECK_INT(store_follower_follows(fx.r, h[1], b, &yes), ==, 0);
    CHECK(yes);
    /* forget me: every follow of that follower goes, and both counts drop */
    CHECK_INT(store_follower_forget(fx.s, h[1], NULL, NULL), ==, 0);
    CHECK_INT(followers_of(&fx, "chan-a"), ==, 8);
    CHECK_INT(followers_of(&fx, "chan-b"), ==, 4);
    CHECK_INT(store_follower_exists(fx.r, h[1]), ==, -ENOENT);
    CHECK_INT(store_follow(fx.s, h[1], a, NULL, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_follower_forget(fx.s, h[1], NULL, NULL), ==, -ENOENT);
    /* mute needs a follow */
    CHECK_INT(store_follow_mute(fx.s, h[2], a, true, NULL, NULL), ==, 0);
    CHECK_INT(store_follow_mute(fx.s, h[2], b, true, NULL, NULL), ==, -ENOENT);
    /* deleting a channel removes its follows, not the followers */
    CHECK_INT(store_channel_delete(fx.s, b, fx.staff[0], NULL, NULL), ==, 0);
    CHECK_INT(store_follower_exists(fx.r, h[3]), ==, 0);
    CHECK_INT(followers_of(&fx, "chan-a"), ==, 8);
    teardown(&fx);
}

TEST(unlisted_needs_invite)
{
    struct fixture fx;
    struct store_invite inv;
    uint8_t h[4][SECRET_HASH_LEN];
    int64_t ch = 0, other = 0;

    CHECK_INT(setup(&fx, "invites"), ==, 0);
    CHECK_INT(create(&fx, "hidden", "Hidden", "", false, &ch), ==, 0);
    CHECK_INT(create(&fx, "open-one", "Open", "", true, &other), ==, 0);
    for (int i = 0; i < 4; i++) {
        follower_hash(100 + i, h[i]);
        CHECK_INT(store_follower_add(fx.s, h[i], NULL, NULL, NULL), ==, 0);
    }
    CHECK_INT(store_invite_add(fx.s, ch, fx.staff[0], "abcdefghij1", 0, 2, NULL, NULL), ==, 0);
    CHECK_INT(store_invite_add(fx.s, other, fx.staff[0], "otherchan01", 0, 0, NULL, NULL), ==, 0);
    CHECK_INT(store_invite_add(fx.s, ch, fx.staff[0], "short", 0, 0, NULL, NULL), ==, -EINVAL);
    CHECK_INT(store_follow(fx.s, h[0], ch, NULL, NULL, NULL), ==, -EACCES);
    CHECK_INT(store_follow(fx.s, h[0], ch, "otherchan01", NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_follow(fx.s, h[0], ch, "abcdefghij1", NULL, NULL), ==, 0);
    /* following again counts no use */
    CHECK_INT(store_follow(fx.s, h[0], ch, "abcdefghij1", NULL, NULL), ==, 0);
    CHECK_INT(store_follow(fx.s, h[1], ch, "abcdefghij1", NULL, NULL), ==, 0);
    CHECK_INT(store_follow(fx.s, h[2], ch, "abcdefghij1", NULL, NULL), ==, -EDQUOT);
    CHECK_INT(store_invite_get(fx.r, "abcdefghij1", &inv), ==, 0);
    CHECK_INT(inv.uses, ==, 2);
    CHECK_INT(store_invite_revoke(fx.s, other, fx.staff[0], "otherchan01", NULL, NULL), ==, 0);
    CHECK_INT(store_invite_revoke(fx.s, other, fx.staff[0], "otherchan01", NULL, NULL), ==,
              -ENOENT);
    CHECK_INT(store_follow(fx.s, h[2], other, "otherchan01", NULL, NULL), ==, -ECANCELED);
    CHECK_INT(
        store_invite_add(fx.s, ch, fx.staff[0], "expiring01", clock_now_ms() + 1000, 0, NULL, NULL),
        ==, 0);
    clock_set_offset_ms(5000);
    CHECK_INT(store_follow(fx.s, h[3], ch, "expiring01", NULL, NULL), ==, -ETIME);
    clock_set_offset_ms(0);
    CHECK_INT(followers_of(&fx, "hidden"), ==, 2);
    teardown(&fx);
}

struct names {
    char list[512];
    int n;
};

static void collect(void *ctx, const struct store_channel *ch)
{
    struct names *n = ctx;
    size_t len = strlen(n->list);

    snprintf(n->list + len, sizeof(n->list) - len, "%s%s", len ? "," : "", ch->handle);
    n->n++;
}

static int search(struct fixture *fx, const char *q, enum store_dir_sort sort, unsigned limit,
                  const char *cursor, struct names *out, char next[STORE_CURSOR_MAX])
{
    struct store_dir_query dq = { .q = q, .sort = sort, .limit = limit, .cursor = cursor };

    memset(out, 0, sizeof(*out));
    return store_channel_search(fx->r, &dq, collect, out, next);
}

TEST(directory_search)
{
    struct fixture fx;
    struct names n;
    char next[STORE_CURSOR_MAX];
    uint8_t h[SECRET_HASH_LEN];
    int64_t id;

    CHECK_INT(setup(&fx, "search"), ==, 0);
    CHECK_INT(create(&fx, "citta-news", "Notizie della Città", "Il Comune informa", true, &id), ==,
              0);
    CHECK_INT(create(&fx, "cultura", "Cultura", "Eventi e attività culturali in città", true, &id),
              ==, 0);
    CHECK_INT(create(&fx, "segreto", "Città segreta", "Non in elenco", false, &id), ==, 0);
    CHECK_INT(create(&fx, "sport", "Sport", "Partite", true, &id), ==, 0);
    follower_hash(7, h);
    CHECK_INT(store_follower_add(fx.s, h, NULL, NULL, NULL), ==, 0);
    CHECK_INT(store_follow(fx.s, h, id, NULL, NULL, NULL), ==, 0);

    /* accents and case ignored; unlisted never shown; prefix on the last term */
    CHECK_INT(search(&fx, "citta", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_STR(n.list, "cultura,citta-news");
    CHECK_INT(search(&fx, "CITTÀ", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_INT(n.n, ==, 2);
    CHECK_INT(search(&fx, "cult", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_STR(n.list, "cultura");
    CHECK_INT(search(&fx, "comune informa", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_STR(n.list, "citta-news");
    /* FTS syntax typed by a person is just text */
    CHECK_INT(search(&fx, "\"citta AND OR ( * NEAR(", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_INT(search(&fx, "-- ** \"\"", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_INT(n.n, ==, 3);
    /* popular: followers first */
    CHECK_INT(search(&fx, NULL, STORE_DIR_POPULAR, 10, NULL, &n, next), ==, 0);
    CHECK_STR(n.list, "sport,cultura,citta-news");
    /* pages: 2, then 1, with no repeats */
    CHECK_INT(search(&fx, NULL, STORE_DIR_NEW, 2, NULL, &n, next), ==, 0);
    CHECK_STR(n.list, "sport,cultura");
    CHECK(next[0]);
    char cur[STORE_CURSOR_MAX];
    snprintf(cur, sizeof(cur), "%s", next);
    CHECK_INT(search(&fx, NULL, STORE_DIR_NEW, 2, cur, &n, next), ==, 0);
    CHECK_STR(n.list, "citta-news");
    CHECK(!next[0]);
    /* a cursor of another sort or made up is refused */
    CHECK_INT(search(&fx, NULL, STORE_DIR_POPULAR, 2, cur, &n, next), ==, -EINVAL);
    CHECK_INT(search(&fx, NULL, STORE_DIR_NEW, 2, "n1.x", &n, next), ==, -EINVAL);
    /* renaming updates the index */
    struct store_channel_fields f = { .name = "Atletica" };
    CHECK_INT(store_channel_update(fx.s, id, fx.staff[0], &f, "{}", NULL, NULL), ==, 0);
    CHECK_INT(search(&fx, "atletica", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_STR(n.list, "sport");
    CHECK_INT(search(&fx, "sport", STORE_DIR_NEW, 10, NULL, &n, next), ==, 0);
    CHECK_INT(n.n, ==, 0);
    teardown(&fx);
}

TEST(event_seq_gap_free)
{
    struct fixture fx;
    struct store_channel *ch = malloc(sizeof(*ch));
    struct store_channel_fields f = { .description = "x" };
    struct store_channel_fields bad = { .name = "" };
    int64_t id = 0, other = 0;

    CHECK(ch);
    CHECK_INT(setup(&fx, "events"), ==, 0);
    CHECK_INT(create(&fx, "evented", "Evented", "", true, &id), ==, 0);
    CHECK_INT(create(&fx, "other-ch", "Other", "", true, &other), ==, 0);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(store_channel_update(fx.s, id, fx.staff[0], &f, "{\"n\":1}", NULL, NULL), ==, 0);
        /* a failing write takes no number */
        CHECK_INT(store_channel_update(fx.s, 99999, fx.staff[0], &f, "{}", NULL, NULL), ==,
                  -ENOENT);
        CHECK_INT(store_channel_update(fx.s, id, fx.staff[0], &bad, "{}", NULL, NULL), ==, -EINVAL);
    }
    CHECK_INT(store_channel_update(fx.s, other, fx.staff[0], &f, "{}", NULL, NULL), ==, 0);
    CHECK_INT(store_channel_get(fx.r, "evented", ch), ==, 0);
    CHECK_INT(ch->last_seq, ==, 5);
    CHECK_INT(store_channel_get(fx.r, "other-ch", ch), ==, 0);
    CHECK_INT(ch->last_seq, ==, 1);
    free(ch);
    /* the rows themselves: 1..5 in order, each once */
    char sql[200], seqs[64];
    snprintf(sql, sizeof(sql),
             "SELECT seq FROM events WHERE channel_id = %lld AND kind = 'channel.updated'"
             " ORDER BY seq",
             (long long)id);
    CHECK_INT(test_db_text(fx.dir, sql, ",", seqs, sizeof(seqs)), ==, 0);
    CHECK_STR(seqs, "1,2,3,4,5,");
    teardown(&fx);
}
