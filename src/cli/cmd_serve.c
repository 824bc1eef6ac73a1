/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* araldo serve: wire the store, the API and the HTTP server, run until SIGTERM or SIGINT. */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "core/log.h"
#include "core/password.h"
#include "core/workpool.h"
#include "fanout/fanout.h"
#include "http/http.h"
#include "mail/mail.h"
#include "store/events.h"
#include "tiles/tiles.h"

/*
 * A new server has no account to sign in with: create an operator with a one-time password and
 * show it once on standard output (never in the log). With --demo, also fill the new database
 * with the demo Comune.
 */
static int first_start(struct store *s, bool demo)
{
    static const char email[] = "admin@localhost";
    char pw[32];
    char hash[PASSWORD_HASH_MAX];
    struct store_reader *r;
    char err[256];
    int64_t n = 0;
    int64_t id = 0;
    int rc;

    r = store_reader_open(s, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "araldo: %s\n", err);
        return -EIO;
    }
    rc = store_user_count(r, &n);
    store_reader_close(r);
    if (rc || n > 0)
        return rc;
    password_generate(pw, sizeof(pw));
    rc = password_hash(pw, hash, sizeof(hash));
    if (!rc)
        rc = store_user_add(s, email, STORE_ROLE_OPERATOR, hash, true, NULL, NULL, &id);
    if (rc) {
        fprintf(stderr, "araldo: cannot create the first operator account: %s\n", strerror(-rc));
        return rc;
    }
    printf("first start: created operator account '%s' with one-time password %s\n"
           "first start: sign in and change it; it is not shown again\n",
           email, pw);
    fflush(stdout);
    return demo ? cli_demo_seed(s, id) : 0;
}

/*
 * public_url must be a bare origin (scheme, host, optional port) so that paths can be appended:
 * "https://avvisi.comune.example.it". A trailing slash is dropped.
 */
static bool public_url_ok(char *u)
{
    size_t n = strlen(u);
    const char *host;

    if (!n)
        return true;
    if (u[n - 1] == '/')
        u[--n] = '\0';
    if (!strncmp(u, "https://", 8)) {
        host = u + 8;
    } else if (!strncmp(u, "http://", 7)) {
        host = u + 7;
    } else {
        return false;
    }
    return *host && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789.-:[]") == strlen(host);
}

/*
 * The reverse proxies whose forwarding headers are believed (trusted_proxies): "auto" means
 * loopback when public_url is https, because araldo speaks no TLS, so an https public_url
 * means a TLS-terminating proxy, and the documented one runs on this machine. Over plain http
 * nothing says a proxy exists, and trusting loopback would let any local process choose the
 * address it is counted under. Returns false with a message on stderr.
 */
static bool trusted_from_conf(const struct conf *conf, struct http_cidr *out, size_t *n)
{
    const char *v = conf->trusted_proxies;
    char err[160];

    *n = 0;
    if (!strcmp(v, "none"))
        return true;
    if (!strcmp(v, "auto"))
        v = strncmp(conf->public_url, "https://", 8) ? "" : "127.0.0.0/8, ::1";
    if (http_cidr_parse_list(v, out, HTTP_TRUSTED_MAX, n, err, sizeof(err))) {
        fprintf(stderr, "araldo: trusted_proxies: %s\n", err);
        return false;
    }
    return true;
}

/*
 * Links that leave the request (feeds, invite posters, QR codes) are built from public_url
 * alone, never from the Host a client sent (a shared cache would keep a forged one). Without
 * public_url the base is http://<listen address>, which is right only for someone on this
 * machine: so a server reachable from elsewhere must be told its public address.
 */
static bool listen_needs_public_url(const struct conf *conf)
{
    const char *l = conf->listen;
    uint8_t a[16];
    char host[64];
    size_t n;

    if (*conf->public_url)
        return false;
    if (*l == '[') {
        n = strcspn(l + 1, "]");
        l++;
    } else {
        n = strcspn(l, ":");
    }
    if (n >= sizeof(host))
        return true;
    memcpy(host, l, n);
    host[n] = '\0';
    return !http_addr_parse(host, a) || !http_addr_is_loopback(a);
}

/*
 * The settings whose form conf.c cannot judge alone, or that must agree with each other,
 * checked before anything starts: a bad setting is a usage error (exit 2) whichever it is,
 * never a half-started server (exit 1).
 */
static bool settings_ok(struct conf *conf, struct http_cidr *trusted, size_t *ntrusted)
{
    struct sockaddr_storage ss;
    struct stat st;
    char err[512];

    if (!public_url_ok(conf->public_url)) {
        fprintf(stderr,
                "araldo: public_url: '%.100s' is not like https://avvisi.comune.example.it "
                "(scheme and host only)\n",
                conf->public_url);
        return false;
    }
    if (http_listen_parse(conf->listen, &ss, err, sizeof(err))) {
        fprintf(stderr, "araldo: %s\n", err);
        return false;
    }
    if (*conf->web_root && (stat(conf->web_root, &st) || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "araldo: web_root: '%.200s' is not a directory\n", conf->web_root);
        return false;
    }
    if (listen_needs_public_url(conf)) {
        fprintf(stderr,
                "araldo: public_url is required when listen ('%.100s') is not a loopback "
                "address: set it to the address citizens use, such as "
                "https://avvisi.comune.example.it (links are never built from a request's "
                "Host)\n",
                conf->listen);
        return false;
    }
    return trusted_from_conf(conf, trusted, ntrusted);
}

static unsigned worker_count(long configured)
{
    long n = configured > 0 ? configured : sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

/* The API's settings from the configuration; `contact` is push_contact_ok's. */
static void api_settings_from_conf(struct api_settings *set, const struct conf *conf,
                                   const char *contact)
{
    set->follower_signups_per_ip = (unsigned)conf->follower_signups_per_ip;
    set->reactions_per_minute = (unsigned)conf->reactions_per_minute;
    set->reactions_per_ip_per_minute = (unsigned)conf->reactions_per_ip_per_minute;
    set->reports_per_follower_per_hour = (unsigned)conf->reports_per_follower_per_hour;
    set->reports_per_ip_per_hour = (unsigned)conf->reports_per_ip_per_hour;
    set->alert_source_stale_hours = conf->alert_source_stale_hours;
    set->alert_source_timeout_s = conf->alert_source_timeout_s;
    set->alert_source_max_bytes = conf->alert_source_max_bytes;
    set->alert_source_schedule = conf->alert_source_schedule;
    set->public_url = conf->public_url;
    set->data_dir = conf->data_dir;
    set->media_image_max = (size_t)conf->media_image_max_bytes;
    set->media_voice_max = (size_t)conf->media_voice_max_bytes;
    set->media_document_max = (size_t)conf->media_document_max_bytes;
    set->media_max_pixels = (uint64_t)conf->media_max_pixels;
    set->media_workers = (unsigned)conf->media_workers;
    set->media_keep_originals = conf->media_keep_originals;
    set->media_dir = conf->media_dir;
    set->cluster_lease_s = (unsigned)conf->cluster_lease_s;
    set->stream_queue_bytes = (size_t)conf->stream_queue_bytes;
    set->stream_heartbeat_s = (unsigned)conf->stream_heartbeat_s;
    set->stream_max_channels = (unsigned)conf->stream_max_channels;
    set->stream_replay_max = (unsigned)conf->stream_replay_max;
    set->ws_max_message_bytes = (size_t)conf->ws_max_message_bytes;
    set->push_contact = contact;
    set->push_allow_hosts = conf->push_allow_hosts;
    set->push_ca_file = conf->push_ca_file;
    set->push_subscriptions_per_follower = (unsigned)conf->push_subscriptions_per_follower;
    set->push_ttl_s = (unsigned)conf->push_ttl_s;
    set->push_alert_ttl_s = (unsigned)conf->push_alert_ttl_s;
    set->push_timeout_ms = (unsigned)conf->push_timeout_ms;
    set->push_origin_concurrency = (unsigned)conf->push_origin_concurrency;
    set->push_inflight_max = (unsigned)conf->push_inflight_max;
    set->push_max_tries = (unsigned)conf->push_max_tries;
    set->push_retry_base_ms = (unsigned)conf->push_retry_base_ms;
    set->push_lease_s = (unsigned)conf->push_lease_s;
    set->map_attribution = conf->map_attribution;
}

/*
 * Outgoing e-mail (docs/DEPLOY.md, Outgoing e-mail), or NULL when smtp_url is empty. The sender
 * address defaults to araldo@ the public_url's host. Sets *ok to false (message printed, never
 * the password) when the settings are wrong.
 */
static struct mail *start_mail(const struct conf *conf, bool *ok)
{
    char from[300];
    char err[512];
    struct mail *m;

    *ok = true;
    if (!*conf->smtp_url)
        return NULL;
    if (*conf->mail_from) {
        snprintf(from, sizeof(from), "%s", conf->mail_from);
    } else {
        const char *h = strstr(conf->public_url, "://");

        h = h ? h + 3 : "";
        snprintf(from, sizeof(from), "araldo@%.*s", (int)strcspn(h, ":/[]"),
                 *h && *h != '[' ? h : "localhost");
    }
    m = mail_new(
        &(struct mail_opts){
            .smtp_url = conf->smtp_url,
            .user = conf->smtp_user,
            .password = conf->smtp_password,
            .from = from,
            .allow_hosts = conf->push_allow_hosts,
            .ca_file = conf->push_ca_file,
            .timeout_ms = conf->smtp_timeout_s * 1000,
        },
        err, sizeof(err));
    if (!m) {
        fprintf(stderr, "araldo: %s\n", err);
        *ok = false;
    }
    return m;
}

/*
 * The map tile proxy (docs/DEPLOY.md, Map tiles), or NULL when map_tile_url is empty (no map).
 * Its User-Agent names this deployment, as OpenStreetMap's tile policy asks, so that the tile
 * server's operators can tell who is asking and reach them. Sets *ok to false (message printed)
 * when the settings are wrong.
 */
static struct tiles *start_tiles(const struct conf *conf, bool *ok)
{
    char dir[4096];
    char ua[600];
    char err[512];
    struct tiles *t;

    *ok = true;
    if (!*conf->map_tile_url)
        return NULL;
    snprintf(dir, sizeof(dir), "%s/tiles", conf->data_dir);
    if (*conf->public_url) {
        snprintf(ua, sizeof(ua), "araldo/1 map tile proxy (+%.500s)", conf->public_url);
    } else {
        snprintf(ua, sizeof(ua), "araldo/1 map tile proxy (+http://%.500s)", conf->listen);
    }
    t = tiles_new(
        &(struct tiles_opts){
            .url_template = conf->map_tile_url,
            .dir = dir,
            .cache_bytes = (uint64_t)conf->map_tile_cache_mb << 20,
            .max_zoom = (unsigned)conf->map_max_zoom,
            .min_fresh_s = conf->map_tile_min_fresh_s,
            .misses_per_minute = (unsigned)conf->map_tile_misses_per_ip_per_minute,
            .fetchers = (unsigned)conf->map_tile_fetchers,
            .timeout_ms = conf->map_tile_timeout_s * 1000,
            .max_tile_bytes = (size_t)conf->map_tile_max_kb << 10,
            .user_agent = ua,
            .allow_hosts = conf->push_allow_hosts,
            .ca_file = conf->push_ca_file,
        },
        err, sizeof(err));
    if (!t) {
        fprintf(stderr, "araldo: %s\n", err);
        *ok = false;
    }
    return t;
}

/*
 * The VAPID contact (RFC 8292 2.1): push_contact, else the public URL, else a placeholder that
 * works with most push services (Apple's refuses it, hence the warning). Refuses anything but
 * mailto: and https: URLs. Returns false with a message printed.
 */
static bool push_contact_ok(struct conf *conf, char *buf, size_t buflen)
{
    const char *c = conf->push_contact;

    if (!*c && !strncmp(conf->public_url, "https://", 8)) {
        c = conf->public_url;
    } else if (!*c) {
        c = "mailto:admin@localhost";
        log_warn("serve: push_contact is not set: Apple's push service refuses '%s'", c);
    }
    if ((strncmp(c, "mailto:", 7) != 0 && strncmp(c, "https://", 8) != 0) || strlen(c) > 255 ||
        strpbrk(c, "\"\\ ")) {
        fprintf(stderr, "araldo: push_contact: '%.100s' is not a mailto: or https: URL\n", c);
        return false;
    }
    snprintf(buf, buflen, "%s", c);
    return true;
}

/* The HTTP server's options from the configuration; routes and hooks are set by the caller. */
static void http_opts_from_conf(struct http_opts *ho, const struct conf *conf)
{
    memset(ho, 0, sizeof(*ho));
    ho->listen = conf->listen;
    ho->workers = worker_count(conf->workers);
    ho->max_header_bytes = (size_t)conf->max_header_bytes;
    ho->max_body_bytes = (size_t)conf->max_body_bytes;
    ho->header_timeout_ms = (uint64_t)conf->header_timeout_ms;
    ho->body_timeout_ms = (uint64_t)conf->body_timeout_ms;
    ho->idle_timeout_ms = (uint64_t)conf->idle_timeout_ms;
    ho->send_timeout_ms = (uint64_t)conf->send_timeout_ms;
    ho->max_connections = (unsigned)conf->max_connections;
    ho->max_connections_per_ip = (unsigned)conf->max_connections_per_ip;
    ho->shutdown_timeout_ms = (uint64_t)conf->shutdown_timeout_ms;
    ho->web_root = conf->web_root;
    ho->frame_ancestors = conf->frame_ancestors;
    ho->static_max_age_s = (unsigned)conf->static_max_age_s;
    ho->forwarded_rfc7239 = !strcmp(conf->forwarded_header, "forwarded");
    ho->access_log = conf->access_log;
}

/*
 * Block SIGTERM and SIGINT (the set goes in `sigs`) before any thread starts (the store's
 * writer, the counts coalescer, the media workers, the loops): threads inherit this mask, so
 * only the main thread takes the signals, with sigwait. A thread started earlier would leave
 * SIGTERM deliverable to it, and a SIGTERM arriving before the main thread reached sigwait would
 * then end the process on the spot, losing the queued writes instead of shutting down gracefully.
 */
static void block_signals(sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/*
 * The API's threads: the map tile proxy, media processing, the live-stream fan-out and Web
 * Push. Returns false (message printed, none left running) if one cannot start.
 */
static bool start_app_threads(struct api_app *app, struct store *store,
                              const struct api_settings *set, const struct conf *conf)
{
    char err[512];
    bool ok;

    app->mail = start_mail(conf, &ok);
    if (!ok)
        return false;
    app->tiles = start_tiles(conf, &ok);
    if (!ok) {
        mail_free(app->mail);
        return false;
    }
    app->media_pool = workpool_new(set->media_workers, 16 * (size_t)set->media_workers);
    if (!app->media_pool) {
        fprintf(stderr, "araldo: cannot start the media processing threads\n");
        tiles_free(app->tiles);
        mail_free(app->mail);
        return false;
    }
    /* Live streams: every durable event goes from the writer thread to the fan-out hub. */
    app->fanout = fanout_new(&(struct fanout_opts){
        .queue_bytes = set->stream_queue_bytes,
        .heartbeat_ms = 1000 * (uint64_t)set->stream_heartbeat_s,
    });
    if (!app->fanout) {
        fprintf(stderr, "araldo: cannot start the live-stream heartbeat thread\n");
        workpool_free(app->media_pool);
        tiles_free(app->tiles);
        mail_free(app->mail);
        return false;
    }
    store_set_event_sink(store, api_stream_sink, app->fanout);
    /* Web Push: the VAPID key, the queue and sender threads (after the settings are in app). */
    if (api_push_start(app, err, sizeof(err)) != 0) {
        fprintf(stderr, "araldo: %s\n", err);
        store_set_event_sink(store, NULL, NULL);
        fanout_free(app->fanout);
        workpool_free(app->media_pool);
        tiles_free(app->tiles);
        mail_free(app->mail);
        return false;
    }
    return true;
}

/*
 * Stop the threads that post answers to the loops: after http_server_stop() (nothing new comes
 * in) and before http_server_free() (their posts need the loops). Uploads still queued finish
 * their store writes; a tile fetch in flight ends within map_tile_timeout_s.
 */
static void stop_app_threads(struct api_app *app)
{
    workpool_free(app->media_pool);
    api_push_stop(app->push); /* its address checks post to the loops, too */
    tiles_free(app->tiles);
    mail_free(app->mail); /* after the pool that forwards reports by e-mail; sends what waits */
    app->mail = NULL;
}

static const struct cli_opt_help serve_opts[] = {
    { CLI_OPT_LISTEN, "address:port to listen on (setting listen; default 127.0.0.1:8080;\n"
                      "port 0 picks a free port; the address is printed as\n"
                      "'listening on http://ADDR:PORT')" },
    { CLI_OPT_DEMO, "on a new database, create a demo Comune with two channels and a\n"
                    "week of posts (what make run uses); ignored on an existing one" },
    { CLI_OPT_HELP_CONFIG, "list every setting with its default and range" },
    { CLI_OPT_END, NULL },
};

static const struct cli_command cmd_serve_help = {
    "serve",
    "usage: araldo serve [--listen ADDR] [--demo] [--data DIR] [OPTIONS]\n",
    "Run the server until SIGTERM or SIGINT (then it finishes in-flight requests and exits).\n"
    "On a new database it creates an operator account and prints its one-time password.\n",
    serve_opts,
};

/*
 * The jobs thread, and the alert-source poller (after the server is up: alerts it makes name
 * the server's address when public_url is unset). A poller that cannot start is logged: the
 * rest of the service runs without it.
 */
static struct api_jobs *start_background(struct api_app *app)
{
    char err[512];

    if (!api_sources_start(app, err, sizeof(err)))
        log_warn("serve: %s; official alert sources are not polled", err);
    if (!api_report_notices_start(app, err, sizeof(err)))
        log_warn("serve: %s; report pages are not updated live", err);
    return api_jobs_start(app);
}

int cmd_serve(struct cli *c, int argc, char **argv)
{
    struct api_settings set = { 0 };
    struct api_app app;
    struct store *store;
    struct http_server *srv = NULL;
    struct api_jobs *jobs = NULL;
    struct http_opts ho;
    struct http_cidr trusted[HTTP_TRUSTED_MAX];
    size_t ntrusted = 0;
    char contact[256];
    char err[512];
    sigset_t sigs;
    int sig = 0;
    int rc = cli_parse(c, argc, argv, &cmd_serve_help);

    if (rc)
        return rc > 0 ? 0 : 2;
    if (!settings_ok(&c->conf, trusted, &ntrusted))
        return 2;
    if (!push_contact_ok(&c->conf, contact, sizeof(contact)))
        return 2;
    /* Before any thread starts: see block_signals(). */
    block_signals(&sigs);
    store = cli_open_store(&c->conf);
    if (!store)
        return 1;
    if (first_start(store, c->demo)) {
        store_close(store);
        return 1;
    }
    api_settings_from_conf(&set, &c->conf, contact);
    api_app_init(&app, store, &set);
    if (!start_app_threads(&app, store, &set, &c->conf)) {
        api_app_release(&app);
        store_close(store);
        return 1;
    }

    http_opts_from_conf(&ho, &c->conf);
    ho.trusted_proxies = trusted;
    ho.ntrusted_proxies = ntrusted;
    ho.routes = api_routes(&ho.nroutes);
    ho.app = &app;
    ho.loop_init = api_loop_init;
    ho.loop_fini = api_loop_fini;
    srv = http_server_start(&ho, err, sizeof(err));
    if (!srv) {
        fprintf(stderr, "araldo: %s\n", err);
        stop_app_threads(&app);
        api_app_release(&app);
        store_close(store);
        fanout_free(app.fanout);
        return 1;
    }
    app.server = srv;
    jobs = start_background(&app); /* scheduled posts, retention, alert sources */
    printf("listening on http://%s\n", http_server_address(srv));
    fflush(stdout);
    /* Never the database_url itself: it may hold a password. */
    log_info("serve: %u workers, data in '%s'%s", ho.workers, c->conf.data_dir,
             *c->conf.database_url ? ", database on PostgreSQL (database_url)" : "");

    while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
        ;
    log_info("serve: %s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    api_sources_stop(app.sources); /* a poll in flight ends within alert_source_timeout_s */
    api_jobs_stop(jobs);
    api_report_notices_stop();
    http_server_stop(srv);
    /* Their answers go to loops that still exist (stopped: the post is refused, the job freed). */
    stop_app_threads(&app);
    http_server_free(srv);
    api_app_release(&app);
    store_close(store);
    fanout_free(app.fanout); /* after the writer thread, the sink's caller, has stopped */
    log_info("serve: stopped");
    return 0;
}
