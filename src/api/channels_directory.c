/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The public directory of listed channels (GET /api/v1/channels): search, category and org
 * filters, three orders and cursor pages. The route is in api/channels.c's table.
 */
#include "api/channels_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

#define DIR_LIMIT_DEF 20
#define DIR_LIMIT_MAX 50
#define DIR_QUERY_MAX 100 /* characters of ?q= */

static void dir_one(void *ctx, const struct store_channel *ch)
{
    json_array_append_new(ctx, api__channel_json(ch));
}

static bool query_uint(struct http_req *r, const char *name, unsigned min, unsigned max,
                       unsigned *out)
{
    const char *s = http_req_query(r, name);
    char msg[160];
    char *end;
    long v;

    if (!s)
        return true;
    v = strtol(s, &end, 10);
    if (!*s || *end || v < (long)min || v > (long)max) {
        snprintf(msg, sizeof(msg), "'%s' must be a whole number from %u to %u.", name, min, max);
        http_respond_error(r, 400, "invalid_parameter", msg, name);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void api__channels_directory(struct http_req *r)
{
    static const char *const sorts[] = { "popular", "new", "active" };
    struct store_dir_query q = { .limit = DIR_LIMIT_DEF };
    const char *sort = http_req_query(r, "sort");
    char next[STORE_CURSOR_MAX];
    json_t *arr;
    int err;

    q.q = http_req_query(r, "q");
    q.category = http_req_query(r, "category");
    q.org_slug = http_req_query(r, "org");
    q.cursor = http_req_query(r, "cursor");
    if (q.q && utf8_chars(q.q) > DIR_QUERY_MAX) {
        http_respond_error(r, 400, "invalid_parameter", "'q' must be at most 100 characters.", "q");
        return;
    }
    if (q.category && !store_channel_category_valid(q.category)) {
        http_respond_error(r, 400, "invalid_parameter",
                           "'category' must be one of news, civil_protection, culture, tourism, "
                           "schools, transport, environment, sport, other.",
                           "category");
        return;
    }
    if (sort) {
        size_t i;

        for (i = 0; i < ARRAY_SIZE(sorts) && strcmp(sort, sorts[i]) != 0; i++)
            ;
        if (i == ARRAY_SIZE(sorts)) {
            http_respond_error(r, 400, "invalid_parameter",
                               "'sort' must be popular, new or active.", "sort");
            return;
        }
        q.sort = (enum store_dir_sort)i;
    }
    if (!query_uint(r, "limit", 1, DIR_LIMIT_MAX, &q.limit))
        return;
    arr = json_array();
    err = store_channel_search(api__reader(r), &q, dir_one, arr, next);
    if (err == -EINVAL) {
        json_decref(arr);
        http_respond_error(r, 400, "invalid_cursor",
                           "This cursor is not valid for this listing: start from the first page.",
                           "cursor");
        return;
    }
    if (err) {
        json_decref(arr);
        api__errno(r, err, "directory");
        return;
    }
    api__answer_cached(r,
                       json_pack("{s:o, s:o}", "channels", arr, "next_cursor",
                                 next[0] ? json_string(next) : json_null()),
                       true);
}
