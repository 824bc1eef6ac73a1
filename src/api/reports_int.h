/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Shared by api/open311.c (the public GeoReport v2 interface) and api/reports.c (the staff's
 * /api/v1 endpoints and the reporter's follow link). api/ only.
 */
#ifndef API_REPORTS_INT_H
#define API_REPORTS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api/api_int.h"
#include "store/orgs.h"
#include "store/reports.h"

/* Per-API-key POST budgets (each key has its own rate per minute). Any thread. */
struct api_key_rates;
struct api_key_rates *api__key_rates_new(void);
void api__key_rates_free(struct api_key_rates *k); /* NULL-safe */
/* Take one POST of key `key_id` at `now_ms`: 0, or -EAGAIN with the wait in *retry_ms. */
int api__key_rates_take(struct api_key_rates *k, int64_t key_id, int rate_per_minute,
                        int64_t now_ms, int64_t *retry_ms);

/*
 * A report as GeoReport v2 shows it to anyone (the fields of GET requests, in the
 * specification's order): never contact data; the description is "" when staff hid it, the
 * photo only once it is approved. `tz` is the org's zone for the dates, `base` the public URL.
 * New reference.
 */
json_t *api__report_public_json(const struct store_report *p, const char *tz, const char *base);

/* The public photo URL of a report into `out`, or "" when it has none that may be shown. */
void api__report_photo_url(const struct store_report *p, const char *base, char *out,
                           size_t outlen);

/*
 * Answer `v` (taken) in JSON or as the specification's XML with root element `root` and, for
 * an array, items named `item` (api/open311.c).
 */
void api__o311_answer(struct http_req *r, int status, bool xml, json_t *v, const char *root,
                      const char *item);
/* The specification's error answer: `status` and [{code, description}]. */
void api__o311_error(struct http_req *r, bool xml, int status, const char *description);
/*
 * The org an Open311 request is for: `want` (a jurisdiction_id or an org slug), which may be
 * NULL only when the server hosts one org. Answers 400/404 (as Open311 errors) and returns
 * false otherwise.
 */
bool api__open311_org(struct http_req *r, const char *want, struct store_org *out, bool xml);
/* The public statistics per service (a JSON array; NULL on a read error). */
json_t *api__report_stats_json(struct http_req *r, int64_t org_id);

/* Whether `u` is staff (any role) of org `org_id`: who may see reporters' contact data. */
static inline bool api__org_member(const struct store_user *u, int64_t org_id)
{
    return u->role != STORE_ROLE_OPERATOR && u->org_id == org_id;
}

/* The Open311 "open"/"closed" of a staff status. */
static inline const char *api__open311_status(const char *status)
{
    return !strcmp(status, "risolta") || !strcmp(status, "chiusa") ? "closed" : "open";
}

/* ---- api/reports.c's helpers for the staff endpoints ---- */

/* The org named by {slug}, or answer 404 and return false. */
bool api__rep_org(struct http_req *r, struct store_org *o);
/* Staff of the org (any role) or an operator; answers 401/403 otherwise. */
bool api__rep_staff(struct http_req *r, const struct store_org *o, struct store_user *me);
/* An org admin of the org or an operator; answers 401/403 otherwise. */
bool api__rep_admin(struct http_req *r, const struct store_org *o, struct store_user *me);
/* A positive decimal id. */
bool api__rep_id(const char *s, int64_t *out);
/* A pending write's finish: 204, or 404 / 409 invalid_transition / the errno's status. */
void api__rep_done(struct http_req *r, int err, int64_t id, void *data);

/*
 * The queue's filters from the query string (status, service_code, agency, older_than_days,
 * newer_than_days, bbox, page, page_size, order) into `q`; for the CSV export (`csv`) every
 * matching row up to its cap. Answers 400 and returns false on a bad one.
 */
bool api__rep_filters(struct http_req *r, int64_t org_id, struct store_report_query *q, bool csv);
/* The queue, the detail, the workflow and the public helpers (api/reports_queue.c). */
void api__reports_queue(struct http_req *r);
void api__reports_csv(struct http_req *r);
void api__report_get(struct http_req *r);
void api__report_patch(struct http_req *r);
void api__reports_nearby(struct http_req *r);
void api__reports_stats(struct http_req *r);
void api__report_follow(struct http_req *r);
void api__reporter_view(struct http_req *r);
void api__reporter_reopen(struct http_req *r);

/* Forwarding to another body (api/reports_forward.c). */
void api__report_forward(struct http_req *r);
void api__forward_targets_list(struct http_req *r);
void api__forward_target_create(struct http_req *r);
void api__forward_target_update(struct http_req *r);
void api__forward_target_delete(struct http_req *r);
/* The forwards of report `id` another body accepted (staff view); NULL on a read error. */
json_t *api__report_forwards_json(struct http_req *r, int64_t id);
/* Live status of a report (api/reports_stream.c). */
void api__reporter_stream(struct http_req *r);
void api__report_stream(struct http_req *r);

/* Queue a store write whose answer is 204 (or its error). */
#define API_REP_SUBMIT(r, call_with_done)                                  \
    do {                                                                   \
        struct api_pending *p_ = api__pending_new(r, api__rep_done, NULL); \
        int e_ = (call_with_done);                                         \
        if (e_) {                                                          \
            api__pending_free(p_);                                         \
            api__rep_done(r, e_, 0, NULL);                                 \
        }                                                                  \
    } while (0)

#endif
