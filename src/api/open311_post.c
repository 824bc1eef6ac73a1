/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * POST /open311/v2/requests.{json,xml}: a citizen's report (docs/OPEN311.md). The body is
 * application/x-www-form-urlencoded as GeoReport v2 says, or multipart/form-data with the same
 * fields plus the photo itself in a part named "media" (our documented extension). Who may
 * post: a third-party app with its org's api_key, or the web app with a follower token; a
 * photo goes through the media module (sniffed, capped, metadata stripped) before the report
 * is stored. Contact fields go to the store's report_contacts and nowhere else: not in the
 * answer, not in a log line.
 */
#include "api/reports_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/counts_int.h"
#include "api/media_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/ratelimit.h"
#include "core/secret.h"
#include "media/multipart.h"
#include "open311/encode.h"
#include "open311/form.h"
#include "store/channels.h"

#define FORM_BODY_MAX    ((size_t)64 * 1024)
#define KEY_RATE_SLOTS   1024
#define KEY_WINDOW_MS    (60LL * 1000)
#define ATTR_VALUE_MAX   2000
#define REPORT_TOKEN_LEN 64

enum fmt { FMT_JSON, FMT_XML };

/* ---- per-key budgets: a fixed window per key id, in a small fixed table ---- */

struct key_slot {
    int64_t key_id;
    int64_t window_ms;
    int count;
};

struct api_key_rates {
    pthread_mutex_t mu;
    struct key_slot slot[KEY_RATE_SLOTS];
};

struct api_key_rates *api__key_rates_new(void)
{
    struct api_key_rates *k = xcalloc(1, sizeof(*k));

    pthread_mutex_init(&k->mu, NULL);
    return k;
}

void api__key_rates_free(struct api_key_rates *k)
{
    if (!k)
        return;
    pthread_mutex_destroy(&k->mu);
    free(k);
}

int api__key_rates_take(struct api_key_rates *k, int64_t key_id, int rate_per_minute,
                        int64_t now_ms, int64_t *retry_ms)
{
    struct key_slot *s = &k->slot[(uint64_t)key_id % KEY_RATE_SLOTS];
    int64_t window = now_ms - now_ms % KEY_WINDOW_MS;
    int err = 0;

    pthread_mutex_lock(&k->mu);
    /* A slot shared by two keys restarts for the newcomer: a key can only gain from it. */
    if (s->key_id != key_id || s->window_ms != window) {
        s->key_id = key_id;
        s->window_ms = window;
        s->count = 0;
    }
    if (s->count >= rate_per_minute) {
        err = -EAGAIN;
        *retry_ms = window + KEY_WINDOW_MS - now_ms;
    } else {
        s->count++;
    }
    pthread_mutex_unlock(&k->mu);
    return err;
}

/* ---- answers ---- */

static void answer(struct http_req *r, int status, enum fmt f, json_t *v, const char *root,
                   const char *item)
{
    http_resp_header(r, "Cache-Control", "no-store");
    api__o311_answer(r, status, f == FMT_XML, v, root, item);
}

static void o311_error(struct http_req *r, enum fmt f, int status, const char *description)
{
    api__o311_error(r, f == FMT_XML, status, description);
}

static enum fmt path_fmt(struct http_req *r)
{
    const char *res = http_req_param(r, "res");
    size_t n = res ? strlen(res) : 0;

    return n > 4 && !strcmp(res + n - 4, ".xml") ? FMT_XML : FMT_JSON;
}

static bool is_form(const char *ct)
{
    static const char form[] = "application/x-www-form-urlencoded";

    return ct && !strncasecmp(ct, form, sizeof(form) - 1) &&
           (ct[sizeof(form) - 1] == '\0' || ct[sizeof(form) - 1] == ';' ||
            ct[sizeof(form) - 1] == ' ');
}

static bool is_multipart(const char *ct)
{
    return ct && !strncasecmp(ct, "multipart/form-data", 19);
}

/* A valid follower token, or a live `api_key` in the query string (multipart posts). */
static bool credentials_ok(struct http_req *r)
{
    const char *auth = http_req_header(r, "Authorization");
    const char *key = http_req_query(r, "api_key");
    uint8_t hash[SECRET_HASH_LEN];
    int64_t id, org;
    int rate;
    bool ok = false;

    if (auth && !strncasecmp(auth, "Bearer follower_", 16)) {
        secret_sha256(auth + 7, strlen(auth + 7), hash);
        ok = store_follower_exists(api__reader(r), hash) == 0;
    } else if (key && *key) {
        secret_sha256(key, strlen(key), hash);
        ok = store_api_key_find(api__reader(r), hash, &id, &org, &rate) == 0;
    }
    explicit_bzero(hash, sizeof(hash));
    return ok;
}

/*
 * From the head alone: the right Content-Type (else 415) and, for a form without a photo, at
 * most 64 KiB (else 413), so nobody makes the server buffer megabytes of form.
 */
bool api__open311_post_admit(struct http_req *r);
bool api__open311_post_admit(struct http_req *r)
{
    const char *ct = http_req_header(r, "Content-Type");
    const char *cl = http_req_header(r, "Content-Length");
    enum fmt f = path_fmt(r);

    if (!is_form(ct) && !is_multipart(ct)) {
        o311_error(r, f, 415,
                   "Content-Type: send application/x-www-form-urlencoded (or multipart/form-data "
                   "with a photo).");
        return false;
    }
    if (is_form(ct) && cl && strtoull(cl, NULL, 10) > FORM_BODY_MAX) {
        o311_error(r, f, 413, "The form is too large (at most 64 KiB).");
        return false;
    }
    /* Megabytes of photo are read only for someone who may post: checked from the head. */
    if (is_multipart(ct) && !credentials_ok(r)) {
        o311_error(r, f, 403,
                   "api_key: a photo upload needs a follower token (Authorization: Bearer "
                   "follower_...) or the api_key in the query string.");
        return false;
    }
    return true;
}

/* ---- the request being filed, across the photo's trip to the media pool ---- */

struct filing {
    enum fmt f;
    struct o311_form form;
    struct store_org org;
    struct store_report_new n;
    char *attributes_json;
    char *media_id;
    char token[REPORT_TOKEN_LEN];
    char notice[160];
    bool follower;
    uint8_t follower_hash[SECRET_HASH_LEN];
};

static void filing_free(struct filing *fl)
{
    if (!fl)
        return;
    for (size_t i = 0; i < fl->form.n; i++)
        explicit_bzero(fl->form.f[i].value, fl->form.f[i].value_len);
    o311_form_release(&fl->form);
    free(fl->attributes_json);
    free(fl->media_id);
    explicit_bzero(fl->token, sizeof(fl->token));
    explicit_bzero(fl->follower_hash, sizeof(fl->follower_hash));
    free(fl);
}

static const char *field(struct filing *fl, const char *name)
{
    const char *v = o311_form_get(&fl->form, name);

    return v && *v ? v : NULL;
}

/* ---- the body ---- */

struct mp_ctx {
    struct filing *fl;
    const char *photo;
    size_t photo_len;
};

static int mp_part(void *ctx, const char *name, size_t nlen, const char *data, size_t len)
{
    struct mp_ctx *c = ctx;

    if (nlen == 5 && !memcmp(name, "media", 5)) {
        if (c->photo)
            return -EINVAL;
        c->photo = data;
        c->photo_len = len;
        return 0;
    }
    if (len > FORM_BODY_MAX)
        return -EMSGSIZE;
    return o311_form_add(&c->fl->form, name, nlen, data, len);
}

/* Parse the body into fl->form (and the photo's bytes). Answers and returns false on error. */
static bool read_body(struct http_req *r, struct filing *fl, const char **photo, size_t *plen)
{
    const char *ct = http_req_header(r, "Content-Type");
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    struct mp_ctx c = { fl, NULL, 0 };
    size_t len;
    const char *body = http_req_body(r, &len);
    int err;

    *photo = NULL;
    *plen = 0;
    if (is_form(ct)) {
        err = body && len > FORM_BODY_MAX
                  ? -EMSGSIZE
                  : o311_form_parse(&fl->form, body ? body : "", body ? len : 0);
    } else if (media_multipart_boundary(ct, boundary, sizeof(boundary))) {
        err = -EINVAL;
    } else {
        err = media_multipart_each(body ? body : "", body ? len : 0, boundary, mp_part, &c);
    }
    if (err) {
        o311_error(r, fl->f, err == -EMSGSIZE ? 413 : 400,
                   err == -E2BIG ? "Too many fields in the form."
                                 : "The form is malformed (encoding, UTF-8 or multipart framing).");
        return false;
    }
    *photo = c.photo;
    *plen = c.photo_len;
    return true;
}

/* ---- authentication and limits ---- */

static bool limited(struct http_req *r, enum fmt f, int err, int64_t retry_ms)
{
    char s[24];

    if (!err)
        return false;
    snprintf(s, sizeof(s), "%lld", (long long)(retry_ms + 999) / 1000);
    http_resp_header(r, "Retry-After", s);
    o311_error(r, f, 429, "Too many requests: retry later.");
    return true;
}

static bool authenticate(struct http_req *r, struct filing *fl)
{
    struct api_app *a = api__app(r);
    const char *key = field(fl, "api_key") ? field(fl, "api_key") : http_req_query(r, "api_key");
    const char *auth = http_req_header(r, "Authorization");
    const char *peer = http_req_peer(r);
    uint8_t hash[SECRET_HASH_LEN];
    int64_t key_id = 0, key_org = 0, retry = 0;
    int rate = 0;
    int err;

    if (key && *key) {
        secret_sha256(key, strlen(key), hash);
        err = store_api_key_find(api__reader(r), hash, &key_id, &key_org, &rate);
        explicit_bzero(hash, sizeof(hash));
        if (err || key_org != fl->org.id) {
            o311_error(r, fl->f, 403, "api_key: not a valid key for this jurisdiction.");
            return false;
        }
        fl->n.api_key_id = key_id;
        err = api__key_rates_take(a->key_rates, key_id, rate, clock_now_ms(), &retry);
        return !limited(r, fl->f, err, retry);
    }
    if (auth && !strncasecmp(auth, "Bearer follower_", 16)) {
        const char *tok = auth + 7;

        secret_sha256(tok, strlen(tok), fl->follower_hash);
        if (store_follower_exists(api__reader(r), fl->follower_hash) == 0) {
            char k[SECRET_HASH_LEN * 2 + 1];

            fl->follower = true;
            fl->n.follower_hash = fl->follower_hash;
            secret_hex(fl->follower_hash, SECRET_HASH_LEN, k);
            err = ratelimit_take(a->reports_by_token, k, strlen(k), clock_now_ms(), &retry);
            if (!err && peer)
                err = ratelimit_take(a->reports_by_ip, peer, strlen(peer), clock_now_ms(), &retry);
            return !limited(r, fl->f, err, retry);
        }
    }
    o311_error(r, fl->f, 403,
               "api_key: required (or a follower token in Authorization: Bearer follower_...).");
    return false;
}

/* ---- validation ---- */

static size_t chars(const char *s)
{
    size_t n = 0;

    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool bad(struct http_req *r, struct filing *fl, const char *msg)
{
    o311_error(r, fl->f, 400, msg);
    return false;
}

static bool number(const char *s, double *out)
{
    char *end;

    if (!s || !*s || strlen(s) > 40)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

static bool location(struct http_req *r, struct filing *fl)
{
    const char *lat = field(fl, "lat");
    const char *lon = field(fl, "long");

    fl->n.address = field(fl, "address_string");
    fl->n.address_id = field(fl, "address_id");
    if (lat || lon) {
        if (!number(lat, &fl->n.lat) || !number(lon, &fl->n.lon) || fl->n.lat < -90 ||
            fl->n.lat > 90 || fl->n.lon < -180 || fl->n.lon > 180)
            return bad(r, fl, "lat, long: decimal degrees (WGS84), lat -90..90, long -180..180.");
        fl->n.has_pos = true;
    }
    if (!fl->n.has_pos && !fl->n.address && !fl->n.address_id) {
        return bad(r, fl,
                   "lat, long: a location is required (lat and long, address_string or "
                   "address_id).");
    }
    if (chars(fl->n.address) > STORE_REPORT_ADDR_MAX)
        return bad(r, fl, "address_string: at most 500 characters.");
    if (chars(fl->n.address_id) > 100)
        return bad(r, fl, "address_id: at most 100 characters.");
    return true;
}

static bool contact(struct http_req *r, struct filing *fl)
{
    static const struct {
        const char *name;
        size_t max;
    } f[] = { { "email", 254 },     { "phone", 40 },      { "first_name", 100 },
              { "last_name", 100 }, { "device_id", 200 }, { "account_id", 200 } };
    const char **dst[] = { &fl->n.email,     &fl->n.phone,     &fl->n.first_name,
                           &fl->n.last_name, &fl->n.device_id, &fl->n.account_id };
    char msg[80];

    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        *dst[i] = field(fl, f[i].name);
        if (chars(*dst[i]) > f[i].max) {
            snprintf(msg, sizeof(msg), "%s: at most %zu characters.", f[i].name, f[i].max);
            return bad(r, fl, msg);
        }
    }
    if (fl->n.email && !strchr(fl->n.email, '@'))
        return bad(r, fl, "email: not an e-mail address.");
    return true;
}

static bool in_values(json_t *def, const char *v)
{
    json_t *vals = json_object_get(def, "values");
    json_t *it;
    size_t i;

    json_array_foreach(vals, i, it)
    {
        const char *k = json_string_value(json_object_get(it, "key"));

        if (k && !strcmp(k, v))
            return true;
    }
    return false;
}

/* One value of attribute `def` (datatype checks). */
static bool attr_value_ok(json_t *def, const char *v)
{
    const char *type = json_string_value(json_object_get(def, "datatype"));
    double d;
    int64_t ms;

    if (chars(v) > ATTR_VALUE_MAX)
        return false;
    if (!type || !strcmp(type, "string") || !strcmp(type, "text"))
        return true;
    if (!strcmp(type, "number"))
        return number(v, &d);
    if (!strcmp(type, "datetime"))
        return api__rfc3339_parse(v, &ms);
    return in_values(def, v); /* singlevaluelist, multivaluelist */
}

static json_t *find_def(json_t *defs, const char *code)
{
    json_t *d;
    size_t i;

    json_array_foreach(defs, i, d)
    {
        const char *c = json_string_value(json_object_get(d, "code"));

        if (c && !strcmp(c, code))
            return d;
    }
    return NULL;
}

static bool attributes(struct http_req *r, struct filing *fl, const char *defs_json)
{
    json_t *defs = json_loads(defs_json, 0, NULL);
    json_t *got = json_object();
    json_t *d;
    char code[O311_ATTR_CODE_MAX + 1];
    char msg[200];
    bool ok = false;
    bool multi;
    size_t i;

    for (i = 0; i < fl->form.n; i++) {
        const struct o311_field *fd = &fl->form.f[i];
        const char *type;
        json_t *cur;

        if (!o311_attr_name(fd->name, code, &multi))
            continue;
        d = find_def(defs, code);
        if (!d || json_is_false(json_object_get(d, "variable"))) {
            snprintf(msg, sizeof(msg), "attribute[%s]: not an attribute of this service.", code);
            goto out;
        }
        if (!attr_value_ok(d, fd->value)) {
            snprintf(msg, sizeof(msg), "attribute[%s]: not a valid value for this attribute.",
                     code);
            goto out;
        }
        type = json_string_value(json_object_get(d, "datatype"));
        cur = json_object_get(got, code);
        if (type && !strcmp(type, "multivaluelist")) {
            if (!cur) {
                cur = json_array();
                json_object_set_new(got, code, cur);
            }
            json_array_append_new(cur, json_string(fd->value));
        } else if (cur || multi) {
            snprintf(msg, sizeof(msg), "attribute[%s]: takes a single value.", code);
            goto out;
        } else if (*fd->value) {
            json_object_set_new(got, code, json_string(fd->value));
        }
    }
    json_array_foreach(defs, i, d)
    {
        const char *c = json_string_value(json_object_get(d, "code"));

        if (c && json_is_true(json_object_get(d, "required")) && !json_object_get(got, c)) {
            snprintf(msg, sizeof(msg), "attribute[%s]: required (%s).", c,
                     json_string_value(json_object_get(d, "description"))
                         ? json_string_value(json_object_get(d, "description"))
                         : c);
            goto out;
        }
    }
    fl->attributes_json = json_dumps(got, JSON_COMPACT);
    fl->n.attributes_json = fl->attributes_json;
    ok = true;
out:
    if (!ok)
        o311_error(r, fl->f, 400, msg);
    json_decref(defs);
    json_decref(got);
    return ok;
}

struct svc_ctx {
    char *attrs;
    int first_answer_h;
    bool active;
};

static void svc_one(void *ctx, const struct store_service *s)
{
    struct svc_ctx *c = ctx;

    c->attrs = xstrdup(s->attributes_json);
    c->first_answer_h = s->first_answer_h;
    c->active = s->active;
}

/* ---- filing ---- */

static void filed(struct http_req *r, int err, int64_t id, void *data)
{
    struct filing *fl = data;
    char idstr[24];

    if (err) {
        o311_error(r, fl->f,
                   err == -ENOENT   ? 404
                   : err == -EINVAL ? 400
                                    : 503,
                   err == -ENOENT   ? "service_code: no such service."
                   : err == -EINVAL ? "A value is not valid."
                                    : "The server is busy: retry in a few seconds.");
    } else {
        snprintf(idstr, sizeof(idstr), "%lld", (long long)id);
        /* The token is the reporter's to follow the report with (GET tokens/{token}). */
        answer(r, 201, fl->f,
               json_pack("[{s:s, s:s, s:n, s:s}]", "service_request_id", idstr, "service_notice",
                         fl->notice, "account_id", "token", fl->token),
               "service_requests", "request");
    }
    filing_free(fl);
}

static void file_it(struct http_req *r, struct filing *fl)
{
    struct api_pending *p = api__pending_new(r, filed, fl);
    int err = store_report_add(api__app(r)->store, &fl->n, api__pending_done, p, NULL);

    if (err) {
        api__pending_free(p);
        filed(r, err, 0, fl);
    }
}

static void photo_done(struct http_req *r, int err, const char *public_id, void *ctx)
{
    struct filing *fl = ctx;

    if (err) {
        o311_error(r, fl->f, 422,
                   err == -E2BIG ? "media: the photo has too many pixels."
                                 : "media: the photo cannot be decoded.");
        filing_free(fl);
        return;
    }
    fl->media_id = xstrdup(public_id);
    fl->n.media_id = fl->media_id;
    file_it(r, fl);
}

void api__open311_post(struct http_req *r);
void api__open311_post(struct http_req *r)
{
    struct filing *fl = xcalloc(1, sizeof(*fl));
    struct svc_ctx svc = { 0 };
    const char *res = http_req_param(r, "res");
    const char *jur;
    const char *photo = NULL;
    size_t plen = 0;
    int err;

    fl->f = path_fmt(r);
    if (strcmp(res, "requests.json") != 0 && strcmp(res, "requests.xml") != 0) {
        o311_error(r, fl->f, 404, "Only requests.json and requests.xml take a POST.");
        goto fail;
    }
    if (!read_body(r, fl, &photo, &plen))
        goto fail;
    jur = field(fl, "jurisdiction_id");
    if (!jur)
        jur = http_req_query(r, "jurisdiction_id");
    if (!api__open311_org(r, jur, &fl->org, fl->f == FMT_XML) || !authenticate(r, fl))
        goto fail;
    fl->n.org_id = fl->org.id;
    fl->n.service_code = field(fl, "service_code");
    if (!fl->n.service_code) {
        bad(r, fl, "service_code: required.");
        goto fail;
    }
    err = store_service_get(api__reader(r), fl->org.id, fl->n.service_code, svc_one, &svc);
    if (err || !svc.active) {
        o311_error(r, fl->f, err && err != -ENOENT ? 500 : 404, "service_code: no such service.");
        goto fail;
    }
    fl->n.description = field(fl, "description");
    if (chars(fl->n.description) > STORE_REPORT_DESC_MAX) {
        bad(r, fl, "description: at most 4000 characters.");
        goto fail;
    }
    fl->n.media_url = field(fl, "media_url");
    if (fl->n.media_url &&
        (strlen(fl->n.media_url) > 2000 || (strncmp(fl->n.media_url, "https://", 8) != 0 &&
                                            strncmp(fl->n.media_url, "http://", 7) != 0))) {
        bad(r, fl, "media_url: an http or https URL of at most 2000 characters.");
        goto fail;
    }
    if (!location(r, fl) || !contact(r, fl) || !attributes(r, fl, svc.attrs))
        goto fail;
    secret_token("report", fl->token, sizeof(fl->token));
    secret_sha256(fl->token, strlen(fl->token), fl->n.token_hash);
    snprintf(fl->notice, sizeof(fl->notice),
             "Segnalazione ricevuta: una prima risposta è prevista entro %d ore.",
             svc.first_answer_h);
    free(svc.attrs);
    if (photo) {
        err = api__media_image_submit(r, photo, plen, fl->org.id, photo_done, fl);
        if (err) {
            o311_error(r, fl->f,
                       err == -EPROTONOSUPPORT ? 415
                       : err == -EMSGSIZE      ? 413
                                               : 503,
                       err == -EPROTONOSUPPORT ? "media: send a photo (JPEG, PNG, WebP, HEIC)."
                       : err == -EMSGSIZE      ? "media: the photo is too large."
                                               : "The server is busy: retry in a few seconds.");
            filing_free(fl);
        }
        return;
    }
    file_it(r, fl);
    return;
fail:
    free(svc.attrs);
    filing_free(fl);
}
