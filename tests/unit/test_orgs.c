/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Organizations, staff accounts, sessions and the audit log through store/orgs.h, with
 * blocking writes (done == NULL) on a fresh database per test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/secret.h"
#include "harness.h"
#include "store/orgs.h"
#include "store/store.h"
#include "test_db.h"

#define PW  "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"
#define PW2 "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$b3RoZXI"

static struct store *open_store(void)
{
    char dir[512], err[256] = "";
    struct store_opts o = { 0 };
    struct store *s;

    snprintf(dir, sizeof(dir), "%s/data", harness_tmpdir());
    o.data_dir = dir;
    o.database_url = test_database_url(dir);
    s = store_open(&o, err, sizeof(err));
    if (!s)
        fprintf(stderr, "  open_store: %s\n", err);
    return s;
}

static int add_org(struct store *s, int64_t actor, const char *slug, const char *name, int64_t *id)
{
    struct store_org_fields f = { .set = STORE_ORG_F_NAME, .name = name };

    return store_org_add(s, actor, slug, &f, NULL, NULL, id);
}

static int64_t add_operator(struct store *s)
{
    int64_t id = 0;

    if (store_user_add(s, "root@localhost", STORE_ROLE_OPERATOR, PW, false, NULL, NULL, &id))
        return 0;
    return id;
}

TEST(org_add_get_and_duplicate_slug)
{
    struct store *s = open_store();
    struct store_reader *r;
    struct store_org o;
    char err[128];
    int64_t op, id = 0, id2 = 0;

    CHECK(s);
    op = add_operator(s);
    CHECK(op > 0);
    CHECK_INT(add_org(s, op, "comune-di-prova", "Comune di Prova", &id), ==, 0);
    CHECK(id > 0);
    CHECK_INT(add_org(s, op, "comune-di-prova", "Altro", &id2), ==, -EEXIST);
    CHECK_INT(add_org(s, op, "Maiuscole", "X", &id2), ==, -EINVAL);
    CHECK_INT(add_org(s, op, "a", "X", &id2), ==, -EINVAL);
    CHECK_INT(add_org(s, op, "senza-nome", "", &id2), ==, -EINVAL);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_org_get(r, "comune-di-prova", &o), ==, 0);
    CHECK_STR(o.name, "Comune di Prova");
    CHECK_STR(o.timezone, "Europe/Rome");
    CHECK_STR(o.istat_code, "");
    CHECK_INT(store_org_get(r, "nessuno", &o), ==, -ENOENT);
    store_reader_close(r);
    store_close(s);
}

TEST(org_update_is_partial_and_audited)
{
    struct store *s = open_store();
    struct store_org_fields f = { 0 };
    struct store_reader *r;
    struct store_org o;
    char err[128];
    int64_t op, id = 0;

    CHECK(s);
    op = add_operator(s);
    CHECK_INT(add_org(s, op, "borgo", "Borgo", &id), ==, 0);
    f.set = STORE_ORG_F_ISTAT | STORE_ORG_F_TZ;
    f.istat_code = "012345";
    f.timezone = "Europe/Berlin";
    CHECK_INT(store_org_update(s, op, id, &f, NULL, NULL), ==, 0);
    f.istat_code = "12345";
    CHECK_INT(store_org_update(s, op, id, &f, NULL, NULL), ==, -EINVAL);
    f.set = STORE_ORG_F_NAME;
    f.name = "X";
    CHECK_INT(store_org_update(s, op, 9999, &f, NULL, NULL), ==, -ENOENT);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_org_get_id(r, id, &o), ==, 0);
    CHECK_STR(o.name, "Borgo");
    CHECK_STR(o.istat_code, "012345");
    CHECK_STR(o.timezone, "Europe/Berlin");
    /* Clearing an optional field. */
    store_reader_close(r);
    f.set = STORE_ORG_F_ISTAT;
    f.istat_code = NULL;
    CHECK_INT(store_org_update(s, op, id, &f, NULL, NULL), ==, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK_INT(store_org_get_id(r, id, &o), ==, 0);
    CHECK_STR(o.istat_code, "");
    store_reader_close(r);
    store_close(s);
}

TEST(staff_must_belong_to_an_existing_org)
{
    struct store *s = open_store();
    struct store_reader *r;
    struct store_user u;
    char err[128];
    int64_t op, org = 0, id = 0, disabled = -1;

    CHECK(s);
    op = add_operator(s);
    CHECK_INT(add_org(s, op, "borgo", "Borgo", &org), ==, 0);
    CHECK_INT(
        store_staff_add(s, op, 4242, "a@borgo.it", STORE_ROLE_STAFF, PW, true, NULL, NULL, &id), ==,
        -ENOENT);
    CHECK_INT(
        store_staff_add(s, op, org, "a@borgo.it", STORE_ROLE_OPERATOR, PW, true, NULL, NULL, &id),
        ==, -EINVAL);
    CHECK_INT(
        store_staff_add(s, op, org, "A@Borgo.it", STORE_ROLE_ORG_ADMIN, PW, true, NULL, NULL, &id),
        ==, 0);
    CHECK_INT(
        store_staff_add(s, op, org, "a@borgo.it", STORE_ROLE_STAFF, PW, true, NULL, NULL, NULL), ==,
        -EEXIST);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_user_get(r, id, &u, &disabled), ==, 0);
    CHECK_STR(u.email, "a@borgo.it");
    CHECK_INT(u.org_id, ==, org);
    CHECK_INT(u.role, ==, STORE_ROLE_ORG_ADMIN);
    CHECK(u.must_change_password);
    CHECK_INT(disabled, ==, 0);
    store_reader_close(r);
    store_close(s);
}

TEST(disable_ends_sessions_and_tokens)
{
    struct store *s = open_store();
    struct store_reader *r;
    struct store_user u;
    uint8_t sh[SECRET_HASH_LEN], th[SECRET_HASH_LEN];
    char err[128];
    int64_t op, org = 0, other = 0, id = 0, sid = 0, found = 0, disabled = 0;

    CHECK(s);
    op = add_operator(s);
    CHECK_INT(add_org(s, op, "borgo", "Borgo", &org), ==, 0);
    CHECK_INT(add_org(s, op, "altro", "Altro", &other), ==, 0);
    CHECK_INT(
        store_staff_add(s, op, org, "b@borgo.it", STORE_ROLE_STAFF, PW, false, NULL, NULL, &id), ==,
        0);
    secret_sha256("session", 7, sh);
    secret_sha256("token", 5, th);
    CHECK_INT(store_session_add(s, id, sh, clock_now_ms() + 60000, NULL, NULL, &sid), ==, 0);
    CHECK_INT(store_token_add(s, id, "t", th, NULL, NULL, NULL), ==, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_session_find(r, sh, clock_now_ms(), 60000, &u, &found, NULL), ==, 0);
    CHECK_INT(found, ==, sid);
    CHECK_INT(u.id, ==, id);
    /* Expired and idle sessions are not found. */
    CHECK_INT(store_session_find(r, sh, clock_now_ms() + 120000, 600000, &u, NULL, NULL), ==,
              -ENOENT);
    CHECK_INT(store_session_find(r, sh, clock_now_ms() + 30000, 1000, &u, NULL, NULL), ==, -ENOENT);
    /* Another org cannot disable this account. */
    CHECK_INT(store_user_disable(s, op, other, id, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_user_disable(s, op, org, id, NULL, NULL), ==, 0);
    CHECK_INT(store_user_disable(s, op, org, id, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_session_find(r, sh, clock_now_ms(), 60000, &u, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_token_find(r, th, &u, NULL), ==, -ENOENT);
    CHECK_INT(store_user_by_email(r, "b@borgo.it", &u, NULL, 0), ==, -ENOENT);
    CHECK_INT(store_user_get(r, id, &u, &disabled), ==, 0);
    CHECK(disabled > 0);
    CHECK_INT(store_session_add(s, id, th, clock_now_ms() + 60000, NULL, NULL, NULL), ==, -ENOENT);
    store_reader_close(r);
    store_close(s);
}

TEST(set_password_keeps_only_the_current_session)
{
    struct store *s = open_store();
    struct store_reader *r;
    struct store_user u;
    uint8_t a[SECRET_HASH_LEN], b[SECRET_HASH_LEN];
    char err[128], hash[160];
    int64_t op, org = 0, id = 0, sa = 0, sb = 0;

    CHECK(s);
    op = add_operator(s);
    CHECK_INT(add_org(s, op, "borgo", "Borgo", &org), ==, 0);
    CHECK_INT(
        store_staff_add(s, op, org, "c@borgo.it", STORE_ROLE_STAFF, PW, true, NULL, NULL, &id), ==,
        0);
    secret_sha256("a", 1, a);
    secret_sha256("b", 1, b);
    CHECK_INT(store_session_add(s, id, a, clock_now_ms() + 60000, NULL, NULL, &sa), ==, 0);
    CHECK_INT(store_session_add(s, id, b, clock_now_ms() + 60000, NULL, NULL, &sb), ==, 0);
    CHECK_INT(store_user_set_password(s, id, PW2, sa, NULL, NULL), ==, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_session_find(r, a, clock_now_ms(), 60000, &u, NULL, NULL), ==, 0);
    CHECK_INT(store_session_find(r, b, clock_now_ms(), 60000, &u, NULL, NULL), ==, -ENOENT);
    CHECK_INT(store_user_by_email(r, "c@borgo.it", &u, hash, sizeof(hash)), ==, 0);
    CHECK_STR(hash, PW2);
    CHECK(!u.must_change_password);
    store_reader_close(r);
    CHECK_INT(store_session_end(s, sa, NULL, NULL), ==, 0);
    CHECK_INT(store_session_end(s, sa, NULL, NULL), ==, -ENOENT);
    store_close(s);
}

struct audit_seen {
    int n;
    int64_t ids[16];
    char actions[16][32];
    char actor[16][64];
};

static void audit_each(void *ctx, const struct store_audit_entry *e)
{
    struct audit_seen *a = ctx;

    if (a->n >= 16)
        return;
    a->ids[a->n] = e->id;
    snprintf(a->actions[a->n], sizeof(a->actions[0]), "%s", e->action);
    snprintf(a->actor[a->n], sizeof(a->actor[0]), "%s", e->actor_email);
    a->n++;
}

TEST(audit_is_newest_first_and_paginated)
{
    struct store *s = open_store();
    struct store_org_fields f = { .set = STORE_ORG_F_NAME, .name = "Nuovo" };
    struct store_reader *r;
    struct audit_seen a = { 0 }, b = { 0 };
    char err[128];
    int64_t op, org = 0, other = 0, id = 0;

    CHECK(s);
    op = add_operator(s);
    CHECK_INT(add_org(s, op, "borgo", "Borgo", &org), ==, 0);
    CHECK_INT(add_org(s, op, "altro", "Altro", &other), ==, 0);
    CHECK_INT(
        store_staff_add(s, op, org, "d@borgo.it", STORE_ROLE_STAFF, PW, true, NULL, NULL, &id), ==,
        0);
    CHECK_INT(store_org_update(s, op, org, &f, NULL, NULL), ==, 0);
    CHECK_INT(store_user_disable(s, op, org, id, NULL, NULL), ==, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_audit_list(r, org, 0, 10, audit_each, &a), ==, 0);
    CHECK_INT(a.n, ==, 4);
    CHECK_STR(a.actions[0], "staff.disable");
    CHECK_STR(a.actions[1], "org.update");
    CHECK_STR(a.actions[2], "staff.add");
    CHECK_STR(a.actions[3], "org.create");
    CHECK_STR(a.actor[0], "root@localhost");
    CHECK(a.ids[0] > a.ids[1] && a.ids[1] > a.ids[2]);
    CHECK_INT(store_audit_list(r, org, a.ids[1], 2, audit_each, &b), ==, 0);
    CHECK_INT(b.n, ==, 2);
    CHECK_STR(b.actions[0], "staff.add");
    CHECK_STR(b.actions[1], "org.create");
    memset(&b, 0, sizeof(b));
    CHECK_INT(store_audit_list(r, other, 0, 10, audit_each, &b), ==, 0);
    CHECK_INT(b.n, ==, 1); /* only its own creation */
    store_reader_close(r);
    store_close(s);
}

TEST(audit_filters_by_action_actor_and_time)
{
    struct store *s = open_store();
    struct store_org_fields f = { .set = STORE_ORG_F_NAME, .name = "Nuovo" };
    struct store_audit_filter by_action = { .action = "staff.add" };
    struct store_audit_filter by_actor = { 0 };
    struct store_audit_filter future = { .from_ms = clock_now_ms() + 3600000 };
    struct store_audit_filter past = { .to_ms = 1 };
    struct store_reader *r;
    struct audit_seen a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 }, e = { 0 };
    char err[128];
    int64_t op, org = 0, id = 0;

    CHECK(s);
    op = add_operator(s);
    CHECK_INT(add_org(s, op, "borgo", "Borgo", &org), ==, 0);
    CHECK_INT(
        store_staff_add(s, op, org, "e@borgo.it", STORE_ROLE_ORG_ADMIN, PW, true, NULL, NULL, &id),
        ==, 0);
    CHECK_INT(store_org_update(s, id, org, &f, NULL, NULL), ==, 0);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_audit_find(r, org, 0, 10, &by_action, audit_each, &a), ==, 0);
    CHECK_INT(a.n, ==, 1);
    CHECK_STR(a.actions[0], "staff.add");
    by_actor.user_id = id;
    CHECK_INT(store_audit_find(r, org, 0, 10, &by_actor, audit_each, &b), ==, 0);
    CHECK_INT(b.n, ==, 1);
    CHECK_STR(b.actions[0], "org.update");
    CHECK_STR(b.actor[0], "e@borgo.it");
    CHECK_INT(store_audit_find(r, org, 0, 10, &future, audit_each, &c), ==, 0);
    CHECK_INT(c.n, ==, 0);
    CHECK_INT(store_audit_find(r, org, 0, 10, &past, audit_each, &d), ==, 0);
    CHECK_INT(d.n, ==, 0);
    /* The same filters again on the cached statement: no binding is left over. */
    CHECK_INT(store_audit_list(r, org, 0, 10, audit_each, &e), ==, 0);
    CHECK_INT(e.n, ==, 3);
    store_reader_close(r);
    store_close(s);
}

TEST(slug_and_timezone_validation)
{
    CHECK(store_org_slug_valid("comune-di-roma"));
    CHECK(store_org_slug_valid("a1"));
    CHECK(!store_org_slug_valid("a"));
    CHECK(!store_org_slug_valid("Roma"));
    CHECK(!store_org_slug_valid("roma_capitale"));
    CHECK(!store_org_slug_valid("città"));
    CHECK(store_org_tz_valid("Europe/Rome"));
    CHECK(store_org_tz_valid("UTC"));
    CHECK(!store_org_tz_valid("../etc/passwd"));
    CHECK(!store_org_tz_valid("/etc/passwd"));
    CHECK(!store_org_tz_valid("Europe/Rome "));
    CHECK(!store_org_tz_valid(""));
}
