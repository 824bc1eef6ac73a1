/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Reactions through the store's public headers: the emoji validator, one reaction per follower
 * per post (put, change, remove), counters exact after changes, "forget me", the post's
 * deletion and concurrent writers, and the coalescer's "counts" events (read back from the
 * events table, the way a stream would replay them).
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
#include "test_db.h"

static int react(struct fixture *fx, const uint8_t *h, int64_t post_id, const char *e)
{
    return store_reaction_put(fx->s, h, post_id, e, strlen(e), NULL, NULL);
}

/* The post's reactions as the API shows them ({"emoji": n}), into `out`. */
static int reactions_of(struct fixture *fx, int64_t id, char *out, size_t outlen)
{
    struct store_post *p = malloc(sizeof(*p));
    int err = p ? store_post_get(fx->r, id, p) : -ENOMEM;

    if (!err)
        snprintf(out, outlen, "%s", p->reactions_json);
    free(p);
    return err;
}

#define THUMBS "\xf0\x9f\x91\x8d"         /* 👍 */
#define HEART  "\xe2\x9d\xa4\xef\xb8\x8f" /* ❤️ */
#define PARTY  "\xf0\x9f\x8e\x89"         /* 🎉 */
#define ZWJ    "\xe2\x80\x8d"
#define TONE3  "\xf0\x9f\x8f\xbd" /* 🏽 */
#define MAN    "\xf0\x9f\x91\xa8"

TEST(emoji_valid_accepts_one_emoji_of_every_shape)
{
    static const char *const good[] = {
        THUMBS,
        HEART,
        "\xe2\x9d\xa4", /* ❤ without VS16 */
        THUMBS TONE3,   /* skin tone */
        MAN ZWJ "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x91\xa7" ZWJ "\xf0\x9f\x91\xa6", /* family */
        "\xf0\x9f\x8f\xb3\xef\xb8\x8f" ZWJ "\xf0\x9f\x8c\x88",                    /* rainbow flag */
        "\xf0\x9f\x87\xae\xf0\x9f\x87\xb9",                                       /* 🇮🇹 */
        "1\xef\xb8\x8f\xe2\x83\xa3",
        "#\xe2\x83\xa3", /* keycaps */
        "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81\xb3\xf3\xa0\x81\xa3"
        "\xf3\xa0\x81\xb4\xf3\xa0\x81\xbf", /* Scotland */
        "\xc2\xa9\xef\xb8\x8f",             /* ©️ */
        "\xf0\x9f\xab\xa0",                 /* 🫠 (Unicode 14) */
    };
    static const char *const bad[] = {
        "a",
        "ok",
        " ",
        THUMBS THUMBS,
        THUMBS " ",
        "x" THUMBS,
        "\xf0\x9f\x87\xae", /* one regional indicator */
        "\xf0\x9f\x87\xae\xf0\x9f\x87\xb9\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", /* two flags */
        TONE3,                                                              /* a lone modifier */
        "1",
        "#",
        ZWJ THUMBS,
        THUMBS ZWJ,
        THUMBS ZWJ ZWJ PARTY,
        THUMBS "\xef\xb8\x8e", /* VS15: text presentation */
        "\xf0\x9f\x91",        /* truncated */
        "\xc0\xaf",
        "\xe0\x80\xaf",                     /* overlong */
        "\xed\xa0\x80",                     /* a surrogate */
        "\xf4\x90\x80\x80",                 /* past U+10FFFF */
        "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xbf", /* black flag + cancel tag only */
        "\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf", /* tags without the flag */
        "<b>",
    };
    char long_zwj[128] = MAN;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!store_emoji_valid(good[i], strlen(good[i])))
            fprintf(stderr, "  good[%zu] refused\n", i);
        CHECK(store_emoji_valid(good[i], strlen(good[i])));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (store_emoji_valid(bad[i], strlen(bad[i])))
            fprintf(stderr, "  bad[%zu] accepted\n", i);
        CHECK(!store_emoji_valid(bad[i], strlen(bad[i])));
    }
    CHECK(!store_emoji_valid("", 0));
    CHECK(!store_emoji_valid(NULL, 0));
    CHECK(!store_emoji_valid(THUMBS "\0", 5)); /* an embedded NUL */
    /* 11 elements joined by ZWJ is past the limit, and so is the byte length */
    for (int i = 0; i < 10; i++)
        snprintf(long_zwj + strlen(long_zwj), sizeof(long_zwj) - strlen(long_zwj), "%s", ZWJ MAN);
    CHECK(!store_emoji_valid(long_zwj, strlen(long_zwj)));
}

TEST(reactions_put_change_remove_keep_counts_exact)
{
    struct fixture fx;
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN], c[SECRET_HASH_LEN];
    char got[REACTIONS_JSON_BYTES + 1];
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "react"), ==, 0);
    id = fixture_post(&fx, "reagite", 0);
    CHECK(id > 0);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    CHECK_INT(fixture_follower(&fx, 2, b), ==, 0);
    CHECK_INT(fixture_follower(&fx, 3, c), ==, 0);
    CHECK_INT(reactions_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK_STR(got, "{}");
    CHECK_INT(react(&fx, a, id, THUMBS), ==, 0);
    CHECK_INT(react(&fx, a, id, THUMBS), ==, 0); /* the same again: nothing moves */
    CHECK_INT(react(&fx, b, id, THUMBS), ==, 0);
    CHECK_INT(react(&fx, c, id, HEART), ==, 0);
    CHECK_INT(reactions_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK_STR(got, "{\"" THUMBS "\":2,\"" HEART "\":1}"); /* most used first */
    CHECK_INT(react(&fx, a, id, HEART), ==, 0);           /* change */
    CHECK_INT(reactions_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK_STR(got, "{\"" HEART "\":2,\"" THUMBS "\":1}");
    CHECK_INT(store_reaction_delete(fx.s, b, id, NULL, NULL), ==, 0);
    CHECK_INT(store_reaction_delete(fx.s, b, id, NULL, NULL), ==, 0); /* idempotent */
    CHECK_INT(reactions_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK_STR(got, "{\"" HEART "\":2}"); /* an emoji nobody uses any more is gone */
    /* "forget me" takes the reaction and its count with it */
    CHECK_INT(store_follower_forget(fx.s, c, NULL, NULL), ==, 0);
    CHECK_INT(reactions_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK_STR(got, "{\"" HEART "\":1}");
    fixture_teardown(&fx);
}

TEST(reactions_refuse_bad_input_and_missing_posts)
{
    struct fixture fx;
    uint8_t a[SECRET_HASH_LEN], ghost[SECRET_HASH_LEN];
    int64_t id, later, gone;

    CHECK_INT(fixture_setup(&fx, "react_bad"), ==, 0);
    id = fixture_post(&fx, "uno", 0);
    later = fixture_post(&fx, "domani", clock_now_ms() + 3600 * 1000);
    gone = fixture_post(&fx, "via", 0);
    CHECK(id > 0 && later > 0 && gone > 0);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    secret_sha256("follower_ghost", 14, ghost);
    CHECK_INT(react(&fx, a, id, "ok"), ==, -EINVAL);
    CHECK_INT(react(&fx, a, id, THUMBS THUMBS), ==, -EINVAL);
    CHECK_INT(react(&fx, a, 0, THUMBS), ==, -EINVAL);
    CHECK_INT(react(&fx, ghost, id, THUMBS), ==, -ENOENT);
    CHECK_INT(react(&fx, a, later, THUMBS), ==, -ENOENT); /* scheduled: not out yet */
    CHECK_INT(react(&fx, a, 987654, THUMBS), ==, -ENOENT);
    CHECK_INT(react(&fx, a, gone, THUMBS), ==, 0);
    CHECK_INT(store_post_delete(fx.s, gone, fx.user, NULL, NULL), ==, 0);
    CHECK_INT(react(&fx, a, gone, PARTY), ==, -ENOENT);
    fixture_teardown(&fx);
}

TEST(post_target_reads_policy_follow_and_poll)
{
    struct fixture fx;
    struct store_post_target t;
    uint8_t a[SECRET_HASH_LEN], stranger[SECRET_HASH_LEN];
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "target"), ==, 0);
    id = fixture_post(&fx, "uno", 0);
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    secret_sha256("follower_x", 10, stranger);
    CHECK_INT(store_follower_add(fx.s, stranger, NULL, NULL, NULL), ==, 0);
    CHECK_INT(store_post_target(fx.r, id, a, &t), ==, 0);
    CHECK(t.follows && t.published && !t.has_poll);
    CHECK_INT(t.channel_id, ==, fx.channel);
    CHECK_INT(t.reaction_policy, ==, STORE_REACT_ANY);
    CHECK_INT(t.retention_days, ==, 30);
    CHECK_INT(store_post_target(fx.r, id, stranger, &t), ==, 0);
    CHECK(!t.follows);
    CHECK_INT(store_post_target(fx.r, 987654, a, &t), ==, -ENOENT);
    fixture_teardown(&fx);
}

/* ---- concurrency ---- */

struct burst {
    struct fixture *fx;
    int64_t post_id;
    int first, n;
    atomic_int *done, *failed;
};

static void on_done(void *ctx, int err, int64_t id)
{
    struct burst *b = ctx;

    (void)id;
    if (err)
        atomic_fetch_add(b->failed, 1);
    atomic_fetch_add(b->done, 1);
}

static void *react_burst(void *arg)
{
    struct burst *b = arg;
    uint8_t h[SECRET_HASH_LEN];
    char t[32];

    for (int i = b->first; i < b->first + b->n; i++) {
        snprintf(t, sizeof(t), "follower_%d", i);
        secret_sha256(t, strlen(t), h);
        /* each follower reacts twice: the second reaction replaces the first */
        if (react(b->fx, h, b->post_id, PARTY) ||
            store_reaction_put(b->fx->s, h, b->post_id, i % 2 ? THUMBS : HEART,
                               strlen(i % 2 ? THUMBS : HEART), on_done, b))
            atomic_fetch_add(b->failed, 1);
    }
    return NULL;
}

TEST(reactions_exact_under_concurrent_writers)
{
    struct fixture fx;
    struct burst b[4];
    pthread_t th[4];
    atomic_int done = 0, failed = 0;
    uint8_t h[SECRET_HASH_LEN];
    char got[REACTIONS_JSON_BYTES + 1];
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "react_many"), ==, 0);
    id = fixture_post(&fx, "tutti", 0);
    for (int i = 0; i < 200; i++)
        CHECK_INT(fixture_follower(&fx, i, h), ==, 0);
    for (int k = 0; k < 4; k++) {
        b[k] = (struct burst){ &fx, id, k * 50, 50, &done, &failed };
        CHECK_INT(pthread_create(&th[k], NULL, react_burst, &b[k]), ==, 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    for (int spin = 0; atomic_load(&done) < 200 && spin < 5000; spin++)
        usleep(1000);
    CHECK_INT(atomic_load(&failed), ==, 0);
    CHECK_INT(reactions_of(&fx, id, got, sizeof(got)), ==, 0);
    CHECK_STR(got, "{\"" HEART "\":100,\"" THUMBS "\":100}"); /* ties: by emoji */
    fixture_teardown(&fx);
}

/* ---- counts events ---- */

/* The payloads of the channel's "counts" events, newest last, joined by '\n'. */
static int counts_payloads(struct fixture *fx, char *out, size_t outlen)
{
    return test_db_text(fx->dir, "SELECT payload FROM events WHERE kind = 'counts' ORDER BY seq",
                        "\n", out, outlen)
               ? -EIO
               : 0;
}

TEST(counts_events_carry_counts_only)
{
    struct fixture fx;
    uint8_t a[SECRET_HASH_LEN];
    char got[2048];
    int64_t ids[3];
    int64_t written = 0;

    CHECK_INT(fixture_setup(&fx, "counts"), ==, 0);
    ids[0] = fixture_post(&fx, "uno", 0);
    ids[1] = 987654;                                                /* unknown: skipped */
    ids[2] = fixture_post(&fx, "domani", clock_now_ms() + 3600000); /* scheduled: skipped */
    CHECK_INT(fixture_follower(&fx, 1, a), ==, 0);
    CHECK_INT(react(&fx, a, ids[0], THUMBS), ==, 0);
    CHECK_INT(store_views_add(fx.s, a, ids, 1, NULL, NULL), ==, 0);
    CHECK_INT(store_counts_events(fx.s, ids, 3, NULL, NULL, &written), ==, 0);
    CHECK_INT(written, ==, 1);
    CHECK_INT(counts_payloads(&fx, got, sizeof(got)), ==, 0);
    CHECK_STR(got, "{\"post\":\"1\",\"reactions\":{\"" THUMBS "\":1},\"poll\":null,\"views\":1}\n");
    CHECK_INT(store_counts_events(fx.s, ids, 0, NULL, NULL, NULL), ==, -EINVAL);
    CHECK_INT(store_counts_events(fx.s, ids, COUNTS_BATCH_MAX + 1, NULL, NULL, NULL), ==, -EINVAL);
    fixture_teardown(&fx);
}

/*
 * The validator against Unicode's own data (Debian's unicode-data, 15.0). The table in
 * store/reactions.c is C, not read at run time; this test is what keeps it honest. Without the
 * files (another distribution, a minimal image) it says so and passes: the tests above still
 * pin the validator's behaviour by hand.
 */
#define EMOJI_DIR  "/usr/share/unicode/emoji/"
#define CP_LIMIT   0x110000U
#define BITMAP_LEN (CP_LIMIT / 8)

struct emoji_props {
    uint8_t pict[BITMAP_LEN];     /* Extended_Pictographic */
    uint8_t pres[BITMAP_LEN];     /* Emoji_Presentation */
    uint8_t comp[BITMAP_LEN];     /* Emoji_Component */
    uint8_t mod_base[BITMAP_LEN]; /* Emoji_Modifier_Base */
};

static bool bit(const uint8_t *map, uint32_t c)
{
    return c < CP_LIMIT && (map[c / 8] >> (c % 8) & 1);
}

static FILE *unicode_file(const char *name)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s%s", EMOJI_DIR, name);
    f = fopen(path, "r");
    if (!f)
        fprintf(stderr, "  SKIP: %s is absent (apt-get install unicode-data): not checked\n", path);
    return f;
}

/* Parse emoji-data.txt ("1F600..1F64F ; Emoji_Presentation # ..."); false if absent. */
static bool emoji_props_load(struct emoji_props *p)
{
    FILE *f = unicode_file("emoji-data.txt");
    char line[512], prop[64];
    unsigned lo, hi;

    if (!f)
        return false;
    memset(p, 0, sizeof(*p));
    while (fgets(line, sizeof(line), f)) {
        uint8_t *map = NULL;

        if (sscanf(line, "%x..%x ; %63[A-Za-z_]", &lo, &hi, prop) != 3) {
            if (sscanf(line, "%x ; %63[A-Za-z_]", &lo, prop) != 2)
                continue;
            hi = lo;
        }
        if (!strcmp(prop, "Extended_Pictographic"))
            map = p->pict;
        else if (!strcmp(prop, "Emoji_Presentation"))
            map = p->pres;
        else if (!strcmp(prop, "Emoji_Component"))
            map = p->comp;
        else if (!strcmp(prop, "Emoji_Modifier_Base"))
            map = p->mod_base;
        for (uint32_t c = lo; map && c <= hi && c < CP_LIMIT; c++)
            map[c / 8] |= (uint8_t)(1U << (c % 8));
    }
    fclose(f);
    return true;
}

/* UTF-8 of `c` appended at `out + *n` (no NUL). */
static void put_utf8(char *out, size_t *n, uint32_t c)
{
    if (c < 0x80) {
        out[(*n)++] = (char)c;
    } else if (c < 0x800) {
        out[(*n)++] = (char)(0xC0 | c >> 6);
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out[(*n)++] = (char)(0xE0 | c >> 12);
        out[(*n)++] = (char)(0x80 | (c >> 6 & 0x3F));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | c >> 18);
        out[(*n)++] = (char)(0x80 | (c >> 12 & 0x3F));
        out[(*n)++] = (char)(0x80 | (c >> 6 & 0x3F));
        out[(*n)++] = (char)(0x80 | (c & 0x3F));
    }
}

static bool valid_seq(const uint32_t *cps, size_t ncp)
{
    char s[64];
    size_t n = 0;

    for (size_t i = 0; i < ncp; i++)
        put_utf8(s, &n, cps[i]);
    return store_emoji_valid(s, n);
}

/*
 * Every code point alone, then the forms built on each Extended_Pictographic / Emoji_Presentation
 * one. Alone, a code point is one emoji exactly when it is Extended_Pictographic, or has emoji
 * presentation and is not a mere component (a lone regional indicator or skin tone is not).
 */
TEST(emoji_validator_agrees_with_unicode_emoji_data)
{
    static struct emoji_props p;
    unsigned wrong = 0, checked = 0;

    if (!emoji_props_load(&p))
        return;
    for (uint32_t c = 1; c < CP_LIMIT; c++) {
        bool want = bit(p.pict, c) || (bit(p.pres, c) && !bit(p.comp, c));
        uint32_t seq[3] = { c, 0xFE0F, 0 };
        bool got;

        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        got = valid_seq(seq, 1);
        if (got != want && wrong++ < 20)
            fprintf(stderr, "  U+%04X alone: validator says %s, emoji-data.txt %s\n", (unsigned)c,
                    got ? "emoji" : "not", want ? "emoji" : "not");
        if (!bit(p.pict, c) && !bit(p.pres, c))
            continue;
        checked++;
        if (!want)
            continue; /* components: their sequences are checked below and in the tests above */
        /* with VS16 (emoji presentation) still one emoji; with VS15 (text) not */
        if (!valid_seq(seq, 2) && wrong++ < 20)
            fprintf(stderr, "  U+%04X U+FE0F refused\n", (unsigned)c);
        seq[1] = 0xFE0E;
        if (valid_seq(seq, 2) && wrong++ < 20)
            fprintf(stderr, "  U+%04X U+FE0E accepted\n", (unsigned)c);
        /* a modifier base takes each skin tone */
        for (uint32_t m = 0x1F3FB; bit(p.mod_base, c) && m <= 0x1F3FF; m++) {
            seq[1] = m;
            if (!valid_seq(seq, 2) && wrong++ < 20)
                fprintf(stderr, "  U+%04X U+%04X refused\n", (unsigned)c, (unsigned)m);
        }
    }
    /* each pair of regional indicators is a flag (validity of the region is not checked) */
    for (uint32_t a = 0x1F1E6; a <= 0x1F1FF; a++) {
        uint32_t pair[2] = { a, 0x1F1E6 + (a - 0x1F1E6 + 7) % 26 };

        if (!bit(p.pres, a) || !valid_seq(pair, 2))
            wrong++;
    }
    fprintf(stderr, "  %u code points of emoji-data.txt checked\n", checked);
    CHECK_INT(checked, >, 3500); /* Unicode 15.0: 3537 pictographic, plus indicators and tones */
    CHECK_INT(wrong, ==, 0);
}

/* Every emoji of emoji-test.txt (fully-, minimally- and unqualified: all shown as one) passes. */
TEST(emoji_validator_takes_every_emoji_of_unicode_emoji_test)
{
    FILE *f = unicode_file("emoji-test.txt");
    char line[512];
    unsigned wrong = 0, checked = 0;

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        uint32_t cps[16];
        size_t ncp = 0;
        char *semi = strchr(line, ';'), *p = line, *end;

        if (line[0] == '#' || !semi || strstr(semi, "component"))
            continue;
        *semi = '\0';
        while (ncp < 16 && (cps[ncp] = (uint32_t)strtoul(p, &end, 16), end != p)) {
            ncp++;
            p = end;
        }
        checked++;
        if (!valid_seq(cps, ncp) && wrong++ < 20)
            fprintf(stderr, "  refused: %s\n", line);
    }
    fclose(f);
    fprintf(stderr, "  %u emoji of emoji-test.txt checked\n", checked);
    CHECK_INT(checked, >, 4000); /* Unicode 15.0: 4,724 lines that are not components */
    CHECK_INT(wrong, ==, 0);
}

static bool canon_is(const char *in, const char *want)
{
    char out[REACTION_EMOJI_MAX_BYTES + 1];
    int n = store_emoji_canonical(in, strlen(in), out);

    return n == (int)strlen(want) && !strcmp(out, want);
}

TEST(emoji_canonical_spelling_makes_one_emoji_of_its_variants)
{
    char out[REACTION_EMOJI_MAX_BYTES + 1];

    CHECK(canon_is("\xe2\x9d\xa4", "\xe2\x9d\xa4\xef\xb8\x8f"));             /* ❤ -> ❤️ */
    CHECK(canon_is("\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\xef\xb8\x8f")); /* ❤️ stays */
    CHECK(canon_is("\xf0\x9f\x91\x8d", "\xf0\x9f\x91\x8d"));                 /* 👍 stays */
    CHECK(canon_is("\xf0\x9f\x91\x8d\xef\xb8\x8f", "\xf0\x9f\x91\x8d")); /* 👍️: VS16 dropped */
    CHECK(canon_is("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbb", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbb"));
    CHECK(canon_is("#\xe2\x83\xa3", "#\xef\xb8\x8f\xe2\x83\xa3")); /* keycap # */
    /* 🏳‍🌈 -> 🏳️‍🌈: the white flag is text by default, inside a ZWJ sequence too
     */
    CHECK(canon_is("\xf0\x9f\x8f\xb3\xe2\x80\x8d\xf0\x9f\x8c\x88",
                   "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88"));
    CHECK_INT(store_emoji_canonical("ab", 2, out), ==, -EINVAL);
    CHECK_INT(store_emoji_canonical("", 0, out), ==, -EINVAL);
}

/*
 * For every line of emoji-test.txt (fully-, minimally- and unqualified), the canonical spelling
 * is the fully-qualified line of the same name: what phones send and show.
 */
TEST(emoji_canonical_spelling_is_unicodes_fully_qualified_form)
{
    FILE *f = unicode_file("emoji-test.txt");
    char line[512], name[256], full[REACTION_EMOJI_MAX_BYTES + 1] = "";
    char full_name[256] = "";
    unsigned wrong = 0, checked = 0;

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        uint32_t cps[16];
        size_t ncp = 0, n = 0;
        char s[64], out[REACTION_EMOJI_MAX_BYTES + 1];
        char *semi = strchr(line, ';'), *hash = strchr(line, '#'), *p = line, *end;
        const char *ver;
        int got;

        if (line[0] == '#' || !semi || !hash || strstr(semi, "component"))
            continue;
        /* "# <emoji> E<version> <name>": the name follows the version */
        ver = strstr(hash, " E");
        if (!ver)
            continue;
        ver = strchr(ver + 2, ' ');
        snprintf(name, sizeof(name), "%s", ver ? ver + 1 : "");
        name[strcspn(name, "\n")] = '\0';
        *semi = '\0';
        while (ncp < 16 && (cps[ncp] = (uint32_t)strtoul(p, &end, 16), end != p)) {
            ncp++;
            p = end;
        }
        for (size_t i = 0; i < ncp; i++)
            put_utf8(s, &n, cps[i]);
        if (strstr(semi + 1, "fully-qualified")) {
            snprintf(full, sizeof(full), "%.*s", (int)n, s);
            snprintf(full_name, sizeof(full_name), "%s", name);
        }
        checked++;
        got = store_emoji_canonical(s, n, out);
        if ((got < 0 || strcmp(name, full_name) != 0 || strcmp(out, full) != 0) && wrong++ < 20)
            fprintf(stderr, "  %s: canonical form differs from the fully-qualified one\n", name);
    }
    fclose(f);
    fprintf(stderr, "  %u emoji of emoji-test.txt checked\n", checked);
    CHECK_INT(checked, >, 4000);
    CHECK_INT(wrong, ==, 0);
}
