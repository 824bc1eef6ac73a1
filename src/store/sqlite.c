/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The SQLite backend: opening, the write queue and the writer thread (group commit).
 *
 * Why one writer: SQLite allows one write transaction at a time anyway, and making writers
 * contend for it (busy handlers, retries) wastes the one thing that is slow, the fsync. One
 * thread owning the write connection can instead commit many queued writes per fsync:
 *
 *   any thread:   store_user_add() -> validate, copy -> queue (bounded) -> 0 or -ENOBUFS
 *   writer:       take up to batch_max -> BEGIN IMMEDIATE
 *                   for each: SAVEPOINT w; apply(); RELEASE w  (or ROLLBACK TO w on error)
 *                 COMMIT (WAL + synchronous=FULL: durable when it returns)
 *                 -> done(ctx, err, id) for each, in queue order
 *
 * While one batch commits, new writes pile up in the queue and become the next batch, so the
 * batch size grows with the load by itself; no timer waits for company at low load.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store_int.h"

#define DEFAULT_BATCH_MAX 256
#define DEFAULT_QUEUE_MAX 10000
/* After a burst the WAL is truncated back to this size at the next checkpoint. */
#define WAL_SIZE_LIMIT (64 * 1024 * 1024)
/* How long opening waits for another process that is switching a new database to WAL. */
#define WAL_SWITCH_MS 5000
/* A full disk is said once a minute at most while it lasts: not once per refused write. */
#define FULL_LOG_EVERY_MS (60LL * 1000)
/*
 * An idle writer looks this often whether another process (araldo post) committed events that
 * the streams must hear (store/tail.c): the most such a post waits before it is live.
 */
#define TAIL_EVERY_MS 250

struct store {
    char *path;         /* DATA_DIR/araldo.db */
    char *database_url; /* PostgreSQL instead (store_opts), else NULL */
    char *data_dir;
    struct db *db; /* the write connection (and its statements): only the writer thread uses it */
    unsigned batch_max;
    unsigned queue_max;
    int schema_version;
    int migrations_applied;

    pthread_mutex_t mu;       /* guards the queue, depth and closing */
    pthread_cond_t wake;      /* the writer sleeps on it while the queue is empty */
    struct store_write *head; /* FIFO of queued writes */
    struct store_write *tail;
    uint64_t depth;
    bool closing; /* set by store_close: no new writes, drain, then stop */
    pthread_t writer;
    bool writer_running;

    /* events of the running batch, and who hears them once it is durable (store/events.h) */
    struct store__evlist events;
    store_event_sink_fn *sink;
    void *sink_ctx;
    struct store__tail others; /* what other processes commit, for the sink too (writer thread) */
    struct store__listener *listener; /* PostgreSQL: every node's commits, for the sink */

    /* The disk is full: set when a write fails for lack of space, cleared when one commits. */
    _Atomic bool disk_full;
    _Atomic uint64_t disk_full_total;
    _Atomic int64_t full_logged_ms; /* when the disk-full line was last written (0: not yet) */

    _Atomic uint64_t writes_total;
    _Atomic uint64_t commits_total;
    struct histogram commit_latency;
    struct histogram write_latency;
};

/* The control statements the writer runs around every batch and write (cached like any). */
static const char sql_begin[] = DB_SQL("BEGIN IMMEDIATE", "BEGIN");
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";
static const char sql_savepoint[] = "SAVEPOINT w";
static const char sql_rollback_to[] = "ROLLBACK TO w";
static const char sql_release[] = "RELEASE w";

const char *store__path(const struct store *s)
{
    return s->path;
}

const char *store__database_url(const struct store *s)
{
    return s->database_url;
}

static int pragma(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "store: %s: %s", sql, sqlite3_errmsg(db));
    return -EIO;
}

int store__connect(const struct store *s, bool readonly, struct db **out, char *err, size_t errlen)
{
    /* PostgreSQL has no read-only connection mode; readers only ever run SELECTs */
    if (s->database_url)
        return db_pg_open(s->database_url, out, err, errlen);
    return db_sqlite_open(s->path, readonly, out, err, errlen);
}

/* The write connection's extra settings: WAL, full fsync on every commit. */
static int setup_writer(struct db *conn, char *err, size_t errlen)
{
    sqlite3 *db = db_sqlite_handle(conn);
    sqlite3_stmt *st = NULL;
    char sql[64];
    int ret = 0;

    /*
     * journal_mode answers with the mode it ended up in; WAL can be refused (e.g. no mmap).
     * Switching a new database to WAL needs it to itself, and SQLite does not wait for that
     * with the busy timeout: another process opening it at the same moment (a second node,
     * `araldo migrate` beside `serve`) makes it answer BUSY, or an I/O error while the other
     * one creates the -wal and -shm files. Both pass: try again for up to WAL_SWITCH_MS.
     */
    for (int waited = 0;; waited += 10) {
        int rc;

        if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) {
            rc = sqlite3_errcode(db);
        } else {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW &&
                sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0)
                break;
        }
        rc &= 0xff; /* the primary code: connections have extended result codes on */
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != SQLITE_IOERR) ||
            waited >= WAL_SWITCH_MS) {
            snprintf(err, errlen, "store: cannot switch the database to WAL mode: %s",
                     sqlite3_errmsg(db));
            ret = -EIO;
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        sqlite3_sleep(10);
    }
    /* FULL, not NORMAL: NORMAL in WAL mode may lose the last commits on power loss, and a
     * write we acknowledged must survive that. Group commit is what pays for it. */
    ret = pragma(db, "PRAGMA synchronous = FULL", err, errlen);
    if (ret)
        goto out;
    snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %d", WAL_SIZE_LIMIT);
    ret = pragma(db, sql, err, errlen);
out:
    sqlite3_finalize(st);
    return ret;
}

/* ---- the writer thread ---- */

/*
 * Take up to batch_max writes off the queue, waiting up to TAIL_EVERY_MS for one. NULL with
 * *stop false: nothing came (time to look at other processes' commits); with *stop true:
 * closing and drained.
 */
static struct store_write *take_batch(struct store *s, bool *stop)
{
    struct store_write *first, *last;
    struct timespec until;
    unsigned n = 1;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += TAIL_EVERY_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->head && !s->closing) {
        if (pthread_cond_timedwait(&s->wake, &s->mu, &until) == ETIMEDOUT)
            break;
    }
    first = s->head;
    *stop = !first && s->closing;
    if (first) {
        last = first;
        while (n < s->batch_max && last->next) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        s->depth -= n;
    }
    pthread_mutex_unlock(&s->mu);
    return first;
}

static int control(struct store *s, const char *sql)
{
    int err = db_exec(s->db, sql);

    return err ? store__errno(s->db, err, sql) : 0;
}

/*
 * Run one write in its own savepoint. The write's own outcome goes to w->err; the return is
 * nonzero only when the batch's transaction itself is lost.
 */
static int apply_one(struct store *s, struct store_tx *tx, struct store_write *w)
{
    int err;

    size_t mark = store__events_mark(&s->events);

    err = control(s, sql_savepoint);
    if (err)
        return err;
    w->id = 0;
    w->err = w->op->apply(w, tx, &w->id);
    if (w->err) {
        w->id = 0;
        store__events_rollback(&s->events, mark); /* its events did not happen */
        /* Some errors (I/O, disk full, out of memory) make SQLite roll back the whole
         * transaction: then there is no savepoint to return to, and the batch is lost. */
        if (!db_in_tx(s->db))
            return w->err == -ENOSPC ? -ENOSPC : -EIO;
        err = control(s, sql_rollback_to);
        if (err)
            return err;
    }
    return control(s, sql_release);
}

static void run_batch(struct store *s, struct store_write *batch)
{
    struct store_tx tx = { .db = s->db,
                           .now_ms = clock_now_ms(),
                           .events = &s->events,
                           .disk_full = atomic_load(&s->disk_full),
                           .data_dir = s->data_dir };
    uint64_t t0 = clock_mono_us();
    struct store_write *w;
    int err;

    err = control(s, sql_begin);
    for (w = batch; w && !err; w = w->next)
        err = apply_one(s, &tx, w);
    /* PostgreSQL: every node (this one too) hears of the batch once it commits (listen.c). */
    if (!err && s->database_url)
        err = store__events_notify(&s->events, s->db, tx.now_ms);
    if (!err)
        err = control(s, sql_commit);
    if (!err) {
        histogram_observe(&s->commit_latency, clock_mono_us() - t0);
        atomic_fetch_add_explicit(&s->commits_total, 1, memory_order_relaxed);
        if (s->database_url) {
            store__events_rollback(&s->events, 0); /* the listener reads them back */
            return;
        }
        /* Durable now: streams may hear of it, before any writer is told it succeeded. */
        store__tail_note(&s->others, &s->events);
        store__events_flush(&s->events, s->sink, s->sink_ctx);
        return;
    }
    store__events_rollback(&s->events, 0);
    /* Nothing of this batch is durable, so nobody may hear otherwise. */
    if (!!db_in_tx(s->db))
        (void)control(s, sql_rollback);
    for (w = batch; w; w = w->next) {
        w->err = err == -ENOSPC ? -ENOSPC : -EIO;
        w->id = 0;
    }
}

uint64_t store__free_bytes(const char *path)
{
    struct statvfs fs;

    if (statvfs(path, &fs))
        return 0;
    return (uint64_t)fs.f_bavail * fs.f_frsize;
}

static void format_bytes(uint64_t n, char *out, size_t outlen)
{
    if (n >= (uint64_t)10 * 1024 * 1024) {
        snprintf(out, outlen, "%llu MiB", (unsigned long long)(n >> 20));
    } else if (n >= (uint64_t)10 * 1024) {
        snprintf(out, outlen, "%llu KiB", (unsigned long long)(n >> 10));
    } else {
        snprintf(out, outlen, "%llu bytes", (unsigned long long)n);
    }
}

/* Refused for lack of space: count, and say so once a minute at most (any thread). */
static void disk_full_refused(struct store *s, uint64_t n, bool set_state)
{
    int64_t now = clock_now_ms();
    int64_t last = atomic_load(&s->full_logged_ms);
    char room[32];

    atomic_fetch_add_explicit(&s->disk_full_total, n, memory_order_relaxed);
    if (set_state)
        atomic_store(&s->disk_full, true);
    /* one thread wins the minute's line; the others see its time and stay quiet */
    if ((!last || now - last >= FULL_LOG_EVERY_MS) &&
        atomic_compare_exchange_strong(&s->full_logged_ms, &last, now)) {
        format_bytes(store__free_bytes(s->data_dir), room, sizeof(room));
        log_error("store: disk full: cannot write to '%s' (%s free); posts, uploads and other "
                  "changes are refused until space is freed there",
                  s->data_dir, room);
    }
}

void store_disk_full(struct store *s)
{
    disk_full_refused(s, 1, true);
}

/*
 * Keep the disk-full state before anyone hears of the batch (a client that got 507 sees readyz
 * fail and the counter move): writes refused for lack of space set it, any write that commits
 * clears it. The person who can free space gets one line naming the directory, once a minute.
 */
static void note_disk_full(struct store *s, const struct store_write *batch)
{
    uint64_t full = 0, ok = 0;
    char room[32];

    for (const struct store_write *w = batch; w; w = w->next) {
        full += w->err == -ENOSPC;
        ok += w->err == 0;
    }
    if (full) {
        disk_full_refused(s, full, !ok);
    } else if (ok && atomic_exchange(&s->disk_full, false)) {
        atomic_store(&s->full_logged_ms, 0);
        format_bytes(store__free_bytes(s->data_dir), room, sizeof(room));
        log_info("store: disk space available again in '%s' (%s free); writes resume", s->data_dir,
                 room);
    }
}

static void report(struct store *s, struct store_write *batch)
{
    struct store_write *w;

    while (batch) {
        w = batch;
        batch = w->next;
        histogram_observe(&s->write_latency, clock_mono_us() - w->queued_us);
        /* counted before done() so that whoever done() wakes sees it in store_stats */
        atomic_fetch_add_explicit(&s->writes_total, 1, memory_order_relaxed);
        w->done(w->ctx, w->err, w->id);
        w->op->free(w);
    }
}

static void *writer_main(void *arg)
{
    struct store *s = arg;
    struct store_write *batch;
    bool stop = false;

    while (!stop) {
        batch = take_batch(s, &stop);
        /* Another process's events first: they committed before this batch begins. */
        store__tail_catch_up(&s->others, s->db, s->sink, s->sink_ctx);
        if (!batch)
            continue;
        run_batch(s, batch);
        note_disk_full(s, batch);
        report(s, batch);
    }
    return NULL;
}

/* ---- queueing ---- */

/* How a blocking write waits: the writer fills it in and signals. Lives on the caller's stack. */
struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool fired;
    int err;
    int64_t id;
};

static void waiter_done(void *ctx, int err, int64_t id)
{
    struct waiter *wt = ctx;

    pthread_mutex_lock(&wt->mu);
    wt->err = err;
    wt->id = id;
    wt->fired = true;
    pthread_cond_signal(&wt->cond);
    pthread_mutex_unlock(&wt->mu); /* after this the waiter may return and free wt */
}

int store__submit(struct store *s, struct store_write *w, store_done_fn *done, void *ctx,
                  int64_t *id_out)
{
    struct waiter wt = { .fired = false };
    bool sync = !done;
    bool was_empty;
    int err = 0;

    if (sync && pthread_equal(pthread_self(), s->writer)) {
        w->op->free(w);
        return -EDEADLK;
    }
    if (sync) {
        pthread_mutex_init(&wt.mu, NULL);
        pthread_cond_init(&wt.cond, NULL);
        done = waiter_done;
        ctx = &wt;
    }
    w->done = done;
    w->ctx = ctx;
    w->next = NULL;
    w->err = 0;
    w->id = 0;
    w->queued_us = clock_mono_us();

    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        err = -ESHUTDOWN;
    } else if (s->depth >= s->queue_max) {
        err = -ENOBUFS;
    } else {
        was_empty = !s->head;
        if (s->tail) {
            s->tail->next = w;
        } else {
            s->head = w;
        }
        s->tail = w;
        s->depth++;
        /* The writer only sleeps on an empty queue, so only that transition needs a wake-up. */
        if (was_empty)
            pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->mu);
    if (err) {
        w->op->free(w);
        goto out;
    }
    if (sync) {
        pthread_mutex_lock(&wt.mu);
        while (!wt.fired)
            pthread_cond_wait(&wt.cond, &wt.mu);
        pthread_mutex_unlock(&wt.mu);
        err = wt.err;
        if (id_out)
            *id_out = wt.id;
    }
out:
    if (sync) {
        pthread_cond_destroy(&wt.cond);
        pthread_mutex_destroy(&wt.mu);
    }
    return err;
}

/* ---- open and close ---- */

/*
 * The database holds password and token hashes: create it 0600 ourselves, since SQLite would
 * create it (and later its -wal and -shm, which copy its mode) 0644 minus the umask.
 */
static int prepare_files(const char *dir, const char *path, char *err, size_t errlen)
{
    int fd;

    if (mkdir(dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "store: cannot create %s: %s", dir, strerror(errno));
        return -errno;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "store: cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    close(fd);
    return 0;
}

struct store *store_open(const struct store_opts *opts, char *err, size_t errlen)
{
    struct store *s = xcalloc(1, sizeof(*s));
    pthread_condattr_t ca;
    size_t n;
    int ret;

    pthread_mutex_init(&s->mu, NULL);
    /* take_batch() waits against the monotonic clock: a wall-clock step must not stall it. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (!opts->data_dir || !*opts->data_dir) {
        snprintf(err, errlen, "store: no data directory given");
        goto fail;
    }
    n = strlen(opts->data_dir) + sizeof("/araldo.db");
    s->path = xmalloc(n);
    s->data_dir = xstrdup(opts->data_dir);
    snprintf(s->path, n, "%s/araldo.db", opts->data_dir);
    s->batch_max = opts->batch_max ? opts->batch_max : DEFAULT_BATCH_MAX;
    s->queue_max = opts->queue_max ? opts->queue_max : DEFAULT_QUEUE_MAX;
    s->database_url = opts->database_url ? xstrdup(opts->database_url) : NULL;

    if (!sqlite3_threadsafe()) {
        snprintf(err, errlen, "store: SQLite was built without thread support");
        goto fail;
    }
    if (s->database_url) {
        /* the data directory still holds media files */
        ret = mkdir(opts->data_dir, 0700) && errno != EEXIST ? -errno : 0;
        if (ret)
            snprintf(err, errlen, "store: cannot create %s: %s", opts->data_dir, strerror(-ret));
        if (!ret)
            ret = store__connect(s, false, &s->db, err, errlen);
    } else {
        ret = prepare_files(opts->data_dir, s->path, err, errlen);
        if (!ret)
            ret = store__connect(s, false, &s->db, err, errlen);
        if (!ret)
            ret = setup_writer(s->db, err, errlen);
    }
    if (!ret)
        ret = store__migrate(s->db, &s->schema_version, &s->migrations_applied, err, errlen);
    if (ret)
        goto fail;
    ret = store__tail_init(&s->others, s->db);
    if (ret) {
        snprintf(err, errlen, "store: cannot read the channels' event positions: %s",
                 strerror(-ret));
        goto fail;
    }
    ret = pthread_create(&s->writer, NULL, writer_main, s);
    if (ret) {
        snprintf(err, errlen, "store: cannot start the writer thread: %s", strerror(ret));
        goto fail;
    }
    s->writer_running = true;
    return s;
fail:
    store_close(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->writer_running) {
        pthread_mutex_lock(&s->mu);
        s->closing = true; /* the writer drains the queue before it sees this and stops */
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->writer, NULL);
    }
    store__listener_stop(s->listener);
    store__events_release(&s->events);
    store__tail_release(&s->others);
    db_close(s->db);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s->database_url);
    free(s->data_dir);
    free(s);
}

void store_set_event_sink(struct store *s, store_event_sink_fn *sink, void *ctx)
{
    /* At startup, before writes that matter: the writer reads these without a lock. */
    store__listener_stop(s->listener);
    s->listener = NULL;
    pthread_mutex_lock(&s->mu);
    s->sink = sink;
    s->sink_ctx = ctx;
    pthread_mutex_unlock(&s->mu);
    /* PostgreSQL: the sink hears every node's commits, this one's included, from the listener */
    if (s->database_url && sink) {
        s->listener = store__listener_start(s->database_url, sink, ctx);
        if (!s->listener)
            log_error("store: cannot start the thread that listens for committed events");
    }
}

int store_schema_version(struct store *s)
{
    return s->schema_version;
}

int store_migrations_applied(struct store *s)
{
    return s->migrations_applied;
}

void store_stats(struct store *s, struct store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    out->queue_depth = s->depth;
    pthread_mutex_unlock(&s->mu);
    out->writes_total = atomic_load_explicit(&s->writes_total, memory_order_relaxed);
    out->commits_total = atomic_load_explicit(&s->commits_total, memory_order_relaxed);
    out->disk_full_total = atomic_load_explicit(&s->disk_full_total, memory_order_relaxed);
    out->disk_full = atomic_load(&s->disk_full);
    out->commit_latency = &s->commit_latency;
    out->write_latency = &s->write_latency;
    store__listener_stats(s->listener, out);
}
