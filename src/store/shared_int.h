/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store/ internals that several resources' write ops call inside their own transaction, so
 * that the change, its audit entry and its follower-visible event commit together or not at
 * all. store/ only.
 */
#ifndef STORE_SHARED_INT_H
#define STORE_SHARED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "store/store_int.h"

/*
 * Append an entry to org `org_id`'s audit log: staff `user_id` (0: the system, e.g. the
 * scheduler) did `action` ("post.create", "channel.update", "admin.add" ...) to `target`
 * ("post:123", "channel:comune-news"), with optional `detail_json` (a JSON object, or NULL).
 * Audit entries name staff, never followers. Implemented in store/audit.c.
 */
MUST_CHECK int store__audit(struct store_tx *tx, int64_t org_id, int64_t user_id,
                            const char *action, const char *target, const char *detail_json);

/*
 * Append a follower-visible event to channel `channel_id`'s stream with the channel's next
 * sequence number (1, 2, 3 ... per channel, no gaps, written in the caller's transaction):
 * `kind` is "post.created", "post.edited", "post.deleted", "channel.updated", "counts";
 * `payload_json` is the event's JSON object as followers see it (counts only, never a
 * follower). Sets `*seq` when not NULL. Implemented in store/events.c.
 */
MUST_CHECK int store__event(struct store_tx *tx, int64_t channel_id, const char *kind,
                            const char *payload_json, int64_t *seq);

/*
 * Hand the sink an access marker (store/events.h: STORE_ACCESS_*, `key`) for channel
 * `channel_id` in the caller's transaction, in order with its events: nothing is stored, and a
 * rolled-back savepoint drops it like an event. Cannot fail.
 */
void store__access(struct store_tx *tx, int64_t channel_id, const char *kind, int64_t key);

/*
 * Web Push for post `post_id`, in the post's own transaction (store/push.c): published and
 * important, its campaign is written and a delivery queued for every subscription of every
 * follower with push on for the channel. With `edit`, only within PUSH_REPLACE_WINDOW_MS of
 * publication: the payload is replaced (same Topic and tag), deliveries queued again, and a post
 * no longer important drops its pending deliveries. Anything else does nothing.
 */
MUST_CHECK int store__push_post(struct store_tx *tx, int64_t post_id, bool edit);

/*
 * Web Push for alert `alert_id` as it goes out (published, or approved), in
 * the alert's own transaction (store/push.c). `alert_json` is its "alert" event payload
 * (store__alert_payload). Only `Actual` alerts push: a campaign (key -alert_id, Urgency high
 * for arancione and rosso unless a Cancel, TTL bounded by its expiry, Topic and tag those of
 * the first alert it references, else "alert-<id>") with one delivery per subscription of
 * every follower of any of the org's channels, muted or not. Undelivered deliveries of the
 * alerts it references are dropped.
 */
MUST_CHECK int store__push_alert(struct store_tx *tx, int64_t alert_id, const char *alert_json);

/*
 * Web Push for report `report_id` after a staff change of its status or a public note, in the
 * report's own transaction (store/push_report.c): its one campaign (key
 * store__push_report_key(), Topic and tag "report-<id>", Urgency normal) gets the new payload
 * and a delivery for every subscription of every follower of the report. Nobody subscribed:
 * nothing is written.
 */
MUST_CHECK int store__push_report(struct store_tx *tx, int64_t report_id);
int64_t store__push_report_key(int64_t report_id);

/*
 * Record that report `report_id` was forwarded by Open311 POST to target `target_id` (named
 * `name`), which answered `remote_id` / `remote_token` (either NULL), by staff `user_id`, in
 * the report's own transaction (store/report_forwards.c).
 */
MUST_CHECK int store__report_forward_record(struct store_tx *tx, int64_t report_id,
                                            int64_t target_id, const char *name,
                                            const char *remote_id, const char *remote_token,
                                            int64_t user_id);

/* The first line of `text`, at most PUSH_TITLE_MAX characters (UTF-8 aware), into `out`. */
void store__push_title(const char *text, char *out, size_t outlen);

#endif
