/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The retention sweeper's write op: posts older than their channel's retention_days go, with
 * everything attached to them (views and edits by ON DELETE CASCADE, reactions and votes the
 * same way when they come), and so do events older than the retention, so a resuming stream
 * learns it is too far behind (DESIGN.md) instead of replaying deleted posts.
 *
 * Why batches: the store has one writer, and a transaction deleting a year of posts would hold
 * every other write (a post, a follow) behind it. A batch of a few hundred rows takes
 * milliseconds; the caller repeats until nothing is left, and since the state is the data
 * itself, a restart simply resumes. Deleted by retention, a post writes no "post.deleted" event
 * and no audit entry: followers' apps apply the same retention, and the audit log would only
 * fill with housekeeping.
 */
#include "store/posts.h"

#include <errno.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "store/store_int.h"

#define SWEEP_BATCH_MAX 10000

struct sweep {
    struct store_write w;
    int64_t now_ms;
    unsigned batch;
};

/* Run a DELETE with (now, batch) bound; *n is how many rows it removed itself. */
static int sweep_step(struct store_tx *tx, const char *sql, const struct sweep *s, int *n)
{
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, s->now_ms);
        db_bind_i64(st, 2, POST_DAY_MS);
        db_bind_i64(st, 3, (int)s->batch);
    }
    err = store__step_done(tx->db, st, "retention_sweep");
    /* db_changes() counts the statement's own rows, not cascades or triggers */
    *n = err ? 0 : db_changes(tx->db);
    return err;
}

static int sweep_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /* Oldest first through posts_by_time; scheduled posts (state 0) are never swept. */
    static const char posts[] =
        "DELETE FROM posts WHERE id IN (SELECT p.id FROM posts p"
        " JOIN channels c ON c.id = p.channel_id WHERE p.state = 1"
        " AND p.published_ms < ?1 - c.retention_days * ?2 ORDER BY p.published_ms LIMIT ?3)";
    static const char events[] =
        "DELETE FROM events WHERE (channel_id, seq) IN (SELECT e.channel_id, e.seq"
        " FROM events e JOIN channels c ON c.id = e.channel_id"
        " WHERE e.created_ms < ?1 - c.retention_days * ?2 ORDER BY e.created_ms LIMIT ?3)";
    /*
     * Media that nothing references a day after upload: no post (media_refs, kept by
     * triggers), no channel icon and no org logo; never attached, or what named them was
     * deleted, swept or changed; no citizen report's photo (reports.media_id). Their media_files
     * rows cascade; the files themselves are deleted by the file sweep (api/media.c) once no row
     * lists them. Icons and logos are looked up without an index: a server holds a few hundred
     * channels and orgs at most.
     */
    static const char media[] =
        "DELETE FROM media WHERE id IN (SELECT m.id FROM media m WHERE m.created_ms < ?1 - ?2"
        " AND NOT EXISTS (SELECT 1 FROM media_refs r WHERE r.public_id = m.public_id)"
        " AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.icon = m.public_id)"
        " AND NOT EXISTS (SELECT 1 FROM orgs o WHERE o.logo = m.public_id)"
        " AND NOT EXISTS (SELECT 1 FROM reports p WHERE p.media_id = m.public_id)"
        " ORDER BY m.created_ms LIMIT ?3)";
    struct sweep *s = container_of(w, struct sweep, w);
    int np = 0;
    int ne = 0;
    int nm = 0;
    int err = sweep_step(tx, posts, s, &np);

    if (!err)
        err = sweep_step(tx, events, s, &ne);
    if (!err)
        err = sweep_step(tx, media, s, &nm);
    *id = np + ne + nm;
    return err;
}

static void sweep_free(struct store_write *w)
{
    free(container_of(w, struct sweep, w));
}

static const struct store_write_op sweep_op = { "retention_sweep", sweep_apply, sweep_free };

int store_retention_sweep(struct store *s, int64_t now_ms, unsigned batch, int *deleted)
{
    struct sweep *w;
    int64_t n = 0;
    int err;

    if (batch < 1 || batch > SWEEP_BATCH_MAX || !deleted)
        return -EINVAL;
    w = xcalloc(1, sizeof(*w));
    w->w.op = &sweep_op;
    w->now_ms = now_ms;
    w->batch = batch;
    err = store__submit(s, &w->w, NULL, NULL, &n);
    *deleted = err ? 0 : (int)n;
    return err;
}
