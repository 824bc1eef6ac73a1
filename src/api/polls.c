/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Poll votes over the JSON API: PUT /api/v1/posts/{id}/vote {"options": [0, 2]} to vote or
 * change one's vote, DELETE to retract it, until the poll closes (then 409 poll_closed). The
 * poll itself is made with its post (api/posts.c) and shows, as counts only, in the post and
 * in the coalesced "counts" events. Who voted for what is never returned, logged or audited:
 * not to the channel's owner, not to an operator.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/counts_int.h"
#include "core/clock.h"
#include "store/reactions.h"

/* ---- a poll made with its post ---- */

/* Characters, not bytes: jansson has already checked the UTF-8. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A string of 1..max characters without NUL; answers 400 naming `field` otherwise. */
static bool poll_text(struct http_req *r, json_t *v, size_t max, const char *field,
                      const char **out)
{
    char msg[160];
    size_t n;

    *out = json_string_value(v);
    if (!*out || strlen(*out) != json_string_length(v)) {
        snprintf(msg, sizeof(msg), "'%s' must be a string (without NUL characters).", field);
        http_respond_error(r, 400, v ? "wrong_type" : "missing_field", msg, field);
        return false;
    }
    n = utf8_chars(*out);
    if (n < 1 || n > max) {
        snprintf(msg, sizeof(msg), "'%s' must be 1 to %zu characters long.", field, max);
        http_respond_error(r, 400, n < 1 ? "too_short" : "too_long", msg, field);
        return false;
    }
    return true;
}

static bool poll_closes(struct http_req *r, json_t *poll, int64_t publish_at_ms, int64_t *out)
{
    json_t *v = json_object_get(poll, "closes_at");
    int64_t now = clock_now_ms();
    int64_t from = publish_at_ms > now ? publish_at_ms : now;

    *out = 0;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || !api__rfc3339_parse(json_string_value(v), out)) {
        http_respond_error(r, 400, "invalid_value",
                           "'poll.closes_at' must be an RFC 3339 time, e.g. 2026-12-01T18:00:00Z.",
                           "poll.closes_at");
        return false;
    }
    if (*out <= from || *out > from + POLL_CLOSE_MAX_MS) {
        http_respond_error(r, 400, "invalid_value",
                           "'poll.closes_at' must be after the post goes out and at most a year "
                           "later.",
                           "poll.closes_at");
        return false;
    }
    return true;
}

bool api__poll_parse(struct http_req *r, json_t *body, int64_t publish_at_ms,
                     struct store_poll_new *out, bool *has)
{
    static const char *const allowed[] = { "question", "options", "multiple", "closes_at", NULL };
    json_t *poll = json_object_get(body, "poll");
    json_t *opts;
    json_t *multiple;
    json_t *v;
    const char *key;
    char field[48];
    size_t i;

    memset(out, 0, sizeof(*out));
    *has = false;
    if (!poll || json_is_null(poll))
        return true;
    if (!json_is_object(poll)) {
        http_respond_error(r, 400, "wrong_type",
                           "'poll' must be an object {question, options, multiple, closes_at}.",
                           "poll");
        return false;
    }
    json_object_foreach(poll, key, v)
    {
        bool known = false;

        for (size_t k = 0; allowed[k]; k++)
            known = known || !strcmp(allowed[k], key);
        if (!known) {
            http_respond_error(r, 400, "unknown_field",
                               "A poll has only question, options, multiple and closes_at.",
                               "poll");
            return false;
        }
    }
    if (!poll_text(r, json_object_get(poll, "question"), POLL_QUESTION_MAX, "poll.question",
                   &out->question))
        return false;
    opts = json_object_get(poll, "options");
    if (!json_is_array(opts) || json_array_size(opts) < POLL_OPTIONS_MIN ||
        json_array_size(opts) > POLL_OPTIONS_MAX) {
        http_respond_error(r, 400, opts ? "invalid_options" : "missing_field",
                           "'poll.options' must be an array of 2 to 12 option texts.",
                           "poll.options");
        return false;
    }
    json_array_foreach(opts, i, v)
    {
        snprintf(field, sizeof(field), "poll.options[%zu]", i);
        if (!poll_text(r, v, POLL_OPTION_MAX, field, &out->options[i]))
            return false;
    }
    out->n_options = (unsigned)json_array_size(opts);
    multiple = json_object_get(poll, "multiple");
    if (multiple && !json_is_boolean(multiple)) {
        http_respond_error(r, 400, "wrong_type", "'poll.multiple' must be true or false.",
                           "poll.multiple");
        return false;
    }
    out->multiple = json_is_true(multiple);
    if (!poll_closes(r, poll, publish_at_ms, &out->closes_ms))
        return false;
    *has = true;
    return true;
}

/* ---- votes ---- */

static void no_poll(struct http_req *r)
{
    http_respond_error(r, 404, "poll_not_found", "This post has no poll.", "id");
}

static void closed(struct http_req *r)
{
    http_respond_error(r, 409, "poll_closed",
                       "This poll is closed: its results are final and votes are no longer "
                       "accepted or changed.",
                       NULL);
}

/*
 * `options`: 1..n distinct option numbers (0..n-1), exactly one for a single-choice poll.
 * Answers 400 and returns false otherwise; on success `*choices` is their bit set.
 */
static bool parse_options(struct http_req *r, json_t *body, const struct store_post_target *t,
                          uint32_t *choices)
{
    json_t *arr = json_object_get(body, "options");
    char msg[200];
    size_t i;
    json_t *v;

    *choices = 0;
    if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > t->n_options) {
        snprintf(msg, sizeof(msg),
                 "'options' must be an array of 1 to %u option numbers, such as [0]; to retract "
                 "a vote, DELETE it.",
                 t->n_options);
        http_respond_error(r, 400, arr ? "invalid_options" : "missing_field", msg, "options");
        return false;
    }
    json_array_foreach(arr, i, v)
    {
        json_int_t o = json_is_integer(v) ? json_integer_value(v) : -1;

        if (o < 0 || o >= (json_int_t)t->n_options || (*choices & (1U << o))) {
            snprintf(msg, sizeof(msg),
                     "'options' must list distinct option numbers from 0 to %u (the options' "
                     "positions in the poll).",
                     t->n_options - 1);
            http_respond_error(r, 400, "invalid_options", msg, "options");
            return false;
        }
        *choices |= 1U << o;
    }
    if (!t->multiple && json_array_size(arr) > 1) {
        http_respond_error(r, 400, "single_choice",
                           "This poll takes one option per vote: send just one, such as [0].",
                           "options");
        return false;
    }
    return true;
}

/* The post has a poll and it is still open (answers 404 / 409 otherwise). */
static bool poll_open(struct http_req *r, const struct store_post_target *t)
{
    if (!t->has_poll) {
        no_poll(r);
        return false;
    }
    if (t->closes_ms && t->closes_ms <= clock_now_ms()) {
        closed(r);
        return false;
    }
    return true;
}

static void vote_put(struct http_req *r)
{
    static const char *const allowed[] = { "options", NULL };
    struct store_post_target t;
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *pend;
    json_t *body = NULL;
    uint32_t choices = 0;
    int64_t post_id = 0;
    int err;

    if (!api__interaction_begin(r, hash, &post_id, &t) || !poll_open(r, &t))
        goto out;
    body = api__body_object(r, allowed);
    if (!body || !parse_options(r, body, &t, &choices))
        goto out;
    pend = api__pending_new(r, api__interaction_done, NULL);
    err = store_vote_put(api__app(r)->store, hash, post_id, choices, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        api__interaction_done(r, err, 0, NULL);
    }
out:
    explicit_bzero(hash, sizeof(hash));
    json_decref(body);
}

static void vote_delete(struct http_req *r)
{
    struct store_post_target t;
    uint8_t hash[SECRET_HASH_LEN];
    struct api_pending *pend;
    int64_t post_id = 0;
    int err;

    if (!api__interaction_begin(r, hash, &post_id, &t) || !poll_open(r, &t))
        goto out;
    pend = api__pending_new(r, api__interaction_done, NULL);
    err = store_vote_delete(api__app(r)->store, hash, post_id, api__pending_done, pend);
    if (err) {
        api__pending_free(pend);
        api__interaction_done(r, err, 0, NULL);
    }
out:
    explicit_bzero(hash, sizeof(hash));
}

static const struct http_route routes[] = {
    { HTTP_M_PUT, HTTP_ROUTE_JSON, "/api/v1/posts/{id}/vote", vote_put, 1024, NULL },
    { HTTP_M_DELETE, 0, "/api/v1/posts/{id}/vote", vote_delete, 0, NULL },
};
API_ROUTE_SET(api_polls_routes, routes);
