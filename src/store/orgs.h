/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Organizations (a Comune), their staff accounts, staff sessions and the per-org audit log.
 * Same conventions as store/store.h: 0 or a negative errno; writes are queued to the writer
 * thread and report through `done` (or block when `done` is NULL: CLI and tests only); reads run
 * on the reader's own thread. Every org change and staff change writes an audit entry in the
 * same transaction; passwords and tokens never reach the audit log.
 */
#ifndef STORE_ORGS_H
#define STORE_ORGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/store.h"

/* Limits, in characters (bytes for ASCII-only fields); the schema's CHECKs mirror them. */
#define STORE_ORG_SLUG_MIN    2 /* [a-z0-9-] */
#define STORE_ORG_SLUG_MAX    64
#define STORE_ORG_NAME_MAX    200
#define STORE_ORG_ISTAT_LEN   6   /* ISTAT municipality code: six digits */
#define STORE_ORG_JURIS_MAX   200 /* Open311 jurisdiction_id */
#define STORE_ORG_TZ_MAX      64  /* IANA name, e.g. Europe/Rome */
#define STORE_ORG_LOGO_MAX    128 /* a media id */
#define STORE_ORG_TZ_DEFAULT  "Europe/Rome"
#define STORE_ORG_PRIVACY_MAX 500 /* data controller, DPO: name, address, contact */
#define STORE_ORG_URL_MAX     500 /* bytes: accessibility statement URL */
#define STORE_ORG_EMAIL_MAX   254 /* bytes: accessibility feedback address */

struct store_org {
    int64_t id;
    char slug[STORE_ORG_SLUG_MAX + 1];
    char name[STORE_ORG_NAME_MAX * 4 + 1];
    char istat_code[STORE_ORG_ISTAT_LEN + 1];          /* "" when unset */
    char jurisdiction_id[STORE_ORG_JURIS_MAX * 4 + 1]; /* "" when unset */
    char timezone[STORE_ORG_TZ_MAX + 1];
    char logo[STORE_ORG_LOGO_MAX + 1]; /* "" when unset */
    /* the public pages' footer and privacy notice; "" when unset */
    char privacy_controller[STORE_ORG_PRIVACY_MAX * 4 + 1];
    char privacy_dpo[STORE_ORG_PRIVACY_MAX * 4 + 1];
    char accessibility_url[STORE_ORG_URL_MAX + 1];
    char accessibility_email[STORE_ORG_EMAIL_MAX + 1];
    int64_t created_ms;
};

/* Which members of struct store_org_fields a write sets (add: all given ones; update: patch). */
enum store_org_field {
    STORE_ORG_F_NAME = 1 << 0,
    STORE_ORG_F_ISTAT = 1 << 1,
    STORE_ORG_F_JURIS = 1 << 2,
    STORE_ORG_F_TZ = 1 << 3,
    STORE_ORG_F_LOGO = 1 << 4,
    STORE_ORG_F_CONTROLLER = 1 << 5,
    STORE_ORG_F_DPO = 1 << 6,
    STORE_ORG_F_A11Y_URL = 1 << 7,
    STORE_ORG_F_A11Y_EMAIL = 1 << 8,
};

/*
 * Field values for store_org_add/update, borrowed for the call (copied before it returns).
 * A bit set in `set` with a NULL value clears an optional field (every one but name and
 * timezone, which cannot be cleared: -EINVAL).
 */
struct store_org_fields {
    unsigned set; /* enum store_org_field bits */
    const char *name;
    const char *istat_code;
    const char *jurisdiction_id;
    const char *timezone; /* add: NULL or unset means STORE_ORG_TZ_DEFAULT */
    const char *logo;
    const char *privacy_controller;
    const char *privacy_dpo;
    const char *accessibility_url; /* http(s) URL; the API checks the form */
    const char *accessibility_email;
};

/* True for a valid slug: 2-64 of [a-z0-9-]. Any thread. */
bool store_org_slug_valid(const char *slug);
/* True for a plausible IANA zone name: 1-64 of [A-Za-z0-9_+-/], no "..", no leading '/'. */
bool store_org_tz_valid(const char *tz);

/*
 * Create org `slug` on behalf of `actor_id` (the operator; audited as "org.create"). Returns
 * -EINVAL for an invalid value (name required), -EEXIST if the slug is taken. The id is the
 * org's id.
 */
MUST_CHECK int store_org_add(struct store *s, int64_t actor_id, const char *slug,
                             const struct store_org_fields *f, store_done_fn *done, void *ctx,
                             int64_t *id_out);
/*
 * Change the fields in `f->set` of org `org_id` (audited as "org.update" with the names of the
 * changed fields, not their values). -ENOENT if there is no such org. The id is the org's id.
 */
MUST_CHECK int store_org_update(struct store *s, int64_t actor_id, int64_t org_id,
                                const struct store_org_fields *f, store_done_fn *done, void *ctx);

/* The org with this slug into `out`; -ENOENT if none. */
MUST_CHECK int store_org_get(struct store_reader *r, const char *slug, struct store_org *out);
/* The org with this id into `out`; -ENOENT if none. */
MUST_CHECK int store_org_get_id(struct store_reader *r, int64_t id, struct store_org *out);
/*
 * Every org ordered by slug (only_id == 0), or just org `only_id`, calling `each(ctx, org)`.
 * `org` is valid during the call only.
 */
typedef void store_org_fn(void *ctx, const struct store_org *org);
MUST_CHECK int store_org_list(struct store_reader *r, int64_t only_id, store_org_fn *each,
                              void *ctx);

/* ---- staff accounts ---- */

/*
 * Add an org_admin or staff account (`role`; -EINVAL for operator) to org `org_id`, with an
 * argon2id `password_hash` (a one-time password when `must_change`). Audited as "staff.add"
 * with the e-mail and role. -ENOENT if the org does not exist, -EEXIST if the e-mail is taken.
 */
MUST_CHECK int store_staff_add(struct store *s, int64_t actor_id, int64_t org_id, const char *email,
                               enum store_role role, const char *password_hash, bool must_change,
                               store_done_fn *done, void *ctx, int64_t *id_out);
/*
 * Disable account `user_id` of org `org_id`: it can no longer sign in, its sessions end and its
 * API tokens are revoked, in one transaction. Audited as "staff.disable". -ENOENT if there is
 * no such live account in that org.
 */
MUST_CHECK int store_user_disable(struct store *s, int64_t actor_id, int64_t org_id,
                                  int64_t user_id, store_done_fn *done, void *ctx);
/*
 * Replace the password of `user_id` with `password_hash`, clear must_change_password and end
 * every session of the user except `keep_session_id` (0: end them all). -ENOENT if the account
 * does not exist or is disabled. Not audited (nothing about passwords is).
 */
MUST_CHECK int store_user_set_password(struct store *s, int64_t user_id, const char *password_hash,
                                       int64_t keep_session_id, store_done_fn *done, void *ctx);

/*
 * The account with this id (disabled ones too: `*disabled_ms` is then non-zero; may be NULL).
 * -ENOENT if none.
 */
MUST_CHECK int store_user_get(struct store_reader *r, int64_t id, struct store_user *out,
                              int64_t *disabled_ms);
/* The accounts of org `org_id` by id, calling `each(ctx, user, disabled_ms)` (0: active). */
typedef void store_staff_fn(void *ctx, const struct store_user *u, int64_t disabled_ms);
MUST_CHECK int store_staff_list(struct store_reader *r, int64_t org_id, store_staff_fn *each,
                                void *ctx);

/* ---- sessions ---- */

/*
 * Start a session for `user_id` whose token's SHA-256 is `hash`, ending at `expires_ms` at the
 * latest. The id is the session's id. -ENOENT if the user does not exist.
 */
MUST_CHECK int store_session_add(struct store *s, int64_t user_id,
                                 const uint8_t hash[SECRET_HASH_LEN], int64_t expires_ms,
                                 store_done_fn *done, void *ctx, int64_t *id_out);
/* Record use of session `id` now (for the idle limit). */
MUST_CHECK int store_session_touch(struct store *s, int64_t id, store_done_fn *done, void *ctx);
/* End session `id` (sign-out). -ENOENT if it is not live. */
MUST_CHECK int store_session_end(struct store *s, int64_t id, store_done_fn *done, void *ctx);
/*
 * The live session whose token's SHA-256 is `hash` at `now_ms`: not ended, not past its
 * expiry, used within `idle_ms`, its user not disabled. Fills the user, the session id and
 * when it was last used (`last_seen_ms` may be NULL). -ENOENT if none.
 */
MUST_CHECK int store_session_find(struct store_reader *r, const uint8_t hash[SECRET_HASH_LEN],
                                  int64_t now_ms, int64_t idle_ms, struct store_user *out,
                                  int64_t *session_id, int64_t *last_seen_ms);

/* ---- audit log ---- */

struct store_audit_entry {
    int64_t id;
    int64_t created_ms;
    int64_t user_id;         /* 0: the system */
    const char *actor_email; /* "" for the system */
    const char *action;
    const char *target;
    const char *detail_json; /* NULL when there is none */
};
/*
 * Up to `limit` entries of org `org_id`'s log with id < `before_id` (0: from the newest), newest
 * first, calling `each(ctx, entry)`; the entry's strings are valid during the call only.
 */
typedef void store_audit_fn(void *ctx, const struct store_audit_entry *e);
MUST_CHECK int store_audit_list(struct store_reader *r, int64_t org_id, int64_t before_id,
                                unsigned limit, store_audit_fn *each, void *ctx);
/*
 * The same, keeping only the entries that match every filter set: `action` (exact), `user_id`
 * (the actor; 0: anyone), `from_ms` <= created < `to_ms` (0: unbounded).
 */
struct store_audit_filter {
    const char *action; /* NULL: any */
    int64_t user_id;
    int64_t from_ms, to_ms;
};
MUST_CHECK int store_audit_find(struct store_reader *r, int64_t org_id, int64_t before_id,
                                unsigned limit, const struct store_audit_filter *f,
                                store_audit_fn *each, void *ctx);

#endif
