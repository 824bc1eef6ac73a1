/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The counts coalescer (api/counts.c): reactions and votes mark their post dirty in their own
 * transaction; a thread of its own, on the node holding the "counts" lease, writes at most one
 * "counts" event per post per COUNTS_INTERVAL_MS through the store (store_counts_flush), so a
 * popular post costs one event a second however many followers react on however many nodes.
 * api/ only.
 */
#ifndef API_COUNTS_INT_H
#define API_COUNTS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/secret.h"
#include "http/http.h"
#include "store/reactions.h"
#include "store/store.h"

struct api_app;

#define COUNTS_INTERVAL_MS 1000 /* DESIGN.md: at most one counts event per post per second */

struct api_counts; /* opaque: one per server */

/*
 * Start the coalescer's thread over `app`'s store. Returns NULL (logged) if the thread cannot
 * start; marks then wait in the database for a node that runs one. Main thread.
 */
struct api_counts *api__counts_start(struct api_app *app);
/*
 * Write the events still due, then stop and join the thread. Call once no more marks can come
 * (the HTTP server has stopped) and before store_close(). NULL-safe. Main thread.
 */
void api__counts_stop(struct api_counts *c);

/*
 * What a reaction and a vote check first (api/reactions.c), answering the request itself when
 * a check fails: a follower token (401), the token's and the address's rate limits (429 with
 * Retry-After), a published post within its channel's retention (404 post_not_found), and that
 * the follower follows its channel (403 not_following). Fills `hash`, `post_id` and `t`.
 * Loop thread.
 */
bool api__interaction_begin(struct http_req *r, uint8_t hash[SECRET_HASH_LEN], int64_t *post_id,
                            struct store_post_target *t);
/*
 * The api_finish_fn of a reaction or vote write (`data` unused). On success answers 204 and
 * (the store marked the post for the coalescer in the same transaction); maps -ENOENT (404),
 * -ETIME (409 poll_closed), -EINVAL (400) and the rest (api__errno).
 */
void api__interaction_done(struct http_req *r, int err, int64_t id, void *data);

/*
 * The `poll` member of a post create body (api/polls.c): {question, options, multiple,
 * closes_at}. Absent or null: returns true with *has false. Otherwise fills `out` (strings
 * borrowed from `body`) and sets *has, or answers 400 naming the field ("poll.options[2]") and
 * returns false. `publish_at_ms` (0: now) is when the post goes out: closes_at must be after
 * it and at most POLL_CLOSE_MAX_MS ahead. Loop thread.
 */
/* RFC 3339 date-time to ms since the epoch; false for anything else (api/posts.c). */
bool api__rfc3339_parse(const char *s, int64_t *ms);

bool api__poll_parse(struct http_req *r, json_t *body, int64_t publish_at_ms,
                     struct store_poll_new *out, bool *has);

#endif
