/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The only door to durable state. Callers see typed operations, never SQL.
 *
 * Writes are queued to one writer thread, which commits them in batches (group commit: one
 * transaction and one fsync for many writes, synchronous=FULL) and only then reports each
 * write's outcome. A write reported as committed survives kill -9 and power loss. Each write
 * runs in its own savepoint, so one failing write never undoes the others in its batch.
 *
 * Reads go through a struct store_reader: one per thread (one per event loop), each with its
 * own connection, so a read never waits for the writer or for another thread.
 *
 * Returns follow libuv: 0 or a negative errno. -EEXIST duplicate, -ENOENT not found,
 * -ENOBUFS write queue full (the caller answers 503 with Retry-After), -ENOSPC the disk holding
 * the data directory is full (nothing of the write was kept; the store logs it once a minute at
 * most and counts it, see store_stats), -ESHUTDOWN closing, -EIO database error (logged).
 *
 * Privacy by construction: a follower's identity (added by later migrations) never leaves
 * store/; everything returned carries counts.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/metrics.h"
#include "core/secret.h"

struct store;        /* opaque: one per process */
struct store_reader; /* opaque: one per thread */

struct store_opts {
    const char *data_dir; /* created (0700) if missing; the database is DATA_DIR/araldo.db */
    unsigned batch_max;   /* most writes per transaction (0: 256) */
    unsigned queue_max;   /* most queued writes; past it writes fail with -ENOBUFS (0: 10000) */
    /*
     * NULL: SQLite in data_dir. Else a libpq connection string or postgresql:// URI: the
     * PostgreSQL backend (issue 16; not yet offered by `serve`, store/db_pg.c). data_dir is
     * still the directory of media files and the disk-full checks.
     */
    const char *database_url;
};

/*
 * Open (creating if needed) the database, apply pending migrations and start the writer
 * thread. Returns NULL with one line in `err` for a person ("store: cannot open ...").
 */
struct store *store_open(const struct store_opts *opts, char *err, size_t errlen);
/*
 * Commit every queued write (each one's done() is called), stop the writer thread and close.
 * Writes queued meanwhile from done() callbacks fail with -ESHUTDOWN. Close every reader first;
 * no other thread may call into the store once this starts. NULL is a no-op.
 */
void store_close(struct store *s);
/* The schema version now in the database (the highest migration applied). */
int store_schema_version(struct store *s);
/* Number of migrations store_open() applied (0 when the schema was already current). */
int store_migrations_applied(struct store *s);

/*
 * Copy the database to `path` with SQLite's online backup API, safe while serving (writes go
 * on; the copy is a consistent snapshot). `progress(ctx, done_pages, total_pages)` may be
 * NULL. The copy is written to a temporary name, fsynced and renamed into place.
 *
 * The snapshot is taken when the call starts: it holds every write reported before then. An
 * existing file at `path` is replaced atomically; a failed backup leaves it untouched and no
 * temporary file behind. Blocks the calling thread for the whole copy (CLI or a thread of its
 * own, never an event loop); `progress` runs on that thread. Returns 0 or a negative errno with
 * one line in `err`. On PostgreSQL: -ENOTSUP ("use pg_dump").
 */
typedef void store_progress_fn(void *ctx, int done, int total);
MUST_CHECK int store_backup(struct store *s, const char *path, store_progress_fn *progress,
                            void *ctx, char *err, size_t errlen);

/*
 * Run SQLite's integrity_check on a connection of its own (serving goes on, but it reads the
 * whole file: for `araldo backup --verify`, after a restore, and tests). Returns 0 when the
 * database is sound, or -EIO with the first problem in `err`. Any thread. On PostgreSQL, which
 * checks its own pages, it only connects.
 */
MUST_CHECK int store_integrity_check(struct store *s, char *err, size_t errlen);

struct store_stats {
    uint64_t queue_depth;                   /* writes waiting now */
    uint64_t writes_total;                  /* writes committed or failed since start */
    uint64_t commits_total;                 /* transactions committed */
    uint64_t disk_full_total;               /* writes refused because the disk was full */
    bool disk_full;                         /* the last commit failed for lack of space */
    const struct histogram *commit_latency; /* BEGIN to COMMIT durable, per batch */
    const struct histogram *write_latency;  /* queued to reported, per write */
    /* PostgreSQL: hearing every node's commits (store/listen.c). SQLite: listening is -1. */
    int listening;                       /* 1 while connected and listening, 0 while not */
    uint64_t listen_notifications_total; /* notifications received */
    uint64_t listen_backfilled_total;    /* events read whose notification never came */
    uint64_t listen_reconnects_total;    /* times the listening connection was lost */
    const struct histogram *listen_lag;  /* commit to handed to the fan-out (ms resolution) */
};
void store_stats(struct store *s, struct store_stats *out);
/*
 * A write outside the database (an uploaded file under DATA_DIR/media) failed for lack of
 * space: counted, logged and shown by readyz like the store's own (store_stats' disk_full),
 * until a write commits again. Any thread.
 */
void store_disk_full(struct store *s);

/* ---- writes (any thread) ----
 *
 * `done(ctx, err, id)` runs ON THE WRITER THREAD after the transaction holding the write is
 * durable (err == 0), or after it failed. `id` is the new row's id where there is one. Keep it
 * short: hand the result to your own thread (http_loop_post). If a write function returns an
 * error, `done` is never called. If `done` is NULL the call blocks until the write is durable
 * and returns its outcome (for the CLI and tests; never on an event loop), with the new id in
 * `*id_out` when id_out is not NULL.
 */
typedef void store_done_fn(void *ctx, int err, int64_t id);

/* An empty write through the whole commit path: proves the store is writable (readyz). */
MUST_CHECK int store_ping(struct store *s, store_done_fn *done, void *ctx, int64_t *id_out);

enum store_role {
    STORE_ROLE_OPERATOR = 1, /* the whole server */
    STORE_ROLE_ORG_ADMIN = 2,
    STORE_ROLE_STAFF = 3,
};
/* "operator", "org_admin", "staff" <-> enum; parse returns 0 or -EINVAL. */
const char *store_role_name(enum store_role r);
MUST_CHECK int store_role_parse(const char *s, enum store_role *out);

/*
 * Add a staff account. `email` is stored lower-cased; `password_hash` is an argon2id encoded
 * hash. -EEXIST if the e-mail is taken. `must_change` marks a one-time password. -EINVAL
 * (before queuing) for an e-mail without '@' or over 255 bytes, an unknown role or an empty
 * hash.
 */
MUST_CHECK int store_user_add(struct store *s, const char *email, enum store_role role,
                              const char *password_hash, bool must_change, store_done_fn *done,
                              void *ctx, int64_t *id_out);

/*
 * Add an API token for `user_id`: only its SHA-256 `hash` is stored. -ENOENT if the user does
 * not exist. The id is the token's id (used to list and revoke it). -EINVAL (before queuing)
 * for an empty name or one over 127 bytes.
 */
MUST_CHECK int store_token_add(struct store *s, int64_t user_id, const char *name,
                               const uint8_t hash[SECRET_HASH_LEN], store_done_fn *done, void *ctx,
                               int64_t *id_out);
/* Revoke token `token_id` of `user_id`. -ENOENT if no such live token belongs to the user. */
MUST_CHECK int store_token_revoke(struct store *s, int64_t user_id, int64_t token_id,
                                  store_done_fn *done, void *ctx);

/* ---- reads (the reader's own thread) ---- */

/* Open a reader for the calling thread. Returns NULL with `err` filled. */
struct store_reader *store_reader_open(struct store *s, char *err, size_t errlen);
void store_reader_close(struct store_reader *r);

struct store_user {
    int64_t id;
    char email[256];
    enum store_role role;
    int64_t org_id; /* 0 for operators */
    bool must_change_password;
    int64_t created_ms;
};

/* Number of staff accounts (any role). */
MUST_CHECK int store_user_count(struct store_reader *r, int64_t *count);
/*
 * The user with this e-mail (case-insensitive) and, when `hash` is not NULL, its password hash
 * (NUL-terminated). -ENOENT if none or if the account is disabled; -EMSGSIZE if the hash does
 * not fit in `hashlen` bytes.
 */
MUST_CHECK int store_user_by_email(struct store_reader *r, const char *email,
                                   struct store_user *out, char *hash, size_t hashlen);
/*
 * The user owning the live (not revoked) API token whose SHA-256 is `hash`; -ENOENT if none
 * or if that user is disabled.
 * `token_id` may be NULL.
 */
MUST_CHECK int store_token_find(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                                struct store_user *out, int64_t *token_id);

struct store_token {
    int64_t id;
    char name[128];
    int64_t created_ms;
};
/*
 * The live tokens of `user_id`, newest first, calling `each(ctx, tok)` for each. Returns 0 or
 * a negative errno. `each` must not call store_token_list on the same reader.
 */
typedef void store_token_fn(void *ctx, const struct store_token *tok);
MUST_CHECK int store_token_list(struct store_reader *r, int64_t user_id, store_token_fn *each,
                                void *ctx);

#endif
