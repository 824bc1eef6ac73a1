/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the channel files of store/ share (channels.c, channels_directory.c, channels_admins.c,
 * channels_invites.c): reading a channel row, the read and write step helpers, and the audit
 * entry of a channel change. Implemented in store/channels.c. store/ only.
 */
#ifndef STORE_CHANNELS_INT_H
#define STORE_CHANNELS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "store/channels.h"
#include "store/store_int.h"

/* The columns store__channel_from_row() reads, and the FROM clause they need. */
#define CHANNEL_COLS                                                                   \
    "c.id, c.org_id, c.handle, c.name, c.description, c.icon, c.category, c.language," \
    " c.visibility, c.verified, c.reaction_policy, c.reactions, c.retention_days,"     \
    " c.pinned_post_id, c.followers_count, c.posts_count, c.last_post_ms, c.last_seq," \
    " c.created_ms, c.updated_ms, o.slug, o.name"
#define CHANNEL_FROM  " FROM channels c JOIN orgs o ON o.id = c.org_id"
#define CHANNEL_NCOLS 22

/* Whether `c` may be in a handle (or an invite code), at its start when `first`. */
bool store__channel_handle_char(char c, bool first);

/* Step a reader's statement: 1 for a row, 0 when done, or -errno. */
int store__channel_step_row(struct store_reader *r, struct db_stmt *st, const char *what);
/* Column `col` of the current row as text into `dst` ("" for NULL), truncated to fit. */
void store__channel_copy_text(char *dst, size_t dstlen, struct db_stmt *st, int col);
/* The CHANNEL_COLS of the current row, starting at column `base`, into `out`. */
void store__channel_from_row(struct db_stmt *st, int base, struct store_channel *out);

/* A row-returning step inside a write: 1 row, 0 none, or -errno (-EIO for a NULL `st`). */
int store__channel_tx_row(struct store_tx *tx, struct db_stmt *st, const char *what);
/*
 * Append `action` on "channel:<handle>" by `user_id` to the audit log of the channel's org, in
 * the caller's transaction (store__audit). -ENOENT when the channel is gone.
 */
MUST_CHECK int store__channel_audit(struct store_tx *tx, int64_t channel_id, int64_t user_id,
                                    const char *action, const char *detail_json);

#endif
