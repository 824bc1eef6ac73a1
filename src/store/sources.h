/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Official alert sources an org follows (DPC bulletin, LaMMA per-Comune file, CAP feed), their
 * health, and the org's own norme di comportamento per risk and level. Same conventions as
 * store/store.h; configuration writes are audited, health writes (the poller's) are not.
 * docs/ALERTS.md, "Official sources".
 */
#ifndef STORE_SOURCES_H
#define STORE_SOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h"
#include "store/store.h"

#define STORE_SOURCES_MAX       16   /* sources per org */
#define STORE_SOURCE_URL_MAX    2048 /* bytes */
#define STORE_SOURCE_NAME_MAX   200  /* characters of comune and zone */
#define STORE_SOURCE_ERROR_MAX  300  /* bytes of last_error kept */
#define STORE_TEMPLATE_MAX      4000 /* characters of one instruction */
#define STORE_TEMPLATE_LANG_MAX 35

/* What a source is set up to do; strings borrowed (copied before a call returns). */
struct store_source_conf {
    const char *kind; /* "dpc-bulletin", "lamma-comune", "cap-feed" */
    const char *url;
    const char *data_url;  /* NULL: none */
    int64_t interval_s;    /* 60 … 86400 */
    const char *on_change; /* "draft", "publish", "publish-up-to" */
    const char *up_to;     /* a level with publish-up-to, else NULL */
    const char *comune;
    const char *zone; /* NULL: found from comune */
    bool official;
};

/* A stored source: its configuration and health. Strings valid during the callback only. */
struct store_source {
    int64_t id, org_id;
    struct store_source_conf conf;
    const char *etag, *last_modified, *last_bulletin, *last_error; /* NULL when none */
    int64_t last_ok_ms, last_change_ms, last_error_ms;             /* 0 when never */
    int64_t created_ms, updated_ms;
    int64_t warned_ms; /* when staff were e-mailed about this episode; 0: not (migration 017) */
};

/*
 * Create (`id` 0; the new id is the done callback's) or replace the configuration of source `id`
 * of org `org_id` on behalf of `actor_id` (audited "alert_source.create"/".update"). Health is
 * kept on replace. -ENOENT: no such source in the org; -EMLINK: the org has STORE_SOURCES_MAX;
 * -EINVAL: a field out of the schema's range.
 */
MUST_CHECK int store_source_put(struct store *s, int64_t actor_id, int64_t org_id, int64_t id,
                                const struct store_source_conf *c, store_done_fn *done, void *ctx);
/* Delete source `id` of org `org_id` (audited). -ENOENT if none. Alerts it made stay. */
MUST_CHECK int store_source_delete(struct store *s, int64_t actor_id, int64_t org_id, int64_t id,
                                   store_done_fn *done, void *ctx);

typedef void store_source_fn(void *ctx, const struct store_source *src);
/*
 * The sources of org `org_id` by id (`org_id` 0: of every org, for the poller and /metrics), or
 * only source `id` when not 0 (-ENOENT if the org has none such).
 */
MUST_CHECK int store_source_list(struct store_reader *r, int64_t org_id, int64_t id,
                                 store_source_fn *each, void *ctx);

/* One poll's outcome (the poller's write): strings borrowed. */
struct store_source_poll {
    bool ok;           /* fetched and read (or 304) */
    bool changed;      /* a level changed: last_change_ms = now */
    const char *error; /* !ok: one sentence for staff (cut to STORE_SOURCE_ERROR_MAX) */
    const char *etag;  /* ok: the validators to send next time (NULL keeps none) */
    const char *last_modified;
    const char *bulletin; /* ok: the bulletin applied (e.g. "20261204_1430"), NULL keeps it */
};
/* Record a poll of source `id`: ok sets last_ok_ms, an error sets last_error(_ms). */
MUST_CHECK int store_source_polled(struct store *s, int64_t id, const struct store_source_poll *p,
                                   store_done_fn *done, void *ctx);

/*
 * Record that the org's staff were warned by e-mail that source `id` is stale or failing, at
 * `warned_ms` (0: the source recovered, the next episode warns again). Not audited (the
 * poller's write). -ENOENT if there is no such source.
 */
MUST_CHECK int store_source_warned(struct store *s, int64_t id, int64_t warned_ms,
                                   store_done_fn *done, void *ctx);

/*
 * Set (instruction not NULL) or drop (NULL: back to the default) the org's norme di
 * comportamento for `risk`, `level`, `language` (audited "alert_template.put"/".delete").
 */
MUST_CHECK int store_template_put(struct store *s, int64_t actor_id, int64_t org_id,
                                  const char *risk, const char *level, const char *language,
                                  const char *instruction, store_done_fn *done, void *ctx);
typedef void store_template_fn(void *ctx, const char *risk, const char *level, const char *language,
                               const char *instruction);
/* The org's own templates, by risk, level and language. */
MUST_CHECK int store_template_list(struct store_reader *r, int64_t org_id, store_template_fn *each,
                                   void *ctx);

#endif
