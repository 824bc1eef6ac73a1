/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The one multipart/form-data part an upload carries (RFC 7578), found in a body already held
 * in memory. Zero-copy: the part points into the body. Pure functions, any thread.
 */
#ifndef MEDIA_MULTIPART_H
#define MEDIA_MULTIPART_H

#include <stddef.h>

#include "core/compiler.h"

#define MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 §5.1.1 */
#define MULTIPART_HEADERS_MAX  4096 /* bytes of one part's header block */
#define MULTIPART_PARTS_MAX    16   /* parts looked at before giving up */

/*
 * The boundary parameter of a "multipart/form-data; boundary=..." Content-Type (quoted or not)
 * into `out` (≥ MULTIPART_BOUNDARY_MAX + 1 bytes). Returns 0, -EINVAL when the type is not
 * multipart/form-data or the boundary is missing, empty, too long or has forbidden characters.
 */
MUST_CHECK int media_multipart_boundary(const char *content_type, char *out, size_t outlen);

/*
 * Find the part named `field` (Content-Disposition: form-data; name="field") in `body`.
 * Returns 0 with *data and *len pointing into `body`, -ENOENT when the body is well formed but has
 * no such part, or -EINVAL when it is malformed (no opening delimiter, unterminated part, a
 * header block over MULTIPART_HEADERS_MAX, more than MULTIPART_PARTS_MAX parts, no closing
 * delimiter). The client's file name is never looked at.
 */
MUST_CHECK int media_multipart_find(const char *body, size_t body_len, const char *boundary,
                                    const char *field, const char **data, size_t *len);

/*
 * Every part of a form (a form with fields, such as the Open311 POST with a photo): calls
 * `each(ctx, name, name_len, data, len)` in order, all pointing into `body`; a non-zero return
 * from `each` stops and is returned. -EINVAL for a malformed body (as media_multipart_find), a
 * part without a name="..." or more than MULTIPART_FIELDS_MAX parts.
 */
#define MULTIPART_FIELDS_MAX 64
typedef int media_multipart_part_fn(void *ctx, const char *name, size_t name_len, const char *data,
                                    size_t len);
MUST_CHECK int media_multipart_each(const char *body, size_t len, const char *boundary,
                                    media_multipart_part_fn *each, void *ctx);

#endif
