/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The per-channel event stream: every change followers can see is appended here, in the same
 * transaction as the change itself, with the channel's next sequence number. Streams resume
 * from a seq, so the numbering must have no gaps and no duplicates: the counter lives on the
 * channel row (channels.last_seq) and is bumped by the one writer thread, inside the caller's
 * savepoint, so a rolled-back write rolls back its seq too.
 */
#include "store/shared_int.h"

#include <errno.h>
#include <string.h>

int store__event(struct store_tx *tx, int64_t channel_id, const char *kind,
                 const char *payload_json, int64_t *seq)
{
    static const char bump[] = "UPDATE channels SET last_seq = last_seq + 1 WHERE id = ?1"
                               " RETURNING last_seq";
    static const char ins[] = "INSERT INTO events (channel_id, seq, kind, payload, created_ms)"
                              " VALUES (?1, ?2, ?3, ?4, ?5)";
    sqlite3_stmt *st;
    int64_t next = 0;
    int rc;

    if (!kind || !*kind || !payload_json)
        return -EINVAL;
    st = store__stmt(tx->stmts, bump);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, channel_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        next = sqlite3_column_int64(st, 0);
    /* RETURNING: the update is only complete once the statement has run to its end. */
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    store__stmt_done(st);
    if (rc != SQLITE_DONE)
        return store__errno(tx->db, rc, "event seq");
    if (!next)
        return -ENOENT; /* no such channel */
    st = store__stmt(tx->stmts, ins);
    if (st) {
        sqlite3_bind_int64(st, 1, channel_id);
        sqlite3_bind_int64(st, 2, next);
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, payload_json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, tx->now_ms);
    }
    rc = store__step_done(tx->db, st, "event");
    if (!rc && seq)
        *seq = next;
    return rc;
}
