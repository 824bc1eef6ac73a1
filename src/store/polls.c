/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Polls: made with their post (store_post_create calls store__poll_insert in its own
 * transaction, so a post and its poll exist together or not at all), never edited afterwards,
 * voted on and retracted by followers until they close. A vote is one row per follower (the
 * bit set of its choices) only so that it can be changed or retracted; per-option counters
 * and the number of voters are moved by triggers in the same transaction, and nothing here
 * reads who voted for what.
 */
#include "store/reactions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "store/reactions_int.h"

/* ---- validation and copies ---- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool text_ok(const char *s, size_t max_chars)
{
    size_t n = s ? utf8_chars(s) : 0;

    return n >= 1 && n <= max_chars && strlen(s) <= max_chars * 4;
}

bool store_poll_new_valid(const struct store_poll_new *p)
{
    if (!p || !text_ok(p->question, POLL_QUESTION_MAX) || p->n_options < POLL_OPTIONS_MIN ||
        p->n_options > POLL_OPTIONS_MAX || p->closes_ms < 0)
        return false;
    for (unsigned i = 0; i < p->n_options; i++) {
        if (!text_ok(p->options[i], POLL_OPTION_MAX))
            return false;
    }
    return true;
}

struct store__poll *store__poll_copy(const struct store_poll_new *p)
{
    struct store__poll *c = xcalloc(1, sizeof(*c));
    json_t *arr = json_array();

    for (unsigned i = 0; i < p->n_options; i++)
        json_array_append_new(arr, json_string(p->options[i]));
    c->options_json = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!c->options_json)
        abort(); /* only on OOM: the strings are valid UTF-8 (checked by the caller) */
    c->question = xstrdup(p->question);
    c->n_options = p->n_options;
    c->multiple = p->multiple;
    c->closes_ms = p->closes_ms;
    return c;
}

void store__poll_free(struct store__poll *p)
{
    if (!p)
        return;
    free(p->question);
    free(p->options_json);
    free(p);
}

int store__poll_insert(struct store_tx *tx, int64_t post_id, const struct store__poll *p)
{
    static const char poll[] = "INSERT INTO polls (post_id, question, options, multiple,"
                               " closes_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
    /* One row per option, 0 .. n-1 (column1: both engines' name for a VALUES column). */
    static const char counts[] =
        "INSERT INTO poll_counts (post_id, option) SELECT ?1, column1 FROM (VALUES (0), (1),"
        " (2), (3), (4), (5), (6), (7), (8), (9), (10), (11)) v WHERE column1 < ?2";
    struct db_stmt *st = db_stmt(tx->db, poll);
    int err;

    if (st) {
        db_bind_i64(st, 1, post_id);
        db_bind_text(st, 2, p->question);
        db_bind_text(st, 3, p->options_json);
        db_bind_i64(st, 4, p->multiple);
        if (p->closes_ms) {
            db_bind_i64(st, 5, p->closes_ms);
        } else {
            db_bind_null(st, 5);
        }
    }
    err = store__step_done(tx->db, st, "poll_create");
    if (err)
        return err;
    st = db_stmt(tx->db, counts);
    if (st) {
        db_bind_i64(st, 1, post_id);
        db_bind_i64(st, 2, (int64_t)p->n_options);
    }
    return store__step_done(tx->db, st, "poll_counts");
}

/* ---- reads ---- */

int store_poll_get(struct store_reader *r, int64_t post_id, struct store_poll_info *out)
{
    static const char sql[] = "SELECT json_array_length(options), multiple, coalesce(closes_ms, 0)"
                              " FROM polls WHERE post_id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    db_bind_i64(st, 1, post_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        out->n_options = (unsigned)db_col_int(st, 0);
        out->multiple = db_col_int(st, 1) != 0;
        out->closes_ms = db_col_i64(st, 2);
        err = 0;
    } else {
        err = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "poll_get");
    }
out:
    db_reset(st);
    return err;
}

json_t *store_poll_json(const char *raw, int64_t now_ms)
{
    json_t *in = raw && *raw ? json_loads(raw, 0, NULL) : NULL;
    json_t *closes;
    json_t *out = NULL;
    char at[32];
    int64_t closes_ms;

    if (!json_is_object(in))
        goto done;
    closes = json_object_get(in, "closes_ms");
    closes_ms = json_is_integer(closes) ? (int64_t)json_integer_value(closes) : 0;
    if (closes_ms)
        clock_rfc3339(closes_ms, at, sizeof(at));
    out = json_pack(
        "{s:O, s:O, s:O, s:o, s:b, s:O}", "question", json_object_get(in, "question"), "options",
        json_object_get(in, "options"), "multiple", json_object_get(in, "multiple"), "closes_at",
        closes_ms ? json_string(at) : json_null(), "closed", closes_ms && closes_ms <= now_ms,
        "total_voters", json_object_get(in, "total_voters"));
done:
    json_decref(in);
    return out;
}

/* ---- votes ---- */

struct vote {
    struct store_write w;
    uint8_t hash[SECRET_HASH_LEN];
    int64_t post_id;
    uint32_t choices; /* 0: retract */
};

/*
 * The poll of published post `post_id` as the writer sees it now: -ENOENT if there is none,
 * -ETIME once it is closed (votes and retractions alike: the result is final).
 */
static int poll_open(struct store_tx *tx, int64_t post_id, unsigned *n_options, bool *multiple)
{
    static const char sql[] = "SELECT json_array_length(pl.options), pl.multiple,"
                              " coalesce(pl.closes_ms, 0) FROM polls pl JOIN posts p"
                              " ON p.id = pl.post_id WHERE pl.post_id = ?1 AND p.state = 1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int64_t closes_ms = 0;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, post_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *n_options = (unsigned)db_col_int(st, 0);
        *multiple = db_col_int(st, 1) != 0;
        closes_ms = db_col_i64(st, 2);
    }
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "poll_open");
    return closes_ms && closes_ms <= tx->now_ms ? -ETIME : 0;
}

static int vote_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char put[] =
        "INSERT INTO votes (post_id, follower_id, choices) SELECT ?1, f.id, ?3"
        " FROM followers f WHERE f.hash = ?2"
        " ON CONFLICT (post_id, follower_id) DO UPDATE SET choices = excluded.choices"
        " WHERE votes.choices != excluded.choices";
    static const char del[] = "DELETE FROM votes WHERE post_id = ?1"
                              " AND follower_id = (SELECT id FROM followers WHERE hash = ?2)";
    struct vote *v = container_of(w, struct vote, w);
    unsigned n_options = 0;
    bool multiple = false;
    int64_t follower = 0;
    struct db_stmt *st;
    int err = store__counts_lock(tx, v->post_id);

    if (!err)
        err = poll_open(tx, v->post_id, &n_options, &multiple);
    if (err)
        return err;
    if (v->choices >> n_options || (!multiple && (v->choices & (v->choices - 1))))
        return -EINVAL;
    st = db_stmt(tx->db, v->choices ? put : del);
    if (st) {
        db_bind_i64(st, 1, v->post_id);
        db_bind_blob(st, 2, v->hash, SECRET_HASH_LEN);
        if (v->choices)
            db_bind_i64(st, 3, v->choices);
    }
    err = store__step_done(tx->db, st, v->choices ? "vote_put" : "vote_delete");
    if (err)
        return err;
    *id = db_changes(tx->db) > 0 ? v->post_id : 0;
    if (*id)
        return store__counts_mark(tx, *id);
    /* Nothing changed: the same vote again, or an unknown follower. */
    if (v->choices)
        err = store__follower_id(tx, v->hash, &follower);
    return err;
}

static void vote_free(struct store_write *w)
{
    struct vote *v = container_of(w, struct vote, w);

    explicit_bzero(v->hash, sizeof(v->hash));
    free(v);
}

static const struct store_write_op vote_op = { "vote", vote_apply, vote_free };

static int vote_submit(struct store *s, const uint8_t *hash, int64_t post_id, uint32_t choices,
                       store_done_fn *done, void *ctx)
{
    struct vote *v;

    if (!hash || post_id < 1 || choices >> POLL_OPTIONS_MAX)
        return -EINVAL;
    v = xcalloc(1, sizeof(*v));
    v->w.op = &vote_op;
    memcpy(v->hash, hash, SECRET_HASH_LEN);
    v->post_id = post_id;
    v->choices = choices;
    return store__submit(s, &v->w, done, ctx, NULL);
}

int store_vote_put(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t post_id,
                   uint32_t choices, store_done_fn *done, void *ctx)
{
    if (!choices)
        return -EINVAL;
    return vote_submit(s, hash, post_id, choices, done, ctx);
}

int store_vote_delete(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t post_id,
                      store_done_fn *done, void *ctx)
{
    return vote_submit(s, hash, post_id, 0, done, ctx);
}
