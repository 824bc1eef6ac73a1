/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Citizen reports (segnalazioni): each org's service catalogue, the reports, their workflow and
 * notes, report settings and the API keys of third-party apps (migration 008_reports.sql;
 * docs/OPEN311.md). Same conventions as store/store.h: 0 or a negative errno; writes are queued
 * to the writer thread and report through `done` (or block when `done` is NULL); reads run on
 * the reader's own thread and hand borrowed strings to a callback, valid during the call only.
 *
 * Privacy: a reporter's contact data is returned only by store_report_contact(), which the
 * API calls for the report's own org's staff; no other read carries it. Who follows a report
 * never leaves store/ (counts only). Staff changes are audited without personal data.
 */
#ifndef STORE_REPORTS_H
#define STORE_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/store.h"

#define STORE_SVC_CODE_MAX      64
#define STORE_SVC_NAME_MAX      200
#define STORE_SVC_DESC_MAX      2000
#define STORE_SVC_KEYWORDS_MAX  500
#define STORE_SVC_ATTRS_MAX     16000 /* bytes of the attributes' JSON */
#define STORE_REPORT_DESC_MAX   4000  /* characters, as GeoReport v2 says */
#define STORE_REPORT_NOTE_MAX   2000
#define STORE_REPORT_AGENCY_MAX 200
#define STORE_REPORT_NOTICE_MAX 500
#define STORE_REPORT_ADDR_MAX   500
#define STORE_REPORT_REOPEN_MS  (14LL * 86400 * 1000) /* "Non è risolto" within 14 days */

/* ---- the service catalogue ---- */

struct store_service {
    int64_t id;
    const char *code, *name, *description, *keywords, *group, *agency;
    const char *attributes_json;      /* the Open311 attributes array, "[]" when none */
    int first_answer_h, resolution_h; /* targets, in hours */
    int ord;
    bool active;
};
typedef void store_service_fn(void *ctx, const struct store_service *s);

/* True for a service code: 1..64 of [A-Za-z0-9_.-]. */
bool store_service_code_valid(const char *code);
/* The services of org `org_id` by (ord, code); inactive ones too when `all`. */
MUST_CHECK int store_services_list(struct store_reader *r, int64_t org_id, bool all,
                                   store_service_fn *each, void *ctx);
/* Service `code` of org `org_id` (active or not) through `each`; -ENOENT if none. */
MUST_CHECK int store_service_get(struct store_reader *r, int64_t org_id, const char *code,
                                 store_service_fn *each, void *ctx);
/*
 * Create or replace service `s->code` of org `org_id` (every field; `s->active`), audited as
 * "service.put" by `actor_id`. -EINVAL (before queuing) for an invalid code or a value past its
 * limit; -ENOENT for an unknown org. The id is the service's.
 */
MUST_CHECK int store_service_put(struct store *st, int64_t actor_id, int64_t org_id,
                                 const struct store_service *s, store_done_fn *done, void *ctx,
                                 int64_t *id_out);
/*
 * Withdraw service `code`: it leaves the catalogue (active = 0) but its reports keep it.
 * Audited as "service.delete". -ENOENT if the org has no such active service.
 */
MUST_CHECK int store_service_delete(struct store *st, int64_t actor_id, int64_t org_id,
                                    const char *code, store_done_fn *done, void *ctx);

/* ---- settings ---- */

struct store_report_settings {
    bool photos_moderated; /* photos public only once staff approve them */
    int retention_days;    /* personal data of closed reports erased after this */
    char contact[2001];    /* discovery's contact; "" = default */
    char key_service[2001];
};
MUST_CHECK int store_report_settings_get(struct store_reader *r, int64_t org_id,
                                         struct store_report_settings *out);
/* Replace org `org_id`'s settings (audited as "reports.settings"). -ENOENT for an unknown org. */
MUST_CHECK int store_report_settings_put(struct store *st, int64_t actor_id, int64_t org_id,
                                         const struct store_report_settings *set,
                                         store_done_fn *done, void *ctx);

/* ---- API keys ---- */

struct store_api_key {
    int64_t id, org_id;
    const char *name;
    int rate_per_minute;
    int64_t created_ms;
};
typedef void store_api_key_fn(void *ctx, const struct store_api_key *k);
/* A key (only its SHA-256 `hash` is stored), audited as "api_key.create". */
MUST_CHECK int store_api_key_add(struct store *st, int64_t actor_id, int64_t org_id,
                                 const uint8_t hash[SECRET_HASH_LEN], const char *name,
                                 int rate_per_minute, store_done_fn *done, void *ctx,
                                 int64_t *id_out);
/* Revoke key `key_id` of org `org_id` (audited). -ENOENT if no such live key. */
MUST_CHECK int store_api_key_revoke(struct store *st, int64_t actor_id, int64_t org_id,
                                    int64_t key_id, store_done_fn *done, void *ctx);
/* The live key whose SHA-256 is `hash`; -ENOENT if none. */
MUST_CHECK int store_api_key_find(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                                  int64_t *id, int64_t *org_id, int *rate_per_minute);
MUST_CHECK int store_api_keys_list(struct store_reader *r, int64_t org_id, store_api_key_fn *each,
                                   void *ctx);

/* ---- reports ---- */

struct store_report_new {
    int64_t org_id;
    const char *service_code;
    const char *description;
    bool has_pos;
    double lat, lon;
    const char *address, *address_id; /* NULL when absent */
    const char *attributes_json;      /* a JSON object {code: value or [values]} */
    const char *media_url, *media_id; /* NULL when absent */
    /* personal data: report_contacts only */
    const char *email, *phone, *first_name, *last_name, *device_id, *account_id;
    uint8_t token_hash[SECRET_HASH_LEN]; /* the reporter's follow token */
    int64_t api_key_id;                  /* 0: posted by a follower */
    const uint8_t *follower_hash;        /* the posting follower (follows the report), or NULL */
};
/*
 * File a report; expected_datetime is set from the service's resolution target, the photo is
 * pending when the org moderates photos. -ENOENT for an unknown or withdrawn service code.
 * The id is the report's (its service_request_id).
 */
MUST_CHECK int store_report_add(struct store *st, const struct store_report_new *n,
                                store_done_fn *done, void *ctx, int64_t *id_out);

struct store_report {
    int64_t id, org_id;
    const char *service_code, *service_name;
    const char *status;       /* nuova, presa_in_carico, in_lavorazione, risolta, chiusa */
    const char *close_reason; /* NULL or non_di_competenza, duplicato, ... */
    const char *description;
    bool text_hidden;
    bool has_pos;
    double lat, lon;
    const char *address, *address_id; /* NULL when absent */
    const char *attributes_json;
    const char *media_url, *media_id; /* NULL when absent */
    const char *photo_state;          /* none, pending, approved, hidden */
    const char *status_notes, *agency, *service_notice;
    const char *forwarded_to; /* NULL when not forwarded */
    int64_t duplicate_of;     /* 0 when not a duplicate */
    int64_t created_ms, updated_ms, expected_ms, first_answer_ms, resolved_ms, closed_ms;
    int reopened;
    int followers; /* how many follow it (count only) */
};
typedef void store_report_fn(void *ctx, const struct store_report *rep);

struct store_report_query {
    int64_t org_id;
    const int64_t *ids; /* only these (at most 100), or NULL */
    size_t nids;
    const char *service_code; /* NULL: any */
    const char *const *codes; /* or any of these service codes (at most 50) */
    size_t ncodes;
    const char *status;     /* a staff status, "open", "closed", or NULL: any */
    const char *agency;     /* NULL: any */
    int64_t from_ms, to_ms; /* created in [from, to); 0: unbounded */
    bool has_box;           /* a zone: lat/lon within the box */
    double min_lat, max_lat, min_lon, max_lon;
    unsigned offset, limit;
    bool oldest_first;
};
/* Reports matching `q`, newest first (or oldest first). */
MUST_CHECK int store_reports_list(struct store_reader *r, const struct store_report_query *q,
                                  store_report_fn *each, void *ctx);
/* Report `id` of org `org_id` through `each`; -ENOENT if none. */
MUST_CHECK int store_report_get(struct store_reader *r, int64_t org_id, int64_t id,
                                store_report_fn *each, void *ctx);
/* The ids of the reports merged into report `id` (at most `max`, into `out`; `*n` how many). */
MUST_CHECK int store_report_duplicates(struct store_reader *r, int64_t id, int64_t *out, size_t max,
                                       size_t *n);
/* The report whose follow token's SHA-256 is `hash`: its id and org. -ENOENT if none. */
MUST_CHECK int store_report_by_token(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                                     int64_t *id, int64_t *org_id);
/*
 * Open reports of service `code` in org `org_id` within `radius_m` metres of (lat, lon),
 * nearest first, at most `limit` (a duplicate suggestion before filing a new one).
 */
MUST_CHECK int store_reports_nearby(struct store_reader *r, int64_t org_id, const char *code,
                                    double lat, double lon, double radius_m, unsigned limit,
                                    store_report_fn *each, void *ctx);

struct store_report_contact {
    char email[255], phone[41], first_name[401], last_name[401], device_id[801], account_id[801];
    bool any; /* false: none was given, or it was erased */
};
/* The reporter's contact data of report `id`: for that org's staff only (the API checks). */
MUST_CHECK int store_report_contact(struct store_reader *r, int64_t id,
                                    struct store_report_contact *out);

/* What a staff change sets (bits of `set`). */
enum store_report_set {
    STORE_RS_STATUS = 1 << 0, /* status (+ close_reason for chiusa) */
    STORE_RS_NOTE = 1 << 1,   /* a note (note_public: also the report's status_notes) */
    STORE_RS_AGENCY = 1 << 2, /* assignment to an office */
    STORE_RS_NOTICE = 1 << 3, /* service_notice */
    STORE_RS_EXPECTED = 1 << 4,
    STORE_RS_PHOTO = 1 << 5,   /* photo_state: approved or hidden */
    STORE_RS_TEXT = 1 << 6,    /* text_hidden */
    STORE_RS_MERGE = 1 << 7,   /* duplicate of merge_into: closed as duplicato, followers move */
    STORE_RS_FORWARD = 1 << 8, /* forwarded_to (another body) */
};
struct store_report_change {
    unsigned set;
    const char *status, *close_reason;
    const char *note;
    bool note_public;
    const char *agency, *service_notice;
    int64_t expected_ms;
    const char *photo_state;
    bool text_hidden;
    int64_t merge_into;
    const char *forwarded_to;
    /* with STORE_RS_FORWARD, when sent by Open311 POST: what the other body answered */
    int64_t forward_target_id; /* 0: recorded by hand (no POST) */
    const char *forward_remote_id, *forward_remote_token;
};
/*
 * Apply a staff change to report `id` of org `org_id`, with a history note, audited as
 * "report.update" (field names only). Status moves forward along nuova → presa_in_carico →
 * in_lavorazione → risolta (steps may be skipped), or to chiusa from any open status;
 * risolta may go back to in_lavorazione. -ENOENT (unknown report or merge target of another
 * org), -EPERM (a transition not allowed, or a closed report), -EINVAL (bad values).
 */
MUST_CHECK int store_report_update(struct store *st, int64_t actor_id, int64_t org_id, int64_t id,
                                   const struct store_report_change *c, store_done_fn *done,
                                   void *ctx);
/*
 * The reporter (by follow token `hash`) says "Non è risolto": a report marked risolta within
 * the last 14 days goes back to nuova with public note `note`. -ENOENT (unknown token),
 * -EPERM (not risolta, or later than 14 days). The id is the report's.
 */
MUST_CHECK int store_report_reopen(struct store *st, const uint8_t hash[SECRET_HASH_LEN],
                                   const char *note, store_done_fn *done, void *ctx);
/* Follower `hash` follows report `id` too ("Anche io"). -ENOENT for an unknown follower/report. */
MUST_CHECK int store_report_follow(struct store *st, const uint8_t hash[SECRET_HASH_LEN],
                                   int64_t id, store_done_fn *done, void *ctx);
/* An audit entry for an export by `actor_id` ("report.export", detail JSON without data). */
MUST_CHECK int store_report_export_audit(struct store *st, int64_t actor_id, int64_t org_id,
                                         const char *detail_json, store_done_fn *done, void *ctx);
/*
 * Retention: erase the contact data of reports closed longer ago than their org's
 * retention_days at `now_ms` (at most `limit`); `*erased` gets how many. Blocking (jobs).
 */
MUST_CHECK int store_reports_erase_personal(struct store *st, int64_t now_ms, unsigned limit,
                                            int64_t *erased);

struct store_report_note {
    int64_t id;
    int64_t user_id;          /* 0: the system or the reporter */
    const char *author_email; /* staff's e-mail, "" otherwise: staff answers only */
    bool public;
    const char *status; /* the status it set, or NULL */
    const char *text;
    int64_t created_ms;
};
typedef void store_report_note_fn(void *ctx, const struct store_report_note *n);
/* The history of report `id`, oldest first; only public notes when `public_only`. */
MUST_CHECK int store_report_notes(struct store_reader *r, int64_t id, bool public_only,
                                  store_report_note_fn *each, void *ctx);

/* ---- forwarding to another body (report_forwards.c; migration 016) ---- */

#define STORE_FWD_NAME_MAX  200
#define STORE_FWD_URL_MAX   2048
#define STORE_FWD_KEY_MAX   500
#define STORE_FWD_EMAIL_MAX 254
#define STORE_FWD_MAX       50 /* targets per org */

struct store_forward_target {
    int64_t id;
    const char *name;
    const char *kind;     /* "open311" (NULL on add means it) or "email" (migration 017) */
    const char *endpoint; /* open311: the body's GeoReport v2 base URL (https); email: NULL */
    const char *email;    /* email: the body's address (mail_address_valid); open311: NULL */
    const char *jurisdiction_id;      /* NULL when that body needs none */
    const char *api_key;              /* NULL when none; never shown to anyone */
    const char *service_map_json;     /* {"our code": "their code", ...} */
    const char *default_service_code; /* their code for a service not in the map, or NULL */
    int64_t created_ms;
};
typedef void store_forward_target_fn(void *ctx, const struct store_forward_target *t);
/* Org `org_id`'s targets by name (with their api_key: the API must not show it). */
MUST_CHECK int store_forward_targets_list(struct store_reader *r, int64_t org_id,
                                          store_forward_target_fn *each, void *ctx);
/* Target `id` of org `org_id` through `each`; -ENOENT if none. */
MUST_CHECK int store_forward_target_get(struct store_reader *r, int64_t org_id, int64_t id,
                                        store_forward_target_fn *each, void *ctx);
/*
 * Add a target (audited as "forward_target.create", without its key). -EINVAL (before
 * queuing) for a value past its limit, -EEXIST for a name the org already uses, -EDQUOT past
 * STORE_FWD_MAX. The id is the target's.
 */
MUST_CHECK int store_forward_target_add(struct store *st, int64_t actor_id, int64_t org_id,
                                        const struct store_forward_target *t, store_done_fn *done,
                                        void *ctx, int64_t *id_out);
/* The fields store_forward_target_update() changes; a set field whose value is NULL is cleared. */
enum {
    STORE_FWD_F_NAME = 1 << 0,
    STORE_FWD_F_ENDPOINT = 1 << 1,
    STORE_FWD_F_JURIS = 1 << 2,
    STORE_FWD_F_KEY = 1 << 3,
    STORE_FWD_F_MAP = 1 << 4,
    STORE_FWD_F_DEFAULT = 1 << 5,
    STORE_FWD_F_EMAIL = 1 << 6, /* e-mail targets only */
};
/*
 * Change the fields of target `id` named in `set` (STORE_FWD_F_*) to those of `t` (audited as
 * "forward_target.update" with the fields' names, never a value). -EINVAL as for add (name,
 * endpoint and email cannot be cleared), -EPROTOTYPE for a field of the other kind (an e-mail
 * target has only a name and an address), -EEXIST for a name the org already uses, -ENOENT if
 * none.
 */
MUST_CHECK int store_forward_target_update(struct store *st, int64_t actor_id, int64_t org_id,
                                           int64_t id, const struct store_forward_target *t,
                                           unsigned set, store_done_fn *done, void *ctx);
/* Delete target `id` (audited). Past forwards keep its name. -ENOENT if none. */
MUST_CHECK int store_forward_target_delete(struct store *st, int64_t actor_id, int64_t org_id,
                                           int64_t id, store_done_fn *done, void *ctx);

struct store_report_forward {
    const char *target_name;
    const char *remote_id, *remote_token; /* NULL when that body gave none */
    int64_t created_ms;
};
typedef void store_report_forward_fn(void *ctx, const struct store_report_forward *f);
/* The forwards of report `id` that another body accepted, oldest first (staff only). */
MUST_CHECK int store_report_forwards(struct store_reader *r, int64_t id,
                                     store_report_forward_fn *each, void *ctx);

/* ---- statistics ---- */

struct store_report_stat {
    const char *service_code, *service_name;
    int64_t received, answered, resolved;
    int64_t median_first_answer_s; /* -1: none answered yet */
    int64_t median_resolution_s;   /* -1: none resolved yet */
};
typedef void store_report_stat_fn(void *ctx, const struct store_report_stat *s);
/* Per active service of org `org_id`, reports created since `since_ms`. */
MUST_CHECK int store_report_stats(struct store_reader *r, int64_t org_id, int64_t since_ms,
                                  store_report_stat_fn *each, void *ctx);

#endif
