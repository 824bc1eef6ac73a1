/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What the nodes of one araldo share for Web Push (the VAPID key, in the database) and what
 * tells them apart (each node's name, in its own data directory). api/push_cluster.h.
 */
#include "api/push_cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static bool hex_name(const char *s)
{
    if (strlen(s) != API_PUSH_NODE_LEN)
        return false;
    for (; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    }
    return true;
}

/* Make DATA_DIR/node-id (written under a temporary name and linked: two starts never mix). */
static int node_id_make(const char *path, char out[API_PUSH_NODE_LEN + 1], char *err, size_t errlen)
{
    uint8_t raw[API_PUSH_NODE_LEN / 2];
    char tmp[4200];
    int fd;
    bool ok;

    secret_random(raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "push: cannot create '%s': %s", tmp, strerror(errno));
        return -1;
    }
    ok = write(fd, out, API_PUSH_NODE_LEN) == API_PUSH_NODE_LEN && write(fd, "\n", 1) == 1 &&
         fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    /* link() fails if another process made it first: then that one is the name. */
    if (ok && link(tmp, path) != 0 && errno != EEXIST)
        ok = false;
    (void)unlink(tmp);
    if (!ok)
        snprintf(err, errlen, "push: cannot write '%s': %s", path, strerror(errno));
    return ok ? 0 : -1;
}

int api_push_node_id(const char *data_dir, char out[API_PUSH_NODE_LEN + 1], char *err,
                     size_t errlen)
{
    char path[4096];
    char buf[API_PUSH_NODE_LEN + 2] = "";
    FILE *f;

    if ((size_t)snprintf(path, sizeof(path), "%s/node-id", data_dir) >= sizeof(path)) {
        snprintf(err, errlen, "push: data directory path too long");
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        f = fopen(path, "re");
        if (f) {
            if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
            fclose(f);
            buf[strcspn(buf, "\n")] = '\0';
            if (!hex_name(buf)) {
                snprintf(err, errlen, "push: '%s' does not hold a node name: remove it", path);
                return -1;
            }
            memcpy(out, buf, API_PUSH_NODE_LEN + 1);
            return 0;
        }
        if (errno != ENOENT) {
            snprintf(err, errlen, "push: cannot read '%s': %s", path, strerror(errno));
            return -1;
        }
        if (node_id_make(path, out, err, errlen))
            return -1;
    }
    snprintf(err, errlen, "push: cannot read '%s'", path);
    return -1;
}
