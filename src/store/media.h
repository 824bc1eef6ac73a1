/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Uploaded media over the store (store.h explains the threading): a media row per upload,
 * named by an opaque public id, and the content-addressed files behind it (media/cas.h keeps
 * the bytes; the store only lists their hashes).
 */
#ifndef STORE_MEDIA_H
#define STORE_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h"
#include "store/store.h"

#define STORE_MEDIA_FILES_MAX 6
#define STORE_MEDIA_ID_MAX    64
/* Unattached media older than this are orphans: the retention sweeper deletes them. */
#define STORE_MEDIA_ORPHAN_MS (24LL * 3600 * 1000)

struct store_media_file {
    char variant[16]; /* "small.webp", "large.jpeg", "file", "original" */
    char sha256[65];  /* lower-case hex */
    char mime[64];
    int64_t bytes;
};

struct store_media {
    int64_t id;
    char public_id[STORE_MEDIA_ID_MAX + 1];
    int64_t org_id; /* 0: uploaded by an operator */
    int64_t user_id;
    char kind[12]; /* "image", "voice", "document" */
    char mime[64]; /* the sniffed type of the upload */
    int width, height;
    int64_t bytes; /* of the upload */
    int64_t created_ms;
    unsigned nfiles;
    struct store_media_file files[STORE_MEDIA_FILES_MAX];
};

/*
 * Record media `m` (created_ms and id are set by the store) with its files. -EEXIST if the
 * public id is taken, -EINVAL (before queuing) for an empty public id, an unknown kind or more
 * than STORE_MEDIA_FILES_MAX files. The id is the row's.
 */
MUST_CHECK int store_media_add(struct store *s, const struct store_media *m, store_done_fn *done,
                               void *ctx, int64_t *id_out);

/* The media with this public id, with its files. -ENOENT if none. */
MUST_CHECK int store_media_get(struct store_reader *r, const char *public_id,
                               struct store_media *out);
/* Whether any media row lists a file with this hash. */
MUST_CHECK int store_media_file_used(struct store_reader *r, const char *sha256, bool *used);

#endif
