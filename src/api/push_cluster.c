/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the nodes of one araldo share for Web Push: the VAPID key, in the database.
 * api/push_cluster.h.
 */
#include "api/push_cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "store/push.h"

static void pem_free(char *pem)
{
    if (!pem)
        return;
    explicit_bzero(pem, strlen(pem));
    free(pem);
}

struct vapid *api_push_vapid_load(struct store *s, const char *data_dir, enum api_vapid_how *how,
                                  bool *file_differs, char *err, size_t errlen)
{
    char path[4096];
    char *file_pem = NULL;
    char *made = NULL;
    char *pem = NULL;
    bool stored = false;
    struct vapid *v = NULL;
    int rc;

    *how = API_VAPID_SHARED;
    *file_differs = false;
    if ((size_t)snprintf(path, sizeof(path), "%s/vapid.pem", data_dir) >= sizeof(path)) {
        snprintf(err, errlen, "vapid: data directory path too long");
        return NULL;
    }
    rc = vapid_read_pem(path, &file_pem, err, errlen);
    if (rc && rc != -ENOENT)
        return NULL;
    if (!file_pem) {
        made = vapid_new_pem(err, errlen);
        if (!made)
            return NULL;
    }
    rc = store_push_vapid(s, file_pem ? file_pem : made, &pem, &stored);
    if (rc) {
        snprintf(err, errlen, "vapid: cannot read or store the key in the database: %s",
                 strerror(-rc));
        goto out;
    }
    if (stored)
        *how = file_pem ? API_VAPID_IMPORTED : API_VAPID_MADE;
    *file_differs = file_pem && !stored && strcmp(file_pem, pem) != 0;
    v = vapid_from_pem(pem, err, errlen);
out:
    pem_free(file_pem);
    pem_free(made);
    pem_free(pem);
    return v;
}
