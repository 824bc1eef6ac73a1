/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Alert sources inside api/: shared by api/alert_sources.c (configuration, health),
 * api/alert_templates.c (norme di comportamento) and the pollers.
 */
#ifndef API_SOURCES_INT_H
#define API_SOURCES_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_int.h"
#include "core/buf.h"
#include "store/orgs.h"
#include "store/sources.h"

/*
 * Who may see and change an org's sources and templates: its org admins and the staff granted
 * civil_protection (and operators). Answers 401 without staff credentials, 404 to staff of
 * other orgs (these are not theirs to know of), 403 to the org's other staff; returns false.
 */
bool api__source_gate(struct http_req *r, struct store_user *me, struct store_org *o);

/* The credit a kind's data requires (CC-BY): "Fonte: Dipartimento della Protezione Civile"
 * for dpc-bulletin; NULL for cap-feed (the CAP sender is credited). */
extern const char api__dpc_credit[];
extern const char api__lamma_credit[];
const char *api__source_credit(const char *kind);

/* The org's Comune: `org_name` without a leading "Comune di " (any case). */
void api__source_default_comune(const char *org_name, char *out, size_t outlen);
/* A Comune's name as LaMMA names its file: folded (dpc_name_fold), spaces as '_'. */
void api__source_file_name(const char *comune, char *out, size_t outlen);

/* Whether source `s` has had no successful fetch for `stale_hours` (since creation if never). */
bool api__source_stale(const struct store_source *s, int64_t now_ms, long stale_hours);
/* Whether source `s`'s last poll failed (an error at or after its last success). */
bool api__source_failing(const struct store_source *s);
/* The source as the API shows it (configuration, credit, health). */
json_t *api__source_json(const struct store_source *s, int64_t now_ms, long stale_hours);

/*
 * The instruction for `risk` at `level` in `language` ("it", "en"): the org's own text, else
 * the built-in default (Italian and English; other languages fall back to Italian). Owned
 * (caller frees). Reads on the calling thread's reader.
 */
char *api__template_text(struct store_reader *rd, int64_t org_id, const char *risk,
                         const char *level, const char *language);

/* The sources' health in Prometheus text (every org's; /metrics is for operators). */
MUST_CHECK int api__sources_metrics(struct api_app *app, struct store_reader *rd, struct buf *out);

/*
 * E-mail the org's staff about each source that became stale or failing, or recovered, once
 * per episode (api/sources_warn.c). Nothing without a mail relay. The poller's thread: blocks
 * on store writes.
 */
void api__sources_warn(struct api_app *app, struct store_reader *rd);

/* Ask the poller to poll source `id` now; false when it is not running or its queue is full. */
bool api__sources_poll_now(struct api_app *app, int64_t id);

void api__templates_list(struct http_req *r);
void api__template_put(struct http_req *r);

#endif
