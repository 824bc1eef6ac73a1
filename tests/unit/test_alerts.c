/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The alerts store: publication writes its events, references replace, approval, identity. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "harness.h"
#include "store/alerts.h"
#include "store/channels.h"
#include "store/events.h"
#include "store_fixture.h"

#define HOUR_MS (3600LL * 1000)

static const char doc[] = "{\"risk_name\":\"Vento\",\"areas\":[{\"code\":\"ZA\",\"name\":\"A\","
                          "\"geocodes\":[]}],\"info\":[{\"language\":\"it\",\"headline\":\"x\","
                          "\"description\":\"\",\"instruction\":\"\"}]}";

static struct store_alert_new alert(struct fixture *fx, const char *level)
{
    int64_t now = clock_now_ms();

    return (struct store_alert_new){
        .org_id = fx->org,
        .actor_id = fx->user,
        .id_prefix = "urn:test:",
        .sender = "prova.example.it",
        .status = "Actual",
        .msg_type = "Alert",
        .risk = "vento",
        .level = level,
        .phase = "attenzione",
        .onset_ms = now,
        .expires_ms = now + HOUR_MS,
        .doc_json = doc,
    };
}

struct count {
    unsigned n;
    char kind[32];
};

static void count_one(void *ctx, const struct store_event *ev)
{
    struct count *c = ctx;

    c->n++;
    snprintf(c->kind, sizeof(c->kind), "%s", ev->kind);
}

/* Events of kind "alert" channel `ch` has after seq `after`. */
static unsigned alert_events(struct fixture *fx, int64_t ch, int64_t after)
{
    struct count c = { 0, "" };
    int64_t last = 0;

    if (store_events_since(fx->r, ch, after, 1000, count_one, &c, &last))
        return 999;
    return c.n;
}

struct got {
    char identifier[256];
    char state[16];
    int64_t replaced_by;
};

static void got_one(void *ctx, const struct store_alert *a)
{
    struct got *g = ctx;

    snprintf(g->identifier, sizeof(g->identifier), "%s", a->identifier);
    snprintf(g->state, sizeof(g->state), "%s", a->state);
    g->replaced_by = a->replaced_by;
}

TEST(publish_writes_an_alert_event_on_every_channel_of_the_org_past_one_page)
{
    struct fixture fx;
    struct store_alert_new a;
    int64_t ids[70];
    int64_t id = 0;
    struct got g;

    CHECK_INT(fixture_setup(&fx, "alerts_pages"), ==, 0);
    /* 70 more channels: the events are written in pages of 64. */
    for (int i = 0; i < 70; i++) {
        char handle[32];
        struct store_channel_fields f = { .handle = handle,
                                          .name = "C",
                                          .category = "news",
                                          .language = "it",
                                          .has_listed = true,
                                          .listed = true };

        snprintf(handle, sizeof(handle), "canale-%d", i);
        CHECK_INT(store_channel_create(fx.s, fx.org, fx.user, &f, NULL, NULL, &ids[i]), ==, 0);
    }
    a = alert(&fx, "giallo");
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, &id), ==, 0);
    CHECK_INT((int)alert_events(&fx, fx.channel, 0), ==, 1);
    for (int i = 0; i < 70; i++)
        CHECK_INT((int)alert_events(&fx, ids[i], 0), ==, 1);
    CHECK_INT(store_alert_get(fx.r, id, got_one, &g), ==, 0);
    CHECK(!strncmp(g.identifier, "urn:test:", 9) && strtoll(g.identifier + 9, NULL, 10) == id);
    fixture_teardown(&fx);
}

TEST(test_alerts_write_no_event_and_pending_ones_wait)
{
    struct fixture fx;
    struct store_alert_new a;
    int64_t id = 0, op2 = 0;

    CHECK_INT(fixture_setup(&fx, "alerts_pending"), ==, 0);
    a = alert(&fx, "giallo");
    a.status = "Test";
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, &id), ==, 0);
    CHECK_INT((int)alert_events(&fx, fx.channel, 0), ==, 0);
    a = alert(&fx, "rosso");
    a.pending = true;
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, &id), ==, 0);
    CHECK_INT((int)alert_events(&fx, fx.channel, 0), ==, 0);
    /* Its author cannot approve it; someone else can, once. */
    CHECK_INT(store_alert_approve(fx.s, fx.user, fx.org, id, NULL, NULL), ==, -EPERM);
    CHECK_INT(store_user_add(fx.s, "op2@localhost", STORE_ROLE_OPERATOR, FIXTURE_PW, false, NULL,
                             NULL, &op2),
              ==, 0);
    CHECK_INT(store_alert_approve(fx.s, op2, fx.org, id, NULL, NULL), ==, 0);
    CHECK_INT((int)alert_events(&fx, fx.channel, 0), ==, 1);
    CHECK_INT(store_alert_approve(fx.s, op2, fx.org, id, NULL, NULL), ==, -EALREADY);
    CHECK_INT(store_alert_withdraw(fx.s, op2, fx.org, id, NULL, NULL), ==, -EALREADY);
    CHECK_INT(store_alert_approve(fx.s, op2, fx.org + 1, id, NULL, NULL), ==, -ENOENT);
    fixture_teardown(&fx);
}

TEST(an_update_replaces_once_and_a_reference_must_be_current)
{
    struct fixture fx;
    struct store_alert_new a;
    int64_t first = 0, up = 0, again = 0;
    struct got g;

    CHECK_INT(fixture_setup(&fx, "alerts_refs"), ==, 0);
    a = alert(&fx, "arancione");
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, &first), ==, 0);
    a = alert(&fx, "rosso");
    a.msg_type = "Update";
    a.refs = &first;
    a.n_refs = 1;
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, &up), ==, 0);
    CHECK_INT(store_alert_get(fx.r, first, got_one, &g), ==, 0);
    CHECK(g.replaced_by == up);
    /* Replaced already: a local alert may not name it again (nothing is written). */
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, &again), ==, -ENOENT);
    CHECK_INT((int)alert_events(&fx, fx.channel, 0), ==, 2);
    /* An import skips what it does not know. */
    a.imported = true;
    a.identifier = "ext-1";
    a.sender = "cfr@regione.example.it";
    a.sent_ms = 1700000000000LL;
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, &again), ==, 0);
    /* CAP identity: the same (sender, identifier, sent) twice is -EEXIST. */
    CHECK_INT(store_alert_add(fx.s, &a, NULL, NULL, NULL), ==, -EEXIST);
    fixture_teardown(&fx);
}
