/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What every resource shares: the route table, the per-loop store reader, JSON in and out,
 * errno-to-status mapping and answering after a durable write.
 */
#include "api/api_int.h"
#include "api/counts_int.h"
#include "api/reports_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/format.h"
#include "core/json.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/secret.h"
#include "fanout/fanout.h"

/*
 * Each resource file exports its routes as a struct api_route_set; the table is their
 * concatenation, built once. Sets of capabilities still being written are weak references
 * (absent: skipped), so each resource can land on its own.
 */
extern const struct api_route_set api_accounts_routes __attribute__((weak));
extern const struct api_route_set api_channels_routes __attribute__((weak));
extern const struct api_route_set api_followers_routes __attribute__((weak));
extern const struct api_route_set api_posts_routes __attribute__((weak));
extern const struct api_route_set api_media_routes __attribute__((weak));
extern const struct api_route_set api_reactions_routes __attribute__((weak));
extern const struct api_route_set api_polls_routes __attribute__((weak));
extern const struct api_route_set api_stream_routes __attribute__((weak));
extern const struct api_route_set api_pages_routes __attribute__((weak));
extern const struct api_route_set api_alerts_routes __attribute__((weak));
extern const struct api_route_set api_open311_routes __attribute__((weak));
extern const struct api_route_set api_reports_routes __attribute__((weak));
extern const struct api_route_set api_push_routes __attribute__((weak));
extern const struct api_route_set api_console_routes __attribute__((weak));
extern const struct api_route_set api_sources_routes __attribute__((weak));
extern const struct api_route_set api_tiles_routes __attribute__((weak));

#define MAX_ROUTES 256

const struct http_route *api_routes(size_t *n)
{
    static struct http_route table[MAX_ROUTES];
    static size_t count;
    const struct api_route_set *sets[] = {
        &api_ops_routes,       &api_tokens_routes,  &api_accounts_routes, &api_channels_routes,
        &api_followers_routes, &api_posts_routes,   &api_media_routes,    &api_reactions_routes,
        &api_polls_routes,     &api_stream_routes,  &api_pages_routes,    &api_alerts_routes,
        &api_open311_routes,   &api_reports_routes, &api_push_routes,     &api_console_routes,
        &api_sources_routes,   &api_tiles_routes,
    };

    if (!count) {
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
            if (!sets[i])
                continue;
            for (size_t j = 0; j < sets[i]->n; j++) {
                if (count == MAX_ROUTES)
                    abort();
                table[count] = sets[i]->routes[j];
                /* Stale credentials are refused even where none are needed (api/auth.c). */
                if (!table[count].admit && !strncmp(table[count].pattern, "/api/", 5))
                    table[count].admit = api__admit;
                count++;
            }
        }
    }
    *n = count;
    return table;
}

/*
 * A follower costs one row and nothing personal, but a script could mint millions: cap new
 * followers per client address. Carrier NAT puts thousands of phones behind one address on a
 * flood day, so the default is generous (a setting). Buckets are hashed into a fixed table, so
 * a flood of addresses costs no memory.
 */
#define FOLLOWER_SIGNUP_WINDOW_MS (10LL * 60 * 1000)
#define FOLLOWER_SIGNUP_SLOTS     4096
/* Buckets for reactions and votes: one per active follower on a flood day, then recycled. */
#define REACTION_WINDOW_MS   (60LL * 1000)
#define REACTION_TOKEN_SLOTS 65536
#define REACTION_IP_SLOTS    8192
/* Citizen reports: an hour's budget per follower token and per address. */
#define REPORT_WINDOW_MS   (3600LL * 1000)
#define REPORT_TOKEN_SLOTS 16384
#define REPORT_IP_SLOTS    8192

static bool hex_name(const char *s)
{
    if (strlen(s) != API_NODE_ID_LEN)
        return false;
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    }
    return true;
}

/* Make DATA_DIR/node-id (written under a temporary name and linked: two starts never mix). */
static int node_id_make(const char *path, char out[API_NODE_ID_LEN + 1], char *err, size_t errlen)
{
    uint8_t raw[API_NODE_ID_LEN / 2];
    char tmp[4200];
    int fd;
    bool ok;

    secret_random(raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "node: cannot create '%s': %s", tmp, strerror(errno));
        return -1;
    }
    ok = write(fd, out, API_NODE_ID_LEN) == API_NODE_ID_LEN && write(fd, "\n", 1) == 1 &&
         fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    /* link() fails if another process made it first: then that one is the name. */
    if (ok && link(tmp, path) != 0 && errno != EEXIST)
        ok = false;
    (void)unlink(tmp);
    if (!ok)
        snprintf(err, errlen, "node: cannot write '%s': %s", path, strerror(errno));
    return ok ? 0 : -1;
}

static int node_id_read(const char *data_dir, char out[API_NODE_ID_LEN + 1], char *err,
                        size_t errlen)
{
    char path[4096];
    char buf[API_NODE_ID_LEN + 2] = "";
    FILE *f;

    if ((size_t)snprintf(path, sizeof(path), "%s/node-id", data_dir) >= sizeof(path)) {
        snprintf(err, errlen, "node: data directory path too long");
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        f = fopen(path, "re");
        if (f) {
            if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
            fclose(f);
            buf[strcspn(buf, "\n")] = '\0';
            if (!hex_name(buf)) {
                snprintf(err, errlen, "node: '%s' does not hold a node name: remove it", path);
                return -1;
            }
            memcpy(out, buf, API_NODE_ID_LEN + 1);
            return 0;
        }
        if (errno != ENOENT) {
            snprintf(err, errlen, "node: cannot read '%s': %s", path, strerror(errno));
            return -1;
        }
        if (node_id_make(path, out, err, errlen))
            return -1;
    }
    snprintf(err, errlen, "node: cannot read '%s'", path);
    return -1;
}

/*
 * This node's name in the cluster's leases (api/lease.c, the push queue's): DATA_DIR/node-id,
 * made once with a random name (node_id_read). Kept across restarts, so a node restarted
 * after a crash takes its own leases back at once instead of waiting for them to expire (a
 * single SQLite server's scheduled posts are not late after a crash). Each node has its own
 * data_dir, so each has its own name; a data_dir copied to another machine must lose its
 * node-id (docs/DEPLOY.md). Random for this run if the file cannot be read or made.
 */
static void node_id(struct api_app *a)
{
    char err[4608]; /* holds a path */
    uint8_t raw[API_NODE_ID_LEN / 2];

    if (node_id_read(a->set.data_dir ? a->set.data_dir : ".", a->node_id, err, sizeof(err)) == 0)
        return;
    log_warn("api: %s: this node's leases wait to expire after a restart", err);
    secret_random(raw, sizeof(raw));
    secret_hex(raw, sizeof(raw), a->node_id);
}

void api_app_init(struct api_app *a, struct store *store, const struct api_settings *set)
{
    memset(a, 0, sizeof(*a));
    a->store = store;
    a->set = *set;
    node_id(a);
    a->follower_signups = ratelimit_new(FOLLOWER_SIGNUP_SLOTS, set->follower_signups_per_ip,
                                        FOLLOWER_SIGNUP_WINDOW_MS);
    /* Reactions and votes share one budget per follower token and one per address. */
    a->reactions_by_token =
        ratelimit_new(REACTION_TOKEN_SLOTS, set->reactions_per_minute, REACTION_WINDOW_MS);
    a->reactions_by_ip =
        ratelimit_new(REACTION_IP_SLOTS, set->reactions_per_ip_per_minute, REACTION_WINDOW_MS);
    a->counts = api__counts_start(a);
    a->reports_by_token =
        ratelimit_new(REPORT_TOKEN_SLOTS, set->reports_per_follower_per_hour, REPORT_WINDOW_MS);
    a->reports_by_ip =
        ratelimit_new(REPORT_IP_SLOTS, set->reports_per_ip_per_hour, REPORT_WINDOW_MS);
    a->key_rates = api__key_rates_new();
}

void api_app_release(struct api_app *a)
{
    api__counts_stop(a->counts); /* its last events are written before the store closes */
    a->counts = NULL;
    ratelimit_free(a->follower_signups);
    a->follower_signups = NULL;
    ratelimit_free(a->reactions_by_token);
    a->reactions_by_token = NULL;
    ratelimit_free(a->reactions_by_ip);
    a->reactions_by_ip = NULL;
    ratelimit_free(a->reports_by_token);
    a->reports_by_token = NULL;
    ratelimit_free(a->reports_by_ip);
    a->reports_by_ip = NULL;
    api__key_rates_free(a->key_rates);
    a->key_rates = NULL;
}

void *api_loop_init(void *app, struct http_loop *loop)
{
    struct api_app *a = app;
    struct api_loop *l = xcalloc(1, sizeof(*l));
    char err[256];

    l->loop = loop;
    l->reader = store_reader_open(a->store, err, sizeof(err));
    if (!l->reader) {
        log_error("api: %s", err);
        abort();
    }
    return l;
}

void api_loop_fini(void *app, void *loop_ctx)
{
    struct api_loop *l = loop_ctx;

    (void)app;
    if (!l)
        return;
    api__posts_cache_free(l->posts_cache);
    api__pages_cache_free(l->pages_cache);
    api__alerts_cache_free(l->alerts_cache);
    fanout_loop_free(l->fanout); /* its streams ended before the loop stopped */
    store_reader_close(l->reader);
    free(l);
}

void api__json(struct http_req *r, int status, json_t *v)
{
    size_t len;
    char *s = json_encode(v, &len);

    json_decref(v);
    http_resp_header(r, "Cache-Control", "no-store");
    http_respond(r, status, "application/json", s, len);
    free(s);
}

void api__errno(struct http_req *r, int err, const char *what)
{
    switch (err) {
    case -EINVAL:
        http_respond_error(r, 400, "invalid", "The request is not valid.", NULL);
        return;
    case -EACCES:
        http_respond_error(r, 403, "forbidden", "You are not allowed to do this.", NULL);
        return;
    case -ENOENT:
        http_respond_error(r, 404, "not_found", "Not found: check the address or the id.", NULL);
        return;
    case -EEXIST:
        http_respond_error(r, 409, "conflict", "It already exists.", NULL);
        return;
    case -EMSGSIZE:
        http_respond_error(r, 413, "too_large", "The request is too large.", NULL);
        return;
    case -EAGAIN:
        http_resp_header(r, "Retry-After", "1");
        http_respond_error(r, 429, "rate_limited", "Too many requests: retry later.", NULL);
        return;
    case -ENOSPC:
        /* The disk is full (the store logged it and counts it): the operator's to fix, not a
         * bug, and nothing of the request was kept. 507 says exactly that (RFC 4918 11.5). */
        http_resp_header(r, "Retry-After", "60");
        http_respond_error(r, 507, "storage_full",
                           "The server has run out of storage space, so nothing was saved. "
                           "Try again later.",
                           NULL);
        return;
    case -ENOBUFS:
    case -ESHUTDOWN:
        http_resp_header(r, "Retry-After", "5");
        http_respond_error(r, 503, "overloaded",
                           "The server is busy or restarting: retry in a few seconds.", NULL);
        return;
    default:
        if (err == -EIO && store_db_unreachable()) {
            /* Not a bug: the database is down (the store logged it). Another node may serve. */
            http_resp_header(r, "Retry-After", "5");
            http_respond_error(r, 503, "database_unavailable",
                               "The database cannot be reached right now: retry in a few "
                               "seconds.",
                               NULL);
            return;
        }
        log_error("api: %s failed: %s", what, strerror(-err));
        http_respond_error(r, 500, "internal",
                           "Something went wrong on the server; the error was logged.", NULL);
        return;
    }
}

static bool listed(const char *const *names, const char *key)
{
    for (size_t i = 0; names && names[i]; i++) {
        if (!strcmp(names[i], key))
            return true;
    }
    return false;
}

static bool immutable(const struct api_immutable *imm, const char *key)
{
    for (size_t i = 0; imm && imm[i].field; i++) {
        if (!strcmp(imm[i].field, key))
            return true;
    }
    return false;
}

/* The body as a JSON object whose keys are all in `allowed` or `imm`; answers and NULL if not. */
static json_t *body_object(struct http_req *r, const char *const *allowed,
                           const struct api_immutable *imm)
{
    size_t len;
    const char *body = http_req_body(r, &len);
    char why[256];
    char msg[320];
    json_t *v;
    const char *key;
    json_t *val;

    if (!len) {
        http_respond_error(r, 400, "invalid_json", "A JSON object body is required.", NULL);
        return NULL;
    }
    v = json_parse(body, len, why, sizeof(why));
    if (!v) {
        snprintf(msg, sizeof(msg), "The body is not valid JSON (%s).", why);
        http_respond_error(r, 400, "invalid_json", msg, NULL);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        http_respond_error(r, 400, "invalid_json", "The body must be a JSON object.", NULL);
        return NULL;
    }
    json_object_foreach(v, key, val)
    {
        if (!listed(allowed, key) && !immutable(imm, key)) {
            snprintf(msg, sizeof(msg), "Unknown field '%.64s'.", key);
            http_respond_error(r, 400, "unknown_field", msg, key);
            json_decref(v);
            return NULL;
        }
    }
    return v;
}

json_t *api__body_object(struct http_req *r, const char *const *allowed)
{
    return body_object(r, allowed, NULL);
}

json_t *api__patch_body(struct http_req *r, const char *const *changeable,
                        const struct api_immutable *imm)
{
    json_t *v = body_object(r, changeable, imm);
    char msg[200];

    for (size_t i = 0; v && imm && imm[i].field; i++) {
        if (!json_object_get(v, imm[i].field))
            continue;
        snprintf(msg, sizeof(msg), "'%s' cannot be changed%s", imm[i].field,
                 imm[i].why ? imm[i].why : ".");
        http_respond_error(r, 400, "immutable_field", msg, imm[i].field);
        json_decref(v);
        return NULL;
    }
    if (v && !json_object_size(v)) {
        http_respond_error(r, 400, "empty_patch",
                           "Send at least one field to change (an empty object changes nothing).",
                           NULL);
        json_decref(v);
        return NULL;
    }
    return v;
}

/* Characters, not bytes: jansson has already checked the UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

bool api__string(struct http_req *r, json_t *obj, const char *key, bool required, size_t min,
                 size_t max, const char **out)
{
    json_t *v = json_object_get(obj, key);
    char msg[160];
    size_t n;

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return true;
        snprintf(msg, sizeof(msg), "'%s' is required.", key);
        http_respond_error(r, 400, "missing_field", msg, key);
        return false;
    }
    if (!json_is_string(v)) {
        snprintf(msg, sizeof(msg), "'%s' must be a string.", key);
        http_respond_error(r, 400, "wrong_type", msg, key);
        return false;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(msg, sizeof(msg), "'%s' must not contain NUL characters.", key);
        http_respond_error(r, 400, "invalid_value", msg, key);
        return false;
    }
    n = utf8_chars(json_string_value(v));
    if (n < min || n > max) {
        snprintf(msg, sizeof(msg), "'%s' must be %zu to %zu characters long.", key, min, max);
        http_respond_error(r, 400, n < min ? "too_short" : "too_long", msg, key);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

bool api__label(struct http_req *r, json_t *obj, const char *key, bool required, size_t min,
                size_t max, bool multiline, const char **out)
{
    char msg[200];

    if (!api__string(r, obj, key, required, min, max, out))
        return false;
    if (*out && !format_label_ok(*out, strlen(*out), multiline)) {
        snprintf(msg, sizeof(msg),
                 "'%s' must not contain control characters%s or bidirectional overrides.", key,
                 multiline ? " (other than line breaks)" : " or line breaks");
        http_respond_error(r, 400, "invalid_value", msg, key);
        *out = NULL;
        return false;
    }
    return true;
}

struct api_pending {
    struct http_req *req;
    struct http_loop *loop;
    api_finish_fn *finish;
    void *data;
    int err;
    int64_t id;
};

struct api_pending *api__pending_new(struct http_req *r, api_finish_fn *finish, void *data)
{
    struct api_pending *p = xcalloc(1, sizeof(*p));

    p->req = r;
    p->loop = http_req_loop(r);
    p->finish = finish;
    p->data = data;
    return p;
}

void api__pending_free(struct api_pending *p)
{
    free(p);
}

static void pending_on_loop(void *arg)
{
    struct api_pending *p = arg;

    p->finish(p->req, p->err, p->id, p->data);
    free(p);
}

/* Runs on the store's writer thread: carry the outcome back to the request's loop. */
void api__pending_done(void *ctx, int err, int64_t id)
{
    struct api_pending *p = ctx;

    p->err = err;
    p->id = id;
    if (http_loop_post(p->loop, pending_on_loop, p) != 0) {
        /* The loop is gone (shutdown past its deadline): its connections were closed. */
        free(p);
    }
}

void api__base_url(struct http_req *r, char *out, size_t outlen)
{
    const char *pub = api__app(r)->set.public_url;

    if (pub && *pub) {
        snprintf(out, outlen, "%s", pub);
    } else {
        snprintf(out, outlen, "http://%s", http_req_server_address(r));
    }
}
