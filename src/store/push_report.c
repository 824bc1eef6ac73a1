/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push for citizen reports (migration 015_report_push.sql): when staff change a report's
 * status or add a public note, its followers (the reporter, "Anche io", merged duplicates'
 * followers) are told on every push subscription they have. The hook runs inside the report's
 * own write, so a notification exists exactly for changes that were committed. Who follows
 * stays here: the campaign row holds the payload, the queue rows subscriptions only.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/push.h"
#include "store/shared_int.h"
#include "store/store_int.h"

/* The campaign key of report `id` (015: posts > 0, alerts -id, reports below -2^40). */
int64_t store__push_report_key(int64_t report_id)
{
    return -STORE_PUSH_REPORT_BASE - report_id;
}

/* Status and close reason as the citizen reads them, in Italian and English. */
static const struct {
    const char *code, *it, *en;
} words[] = {
    { "nuova", "Ricevuta", "Received" },
    { "presa_in_carico", "Presa in carico", "Acknowledged" },
    { "in_lavorazione", "In lavorazione", "In progress" },
    { "risolta", "Risolta", "Resolved" },
    { "chiusa", "Chiusa", "Closed" },
    { "non_di_competenza", "non di competenza del Comune", "not the Comune's responsibility" },
    { "duplicato", "già segnalata", "already reported" },
    { "non_riproducibile", "problema non riscontrato", "problem not found" },
    { "inoltrata", "inoltrata a un altro ente", "forwarded to another body" },
};

static const char *word(const char *code, bool en)
{
    for (size_t i = 0; code && i < sizeof(words) / sizeof(words[0]); i++) {
        if (!strcmp(words[i].code, code))
            return en ? words[i].en : words[i].it;
    }
    return "";
}

/* "Chiusa: inoltrata a Acque SpA" / "Presa in carico", then the public note's first line. */
static void body_of(bool en, const char *status, const char *reason, const char *forwarded,
                    const char *note, char *out, size_t outlen)
{
    char line[PUSH_TITLE_MAX * 4 + 8];
    size_t n;

    if (forwarded && *forwarded && reason && !strcmp(reason, "inoltrata")) {
        n = (size_t)snprintf(out, outlen, "%s: %s %s", word(status, en),
                             en ? "forwarded to" : "inoltrata a", forwarded);
    } else if (reason && *reason) {
        n = (size_t)snprintf(out, outlen, "%s: %s", word(status, en), word(reason, en));
    } else {
        n = (size_t)snprintf(out, outlen, "%s", word(status, en));
    }
    store__push_title(note ? note : "", line, sizeof(line));
    if (*line && n + 3 < outlen)
        snprintf(out + n, outlen - n, " — %s", line);
}

/* Columns: 0 org slug, 1 service name, 2 status, 3 close_reason, 4 status_notes, 5 forwarded_to */
static char *payload_of(int64_t id, struct db_stmt *st)
{
    const char *col[6];
    char ids[24], url[64], tag[40], title[2][560], body[2][1400];
    json_t *v;
    char *s;

    for (int i = 0; i < 6; i++)
        col[i] = db_col_text(st, i);
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    snprintf(url, sizeof(url), "/#/segnalazioni?report=%lld", (long long)id);
    snprintf(tag, sizeof(tag), "report-%lld", (long long)id);
    for (int en = 0; en < 2; en++) {
        char name[PUSH_TITLE_MAX * 4 + 8];

        store__push_title(col[1] ? col[1] : "", name, sizeof(name));
        snprintf(title[en], sizeof(title[en]), "%s %lld: %s", en ? "Report" : "Segnalazione",
                 (long long)id, name);
        body_of(en, col[2], col[3], col[5], col[4], body[en], sizeof(body[en]));
    }
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "report", "report",
                  ids, "org", col[0] ? col[0] : "", "status", col[2] ? col[2] : "", "title",
                  title[0], "body", body[0], "title_en", title[1], "body_en", body[1], "url", url,
                  "tag", tag);
    s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (s && strlen(s) > PUSH_PAYLOAD_MAX) {
        free(s); /* cannot happen within the title limits; guard anyway */
        s = NULL;
    }
    return s;
}

/* Run `sql` with its `n` integer parameters `v`. */
static int step_ints(struct store_tx *tx, const char *sql, int n, const int64_t *v,
                     const char *what)
{
    struct db_stmt *st = db_stmt(tx->db, sql);

    for (int i = 0; st && i < n; i++)
        db_bind_i64(st, i + 1, v[i]);
    return store__step_done(tx->db, st, what);
}

static int campaign(struct store_tx *tx, int64_t id, const char *payload)
{
    /* A new change is a new notification: its TTL counts from now (created_ms). */
    static const char up[] =
        "INSERT INTO push_campaigns (post_id, report_id, payload, topic, urgency, created_ms,"
        " updated_ms) VALUES (?1, ?2, ?3, ?4, 'normal', ?5, ?5) ON CONFLICT (post_id) DO UPDATE"
        " SET payload = excluded.payload, created_ms = excluded.created_ms,"
        " updated_ms = excluded.updated_ms";
    static const char resend[] =
        "UPDATE push_queue SET resend = 1 WHERE post_id = ?1 AND leased = 1";
    static const char fill[] =
        "INSERT INTO push_queue (post_id, subscription_id, due_ms)"
        " SELECT ?1, s.id, ?3 FROM report_followers f JOIN push_subscriptions s"
        " ON s.follower_id = f.follower_id WHERE f.report_id = ?2 ON CONFLICT DO NOTHING";
    static const char count[] = "UPDATE push_campaigns SET total = total + ?2 WHERE post_id = ?1";
    int64_t key = store__push_report_key(id);
    char topic[PUSH_TOPIC_MAX + 1];
    struct db_stmt *st = db_stmt(tx->db, up);
    int err;

    snprintf(topic, sizeof(topic), "report-%lld", (long long)id);
    if (st) {
        db_bind_i64(st, 1, key);
        db_bind_i64(st, 2, id);
        db_bind_text(st, 3, payload);
        db_bind_text(st, 4, topic);
        db_bind_i64(st, 5, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "push_report_campaign");
    if (!err)
        err = step_ints(tx, resend, 1, &key, "push_report_resend");
    if (!err) {
        int64_t v[3] = { key, id, tx->now_ms };

        err = step_ints(tx, fill, 3, v, "push_report_fill");
    }
    if (!err) {
        int64_t v[2] = { key, db_changes(tx->db) };

        err = step_ints(tx, count, 2, v, "push_report_total");
    }
    return err;
}

int store__push_report(struct store_tx *tx, int64_t report_id)
{
    static const char sql[] =
        "SELECT o.slug, s.name, r.status, r.close_reason, r.status_notes, r.forwarded_to,"
        " EXISTS (SELECT 1 FROM report_followers f JOIN push_subscriptions p"
        " ON p.follower_id = f.follower_id WHERE f.report_id = r.id)"
        " FROM reports r JOIN orgs o ON o.id = r.org_id JOIN report_services s"
        " ON s.id = r.service_id WHERE r.id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char *payload = NULL;
    bool anyone = false;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, report_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        anyone = db_col_int(st, 6) != 0;
        payload = anyone ? payload_of(report_id, st) : NULL;
    }
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "push_report");
    /* Nobody to tell (filed by a third-party app, or no subscription): no campaign at all. */
    if (!anyone)
        return 0;
    rc = payload ? campaign(tx, report_id, payload) : -EIO;
    free(payload);
    return rc;
}
