/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store/ internals, shared by its files and by nobody else: the write queue's typed operations,
 * error logging around store/db.h (the statement layer every engine implements).
 *
 * A write is a small struct whose first member is a struct store_write, plus an op table with
 * an apply function. The public function (store_user_add, ...) validates its arguments, copies
 * them into the struct and calls store__submit(); the writer thread later calls apply() inside
 * the batch's transaction, in the write's own savepoint. docs/STORE.md shows how to add one.
 */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/db.h"
#include "store/events.h"
#include "store/store.h"

/*
 * The error of a step that did not give what the caller wanted: `rc` is db_step()'s return.
 * A negative errno other than -EIO (-EEXIST, -ENOENT, -ENOSPC: db.h) is returned as is, not
 * logged; -EIO, or a row or end where none was expected, is -EIO, logged with `what` and the
 * engine's message (which names columns, never values).
 */
int store__errno(struct db *db, int rc, const char *what);
/*
 * Step `st` (a statement that returns no rows) once, then db_reset() it. Returns 0 or
 * store__errno()'s mapping; a NULL `st` (could not be prepared) is -EIO.
 */
MUST_CHECK int store__step_done(struct db *db, struct db_stmt *st, const char *what);
/*
 * Step `st`, an INSERT ... RETURNING id, once, set `*id` from its row, then db_reset() it.
 * Returns 0, store__errno()'s mapping, or -EIO for a NULL `st`. An INSERT that inserted nothing
 * (ON CONFLICT DO NOTHING) returns 0 with `*id` 0.
 */
MUST_CHECK int store__step_id(struct db *db, struct db_stmt *st, const char *what, int64_t *id);

/*
 * A reader (store.h): one connection and its statements, used by one thread. Defined here so
 * that each resource's reads (reads.c, orgs.c, ...) can live in its own file.
 */
struct store_reader {
    struct db *db; /* with its own cached statements */
};

/* Open a connection to the store's database, read-only for readers (see sqlite.c). */
MUST_CHECK int store__connect(const struct store *s, bool readonly, struct db **out, char *err,
                              size_t errlen);

/*
 * Bring the schema up to date: apply every migration newer than the database's version, in
 * order, each in its own transaction. Returns 0 with the resulting version and the number
 * applied, or a negative errno with one line in `err`; a database newer than this binary is
 * -EPROTO ("upgrade araldo" rather than guessing at an unknown schema).
 */
MUST_CHECK int store__migrate(struct db *db, int *version, int *applied, char *err, size_t errlen);
/* DATA_DIR/araldo.db, for the other connections (readers, backup, checks). */
const char *store__path(const struct store *s);
/* The PostgreSQL connection string the store runs on (store_opts), or NULL for SQLite. */
const char *store__database_url(const struct store *s);

/*
 * The events a batch wrote so far, in order (store/events.c): handed to the event sink once the
 * batch's COMMIT is durable; a write's own events are dropped when its savepoint rolls back.
 * Members are private to events.c.
 */
struct store__evlist {
    struct store_event *ev; /* store/events.h; each entry's strings live in one block */
    size_t n, cap;
};
void store__events_init(struct store__evlist *l);
/* How many events are collected: a mark to roll back to. */
size_t store__events_mark(const struct store__evlist *l);
/* Drop the events collected after `mark` (their write's savepoint was rolled back). */
void store__events_rollback(struct store__evlist *l, size_t mark);
/* Hand every collected event to `sink` (NULL: nobody listens), then forget them. */
void store__events_flush(struct store__evlist *l, store_event_sink_fn *sink, void *ctx);
void store__events_release(struct store__evlist *l);

/*
 * PostgreSQL: other nodes hear of a batch through NOTIFY on this channel, sent inside the
 * batch's transaction (so delivered only once it commits, and in commit order). The payload is
 * `t<commit clock ms>` then, in the batch's order, ` e<channel id>.<seq>` per event and
 * ` a<channel id>.<key>.<kind>` per access marker: positions, never the event's bytes, which
 * every node reads from the events table once (store/listen.c).
 */
#define STORE_NOTIFY_CHANNEL "araldo_events"
/* Send the batch's notifications (nothing for an empty list). Writer thread, before COMMIT. */
MUST_CHECK int store__events_notify(const struct store__evlist *l, struct db *db, int64_t now_ms);

/*
 * Following what other processes commit (store/tail.c): the record of the last seq the sink
 * heard per channel, kept by the SQLite writer thread or by the PostgreSQL listener thread
 * (store/listen.c). Members are private to tail.c.
 */
struct store__tail {
    int64_t data_version;         /* PRAGMA data_version when last looked */
    struct store__tail_seq *seqs; /* sorted by channel id */
    size_t n, cap;
};
/* Start after everything already committed. 0 or -errno. Writer thread (or before it starts). */
MUST_CHECK int store__tail_init(struct store__tail *t, struct db *db);
/* This process's own events, about to be flushed to the sink: never handed over again. */
void store__tail_note(struct store__tail *t, const struct store__evlist *l);
/*
 * SQLite: if another connection committed since the last look, hand `sink` (NULL: nothing to
 * do) every event of every channel past what it heard, in seq order per channel. Writer thread.
 */
void store__tail_catch_up(struct store__tail *t, struct db *db, store_event_sink_fn *sink,
                          void *ctx);
/*
 * Hand `sink` channel `id`'s events past what it heard, up to seq `upto` (read from the events
 * table on `db`, in order), and note them heard. Returns how many. The caller's thread owns `t`.
 */
size_t store__tail_hand_over(struct store__tail *t, struct db *db, int64_t id, int64_t upto,
                             store_event_sink_fn *sink, void *ctx);
/* Hand over every channel's events past what was heard. Returns how many channels were behind. */
size_t store__tail_scan(struct store__tail *t, struct db *db, store_event_sink_fn *sink, void *ctx);
void store__tail_release(struct store__tail *t);

/*
 * PostgreSQL: the thread that LISTENs for every node's commits and hands their events to the
 * sink, in commit order (store/listen.c). Started when a sink is set; NULL if no thread could
 * be made. Starting waits (up to 10 s) for its first LISTEN so the node hears its first post.
 */
struct store__listener;
struct store__listener *store__listener_start(const char *conninfo, store_event_sink_fn *sink,
                                              void *ctx);
void store__listener_stop(struct store__listener *l); /* NULL-safe */
/* Its part of store_stats (NULL: not PostgreSQL, listening = -1). Any thread. */
void store__listener_stats(struct store__listener *l, struct store_stats *out);

/* What apply() gets: the writer's connection (with its statements), and the batch's clock. */
struct store_tx {
    struct db *db;
    int64_t now_ms; /* wall clock taken once per batch: every row of a batch has the same time */
    struct store__evlist *events; /* where store__event collects for the sink (NULL: nowhere) */
    /* the last commit failed for lack of space: a ping must first see room (writes.c) */
    bool disk_full;
    const char *data_dir;
};

/*
 * Free bytes for us on the filesystem holding `path` (statvfs, any thread); 0 if it cannot
 * be read.
 */
uint64_t store__free_bytes(const char *path);
/* Room a ping wants before it calls a full disk usable again: a batch and the WAL it grows. */
#define STORE_FULL_RECOVER_BYTES ((uint64_t)1024 * 1024)

struct store_write;

struct store_write_op {
    const char *name; /* "user_add": logs only */
    /*
     * Do the write inside the open savepoint. Return 0 (with `*id` set where there is a new
     * row) or a negative errno; on error the writer rolls back to the savepoint, so apply
     * need not undo anything. Runs on the writer thread.
     */
    int (*apply)(struct store_write *w, struct store_tx *tx, int64_t *id);
    /* Free the containing struct (NULL-safe is not needed: never called with NULL). */
    void (*free)(struct store_write *w);
};

struct store_write {
    /* filled by store__submit(); ops only set `op` */
    const struct store_write_op *op;
    struct store_write *next;
    store_done_fn *done;
    void *ctx;
    uint64_t queued_us;
    int err;
    int64_t id;
};

/*
 * Queue `w` (its `op` set) for the writer and, when `done` is NULL, wait for its outcome.
 * Takes ownership of `w` in every case: on an early error it is freed and `done` is never
 * called. Returns 0 (async: queued), the write's outcome (sync, with `*id_out`), -ENOBUFS when
 * the queue is full, -ESHUTDOWN while closing, or -EDEADLK for a blocking write from the
 * writer thread itself (a done callback), which would wait for itself forever.
 */
MUST_CHECK int store__submit(struct store *s, struct store_write *w, store_done_fn *done, void *ctx,
                             int64_t *id_out);

/*
 * The row id of the follower `hash` in the writer's transaction; -ENOENT if unknown
 * (store/followers.c, which owns the table; reactions and votes use it too).
 */
MUST_CHECK int store__follower_id(struct store_tx *tx, const uint8_t hash[SECRET_HASH_LEN],
                                  int64_t *id);

#endif
