/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The pure parsers of the live streams (api/stream_int.h): resume cursors, channel lists and
 * WebSocket client messages. No I/O, any thread; fuzzed by tests/fuzz/fuzz_resume.c.
 */
#include "api/stream_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"

/* ---- parsers (pure) ---- */

static int parse_handle(const char *s, size_t n, char *out)
{
    if (!n || n > API_HANDLE_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return -EINVAL;
        out[i] = ch;
    }
    out[n] = '\0';
    return 0;
}

static int parse_seq(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (!n || n > 18)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static bool seen(const struct api_pos *pos, size_t n, const char *handle)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(pos[i].handle, handle))
            return true;
    }
    return false;
}

int api__cursor_parse(const char *s, struct api_pos *out, size_t max)
{
    size_t len = strnlen(s, API_CURSOR_MAX_BYTES + 1);
    const char *p = s;
    int n = 0;

    if (!len || len > API_CURSOR_MAX_BYTES)
        return -EINVAL;
    for (;;) {
        size_t item = strcspn(p, ",");
        const char *colon = memchr(p, ':', item);
        struct api_pos pos;

        if (!colon)
            return -EINVAL;
        if (parse_handle(p, (size_t)(colon - p), pos.handle) ||
            parse_seq(colon + 1, item - (size_t)(colon - p) - 1, &pos.seq) ||
            seen(out, (size_t)n, pos.handle))
            return -EINVAL;
        if ((size_t)n == max)
            return -E2BIG;
        out[n++] = pos;
        p += item;
        if (!*p)
            break;
        p++; /* the comma: an item must follow */
    }
    return n;
}

int api__cursor_format(const struct api_pos *pos, size_t n, char *out, size_t outlen)
{
    size_t o = 0;

    if (!outlen)
        return -EMSGSIZE;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(out + o, outlen - o, "%s%s:%lld", i ? "," : "", pos[i].handle,
                         (long long)(pos[i].seq < 0 ? 0 : pos[i].seq));

        if (k < 0 || (size_t)k >= outlen - o)
            return -EMSGSIZE;
        o += (size_t)k;
    }
    return (int)o;
}

int api__channel_list_parse(const char *s, struct api_pos *out, size_t max)
{
    size_t len = strnlen(s, API_CURSOR_MAX_BYTES + 1);
    const char *p = s;
    int n = 0;

    if (!len || len > API_CURSOR_MAX_BYTES)
        return -EINVAL;
    for (;;) {
        size_t item = strcspn(p, ",");
        struct api_pos pos = { .seq = -1 };

        if (parse_handle(p, item, pos.handle) || seen(out, (size_t)n, pos.handle))
            return -EINVAL;
        if ((size_t)n == max)
            return -E2BIG;
        out[n++] = pos;
        p += item;
        if (!*p)
            break;
        p++;
    }
    return n;
}

static int ws_since(json_t *since, struct api_pos *out, size_t n, char *why, size_t whylen)
{
    const char *key;
    json_t *val;
    char h[API_HANDLE_MAX + 1];

    if (!json_is_object(since)) {
        snprintf(why, whylen, "'since' must be an object of channel -> seq.");
        return -EINVAL;
    }
    json_object_foreach(since, key, val)
    {
        size_t i;

        if (parse_handle(key, strlen(key), h) || !json_is_integer(val) ||
            json_integer_value(val) < 0 || json_integer_value(val) > 999999999999999999LL) {
            snprintf(why, whylen, "'since' must map channel handles to seqs (0 or more).");
            return -EINVAL;
        }
        for (i = 0; i < n && strcmp(out[i].handle, h) != 0; i++)
            ;
        if (i == n) {
            snprintf(why, whylen, "'since' names '%.39s', which is not in 'channels'.", h);
            return -EINVAL;
        }
        out[i].seq = json_integer_value(val);
    }
    return 0;
}

int api__ws_msg_parse(const char *p, size_t len, enum api_ws_type *type, struct api_pos *out,
                      size_t max, char *why, size_t whylen)
{
    char jerr[160];
    json_t *v = json_parse(p, len, jerr, sizeof(jerr));
    json_t *chans, *since, *val;
    const char *key, *t;
    int n = -EINVAL;
    size_t i;

    if (!v) {
        snprintf(why, whylen, "The message is not valid JSON (%s).", jerr);
        return -EINVAL;
    }
    if (!json_is_object(v)) {
        snprintf(why, whylen, "A message is a JSON object with a 'type'.");
        goto out;
    }
    json_object_foreach(v, key, val)
    {
        if (strcmp(key, "type") != 0 && strcmp(key, "channels") != 0 && strcmp(key, "since") != 0) {
            snprintf(why, whylen, "Unknown field '%.40s'.", key);
            goto out;
        }
    }
    t = json_string_value(json_object_get(v, "type"));
    if (t && !strcmp(t, "subscribe")) {
        *type = API_WS_SUBSCRIBE;
    } else if (t && !strcmp(t, "unsubscribe")) {
        *type = API_WS_UNSUBSCRIBE;
    } else {
        snprintf(why, whylen, "'type' must be \"subscribe\" or \"unsubscribe\".");
        goto out;
    }
    chans = json_object_get(v, "channels");
    if (!json_is_array(chans) || !json_array_size(chans)) {
        snprintf(why, whylen, "'channels' must be a non-empty array of channel handles.");
        goto out;
    }
    if (json_array_size(chans) > max) {
        snprintf(why, whylen, "At most %zu channels per stream.", max);
        n = -E2BIG;
        goto out;
    }
    for (i = 0; i < json_array_size(chans); i++) {
        const char *h = json_string_value(json_array_get(chans, i));

        out[i].seq = -1;
        if (!h || parse_handle(h, strlen(h), out[i].handle) || seen(out, i, out[i].handle)) {
            snprintf(why, whylen, "'channels' must hold distinct channel handles.");
            goto out;
        }
    }
    since = json_object_get(v, "since");
    if (since && *type == API_WS_UNSUBSCRIBE) {
        snprintf(why, whylen, "'since' goes with subscribe only.");
        goto out;
    }
    if (since && ws_since(since, out, i, why, whylen))
        goto out;
    n = (int)i;
out:
    json_decref(v);
    return n;
}
