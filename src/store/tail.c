/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Events that another process committed. The server's streams hear of a change through the
 * event sink, which the writer thread calls after its own COMMIT; but `araldo post` (a script
 * publishing while the server runs) commits through a writer of its own, in its own process,
 * and nobody would tell the open streams. So the serving process's writer follows the events
 * table as well: SQLite's `PRAGMA data_version` on the writer's connection changes only when
 * some other connection committed, and then every channel whose `last_seq` is past what this
 * process has handed the sink gets its missing events handed over, in seq order, exactly once.
 *
 * The state is the writer thread's alone: per channel, the last seq the sink heard. Events of
 * our own batches are noted as they are flushed, so they are never handed over twice. A foreign
 * event that lands between two of ours reaches the sink after ours: streams fill such a gap
 * from the events table (FANOUT.md), as they do for any seq they missed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "store/events.h"
#include "store/store_int.h"

struct store__tail_seq {
    int64_t channel_id;
    int64_t seq;
};

/* The slot of `channel_id` in the sorted array, or where it would go. */
static size_t slot(const struct store__tail *t, int64_t channel_id)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t->seqs[mid].channel_id < channel_id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static int64_t heard(const struct store__tail *t, int64_t channel_id)
{
    size_t i = slot(t, channel_id);

    return i < t->n && t->seqs[i].channel_id == channel_id ? t->seqs[i].seq : 0;
}

static void set_heard(struct store__tail *t, int64_t channel_id, int64_t seq)
{
    size_t i = slot(t, channel_id);

    if (i < t->n && t->seqs[i].channel_id == channel_id) {
        if (seq > t->seqs[i].seq)
            t->seqs[i].seq = seq;
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->seqs = xrealloc(t->seqs, t->cap * sizeof(*t->seqs));
    }
    memmove(&t->seqs[i + 1], &t->seqs[i], (t->n - i) * sizeof(*t->seqs));
    t->seqs[i] = (struct store__tail_seq){ channel_id, seq };
    t->n++;
}

static int data_version(struct db *db, int64_t *out)
{
    static const char sql[] = "PRAGMA data_version";
    struct db_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return -EIO;
    rc = db_step(st);
    if (rc == DB_ROW)
        *out = db_col_i64(st, 0);
    db_reset(st);
    return rc == DB_ROW ? 0 : store__errno(db, rc, "data_version");
}

int store__tail_init(struct store__tail *t, struct db *db)
{
    static const char sql[] = "SELECT id, last_seq FROM channels";
    struct db_stmt *st;
    int rc;

    memset(t, 0, sizeof(*t));
    /* PostgreSQL: commits are heard by LISTEN/NOTIFY (store/listen.c), not by this poll */
    if (db_backend(db) == DB_SQLITE) {
        rc = data_version(db, &t->data_version);
        if (rc)
            return rc;
    }
    st = db_stmt(db, sql);
    if (!st)
        return -EIO;
    /* What was committed before this process started is history, not news: start after it. */
    while ((rc = db_step(st)) == DB_ROW)
        set_heard(t, db_col_i64(st, 0), db_col_i64(st, 1));
    db_reset(st);
    return rc == DB_DONE ? 0 : store__errno(db, rc, "channels' last seq");
}

void store__tail_note(struct store__tail *t, const struct store__evlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->ev[i].seq > 0) /* access markers have no seq */
            set_heard(t, l->ev[i].channel_id, l->ev[i].seq);
    }
}

/*
 * Hand the sink channel `id`'s events after `after` and up to `upto`, in order, and note them
 * heard. Returns how many were handed over.
 */
size_t store__tail_hand_over(struct store__tail *t, struct db *db, int64_t id, int64_t upto,
                             store_event_sink_fn *sink, void *ctx)
{
    static const char sql[] = "SELECT e.seq, e.kind, e.payload, e.created_ms, c.handle"
                              " FROM events e JOIN channels c ON c.id = e.channel_id"
                              " WHERE e.channel_id = ?1 AND e.seq > ?2 AND e.seq <= ?3"
                              " ORDER BY e.seq";
    struct db_stmt *st = db_stmt(db, sql);
    int64_t after = heard(t, id);
    size_t n = 0;
    int rc;

    if (!st || upto <= after)
        return 0;
    db_bind_i64(st, 1, id);
    db_bind_i64(st, 2, after);
    db_bind_i64(st, 3, upto);
    while ((rc = db_step(st)) == DB_ROW) {
        struct store_event ev = {
            .channel_id = id,
            .channel = db_col_text(st, 4),
            .seq = db_col_i64(st, 0),
            .kind = db_col_text(st, 1),
            .payload = db_col_text(st, 2),
            .payload_len = db_col_bytes(st, 2),
            .created_ms = db_col_i64(st, 3),
        };

        if (!ev.kind || !ev.payload || !ev.channel)
            continue;
        sink(ctx, &ev, 1);
        set_heard(t, id, ev.seq);
        n++;
    }
    if (rc != DB_DONE)
        log_warn("store: reading events another process wrote: %s", db_errmsg(db));
    db_reset(st);
    return n;
}

size_t store__tail_scan(struct store__tail *t, struct db *db, store_event_sink_fn *sink, void *ctx)
{
    static const char sql[] = "SELECT id, last_seq FROM channels";
    struct store__tail_seq *todo = NULL;
    size_t n = 0, cap = 0, behind = 0;
    struct db_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return 0;
    /* Collect first, hand over after: the sink's work stays out of this statement's step. */
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t id = db_col_i64(st, 0), last = db_col_i64(st, 1);

        if (last <= heard(t, id))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            todo = xrealloc(todo, cap * sizeof(*todo));
        }
        todo[n++] = (struct store__tail_seq){ id, last };
    }
    if (rc != DB_DONE)
        log_warn("store: reading channels another process changed: %s", db_errmsg(db));
    db_reset(st);
    for (size_t i = 0; i < n; i++)
        behind += store__tail_hand_over(t, db, todo[i].channel_id, todo[i].seq, sink, ctx) > 0;
    free(todo);
    return behind;
}

void store__tail_catch_up(struct store__tail *t, struct db *db, store_event_sink_fn *sink,
                          void *ctx)
{
    int64_t v = 0;

    if (!sink || db_backend(db) != DB_SQLITE || data_version(db, &v) || v == t->data_version)
        return;
    t->data_version = v;
    (void)store__tail_scan(t, db, sink, ctx);
}

void store__tail_release(struct store__tail *t)
{
    free(t->seqs);
    memset(t, 0, sizeof(*t));
}
