/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Reads for the staff console: every channel of an org with the caller's role on each, and a
 * channel's daily follower counts (the channel_daily table, kept by a trigger: see migration
 * 007). Aggregates only.
 */
#include "store/channels.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/shared_int.h"
#include "store/store_int.h"

int store_channel_list_org(struct store_reader *r, int64_t org_id, int64_t user_id, unsigned max,
                           store_org_channel_fn *each, void *ctx)
{
    static const char sql[] =
        "SELECT c.id, coalesce(a.role, 0) FROM channels c"
        " LEFT JOIN channel_admins a ON a.channel_id = c.id AND a.user_id = ?2"
        " WHERE c.org_id = ?1 ORDER BY lower(c.name), c.id LIMIT ?3";
    struct db_stmt *st = db_stmt(r->db, sql);
    struct store_channel *ch = NULL;
    int64_t *ids = NULL;
    int *roles = NULL;
    unsigned n = 0;
    int rc, err = -EIO;

    if (!st)
        goto out;
    ids = xcalloc(max ? max : 1, sizeof(*ids));
    roles = xcalloc(max ? max : 1, sizeof(*roles));
    db_bind_i64(st, 1, org_id);
    db_bind_i64(st, 2, user_id);
    db_bind_i64(st, 3, max);
    /* Ids first, then each channel: a statement is never left open while another runs. */
    while ((rc = db_step(st)) == DB_ROW && n < max) {
        ids[n] = db_col_i64(st, 0);
        roles[n++] = db_col_int(st, 1);
    }
    if (rc != DB_ROW && rc != DB_DONE) {
        err = store__errno(r->db, rc, "channel_list_org");
        goto out;
    }
    db_reset(st);
    st = NULL;
    ch = xmalloc(sizeof(*ch));
    err = 0;
    for (unsigned i = 0; i < n && !err; i++) {
        err = store_channel_get_id(r, ids[i], ch);
        if (err == -ENOENT) { /* deleted in between */
            err = 0;
            continue;
        }
        if (!err)
            each(ctx, ch, roles[i]);
    }
out:
    db_reset(st);
    free(ch);
    free(ids);
    free(roles);
    return err;
}

int store_channel_daily(struct store_reader *r, int64_t channel_id, const char *from_day,
                        store_day_fn *each, void *ctx)
{
    static const char sql[] =
        "SELECT day, followers FROM channel_daily WHERE channel_id = ?1 AND day >= coalesce("
        "(SELECT max(day) FROM channel_daily WHERE channel_id = ?1 AND day < ?2), ?2)"
        " ORDER BY day";
    struct db_stmt *st = db_stmt(r->db, sql);
    int rc;

    if (!st)
        return -EIO;
    if (!from_day || strlen(from_day) != 10) {
        db_reset(st);
        return -EINVAL;
    }
    db_bind_i64(st, 1, channel_id);
    db_bind_text(st, 2, from_day);
    while ((rc = db_step(st)) == DB_ROW)
        each(ctx, db_col_text(st, 0), db_col_i64(st, 1));
    rc = rc == DB_DONE ? 0 : store__errno(r->db, rc, "channel_daily");
    db_reset(st);
    return rc;
}
