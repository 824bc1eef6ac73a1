/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Operations endpoints: /healthz (the process answers), /readyz (a write goes through the whole
 * commit path) and /metrics (Prometheus text, operators only: request counts are not secret,
 * but nobody outside needs to watch the server's load).
 */
#include "api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/push_int.h"
#include "api/sources_int.h"
#include "api/tiles_int.h"
#include "core/buf.h"
#include "fanout/fanout.h"
#include "mail/mail.h"

#define METRICS_LIMIT ((size_t)64 * 1024)

static void healthz(struct http_req *r)
{
    static const char body[] = "{\"status\":\"ok\"}";

    http_resp_header(r, "Cache-Control", "no-store");
    http_respond(r, 200, "application/json", body, sizeof(body) - 1);
}

static void readyz_finish(struct http_req *r, int err, int64_t id, void *data)
{
    static const char body[] = "{\"status\":\"ready\"}";

    (void)id;
    (void)data;
    if (err == -ENOSPC) {
        /* 503 like any not-ready (what a load balancer understands), with the reason. */
        http_resp_header(r, "Retry-After", "60");
        http_respond_error(r, 503, "storage_full",
                           "The disk holding the data directory is full: writes fail.", NULL);
        return;
    }
    if (err) {
        http_resp_header(r, "Retry-After", "5");
        http_respond_error(r, 503, "not_ready", "The store cannot commit writes right now.", NULL);
        return;
    }
    http_resp_header(r, "Cache-Control", "no-store");
    http_respond(r, 200, "application/json", body, sizeof(body) - 1);
}

static void readyz(struct http_req *r)
{
    struct api_pending *p = api__pending_new(r, readyz_finish, NULL);
    int err = store_ping(api__app(r)->store, api__pending_done, p, NULL);

    if (err) {
        api__pending_free(p);
        readyz_finish(r, err, 0, NULL);
    }
}

static long rss_bytes(void)
{
    char line[128];
    char *p;
    char *end;
    long resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f)
        return 0;
    /* "size resident shared ...", in pages: skip the first number, read the second. */
    if (fgets(line, sizeof(line), f)) {
        errno = 0;
        (void)strtol(line, &p, 10);
        if (!errno && p != line) {
            resident = strtol(p, &end, 10);
            if (errno || end == p)
                resident = 0;
        }
    }
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* Connections, requests by status class and request latency. */
static int write_http_metrics(struct api_app *app, struct buf *out)
{
    static const char *const classes[] = { "", "1xx", "2xx", "3xx", "4xx", "5xx" };
    struct http_stats hs;
    int err;

    http_server_stats(app->server, &hs);
    err = buf_printf(
        out,
        "# HELP araldo_connections_open Client connections open now.\n"
        "# TYPE araldo_connections_open gauge\n"
        "araldo_connections_open %llu\n"
        "# HELP araldo_connections_total Client connections accepted.\n"
        "# TYPE araldo_connections_total counter\n"
        "araldo_connections_total %llu\n"
        "# HELP araldo_connections_refused_total Connections refused over a limit.\n"
        "# TYPE araldo_connections_refused_total counter\n"
        "araldo_connections_refused_total %llu\n"
        "# HELP araldo_accept_paused_total Accept pauses on file-descriptor "
        "exhaustion.\n"
        "# TYPE araldo_accept_paused_total counter\n"
        "araldo_accept_paused_total %llu\n"
        "# HELP araldo_http_requests_total Requests answered, by status class.\n"
        "# TYPE araldo_http_requests_total counter\n",
        (unsigned long long)hs.connections_open, (unsigned long long)hs.connections_total,
        (unsigned long long)hs.connections_refused, (unsigned long long)hs.accept_paused);
    for (int i = 1; !err && i <= 5; i++) {
        err = buf_printf(out, "araldo_http_requests_total{class=\"%s\"} %llu\n", classes[i],
                         (unsigned long long)hs.requests_by_class[i]);
    }
    if (!err && hs.latency) {
        err = histogram_write(hs.latency, "araldo_http_request_duration_seconds",
                              "Time from a complete request to its response.", out);
    }
    return err;
}

/* PostgreSQL: how this node hears every node's commits (store/listen.c, FANOUT.md). */
static int write_listen_metrics(const struct store_stats *ss, struct buf *out)
{
    int err = buf_printf(
        out,
        "# HELP araldo_store_listening 1 while this node listens for the cluster's commits.\n"
        "# TYPE araldo_store_listening gauge\n"
        "araldo_store_listening %d\n"
        "# HELP araldo_store_listen_notifications_total Commit notifications received.\n"
        "# TYPE araldo_store_listen_notifications_total counter\n"
        "araldo_store_listen_notifications_total %llu\n"
        "# HELP araldo_store_listen_backfilled_total Events read from the table because their "
        "notification never came.\n"
        "# TYPE araldo_store_listen_backfilled_total counter\n"
        "araldo_store_listen_backfilled_total %llu\n"
        "# HELP araldo_store_listen_reconnects_total Times the listening connection was lost.\n"
        "# TYPE araldo_store_listen_reconnects_total counter\n"
        "araldo_store_listen_reconnects_total %llu\n",
        ss->listening, (unsigned long long)ss->listen_notifications_total,
        (unsigned long long)ss->listen_backfilled_total,
        (unsigned long long)ss->listen_reconnects_total);

    if (!err && ss->listen_lag) {
        err = histogram_write(ss->listen_lag, "araldo_store_listen_lag_seconds",
                              "Time from a commit (any node's) to its events reaching this "
                              "node's fan-out.",
                              out);
    }
    return err;
}

/* The writer thread's queue, writes, commits and their latencies. */
static int write_store_metrics(struct api_app *app, struct buf *out)
{
    struct store_stats ss;
    int err;

    store_stats(app->store, &ss);
    err = buf_printf(out,
                     "# HELP araldo_store_queue_depth Writes waiting for the writer thread.\n"
                     "# TYPE araldo_store_queue_depth gauge\n"
                     "araldo_store_queue_depth %llu\n"
                     "# HELP araldo_store_writes_total Writes committed or failed.\n"
                     "# TYPE araldo_store_writes_total counter\n"
                     "araldo_store_writes_total %llu\n"
                     "# HELP araldo_store_commits_total Transactions committed.\n"
                     "# TYPE araldo_store_commits_total counter\n"
                     "araldo_store_commits_total %llu\n"
                     "# HELP araldo_store_disk_full 1 while writes fail because the disk is "
                     "full.\n"
                     "# TYPE araldo_store_disk_full gauge\n"
                     "araldo_store_disk_full %d\n"
                     "# HELP araldo_store_disk_full_total Writes refused because the disk was "
                     "full.\n"
                     "# TYPE araldo_store_disk_full_total counter\n"
                     "araldo_store_disk_full_total %llu\n",
                     (unsigned long long)ss.queue_depth, (unsigned long long)ss.writes_total,
                     (unsigned long long)ss.commits_total, ss.disk_full ? 1 : 0,
                     (unsigned long long)ss.disk_full_total);
    if (!err && ss.commit_latency) {
        err = histogram_write(ss.commit_latency, "araldo_store_commit_duration_seconds",
                              "Time from BEGIN to a durable COMMIT, per batch.", out);
    }
    if (!err && ss.write_latency) {
        err = histogram_write(ss.write_latency, "araldo_store_write_duration_seconds",
                              "Time from a write being queued to its outcome.", out);
    }
    if (!err && ss.listening >= 0)
        err = write_listen_metrics(&ss, out);
    return err;
}

/* Stream subscribers and fan-out traffic (only when the fan-out runs). */
static int write_stream_metrics(struct api_app *app, struct buf *out)
{
    struct fanout_stats fs;

    if (!app->fanout)
        return 0;
    fanout_stats(app->fanout, &fs);
    return buf_printf(out,
                      "# HELP araldo_stream_subscribers Live stream subscribers now.\n"
                      "# TYPE araldo_stream_subscribers gauge\n"
                      "araldo_stream_subscribers %llu\n"
                      "# HELP araldo_events_published_total Events handed to the fan-out.\n"
                      "# TYPE araldo_events_published_total counter\n"
                      "araldo_events_published_total %llu\n"
                      "# HELP araldo_stream_deliveries_total Messages handed to subscribers.\n"
                      "# TYPE araldo_stream_deliveries_total counter\n"
                      "araldo_stream_deliveries_total %llu\n"
                      "# HELP araldo_stream_cutoffs_total Subscribers cut off for falling "
                      "behind.\n"
                      "# TYPE araldo_stream_cutoffs_total counter\n"
                      "araldo_stream_cutoffs_total %llu\n",
                      (unsigned long long)fs.subscribers, (unsigned long long)fs.published,
                      (unsigned long long)fs.delivered, (unsigned long long)fs.cutoffs);
}

/* Outgoing e-mail: zero when there is no relay (smtp_url empty), so alerts can be written. */
static int write_mail_metrics(struct api_app *app, struct buf *out)
{
    struct mail_stats ms = { 0 };

    if (app->mail)
        mail_stats(app->mail, &ms);
    return buf_printf(out,
                      "# HELP araldo_mail_sent_total E-mails the mail relay accepted.\n"
                      "# TYPE araldo_mail_sent_total counter\n"
                      "araldo_mail_sent_total %llu\n"
                      "# HELP araldo_mail_failed_total E-mails that could not be sent (relay "
                      "refused or unreachable, queue full).\n"
                      "# TYPE araldo_mail_failed_total counter\n"
                      "araldo_mail_failed_total %llu\n",
                      (unsigned long long)ms.sent, (unsigned long long)ms.failed);
}

static int write_metrics(struct api_app *app, struct buf *out)
{
    int err = write_http_metrics(app, out);

    if (!err)
        err = write_store_metrics(app, out);
    if (!err)
        err = write_stream_metrics(app, out);
    if (!err)
        err = write_mail_metrics(app, out);
    if (!err) {
        err = buf_printf(out,
                         "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                         "# TYPE process_resident_memory_bytes gauge\n"
                         "process_resident_memory_bytes %ld\n",
                         rss_bytes());
    }
    return err;
}

static void metrics(struct http_req *r)
{
    struct store_user me;
    struct buf out;
    int err;

    if (!api__staff(r, &me, NULL))
        return;
    if (me.role != STORE_ROLE_OPERATOR) {
        http_respond_error(r, 403, "forbidden", "Only server operators can read the metrics.",
                           NULL);
        return;
    }
    buf_init(&out, METRICS_LIMIT);
    err = write_metrics(api__app(r), &out);
    if (!err)
        err = api__push_metrics(api__app(r), api__reader(r), &out);
    if (!err)
        err = api__sources_metrics(api__app(r), api__reader(r), &out);
    if (!err)
        err = api__tiles_metrics(api__app(r), &out);
    if (err) {
        api__errno(r, err, "metrics");
    } else {
        http_resp_header(r, "Cache-Control", "no-store");
        http_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    }
    buf_release(&out);
}

static const struct http_route routes[] = {
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/healthz", healthz, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/readyz", readyz, 0, NULL },
    { HTTP_M_GET | HTTP_M_HEAD, 0, "/metrics", metrics, 0, NULL },
};
API_ROUTE_SET(api_ops_routes, routes);
