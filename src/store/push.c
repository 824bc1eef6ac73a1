/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push in the store (store/push.h): subscriptions, per-channel opt-out, campaigns and the
 * send queue. The campaign hook (store__push_post) runs inside the post's own write, so a push
 * is queued exactly for the posts that went out, and dropped with the post.
 */
#include "store/push.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/posts.h"
#include "store/shared_int.h"
#include "store/store_int.h"

static void copy_col(char *dst, size_t dstlen, struct db_stmt *st, int col)
{
    const char *t = db_col_text(st, col);

    snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

/* ---- campaigns: the hook in the posts' writes ---- */

void store__push_title(const char *text, char *out, size_t outlen)
{
    size_t i = 0;
    size_t chars = 0;

    while (text[i] && text[i] != '\n' && text[i] != '\r' && i + 4 < outlen) {
        if (((unsigned char)text[i] & 0xC0) != 0x80) {
            if (chars == PUSH_TITLE_MAX)
                break;
            chars++;
        }
        i++;
    }
    memcpy(out, text, i);
    out[i] = '\0';
}

static int campaign_drop(struct store_tx *tx, int64_t post_id)
{
    static const char sql[] = "DELETE FROM push_campaigns WHERE post_id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);

    if (st)
        db_bind_i64(st, 1, post_id);
    return store__step_done(tx->db, st, "push_campaign_drop");
}

/* The payload (push/PUSH.md: never anything about the follower). NULL when it cannot be made. */
static char *payload_of(int64_t post_id, const char *handle, const char *name, const char *text)
{
    char title[PUSH_TITLE_MAX * 4 + 8];
    char id[24], url[96], tag[32];
    json_t *v;
    char *s;

    store__push_title(text, title, sizeof(title));
    snprintf(id, sizeof(id), "%lld", (long long)post_id);
    snprintf(url, sizeof(url), "/#/c/%s?post=%lld", handle, (long long)post_id);
    snprintf(tag, sizeof(tag), "post-%lld", (long long)post_id);
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "post", "channel", handle,
                  "channel_name", name, "title", title, "url", url, "post", id, "tag", tag);
    s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (s && strlen(s) > PUSH_PAYLOAD_MAX) {
        free(s); /* cannot happen within the channel and title limits; guard anyway */
        s = NULL;
    }
    return s;
}

static int campaign_upsert(struct store_tx *tx, int64_t post_id, int64_t channel_id,
                           const char *payload, bool edit)
{
    static const char up[] =
        "INSERT INTO push_campaigns (post_id, channel_id, payload, topic, urgency, created_ms,"
        " updated_ms) VALUES (?1, ?2, ?3, ?4, 'high', ?5, ?5) ON CONFLICT (post_id) DO UPDATE"
        " SET payload = excluded.payload, updated_ms = excluded.updated_ms";
    /* In flight with the old payload: send again once the old one is acknowledged. */
    static const char resend[] =
        "UPDATE push_queue SET resend = 1 WHERE post_id = ?1 AND leased = 1";
    /* Every subscription of every follower with push on for the channel; existing rows stay. */
    static const char fill[] = "INSERT INTO push_queue (post_id, subscription_id, due_ms)"
                               " SELECT ?1, s.id, ?3 FROM follows f JOIN push_subscriptions s"
                               " ON s.follower_id = f.follower_id WHERE f.channel_id = ?2 AND "
                               "f.muted = 0 AND f.push = 1 ON CONFLICT DO NOTHING";
    static const char count[] = "UPDATE push_campaigns SET total = total + ?2 WHERE post_id = ?1";
    char topic[PUSH_TOPIC_MAX + 1];
    struct db_stmt *st = db_stmt(tx->db, up);
    int added;
    int err;

    /* Topic (RFC 8030 5.4): base64url characters only; the push service replaces by it. */
    snprintf(topic, sizeof(topic), "post-%lld", (long long)post_id);
    if (st) {
        db_bind_i64(st, 1, post_id);
        db_bind_i64(st, 2, channel_id);
        db_bind_text(st, 3, payload);
        db_bind_text(st, 4, topic);
        db_bind_i64(st, 5, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "push_campaign");
    if (!err && edit) {
        st = db_stmt(tx->db, resend);
        if (st)
            db_bind_i64(st, 1, post_id);
        err = store__step_done(tx->db, st, "push_resend");
    }
    if (err)
        return err;
    st = db_stmt(tx->db, fill);
    if (st) {
        db_bind_i64(st, 1, post_id);
        db_bind_i64(st, 2, channel_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "push_fill");
    if (err)
        return err;
    added = db_changes(tx->db);
    st = db_stmt(tx->db, count);
    if (st) {
        db_bind_i64(st, 1, post_id);
        db_bind_i64(st, 2, added);
    }
    return store__step_done(tx->db, st, "push_total");
}

int store__push_post(struct store_tx *tx, int64_t post_id, bool edit)
{
    static const char sql[] =
        "SELECT p.channel_id, p.importance, p.state, p.published_ms, p.text, c.handle, c.name"
        " FROM posts p JOIN channels c ON c.id = p.channel_id WHERE p.id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    char handle[40];
    char name[512];
    char *text = NULL;
    char *payload = NULL;
    int64_t channel_id = 0, published_ms = 0;
    int importance = 0, state = 0;
    int rc;
    int err;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, post_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        channel_id = db_col_i64(st, 0);
        importance = db_col_int(st, 1);
        state = db_col_int(st, 2);
        published_ms = db_col_i64(st, 3);
        text = xstrdup(db_col_text(st, 4));
        copy_col(handle, sizeof(handle), st, 5);
        copy_col(name, sizeof(name), st, 6);
    }
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "push_post");
    err = 0;
    /* Scheduled posts push when the scheduler publishes them; late edits push nothing. */
    if (state != 1 || (edit && tx->now_ms - published_ms > PUSH_REPLACE_WINDOW_MS))
        goto out;
    if (importance != STORE_IMPORTANT) {
        err = edit ? campaign_drop(tx, post_id) : 0; /* no longer important: pending dropped */
        goto out;
    }
    payload = payload_of(post_id, handle, name, text);
    err = payload ? campaign_upsert(tx, post_id, channel_id, payload, edit) : -EIO;
out:
    free(text);
    free(payload);
    return err;
}

/* ---- campaigns: the hook in the alerts' writes ---- */

static const char *str_or(const char *s)
{
    return s ? s : "0";
}

/* The headline of `info`'s entry in language `lang` ("it", "en"; also "it-IT"), or NULL. */
static const char *headline_in(json_t *info, const char *lang)
{
    size_t n = strlen(lang);
    size_t i;
    json_t *it;

    json_array_foreach(info, i, it)
    {
        const char *l = json_string_value(json_object_get(it, "language"));

        if (l && !strncmp(l, lang, n) && (l[n] == '\0' || l[n] == '-'))
            return json_string_value(json_object_get(it, "headline"));
    }
    return NULL;
}

/*
 * The alert's payload: what, where, how grave, until when; never anything about the follower.
 * Zone names are dropped from the end (`zones_more` counts them) until it fits one record.
 */
static char *alert_payload_of(json_t *a, const char *tag)
{
    json_t *info = json_object_get(a, "info");
    const char *it = headline_in(info, "it");
    const char *en = headline_in(info, "en");
    char it_s[PUSH_TITLE_MAX * 4 + 8], en_s[PUSH_TITLE_MAX * 4 + 8];
    char url[96];
    json_t *zones = json_array();
    json_t *areas = json_object_get(a, "areas");
    json_t *v, *z;
    size_t i, more = 0;
    char *s = NULL;

    store__push_title(it ? it : "", it_s, sizeof(it_s));
    store__push_title(en ? en : "", en_s, sizeof(en_s));
    snprintf(url, sizeof(url), "/allerta/%s", json_string_value(json_object_get(a, "org")));
    json_array_foreach(areas, i, z) json_array_append(zones, json_object_get(z, "name"));
    v = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:s, s:O, s:s, s:s}", "kind",
                  "alert", "alert", json_object_get(a, "id"), "org", json_object_get(a, "org"),
                  "msg_type", json_object_get(a, "msg_type"), "level", json_object_get(a, "level"),
                  "phase", json_object_get(a, "phase"), "risk", json_object_get(a, "risk"),
                  "risk_name", json_object_get(a, "risk_name"), "expires",
                  json_object_get(a, "expires"), "zones", zones, "headline", it_s, "onset",
                  json_object_get(a, "onset"), "url", url, "tag", tag);
    if (v && en)
        json_object_set_new(v, "headline_en", json_string(en_s));
    while (v) {
        s = json_dumps(v, JSON_COMPACT);
        if (!s || strlen(s) <= PUSH_PAYLOAD_MAX || json_array_size(zones) == 0)
            break;
        free(s);
        s = NULL;
        json_array_remove(zones, json_array_size(zones) - 1);
        json_object_set_new(v, "zones_more", json_integer((json_int_t)++more));
    }
    json_decref(v);
    if (s && strlen(s) > PUSH_PAYLOAD_MAX) {
        free(s); /* cannot happen within the headline limits; guard anyway */
        s = NULL;
    }
    return s;
}

/*
 * The Topic and tag of alert `id`: an Update or Cancel takes its first reference's, so the
 * push service and the device replace the earlier notification; else "alert-<id>".
 */
static int alert_topic(struct store_tx *tx, int64_t id, json_t *refs, char *out, size_t outlen)
{
    static const char sql[] = "SELECT topic FROM push_campaigns WHERE post_id = ?1";
    int64_t ref = 0;
    struct db_stmt *st;
    int rc;

    if (json_array_size(refs) > 0)
        ref = strtoll(str_or(json_string_value(json_array_get(refs, 0))), NULL, 10);
    snprintf(out, outlen, "alert-%lld", (long long)(ref > 0 ? ref : id));
    if (ref <= 0)
        return 0;
    st = db_stmt(tx->db, sql);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, -ref);
    rc = db_step(st);
    if (rc == DB_ROW)
        copy_col(out, outlen, st, 0);
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : store__errno(tx->db, rc, "push_alert_topic");
}

/* Deliveries of the alerts that `refs` replaces, not yet handed to the sender: dropped. */
static int alert_drop_replaced(struct store_tx *tx, json_t *refs)
{
    static const char sql[] = "DELETE FROM push_queue WHERE post_id = ?1 AND leased = 0";
    size_t i;
    json_t *r;
    int err = 0;

    json_array_foreach(refs, i, r)
    {
        int64_t ref = strtoll(str_or(json_string_value(r)), NULL, 10);
        struct db_stmt *st;

        if (ref <= 0 || err)
            continue;
        st = db_stmt(tx->db, sql);
        if (st)
            db_bind_i64(st, 1, -ref);
        err = store__step_done(tx->db, st, "push_alert_replace");
    }
    return err;
}

/* The campaign row of alert `id` and one delivery per subscription of the org's followers. */
static int alert_campaign(struct store_tx *tx, int64_t id, int64_t org_id, const char *payload,
                          const char *topic, const char *urgency, int64_t expires_ms)
{
    static const char ins[] =
        "INSERT INTO push_campaigns (post_id, alert_id, payload, topic, urgency, expires_ms,"
        " created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
    /*
     * Every subscription of every follower of any channel of the org, muted or pushes off
     * for the channel: a civil-protection alert is not a post. One row per subscription
     * (DISTINCT and the queue's UNIQUE), however many of the org's channels it follows.
     */
    static const char fill[] =
        "INSERT INTO push_queue (post_id, subscription_id, due_ms)"
        " SELECT DISTINCT ?1, s.id, ?3 FROM push_subscriptions s WHERE s.follower_id IN"
        " (SELECT f.follower_id FROM follows f JOIN channels c ON c.id = f.channel_id"
        " WHERE c.org_id = ?2) ON CONFLICT DO NOTHING";
    static const char count[] = "UPDATE push_campaigns SET total = ?2 WHERE post_id = ?1";
    struct db_stmt *st = db_stmt(tx->db, ins);
    int err;

    if (st) {
        db_bind_i64(st, 1, -id);
        db_bind_i64(st, 2, id);
        db_bind_text(st, 3, payload);
        db_bind_text(st, 4, topic);
        db_bind_text(st, 5, urgency);
        db_bind_i64(st, 6, expires_ms);
        db_bind_i64(st, 7, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "push_alert_campaign");
    if (err)
        return err;
    st = db_stmt(tx->db, fill);
    if (st) {
        db_bind_i64(st, 1, -id);
        db_bind_i64(st, 2, org_id);
        db_bind_i64(st, 3, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "push_alert_fill");
    if (err)
        return err;
    st = db_stmt(tx->db, count);
    if (st) {
        db_bind_i64(st, 1, -id);
        db_bind_i64(st, 2, db_changes(tx->db));
    }
    return store__step_done(tx->db, st, "push_alert_total");
}

static int push_alert(struct store_tx *tx, int64_t alert_id, int64_t org_id, int64_t expires_ms,
                      const char *alert_json)
{
    json_t *a = json_loads(alert_json, 0, NULL);
    json_t *refs = json_object_get(a, "references");
    const char *status = json_string_value(json_object_get(a, "status"));
    const char *level = json_string_value(json_object_get(a, "level"));
    const char *type = json_string_value(json_object_get(a, "msg_type"));
    char topic[PUSH_TOPIC_MAX + 1];
    char *payload = NULL;
    bool high;
    int err;

    if (!a || !status || !level || !type) {
        json_decref(a);
        return -EIO;
    }
    /* Test alerts reach nobody; exercises are not the public's (docs/ALERTS.md, "Reach"). */
    if (strcmp(status, "Actual") != 0) {
        json_decref(a);
        return 0;
    }
    high = strcmp(type, "Cancel") != 0 && (!strcmp(level, "arancione") || !strcmp(level, "rosso"));
    err = alert_topic(tx, alert_id, refs, topic, sizeof(topic));
    if (!err)
        err = alert_drop_replaced(tx, refs);
    if (!err) {
        payload = alert_payload_of(a, topic);
        err = payload ? alert_campaign(tx, alert_id, org_id, payload, topic,
                                       high ? "high" : "normal", expires_ms)
                      : -EIO;
    }
    free(payload);
    json_decref(a);
    return err;
}

int store__push_alert(struct store_tx *tx, int64_t alert_id, const char *alert_json)
{
    static const char sql[] = "SELECT org_id, expires_ms FROM alerts WHERE id = ?1";
    struct db_stmt *st = db_stmt(tx->db, sql);
    int64_t org_id = 0, expires_ms = 0;
    int rc;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, alert_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        org_id = db_col_i64(st, 0);
        expires_ms = db_col_i64(st, 1);
    }
    db_reset(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? -ENOENT : store__errno(tx->db, rc, "push_alert");
    return push_alert(tx, alert_id, org_id, expires_ms, alert_json);
}

/* ---- subscriptions ---- */

struct sub_write {
    struct store_write w;
    uint8_t hash[SECRET_HASH_LEN];
    char *endpoint;
    char *origin;
    uint8_t p256dh[PUSH_KEY_LEN];
    uint8_t auth[PUSH_AUTH_LEN];
    unsigned max;
    int64_t channel_id;
    bool on;
};

static void sub_write_free(struct store_write *w)
{
    struct sub_write *s = container_of(w, struct sub_write, w);

    explicit_bzero(s->hash, sizeof(s->hash));
    explicit_bzero(s->auth, sizeof(s->auth));
    if (s->endpoint)
        explicit_bzero(s->endpoint, strlen(s->endpoint));
    free(s->endpoint);
    free(s->origin);
    free(s);
}

static struct sub_write *sub_write_new(const struct store_write_op *op,
                                       const uint8_t hash[SECRET_HASH_LEN])
{
    struct sub_write *s = xcalloc(1, sizeof(*s));

    s->w.op = op;
    memcpy(s->hash, hash, SECRET_HASH_LEN);
    return s;
}

static int sub_add_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char count[] =
        "SELECT count(*), coalesce(sum(CASE WHEN endpoint = ?2 THEN 1 ELSE 0 END), 0)"
        " FROM push_subscriptions WHERE follower_id = ?1";
    /*
     * An endpoint is one browser's: whoever presents it (it is a secret) takes it over, e.g. a
     * browser whose app data was cleared and that signed up again.
     */
    static const char up[] =
        "INSERT INTO push_subscriptions (follower_id, endpoint, origin, p256dh, auth, created_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (endpoint) DO UPDATE SET"
        " follower_id = excluded.follower_id, origin = excluded.origin,"
        " p256dh = excluded.p256dh, auth = excluded.auth";
    struct sub_write *s = container_of(w, struct sub_write, w);
    struct db_stmt *st;
    int64_t fid = 0, n = 0, mine = 0;
    int rc;
    int err = store__follower_id(tx, s->hash, &fid);

    if (err)
        return err;
    st = db_stmt(tx->db, count);
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, fid);
    db_bind_text(st, 2, s->endpoint);
    rc = db_step(st);
    if (rc == DB_ROW) {
        n = db_col_i64(st, 0);
        mine = db_col_i64(st, 1);
    }
    db_reset(st);
    if (rc != DB_ROW)
        return store__errno(tx->db, rc, "push_sub_count");
    if (!mine && n >= s->max)
        return -EDQUOT;
    st = db_stmt(tx->db, up);
    if (st) {
        db_bind_i64(st, 1, fid);
        db_bind_text(st, 2, s->endpoint);
        db_bind_text(st, 3, s->origin);
        db_bind_blob(st, 4, s->p256dh, PUSH_KEY_LEN);
        db_bind_blob(st, 5, s->auth, PUSH_AUTH_LEN);
        db_bind_i64(st, 6, tx->now_ms);
    }
    err = store__step_done(tx->db, st, "push_sub_add");
    *id = mine ? 0 : 1;
    return err;
}

static const struct store_write_op sub_add_op = { "push_sub_add", sub_add_apply, sub_write_free };

int store_push_sub_add(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                       const struct store_push_sub_new *sub, unsigned max, store_done_fn *done,
                       void *ctx)
{
    struct sub_write *w;
    size_t n = sub && sub->endpoint ? strlen(sub->endpoint) : 0;

    if (!hash || !sub || n < 9 || n > PUSH_ENDPOINT_MAX ||
        strncmp(sub->endpoint, "https://", 8) != 0 || !sub->origin || strlen(sub->origin) < 9 ||
        strlen(sub->origin) > PUSH_ORIGIN_MAX || sub->p256dh[0] != 0x04 || max < 1)
        return -EINVAL;
    w = sub_write_new(&sub_add_op, hash);
    w->endpoint = xstrdup(sub->endpoint);
    w->origin = xstrdup(sub->origin);
    memcpy(w->p256dh, sub->p256dh, PUSH_KEY_LEN);
    memcpy(w->auth, sub->auth, PUSH_AUTH_LEN);
    w->max = max;
    return store__submit(s, &w->w, done, ctx, NULL);
}

static int sub_delete_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] =
        "DELETE FROM push_subscriptions WHERE follower_id = ?1 AND endpoint = ?2";
    struct sub_write *s = container_of(w, struct sub_write, w);
    struct db_stmt *st;
    int64_t fid = 0;
    int err = store__follower_id(tx, s->hash, &fid);

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, fid);
        db_bind_text(st, 2, s->endpoint);
    }
    err = store__step_done(tx->db, st, "push_sub_delete");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    *id = 0;
    return err;
}

static const struct store_write_op sub_delete_op = { "push_sub_delete", sub_delete_apply,
                                                     sub_write_free };

int store_push_sub_delete(struct store *s, const uint8_t hash[SECRET_HASH_LEN],
                          const char *endpoint, store_done_fn *done, void *ctx)
{
    struct sub_write *w;

    if (!hash || !endpoint || strlen(endpoint) > PUSH_ENDPOINT_MAX)
        return -EINVAL;
    w = sub_write_new(&sub_delete_op, hash);
    w->endpoint = xstrdup(endpoint);
    return store__submit(s, &w->w, done, ctx, NULL);
}

static int channel_set_apply(struct store_write *w, struct store_tx *tx, int64_t *id)
{
    static const char sql[] = "UPDATE follows SET push = ?3 WHERE follower_id = ?1"
                              " AND channel_id = ?2";
    struct sub_write *s = container_of(w, struct sub_write, w);
    struct db_stmt *st;
    int64_t fid = 0;
    int err = store__follower_id(tx, s->hash, &fid);

    if (err)
        return err;
    st = db_stmt(tx->db, sql);
    if (st) {
        db_bind_i64(st, 1, fid);
        db_bind_i64(st, 2, s->channel_id);
        db_bind_i64(st, 3, s->on);
    }
    err = store__step_done(tx->db, st, "push_channel_set");
    if (!err && db_changes(tx->db) == 0)
        err = -ENOENT;
    *id = s->channel_id;
    return err;
}

static const struct store_write_op channel_set_op = { "push_channel_set", channel_set_apply,
                                                      sub_write_free };

int store_push_channel_set(struct store *s, const uint8_t hash[SECRET_HASH_LEN], int64_t channel_id,
                           bool on, store_done_fn *done, void *ctx)
{
    struct sub_write *w;

    if (!hash || channel_id < 1)
        return -EINVAL;
    w = sub_write_new(&channel_set_op, hash);
    w->channel_id = channel_id;
    w->on = on;
    return store__submit(s, &w->w, done, ctx, NULL);
}

/* ---- follower reads ---- */

int store_push_subs(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                    store_push_sub_fn *each, void *ctx)
{
    static const char sql[] = "SELECT s.endpoint, s.created_ms FROM push_subscriptions s"
                              " JOIN followers f ON f.id = s.follower_id WHERE f.hash = ?1"
                              " ORDER BY s.id";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_push_sub *sub = NULL;
    int rc;
    int err = -EIO;

    if (!st)
        goto out;
    sub = xmalloc(sizeof(*sub));
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    while ((rc = db_step(st)) == DB_ROW) {
        copy_col(sub->endpoint, sizeof(sub->endpoint), st, 0);
        sub->created_ms = db_col_i64(st, 1);
        each(ctx, sub);
    }
    err = rc == DB_DONE ? 0 : store__errno(r->db, rc, "push_subs");
out:
    db_reset(st);
    free(sub);
    return err;
}

int store_push_channel_get(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                           int64_t channel_id, bool *push, bool *muted)
{
    static const char sql[] = "SELECT fo.push, fo.muted FROM follows fo JOIN followers f"
                              " ON f.id = fo.follower_id WHERE f.hash = ?1 AND fo.channel_id = ?2";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;
    int err;

    if (!st)
        return -EIO;
    db_bind_blob(st, 1, hash, SECRET_HASH_LEN);
    db_bind_i64(st, 2, channel_id);
    rc = db_step(st);
    if (rc == DB_ROW) {
        *push = db_col_int(st, 0) != 0;
        *muted = db_col_int(st, 1) != 0;
        err = 0;
    } else {
        err = rc == DB_DONE ? -ENOENT : store__errno(r->db, rc, "push_channel_get");
    }
    db_reset(st);
    return err;
}

/* ---- campaign reads ---- */

#define PROGRESS_COLS                                                          \
    "c.post_id, c.total, c.sent, c.failed, (SELECT count(*) FROM push_queue q" \
    " WHERE q.post_id = c.post_id), c.created_ms, c.updated_ms FROM push_campaigns c"

static void progress_from_row(struct db_stmt *st, struct store_push_progress *p)
{
    p->exists = true;
    p->total = db_col_i64(st, 1);
    p->sent = db_col_i64(st, 2);
    p->failed = db_col_i64(st, 3);
    p->remaining = db_col_i64(st, 4);
    p->created_ms = db_col_i64(st, 5);
    p->updated_ms = db_col_i64(st, 6);
}

int store_push_progress(struct store_reader *r, int64_t post_id, struct store_push_progress *out)
{
    static const char sql[] = "SELECT " PROGRESS_COLS " WHERE c.post_id = ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!st)
        return -EIO;
    db_bind_i64(st, 1, post_id);
    rc = db_step(st);
    if (rc == DB_ROW)
        progress_from_row(st, out);
    db_reset(st);
    return rc == DB_ROW || rc == DB_DONE ? 0 : store__errno(r->db, rc, "push_progress");
}

int store_push_active(struct store_reader *r, unsigned limit, store_push_campaign_fn *each,
                      void *ctx)
{
    static const char sql[] = "SELECT " PROGRESS_COLS " WHERE c.post_id IN (SELECT DISTINCT"
                              " post_id FROM push_queue) ORDER BY c.post_id LIMIT ?1";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_push_progress p;
    int rc;
    int err;

    if (!st)
        return -EIO;
    db_bind_i64(st, 1, (int)limit);
    while ((rc = db_step(st)) == DB_ROW) {
        progress_from_row(st, &p);
        each(ctx, db_col_i64(st, 0), &p);
    }
    err = rc == DB_DONE ? 0 : store__errno(r->db, rc, "push_active");
    db_reset(st);
    return err;
}

int store_push_next_due(struct store_reader *r, int64_t *due_ms)
{
    static const char sql[] = "SELECT min(due_ms) FROM push_queue";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    if (!st)
        return -EIO;
    rc = db_step(st);
    *due_ms = rc == DB_ROW && !db_col_is_null(st, 0) ? db_col_i64(st, 0) : INT64_MAX;
    db_reset(st);
    return rc == DB_ROW ? 0 : store__errno(r->db, rc, "push_next_due");
}
