/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * QR codes for invite links (libqrencode), as SVG (crisp at any print size) and PNG. Pure
 * computation, any thread; a QR for a URL takes well under a millisecond.
 */
#ifndef MEDIA_QR_H
#define MEDIA_QR_H

#include <stddef.h>

#include "core/compiler.h"

#define MEDIA_QR_TEXT_MAX 512 /* bytes of text in one code */

/*
 * The QR code of `text` (error correction M, 4-module quiet zone) as an SVG document in *out,
 * NUL-terminated (caller frees with free()). Returns 0, -EINVAL for empty or over-long text,
 * or -EIO.
 */
MUST_CHECK int media_qr_svg(const char *text, char **out, size_t *len);
/* The same as a PNG, `scale` pixels per module (1..32); caller frees *out with free(). */
MUST_CHECK int media_qr_png(const char *text, int scale, void **out, size_t *len);

#endif
