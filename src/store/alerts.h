/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Civil-protection alerts: an org's alert zones, custom risks, alert settings (who may
 * publish, the two-person rule, CAP import rules) and the alerts themselves. Same conventions
 * as store/store.h. Publishing an alert (status Actual or Exercise) writes an "alert" event on
 * every channel of its org in the same transaction, so live streams carry it and resume over
 * it like any other event (docs/ALERTS.md, docs/FANOUT.md). Every write is audited.
 *
 * The vocabulary (levels, phases, statuses, message types) is validated by api/; the schema's
 * CHECKs only catch our own bugs.
 */
#ifndef STORE_ALERTS_H
#define STORE_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "store/store.h"

#define STORE_ZONE_CODE_MAX    32    /* [A-Za-z0-9_.-] */
#define STORE_ZONE_NAME_MAX    200   /* characters */
#define STORE_ZONE_POLYGON_MAX 16384 /* bytes of a CAP polygon */
#define STORE_RISK_CODE_MAX    32    /* [a-z0-9_] */
#define STORE_RISK_NAME_MAX    100   /* characters */
#define STORE_ALERT_ID_MAX     255   /* bytes of a CAP identifier or sender */
#define STORE_ALERT_REFS_MAX   16    /* alerts one Update or Cancel may name */
#define STORE_PUBLISHERS_MAX   200   /* staff granted civil_protection in one org */

/* ---- zones ---- */

struct store_zone {
    int64_t id;
    const char *code;
    const char *name;
    const char *geocodes_json; /* JSON array of {"valueName","value"}, "[]" when none */
    const char *polygon;       /* NULL when none */
};

/*
 * Create (`create`) or replace the zone `code` of org `org_id` on behalf of `actor_id` (audited
 * as "zone.create"/"zone.update"). `geocodes_json` NULL means "[]"; `polygon` may be NULL.
 * -EEXIST when creating a code the org has, -ENOENT when replacing one it has not. Borrowed
 * strings are copied before the call returns.
 */
MUST_CHECK int store_zone_put(struct store *s, int64_t actor_id, int64_t org_id, const char *code,
                              bool create, const char *name, const char *geocodes_json,
                              const char *polygon, store_done_fn *done, void *ctx);
/* Delete zone `code` of org `org_id` (audited). -ENOENT if none. Past alerts keep their copy. */
MUST_CHECK int store_zone_delete(struct store *s, int64_t actor_id, int64_t org_id,
                                 const char *code, store_done_fn *done, void *ctx);
/*
 * The zones of org `org_id` ordered by code, or only zone `code` when not NULL (-ENOENT if it
 * has none), calling `each(ctx, zone)`; strings are valid during the call only.
 */
typedef void store_zone_fn(void *ctx, const struct store_zone *z);
MUST_CHECK int store_zone_list(struct store_reader *r, int64_t org_id, const char *code,
                               store_zone_fn *each, void *ctx);

/* ---- custom risks ---- */

/* Set (create or rename) risk `code` of org `org_id` (audited as "risk.put"). */
MUST_CHECK int store_risk_put(struct store *s, int64_t actor_id, int64_t org_id, const char *code,
                              const char *name, const char *category, store_done_fn *done,
                              void *ctx);
/* Drop the org's own entry for risk `code` (audited). -ENOENT if none. */
MUST_CHECK int store_risk_delete(struct store *s, int64_t actor_id, int64_t org_id,
                                 const char *code, store_done_fn *done, void *ctx);
/* The org's own risk entries by code: `each(ctx, code, name, category)`. */
typedef void store_risk_fn(void *ctx, const char *code, const char *name, const char *category);
MUST_CHECK int store_risk_list(struct store_reader *r, int64_t org_id, store_risk_fn *each,
                               void *ctx);

/* ---- settings ---- */

struct store_alert_settings {
    bool two_person_rule;     /* a rosso alert waits for a second staff member's approval */
    const char *import_rules; /* JSON object (docs/ALERTS.md); valid during the call only */
};

/*
 * Change org `org_id`'s alert settings (audited as "alerts.settings"): `two_person` < 0 leaves
 * the rule as it is; `import_rules` NULL leaves them; `publishers` NULL leaves the list, else
 * replaces it with these `n` user ids, each of which must be a staff account of the org
 * (-ENOENT otherwise). -EINVAL past STORE_PUBLISHERS_MAX.
 */
MUST_CHECK int store_alert_settings_set(struct store *s, int64_t actor_id, int64_t org_id,
                                        int two_person, const char *import_rules,
                                        const int64_t *publishers, size_t n, store_done_fn *done,
                                        void *ctx);
/* The org's settings (defaults when never set) and its publishers, `each(ctx, user_id)`. */
typedef void store_publisher_fn(void *ctx, int64_t user_id);
typedef void store_alert_settings_fn(void *ctx, const struct store_alert_settings *set);
MUST_CHECK int store_alert_settings_get(struct store_reader *r, int64_t org_id,
                                        store_alert_settings_fn *got, store_publisher_fn *each,
                                        void *ctx);
/* Whether `user_id` holds the civil_protection permission in org `org_id`. */
MUST_CHECK int store_alert_publisher(struct store_reader *r, int64_t org_id, int64_t user_id,
                                     bool *yes);

/* ---- alerts ---- */

/* A new alert (borrowed; copied before the call returns). */
struct store_alert_new {
    int64_t org_id;
    int64_t actor_id;       /* staff who published or imported it (audit) */
    const char *identifier; /* CAP identifier; NULL: `id_prefix` followed by the new id */
    const char *id_prefix;
    const char *sender;
    int64_t sent_ms; /* 0: the commit's time */
    const char *status, *msg_type, *risk, *level, *phase;
    int64_t onset_ms, expires_ms;
    const char *doc_json; /* {"risk_name", "areas", "info"}: what is shown and exported */
    const int64_t *refs;  /* alerts of the same org this one updates or cancels */
    size_t n_refs;
    bool pending;  /* wait for approval (two-person rule): no event, not in force */
    bool imported; /* from a CAP document: its sender is not the org */
};

/*
 * Add an alert. Unless pending, it is published in the same transaction: each alert in `refs`
 * that is published and not yet replaced gets replaced_by = the new id (a reference to an
 * alert of another org, or to none, is -ENOENT for a local alert and skipped for an imported
 * one), and unless its status is Test, an "alert" event with store_alert_json() goes on every
 * channel of the org. Audited as "alert.publish", "alert.submit" or "alert.import". -EEXIST
 * if the org already has (sender, identifier, sent). The id is the new alert's.
 */
MUST_CHECK int store_alert_add(struct store *s, const struct store_alert_new *a,
                               store_done_fn *done, void *ctx, int64_t *id_out);
/*
 * Approve pending alert `alert_id` of org `org_id` as `actor_id`: it is published as above,
 * with `sent` the approval's time. -ENOENT if no such alert, -EALREADY if it is not pending,
 * -EPERM if `actor_id` made it (two people are needed). Audited as "alert.approve".
 */
MUST_CHECK int store_alert_approve(struct store *s, int64_t actor_id, int64_t org_id,
                                   int64_t alert_id, store_done_fn *done, void *ctx);
/* Withdraw pending alert `alert_id` (audited). -ENOENT, or -EALREADY if it is not pending. */
MUST_CHECK int store_alert_withdraw(struct store *s, int64_t actor_id, int64_t org_id,
                                    int64_t alert_id, store_done_fn *done, void *ctx);

/* One alert as read back; strings are valid during the callback only. */
struct store_alert {
    int64_t id, org_id;
    const char *org; /* the org's slug */
    const char *identifier, *sender;
    int64_t sent_ms, onset_ms, expires_ms, created_ms, published_ms;
    const char *status, *msg_type, *risk, *level, *phase, *state;
    const char *doc_json, *refs_json;
    int64_t replaced_by; /* 0: not replaced */
    bool imported;
};
typedef void store_alert_fn(void *ctx, const struct store_alert *a);

/* The alert with this id. -ENOENT if none. */
MUST_CHECK int store_alert_get(struct store_reader *r, int64_t id, store_alert_fn *each, void *ctx);
/*
 * The alert of org `org_id` with CAP identity (sender, identifier, sent_ms); sent_ms < 0
 * matches any time. -ENOENT if none.
 */
MUST_CHECK int store_alert_find(struct store_reader *r, int64_t org_id, const char *sender,
                                const char *identifier, int64_t sent_ms, store_alert_fn *each,
                                void *ctx);

struct store_alert_query {
    int64_t org_id;
    const char *status; /* NULL: any */
    const char *state;  /* NULL: any */
    const char *zone;   /* NULL: any; else alerts naming this zone code */
    const char *risk;   /* NULL: any */
    int64_t from_ms;    /* alerts still valid at or after (expires > from); 0: no bound */
    int64_t to_ms;      /* alerts starting before (onset < to); 0: no bound */
    int64_t before_id;  /* 0: from the newest */
    unsigned limit;
};
/* Alerts matching `q`, newest first. */
MUST_CHECK int store_alert_list(struct store_reader *r, const struct store_alert_query *q,
                                store_alert_fn *each, void *ctx);
/*
 * The published, not replaced, non-Cancel alerts of org `org_id` with `status` that have not
 * expired at `now_ms` (those in force and those still to start), by onset.
 */
MUST_CHECK int store_alert_live(struct store_reader *r, int64_t org_id, const char *status,
                                int64_t now_ms, store_alert_fn *each, void *ctx);

/*
 * The alert as the API and the "alert" event show it (docs/API.md, "The alert object"): new
 * reference, or NULL when its stored JSON is unreadable. Any thread.
 */
json_t *store_alert_json(const struct store_alert *a);

#endif
