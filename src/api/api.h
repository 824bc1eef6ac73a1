/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The JSON API: glue between http/ (requests), store/ (durable state) and, later, fanout/ and
 * push/. One file per resource; this header is what main.c wires.
 */
#ifndef API_API_H
#define API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "http/http.h"
#include "store/store.h"

struct ratelimit;
struct workpool;
struct mail;

/* The API's settings, from the config table (main.c copies them in). */
struct api_settings {
    unsigned follower_signups_per_ip; /* new followers per client address per 10 minutes */
    const char *public_url;           /* "https://host[:port]", or "" on loopback (api__base_url) */
    const char *data_dir;             /* node-local state (vapid.pem, tiles) */
    size_t media_image_max;           /* bytes, per kind of upload */
    size_t media_voice_max;
    size_t media_document_max;
    uint64_t media_max_pixels;
    unsigned media_workers;
    bool media_keep_originals;
    size_t stream_queue_bytes;    /* unsent bytes before a live stream is cut off */
    unsigned stream_heartbeat_s;  /* SSE heartbeat / WebSocket ping interval */
    unsigned stream_max_channels; /* channels per stream */
    unsigned stream_replay_max;   /* events replayed per channel on resume */
    size_t ws_max_message_bytes;  /* largest WebSocket client message (else close 1009) */
    /* reactions and votes together, per minute: per follower token, per client address */
    unsigned reactions_per_minute;
    unsigned reactions_per_ip_per_minute;
    /* citizen reports filed without an API key, per hour: per follower token, per address */
    unsigned reports_per_follower_per_hour;
    unsigned reports_per_ip_per_hour;
    long alert_source_stale_hours; /* an alert source without a good fetch this long is stale */
    long alert_source_timeout_s;   /* one request to an alert source */
    long alert_source_max_bytes;   /* largest answer read from an alert source */
    bool alert_source_schedule;    /* false: poll only when staff ask */
    /* Web Push (api/push.c, api/push_queue.c; docs/PUSH.md) */
    const char *push_contact;     /* VAPID sub: "mailto:..." or "https://..." */
    const char *push_allow_hosts; /* hosts exempt from the address rule (tests, intranets) */
    const char *push_ca_file;     /* "" : the system CAs */
    unsigned push_subscriptions_per_follower;
    unsigned push_ttl_s;              /* TTL of a post's notification */
    unsigned push_alert_ttl_s;        /* longest TTL of an alert's notification */
    unsigned push_timeout_ms;         /* one request to a push service */
    unsigned push_origin_concurrency; /* requests in flight per push service */
    unsigned push_inflight_max;       /* deliveries claimed and not yet reported, in total */
    unsigned push_max_tries;          /* attempts before giving up on a delivery */
    unsigned push_retry_base_ms;      /* first retry delay; doubles each time, with jitter */
    unsigned push_lease_s;            /* a claimed delivery is this node's this long, renewed */
    const char *map_attribution;      /* the map's credit (api/tiles.c) */
    const char *media_dir;            /* uploaded media; "" : DATA_DIR/media */
    unsigned cluster_lease_s;         /* a dead node's background jobs move after this */
};

#define API_NODE_ID_LEN 32 /* hex characters of a node's name (api_app.node_id) */

struct api_app {
    struct store *store;
    struct http_server *server; /* set once started; for /metrics */
    struct api_settings set;
    struct workpool *media_pool;        /* image processing; main.c starts and frees it */
    struct ratelimit *follower_signups; /* members below are private to api/ */
    /* api/reactions.c and api/polls.c: rate limits; api/counts.c: the coalesced events */
    struct ratelimit *reactions_by_token;
    struct ratelimit *reactions_by_ip;
    struct api_counts *counts;
    struct fanout *fanout; /* live streams' hub (api/stream.c); main.c makes and frees it */
    /* api/open311.c: report rate limits (per follower, per address, per API key) */
    struct ratelimit *reports_by_token;
    struct ratelimit *reports_by_ip;
    struct api_key_rates *key_rates;
    struct api_push *push;       /* Web Push (api/push_queue.c): api_push_start/stop */
    struct api_sources *sources; /* alert-source poller (api/sources_poll.c) */
    struct tiles *tiles; /* the map tile proxy, or NULL: no map; main.c makes and frees it */
    struct mail *mail;   /* outgoing e-mail, or NULL: smtp_url empty; main.c makes and frees it */
    char node_id[API_NODE_ID_LEN +
                 1]; /* this node in the leases (lease.c, push): DATA_DIR/node-id */
};

/* Fill `a` for `store` with the settings `set` (copied). Cannot fail. Main thread. */
void api_app_init(struct api_app *a, struct store *store, const struct api_settings *set);
/* Free what api_app_init made; the store and server are the caller's. */
void api_app_release(struct api_app *a);

/* The route table for http_opts.routes. Static; never freed. */
const struct http_route *api_routes(size_t *n);
/* http_opts.loop_init / loop_fini: open and close the loop's store reader. */
void *api_loop_init(void *app, struct http_loop *loop);
void api_loop_fini(void *app, void *loop_ctx);

/*
 * The store's event sink (store_set_event_sink(store, api_stream_sink, fanout)): hands each
 * durable batch of events to the fan-out hub `ctx`. The store's writer thread.
 */
struct store_event;
void api_stream_sink(void *ctx, const struct store_event *ev, size_t n);

/*
 * Background jobs (api/jobs.c): a thread publishing scheduled posts when due and running the
 * retention sweeper. Start after the store is open; returns NULL (logged) if the thread cannot
 * start. Stop joins the thread (a store call in progress finishes first); NULL is a no-op.
 * Call stop before store_close(). Main thread.
 */
/*
 * The alert-source poller (api/sources_poll.c): a thread polling every org's official alert
 * sources (docs/ALERTS.md). Start after the store and the HTTP server (its links name the
 * server's address); returns NULL with one line in `err`. Stop before the store closes.
 */
struct api_sources;
struct api_sources *api_sources_start(struct api_app *app, char *err, size_t errlen);
void api_sources_stop(struct api_sources *s);

struct api_jobs;
struct api_jobs *api_jobs_start(struct api_app *app);

/*
 * The thread that publishes citizen reports' changes to their live streams (api/reports_stream.c),
 * from the event sink's notice.report markers. Start once the server listens (app->server);
 * false with `err` if it cannot. Stop before the store closes; notices after it are dropped.
 */
bool api_report_notices_start(struct api_app *app, char *err, size_t errlen);
void api_report_notices_stop(void);
void api_jobs_stop(struct api_jobs *j);

/*
 * Web Push (api/push_queue.c): loads or makes the VAPID key (DATA_DIR/vapid.pem), starts the
 * sender thread and the queue thread that feeds it from the store. Sets app->push. Returns 0,
 * or -1 with one line in `err` (nothing left running). Start after the store is open and
 * before the HTTP server (its handlers use it). Main thread.
 */
struct api_push;
MUST_CHECK int api_push_start(struct api_app *app, char *err, size_t errlen);
/*
 * Stop the queue and sender threads (deliveries in flight stay leased in the store and go out
 * after the next start) and free. After http_server_stop() and before the loops are freed
 * (address checks in progress post to them). NULL-safe. Main thread.
 */
void api_push_stop(struct api_push *p);

#endif
