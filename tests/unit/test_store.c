/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The SQLite store through its public header: migrations, accounts and tokens, the write queue
 * (group commit, per-write savepoints, back-pressure, draining), online backup and durability
 * across kill -9. Tests that need writes to land in one batch hold the writer in a done()
 * callback (a "gate"): writes queued meanwhile all become its next batch.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/secret.h"
#include "harness.h"
#include "store/migrations.h"
#include "store/store.h"
#include "test_db.h"

#define PW "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"

/* "applied migration" on every fresh database would bury the failures */
__attribute__((constructor)) static void quiet(void)
{
    log_max_level = LOG_WARN;
}

static struct store *open_store(const char *dir, unsigned batch_max, unsigned queue_max)
{
    struct store_opts o = { .data_dir = dir,
                            .batch_max = batch_max,
                            .queue_max = queue_max,
                            .database_url = test_database_url(dir) };
    char err[256] = "";
    struct store *s = store_open(&o, err, sizeof(err));

    if (!s)
        fprintf(stderr, "  open_store: %s\n", err);
    return s;
}

static void hash_of(int a, int b, uint8_t out[SECRET_HASH_LEN])
{
    char s[64];

    snprintf(s, sizeof(s), "token-%d-%d", a, b);
    secret_sha256(s, strlen(s), out);
}

static void subdir(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "%s/%s", harness_tmpdir(), name);
}

/* Counts outcomes of async writes and lets a test wait for them. */
struct tally {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int done, ok, eexist, other;
};

static void tally_init(struct tally *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cond, NULL);
}

static void tally_done(void *ctx, int err, int64_t id)
{
    struct tally *t = ctx;

    (void)id;
    pthread_mutex_lock(&t->mu);
    t->done++;
    if (!err)
        t->ok++;
    else if (err == -EEXIST)
        t->eexist++;
    else
        t->other++;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->mu);
}

/* Wait until `n` writes are reported; false after 20 s. */
static bool tally_wait(struct tally *t, int n)
{
    struct timespec until;
    bool ok = true;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&t->mu);
    while (t->done < n && ok)
        ok = pthread_cond_timedwait(&t->cond, &t->mu, &until) == 0;
    ok = t->done >= n;
    pthread_mutex_unlock(&t->mu);
    return ok;
}

/* Holds the writer thread inside a done() callback until opened. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, open;
};

static void gate_init(struct gate *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cond, NULL);
}

static void gate_done(void *ctx, int err, int64_t id)
{
    struct gate *g = ctx;

    (void)err;
    (void)id;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_wait_entered(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->mu);
}

static int64_t add_user(struct store *s, const char *email)
{
    int64_t id = 0;

    if (store_user_add(s, email, STORE_ROLE_STAFF, PW, false, NULL, NULL, &id))
        return 0;
    return id;
}

/* ---- migrations and opening ---- */

TEST(migrations_apply_on_new_db_and_not_again_on_reopen)
{
    /* each engine has its own set, with the same numbers (docs/STORE.md) */
    int known = (int)(test_on_pg() ? store_pg_migration_count : store_migration_count);
    char dir[512];
    struct stat st;
    struct store *s;

    subdir(dir, sizeof(dir), "data");
    s = open_store(dir, 0, 0);
    CHECK(s);
    CHECK_INT(stat(dir, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0700);
    CHECK_INT(store_migrations_applied(s), ==, known);
    CHECK_INT(store_schema_version(s), ==, known);
    store_close(s);

    s = open_store(dir, 0, 0);
    CHECK(s);
    CHECK_INT(store_migrations_applied(s), ==, 0);
    CHECK_INT(store_schema_version(s), ==, known);
    store_close(s);
}

TEST(database_newer_than_binary_is_refused)
{
    char dir[512], err[256] = "";
    struct store_opts o = { 0 };
    struct store *s;

    subdir(dir, sizeof(dir), "data");
    s = open_store(dir, 0, 0);
    CHECK(s);
    store_close(s);
    CHECK_INT(test_db_exec(dir, "INSERT INTO schema_migrations VALUES (999, '999_future', 0)"), ==,
              0);

    o.data_dir = dir;
    o.database_url = test_database_url(dir);
    s = store_open(&o, err, sizeof(err));
    CHECK(!s);
    CHECK(strstr(err, "schema version 999"));
    CHECK(!strchr(err, '\n'));
}

/* A child that opens (so migrates) the store in `dir` when the parent closes `go`. */
static void migrate_child(const char *dir, int go)
{
    char c;
    struct store *s;

    (void)!read(go, &c, 1); /* EOF: all children start together */
    s = open_store(dir, 0, 0);
    store_close(s);
    _exit(s ? 0 : 1);
}

TEST(nodes_starting_together_migrate_once)
{
    /* Two processes open a new database at the same moment, as nodes of a cluster do: both
     * must come up, and the schema must be there once (PostgreSQL: the advisory lock). */
    int known = (int)(test_on_pg() ? store_pg_migration_count : store_migration_count);
    char dir[512];
    int go[2], status;
    pid_t pid[2];
    struct store *s;

    subdir(dir, sizeof(dir), "data");
    CHECK_INT(mkdir(dir, 0700), ==, 0);
    (void)test_database_url(dir); /* the PostgreSQL database exists before the race */
    CHECK_INT(pipe(go), ==, 0);
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        CHECK_INT(pid[i], >=, 0);
        if (pid[i] == 0) {
            close(go[1]);
            migrate_child(dir, go[0]);
        }
    }
    close(go[0]);
    close(go[1]);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(waitpid(pid[i], &status, 0), ==, pid[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(test_db_int(dir, "SELECT count(*) FROM schema_migrations"), ==, known);
    s = open_store(dir, 0, 0);
    CHECK(s);
    CHECK_INT(store_migrations_applied(s), ==, 0);
    CHECK_INT(store_schema_version(s), ==, known);
    store_close(s);
}

TEST(role_names_round_trip)
{
    enum store_role r;

    CHECK_STR(store_role_name(STORE_ROLE_OPERATOR), "operator");
    CHECK_STR(store_role_name(STORE_ROLE_ORG_ADMIN), "org_admin");
    CHECK_STR(store_role_name(STORE_ROLE_STAFF), "staff");
    CHECK_INT(store_role_parse("org_admin", &r), ==, 0);
    CHECK_INT(r, ==, STORE_ROLE_ORG_ADMIN);
    CHECK_INT(store_role_parse("Operator", &r), ==, -EINVAL);
    CHECK_INT(store_role_parse("", &r), ==, -EINVAL);
}

/* ---- accounts and tokens ---- */

TEST(user_found_by_email_in_any_case)
{
    char err[256], hash[256];
    struct store_reader *r = NULL;
    struct store_user u;
    struct store *s;
    int64_t id = 0, n = -1;

    s = open_store(harness_tmpdir(), 0, 0);
    CHECK(s);
    CHECK_INT(
        store_user_add(s, "Ana.Rossi@Comune.IT", STORE_ROLE_OPERATOR, PW, true, NULL, NULL, &id),
        ==, 0);
    CHECK_INT(id, >, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_user_count(r, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(store_user_by_email(r, "ana.rossi@comune.it", &u, hash, sizeof(hash)), ==, 0);
    CHECK_INT(u.id, ==, id);
    CHECK_STR(u.email, "ana.rossi@comune.it"); /* stored lower-cased */
    CHECK_INT(u.role, ==, STORE_ROLE_OPERATOR);
    CHECK_INT(u.org_id, ==, 0);
    CHECK(u.must_change_password);
    CHECK_INT(u.created_ms, >, 0);
    CHECK_STR(hash, PW);
    CHECK_INT(store_user_by_email(r, "ANA.ROSSI@COMUNE.IT", &u, NULL, 0), ==, 0);
    CHECK_INT(u.id, ==, id);
    CHECK_INT(store_user_by_email(r, "nobody@comune.it", &u, NULL, 0), ==, -ENOENT);
    CHECK_INT(store_user_by_email(r, "ana.rossi@comune.it", &u, hash, 8), ==, -EMSGSIZE);
    store_reader_close(r);
    store_close(s);
}

TEST(duplicate_email_in_other_case_is_eexist)
{
    struct store *s = open_store(harness_tmpdir(), 0, 0);
    int64_t id = 0;

    CHECK(s);
    CHECK_INT(add_user(s, "ufficio@comune.it"), >, 0);
    CHECK_INT(store_user_add(s, "UFFICIO@comune.it", STORE_ROLE_STAFF, PW, false, NULL, NULL, &id),
              ==, -EEXIST);
    CHECK_INT(id, ==, 0);
    store_close(s);
}

TEST(invalid_user_is_einval_and_done_never_called)
{
    struct store *s = open_store(harness_tmpdir(), 0, 0);
    struct tally t;

    tally_init(&t);
    CHECK(s);
    CHECK_INT(store_user_add(s, "no-at-sign", STORE_ROLE_STAFF, PW, false, tally_done, &t, NULL),
              ==, -EINVAL);
    CHECK_INT(store_user_add(s, "a@b.it", (enum store_role)7, PW, false, tally_done, &t, NULL), ==,
              -EINVAL);
    CHECK_INT(store_user_add(s, "a@b.it", STORE_ROLE_STAFF, "", false, tally_done, &t, NULL), ==,
              -EINVAL);
    store_close(s);
    CHECK_INT(t.done, ==, 0);
}

struct tok_list {
    int n;
    int64_t ids[8];
    char names[8][128];
};

static void collect_token(void *ctx, const struct store_token *tok)
{
    struct tok_list *l = ctx;

    if (l->n < 8) {
        l->ids[l->n] = tok->id;
        snprintf(l->names[l->n], sizeof(l->names[0]), "%s", tok->name);
    }
    l->n++;
}

TEST(token_add_find_list_revoke)
{
    uint8_t h1[SECRET_HASH_LEN], h2[SECRET_HASH_LEN];
    struct store_reader *r = NULL;
    struct tok_list l = { 0 };
    struct store_user u;
    struct store *s;
    char err[256];
    int64_t uid, t1 = 0, t2 = 0, found = 0;

    s = open_store(harness_tmpdir(), 0, 0);
    CHECK(s);
    uid = add_user(s, "staff@comune.it");
    CHECK_INT(uid, >, 0);
    hash_of(1, 1, h1);
    hash_of(1, 2, h2);
    CHECK_INT(store_token_add(s, uid, "laptop", h1, NULL, NULL, &t1), ==, 0);
    CHECK_INT(store_token_add(s, uid, "script", h2, NULL, NULL, &t2), ==, 0);
    CHECK_INT(t2, >, t1);

    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_token_find(r, h1, &u, &found), ==, 0);
    CHECK_INT(u.id, ==, uid);
    CHECK_STR(u.email, "staff@comune.it");
    CHECK_INT(found, ==, t1);
    CHECK_INT(store_token_list(r, uid, collect_token, &l), ==, 0);
    CHECK_INT(l.n, ==, 2);
    CHECK_INT(l.ids[0], ==, t2); /* newest first */
    CHECK_STR(l.names[0], "script");
    CHECK_STR(l.names[1], "laptop");

    CHECK_INT(store_token_revoke(s, uid, t1, NULL, NULL), ==, 0);
    CHECK_INT(store_token_find(r, h1, &u, NULL), ==, -ENOENT);
    CHECK_INT(store_token_find(r, h2, &u, NULL), ==, 0);
    memset(&l, 0, sizeof(l));
    CHECK_INT(store_token_list(r, uid, collect_token, &l), ==, 0);
    CHECK_INT(l.n, ==, 1);
    CHECK_INT(l.ids[0], ==, t2);
    /* revoking twice: no live token any more */
    CHECK_INT(store_token_revoke(s, uid, t1, NULL, NULL), ==, -ENOENT);
    store_reader_close(r);
    store_close(s);
}

TEST(revoking_someone_elses_token_is_enoent)
{
    uint8_t h[SECRET_HASH_LEN];
    struct store_reader *r = NULL;
    struct store_user u;
    struct store *s;
    char err[256];
    int64_t a, b, tok = 0;

    s = open_store(harness_tmpdir(), 0, 0);
    CHECK(s);
    a = add_user(s, "a@comune.it");
    b = add_user(s, "b@comune.it");
    CHECK(a > 0 && b > 0);
    hash_of(2, 1, h);
    CHECK_INT(store_token_add(s, a, "a's", h, NULL, NULL, &tok), ==, 0);
    CHECK_INT(store_token_revoke(s, b, tok, NULL, NULL), ==, -ENOENT);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_token_find(r, h, &u, NULL), ==, 0); /* still live */
    CHECK_INT(u.id, ==, a);
    store_reader_close(r);
    store_close(s);
}

TEST(token_for_missing_user_is_enoent)
{
    uint8_t h[SECRET_HASH_LEN];
    struct store *s = open_store(harness_tmpdir(), 0, 0);

    CHECK(s);
    hash_of(3, 1, h);
    CHECK_INT(store_token_add(s, 4242, "ghost", h, NULL, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_token_add(s, 0, "ghost", h, NULL, NULL, NULL), ==, -ENOENT);
    store_close(s);
}

TEST(ping_commits_through_the_writer)
{
    struct store_stats st;
    struct store *s = open_store(harness_tmpdir(), 0, 0);

    CHECK(s);
    CHECK_INT(store_ping(s, NULL, NULL, NULL), ==, 0);
    store_stats(s, &st);
    CHECK_INT(st.writes_total, ==, 1);
    CHECK_INT(st.commits_total, ==, 1);
    store_close(s);
}

struct reentry {
    struct store *s;
    int err;
    struct tally *t;
};

static void blocking_write_from_done(void *ctx, int err, int64_t id)
{
    struct reentry *re = ctx;

    (void)err;
    (void)id;
    re->err = store_ping(re->s, NULL, NULL, NULL); /* would wait for itself */
    tally_done(re->t, 0, 0);
}

TEST(blocking_write_from_done_is_edeadlk)
{
    struct tally t;
    struct reentry re;
    struct store *s = open_store(harness_tmpdir(), 0, 0);

    CHECK(s);
    tally_init(&t);
    re = (struct reentry){ .s = s, .err = 0, .t = &t };
    CHECK_INT(store_ping(s, blocking_write_from_done, &re, NULL), ==, 0);
    CHECK(tally_wait(&t, 1));
    store_close(s);
    CHECK_INT(re.err, ==, -EDEADLK);
}

TEST(reads_do_not_wait_for_an_open_write_transaction)
{
    char dir[512], path[600], err[256];
    struct store_reader *r = NULL;
    struct store *s;
    sqlite3 *other = NULL;
    uint64_t t0;
    int64_t n = 0;

    if (test_on_pg()) {
        fprintf(stderr, "  skipped on PostgreSQL: SQLite's file locking (MVCC reads never wait)\n");
        return;
    }
    snprintf(dir, sizeof(dir), "%s", harness_tmpdir());
    snprintf(path, sizeof(path), "%s/araldo.db", dir);
    s = open_store(dir, 0, 0);
    CHECK(s);
    CHECK_INT(add_user(s, "one@comune.it"), >, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    /* Another connection sits inside a write transaction, as the writer does mid-batch. */
    CHECK_INT(sqlite3_open(path, &other), ==, SQLITE_OK);
    CHECK_INT(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO meta VALUES ('k', 'v')", NULL, NULL,
                           NULL),
              ==, SQLITE_OK);
    t0 = clock_mono_us();
    CHECK_INT(store_user_count(r, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(clock_mono_us() - t0, <, 100000);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    store_reader_close(r);
    store_close(s);
}

/* ---- the write queue ---- */

struct queuer {
    pthread_t tid;
    struct store *s;
    struct tally *t;
    int64_t user_id;
    int thread_no, count;
    int queued, refused;
};

/* Queue `count` token writes without waiting; -ENOBUFS is counted, then retried shortly. */
static void *queue_tokens(void *arg)
{
    struct queuer *q = arg;
    uint8_t h[SECRET_HASH_LEN];
    const struct timespec pause = { 0, 100 * 1000 };

    for (int i = 0; i < q->count;) {
        int err;

        hash_of(q->thread_no, i, h);
        err = store_token_add(q->s, q->user_id, "t", h, tally_done, q->t, NULL);
        if (err == -ENOBUFS) {
            q->refused++;
            nanosleep(&pause, NULL);
            continue;
        }
        if (err)
            break;
        q->queued++;
        i++;
    }
    return NULL;
}

TEST(failing_write_in_a_batch_does_not_undo_the_others)
{
    enum { THREADS = 4, EACH = 50 };
    uint8_t dup[SECRET_HASH_LEN];
    struct queuer q[THREADS];
    struct store_stats before, after;
    struct tally t;
    struct gate g;
    struct store *s;
    int64_t uid;
    int last_err = 0;

    s = open_store(harness_tmpdir(), 1000, 1000);
    CHECK(s);
    uid = add_user(s, "batch@comune.it");
    CHECK_INT(uid, >, 0);
    hash_of(0, 7, dup); /* thread 0's write 7 will collide with this one */
    CHECK_INT(store_token_add(s, uid, "first", dup, NULL, NULL, NULL), ==, 0);
    tally_init(&t);
    gate_init(&g);

    /* Hold the writer, queue everything, then let it run: one batch holds all the writes. */
    CHECK_INT(store_ping(s, gate_done, &g, NULL), ==, 0);
    gate_wait_entered(&g);
    store_stats(s, &before);
    for (int i = 0; i < THREADS; i++) {
        q[i] = (struct queuer){ .s = s, .t = &t, .user_id = uid, .thread_no = i, .count = EACH };
        pthread_create(&q[i].tid, NULL, queue_tokens, &q[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(q[i].tid, NULL);
    gate_open(&g);
    CHECK(tally_wait(&t, THREADS * EACH));
    store_stats(s, &after);
    CHECK_INT(after.commits_total - before.commits_total, ==, 1);
    CHECK_INT(t.ok, ==, THREADS * EACH - 1);
    CHECK_INT(t.eexist, ==, 1);
    CHECK_INT(t.other, ==, 0);
    /* the committed ones are really there: the duplicate again is refused, a new one is not */
    CHECK_INT(store_token_add(s, uid, "again", dup, NULL, NULL, NULL), ==, -EEXIST);
    hash_of(3, EACH - 1, dup);
    last_err = store_token_add(s, uid, "again", dup, NULL, NULL, NULL);
    CHECK_INT(last_err, ==, -EEXIST);
    store_close(s);
}

TEST(full_queue_is_enospc_at_once_and_done_never_called)
{
    uint8_t h[SECRET_HASH_LEN];
    struct tally t, refused;
    struct gate g;
    struct store *s;
    int64_t uid;

    s = open_store(harness_tmpdir(), 0, 4);
    CHECK(s);
    uid = add_user(s, "full@comune.it");
    CHECK_INT(uid, >, 0);
    tally_init(&t);
    tally_init(&refused);
    gate_init(&g);
    CHECK_INT(store_ping(s, gate_done, &g, NULL), ==, 0);
    gate_wait_entered(&g); /* the ping has left the queue; the writer is held */
    for (int i = 0; i < 4; i++) {
        hash_of(4, i, h);
        CHECK_INT(store_token_add(s, uid, "t", h, tally_done, &t, NULL), ==, 0);
    }
    hash_of(4, 99, h);
    CHECK_INT(store_token_add(s, uid, "t", h, tally_done, &refused, NULL), ==, -ENOBUFS);
    CHECK_INT(store_ping(s, NULL, NULL, NULL), ==, -ENOBUFS); /* blocking writes too, at once */
    gate_open(&g);
    CHECK(tally_wait(&t, 4));
    CHECK_INT(t.ok, ==, 4);
    store_close(s);
    CHECK_INT(refused.done, ==, 0);
}

static double mean_ms(const struct histogram *h)
{
    uint64_t n = atomic_load(&h->count); /* private members: a test may peek */

    return n ? (double)atomic_load(&h->sum_us) / (double)n / 1000.0 : 0.0;
}

TEST(group_commit_batches_concurrent_writes)
{
    enum { THREADS = 4, EACH = 2500 };
    struct queuer q[THREADS];
    struct store_stats st;
    struct tally t;
    struct store *s;
    uint64_t t0, us;
    int64_t uid;

    s = open_store(harness_tmpdir(), 256, 20000);
    CHECK(s);
    uid = add_user(s, "many@comune.it");
    CHECK_INT(uid, >, 0);
    tally_init(&t);
    t0 = clock_mono_us();
    for (int i = 0; i < THREADS; i++) {
        q[i] = (struct queuer){ .s = s, .t = &t, .user_id = uid, .thread_no = i, .count = EACH };
        pthread_create(&q[i].tid, NULL, queue_tokens, &q[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(q[i].tid, NULL);
    CHECK(tally_wait(&t, THREADS * EACH));
    us = clock_mono_us() - t0;
    CHECK_INT(t.ok, ==, THREADS * EACH);
    store_stats(s, &st);
    CHECK_INT(st.queue_depth, ==, 0);
    CHECK_INT(st.writes_total, ==, THREADS * EACH + 1);
    /* one fsync per write would be 10001 commits */
    CHECK_INT(st.commits_total * 10, <, st.writes_total);
    fprintf(stderr,
            "  async: %d writes in %.0f ms = %.0f writes/s, %llu commits (%.1f writes each), "
            "commit %.2f ms, write %.2f ms mean\n",
            THREADS * EACH, us / 1000.0, THREADS * EACH * 1e6 / (double)us,
            (unsigned long long)st.commits_total,
            (double)st.writes_total / (double)st.commits_total, mean_ms(st.commit_latency),
            mean_ms(st.write_latency));
    store_close(s);
}

struct blocker {
    pthread_t tid;
    struct store *s;
    int n, failed;
};

static void *ping_blocking(void *arg)
{
    struct blocker *b = arg;

    for (int i = 0; i < b->n; i++)
        b->failed += store_ping(b->s, NULL, NULL, NULL) != 0;
    return NULL;
}

TEST(blocking_writers_share_commits)
{
    enum { THREADS = 16, EACH = 100 };
    struct blocker b[THREADS];
    struct store_stats st;
    struct store *s;
    uint64_t t0, us;

    s = open_store(harness_tmpdir(), 0, 0);
    CHECK(s);
    t0 = clock_mono_us();
    for (int i = 0; i < THREADS; i++) {
        b[i] = (struct blocker){ .s = s, .n = EACH };
        pthread_create(&b[i].tid, NULL, ping_blocking, &b[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(b[i].tid, NULL);
    us = clock_mono_us() - t0;
    for (int i = 0; i < THREADS; i++)
        CHECK_INT(b[i].failed, ==, 0);
    store_stats(s, &st);
    CHECK_INT(st.writes_total, ==, THREADS * EACH);
    CHECK_INT(st.commits_total, <, st.writes_total);
    fprintf(stderr,
            "  blocking, %d threads: %.0f writes/s, %.1f writes per commit, commit %.2f ms, "
            "write %.2f ms mean\n",
            THREADS, THREADS * EACH * 1e6 / (double)us,
            (double)st.writes_total / (double)st.commits_total, mean_ms(st.commit_latency),
            mean_ms(st.write_latency));
    store_close(s);
}

struct releaser {
    pthread_t tid;
    struct gate *g;
};

static void *open_gate_later(void *arg)
{
    struct releaser *rl = arg;
    const struct timespec later = { 0, 50 * 1000 * 1000 };

    nanosleep(&later, NULL);
    gate_open(rl->g);
    return NULL;
}

static void count_token(void *ctx, const struct store_token *tok)
{
    (void)tok;
    ++*(int *)ctx;
}

TEST(close_commits_and_reports_every_queued_write)
{
    enum { N = 500 };
    char dir[512], err[256];
    uint8_t h[SECRET_HASH_LEN];
    struct store_reader *r = NULL;
    struct releaser rl;
    struct tally t;
    struct gate g;
    struct store *s;
    int64_t uid;
    int n = 0;

    snprintf(dir, sizeof(dir), "%s", harness_tmpdir());
    s = open_store(dir, 64, N);
    CHECK(s);
    uid = add_user(s, "drain@comune.it");
    CHECK_INT(uid, >, 0);
    tally_init(&t);
    gate_init(&g);
    CHECK_INT(store_ping(s, gate_done, &g, NULL), ==, 0);
    gate_wait_entered(&g);
    for (int i = 0; i < N; i++) {
        hash_of(5, i, h);
        CHECK_INT(store_token_add(s, uid, "t", h, tally_done, &t, NULL), ==, 0);
    }
    /* close starts with all N still queued; the writer is released while it waits */
    rl.g = &g;
    pthread_create(&rl.tid, NULL, open_gate_later, &rl);
    store_close(s);
    pthread_join(rl.tid, NULL);
    CHECK_INT(t.done, ==, N);
    CHECK_INT(t.ok, ==, N);

    s = open_store(dir, 0, 0);
    CHECK(s);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_token_list(r, uid, count_token, &n), ==, 0);
    CHECK_INT(n, ==, N);
    store_reader_close(r);
    store_close(s);
}

/* ---- backup ---- */

struct writer_loop {
    pthread_t tid;
    struct store *s;
    int64_t user_id;
    int thread_no;
    atomic_bool *stop;
    int written;
};

static void *write_until_stopped(void *arg)
{
    struct writer_loop *w = arg;
    uint8_t h[SECRET_HASH_LEN];

    while (!atomic_load(w->stop)) {
        hash_of(100 + w->thread_no, w->written, h);
        if (store_token_add(w->s, w->user_id, "live", h, NULL, NULL, NULL))
            break;
        w->written++;
    }
    return NULL;
}

struct progress {
    int calls, last_done, last_total;
};

static void on_progress(void *ctx, int done, int total)
{
    struct progress *p = ctx;

    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

TEST(backup_while_writing_is_a_consistent_copy)
{
    enum { PRELOAD = 20000, THREADS = 2 };
    char base[512], dir[600], copydir[600], copy[700], err[256] = "";
    struct writer_loop w[THREADS];
    struct store_reader *r = NULL;
    struct progress p = { 0 };
    struct queuer q;
    struct tally t;
    struct store *s, *c;
    atomic_bool stop = false;
    int64_t uid;
    int before, in_copy = 0, now = 0;

    snprintf(base, sizeof(base), "%s", harness_tmpdir()); /* another call would wipe it */
    snprintf(dir, sizeof(dir), "%s/data", base);
    snprintf(copydir, sizeof(copydir), "%s/copy", base);
    snprintf(copy, sizeof(copy), "%s/araldo.db", copydir);
    CHECK_INT(mkdir(copydir, 0700), ==, 0);
    s = open_store(dir, 0, PRELOAD);
    CHECK(s);
    if (test_on_pg()) { /* pg_dump's job there, and the store says so */
        CHECK_INT(store_backup(s, copy, NULL, NULL, err, sizeof(err)), ==, -ENOTSUP);
        CHECK(strstr(err, "pg_dump"));
        store_close(s);
        return;
    }
    uid = add_user(s, "backup@comune.it");
    CHECK_INT(uid, >, 0);
    /* enough rows for many backup steps */
    tally_init(&t);
    q = (struct queuer){ .s = s, .t = &t, .user_id = uid, .thread_no = 6, .count = PRELOAD };
    queue_tokens(&q);
    CHECK(tally_wait(&t, PRELOAD));
    CHECK_INT(t.ok, ==, PRELOAD);

    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct writer_loop){ .s = s, .user_id = uid, .thread_no = i, .stop = &stop };
        pthread_create(&w[i].tid, NULL, write_until_stopped, &w[i]);
    }
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    before = 0;
    CHECK_INT(store_token_list(r, uid, count_token, &before), ==, 0);
    CHECK_INT(store_backup(s, copy, on_progress, &p, err, sizeof(err)), ==, 0);
    atomic_store(&stop, true);
    for (int i = 0; i < THREADS; i++)
        pthread_join(w[i].tid, NULL);
    CHECK_INT(store_token_list(r, uid, count_token, &now), ==, 0);
    store_reader_close(r);
    r = NULL;
    CHECK_INT(p.calls, >, 1);
    CHECK_INT(p.last_done, ==, p.last_total);

    c = open_store(copydir, 0, 0);
    CHECK(c);
    CHECK_INT(store_migrations_applied(c), ==, 0);
    CHECK_INT(store_integrity_check(c, err, sizeof(err)), ==, 0);
    r = store_reader_open(c, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_token_list(r, uid, count_token, &in_copy), ==, 0);
    store_reader_close(r);
    store_close(c);
    fprintf(stderr, "  backup: %d pages in %d steps; tokens before %d, in copy %d, after %d\n",
            p.last_total, p.calls, before, in_copy, now);
    CHECK_INT(in_copy, >=, before);
    CHECK_INT(in_copy, <=, now);
    store_close(s);
}

/* ---- durability across kill -9 ---- */

/* Child side: each acknowledged token id goes to the pipe as soon as done() reports it. */
struct acker {
    pthread_t tid;
    struct store *s;
    int64_t user_id;
    int thread_no;
    int fd;
};

static void ack_done(void *ctx, int err, int64_t id)
{
    struct acker *a = ctx;

    /* 8 bytes to a pipe are written whole (< PIPE_BUF); if the parent is gone, so are we */
    if (!err && write(a->fd, &id, sizeof(id)) != (ssize_t)sizeof(id))
        _exit(3);
}

static void *ack_burst(void *arg)
{
    struct acker *a = arg;
    const struct timespec pause = { 0, 50 * 1000 };
    uint8_t h[SECRET_HASH_LEN];

    for (int i = 0;;) {
        int err;

        hash_of(200 + a->thread_no, i, h);
        err = store_token_add(a->s, a->user_id, "crash", h, ack_done, a, NULL);
        if (err == -ENOBUFS) {
            nanosleep(&pause, NULL);
            continue;
        }
        if (err)
            _exit(4);
        i++;
    }
    return NULL;
}

static NORETURN void crash_child(const char *dir, int fd)
{
    enum { THREADS = 4 };
    struct acker a[THREADS];
    struct store *s;
    int64_t uid;

    alarm(30); /* never outlive a parent that failed to kill us */
    s = open_store(dir, 0, 2000);
    if (!s)
        _exit(1);
    uid = add_user(s, "crash@comune.it");
    if (uid <= 0)
        _exit(2);
    for (int i = 0; i < THREADS; i++) {
        a[i] = (struct acker){ .s = s, .user_id = uid, .thread_no = i, .fd = fd };
        pthread_create(&a[i].tid, NULL, ack_burst, &a[i]);
    }
    for (;;)
        pause();
}

struct id_set {
    int64_t *ids;
    size_t len, cap;
};

static void id_add(struct id_set *set, int64_t id)
{
    if (set->len == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 4096;
        set->ids = realloc(set->ids, set->cap * sizeof(*set->ids));
        if (!set->ids)
            abort();
    }
    set->ids[set->len++] = id;
}

static void collect_id(void *ctx, const struct store_token *tok)
{
    id_add(ctx, tok->id);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Read acks until `until` of them arrived (0: until EOF). False on a 10 s silence. */
static bool read_acks(int fd, struct id_set *acks, size_t until)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int64_t buf[512];
    ssize_t n;

    while (!until || acks->len < until) {
        if (poll(&pfd, 1, 10000) != 1)
            return false;
        n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return n == 0 && !until;
        /* a read may split an id only at 8-byte boundaries: each write was one whole id */
        for (ssize_t i = 0; i < n / (ssize_t)sizeof(int64_t); i++)
            id_add(acks, buf[i]);
    }
    return true;
}

TEST(every_acknowledged_write_survives_kill_9)
{
    char dir[512], err[256] = "";
    struct id_set acks = { 0 }, present = { 0 };
    struct store_reader *r = NULL;
    struct store_user u;
    struct store *s = NULL;
    size_t missing = 0;
    int fds[2], status = 0;
    bool got;
    pid_t pid;

    snprintf(dir, sizeof(dir), "%s/data", harness_tmpdir());
    CHECK_INT(pipe(fds), ==, 0);
    pid = fork();
    CHECK_INT(pid, >=, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(dir, fds[1]);
    }
    close(fds[1]);
    got = read_acks(fds[0], &acks, 2000);
    kill(pid, SIGKILL); /* mid-burst: writes are queued, in a batch, in COMMIT */
    waitpid(pid, &status, 0);
    if (got)
        got = read_acks(fds[0], &acks, 0); /* acks already in the pipe count too */
    close(fds[0]);
    CHECK(got);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    s = open_store(dir, 0, 0);
    CHECK(s);
    CHECK_INT(store_integrity_check(s, err, sizeof(err)), ==, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_user_by_email(r, "crash@comune.it", &u, NULL, 0), ==, 0);
    CHECK_INT(store_token_list(r, u.id, collect_id, &present), ==, 0);
    store_reader_close(r);
    store_close(s);
    qsort(present.ids, present.len, sizeof(int64_t), cmp_id);
    for (size_t i = 0; i < acks.len; i++)
        missing += !bsearch(&acks.ids[i], present.ids, present.len, sizeof(int64_t), cmp_id);
    fprintf(stderr, "  kill -9: %zu acknowledged, %zu in the database, %zu missing\n", acks.len,
            present.len, missing);
    free(acks.ids);
    free(present.ids);
    CHECK_INT(missing, ==, 0);
    CHECK_INT(acks.len, >=, 2000);
}
