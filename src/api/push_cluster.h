/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Web Push on several nodes sharing one database (docs/PUSH.md "Several nodes"): the VAPID key
 * every node signs with. Used by the push queue thread at start and by `araldo vapid-keys`.
 */
#ifndef API_PUSH_CLUSTER_H
#define API_PUSH_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "push/vapid.h"
#include "store/store.h"

enum api_vapid_how {
    API_VAPID_SHARED,   /* the database had it */
    API_VAPID_IMPORTED, /* DATA_DIR/vapid.pem, imported now (first start after the upgrade) */
    API_VAPID_MADE,     /* none anywhere: made now */
};

/*
 * The cluster's VAPID key, from the database. When the database has none yet, this node offers
 * its old key file DATA_DIR/vapid.pem (so browsers subscribed with it stay reachable), else a
 * new key; the first node to offer wins and every node reads the winner back. `*how` says
 * which; `*file_differs` (a key file is there but the database holds another: the file is
 * ignored) is worth a warning. NULL with one line in `err` (never the key). Blocking.
 */
struct vapid *api_push_vapid_load(struct store *s, const char *data_dir, enum api_vapid_how *how,
                                  bool *file_differs, char *err, size_t errlen);

#endif
