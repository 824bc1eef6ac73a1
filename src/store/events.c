/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The per-channel event stream: every change followers can see is appended here, in the same
 * transaction as the change itself, with the channel's next sequence number. Streams resume
 * from a seq, so the numbering must have no gaps and no duplicates: the counter lives on the
 * channel row (channels.last_seq) and is bumped by the one writer thread, inside the caller's
 * savepoint, so a rolled-back write rolls back its seq too.
 *
 * Each event is also collected (tx->events) for the event sink, which hears a batch's events
 * only once its COMMIT is durable (sqlite.c); a rolled-back savepoint drops its events from
 * the collection, so nobody is ever told of a change that did not happen.
 */
#include "store/events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/shared_int.h"

/* ---- collecting for the sink (writer thread) ---- */

void store__events_init(struct store__evlist *l)
{
    memset(l, 0, sizeof(*l));
}

size_t store__events_mark(const struct store__evlist *l)
{
    return l->n;
}

static void entry_free(struct store_event *e)
{
    free((char *)e->channel); /* the entry's block starts with the handle */
}

void store__events_rollback(struct store__evlist *l, size_t mark)
{
    while (l->n > mark)
        entry_free(&l->ev[--l->n]);
}

void store__events_flush(struct store__evlist *l, store_event_sink_fn *sink, void *ctx)
{
    if (l->n && sink)
        sink(ctx, l->ev, l->n);
    store__events_rollback(l, 0);
}

void store__events_release(struct store__evlist *l)
{
    store__events_rollback(l, 0);
    free(l->ev);
    memset(l, 0, sizeof(*l));
}

/* Copy one event into the collection: one block holds handle, kind and payload. */
static void collect(struct store__evlist *l, int64_t channel_id, const char *handle, int64_t seq,
                    const char *kind, const char *payload, int64_t now_ms)
{
    size_t hl = strlen(handle) + 1, kl = strlen(kind) + 1, pl = strlen(payload);
    char *block = xmalloc(hl + kl + pl + 1);
    struct store_event *e;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->ev = xrealloc(l->ev, l->cap * sizeof(*l->ev));
    }
    memcpy(block, handle, hl);
    memcpy(block + hl, kind, kl);
    memcpy(block + hl + kl, payload, pl + 1);
    e = &l->ev[l->n++];
    e->channel_id = channel_id;
    e->channel = block;
    e->seq = seq;
    e->kind = block + hl;
    e->payload = block + hl + kl;
    e->payload_len = pl;
    e->created_ms = now_ms;
    e->key = 0;
}

void store__access(struct store_tx *tx, int64_t channel_id, const char *kind, int64_t key)
{
    if (!tx->events)
        return;
    collect(tx->events, channel_id, "", 0, kind, "{}", tx->now_ms);
    tx->events->ev[tx->events->n - 1].key = key;
}

int store__event(struct store_tx *tx, int64_t channel_id, const char *kind,
                 const char *payload_json, int64_t *seq)
{
    static const char bump[] = "UPDATE channels SET last_seq = last_seq + 1 WHERE id = ?1"
                               " RETURNING last_seq, handle";
    static const char ins[] = "INSERT INTO events (channel_id, seq, kind, payload, created_ms)"
                              " VALUES (?1, ?2, ?3, ?4, ?5)";
    struct db_stmt *st;
    int64_t next = 0;
    char handle[64] = "";
    int rc;

    if (!kind || !*kind || strlen(kind) > STORE_EVENT_KIND_MAX || !payload_json)
        return -EINVAL;
    st = db_stmt(tx->db, bump);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, channel_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        const char *h = db_col_text(st, 1);

        next = db_col_i64(st, 0);
        if (h)
            memcpy(handle, h, MIN(strlen((const char *)h), sizeof(handle) - 1));
    }
    /* RETURNING: the update is only complete once the statement has run to its end. */
    while (rc == DB_ROW)
        rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return store__errno(tx->db, rc, "event seq");
    if (!next)
        return -ENOENT; /* no such channel */
    st = db_stmt(tx->db, ins);
    if (st) {
        db_bind_i64(st, 1, channel_id);
        db_bind_i64(st, 2, next);
        db_bind_text(st, 3, kind);
        db_bind_text(st, 4, payload_json);
        db_bind_i64(st, 5, tx->now_ms);
    }
    rc = store__step_done(tx->db, st, "event");
    if (!rc && tx->events)
        collect(tx->events, channel_id, handle, next, kind, payload_json, tx->now_ms);
    if (!rc && seq)
        *seq = next;
    return rc;
}

/* ---- telling the other nodes (PostgreSQL) ---- */

/* One NOTIFY's payload: PostgreSQL's limit is 8,000 bytes; a batch that needs more sends more. */
#define NOTIFY_MAX 7900

static int notify(struct db *db, const char *payload)
{
    static const char sql[] = "SELECT pg_notify('" STORE_NOTIFY_CHANNEL "', ?1)";
    struct db_stmt *st = db_stmt(db, sql);
    int rc;

    if (!st)
        return -EIO;
    db_bind_text(st, 1, payload);
    rc = db_step(st);
    while (rc == DB_ROW)
        rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? 0 : store__errno(db, rc, "notify");
}

int store__events_notify(const struct store__evlist *l, struct db *db, int64_t now_ms)
{
    char buf[NOTIFY_MAX + 160];
    size_t len = 0;
    int err = 0;

    for (size_t i = 0; i < l->n && !err; i++) {
        const struct store_event *e = &l->ev[i];
        struct store__notify_item it = { .tag = e->seq > 0 ? 'e' : 'a',
                                         .channel_id = e->channel_id,
                                         .n = e->seq > 0 ? e->seq : e->key };
        char one[160];
        int w;

        if (it.tag == 'a')
            snprintf(it.kind, sizeof(it.kind), "%s", e->kind); /* kinds are short */
        w = store__notify_item_format(&it, one, sizeof(one));
        if (w < 0)
            return w;
        if (len && len + (size_t)w > NOTIFY_MAX) {
            err = notify(db, buf);
            len = 0;
        }
        if (!len)
            len = (size_t)snprintf(buf, sizeof(buf), "t%lld", (long long)now_ms);
        memcpy(buf + len, one, (size_t)w + 1);
        len += (size_t)w;
    }
    if (len && !err)
        err = notify(db, buf);
    return err;
}

/* ---- replay (reader thread) ---- */

int store_events_since(struct store_reader *r, int64_t channel_id, int64_t after_seq,
                       unsigned limit, store_event_fn *each, void *ctx, int64_t *last_seq)
{
    /*
     * One statement, so one snapshot: the channel's last seq and the events after the
     * position agree even while the writer commits. The LEFT JOIN gives one row with a NULL
     * seq when there is no event after the position.
     */
    static const char sql[] =
        "SELECT c.last_seq, e.seq, e.kind, e.payload, e.created_ms FROM channels c"
        " LEFT JOIN events e ON e.channel_id = c.id AND e.seq > ?2"
        " WHERE c.id = ?1 ORDER BY e.seq LIMIT ?3";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_event ev = { .channel_id = channel_id };
    int64_t last = 0, expect;
    bool found = false;
    int rc, err = 0;

    if (!st)
        return -EIO;
    if (after_seq < 0)
        after_seq = 0;
    expect = after_seq + 1;
    db_bind_i64(st, 1, channel_id);
    db_bind_i64(st, 2, after_seq);
    db_bind_i64(st, 3, limit ? (int64_t)limit : 1);
    while ((rc = db_step(st)) == DB_ROW) {
        found = true;
        last = db_col_i64(st, 0);
        if (after_seq > last) {
            err = -ERANGE; /* a position this database never gave out */
            break;
        }
        if (db_col_is_null(st, 1)) {
            if (last > after_seq)
                err = -ERANGE; /* there were events after the position, all purged */
            break;
        }
        ev.seq = db_col_i64(st, 1);
        if (ev.seq != expect) {
            err = -ERANGE; /* the events right after the position were purged */
            break;
        }
        expect++;
        if (!limit)
            break; /* only checking */
        ev.kind = db_col_text(st, 2);
        ev.payload = db_col_text(st, 3);
        ev.payload_len = db_col_bytes(st, 3);
        ev.created_ms = db_col_i64(st, 4);
        if (!ev.kind || !ev.payload) {
            err = -EIO;
            break;
        }
        each(ctx, &ev);
    }
    if (!err && rc != DB_ROW && rc != DB_DONE)
        err = store__errno(r->db, rc, "events since");
    db_reset(st);
    if (!err && !found)
        err = -ENOENT;
    if (last_seq)
        *last_seq = last;
    return err;
}

int store_events_seq_before(struct store_reader *r, int64_t channel_id, int64_t before_ms,
                            int64_t *seq)
{
    static const char sql[] = "SELECT coalesce(max(seq), 0) FROM events"
                              " WHERE channel_id = ?1 AND created_ms < ?2";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    *seq = 0;
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, channel_id);
    db_bind_i64(st, 2, before_ms);
    rc = db_step(st);
    if (rc == DB_ROW)
        *seq = db_col_i64(st, 0);
    db_reset(st);
    return rc == DB_ROW ? 0 : store__errno(r->db, rc, "events seq before");
}
