/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A report's status, live (docs/API.md, Citizen reports; docs/FANOUT.md): the reporter opens
 * GET /api/v1/reports/follow/{token}/stream (Server-Sent Events) and hears each change of the
 * report — and, once it is merged into another, of the original it now follows. Anyone may
 * follow a report's public status the same way by its id (.../reports/{id}/stream): what is
 * sent is exactly the public Open311 view, which anyone can read anyway.
 *
 * Encode once: a change is published to the hub under the report's own key (a negative number
 * from the report id, never a channel id or a follower's key), as ONE message whose bytes every
 * stream of that report shares, however many follow it. The key names a report, never a
 * person: the hub, the log and the other followers learn nothing about who follows. Nothing is
 * stored or replayed: a stream starts with the report's current state (its own first event)
 * and a reconnecting client simply gets the current state again.
 *
 * A change reaches these streams on every node: it commits with a notice.report marker, which
 * the event sink hands to api__report_notice() (below). Push to the reporter is queued in the
 * change's own transaction (store/push_report.c).
 */
#include "api/reports_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/secret.h"
#include "fanout/fanout.h"

#define SSE_RETRY_MS  3000
#define DUPS_MAX      64
#define TOKEN_MAX     80
#define REPORT_KEY_HI (INT64_C(1) << 62)

/* The hub key of report `id`: negative, far from the followers' keys' usual range. */
static int64_t report_key(int64_t id)
{
    return -(REPORT_KEY_HI + id);
}

/* One increasing sequence for every report message (the hub wants increasing seqs per key). */
static atomic_int_fast64_t report_seq;

struct one {
    json_t *v;
    char status[32];
};

static void one_public(void *ctx, const struct store_report *p)
{
    struct one *o = ((void **)ctx)[0];
    const char **tzbase = ((void **)ctx)[1];

    o->v = api__report_public_json(p, tzbase[0], tzbase[1]);
    snprintf(o->status, sizeof(o->status), "%s", p->status);
}

/* The event payload for report `id`: {"request": <Open311 view>, "status_detail": status}. */
static char *payload(struct store_reader *rd, const char *base, const struct store_org *o,
                     int64_t id, size_t *len)
{
    const char *tzbase[2] = { o->timezone, base };
    struct one one = { 0 };
    void *ctx[2] = { &one, tzbase };
    json_t *v;
    char *out;

    if (store_report_get(rd, o->id, id, one_public, ctx) != 0)
        return NULL;
    v = json_pack("{s:o, s:s}", "request", one.v, "status_detail", one.status);
    out = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(v);
    *len = out ? strlen(out) : 0;
    return out;
}

static void publish(struct api_app *app, int64_t key, const char *data, size_t len)
{
    struct fanout_event ev = {
        .channel_id = key,
        .channel = "report",
        .seq = atomic_fetch_add(&report_seq, 1) + 1,
        .kind = "report.updated",
        .payload = data,
        .payload_len = len,
    };

    fanout_publish(app->fanout, &ev, 1);
}

/*
 * Report `id` of org `org_id` changed: its public view, encoded once, to the streams that
 * follow it and to those of its merged duplicates (their reporters follow it now).
 */
static void report_changed(struct api_app *app, struct store_reader *rd, int64_t org_id, int64_t id)
{
    int64_t dups[DUPS_MAX];
    struct store_org o;
    size_t n = 0, len = 0;
    char base[512];
    char *data;

    if (!app->fanout || !app->server || store_org_get_id(rd, org_id, &o) != 0)
        return;
    /* as api__base_url(): public_url, else this server's own address */
    if (app->set.public_url && *app->set.public_url) {
        snprintf(base, sizeof(base), "%s", app->set.public_url);
    } else {
        snprintf(base, sizeof(base), "http://%s", http_server_address(app->server));
    }
    data = payload(rd, base, &o, id, &len);
    if (!data)
        return;
    publish(app, report_key(id), data, len);
    if (store_report_duplicates(rd, id, dups, DUPS_MAX, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            publish(app, report_key(dups[i]), data, len);
    }
    free(data);
}

/*
 * The changes to publish. A report's change commits with a notice.report marker
 * (store/events.h), which the event sink hands here in commit order — from this node's writer,
 * or on PostgreSQL from the listener that hears every node's commits — so a reporter's stream
 * on any node hears a change made through any other. The sink must not wait for the store, so
 * a thread of its own, with its own reader, builds and publishes each one. One per process,
 * like the hub it publishes to; a notice that comes while it is not running is dropped (a
 * stream starts with the current state anyway).
 */
struct notice {
    int64_t org_id, id;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct notice *q;
    size_t n, cap;
    bool running, stop;
    pthread_t thread;
    struct api_app *app;
    struct store_reader *rd;
} notices = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

void api__report_notice(int64_t org_id, int64_t id)
{
    pthread_mutex_lock(&notices.mu);
    for (size_t i = 0; notices.running && i < notices.n; i++) {
        if (notices.q[i].id == id) { /* already waiting: one publication shows the latest */
            pthread_mutex_unlock(&notices.mu);
            return;
        }
    }
    if (notices.running) {
        if (notices.n == notices.cap) {
            notices.cap = notices.cap ? 2 * notices.cap : 16;
            notices.q = xrealloc(notices.q, notices.cap * sizeof(*notices.q));
        }
        notices.q[notices.n++] = (struct notice){ org_id, id };
        pthread_cond_signal(&notices.cond);
    }
    pthread_mutex_unlock(&notices.mu);
}

static void *notices_main(void *arg)
{
    struct notice *batch = NULL;
    size_t n, cap = 0;

    (void)arg;
    pthread_mutex_lock(&notices.mu);
    for (;;) {
        while (!notices.n && !notices.stop)
            pthread_cond_wait(&notices.cond, &notices.mu);
        if (notices.stop)
            break;
        n = notices.n;
        if (n > cap) {
            cap = n;
            batch = xrealloc(batch, cap * sizeof(*batch));
        }
        memcpy(batch, notices.q, n * sizeof(*batch));
        notices.n = 0;
        pthread_mutex_unlock(&notices.mu);
        for (size_t i = 0; i < n; i++)
            report_changed(notices.app, notices.rd, batch[i].org_id, batch[i].id);
        pthread_mutex_lock(&notices.mu);
    }
    pthread_mutex_unlock(&notices.mu);
    free(batch);
    return NULL;
}

bool api_report_notices_start(struct api_app *app, char *err, size_t errlen)
{
    struct store_reader *rd = store_reader_open(app->store, err, errlen);

    if (!rd)
        return false;
    pthread_mutex_lock(&notices.mu);
    notices.app = app;
    notices.rd = rd;
    notices.stop = false;
    notices.running = pthread_create(&notices.thread, NULL, notices_main, NULL) == 0;
    pthread_mutex_unlock(&notices.mu);
    if (!notices.running) {
        store_reader_close(rd);
        notices.rd = NULL;
        snprintf(err, errlen, "cannot start the thread that publishes report changes");
    }
    return notices.running;
}

void api_report_notices_stop(void)
{
    bool was;

    pthread_mutex_lock(&notices.mu);
    was = notices.running;
    notices.running = false;
    notices.stop = true;
    notices.n = 0;
    pthread_cond_signal(&notices.cond);
    pthread_mutex_unlock(&notices.mu);
    if (!was)
        return;
    pthread_join(notices.thread, NULL);
    store_reader_close(notices.rd);
    notices.rd = NULL;
    free(notices.q);
    notices.q = NULL;
    notices.cap = 0;
}

/* ---- the stream ---- */

struct rstream {
    struct http_req *req;
    struct fanout_sub *sub;
    int depth;   /* inside one of our callbacks */
    bool closed; /* on_close ran: free when the outermost callback returns */
};

static void msg_hold(void *m)
{
    (void)fanout_msg_ref(m);
}

static const struct http_shared msg_shared = { msg_hold, fanout_msg_release };

static void rs_free(struct rstream *rs)
{
    fanout_sub_free(rs->sub);
    free(rs);
}

static void leave(struct rstream *rs)
{
    if (--rs->depth == 0 && rs->closed)
        rs_free(rs);
}

static size_t op_unsent(void *ctx)
{
    struct rstream *rs = ctx;

    return rs->closed ? 0 : http_stream_unsent(rs->req);
}

static void op_write(void *ctx, struct fanout_msg *const *m, size_t n)
{
    struct rstream *rs = ctx;
    enum fanout_wire w;

    rs->depth++;
    w = http_stream_chunked(rs->req) ? FANOUT_SSE_CHUNK : FANOUT_SSE;
    for (size_t i = 0; i < n && !rs->closed; i++) {
        size_t len;
        const char *p;

        if (fanout_msg_type(m[i]) != FANOUT_EVENT && fanout_msg_type(m[i]) != FANOUT_HEARTBEAT)
            continue;
        p = fanout_msg_bytes(m[i], w, &len);
        if (http_stream_write_ref(rs->req, p, len, &msg_shared, m[i]))
            break;
    }
    leave(rs);
}

static void op_cutoff(void *ctx)
{
    struct rstream *rs = ctx;

    fanout_sub_free(rs->sub);
    rs->sub = NULL;
    rs->depth++;
    http_stream_end(rs->req); /* on_close runs now */
    leave(rs);
}

static const struct fanout_sub_ops sub_ops = {
    .unsent = op_unsent,
    .write = op_write,
    .cutoff = op_cutoff,
};

static void on_close(struct http_req *r, void *ctx)
{
    struct rstream *rs = ctx;

    (void)r;
    rs->closed = true;
    fanout_sub_free(rs->sub);
    rs->sub = NULL;
    if (rs->depth == 0)
        rs_free(rs);
}

/* Stream report `id` (and `also`, its original when merged; 0: none) of org `o`. */
static void stream(struct http_req *r, const struct store_org *o, int64_t id, int64_t also)
{
    struct rstream *rs;
    char head[64];
    char *data;
    size_t len = 0;
    int n;

    if (!api__app(r)->fanout) {
        api__errno(r, -ENOSPC, "report stream");
        return;
    }
    rs = xcalloc(1, sizeof(*rs));
    rs->req = r;
    http_resp_header(r, "X-Accel-Buffering", "no");
    if (http_stream_start(r, 200, "text/event-stream; charset=utf-8", on_close, rs)) {
        free(rs);
        return;
    }
    rs->depth++;
    /* Join first, then send the current state: a change in between arrives twice, never not. */
    rs->sub = fanout_sub_new(api__stream_loop_hub(r), &sub_ops, rs);
    (void)!fanout_sub_join(rs->sub, report_key(id));
    if (also)
        (void)!fanout_sub_join(rs->sub, report_key(also));
    n = snprintf(head, sizeof(head), "retry: %d\n\n", SSE_RETRY_MS);
    if (!http_stream_write(r, head, (size_t)n)) {
        char base[512];

        api__base_url(r, base, sizeof(base));
        data = payload(api__reader(r), base, o, also ? also : id, &len);
        if (data) {
            struct buf b;

            buf_init(&b, len + 64);
            if (!buf_printf(&b, "event: report\ndata: %s\n\n", data))
                (void)!http_stream_write(r, b.data, b.len);
            buf_release(&b);
            free(data);
        }
    }
    if (!rs->closed)
        http_stream_trim(r);
    leave(rs);
}

struct dup_ctx {
    int64_t duplicate_of;
};

static void dup_of(void *ctx, const struct store_report *p)
{
    ((struct dup_ctx *)ctx)->duplicate_of = p->duplicate_of;
}

void api__reporter_stream(struct http_req *r)
{
    const char *tok = http_req_param(r, "token");
    uint8_t hash[SECRET_HASH_LEN];
    struct dup_ctx d = { 0 };
    struct store_org o;
    int64_t id = 0, org_id = 0;
    int err = strlen(tok) > TOKEN_MAX ? -ENOENT : 0;

    if (!err) {
        secret_sha256(tok, strlen(tok), hash);
        err = store_report_by_token(api__reader(r), hash, &id, &org_id);
        explicit_bzero(hash, sizeof(hash));
    }
    if (!err)
        err = store_org_get_id(api__reader(r), org_id, &o);
    if (!err)
        err = store_report_get(api__reader(r), org_id, id, dup_of, &d);
    if (err) {
        if (err == -ENOENT) {
            http_respond_error(r, 404, "report_not_found", "No report has this follow link.",
                               "token");
        } else {
            api__errno(r, err, "report stream");
        }
        return;
    }
    stream(r, &o, id, d.duplicate_of);
}

void api__report_stream(struct http_req *r)
{
    struct dup_ctx d = { 0 };
    struct store_org o;
    int64_t id;

    if (!api__rep_org(r, &o))
        return;
    if (!api__rep_id(http_req_param(r, "id"), &id) ||
        store_report_get(api__reader(r), o.id, id, dup_of, &d) != 0) {
        http_respond_error(r, 404, "report_not_found", "No such report.", "id");
        return;
    }
    stream(r, &o, id, d.duplicate_of);
}
