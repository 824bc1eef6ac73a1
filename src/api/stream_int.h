/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The pure parsers of the live streams (api/stream_parse.c), apart so that fuzz targets and unit
 * tests reach them: resume cursors (SSE Last-Event-ID), channel lists (?channels=) and
 * WebSocket client messages. api/ and tests only. Any thread.
 */
#ifndef API_STREAM_INT_H
#define API_STREAM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define API_HANDLE_MAX 39 /* bytes of a channel handle as parsed here (the store allows 32) */
/*
 * The longest cursor accepted: "handle:seq" per channel, comma-separated. 64 channels of 32
 * bytes with a 19-digit seq need about 3.5 KiB; anything longer is refused before parsing.
 */
#define API_CURSOR_MAX_BYTES 4096

struct api_pos {
    char handle[API_HANDLE_MAX + 1]; /* lower-cased */
    int64_t seq;                     /* ≥ 0; -1 in a WebSocket subscribe without `since` */
};

/*
 * Parse a resume cursor "comune-news:12,meteo:7" (the SSE event id of araldo's streams) into
 * at most `max` positions. Handles are [A-Za-z0-9_-]{1,39} (folded to lower case), seqs are
 * decimal 0..10^18 without sign; no spaces, no empty items, no repeated handle. Returns the
 * number of positions, or -EINVAL for anything else (including more than `max` or longer than
 * API_CURSOR_MAX_BYTES), or -E2BIG when only the count is over `max`.
 */
MUST_CHECK int api__cursor_parse(const char *s, struct api_pos *out, size_t max);
/*
 * Format positions as a cursor into `out` (NUL-terminated). Returns the length, or -EMSGSIZE
 * if it does not fit.
 */
MUST_CHECK int api__cursor_format(const struct api_pos *pos, size_t n, char *out, size_t outlen);

/*
 * Parse "?channels=a,b,c": handles as above, seq set to -1. Returns the count, -EINVAL for a
 * malformed list (empty item, bad character, repeated handle), -E2BIG past `max`.
 */
MUST_CHECK int api__channel_list_parse(const char *s, struct api_pos *out, size_t max);

enum api_ws_type { API_WS_SUBSCRIBE = 1, API_WS_UNSUBSCRIBE = 2 };

/*
 * A WebSocket client message:
 *   {"type":"subscribe","channels":["a","b"],"since":{"a":12}}
 *   {"type":"unsubscribe","channels":["a"]}
 * `since` is optional (a channel without one starts live: seq -1). Returns the number of
 * channels (≥ 1) with `*type` set, -EINVAL with a reason for a person in `why` (malformed
 * JSON, unknown type or field, a bad handle or seq, `since` naming a channel not in
 * `channels`), or -E2BIG past `max` channels.
 */
MUST_CHECK int api__ws_msg_parse(const char *p, size_t len, enum api_ws_type *type,
                                 struct api_pos *out, size_t max, char *why, size_t whylen);

#endif
