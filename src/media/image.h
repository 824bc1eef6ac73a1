/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Image processing with libvips: decode an upload under a pixel limit, turn it upright, drop
 * every piece of metadata (EXIF with GPS positions, XMP, IPTC, ICC profiles: the pixels are
 * converted to sRGB first) and encode the two sizes the feed shows, in WebP and in JPEG for
 * older browsers. Also the PNG encoder for invite QR codes.
 *
 * Threads: any, but decoding a photo takes tens to hundreds of milliseconds, so uploads run on
 * a work pool, never on an event loop. libvips is initialised once on first use.
 */
#ifndef MEDIA_IMAGE_H
#define MEDIA_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define MEDIA_SMALL_WIDTH 320  /* the feed's thumbnail */
#define MEDIA_LARGE_WIDTH 1280 /* full width on a phone or a laptop */

enum media_variant {
    MEDIA_SMALL_WEBP = 0,
    MEDIA_SMALL_JPEG,
    MEDIA_LARGE_WEBP,
    MEDIA_LARGE_JPEG,
    MEDIA_VARIANTS,
};

/* The encoded sizes of one image. Members are the caller's to read; free with release. */
struct media_image {
    void *data[MEDIA_VARIANTS]; /* g_malloc'ed by libvips: release with media_image_release */
    size_t len[MEDIA_VARIANTS];
    int width, height; /* of the large size, upright */
};

/*
 * Initialise libvips once (thread-safe; later calls return the first outcome): operation cache
 * off (every upload is different, and the cache would hold decoded pixels), untrusted loaders
 * (ImageMagick, ...) blocked. Returns 0 or -EIO.
 */
MUST_CHECK int media_image_init(void);

/*
 * Decode `len` bytes of a JPEG, PNG, WebP or HEIC image (already sniffed) and make the four
 * variants into `out`. Images wider than a size are shrunk to its width; narrower ones keep
 * theirs. Returns 0, -E2BIG when width × height is over `max_pixels` (checked from the header,
 * before any pixel is decoded: a decompression bomb costs nothing), or -EBADMSG when the data
 * cannot be decoded (truncated, corrupt, unsupported). On error `out` holds nothing.
 */
MUST_CHECK int media_image_process(const void *p, size_t len, uint64_t max_pixels,
                                   struct media_image *out);
void media_image_release(struct media_image *m);

/*
 * Encode a `w` × `h` 8-bit grey image (row-major, one byte per pixel) as PNG into *out (caller
 * frees with free()). Returns 0 or -EIO.
 */
MUST_CHECK int media_png_gray(const uint8_t *pix, int w, int h, void **out, size_t *len);

#endif
