/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store/reports.h: the default catalogue for orgs that existed before the reports migration
 * and for new ones, the workflow's transitions, merging, reopening within 14 days, the
 * duplicate search radius, and retention erasing contact data only of long-closed reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "harness.h"
#include "store/migrations.h"
#include "store/reports.h"
#include "store/store.h"
#include "store_fixture.h"
#include "test_db.h"

__attribute__((constructor)) static void quiet(void)
{
    log_max_level = LOG_WARN;
}

static void count_one(void *ctx, const struct store_service *s)
{
    (void)s;
    (*(int *)ctx)++;
}

TEST(orgs_that_existed_before_the_migration_get_the_default_catalogue)
{
    const struct store_migration *m = test_on_pg() ? store_pg_migrations : store_migrations;
    unsigned count = test_on_pg() ? store_pg_migration_count : store_migration_count;
    char dir[512], err[256] = "";
    struct store_opts o = { 0 };
    struct store_reader *r;
    struct store_report_settings set;
    struct store *s;
    unsigned reports = 0;
    int n = 0;

    /* A database as it was before citizen reports: every migration up to the one before. */
    for (unsigned i = 0; i < count; i++) {
        if (strstr(m[i].name, "_reports"))
            reports = i;
    }
    CHECK(reports > 0);
    snprintf(dir, sizeof(dir), "%s/old", harness_tmpdir());
    CHECK_INT(mkdir(dir, 0700), ==, 0);
    CHECK_INT(test_db_exec(dir, "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, "
                                "name text NOT NULL, applied_ms bigint NOT NULL)"),
              ==, 0);
    for (unsigned i = 0; i < reports; i++) {
        char row[200];

        CHECK_INT(test_db_exec(dir, m[i].sql), ==, 0);
        snprintf(row, sizeof(row), "INSERT INTO schema_migrations VALUES (%d, '%s', 0)",
                 m[i].version, m[i].name);
        CHECK_INT(test_db_exec(dir, row), ==, 0);
    }
    CHECK_INT(test_db_exec(dir, "INSERT INTO orgs (slug, name, created_ms) VALUES ('vecchio', "
                                "'Comune Vecchio', 1)"),
              ==, 0);

    o.data_dir = dir;
    o.database_url = test_database_url(dir);
    s = store_open(&o, err, sizeof(err));
    CHECK(s);
    r = store_reader_open(s, err, sizeof(err));
    CHECK(r);
    CHECK_INT(store_services_list(r, 1, false, count_one, &n), ==, 0);
    CHECK_INT(n, >=, 15);
    CHECK_INT(store_report_settings_get(r, 1, &set), ==, 0);
    CHECK(set.photos_moderated);
    CHECK_INT(set.retention_days, ==, 365);
    store_reader_close(r);
    store_close(s);
}

/* A report of service `code` at (lat, lon) with an e-mail; its id. */
static int64_t file(struct fixture *fx, const char *code, double lat, double lon, int tok)
{
    struct store_report_new n = { 0 };
    char t[32];
    int64_t id = 0;

    n.org_id = fx->org;
    n.service_code = code;
    n.description = "Prova";
    n.has_pos = true;
    n.lat = lat;
    n.lon = lon;
    n.attributes_json = "{}";
    n.email = "reporter@example.it";
    snprintf(t, sizeof(t), "report_%d", tok);
    secret_sha256(t, strlen(t), n.token_hash);
    return store_report_add(fx->s, &n, NULL, NULL, &id) == 0 ? id : 0;
}

static int change(struct fixture *fx, int64_t id, const char *status, const char *reason)
{
    struct store_report_change c = { .set = STORE_RS_STATUS,
                                     .status = status,
                                     .close_reason = reason };

    return store_report_update(fx->s, fx->user, fx->org, id, &c, NULL, NULL);
}

struct got {
    char status[32];
    int64_t duplicate_of;
    int followers;
    int n;
};

static void got_one(void *ctx, const struct store_report *p)
{
    struct got *g = ctx;

    snprintf(g->status, sizeof(g->status), "%s", p->status);
    g->duplicate_of = p->duplicate_of;
    g->followers = p->followers;
    g->n++;
}

TEST(workflow_moves_forward_and_a_closed_report_stays_closed)
{
    struct fixture fx;
    struct got g = { 0 };
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "workflow"), ==, 0);
    id = file(&fx, "strade-buche", 43.77, 11.25, 1);
    CHECK(id > 0);
    CHECK_INT(file(&fx, "non-esiste", 43.77, 11.25, 2), ==, 0);
    CHECK_INT(change(&fx, id, "in_lavorazione", NULL), ==, 0);
    CHECK_INT(change(&fx, id, "presa_in_carico", NULL), ==, -EPERM);
    CHECK_INT(change(&fx, id, "risolta", NULL), ==, 0);
    CHECK_INT(change(&fx, id, "in_lavorazione", NULL), ==, 0);
    CHECK_INT(change(&fx, id, "chiusa", "non_riproducibile"), ==, 0);
    CHECK_INT(change(&fx, id, "in_lavorazione", NULL), ==, -EPERM);
    CHECK_INT(change(&fx, id, "chiusa", "boh"), ==, -EINVAL);
    CHECK_INT(change(&fx, 999999, "risolta", NULL), ==, -ENOENT);
    CHECK_INT(store_report_get(fx.r, fx.org, id, got_one, &g), ==, 0);
    CHECK_STR(g.status, "chiusa");
    fixture_teardown(&fx);
}

TEST(merge_closes_the_duplicate_and_moves_its_followers)
{
    struct store_report_change c = { .set = STORE_RS_MERGE };
    struct fixture fx;
    uint8_t h[SECRET_HASH_LEN];
    struct got g = { 0 };
    int64_t a, b;

    CHECK_INT(fixture_setup(&fx, "merge"), ==, 0);
    a = file(&fx, "strade-buche", 43.77, 11.25, 1);
    b = file(&fx, "strade-buche", 43.77, 11.25, 2);
    CHECK_INT(fixture_follower(&fx, 1, h), ==, 0);
    CHECK_INT(store_report_follow(fx.s, h, b, NULL, NULL), ==, 0);
    c.merge_into = a;
    CHECK_INT(store_report_update(fx.s, fx.user, fx.org, b, &c, NULL, NULL), ==, 0);
    CHECK_INT(store_report_get(fx.r, fx.org, b, got_one, &g), ==, 0);
    CHECK_STR(g.status, "chiusa");
    CHECK_INT(g.duplicate_of, ==, a);
    CHECK_INT(store_report_get(fx.r, fx.org, a, got_one, &g), ==, 0);
    CHECK_INT(g.followers, ==, 1);
    c.merge_into = 999999;
    CHECK_INT(store_report_update(fx.s, fx.user, fx.org, a, &c, NULL, NULL), ==, -ENOENT);
    fixture_teardown(&fx);
}

TEST(reopen_only_within_14_days_of_risolta)
{
    struct fixture fx;
    uint8_t h[SECRET_HASH_LEN];
    struct got g = { 0 };
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "reopen"), ==, 0);
    id = file(&fx, "altro", 43.77, 11.25, 7);
    secret_sha256("report_7", 8, h);
    CHECK_INT(store_report_reopen(fx.s, h, "Non è risolto", NULL, NULL), ==, -EPERM);
    CHECK_INT(change(&fx, id, "risolta", NULL), ==, 0);
    clock_set_offset_ms(13LL * 86400 * 1000);
    CHECK_INT(store_report_reopen(fx.s, h, "Non è risolto", NULL, NULL), ==, 0);
    CHECK_INT(store_report_get(fx.r, fx.org, id, got_one, &g), ==, 0);
    CHECK_STR(g.status, "nuova");
    CHECK_INT(change(&fx, id, "risolta", NULL), ==, 0);
    clock_set_offset_ms(13LL * 86400 * 1000 + 15LL * 86400 * 1000);
    CHECK_INT(store_report_reopen(fx.s, h, "Non è risolto", NULL, NULL), ==, -EPERM);
    fixture_teardown(&fx);
}

TEST(nearby_is_within_the_radius_and_the_same_open_service)
{
    struct fixture fx;
    struct got g = { 0 };
    int64_t id;

    CHECK_INT(fixture_setup(&fx, "nearby"), ==, 0);
    id = file(&fx, "verde-albero", 45.0, 9.0, 1);
    /* 0.0008 degrees of latitude = 89 m; 0.0010 = 111 m */
    CHECK_INT(
        store_reports_nearby(fx.r, fx.org, "verde-albero", 45.0008, 9.0, 100, 10, got_one, &g), ==,
        0);
    CHECK_INT(g.n, ==, 1);
    g.n = 0;
    CHECK_INT(
        store_reports_nearby(fx.r, fx.org, "verde-albero", 45.0010, 9.0, 100, 10, got_one, &g), ==,
        0);
    CHECK_INT(g.n, ==, 0);
    CHECK_INT(store_reports_nearby(fx.r, fx.org, "altro", 45.0, 9.0, 100, 10, got_one, &g), ==, 0);
    CHECK_INT(g.n, ==, 0);
    CHECK_INT(change(&fx, id, "risolta", NULL), ==, 0);
    CHECK_INT(store_reports_nearby(fx.r, fx.org, "verde-albero", 45.0, 9.0, 100, 10, got_one, &g),
              ==, 0);
    CHECK_INT(g.n, ==, 0);
    fixture_teardown(&fx);
}

TEST(retention_erases_contact_data_of_long_closed_reports_only)
{
    struct store_report_contact k;
    struct fixture fx;
    int64_t open_id, closed, erased = -1;

    CHECK_INT(fixture_setup(&fx, "retention"), ==, 0);
    open_id = file(&fx, "altro", 43.77, 11.25, 1);
    closed = file(&fx, "altro", 43.77, 11.25, 2);
    CHECK_INT(change(&fx, closed, "risolta", NULL), ==, 0);
    CHECK_INT(
        store_reports_erase_personal(fx.s, clock_now_ms() + 364LL * 86400 * 1000, 100, &erased), ==,
        0);
    CHECK_INT(erased, ==, 0);
    CHECK_INT(
        store_reports_erase_personal(fx.s, clock_now_ms() + 366LL * 86400 * 1000, 100, &erased), ==,
        0);
    CHECK_INT(erased, ==, 1);
    CHECK_INT(store_report_contact(fx.r, closed, &k), ==, 0);
    CHECK(!k.any);
    CHECK_INT(store_report_contact(fx.r, open_id, &k), ==, 0);
    CHECK(k.any);
    CHECK_STR(k.email, "reporter@example.it");
    fixture_teardown(&fx);
}
