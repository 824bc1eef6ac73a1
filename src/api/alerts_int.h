/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Civil-protection alerts, shared by api/alerts.c (zones, settings, publishing, reads, the
 * current status), api/alerts_cap.c (CAP export, Atom, import) and api/stream.c (the status
 * sent at stream start). The vocabulary and its CAP mapping live here so that export and
 * import use the same tables (docs/ALERTS.md shows them). api/ only; loop thread.
 */
#ifndef API_ALERTS_INT_H
#define API_ALERTS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api_int.h"
#include "cap/cap.h"
#include "core/compiler.h"
#include "store/alerts.h"
#include "store/orgs.h"

/* A level: verde 1 .. rosso 4, with Meteoalarm's colour and CAP's severity. */
struct api_level {
    const char *name, *colour, *severity, *phase; /* phase: the default one */
    int rank;
};
/* A national risk: code, Italian name, CAP category, Meteoalarm awareness_type. */
struct api_risk {
    const char *code, *name, *category, *awareness_type;
};

extern const struct api_level api__levels[4];
extern const struct api_risk api__risks[];
extern const size_t api__n_risks;

/* The level named `name`, or NULL. */
const struct api_level *api__level(const char *name);
/* The national risk `code`, or NULL. */
const struct api_risk *api__risk(const char *code);
/* Whether `s` is one of nessuna, attenzione, preallarme, allarme. */
bool api__phase_valid(const char *s);

/* Default CAP `sent`/`expires` span for an imported alert without <expires>: 24 h. */
#define API_ALERT_DEFAULT_SPAN_MS (24LL * 3600 * 1000)

/*
 * Load org {slug} of the route into `o`; answers 404 org_not_found and returns false if none.
 */
bool api__alert_org(struct http_req *r, struct store_org *o);
/*
 * Whether `me` may publish alerts for org `o`: an operator, its org_admins, its staff with the
 * civil_protection permission. Answers 403 (not_alert_publisher) otherwise.
 */
bool api__alert_publisher(struct http_req *r, const struct store_user *me,
                          const struct store_org *o);
/* Staff of the org (or an operator) signed in on this request, without answering anything. */
bool api__alert_org_staff(struct http_req *r, const struct store_org *o, struct store_user *me);

/*
 * The current-status document of org `o` at `now_ms` for alerts of `status` (Actual for the
 * public): every zone × risk with its level and phase (docs/API.md). New reference, or NULL on
 * a store error (logged).
 */
json_t *api__alerts_current(struct store_reader *rd, const struct store_org *o, const char *status,
                            int64_t now_ms);

/* api/alerts_org.c: zones, risks and settings; routes listed in api/alerts.c's set. */
void api__zones_create(struct http_req *r);
void api__zone_patch(struct http_req *r);
void api__zones_list(struct http_req *r);
void api__zone_get(struct http_req *r);
void api__zone_delete(struct http_req *r);
void api__risks_list(struct http_req *r);
void api__risk_put(struct http_req *r);
void api__risk_delete(struct http_req *r);
void api__alert_settings_get(struct http_req *r);
void api__alert_settings_put(struct http_req *r);
/* Append zone `z` as JSON to the array `ctx` (a store_zone_fn). */
void api__zone_one(void *ctx, const struct store_zone *z);
/* Every risk of org `org_id`, national first: [{code, name, category, national}]. */
json_t *api__risks_of(struct store_reader *rd, int64_t org_id);
/* The entry of `risks` (api__risks_of) with this code, borrowed, or NULL. */
json_t *api__risk_find(json_t *risks, const char *code);
/* Whether org `org_id` has the two-person rule on (true as well when it cannot be read). */
bool api__two_person_rule(struct store_reader *rd, int64_t org_id);

/*
 * Answer 200 with `body` (`type`) and an ETag, the SHA-256 of `tag` (NULL: of the body), or 304
 * to a matching If-None-Match: a phone on a slow line revalidates instead of downloading again.
 * Cache-Control is no-cache (revalidate every time: a level must never be stale), "public" when
 * `shared`, else "private" (staff views). Borrows `body`.
 */
void api__alerts_answer(struct http_req *r, const char *type, const char *body, size_t len,
                        const char *tag, size_t tag_len, bool shared);
/* api__alerts_answer() for JSON `v` (reference taken). */
void api__alerts_answer_json(struct http_req *r, json_t *v, bool shared);

/* Routes of api/alerts_cap.c, listed in api/alerts.c's route set. */
void api__alert_cap_get(struct http_req *r, int64_t id);
void api__alerts_atom(struct http_req *r);
void api__alerts_import(struct http_req *r);

/*
 * A CAP message mapped onto org `o` for import (docs/ALERTS.md, Import), without an HTTP
 * request: what the import endpoint does, and what a feed poller will do for each document
 * (issue 13, not built yet). `a` is ready for store_alert_add() (it borrows `m` and `x`);
 * pending (two-person rule) and actor_id are the caller's to set.
 */
struct api_cap_import {
    struct store_alert_new a;
    int64_t refs[STORE_ALERT_REFS_MAX];
    char risk[STORE_RISK_CODE_MAX + 1], level[16], phase[16];
    char *doc;         /* owned: api__cap_import_release */
    int64_t existing;  /* -EALREADY: the alert the same document made before */
    const char *why;   /* -EINVAL: the reason, for a person */
    const char *where; /* -EINVAL: the element ("alert/status") */
};
/*
 * Returns 0, -EALREADY (already imported: `existing`), -EINVAL (`why`, `where`), or a store
 * error. Release `x` in every case. The reader's thread.
 */
MUST_CHECK int api__cap_import_map(struct store_reader *rd, const struct store_org *o,
                                   const struct cap_msg *m, struct api_cap_import *x);
void api__cap_import_release(struct api_cap_import *x);

/* The alert `id` as JSON (NULL: none or unreadable; `*a_org` gets its org id when found). */
json_t *api__alert_load(struct store_reader *rd, int64_t id, int64_t *a_org);

/*
 * Publish (or submit for approval) alert `a` for org `o` as `me`, then answer 201 (202 when
 * pending) with the alert, or 200 with `existing` when the store says it is already there.
 * `a->pending` is decided here from the two-person rule. Takes nothing.
 */
void api__alert_submit(struct http_req *r, const struct store_org *o, const struct store_user *me,
                       struct store_alert_new *a);

#endif
