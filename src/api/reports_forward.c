/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Forwarding a citizen report to another body (issue 15, point 4; docs/OPEN311.md
 * "Forwarding"): an org admin lists the bodies the Comune forwards to (their GeoReport v2
 * endpoint, jurisdiction_id, api_key and a service-code mapping), and the org's staff forward a
 * report with one POST. araldo then POSTs the report to that body as an Open311 client, through
 * the outgoing-request rules of push/outbound.c (https, TLS verified, the address rule with
 * push_allow_hosts, bounded time and size) on the push module's work pool, never on an event
 * loop. What is sent is what is public about the report (service, position, description when
 * not hidden, an approved photo's URL): never the reporter's contact data. When that body
 * accepts it, the report closes as "inoltrata", with the body as agency_responsible and a
 * public note naming it and its request id; when it refuses, staff get its reason and what to
 * do, and nothing changes.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/push_int.h"
#include "api/reports_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/tz.h"
#include "core/workpool.h"
#include "mail/mail.h"

#define FORM_MAX      ((size_t)16 * 1024)
#define ANSWER_MAX    ((size_t)64 * 1024)
#define MAP_MAX       200 /* entries of a service map */
#define REMOTE_ID_MAX 200
#define WHY_MAX       600
#define MAIL_TEXT_MAX ((size_t)16 * 1024)

/* ---- targets ---- */

static json_t *target_json(const struct store_forward_target *t)
{
    json_t *map = json_loads(t->service_map_json, 0, NULL);
    char id[24], at[32];

    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    clock_rfc3339(t->created_ms, at, sizeof(at));
    /* The api_key is the Comune's credential for that body: only whether there is one. */
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b, s:o, s:s?, s:s}", "id", id, "name",
                     t->name, "kind", t->kind, "endpoint", t->endpoint, "email", t->email,
                     "jurisdiction_id", t->jurisdiction_id, "has_api_key", t->api_key != NULL,
                     "service_map", map ? map : json_object(), "default_service_code",
                     t->default_service_code, "created_at", at);
}

static void target_one(void *ctx, const struct store_forward_target *t)
{
    json_array_append_new(ctx, target_json(t));
}

static void targets_list(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    json_t *list;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me))
        return;
    list = json_array();
    err = store_forward_targets_list(api__reader(r), o.id, target_one, list);
    if (err) {
        json_decref(list);
        api__errno(r, err, "forward targets");
        return;
    }
    api__json(r, 200, json_pack("{s:o}", "targets", list));
}

static bool bad(struct http_req *r, const char *msg, const char *field)
{
    http_respond_error(r, 400, "invalid_value", msg, field);
    return false;
}

/* service_map: an object of at most MAP_MAX service codes, each to a service code. */
static bool map_ok(struct http_req *r, json_t *map)
{
    const char *k;
    json_t *v;

    if (!map)
        return true;
    if (!json_is_object(map) || json_object_size(map) > MAP_MAX)
        return bad(r, "'service_map' is an object of at most 200 service codes.", "service_map");
    json_object_foreach(map, k, v)
    {
        if (!store_service_code_valid(k) || !json_is_string(v) ||
            !store_service_code_valid(json_string_value(v))) {
            return bad(r,
                       "'service_map' maps our service codes to theirs: 1-64 of A-Z a-z 0-9 _ . -",
                       "service_map");
        }
    }
    return true;
}

static void target_created(struct http_req *r, int err, int64_t id, void *data)
{
    char s[24];

    (void)data;
    if (err == -EEXIST) {
        http_respond_error(r, 409, "name_taken", "A forward target of this org has this name.",
                           "name");
    } else if (err == -EDQUOT) {
        http_respond_error(r, 422, "too_many_targets", "An org has at most 50 forward targets.",
                           NULL);
    } else if (err) {
        api__errno(r, err, "forward target create");
    } else {
        snprintf(s, sizeof(s), "%lld", (long long)id);
        api__json(r, 201, json_pack("{s:s}", "id", s));
    }
}

/*
 * A target of kind email: a name and an address, nothing of Open311's. Refused with 422
 * mail_not_configured when this server has no mail relay (smtp_url), so that nobody sets up a
 * forward that could never be sent.
 */
static bool email_target_ok(struct http_req *r, json_t *body, struct store_forward_target *t)
{
    static const char *const open311_only[] = { "endpoint",    "jurisdiction_id",      "api_key",
                                                "service_map", "default_service_code", NULL };

    for (size_t i = 0; open311_only[i]; i++) {
        if (json_object_get(body, open311_only[i])) {
            char msg[160];

            snprintf(msg, sizeof(msg), "'%s' is for targets of kind open311, not email.",
                     open311_only[i]);
            return bad(r, msg, open311_only[i]);
        }
    }
    if (!api__string(r, body, "email", true, 3, STORE_FWD_EMAIL_MAX, &t->email))
        return false;
    if (!mail_address_valid(t->email) || !strchr(strchr(t->email, '@'), '.')) {
        return bad(r, "'email' is the body's e-mail address, like segnalazioni@acque.example.it.",
                   "email");
    }
    if (!api__app(r)->mail) {
        http_respond_error(r, 422, "mail_not_configured",
                           "This server sends no e-mail: its operator must set smtp_url (the "
                           "Comune's mail relay; docs/DEPLOY.md, Outgoing e-mail) before a "
                           "target of kind email can be added.",
                           "kind");
        return false;
    }
    return true;
}

static void target_create(struct http_req *r)
{
    static const char *const allowed[] = { "name",
                                           "kind",
                                           "endpoint",
                                           "email",
                                           "jurisdiction_id",
                                           "api_key",
                                           "service_map",
                                           "default_service_code",
                                           NULL };
    struct store_forward_target t = { 0 };
    struct store_org o;
    struct store_user me;
    struct outbound_url u;
    struct api_pending *p;
    char *map = NULL;
    json_t *body;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    body = api__body_object(r, allowed);
    if (!body)
        return;
    if (!api__label(r, body, "name", true, 1, STORE_FWD_NAME_MAX, false, &t.name) ||
        !api__string(r, body, "kind", false, 1, 16, &t.kind))
        goto out;
    if (t.kind && strcmp(t.kind, "open311") != 0 && strcmp(t.kind, "email") != 0) {
        bad(r, "'kind' is open311 (a GeoReport v2 endpoint) or email (an address).", "kind");
        goto out;
    }
    if (t.kind && !strcmp(t.kind, "email")) {
        if (!email_target_ok(r, body, &t))
            goto out;
        goto add;
    }
    if (json_object_get(body, "email")) {
        bad(r, "'email' is for targets of kind email.", "email");
        goto out;
    }
    if (!api__string(r, body, "endpoint", true, 9, STORE_FWD_URL_MAX, &t.endpoint) ||
        !api__string(r, body, "jurisdiction_id", false, 1, STORE_FWD_NAME_MAX,
                     &t.jurisdiction_id) ||
        !api__string(r, body, "api_key", false, 1, STORE_FWD_KEY_MAX, &t.api_key) ||
        !api__string(r, body, "default_service_code", false, 1, STORE_SVC_CODE_MAX,
                     &t.default_service_code) ||
        !map_ok(r, json_object_get(body, "service_map")))
        goto out;
    if (outbound_url_parse(t.endpoint, &u) != 0) {
        bad(r, "'endpoint' is the body's GeoReport v2 address, an https URL.", "endpoint");
        goto out;
    }
    if (t.default_service_code && !store_service_code_valid(t.default_service_code)) {
        bad(r, "'default_service_code' is 1-64 of A-Z a-z 0-9 _ . -", "default_service_code");
        goto out;
    }
    map = json_object_get(body, "service_map")
              ? json_dumps(json_object_get(body, "service_map"), JSON_COMPACT)
              : NULL;
    t.service_map_json = map;
add:
    p = api__pending_new(r, target_created, NULL);
    err = store_forward_target_add(api__app(r)->store, me.id, o.id, &t, api__pending_done, p, NULL);
    if (err) {
        api__pending_free(p);
        target_created(r, err, 0, NULL);
    }
out:
    free(map);
    json_decref(body);
}

static void target_updated(struct http_req *r, int err, int64_t id, void *data)
{
    (void)id;
    (void)data;
    if (err == -EEXIST) {
        http_respond_error(r, 409, "name_taken", "A forward target of this org has this name.",
                           "name");
    } else if (err == -ENOENT) {
        http_respond_error(r, 404, "not_found", "Not found: check the address or the id.", "id");
    } else if (err == -EPROTOTYPE) {
        http_respond_error(r, 400, "invalid_value",
                           "An e-mail target has only a name and an email address; an open311 "
                           "target has no email. Create a new target to change its kind.",
                           NULL);
    } else if (err) {
        api__errno(r, err, "forward target update");
    } else {
        http_respond(r, 204, NULL, NULL, 0);
    }
}

/* A clearable string field: absent (false, nothing set), null (set to NULL) or a string. */
static bool opt_field(struct http_req *r, json_t *body, const char *key, size_t max,
                      const char **out, unsigned bit, unsigned *set)
{
    json_t *v = json_object_get(body, key);

    if (!v)
        return true;
    *set |= bit;
    if (json_is_null(v))
        return true;
    return api__string(r, body, key, true, 1, max, out);
}

static void target_update(struct http_req *r)
{
    static const char *const changeable[] = { "name",    "endpoint",    "jurisdiction_id",
                                              "api_key", "service_map", "default_service_code",
                                              "email",   NULL };
    static const struct api_immutable imm[] = { { "id", NULL }, { NULL, NULL } };
    struct store_forward_target t = { 0 };
    struct store_org o;
    struct store_user me;
    struct outbound_url u;
    struct api_pending *p;
    json_t *body, *map;
    char *map_s = NULL;
    unsigned set = 0;
    int64_t id;
    int err;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    if (!api__rep_id(http_req_param(r, "id"), &id)) {
        http_respond_error(r, 404, "not_found", "Not found: check the address or the id.", "id");
        return;
    }
    body = api__patch_body(r, changeable, imm);
    if (!body)
        return;
    map = json_object_get(body, "service_map");
    if (json_object_get(body, "name")) {
        set |= STORE_FWD_F_NAME;
        if (!api__label(r, body, "name", true, 1, STORE_FWD_NAME_MAX, false, &t.name))
            goto out;
    }
    if (json_object_get(body, "endpoint")) {
        set |= STORE_FWD_F_ENDPOINT;
        if (!api__string(r, body, "endpoint", true, 9, STORE_FWD_URL_MAX, &t.endpoint))
            goto out;
        if (outbound_url_parse(t.endpoint, &u) != 0) {
            bad(r, "'endpoint' is the body's GeoReport v2 address, an https URL.", "endpoint");
            goto out;
        }
    }
    if (json_object_get(body, "email")) {
        set |= STORE_FWD_F_EMAIL;
        if (!api__string(r, body, "email", true, 3, STORE_FWD_EMAIL_MAX, &t.email))
            goto out;
        if (!mail_address_valid(t.email) || !strchr(strchr(t.email, '@'), '.')) {
            bad(r, "'email' is the body's e-mail address, like segnalazioni@acque.example.it.",
                "email");
            goto out;
        }
    }
    if (!opt_field(r, body, "jurisdiction_id", STORE_FWD_NAME_MAX, &t.jurisdiction_id,
                   STORE_FWD_F_JURIS, &set) ||
        !opt_field(r, body, "api_key", STORE_FWD_KEY_MAX, &t.api_key, STORE_FWD_F_KEY, &set) ||
        !opt_field(r, body, "default_service_code", STORE_SVC_CODE_MAX, &t.default_service_code,
                   STORE_FWD_F_DEFAULT, &set))
        goto out;
    if (t.default_service_code && !store_service_code_valid(t.default_service_code)) {
        bad(r, "'default_service_code' is 1-64 of A-Z a-z 0-9 _ . -", "default_service_code");
        goto out;
    }
    if (map) {
        if (json_is_null(map) || !map_ok(r, map)) {
            if (json_is_null(map))
                bad(r, "'service_map' is an object of at most 200 service codes.", "service_map");
            goto out;
        }
        set |= STORE_FWD_F_MAP;
        map_s = json_dumps(map, JSON_COMPACT);
        t.service_map_json = map_s;
    }
    p = api__pending_new(r, target_updated, NULL);
    err = store_forward_target_update(api__app(r)->store, me.id, o.id, id, &t, set,
                                      api__pending_done, p);
    if (err) {
        api__pending_free(p);
        target_updated(r, err, 0, NULL);
    }
out:
    free(map_s);
    json_decref(body);
}

static void target_delete(struct http_req *r)
{
    struct store_org o;
    struct store_user me;
    int64_t id;

    if (!api__rep_org(r, &o) || !api__rep_admin(r, &o, &me))
        return;
    if (!api__rep_id(http_req_param(r, "id"), &id)) {
        http_respond_error(r, 404, "not_found", "Not found: check the address or the id.", "id");
        return;
    }
    API_REP_SUBMIT(
        r, store_forward_target_delete(api__app(r)->store, me.id, o.id, id, api__pending_done, p_));
}

/* ---- forwarding one report ---- */

struct fwd_job {
    struct http_req *r;
    struct http_loop *loop;
    struct api_push *push;
    int64_t org_id, report_id, target_id, actor_id;
    char name[STORE_FWD_NAME_MAX * 4 + 1];
    char url[STORE_FWD_URL_MAX + 32];
    char note[500 * 4 + 1]; /* staff's own words for the public note, or "" */
    struct buf form;        /* the POST body (it holds the api_key) */
    /* a target of kind email: the address, and the message made from the public fields */
    struct mail *mail;
    char email[STORE_FWD_EMAIL_MAX + 1];
    char subject[MAIL_SUBJECT_MAX];
    struct buf text;
    char org_name[STORE_ORG_NAME_MAX * 4 + 1];
    char org_slug[STORE_ORG_SLUG_MAX + 1];
    char tz[STORE_ORG_TZ_MAX + 1];
    /* the outcome, from the pool thread */
    int err;
    long status;
    char remote_id[REMOTE_ID_MAX + 1], remote_token[REMOTE_ID_MAX + 1];
    char why[WHY_MAX];
    char public_note[STORE_REPORT_NOTE_MAX * 4 + 1];
};

static void fwd_free(struct fwd_job *j)
{
    if (j->form.data)
        explicit_bzero(j->form.data, j->form.len);
    buf_release(&j->form);
    buf_release(&j->text);
    free(j);
}

/* Append `k`=`v` to the form, percent-encoded (RFC 3986 unreserved characters kept). */
static int form_add(struct buf *b, const char *k, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    int err = b->len ? buf_puts(b, "&") : 0;

    if (!err)
        err = buf_puts(b, k);
    if (!err)
        err = buf_puts(b, "=");
    for (const unsigned char *s = (const unsigned char *)v; !err && *s; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
            strchr("-._~", *s)) {
            err = buf_append(b, (const char *)s, 1);
        } else {
            char e[3] = { '%', hex[*s >> 4], hex[*s & 15] };

            err = buf_append(b, e, 3);
        }
    }
    return err;
}

/* "04/12/2026 14:30" in time zone `tz`. */
static void local_time(const char *tz, int64_t ms, char *out, size_t outlen)
{
    int off = 0;
    time_t t;
    struct tm tm;

    if (tz_offset_min(tz, ms, &off) != 0)
        off = 0;
    t = (time_t)(ms / 1000 + (int64_t)off * 60);
    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%02d/%02d/%04d %02d:%02d", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min);
}

/*
 * The e-mail a target of kind email gets: what is public about the report (service,
 * description unless hidden, address and position with a map link, an approved photo, the
 * report's number and public address), in Italian. Never the reporter's contact data: the
 * other body answers through the Comune.
 */
static int mail_text(struct fwd_job *j, const struct store_report *p, const char *base,
                     const char *photo)
{
    struct buf *b = &j->text;
    char at[40];
    int err;

    local_time(j->tz, p->created_ms, at, sizeof(at));
    snprintf(j->subject, sizeof(j->subject), "Segnalazione n. %lld inoltrata da %.150s: %.150s",
             (long long)p->id, j->org_name, p->service_name ? p->service_name : p->service_code);
    err = buf_printf(b,
                     "Buongiorno,\n\n%s vi inoltra la segnalazione di un cittadino, che "
                     "riguarda un servizio di vostra competenza.\n\nSegnalazione n. %lld, "
                     "ricevuta il %s (ora locale)\nServizio: %s\n",
                     j->org_name, (long long)p->id, at,
                     p->service_name ? p->service_name : p->service_code);
    if (!err && !p->text_hidden && *p->description)
        err = buf_printf(b, "Descrizione: %s\n", p->description);
    if (!err && p->address && *p->address)
        err = buf_printf(b, "Indirizzo: %s\n", p->address);
    if (!err && p->has_pos) {
        err = buf_printf(b,
                         "Posizione: %.7f, %.7f\nMappa: "
                         "https://www.openstreetmap.org/?mlat=%.7f&mlon=%.7f#map=18/%.7f/%.7f\n",
                         p->lat, p->lon, p->lat, p->lon, p->lat, p->lon);
    }
    if (!err && *photo)
        err = buf_printf(b, "Foto: %s\n", photo);
    if (!err && *j->note)
        err = buf_printf(b, "Nota del Comune: %s\n", j->note);
    if (!err) {
        err = buf_printf(
            b,
            "Scheda pubblica: %s/open311/v2/requests/%lld.json?jurisdiction_id=%s\n\nI dati "
            "di contatto del cittadino non vengono inoltrati: per qualsiasi richiesta rivolgetevi "
            "al Comune, citando il numero della segnalazione.\n\n-- \nMessaggio automatico di "
            "araldo per %s.\n",
            base, (long long)p->id, j->org_slug, j->org_name);
    }
    return err;
}

struct rep_ctx {
    struct fwd_job *j;
    const char *base;
    char status[32];
    char code[STORE_SVC_CODE_MAX + 1];
    int err;
};

/* The report's public fields into the form (never contact data). */
static void rep_one(void *ctx, const struct store_report *p)
{
    struct rep_ctx *c = ctx;
    struct buf *b = &c->j->form;
    char num[40], photo[2200];
    int err = 0;

    snprintf(c->status, sizeof(c->status), "%s", p->status);
    snprintf(c->code, sizeof(c->code), "%s", p->service_code);
    if (p->has_pos) {
        snprintf(num, sizeof(num), "%.7f", p->lat);
        err = form_add(b, "lat", num);
        snprintf(num, sizeof(num), "%.7f", p->lon);
        if (!err)
            err = form_add(b, "long", num);
    }
    if (!err && p->address && *p->address)
        err = form_add(b, "address_string", p->address);
    if (!err && p->address_id && *p->address_id)
        err = form_add(b, "address_id", p->address_id);
    if (!err && !p->text_hidden && *p->description)
        err = form_add(b, "description", p->description);
    api__report_photo_url(p, c->base, photo, sizeof(photo));
    if (!err && *photo)
        err = form_add(b, "media_url", photo);
    if (!err)
        err = mail_text(c->j, p, c->base, photo);
    c->err = err;
}

struct tgt_ctx {
    struct fwd_job *j;
    const char *our_code;
    bool mapped;
    int err;
};

/* The target's endpoint, credentials and the service code it knows ours by. */
static void tgt_one(void *ctx, const struct store_forward_target *t)
{
    struct tgt_ctx *c = ctx;
    struct buf *b = &c->j->form;
    json_t *map = json_loads(t->service_map_json, 0, NULL);
    const char *code = json_string_value(json_object_get(map, c->our_code));
    size_t n;
    int err = 0;

    snprintf(c->j->name, sizeof(c->j->name), "%s", t->name);
    if (!strcmp(t->kind, "email")) {
        snprintf(c->j->email, sizeof(c->j->email), "%s", t->email ? t->email : "");
        c->mapped = true; /* no service codes: a person reads it */
        c->err = 0;
        json_decref(map);
        return;
    }
    if (!code)
        code = t->default_service_code;
    n = strlen(t->endpoint);
    while (n && t->endpoint[n - 1] == '/')
        n--;
    snprintf(c->j->url, sizeof(c->j->url), "%.*s/requests.json", (int)n, t->endpoint);
    c->mapped = code != NULL;
    if (code)
        err = form_add(b, "service_code", code);
    if (!err && t->jurisdiction_id)
        err = form_add(b, "jurisdiction_id", t->jurisdiction_id);
    if (!err && t->api_key)
        err = form_add(b, "api_key", t->api_key);
    c->err = err;
    json_decref(map);
}

/* The first object of an Open311 answer list (or the object itself). */
static json_t *first(json_t *v)
{
    return json_is_array(v) ? json_array_get(v, 0) : v;
}

static void id_of(json_t *v, char *out, size_t outlen)
{
    if (json_is_string(v)) {
        snprintf(out, outlen, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
    }
}

/* What the other body answered: its request id and token, or its reason for refusing. */
static void read_answer(struct fwd_job *j, const struct outbound_fetch *f)
{
    json_t *v = f->body ? json_loadb(f->body, f->len, 0, NULL) : NULL;
    json_t *o = first(v);
    const char *desc = json_string_value(json_object_get(o, "description"));

    if (f->status == 200 || f->status == 201) {
        id_of(json_object_get(o, "service_request_id"), j->remote_id, sizeof(j->remote_id));
        id_of(json_object_get(o, "token"), j->remote_token, sizeof(j->remote_token));
        if (!*j->remote_id && !*j->remote_token) {
            j->err = -EPROTO;
            snprintf(j->why, sizeof(j->why), "%s",
                     "its answer has neither a service_request_id nor a token");
        }
    } else {
        j->err = -EPROTO;
        snprintf(j->why, sizeof(j->why), "HTTP %ld%s%.400s", f->status, desc ? ": " : "",
                 desc ? desc : "");
    }
    json_decref(v);
}

static void fwd_recorded(struct http_req *r, int err, int64_t id, void *data)
{
    struct fwd_job *j = data;

    (void)id;
    if (err) {
        api__rep_done(r, err, 0, NULL);
    } else {
        api__json(r, 200,
                  json_pack("{s:s, s:s, s:s?, s:s?}", "forwarded_to", j->name, "status", "chiusa",
                            "remote_service_request_id", *j->remote_id ? j->remote_id : NULL,
                            "remote_token", *j->remote_token ? j->remote_token : NULL));
    }
    fwd_free(j);
}

static void fwd_done(void *arg)
{
    struct fwd_job *j = arg;
    struct http_req *r = j->r;
    struct store_report_change ch = { 0 };
    struct api_pending *p;
    char msg[WHY_MAX + 600];
    int err;

    if (j->err) {
        log_warn("reports: forward of report %lld to target %lld failed (%s)",
                 (long long)j->report_id, (long long)j->target_id,
                 j->status ? "refused" : "unreachable");
        if (*j->email) {
            snprintf(
                msg, sizeof(msg),
                "The e-mail to %.300s could not be sent (%.300s). Nothing was changed: try again "
                "later; if it goes on, the server's operator should check the mail relay "
                "(smtp_url).",
                j->name, j->why);
            http_respond_error(r, 502, "forward_failed", msg, NULL);
            fwd_free(j);
            return;
        }
        snprintf(msg, sizeof(msg),
                 j->status ? "%s refused the report (%s). Nothing was changed: check this "
                             "target's service codes and api_key with that body, or forward it "
                             "another way and record it with PATCH forwarded_to."
                           : "%s could not be reached (%s). Nothing was changed: try again "
                             "later; if it goes on, check the target's endpoint with that body.",
                 j->name, j->why);
        http_respond_error(r, 502, "forward_failed", msg, NULL);
        fwd_free(j);
        return;
    }
    snprintf(j->public_note, sizeof(j->public_note), "Inoltrata a %s%s%s%s%s%s%s", j->name,
             *j->email ? " per e-mail" : "", *j->remote_id ? " (numero di pratica " : "",
             j->remote_id, *j->remote_id ? ")" : "", *j->note ? ". " : ".", j->note);
    ch.set = STORE_RS_FORWARD | STORE_RS_NOTE | STORE_RS_AGENCY;
    ch.forwarded_to = j->name;
    ch.agency = j->name;
    ch.note = j->public_note;
    ch.note_public = true;
    ch.forward_target_id = j->target_id;
    ch.forward_remote_id = *j->remote_id ? j->remote_id : NULL;
    ch.forward_remote_token = *j->remote_token ? j->remote_token : NULL;
    p = api__pending_new(r, fwd_recorded, j);
    err = store_report_update(api__app(r)->store, j->actor_id, j->org_id, j->report_id, &ch,
                              api__pending_done, p);
    if (err) {
        api__pending_free(p);
        fwd_recorded(r, err, 0, j);
    }
}

/* On the push module's pool: the POST itself (it blocks for up to push_timeout_ms). */
static void fwd_work(void *arg)
{
    struct fwd_job *j = arg;
    struct outbound_fetch f;

    if (*j->email) {
        j->err = mail_send(j->mail, &(struct mail_msg){ j->email, j->subject, j->text.data },
                           j->why, sizeof(j->why));
        if (j->err)
            log_warn("reports: e-mail forward of report %lld failed", (long long)j->report_id);
        if (http_loop_post(j->loop, fwd_done, j) != 0)
            fwd_free(j);
        return;
    }
    j->err = outbound_post_form(j->push->policy, j->url, j->form.data, j->form.len, ANSWER_MAX, &f,
                                j->why, sizeof(j->why));
    j->status = f.status;
    if (!j->err)
        read_answer(j, &f);
    outbound_fetch_release(&f);
    if (http_loop_post(j->loop, fwd_done, j) != 0)
        fwd_free(j); /* the loop is stopping: its requests are gone */
}

/* The report (open, of this org) and the target into `j`'s form; answers and false if not. */
static bool fwd_prepare(struct http_req *r, struct fwd_job *j, const char *base)
{
    struct rep_ctx rc = { .j = j, .base = base };
    struct tgt_ctx tc = { .j = j };
    int err = store_report_get(api__reader(r), j->org_id, j->report_id, rep_one, &rc);

    if (err == -ENOENT) {
        http_respond_error(r, 404, "report_not_found", "No such report.", "id");
        return false;
    }
    if (!err && (!strcmp(rc.status, "chiusa") || !strcmp(rc.status, "risolta"))) {
        http_respond_error(r, 409, "invalid_transition",
                           "This change is not allowed from the report's current status.", NULL);
        return false;
    }
    tc.our_code = rc.code;
    err = err ? err : rc.err;
    if (!err)
        err = store_forward_target_get(api__reader(r), j->org_id, j->target_id, tgt_one, &tc);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "forward_target_not_found",
                           "This org has no forward target with this id.", "target");
        return false;
    }
    if (!err && !tc.mapped) {
        http_respond_error(r, 422, "no_service_mapping",
                           "This target has no service code for this report's service: add it "
                           "to the target's service_map or give it a default_service_code.",
                           "target");
        return false;
    }
    err = err ? err : tc.err;
    if (err) {
        api__errno(r, err == -EMSGSIZE ? -EIO : err, "report forward");
        return false;
    }
    if (*j->email && !j->mail) {
        http_respond_error(r, 422, "mail_not_configured",
                           "This target is an e-mail address and this server sends no e-mail: "
                           "its operator must set smtp_url (docs/DEPLOY.md, Outgoing e-mail).",
                           "target");
        return false;
    }
    return true;
}

static void report_forward(struct http_req *r)
{
    static const char *const allowed[] = { "target", "note", NULL };
    struct store_org o;
    struct store_user me;
    struct fwd_job *j = NULL;
    const char *target = NULL, *note = NULL;
    char base[512];
    json_t *body = NULL;

    if (!api__rep_org(r, &o) || !api__rep_staff(r, &o, &me))
        return;
    j = xcalloc(1, sizeof(*j));
    buf_init(&j->form, FORM_MAX);
    buf_init(&j->text, MAIL_TEXT_MAX);
    j->mail = api__app(r)->mail;
    snprintf(j->org_name, sizeof(j->org_name), "%s", o.name);
    snprintf(j->org_slug, sizeof(j->org_slug), "%s", o.slug);
    snprintf(j->tz, sizeof(j->tz), "%s", o.timezone);
    if (!api__rep_id(http_req_param(r, "id"), &j->report_id)) {
        http_respond_error(r, 404, "report_not_found", "No such report.", "id");
        goto out;
    }
    body = api__body_object(r, allowed);
    if (!body || !api__string(r, body, "target", true, 1, 24, &target) ||
        !api__label(r, body, "note", false, 1, 500, true, &note))
        goto out;
    if (!api__rep_id(target, &j->target_id)) {
        http_respond_error(r, 404, "forward_target_not_found",
                           "This org has no forward target with this id.", "target");
        goto out;
    }
    j->org_id = o.id;
    j->actor_id = me.id;
    snprintf(j->note, sizeof(j->note), "%s", note ? note : "");
    api__base_url(r, base, sizeof(base));
    if (!fwd_prepare(r, j, base))
        goto out;
    j->r = r;
    j->loop = http_req_loop(r);
    j->push = api__app(r)->push;
    if (!j->push || workpool_submit(j->push->checks, fwd_work, j) != 0) {
        api__errno(r, -ENOBUFS, "report forward");
        goto out;
    }
    j = NULL; /* the pool owns it now */
out:
    if (j)
        fwd_free(j);
    json_decref(body);
}

/* ---- staff view: the forwards that another body accepted ---- */

static void forward_one(void *ctx, const struct store_report_forward *f)
{
    char at[32];

    clock_rfc3339(f->created_ms, at, sizeof(at));
    json_array_append_new(ctx, json_pack("{s:s, s:s?, s:s?, s:s}", "target", f->target_name,
                                         "remote_service_request_id", f->remote_id, "remote_token",
                                         f->remote_token, "at", at));
}

json_t *api__report_forwards_json(struct http_req *r, int64_t id)
{
    json_t *list = json_array();

    if (store_report_forwards(api__reader(r), id, forward_one, list) != 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

void api__report_forward(struct http_req *r)
{
    report_forward(r);
}

void api__forward_targets_list(struct http_req *r)
{
    targets_list(r);
}

void api__forward_target_create(struct http_req *r)
{
    target_create(r);
}

void api__forward_target_update(struct http_req *r)
{
    target_update(r);
}

void api__forward_target_delete(struct http_req *r)
{
    target_delete(r);
}
