/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* What store/alerts.c (writes) takes from store/alerts_read.c (reads). store/ only. */
#ifndef STORE_ALERTS_INT_H
#define STORE_ALERTS_INT_H

#include <stdint.h>

#include "core/compiler.h"
#include "store/store_int.h"

/*
 * The "alert" event's payload for alert `id` (store_alert_json, compact), read through `db`
 * and `stmts` (the writer's, inside its transaction). Caller frees `*out`.
 */
MUST_CHECK int store__alert_payload(struct db *db, int64_t id, char **out);

#endif
