/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "store_fixture.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "harness.h"
#include "store/channels.h"
#include "store/orgs.h"
#include "store/posts.h"
#include "test_db.h"

int fixture_setup(struct fixture *fx, const char *name)
{
    struct store_opts o = { 0 };
    struct store_org_fields of = { .set = STORE_ORG_F_NAME, .name = "Comune di Prova" };
    struct store_channel_fields cf = { .handle = "notizie",
                                       .name = "Notizie",
                                       .category = "news",
                                       .language = "it",
                                       .has_listed = true,
                                       .listed = true };
    char err[256] = "";

    clock_set_offset_ms(0);
    snprintf(fx->dir, sizeof(fx->dir), "%s/%s", harness_tmpdir(), name);
    o.data_dir = fx->dir;
    o.database_url = test_database_url(fx->dir);
    fx->s = store_open(&o, err, sizeof(err));
    if (!fx->s) {
        fprintf(stderr, "  store_open: %s\n", err);
        return -1;
    }
    if (store_user_add(fx->s, "root@localhost", STORE_ROLE_OPERATOR, FIXTURE_PW, false, NULL, NULL,
                       &fx->user) ||
        store_org_add(fx->s, fx->user, "prova", &of, NULL, NULL, &fx->org) ||
        store_channel_create(fx->s, fx->org, fx->user, &cf, NULL, NULL, &fx->channel))
        return -1;
    fx->r = store_reader_open(fx->s, err, sizeof(err));
    return fx->r ? 0 : -1;
}

void fixture_teardown(struct fixture *fx)
{
    clock_set_offset_ms(0);
    store_reader_close(fx->r);
    store_close(fx->s);
}

int64_t fixture_post(struct fixture *fx, const char *text, int64_t publish_at_ms)
{
    struct store_post_fields f = { .text = text, .publish_at_ms = publish_at_ms };
    int64_t id = 0;

    if (store_post_create(fx->s, fx->channel, fx->user, &f, NULL, NULL, &id))
        return 0;
    return id;
}

int fixture_follower(struct fixture *fx, int i, uint8_t h[SECRET_HASH_LEN])
{
    char t[32];

    snprintf(t, sizeof(t), "follower_%d", i);
    secret_sha256(t, strlen(t), h);
    if (store_follower_add(fx->s, h, NULL, NULL, NULL))
        return -1;
    return store_follow(fx->s, h, fx->channel, NULL, NULL, NULL);
}
