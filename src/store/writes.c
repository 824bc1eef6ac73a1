/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The write operations: accounts and API tokens. Each is a struct starting with a struct
 * store_write, an op table, an apply function run by the writer thread inside the write's
 * savepoint, and the public function that validates, copies and queues. Validation happens
 * here, before queuing, so that a caller's mistake is -EINVAL at once, and the CHECK
 * constraints in the schema only ever catch our own bugs.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/store_int.h"

#define EMAIL_MAX      255 /* bytes; struct store_user's email[256] */
#define TOKEN_NAME_MAX 127 /* bytes; struct store_token's name[128] */

/* ---- roles ---- */

static const char *const role_names[] = {
    [STORE_ROLE_OPERATOR] = "operator",
    [STORE_ROLE_ORG_ADMIN] = "org_admin",
    [STORE_ROLE_STAFF] = "staff",
};

static bool role_valid(int r)
{
    return r >= STORE_ROLE_OPERATOR && r <= STORE_ROLE_STAFF;
}

const char *store_role_name(enum store_role r)
{
    return role_valid((int)r) ? role_names[r] : "unknown";
}

int store_role_parse(const char *s, enum store_role *out)
{
    for (int r = STORE_ROLE_OPERATOR; s && r <= STORE_ROLE_STAFF; r++) {
        if (!strcmp(s, role_names[r])) {
            *out = (enum store_role)r;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- ping ---- */

static int ping_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "INSERT INTO meta (key, value) VALUES ('ping_ms', ?1)"
                              " ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char now[24];

    (void)w;
    *id = 0; /* no row of its own */
    /* After a full disk, a tiny row may still fit in WAL pages already there while posts do
     * not: readyz stays failing until there is room for real work, even if nobody writes. */
    if (tx->disk_full && store__free_bytes(tx->data_dir) < STORE_FULL_RECOVER_BYTES)
        return -ENOSPC;
    /* A real row change, so the commit really reaches the disk: that is what readyz asks. */
    snprintf(now, sizeof(now), "%lld", (long long)tx->now_ms);
    if (st)
        db_bind_text(st, 1, now);
    return store__step_done(tx->db, st, "ping");
}

static void ping_free(struct store_write *w)
{
    free(w);
}

static const struct store_write_op ping_op = { "ping", ping_apply, ping_free };

int store_ping(struct store *s, store_done_fn *done, void *ctx, int64_t *id_out)
{
    struct store_write *w = xcalloc(1, sizeof(*w));

    w->op = &ping_op;
    return store__submit(s, w, done, ctx, id_out);
}

/* ---- user_add ---- */

struct user_add {
    struct store_write w; /* first: the queue knows only this part */
    char *email;          /* lower-cased */
    char *password_hash;
    enum store_role role;
    bool must_change;
};

static int user_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO users (email, role, password_hash, must_change_password, created_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
    struct user_add *u = container_of(w, struct user_add, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_text(st, 1, u->email);
        db_bind_i64(st, 2, (int)u->role);
        db_bind_text(st, 3, u->password_hash);
        db_bind_i64(st, 4, u->must_change);
        db_bind_i64(st, 5, tx->now_ms);
    }
    err = store__step_id(tx->db, st, "user_add", id);
    return err;
}

static void user_add_free(struct store_write *w)
{
    struct user_add *u = container_of(w, struct user_add, w);

    free(u->email);
    if (u->password_hash) {
        explicit_bzero(u->password_hash, strlen(u->password_hash));
        free(u->password_hash);
    }
    free(u);
}

static const struct store_write_op user_add_op = { "user_add", user_add_apply, user_add_free };

/* ASCII lower-casing, the same folding as SQLite's NOCASE and lower(). */
static char *email_fold(const char *email)
{
    char *e = xstrdup(email);

    for (char *p = e; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return e;
}

static bool email_valid(const char *email)
{
    size_t n = email ? strlen(email) : 0;
    const char *at = n ? strchr(email, '@') : NULL;

    return n >= 3 && n <= EMAIL_MAX && at && at != email;
}

int store_user_add(struct store *s, const char *email, enum store_role role,
                   const char *password_hash, bool must_change, store_done_fn *done, void *ctx,
                   int64_t *id_out)
{
    struct user_add *u;

    if (!email_valid(email) || !role_valid((int)role) || !password_hash || !*password_hash)
        return -EINVAL;
    u = xcalloc(1, sizeof(*u));
    u->w.op = &user_add_op;
    u->email = email_fold(email);
    u->password_hash = xstrdup(password_hash);
    u->role = role;
    u->must_change = must_change;
    return store__submit(s, &u->w, done, ctx, id_out);
}

/* ---- token_add ---- */

struct token_add {
    struct store_write w;
    int64_t user_id;
    char *name;
    uint8_t hash[SECRET_HASH_LEN];
};

static int token_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "INSERT INTO api_tokens (user_id, name, hash, created_ms)"
                              " VALUES (?1, ?2, ?3, ?4) RETURNING id";
    struct token_add *t = container_of(w, struct token_add, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, t->user_id);
        db_bind_text(st, 2, t->name);
        db_bind_blob(st, 3, t->hash, SECRET_HASH_LEN);
        db_bind_i64(st, 4, tx->now_ms);
    }
    /* A missing user is a FOREIGN KEY violation, which store__errno() makes -ENOENT. */
    err = store__step_id(tx->db, st, "token_add", id);
    return err;
}

static void token_add_free(struct store_write *w)
{
    struct token_add *t = container_of(w, struct token_add, w);

    free(t->name);
    explicit_bzero(t->hash, sizeof(t->hash));
    free(t);
}

static const struct store_write_op token_add_op = { "token_add", token_add_apply, token_add_free };

int store_token_add(struct store *s, int64_t user_id, const char *name,
                    const uint8_t hash[SECRET_HASH_LEN], store_done_fn *done, void *ctx,
                    int64_t *id_out)
{
    struct token_add *t;
    size_t n = name ? strlen(name) : 0;

    /* An unknown user_id is left to the FOREIGN KEY: -ENOENT, like any missing user. */
    if (n < 1 || n > TOKEN_NAME_MAX || !hash)
        return -EINVAL;
    t = xcalloc(1, sizeof(*t));
    t->w.op = &token_add_op;
    t->user_id = user_id;
    t->name = xstrdup(name);
    memcpy(t->hash, hash, SECRET_HASH_LEN);
    return store__submit(s, &t->w, done, ctx, id_out);
}

/* ---- token_revoke ---- */

struct token_revoke {
    struct store_write w;
    int64_t user_id;
    int64_t token_id;
};

static int token_revoke_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE api_tokens SET revoked_ms = ?3"
                              " WHERE id = ?1 AND user_id = ?2 AND revoked_ms IS NULL";
    struct token_revoke *t = container_of(w, struct token_revoke, w);
    struct db_stmt *st = db_stmt(tx->db, sql);
    int err;

    if (st) {
        db_bind_i64(st, 1, t->token_id);
        db_bind_i64(st, 2, t->user_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "token_revoke");
    /* Someone else's token, an unknown one and a revoked one look the same from outside. */
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    if (!err)
        *id = t->token_id;
    return err;
}

static void token_revoke_free(struct store_write *w)
{
    free(container_of(w, struct token_revoke, w));
}

static const struct store_write_op token_revoke_op = { "token_revoke", token_revoke_apply,
                                                       token_revoke_free };

int store_token_revoke(struct store *s, int64_t user_id, int64_t token_id, store_done_fn *done,
                       void *ctx)
{
    struct token_revoke *t = xcalloc(1, sizeof(*t));

    t->w.op = &token_revoke_op;
    t->user_id = user_id;
    t->token_id = token_id;
    return store__submit(s, &t->w, done, ctx, NULL);
}
