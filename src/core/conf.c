/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "core/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

#define FIELD(f) __builtin_offsetof(struct conf, f)
/* What a boolean setting accepts, as --help-config and docs/CONFIG.md show it. */
#define BOOL_WORDS "true or false; also yes/no, on/off, 1/0"

/*
 * The limits' defaults follow what a Comune's server sees on a flood day: tens of thousands of
 * phones, many behind the same carrier NAT address (so the per-IP cap is generous), and a few
 * hostile clients trying to hold sockets open (so every read has a deadline).
 */
static const struct conf_def defs[] = {
    { "listen", CONF_STR, FIELD(listen), "127.0.0.1:8080", 0, 0, NULL,
      "Address and port to listen on (IPv4 `host:port` or `[v6]:port`); port 0 picks a free "
      "port." },
    { "data_dir", CONF_STR, FIELD(data_dir), "./var", 0, 0, NULL,
      "Directory holding the database (araldo.db, with SQLite), this node's own files (cached "
      "map tiles) and, unless media_dir says otherwise, uploaded media; created if missing." },
    { "database_url", CONF_STR, FIELD(database_url), "", 0, 0, NULL,
      "PostgreSQL to keep the data in instead of SQLite's data_dir/araldo.db: a "
      "`postgresql://user@host/db` URI or a libpq connection string (`host=... dbname=...`). "
      "Empty: SQLite. Media files stay under media_dir either way. A password here is a secret: "
      "prefer ~/.pgpass or PGPASSWORD. `araldo backup` is SQLite's: use pg_dump with "
      "PostgreSQL. Unless the URL says otherwise, connecting gives up after 5 s "
      "(`connect_timeout=5`), and a silent server ends a TCP connection within seconds "
      "(`keepalives_idle=10`, `keepalives_interval=5`, `keepalives_count=3`, "
      "`tcp_user_timeout=10000`); a lost connection is made again in the background, once a "
      "second at most, while requests answer 503 `database_unavailable`." },
    { "public_url", CONF_STR, FIELD(public_url), "", 0, 0, NULL,
      "The address citizens use, such as https://avvisi.comune.example.it: the base of feed "
      "links and ids, invite links and QR codes. Required when `listen` is not a loopback "
      "address; empty on loopback: http://<listen address>. Never taken from a request." },
    { "trusted_proxies", CONF_STR, FIELD(trusted_proxies), "auto", 0, 0, NULL,
      "Reverse proxies whose forwarding header names the client (addresses or ranges such as "
      "`127.0.0.1, ::1, 10.0.0.0/8`): every per-address limit then counts the client, not the "
      "proxy, and their X-Forwarded-Proto is believed. `none`: nobody. `auto`: loopback when "
      "`public_url` is https (a proxy on this machine terminates TLS), else none." },
    { "forwarded_header", CONF_ENUM, FIELD(forwarded_header), "x-forwarded-for", 0, 0,
      "x-forwarded-for|forwarded",
      "Which header trusted proxies use to name the client: X-Forwarded-For (with "
      "X-Forwarded-Proto) or RFC 7239 Forwarded (for=, proto=). The other one is ignored." },
    { "web_root", CONF_STR, FIELD(web_root), "web", 0, 0, NULL,
      "Directory of the web app's static files, served for every path outside /api/." },
    { "log_level", CONF_ENUM, FIELD(log_level), "info", 0, 0, "error|warn|info|debug",
      "Least severe log level written to stderr." },
    { "access_log", CONF_BOOL, FIELD(access_log), "true", 0, 0, NULL,
      "Write one line per request (method, path without query, status, bytes, microseconds)." },
    { "workers", CONF_LONG, FIELD(workers), "0", 0, 256, NULL,
      "Event-loop threads; 0 means one per CPU core." },
    { "max_header_bytes", CONF_LONG, FIELD(max_header_bytes), "16384", 1024, 1048576, NULL,
      "Largest request line plus headers; larger requests get 431." },
    { "max_body_bytes", CONF_LONG, FIELD(max_body_bytes), "1048576", 1024, 1073741824, NULL,
      "Default largest request body (routes may set their own); larger bodies get 413." },
    { "header_timeout_ms", CONF_LONG, FIELD(header_timeout_ms), "10000", 100, 600000, NULL,
      "Time a client has to send the request line and headers; then 408 and close." },
    { "body_timeout_ms", CONF_LONG, FIELD(body_timeout_ms), "30000", 100, 3600000, NULL,
      "Time a client has to send the whole request body; then 408 and close." },
    { "idle_timeout_ms", CONF_LONG, FIELD(idle_timeout_ms), "60000", 100, 3600000, NULL,
      "Idle keep-alive connections are closed after this long without a request." },
    { "send_timeout_ms", CONF_LONG, FIELD(send_timeout_ms), "60000", 100, 3600000, NULL,
      "A file download whose client takes none of it for this long is dropped (a slow one that "
      "keeps moving is not: the clock restarts with each step)." },
    { "max_connections", CONF_LONG, FIELD(max_connections), "19000", 1, 10000000, NULL,
      "Open client connections across all workers; past it new ones get 503 with Retry-After." },
    { "max_connections_per_ip", CONF_LONG, FIELD(max_connections_per_ip), "1000", 1, 10000000, NULL,
      "Open connections from one address; past it new ones are refused with 503. Not applied "
      "to trusted_proxies (the proxy caps its clients: docs/DEPLOY.md)." },
    { "shutdown_timeout_ms", CONF_LONG, FIELD(shutdown_timeout_ms), "4000", 0, 60000, NULL,
      "On SIGTERM/SIGINT, time given to in-flight requests before connections are closed." },
    { "frame_ancestors", CONF_STR, FIELD(frame_ancestors), "'none'", 0, 0, NULL,
      "CSP frame-ancestors sources allowed to embed the app in a frame." },
    { "static_max_age_s", CONF_LONG, FIELD(static_max_age_s), "300", 0, 31536000, NULL,
      "Cache-Control max-age for static files (they are also revalidated with ETag)." },
    { "store_batch_max", CONF_LONG, FIELD(store_batch_max), "512", 1, 100000, NULL,
      "Most writes committed together in one transaction (group commit)." },
    { "store_queue_max", CONF_LONG, FIELD(store_queue_max), "100000", 1, 10000000, NULL,
      "Writes waiting for the writer thread; past it writes fail with 503 and Retry-After." },
    { "stream_queue_bytes", CONF_LONG, FIELD(stream_queue_bytes), "262144", 4096, 67108864, NULL,
      "Bytes a live stream (SSE or WebSocket) may have unsent before it is cut off; the "
      "client reconnects and resumes where it was, so one slow phone never delays others." },
    { "stream_heartbeat_s", CONF_LONG, FIELD(stream_heartbeat_s), "25", 1, 3600, NULL,
      "Seconds between SSE comment heartbeats and WebSocket pings; a WebSocket that answers "
      "no ping for this long is closed, and a dead SSE peer is found by the write." },
    { "stream_max_channels", CONF_LONG, FIELD(stream_max_channels), "64", 1, 1000, NULL,
      "Channels one stream may carry (?channels=, a follower's follows, WebSocket subscribe); "
      "past it 400 (SSE) or an error message (WebSocket)." },
    { "stream_replay_max", CONF_LONG, FIELD(stream_replay_max), "1000", 10, 1000000, NULL,
      "Missed events replayed per channel when a stream resumes; a client further behind gets "
      "this many, then the stream ends and it resumes again from there." },
    { "ws_max_message_bytes", CONF_LONG, FIELD(ws_max_message_bytes), "4096", 128, 1048576, NULL,
      "Largest message a WebSocket client may send; past it the connection is closed with "
      "code 1009." },
    { "follower_signups_per_ip", CONF_LONG, FIELD(follower_signups_per_ip), "1200", 1, 1000000,
      NULL,
      "New anonymous followers one client address may create per 10 minutes (carrier NAT "
      "puts many phones behind one address); past it 429 with Retry-After." },
    { "reactions_per_minute", CONF_LONG, FIELD(reactions_per_minute), "30", 1, 1000000, NULL,
      "Reactions and poll votes (together) one follower token may send per minute; past it 429 "
      "with Retry-After." },
    { "reactions_per_ip_per_minute", CONF_LONG, FIELD(reactions_per_ip_per_minute), "6000", 1,
      100000000, NULL,
      "Reactions and poll votes (together) from one client address per minute: "
      "generous, because carrier NAT puts thousands of phones behind one address; past it 429 "
      "with Retry-After." },
    { "reports_per_follower_per_hour", CONF_LONG, FIELD(reports_per_follower_per_hour), "20", 1,
      100000, NULL,
      "Citizen reports (Open311 POST) one follower token may file per hour; past it 429 with "
      "Retry-After." },
    { "reports_per_ip_per_hour", CONF_LONG, FIELD(reports_per_ip_per_hour), "600", 1, 10000000,
      NULL,
      "Citizen reports filed without an API key from one client address per hour (carrier NAT "
      "puts many phones behind one address); past it 429 with Retry-After." },
    { "media_image_max_bytes", CONF_LONG, FIELD(media_image_max_bytes), "15728640", 1024, 33554432,
      NULL, "Largest photo upload (JPEG, PNG, WebP, HEIC) in bytes; larger ones get 413." },
    { "media_voice_max_bytes", CONF_LONG, FIELD(media_voice_max_bytes), "5242880", 1024, 33554432,
      NULL, "Largest voice note upload (Ogg/Opus, M4A) in bytes; larger ones get 413." },
    { "media_document_max_bytes", CONF_LONG, FIELD(media_document_max_bytes), "10485760", 1024,
      33554432, NULL, "Largest document upload (PDF) in bytes; larger ones get 413." },
    { "media_max_pixels", CONF_LONG, FIELD(media_max_pixels), "50000000", 1, 1000000000, NULL,
      "Most pixels (width x height, read from the header before decoding) an uploaded image may "
      "have; more gets 422 image_too_large (decompression bombs)." },
    { "media_workers", CONF_LONG, FIELD(media_workers), "2", 1, 64, NULL,
      "Threads processing uploaded images off the event loops (each decodes one image at a "
      "time); 16 uploads per thread may wait, past that 503." },
    { "media_dir", CONF_STR, FIELD(media_dir), "", 0, 0, NULL,
      "Directory holding uploaded media files; created if missing. Empty: data_dir/media. "
      "Several nodes on one PostgreSQL database must share it (an NFS mount, say), so that a "
      "photo uploaded through one node is served by the others; object stores are not "
      "supported." },
    { "cluster_lease_s", CONF_LONG, FIELD(cluster_lease_s), "15", 2, 600, NULL,
      "Background work done once per cluster (scheduled posts, retention, counts events, alert "
      "sources) runs on the node holding its lease, renewed every third of this many seconds; "
      "when that node dies another takes over after at most this long." },
    { "media_keep_originals", CONF_BOOL, FIELD(media_keep_originals), "false", 0, 0, NULL,
      "Also keep each uploaded photo as sent, with its metadata (GPS position included); only "
      "the processed sizes are ever served." },
    { "alert_source_stale_hours", CONF_LONG, FIELD(alert_source_stale_hours), "26", 1, 720, NULL,
      "Hours without a successful fetch after which an official alert source (DPC bulletin, "
      "LaMMA, CAP feed) is stale: its health says so and the org's staff are warned (a bulletin "
      "is issued daily, so a day plus two hours)." },
    { "alert_source_timeout_s", CONF_LONG, FIELD(alert_source_timeout_s), "30", 1, 600, NULL,
      "Seconds allowed for one request to an official alert source (connecting included); "
      "past it the poll fails and the source's health shows the error." },
    { "alert_source_max_bytes", CONF_LONG, FIELD(alert_source_max_bytes), "33554432", 65536,
      268435456, NULL,
      "Largest answer read from an official alert source, after decompression (a DPC day file "
      "is about 6 MB); a larger one fails the poll." },
    { "alert_source_schedule", CONF_BOOL, FIELD(alert_source_schedule), "true", 0, 0, NULL,
      "Poll each official alert source every interval_s; false polls one only when staff ask "
      "(POST .../alert-sources/{id}/poll), for test and staging servers that must not call "
      "out." },
    { "push_contact", CONF_STR, FIELD(push_contact), "", 0, 0, NULL,
      "Web Push: the operator's contact sent to push services in every VAPID token (RFC 8292), "
      "a mailto: or https: URL; empty: public_url, else mailto:admin@localhost (Apple refuses "
      "that one: set it)." },
    { "push_allow_hosts", CONF_STR, FIELD(push_allow_hosts), "", 0, 0, NULL,
      "Web Push: host names (comma-separated) whose endpoints may resolve to loopback or "
      "private addresses; every other endpoint must be on a public address (no SSRF)." },
    { "push_ca_file", CONF_STR, FIELD(push_ca_file), "", 0, 0, NULL,
      "Web Push: PEM file of the CAs that push services' certificates are verified against; "
      "empty: the system's CAs. Verification is never switched off." },
    { "push_subscriptions_per_follower", CONF_LONG, FIELD(push_subscriptions_per_follower), "5", 1,
      100, NULL, "Web Push: subscriptions (browsers, devices) one follower may have." },
    { "push_ttl_s", CONF_LONG, FIELD(push_ttl_s), "43200", 60, 2419200, NULL,
      "Web Push: how long a post's notification is worth delivering (TTL); a phone that is off "
      "longer never gets it." },
    { "push_alert_ttl_s", CONF_LONG, FIELD(push_alert_ttl_s), "86400", 60, 86400, NULL,
      "Web Push: the longest TTL of a civil-protection alert's notification; it never outlives "
      "the alert's expiry either." },
    { "push_timeout_ms", CONF_LONG, FIELD(push_timeout_ms), "30000", 100, 600000, NULL,
      "Web Push: time allowed for one request to a push service (connecting included); then it "
      "is retried." },
    { "push_origin_concurrency", CONF_LONG, FIELD(push_origin_concurrency), "100", 1, 10000, NULL,
      "Web Push: requests in flight per push service (streams on its HTTP/2 connection)." },
    { "push_inflight_max", CONF_LONG, FIELD(push_inflight_max), "4096", 16, 100000, NULL,
      "Web Push: deliveries being encrypted or sent at once, all push services together." },
    { "push_max_tries", CONF_LONG, FIELD(push_max_tries), "5", 1, 50, NULL,
      "Web Push: attempts per notification (429, 5xx, timeouts are retried) before giving up." },
    { "push_retry_base_ms", CONF_LONG, FIELD(push_retry_base_ms), "5000", 10, 3600000, NULL,
      "Web Push: the first retry's delay; it doubles each time (with jitter), unless the push "
      "service says Retry-After." },
    { "push_lease_s", CONF_LONG, FIELD(push_lease_s), "60", 3, 3600, NULL,
      "Web Push: how long a node holds the deliveries it claimed (renewed every third of it "
      "while it sends); the deliveries of a node that died are sent by another node when its "
      "lease ends. Shorter: a dead node's work is taken over sooner; it must stay well above a "
      "pause of the node or the database, or a slow node's deliveries may go out twice." },
    { "smtp_url", CONF_STR, FIELD(smtp_url), "", 0, 0, NULL,
      "Mail: the Comune's own mail relay, `smtps://host:465` (TLS from the start) or "
      "`smtp://host:587` (STARTTLS required; plain SMTP only to a host in `push_allow_hosts`). "
      "TLS is verified with `push_ca_file`. Empty: no e-mail is sent (stale-source warnings "
      "stay in the console; forward targets of kind email are refused)." },
    { "smtp_user", CONF_STR, FIELD(smtp_user), "", 0, 0, NULL,
      "Mail: the user name for the relay's AUTH; empty: no AUTH." },
    { "smtp_password", CONF_STR, FIELD(smtp_password), "", 0, 0, NULL,
      "Mail: the password for the relay's AUTH. Put it in the configuration file (readable by "
      "araldo only), not on the command line; it is never logged nor shown by the API." },
    { "mail_from", CONF_STR, FIELD(mail_from), "", 0, 0, NULL,
      "Mail: the sender address of every message; empty: araldo@ the host of `public_url` "
      "(araldo@localhost without one)." },
    { "smtp_timeout_s", CONF_LONG, FIELD(smtp_timeout_s), "30", 1, 600, NULL,
      "Mail: seconds allowed for sending one message to the relay (connecting included); then "
      "it fails, is logged and counted (araldo_mail_failed_total)." },
    { "map_tile_url", CONF_STR, FIELD(map_tile_url),
      "https://tile.openstreetmap.org/{z}/{x}/{y}.png", 0, 0, NULL,
      "Map: the tile server the map's tiles come from, an https URL with `{z}`, `{x}` and `{y}`. "
      "Browsers never call it: they ask this server (/tiles/{z}/{x}/{y}.png), which fetches each "
      "tile once and keeps it (docs/DEPLOY.md, Map tiles: OpenStreetMap's usage policy), under "
      "the rules of every outgoing request (`push_allow_hosts`, `push_ca_file`). Empty: no map; "
      "citizens give the position by GPS or address." },
    { "map_attribution", CONF_STR, FIELD(map_attribution), "© OpenStreetMap contributors", 0, 0,
      NULL, "Map: the credit the tile server's licence asks for, shown on every map." },
    { "map_max_zoom", CONF_LONG, FIELD(map_max_zoom), "19", 0, 22, NULL,
      "Map: the highest zoom level offered (OpenStreetMap's tiles go to 19); tiles beyond it get "
      "400." },
    { "map_tile_cache_mb", CONF_LONG, FIELD(map_tile_cache_mb), "256", 1, 1048576, NULL,
      "Map: disk space for cached tiles (under data_dir/tiles) in MiB; past it the least recently "
      "used tiles are deleted." },
    { "map_tile_min_fresh_s", CONF_LONG, FIELD(map_tile_min_fresh_s), "604800", 0, 31536000, NULL,
      "Map: a tile is kept at least this long (or as long as the tile server's cache headers say, "
      "if longer) before it is revalidated. OpenStreetMap's usage policy asks for 7 days." },
    { "map_tile_misses_per_ip_per_minute", CONF_LONG, FIELD(map_tile_misses_per_ip_per_minute),
      "300", 1, 1000000, NULL,
      "Map: tiles one client address may cause to be fetched from the tile server per minute "
      "(cached ones do not count); past it 429 with Retry-After, so nobody can use the proxy to "
      "download tiles in bulk." },
    { "map_tile_fetchers", CONF_LONG, FIELD(map_tile_fetchers), "2", 1, 16, NULL,
      "Map: threads fetching tiles from the tile server (one request each at a time); 64 fetches "
      "per thread may wait, past that 503." },
    { "map_tile_timeout_s", CONF_LONG, FIELD(map_tile_timeout_s), "20", 1, 600, NULL,
      "Map: seconds allowed for one request to the tile server; then 502 (or the stale copy)." },
    { "map_tile_max_kb", CONF_LONG, FIELD(map_tile_max_kb), "512", 16, 16384, NULL,
      "Map: the largest tile accepted from the tile server, in KiB; a larger one gets 502." },
};

size_t conf_def_count(void)
{
    return ARRAY_SIZE(defs);
}

const struct conf_def *conf_def_at(size_t i)
{
    return i < ARRAY_SIZE(defs) ? &defs[i] : NULL;
}

/* Settings with a default that "" switches off (a feature on by default, such as the map). */
static bool empty_ok(const struct conf_def *d)
{
    return !strcmp(d->name, "map_tile_url");
}

static const struct conf_def *find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
        if (!strcmp(defs[i].name, name))
            return &defs[i];
    }
    return NULL;
}

static bool in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *p = choices;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);

        if (len == n && !strncmp(p, v, n))
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

/*
 * Config files say yes/no and on/off as often as true/false, so all of them are booleans (and
 * 1/0); the error message names every accepted word, so the set and the message agree.
 */
static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0")) {
        *out = false;
        return 0;
    }
    return -EINVAL;
}

int conf_set(struct conf *c, const char *name, const char *value, char *err, size_t errlen)
{
    const struct conf_def *d = find(name);
    char *field;
    char *end;
    long l;
    bool b;

    if (!d) {
        snprintf(err, errlen, "unknown setting '%s' (see araldo serve --help-config)", name);
        return -ENOENT;
    }
    field = (char *)c + d->offset;
    switch (d->type) {
    case CONF_STR:
        /* A setting whose default is empty is optional: empty means "not set". */
        if ((!*value && *d->defval && !empty_ok(d)) || strlen(value) > 4096) {
            snprintf(err, errlen, "%s: value must be 1 to 4096 characters", name);
            return -EINVAL;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    case CONF_ENUM:
        if (!in_choices(d->choices, value)) {
            snprintf(err, errlen, "%s: '%.64s' is not one of %s", name, value, d->choices);
            return -EINVAL;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return 0;
    case CONF_BOOL:
        if (parse_bool(value, &b)) {
            snprintf(err, errlen, "%s: '%.64s' is not a boolean (" BOOL_WORDS ")", name, value);
            return -EINVAL;
        }
        *(bool *)field = b;
        return 0;
    case CONF_LONG:
        errno = 0;
        l = strtol(value, &end, 10);
        if (!*value || *end || errno) {
            snprintf(err, errlen, "%s: '%.64s' is not a whole number", name, value);
            return -EINVAL;
        }
        if (l < d->min || l > d->max) {
            snprintf(err, errlen, "%s: %ld is outside %ld..%ld", name, l, d->min, d->max);
            return -EINVAL;
        }
        *(long *)field = l;
        return 0;
    }
    return -EINVAL;
}

void conf_init(struct conf *c)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
        int rc = conf_set(c, defs[i].name, defs[i].defval, err, sizeof(err));

        if (rc) {
            fprintf(stderr, "fatal: bad default: %s\n", err);
            abort();
        }
    }
}

void conf_release(struct conf *c)
{
    for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
        if (defs[i].type == CONF_STR || defs[i].type == CONF_ENUM) {
            char **p = (char **)((char *)c + defs[i].offset);

            free(*p);
            *p = NULL;
        }
    }
}

int conf_set_pair(struct conf *c, const char *pair, char *err, size_t errlen)
{
    const char *eq = strchr(pair, '=');
    char name[64];
    size_t n;

    if (!eq || eq == pair || (size_t)(eq - pair) >= sizeof(name)) {
        snprintf(err, errlen, "--set: expected name=value, got '%.64s'", pair);
        return -EINVAL;
    }
    n = (size_t)(eq - pair);
    memcpy(name, pair, n);
    name[n] = '\0';
    return conf_set(c, name, eq + 1, err, errlen);
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* One `key = value` line; a value may be wrapped in double quotes to keep spaces or '#'. */
static int parse_line(struct conf *c, const char *s, const char *e, char *err, size_t errlen)
{
    char name[64];
    char value[4097];
    const char *eq;
    const char *hash;
    size_t n;

    trim(&s, &e);
    if (s == e || *s == '#')
        return 0;
    eq = memchr(s, '=', (size_t)(e - s));
    if (!eq) {
        snprintf(err, errlen, "expected 'name = value'");
        return -EINVAL;
    }
    {
        const char *ns = s;
        const char *ne = eq;

        trim(&ns, &ne);
        n = (size_t)(ne - ns);
        if (!n || n >= sizeof(name)) {
            snprintf(err, errlen, "missing or over-long setting name");
            return -EINVAL;
        }
        memcpy(name, ns, n);
        name[n] = '\0';
    }
    s = eq + 1;
    trim(&s, &e);
    if (s < e && *s == '"') {
        const char *q = memchr(s + 1, '"', (size_t)(e - s - 1));

        if (!q || q + 1 != e) {
            snprintf(err, errlen, "%s: unterminated quoted value", name);
            return -EINVAL;
        }
        s++;
        e = q;
    } else {
        hash = memchr(s, '#', (size_t)(e - s));
        if (hash) {
            e = hash;
            trim(&s, &e);
        }
    }
    n = (size_t)(e - s);
    if (n >= sizeof(value) || memchr(s, '\0', n)) {
        snprintf(err, errlen, "%s: value too long or contains NUL", name);
        return -EINVAL;
    }
    memcpy(value, s, n);
    value[n] = '\0';
    return conf_set(c, name, value, err, errlen);
}

int conf_parse(struct conf *c, const char *text, size_t len, const char *origin, char *err,
               size_t errlen)
{
    const char *p = text;
    const char *end = text + len;
    int lineno = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        char why[384];
        int rc;

        lineno++;
        rc = parse_line(c, p, le, why, sizeof(why));
        if (rc) {
            snprintf(err, errlen, "%s:%d: %s", origin, lineno, why);
            return rc == -ENOENT ? -EINVAL : rc;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int conf_load_file(struct conf *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct buf text;
    char chunk[4096];
    size_t n;
    int rc = 0;

    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "config: cannot open '%s': %s", path, strerror(errno));
        return rc;
    }
    buf_init(&text, 1 << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = buf_append(&text, chunk, n);
        if (rc) {
            snprintf(err, errlen, "config: '%s' is larger than 1 MiB", path);
            goto out;
        }
    }
    if (ferror(f)) {
        rc = -EIO;
        snprintf(err, errlen, "config: cannot read '%s'", path);
        goto out;
    }
    rc = conf_parse(c, text.data ? text.data : "", text.len, path, err, errlen);
out:
    fclose(f);
    buf_release(&text);
    return rc;
}

static const char *type_name(const struct conf_def *d)
{
    switch (d->type) {
    case CONF_STR:
        return "text";
    case CONF_LONG:
        return "integer";
    case CONF_BOOL:
        return "boolean";
    case CONF_ENUM:
        return "choice";
    }
    return "?";
}

void conf_print_help(FILE *f)
{
    fprintf(f, "Settings (config file `name = value`, or --set name=value):\n\n");
    for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
        const struct conf_def *d = &defs[i];

        fprintf(f, "  %-24s %s (default %s", d->name, type_name(d), d->defval);
        if (d->type == CONF_LONG)
            fprintf(f, ", %ld..%ld", d->min, d->max);
        if (d->type == CONF_ENUM)
            fprintf(f, ": %s", d->choices);
        if (d->type == CONF_BOOL)
            fprintf(f, "; %s", BOOL_WORDS);
        fprintf(f, ")\n      %s\n", d->doc);
    }
}

void conf_print_markdown(FILE *f)
{
    fprintf(f, "| setting | type | default | range | meaning |\n");
    fprintf(f, "| --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < ARRAY_SIZE(defs); i++) {
        const struct conf_def *d = &defs[i];

        fprintf(f, "| `%s` | %s | `%s` | ", d->name, type_name(d), d->defval);
        if (d->type == CONF_LONG)
            fprintf(f, "%ld–%ld", d->min, d->max);
        if (d->type == CONF_BOOL)
            fputs(BOOL_WORDS, f);
        for (const char *p = d->type == CONF_ENUM ? d->choices : ""; *p; p++)
            fputs(*p == '|' ? ", " : (char[]){ *p, 0 }, f);
        fprintf(f, " | %s |\n", d->doc);
    }
}
