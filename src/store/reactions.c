/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Reactions: the emoji validator, a follower's reaction (put, change, remove) and the
 * coalescer's "counts" events. The per-follower row exists only so that a follower has one
 * reaction per post and can change it; the counters in reaction_counts are moved by triggers
 * in the same transaction (006_reactions_polls.sql), so they are exact without a COUNT(*) on
 * read, and nothing here reads who reacted with what.
 *
 * A reaction is the hottest write of a flood day (thousands of phones at once), so its apply
 * is one prepared INSERT ... ON CONFLICT that finds the follower and the post itself; no JSON,
 * no event per reaction: it marks its post in counts_dirty, and the coalescer (api/counts.c)
 * writes one "counts" event per marked post per second at most, through store_counts_flush().
 */
#include "store/reactions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/reactions_int.h"
#include "store/shared_int.h"

/* ---- the emoji validator ---- */

/*
 * Extended_Pictographic (Unicode emoji-data.txt, version 15): the code points that start an
 * emoji, assigned or reserved for future emoji (so new emoji work without an update here).
 * Sorted, not overlapping: binary search. tests/unit/test_reactions.c checks it, and the whole
 * validator, against the emoji-data.txt and emoji-test.txt of Debian's unicode-data package.
 */
struct cp_range {
    uint32_t lo, hi;
};

static const struct cp_range pictographic[] = {
    { 0x00A9, 0x00A9 },   { 0x00AE, 0x00AE },   { 0x203C, 0x203C },   { 0x2049, 0x2049 },
    { 0x2122, 0x2122 },   { 0x2139, 0x2139 },   { 0x2194, 0x2199 },   { 0x21A9, 0x21AA },
    { 0x231A, 0x231B },   { 0x2328, 0x2328 },   { 0x2388, 0x2388 },   { 0x23CF, 0x23CF },
    { 0x23E9, 0x23F3 },   { 0x23F8, 0x23FA },   { 0x24C2, 0x24C2 },   { 0x25AA, 0x25AB },
    { 0x25B6, 0x25B6 },   { 0x25C0, 0x25C0 },   { 0x25FB, 0x25FE },   { 0x2600, 0x2605 },
    { 0x2607, 0x2612 },   { 0x2614, 0x2685 },   { 0x2690, 0x2705 },   { 0x2708, 0x2712 },
    { 0x2714, 0x2714 },   { 0x2716, 0x2716 },   { 0x271D, 0x271D },   { 0x2721, 0x2721 },
    { 0x2728, 0x2728 },   { 0x2733, 0x2734 },   { 0x2744, 0x2744 },   { 0x2747, 0x2747 },
    { 0x274C, 0x274C },   { 0x274E, 0x274E },   { 0x2753, 0x2755 },   { 0x2757, 0x2757 },
    { 0x2763, 0x2767 },   { 0x2795, 0x2797 },   { 0x27A1, 0x27A1 },   { 0x27B0, 0x27B0 },
    { 0x27BF, 0x27BF },   { 0x2934, 0x2935 },   { 0x2B05, 0x2B07 },   { 0x2B1B, 0x2B1C },
    { 0x2B50, 0x2B50 },   { 0x2B55, 0x2B55 },   { 0x3030, 0x3030 },   { 0x303D, 0x303D },
    { 0x3297, 0x3297 },   { 0x3299, 0x3299 },   { 0x1F000, 0x1F0FF }, { 0x1F10D, 0x1F10F },
    { 0x1F12F, 0x1F12F }, { 0x1F16C, 0x1F171 }, { 0x1F17E, 0x1F17F }, { 0x1F18E, 0x1F18E },
    { 0x1F191, 0x1F19A }, { 0x1F1AD, 0x1F1E5 }, { 0x1F201, 0x1F20F }, { 0x1F21A, 0x1F21A },
    { 0x1F22F, 0x1F22F }, { 0x1F232, 0x1F23A }, { 0x1F23C, 0x1F23F }, { 0x1F249, 0x1F3FA },
    { 0x1F400, 0x1F53D }, { 0x1F546, 0x1F64F }, { 0x1F680, 0x1F6FF }, { 0x1F774, 0x1F77F },
    { 0x1F7D5, 0x1F7FF }, { 0x1F80C, 0x1F80F }, { 0x1F848, 0x1F84F }, { 0x1F85A, 0x1F85F },
    { 0x1F888, 0x1F88F }, { 0x1F8AE, 0x1F8FF }, { 0x1F90C, 0x1F93A }, { 0x1F93C, 0x1F945 },
    { 0x1F947, 0x1FAFF }, { 0x1FC00, 0x1FFFD },
};

/*
 * Emoji shown as text unless followed by VS16 (Unicode emoji-data.txt 15.0: Emoji and not
 * Emoji_Presentation, e.g. U+2764 HEAVY BLACK HEART). Their fully-qualified spelling carries
 * U+FE0F. Sorted, not overlapping; tests/unit/test_reactions.c checks it against emoji-test.txt.
 */
static const struct cp_range text_default[] = {
    { 0x0023, 0x0023 },   { 0x002A, 0x002A },   { 0x0030, 0x0039 },   { 0x00A9, 0x00A9 },
    { 0x00AE, 0x00AE },   { 0x203C, 0x203C },   { 0x2049, 0x2049 },   { 0x2122, 0x2122 },
    { 0x2139, 0x2139 },   { 0x2194, 0x2199 },   { 0x21A9, 0x21AA },   { 0x2328, 0x2328 },
    { 0x23CF, 0x23CF },   { 0x23ED, 0x23EF },   { 0x23F1, 0x23F2 },   { 0x23F8, 0x23FA },
    { 0x24C2, 0x24C2 },   { 0x25AA, 0x25AB },   { 0x25B6, 0x25B6 },   { 0x25C0, 0x25C0 },
    { 0x25FB, 0x25FC },   { 0x2600, 0x2604 },   { 0x260E, 0x260E },   { 0x2611, 0x2611 },
    { 0x2618, 0x2618 },   { 0x261D, 0x261D },   { 0x2620, 0x2620 },   { 0x2622, 0x2623 },
    { 0x2626, 0x2626 },   { 0x262A, 0x262A },   { 0x262E, 0x262F },   { 0x2638, 0x263A },
    { 0x2640, 0x2640 },   { 0x2642, 0x2642 },   { 0x265F, 0x2660 },   { 0x2663, 0x2663 },
    { 0x2665, 0x2666 },   { 0x2668, 0x2668 },   { 0x267B, 0x267B },   { 0x267E, 0x267E },
    { 0x2692, 0x2692 },   { 0x2694, 0x2697 },   { 0x2699, 0x2699 },   { 0x269B, 0x269C },
    { 0x26A0, 0x26A0 },   { 0x26A7, 0x26A7 },   { 0x26B0, 0x26B1 },   { 0x26C8, 0x26C8 },
    { 0x26CF, 0x26CF },   { 0x26D1, 0x26D1 },   { 0x26D3, 0x26D3 },   { 0x26E9, 0x26E9 },
    { 0x26F0, 0x26F1 },   { 0x26F4, 0x26F4 },   { 0x26F7, 0x26F9 },   { 0x2702, 0x2702 },
    { 0x2708, 0x2709 },   { 0x270C, 0x270D },   { 0x270F, 0x270F },   { 0x2712, 0x2712 },
    { 0x2714, 0x2714 },   { 0x2716, 0x2716 },   { 0x271D, 0x271D },   { 0x2721, 0x2721 },
    { 0x2733, 0x2734 },   { 0x2744, 0x2744 },   { 0x2747, 0x2747 },   { 0x2763, 0x2764 },
    { 0x27A1, 0x27A1 },   { 0x2934, 0x2935 },   { 0x2B05, 0x2B07 },   { 0x3030, 0x3030 },
    { 0x303D, 0x303D },   { 0x3297, 0x3297 },   { 0x3299, 0x3299 },   { 0x1F170, 0x1F171 },
    { 0x1F17E, 0x1F17F }, { 0x1F202, 0x1F202 }, { 0x1F237, 0x1F237 }, { 0x1F321, 0x1F321 },
    { 0x1F324, 0x1F32C }, { 0x1F336, 0x1F336 }, { 0x1F37D, 0x1F37D }, { 0x1F396, 0x1F397 },
    { 0x1F399, 0x1F39B }, { 0x1F39E, 0x1F39F }, { 0x1F3CB, 0x1F3CE }, { 0x1F3D4, 0x1F3DF },
    { 0x1F3F3, 0x1F3F3 }, { 0x1F3F5, 0x1F3F5 }, { 0x1F3F7, 0x1F3F7 }, { 0x1F43F, 0x1F43F },
    { 0x1F441, 0x1F441 }, { 0x1F4FD, 0x1F4FD }, { 0x1F549, 0x1F54A }, { 0x1F56F, 0x1F570 },
    { 0x1F573, 0x1F579 }, { 0x1F587, 0x1F587 }, { 0x1F58A, 0x1F58D }, { 0x1F590, 0x1F590 },
    { 0x1F5A5, 0x1F5A5 }, { 0x1F5A8, 0x1F5A8 }, { 0x1F5B1, 0x1F5B2 }, { 0x1F5BC, 0x1F5BC },
    { 0x1F5C2, 0x1F5C4 }, { 0x1F5D1, 0x1F5D3 }, { 0x1F5DC, 0x1F5DE }, { 0x1F5E1, 0x1F5E1 },
    { 0x1F5E3, 0x1F5E3 }, { 0x1F5E8, 0x1F5E8 }, { 0x1F5EF, 0x1F5EF }, { 0x1F5F3, 0x1F5F3 },
    { 0x1F5FA, 0x1F5FA }, { 0x1F6CB, 0x1F6CB }, { 0x1F6CD, 0x1F6CF }, { 0x1F6E0, 0x1F6E5 },
    { 0x1F6E9, 0x1F6E9 }, { 0x1F6F0, 0x1F6F0 }, { 0x1F6F3, 0x1F6F3 },
};

#define CP_ZWJ           0x200DU
#define CP_VS16          0xFE0FU
#define CP_KEYCAP        0x20E3U
#define CP_BLACK_FLAG    0x1F3F4U
#define CP_TAG_END       0xE007FU
#define ZWJ_ELEMENTS_MAX 10 /* the longest RGI ZWJ sequences have 4 or 5 */

/* Whether `c` is in the sorted, non-overlapping `t` (binary search). */
static bool in_ranges(const struct cp_range *t, size_t n, uint32_t c)
{
    size_t lo = 0;
    size_t hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (c < t[mid].lo) {
            hi = mid;
        } else if (c > t[mid].hi) {
            lo = mid + 1;
        } else {
            return true;
        }
    }
    return false;
}

static bool is_pictographic(uint32_t c)
{
    return in_ranges(pictographic, ARRAY_SIZE(pictographic), c);
}

static bool is_text_default(uint32_t c)
{
    return in_ranges(text_default, ARRAY_SIZE(text_default), c);
}

static bool is_modifier(uint32_t c)
{
    return c >= 0x1F3FB && c <= 0x1F3FF;
}

static bool is_regional(uint32_t c)
{
    return c >= 0x1F1E6 && c <= 0x1F1FF;
}

static bool is_tag(uint32_t c)
{
    return c >= 0xE0020 && c <= 0xE007E;
}

/*
 * Decode strict UTF-8 (RFC 3629: shortest form, no surrogates, nothing past U+10FFFF, no NUL)
 * into `cp`. Returns the number of code points, or -1 for anything malformed.
 */
static int decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    size_t i = 0;
    int n = 0;

    while (i < len) {
        unsigned char b = s[i];
        uint32_t c;
        size_t need;
        uint32_t min;

        if (b == 0)
            return -1;
        if (b < 0x80) {
            cp[n++] = b;
            i++;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
            c = b & 0x1FU;
            min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            c = b & 0x0FU;
            min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            c = b & 0x07U;
            min = 0x10000;
        } else {
            return -1; /* continuation byte first, C0/C1 overlong leads, F5..FF */
        }
        if (len - i - 1 < need)
            return -1;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return -1;
            c = (c << 6) | (s[i + k] & 0x3FU);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return -1;
        cp[n++] = c;
        i += need + 1;
    }
    return n;
}

/* A keycap: [0-9#*] VS16? U+20E3 ("1️⃣"), the whole string. */
static bool keycap(const uint32_t *cp, int n)
{
    if (!((cp[0] >= '0' && cp[0] <= '9') || cp[0] == '#' || cp[0] == '*'))
        return false;
    return (n == 2 && cp[1] == CP_KEYCAP) || (n == 3 && cp[1] == CP_VS16 && cp[2] == CP_KEYCAP);
}

/* A subdivision flag: U+1F3F4, one or more tags, the cancel tag ("🏴󠁧󠁢󠁳󠁣󠁴󠁿").
 */
static bool tag_sequence(const uint32_t *cp, int n)
{
    if (n < 3 || cp[0] != CP_BLACK_FLAG || cp[n - 1] != CP_TAG_END)
        return false;
    for (int i = 1; i < n - 1; i++) {
        if (!is_tag(cp[i]))
            return false;
    }
    return true;
}

/*
 * pictographic (modifier | VS16)? (ZWJ pictographic (modifier | VS16)?)*: a single emoji, a
 * skin-toned one, or a ZWJ sequence. By the grapheme rules of UAX #29 (GB9, GB11) this is one
 * extended grapheme cluster.
 */
static bool zwj_sequence(const uint32_t *cp, int n)
{
    int elements = 0;
    int i = 0;

    for (;;) {
        if (i >= n || !is_pictographic(cp[i]))
            return false;
        i++;
        if (i < n && (is_modifier(cp[i]) || cp[i] == CP_VS16))
            i++;
        if (++elements > ZWJ_ELEMENTS_MAX)
            return false;
        if (i == n)
            return true;
        if (cp[i] != CP_ZWJ)
            return false;
        i++; /* a trailing ZWJ fails on the next round: i == n */
    }
}

bool store_emoji_valid(const char *s, size_t len)
{
    uint32_t cp[REACTION_EMOJI_MAX_BYTES];
    int n;

    if (!s || len < 1 || len > REACTION_EMOJI_MAX_BYTES)
        return false;
    n = decode((const unsigned char *)s, len, cp);
    if (n < 1)
        return false;
    if (keycap(cp, n))
        return true;
    if (is_regional(cp[0]))
        return n == 2 && is_regional(cp[1]);
    if (tag_sequence(cp, n))
        return true;
    return zwj_sequence(cp, n);
}

/* UTF-8 of `c` at out[*n] when it fits below `max` bytes; false when it does not. */
static bool put_utf8(char *out, size_t *n, size_t max, uint32_t c)
{
    unsigned char b[4];
    size_t k;

    if (c < 0x80) {
        b[0] = (unsigned char)c;
        k = 1;
    } else if (c < 0x800) {
        b[0] = (unsigned char)(0xC0 | c >> 6);
        b[1] = (unsigned char)(0x80 | (c & 0x3F));
        k = 2;
    } else if (c < 0x10000) {
        b[0] = (unsigned char)(0xE0 | c >> 12);
        b[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
        b[2] = (unsigned char)(0x80 | (c & 0x3F));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | c >> 18);
        b[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
        b[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
        b[3] = (unsigned char)(0x80 | (c & 0x3F));
        k = 4;
    }
    if (*n + k > max)
        return false;
    memcpy(out + *n, b, k);
    *n += k;
    return true;
}

int store_emoji_canonical(const char *s, size_t len, char out[REACTION_EMOJI_MAX_BYTES + 1])
{
    uint32_t cp[REACTION_EMOJI_MAX_BYTES];
    size_t o = 0;
    int n;

    if (!store_emoji_valid(s, len))
        return -EINVAL;
    n = decode((const unsigned char *)s, len, cp);
    for (int i = 0; i < n; i++) {
        uint32_t next = 0;

        if (cp[i] == CP_VS16)
            continue; /* put back below exactly where it belongs */
        for (int k = i + 1; k < n && !next; k++)
            next = cp[k] == CP_VS16 ? 0 : cp[k];
        if (!put_utf8(out, &o, REACTION_EMOJI_MAX_BYTES, cp[i]))
            return -E2BIG;
        if (is_text_default(cp[i]) && !is_modifier(next) &&
            !put_utf8(out, &o, REACTION_EMOJI_MAX_BYTES, CP_VS16))
            return -E2BIG;
    }
    out[o] = '\0';
    return (int)o;
}

/* ---- the target of a reaction or a vote ---- */

int store_post_target(struct store_reader *r, int64_t post_id, const uint8_t hash[SECRET_HASH_LEN],
                      struct store_post_target *out)
{
    static const char sql[] =
        "SELECT p.channel_id, p.state, p.published_ms, c.retention_days,"
        " CASE c.reaction_policy WHEN 'set' THEN 1 WHEN 'none' THEN 2 ELSE 0 END,"
        " coalesce(c.reactions, ''), EXISTS (SELECT 1 FROM follows fo JOIN followers f"
        " ON f.id = fo.follower_id WHERE f.hash = ?2 AND fo.channel_id = p.channel_id),"
        " pl.post_id IS NOT NULL, coalesce(json_array_length(pl.options), 0),"
        " coalesce(pl.multiple, 0), coalesce(pl.closes_ms, 0), c.visibility = 'listed'"
        " FROM posts p JOIN channels c ON c.id = p.channel_id"
        " LEFT JOIN polls pl ON pl.post_id = p.id WHERE p.id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, post_id);
    db_bind_blob(st, 2, hash, SECRET_HASH_LEN);
    rc = db_step(st);
    if (rc == DB_ROW) {
        const char *set = db_col_text(st, 5);

        out->channel_id = db_col_i64(st, 0);
        out->published = db_col_int(st, 1) == 1;
        out->published_ms = db_col_i64(st, 2);
        out->retention_days = db_col_int(st, 3);
        out->reaction_policy = db_col_int(st, 4);
        snprintf(out->reactions_json, sizeof(out->reactions_json), "%s",
                 set ? (const char *)set : "");
        out->follows = db_col_int(st, 6) != 0;
        out->has_poll = db_col_int(st, 7) != 0;
        out->n_options = (unsigned)db_col_int(st, 8);
        out->multiple = db_col_int(st, 9) != 0;
        out->closes_ms = db_col_i64(st, 10);
        out->listed = db_col_int(st, 11) != 0;
        err = 0;
    } else {
        err = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "post_target");
    }
out:
    db_reset(st);
    return err;
}

/* ---- put ---- */

struct reaction_put {
    struct store_write w;
    uint8_t hash[SECRET_HASH_LEN];
    int64_t post_id;
    size_t len;
    char emoji[REACTION_EMOJI_MAX_BYTES + 1];
};

/* Whether the follower `hash` already has a reaction on the post (the no-change case). */
static int has_reaction(struct store_tx *tx, const uint8_t *hash, int64_t post_id)
{
    static const char sql[] = "SELECT 1 FROM reactions r JOIN followers f ON f.id = r.follower_id"
                              " WHERE r.post_id = ?1 AND f.hash = ?2";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, post_id);
    db_bind_blob(st, 2, hash, SECRET_HASH_LEN);
    rc = db_step(st);
    db_reset(st);
    if (rc == DB_ROW)
        return 0;
    return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "reaction_has");
}

/*
 * PostgreSQL, several nodes: lock the post's row before its counters. A reaction changes up
 * to two reaction_counts rows (the old emoji's and the new one's) and the post's counts_dirty
 * mark; two nodes' batches taking those in different orders deadlock, and PostgreSQL then
 * fails one of the writes. Taking the post first makes every write on one post queue behind
 * the same lock. FOR NO KEY UPDATE does not block the foreign-key checks of rows that refer
 * to the post. SQLite has one writer: nothing to order.
 */
int store__counts_lock(struct store_tx *tx, int64_t post_id)
{
    static const char sql[] = "SELECT id FROM posts WHERE id = ?1 FOR NO KEY UPDATE";
    struct db_stmt *st;
    int rc;

    if (db_backend(tx->db) != DB_PG)
        return 0;
    st = db_stmt(tx->db, sql);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, post_id);
    rc = db_step(st);
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : store__errno(tx->db, rc, "counts_lock");
}

static int put_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /*
     * One statement finds the published post and the follower and upserts; the triggers move
     * the counters. Nothing is inserted when either is missing, and nothing is updated when
     * the reaction is already this emoji (so no trigger fires for a repeat).
     */
    static const char sql[] =
        "INSERT INTO reactions (post_id, follower_id, emoji) SELECT p.id, f.id, ?3"
        " FROM posts p, followers f WHERE p.id = ?1 AND p.state = 1 AND f.hash = ?2"
        " ON CONFLICT (post_id, follower_id) DO UPDATE SET emoji = excluded.emoji"
        " WHERE reactions.emoji != excluded.emoji";
    struct reaction_put *p = container_of(w, struct reaction_put, w);
    struct db_stmt *st;
    int err = store__counts_lock(tx, p->post_id);

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, p->post_id);
        db_bind_blob(st, 2, p->hash, SECRET_HASH_LEN);
        db_bind_textn(st, 3, p->emoji, p->len);
    }
    err = store__step_done(tx->db, st, "reaction_put");
    if (err)
        return err;
    *id = db_changes(tx->db) > 0 ? p->post_id : 0;
    return *id ? store__counts_mark(tx, *id) : has_reaction(tx, p->hash, p->post_id);
}

static void put_free(struct store_write *w)
{
    struct reaction_put *p = container_of(w, struct reaction_put, w);

    explicit_bzero(p->hash, sizeof(p->hash));
    free(p);
}

static const struct store_write_op put_op = { "reaction_put", put_apply, put_free };

int store_reaction_put(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t post_id,
                       const char *emoji, size_t len, store_done_fn *done, void *ctx)
{
    struct reaction_put *p;

    if (!hash || post_id < 1 || !store_emoji_valid(emoji, len))
        return -EINVAL;
    p = xcalloc(1, sizeof(*p));
    p->w.op = &put_op;
    memcpy(p->hash, hash, SECRET_HASH_LEN);
    p->post_id = post_id;
    memcpy(p->emoji, emoji, len);
    p->len = len;
    return store__submit(s, &p->w, done, ctx, NULL);
}

/* ---- delete ---- */

struct reaction_delete {
    struct store_write w;
    uint8_t hash[SECRET_HASH_LEN];
    int64_t post_id;
};

static int delete_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "DELETE FROM reactions WHERE post_id = ?1"
                              " AND follower_id = (SELECT id FROM followers WHERE hash = ?2)";
    struct reaction_delete *d = container_of(w, struct reaction_delete, w);
    struct db_stmt *st;
    int err = store__counts_lock(tx, d->post_id);

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, d->post_id);
        db_bind_blob(st, 2, d->hash, SECRET_HASH_LEN);
    }
    err = store__step_done(tx->db, st, "reaction_delete");
    *id = !err && db_changes(tx->db) > 0 ? d->post_id : 0;
    return *id ? store__counts_mark(tx, *id) : err;
}

static void delete_free(struct store_write *w)
{
    struct reaction_delete *d = container_of(w, struct reaction_delete, w);

    explicit_bzero(d->hash, sizeof(d->hash));
    free(d);
}

static const struct store_write_op delete_op = { "reaction_delete", delete_apply, delete_free };

int store_reaction_delete(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t post_id,
                          store_done_fn *done, void *ctx)
{
    struct reaction_delete *d;

    if (!hash || post_id < 1)
        return -EINVAL;
    d = xcalloc(1, sizeof(*d));
    d->w.op = &delete_op;
    memcpy(d->hash, hash, SECRET_HASH_LEN);
    d->post_id = post_id;
    return store__submit(s, &d->w, done, ctx, NULL);
}

/* ---- counts events ---- */

struct counts_events {
    struct store_write w;
    size_t n;
    int64_t ids[]; /* n post ids */
};

/* Post `post_id`'s "counts" event, when it is a published post. `*wrote` is set to 1 if so. */
static int counts_one(struct store_tx *tx, int64_t post_id, int *wrote)
{
    static const char sql[] = DB_SQL(
        "SELECT p.channel_id, p.views_count, " STORE_REACTIONS_SQL("p") ", " STORE_POLL_SQL(
            "p") " FROM posts p WHERE p.id = ?1 AND p.state = 1",
        "SELECT p.channel_id, p.views_count, " STORE_REACTIONS_SQL_PG("p") ", " STORE_POLL_SQL_PG(
            "p") " FROM posts p WHERE p.id = ?1 AND p.state = 1");
    struct db_stmt *st = db_stmt(tx->db, sql);
    json_t *reactions = NULL;
    json_t *poll = NULL;
    json_t *ev = NULL;
    char *payload = NULL;
    char id[24];
    int64_t channel_id = 0;
    int64_t views = 0;
    int rc;
    int err = -EIO;

    *wrote = 0;
    if (!st)
        goto out;
    db_bind_i64(st, 1, post_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        const char *r = db_col_text(st, 2);
        const char *p = db_col_text(st, 3);

        channel_id = db_col_i64(st, 0);
        views = db_col_i64(st, 1);
        reactions = r ? json_loads(r, 0, NULL) : NULL;
        poll = p ? store_poll_json(p, tx->now_ms) : NULL;
    }
    db_reset(st);
    if (rc != DB_ROW) {
        err = rc == DB_DONE ? 0 : store__errno(tx->db, rc, "counts_read");
        goto out;
    }
    snprintf(id, sizeof(id), "%lld", (long long)post_id);
    ev = json_pack("{s:s, s:o, s:o, s:I}", "post", id, "reactions",
                   reactions ? reactions : json_object(), "poll", poll ? poll : json_null(),
                   "views", (json_int_t)views);
    reactions = poll = NULL; /* json_pack took them */
    payload = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    err = payload ? store__event(tx, channel_id, "counts", payload, NULL) : -EIO;
    if (!err)
        *wrote = 1;
out:
    json_decref(reactions);
    json_decref(poll);
    json_decref(ev);
    free(payload);
    return err;
}

static int counts_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    struct counts_events *c = container_of(w, struct counts_events, w);
    int64_t written = 0;
    int err = 0;

    for (size_t i = 0; i < c->n && !err; i++) {
        int one = 0;

        err = counts_one(tx, c->ids[i], &one);
        written += one;
    }
    *id = written;
    return err;
}

static void counts_free(struct store_write *w)
{
    free(container_of(w, struct counts_events, w));
}

static const struct store_write_op counts_op = { "counts_events", counts_apply, counts_free };

int store_counts_events(struct store *s, const int64_t *post_ids, size_t n, store_done_fn *done,
                        void *ctx, int64_t *written)
{
    struct counts_events *c;

    if (!post_ids || n < 1 || n > COUNTS_BATCH_MAX)
        return -EINVAL;
    c = xcalloc(1, sizeof(*c) + n * sizeof(c->ids[0]));
    c->w.op = &counts_op;
    c->n = n;
    memcpy(c->ids, post_ids, n * sizeof(c->ids[0]));
    return store__submit(s, &c->w, done, ctx, written);
}

/* ---- the cluster's coalescer (store_counts_flush) ---- */

int store__counts_mark(struct store_tx *tx, int64_t post_id)
{
    static const char sql[] =
        "INSERT INTO counts_dirty (post_id) VALUES (?1) ON CONFLICT (post_id) DO NOTHING";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st)
        db_bind_i64(st, 1, post_id);
    return store__step_done(tx->db, st, "counts_mark");
}

int store_counts_pending(struct store_reader *r, bool *any)
{
    static const char sql[] = "SELECT 1 FROM counts_dirty LIMIT 1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    *any = false;
    if (!st)
        return -EIO;
    rc = db_step(st);
    *any = rc == DB_ROW;
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : store__errno(r->db, rc, "counts_pending");
}

struct counts_flush {
    struct store_write w;
    int max;
};

static int flush_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char pick[] = "SELECT post_id FROM counts_dirty ORDER BY post_id LIMIT ?1";
    static const char done[] = "DELETE FROM counts_dirty WHERE post_id = ?1";
    struct counts_flush *f = container_of(w, struct counts_flush, w);
    int64_t *ids = xmalloc((size_t)f->max * sizeof(*ids));
    struct db_stmt *st = db_stmt(tx->db, pick);
    int64_t n = 0;
    int err = -EIO;
    int rc = DB_DONE;

    if (!st)
        goto out;
    db_bind_i64(st, 1, f->max);
    while (n < f->max && (rc = db_step(st)) == DB_ROW)
        ids[n++] = db_col_i64(st, 0);
    db_reset(st);
    if (rc != DB_ROW && rc != DB_DONE) {
        err = store__errno(tx->db, rc, "counts_pick");
        goto out;
    }
    err = 0;
    for (int64_t i = 0; i < n && !err; i++) {
        int one = 0;

        /*
         * The mark goes first, then the counters are read. On PostgreSQL a reaction that
         * commits before the DELETE is in the counters read after it; one that commits later
         * finds the mark being deleted, waits for this transaction, and marks the post anew.
         * Reading first could delete a mark made between the two and lose that change.
         */
        st = db_stmt(tx->db, done);
        if (st)
            db_bind_i64(st, 1, ids[i]);
        err = store__step_done(tx->db, st, "counts_unmark");
        /* No mark left: another node's coalescer took it meanwhile (a lease overlap). */
        if (!err && db_changes(tx->db) > 0)
            err = counts_one(tx, ids[i], &one);
    }
    *id = n;
out:
    free(ids);
    return err;
}

static void flush_free(struct store_write *w)
{
    free(container_of(w, struct counts_flush, w));
}

static const struct store_write_op flush_op = { "counts_flush", flush_apply, flush_free };

int store_counts_flush(struct store *s, int max, int64_t *written)
{
    struct counts_flush *f;

    if (max < 1 || max > COUNTS_BATCH_MAX)
        return -EINVAL;
    f = xcalloc(1, sizeof(*f));
    f->w.op = &flush_op;
    f->max = max;
    return store__submit(s, &f->w, NULL, NULL, written);
}
