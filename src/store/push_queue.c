/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The Web Push send queue (store/push.h): claims with leases, outcomes, and the cluster's VAPID
 * key. Several nodes on one PostgreSQL database share the queue: a claim locks the rows it
 * takes with FOR UPDATE SKIP LOCKED, so two nodes claiming at once take different rows; each
 * lease names its node and ends at due_ms, so a dead node's deliveries are due again when its
 * leases end and no live node's work is released by another. SQLite has one writer, so its
 * claims never race. docs/PUSH.md "Several nodes" has the at-most-twice window this leaves.
 */
#include "store/push.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/store_int.h"

struct queue_write {
    struct store_write w;
    char *node;
    char *ids; /* a JSON array of queue ids */
    unsigned cap;
    char *skip;
    int64_t lease_ms;
    struct store_push_job *jobs; /* the caller's (blocking call) */
    size_t *n;
    struct store_push_result *res; /* a copy */
    size_t nres;
    int *released;
    char *candidate; /* a VAPID key to store unless one is there (secret: wiped) */
    char **pem;      /* the stored key, for the caller */
    bool *stored;
};

static void queue_write_free(struct store_write *w)
{
    struct queue_write *q = container_of(w, struct queue_write, w);

    if (q->candidate) {
        explicit_bzero(q->candidate, strlen(q->candidate));
        free(q->candidate);
    }
    free(q->node);
    free(q->ids);
    free(q->skip);
    free(q->res);
    free(q);
}

static bool node_ok(const char *node)
{
    return node && node[0] && strlen(node) <= STORE_PUSH_NODE_MAX;
}

static struct queue_write *queue_write_new(const struct store_write_op *op, const char *node)
{
    struct queue_write *q = xcalloc(1, sizeof(*q));

    q->w.op = op;
    q->node = node ? xstrdup(node) : NULL;
    return q;
}

static void copy_col(char *dst, size_t dstlen, struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    snprintf(dst, dstlen, "%s", t ? t : "");
}

static void copy_blob(uint8_t *dst, size_t len, struct db_stmt *st, int col)
{
    const void *b = db_col_blob(st, col);

    if (b && db_col_bytes(st, col) == len) {
        memcpy(dst, b, len);
    } else {
        memset(dst, 0, len);
    }
}

/* The ids as a JSON array, for `IN (SELECT ... json_each(?))` (caller frees). */
static char *ids_json(const int64_t *ids, size_t n)
{
    json_t *a = json_array();
    char *text;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (!text)
        abort(); /* out of memory: aborts, as xmalloc does */
    return text;
}

/* ---- recover: this node's leases after a crash ---- */

static int recover_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /* NULL owner: leased before leases had owners (018), by a process that is gone now. */
    static const char sql[] = "UPDATE push_queue SET leased = 0, lease_owner = NULL, due_ms = ?1"
                              " WHERE leased = 1 AND (lease_owner = ?2 OR lease_owner IS NULL)";
    struct queue_write *q = container_of(w, struct queue_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, tx->now_ms);
        db_bind_text(st, 2, q->node);
    }
    err = store__step_done(tx->db, st, "push_recover");
    *q->released = err ? 0 : db_changes(tx->db);
    *id = 0;
    return err;
}

static const struct store_write_op recover_op = { "push_recover", recover_apply, queue_write_free };

int store_push_recover(struct store *s, const char *node, int *released)
{
    struct queue_write *q;

    *released = 0;
    if (!node_ok(node))
        return -EINVAL;
    q = queue_write_new(&recover_op, node);
    q->released = released;
    return store__submit(s, &q->w, NULL, NULL, NULL);
}

/* ---- renew: a live node keeps its leases ---- */

static int renew_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        DB_SQL("UPDATE push_queue SET due_ms = ?1 WHERE lease_owner = ?2 AND leased = 1"
               " AND id IN (SELECT value FROM json_each(?3))",
               "UPDATE push_queue SET due_ms = ?1 WHERE lease_owner = ?2 AND leased = 1"
               " AND id IN (SELECT json_array_elements_text(?3::json)::bigint)");
    struct queue_write *q = container_of(w, struct queue_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, tx->now_ms + q->lease_ms);
        db_bind_text(st, 2, q->node);
        db_bind_text(st, 3, q->ids);
    }
    err = store__step_done(tx->db, st, "push_renew");
    *q->released = err ? 0 : db_changes(tx->db);
    *id = 0;
    return err;
}

static const struct store_write_op renew_op = { "push_renew", renew_apply, queue_write_free };

int store_push_renew(struct store *s, const char *node, const int64_t *ids, size_t n,
                     int64_t lease_ms, int *renewed)
{
    struct queue_write *q;

    *renewed = 0;
    if (!node_ok(node) || lease_ms < 1 || (n && !ids))
        return -EINVAL;
    if (!n)
        return 0;
    q = queue_write_new(&renew_op, node);
    q->ids = ids_json(ids, n);
    q->lease_ms = lease_ms;
    q->released = renewed;
    return store__submit(s, &q->w, NULL, NULL, NULL);
}

/* ---- claim ---- */

static void job_from_row(struct db_stmt *st, struct store_push_job *j)
{
    j->queue_id = db_col_i64(st, 0);
    j->post_id = db_col_i64(st, 1);
    j->sub_id = db_col_i64(st, 2);
    j->tries = db_col_int(st, 3);
    j->created_ms = db_col_i64(st, 4);
    copy_col(j->endpoint, sizeof(j->endpoint), st, 5);
    copy_col(j->origin, sizeof(j->origin), st, 6);
    copy_blob(j->p256dh, sizeof(j->p256dh), st, 7);
    copy_blob(j->auth, sizeof(j->auth), st, 8);
    copy_col(j->urgency, sizeof(j->urgency), st, 9);
    copy_col(j->topic, sizeof(j->topic), st, 10);
    copy_col(j->payload, sizeof(j->payload), st, 11);
    j->expires_ms = db_col_i64(st, 12);
}

/* Lease the claimed rows to the node, in one statement: their ids go as a JSON array. */
static int lease(struct store_tx *tx, const struct queue_write *q, size_t n)
{
    static const char sql[] =
        DB_SQL("UPDATE push_queue SET leased = 1, resend = 0, due_ms = ?2, lease_owner = ?3"
               " WHERE id IN (SELECT value FROM json_each(?1))",
               "UPDATE push_queue SET leased = 1, resend = 0, due_ms = ?2, lease_owner = ?3"
               " WHERE id IN (SELECT json_array_elements_text(?1::json)::bigint)");
    int64_t *ids = xmalloc(n * sizeof(*ids));
    struct db_stmt *st;
    char *text;
    int err;

    for (size_t i = 0; i < n; i++)
        ids[i] = q->jobs[i].queue_id;
    text = ids_json(ids, n);
    free(ids);
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_text(st, 1, text);
        db_bind_i64(st, 2, tx->now_ms + q->lease_ms);
        db_bind_text(st, 3, q->node);
    }
    err = store__step_done(tx->db, st, "push_lease");
    free(text);
    return err;
}

static int claim_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    /*
     * Due rows: never leased, retried, or leased by a node whose lease is over (due_ms is the
     * lease's end). On PostgreSQL the rows are locked as they are read and rows another node
     * has locked are passed over, so two nodes' claims never take the same row; the lock lasts
     * until this batch commits, with the lease written.
     */
#define CLAIM(ORIGINS_OF_2, LOCK)                                                             \
    "SELECT q.id, q.post_id, q.subscription_id, q.tries, c.created_ms, s.endpoint, s.origin," \
    " s.p256dh, s.auth, c.urgency, c.topic, c.payload, c.expires_ms FROM push_queue q"        \
    " JOIN push_subscriptions s ON s.id = q.subscription_id"                                  \
    " JOIN push_campaigns c ON c.post_id = q.post_id"                                         \
    " WHERE q.due_ms <= ?1 AND s.origin NOT IN (" ORIGINS_OF_2 ")"                            \
    " ORDER BY q.due_ms LIMIT ?3" LOCK
    /* ?2 is a JSON array of the origins to skip, read by each engine its own way. */
    static const char sql[] =
        DB_SQL(CLAIM("SELECT value FROM json_each(?2)", ""),
               CLAIM("SELECT json_array_elements_text(?2::json)", " FOR UPDATE OF q SKIP LOCKED"));
#undef CLAIM
    struct queue_write *q = container_of(w, struct queue_write, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    size_t n = 0;
    int rc = -EIO;
    int err = 0;

    if (st) {
        db_bind_i64(st, 1, tx->now_ms);
        db_bind_text(st, 2, q->skip ? q->skip : "[]");
        db_bind_i64(st, 3, (int)q->cap);
        while (n < q->cap && (rc = db_step(st)) == DB_ROW)
            job_from_row(st, &q->jobs[n++]);
    }
    db_reset(st);
    if (rc != DB_DONE && rc != DB_ROW)
        return st ? store__errno(tx->db, rc, "push_claim") : -EIO;
    if (n)
        err = lease(tx, q, n);
    *q->n = err ? 0 : n;
    *id = 0;
    return err;
}

static const struct store_write_op claim_op = { "push_claim", claim_apply, queue_write_free };

int store_push_claim(struct store *s, const char *node, unsigned cap, const char *skip_origins_json,
                     int64_t lease_ms, struct store_push_job *jobs, size_t *n)
{
    struct queue_write *q;

    *n = 0;
    if (!node_ok(node) || cap < 1 || cap > PUSH_CLAIM_MAX || lease_ms < 1 || !jobs)
        return -EINVAL;
    q = queue_write_new(&claim_op, node);
    q->cap = cap;
    q->skip = skip_origins_json ? xstrdup(skip_origins_json) : NULL;
    q->lease_ms = lease_ms;
    q->jobs = jobs;
    q->n = n;
    return store__submit(s, &q->w, NULL, NULL, NULL);
}

/* ---- outcomes ---- */

/* A campaign's counts in one batch of outcomes, written once at the end. */
struct tally {
    int64_t post_id;
    int64_t sent, failed;
};

struct tallies {
    struct tally *t;
    size_t n;
};

static struct tally *tally_of(struct tallies *ts, int64_t post_id)
{
    for (size_t i = 0; i < ts->n; i++) {
        if (ts->t[i].post_id == post_id)
            return &ts->t[i];
    }
    ts->t[ts->n] = (struct tally){ .post_id = post_id };
    return &ts->t[ts->n++];
}

/*
 * Run `sql` on the row `id`; with `node` binds ?2 = at and ?3 = node (a statement that needs
 * the lease still ours). Returns the number of rows changed, or a negative errno.
 */
static int exec_row(struct store_tx *tx, const char *sql, int64_t id, int64_t at, const char *node)
{
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, id);
        if (node) {
            db_bind_i64(st, 2, at);
            db_bind_text(st, 3, node);
        }
    }
    err = store__step_done(tx->db, st, "push_result");
    return err ? err : db_changes(tx->db);
}

static int result_one(struct store_tx *tx, const char *node, const struct store_push_result *r,
                      struct tallies *ts)
{
    static const char del[] = "DELETE FROM push_queue WHERE id = ?1 AND resend = 0";
    /* Edited while in flight: the new payload goes out too, same Topic, if the lease is ours. */
    static const char again[] = "UPDATE push_queue SET resend = 0, leased = 0, tries = 0,"
                                " lease_owner = NULL, due_ms = ?2 WHERE id = ?1"
                                " AND lease_owner = ?3";
    static const char drop[] = "DELETE FROM push_queue WHERE id = ?1";
    static const char gone[] = "DELETE FROM push_subscriptions WHERE id = ?1";
    static const char retry[] = "UPDATE push_queue SET tries = tries + 1, leased = 0,"
                                " lease_owner = NULL, due_ms = ?2 WHERE id = ?1"
                                " AND lease_owner = ?3";
    int n;

    switch (r->outcome) {
    case STORE_PUSH_SENT:
        n = exec_row(tx, del, r->queue_id, 0, NULL);
        if (n == 0) {
            n = exec_row(tx, again, r->queue_id, tx->now_ms, node);
        } else if (n > 0) {
            tally_of(ts, r->post_id)->sent++;
        }
        return n < 0 ? n : 0;
    case STORE_PUSH_GONE:
    case STORE_PUSH_FAILED:
        n = exec_row(tx, drop, r->queue_id, 0, NULL);
        if (n > 0)
            tally_of(ts, r->post_id)->failed++;
        if (n >= 0 && r->outcome == STORE_PUSH_GONE)
            n = exec_row(tx, gone, r->sub_id, 0, NULL);
        return n < 0 ? n : 0;
    case STORE_PUSH_RETRY:
        n = exec_row(tx, retry, r->queue_id, r->retry_at_ms, node);
        return n < 0 ? n : 0;
    }
    return -EINVAL;
}

static int by_queue_id(const void *a, const void *b)
{
    const struct store_push_result *x = a, *y = b;

    return (x->queue_id > y->queue_id) - (x->queue_id < y->queue_id);
}

static int by_post_id(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;

    return (x->post_id > y->post_id) - (x->post_id < y->post_id);
}

/*
 * Rows in id order and campaigns in key order: two nodes' batches lock what they share in the
 * same order, so they wait for each other and never deadlock. A campaign's counters are one
 * UPDATE per batch, not one per delivery: every node adds to the same row.
 */
static int results_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char count[] = "UPDATE push_campaigns SET sent = sent + ?2,"
                                " failed = failed + ?3 WHERE post_id = ?1";
    struct queue_write *q = container_of(w, struct queue_write, w);
    struct tallies ts = { .t = xcalloc(q->nres, sizeof(*ts.t)) };
    struct db_stmt *st;
    int err = 0;

    qsort(q->res, q->nres, sizeof(*q->res), by_queue_id);
    for (size_t i = 0; i < q->nres && !err; i++)
        err = result_one(tx, q->node, &q->res[i], &ts);
    qsort(ts.t, ts.n, sizeof(*ts.t), by_post_id);
    for (size_t i = 0; i < ts.n && !err; i++) {
        st = db_stmt(tx->db, count);
        if (st) {
            db_bind_i64(st, 1, ts.t[i].post_id);
            db_bind_i64(st, 2, ts.t[i].sent);
            db_bind_i64(st, 3, ts.t[i].failed);
        }
        err = store__step_done(tx->db, st, "push_count");
    }
    free(ts.t);
    *id = 0;
    return err;
}

static const struct store_write_op results_op = { "push_results", results_apply, queue_write_free };

int store_push_results(struct store *s, const char *node, const struct store_push_result *res,
                       size_t n)
{
    struct queue_write *q;

    if (!n)
        return 0;
    if (!res || !node_ok(node))
        return -EINVAL;
    q = queue_write_new(&results_op, node);
    q->res = xmalloc(n * sizeof(*res));
    memcpy(q->res, res, n * sizeof(*res));
    q->nres = n;
    return store__submit(s, &q->w, NULL, NULL, NULL);
}

/* ---- the cluster's VAPID key ---- */

static int vapid_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char ins[] = "INSERT INTO push_vapid (id, private_pem, created_ms)"
                              " VALUES (1, ?1, ?2) ON CONFLICT DO NOTHING";
    static const char sel[] = "SELECT private_pem FROM push_vapid WHERE id = 1";
    struct queue_write *q = container_of(w, struct queue_write, w);
    struct db_stmt *st = db_stmt(tx->db, ins);
    const char *t;
    int rc;
    int err;

    if (st) {
        db_bind_text(st, 1, q->candidate);
        db_bind_i64(st, 2, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "push_vapid");
    if (err)
        return err;
    *q->stored = db_changes(tx->db) > 0;
    st = db_stmt(tx->db, sel);
    if (!st)
        return -EIO;
    rc = db_step(st);
    t = rc == DB_ROW ? db_col_text(st, 0) : NULL;
    if (t)
        *q->pem = xstrdup(t);
    db_reset(st);
    *id = 0;
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "push_vapid");
    return t ? 0 : -EIO;
}

static const struct store_write_op vapid_op = { "push_vapid", vapid_apply, queue_write_free };

int store_push_vapid(struct store *s, const char *candidate_pem, char **pem, bool *stored)
{
    struct queue_write *q;
    size_t len = candidate_pem ? strlen(candidate_pem) : 0;

    *pem = NULL;
    *stored = false;
    /* The table's CHECK, checked first: a failing row would be quoted in the error message. */
    if (len < 64 || len > STORE_PUSH_PEM_MAX)
        return -EINVAL;
    q = queue_write_new(&vapid_op, NULL);
    q->candidate = xstrdup(candidate_pem);
    q->pem = pem;
    q->stored = stored;
    return store__submit(s, &q->w, NULL, NULL, NULL);
}
