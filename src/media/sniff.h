/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What an upload really is, from its first bytes: the declared Content-Type and the file name
 * come from the client and are never trusted. Pure functions, any thread.
 */
#ifndef MEDIA_SNIFF_H
#define MEDIA_SNIFF_H

#include <stddef.h>

enum media_type {
    MEDIA_UNKNOWN = 0,
    MEDIA_JPEG,
    MEDIA_PNG,
    MEDIA_WEBP,
    MEDIA_HEIC,
    MEDIA_OGG_OPUS,
    MEDIA_M4A,
    MEDIA_PDF,
};

enum media_kind {
    MEDIA_KIND_NONE = 0,
    MEDIA_KIND_IMAGE,
    MEDIA_KIND_VOICE,
    MEDIA_KIND_DOCUMENT,
};

/* The type of the `len` bytes at `data` by their magic numbers; MEDIA_UNKNOWN for anything else. */
enum media_type media_sniff(const void *data, size_t len);
/* "image/jpeg", ... ("application/octet-stream" for MEDIA_UNKNOWN). */
const char *media_type_mime(enum media_type t);
/* A file name extension without the dot: "jpg", "ogg", "pdf"; "bin" for MEDIA_UNKNOWN. */
const char *media_type_ext(enum media_type t);
enum media_kind media_type_kind(enum media_type t);
/* "image", "voice", "document" ("" for none). */
const char *media_kind_name(enum media_kind k);

#endif
