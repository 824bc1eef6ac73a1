/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * QR codes (see qr.h). Level M survives a poster that is a little creased or dirty; the quiet
 * zone of 4 modules is what ISO/IEC 18004 asks for and what phone cameras need on a busy
 * notice board.
 */
#include "media/qr.h"

#include <errno.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "media/image.h"

#define QUIET 4

static QRcode *encode(const char *text)
{
    size_t n = text ? strlen(text) : 0;

    if (!n || n > MEDIA_QR_TEXT_MAX)
        return NULL;
    return QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
}

int media_qr_svg(const char *text, char **out, size_t *len)
{
    QRcode *q;
    size_t cap;
    size_t n;
    int side;
    char *s;

    *out = NULL;
    *len = 0;
    if (!text || !*text || strlen(text) > MEDIA_QR_TEXT_MAX)
        return -EINVAL;
    q = encode(text);
    if (!q)
        return -EIO;
    side = q->width + 2 * QUIET;
    /* One "Mx yh1v1h-1z" run per dark module at most (≤ 24 bytes), plus the frame. */
    cap = (size_t)q->width * (size_t)q->width * 24 + 512;
    s = xmalloc(cap);
    n = (size_t)snprintf(s, cap,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                         "shape-rendering=\"crispEdges\">"
                         "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                         side, side, side, side);
    for (int y = 0; y < q->width; y++) {
        for (int x = 0; x < q->width; x++) {
            int run = 0;

            /* Horizontal runs of dark modules make the path a few times shorter. */
            while (x + run < q->width && (q->data[y * q->width + x + run] & 1))
                run++;
            if (run) {
                n += (size_t)snprintf(s + n, cap - n, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run,
                                      run);
                x += run - 1;
            }
        }
    }
    n += (size_t)snprintf(s + n, cap - n, "\"/></svg>\n");
    QRcode_free(q);
    *out = s;
    *len = n;
    return 0;
}

int media_qr_png(const char *text, int scale, void **out, size_t *len)
{
    QRcode *q;
    uint8_t *pix;
    int side;
    int err;

    *out = NULL;
    *len = 0;
    if (!text || !*text || strlen(text) > MEDIA_QR_TEXT_MAX || scale < 1 || scale > 32)
        return -EINVAL;
    q = encode(text);
    if (!q)
        return -EIO;
    side = (q->width + 2 * QUIET) * scale;
    pix = xmalloc((size_t)side * (size_t)side);
    memset(pix, 255, (size_t)side * (size_t)side);
    for (int y = 0; y < q->width; y++) {
        for (int x = 0; x < q->width; x++) {
            if (!(q->data[y * q->width + x] & 1))
                continue;
            for (int dy = 0; dy < scale; dy++) {
                memset(pix + (size_t)((y + QUIET) * scale + dy) * (size_t)side +
                           (size_t)(x + QUIET) * (size_t)scale,
                       0, (size_t)scale);
            }
        }
    }
    QRcode_free(q);
    err = media_png_gray(pix, side, side, out, len);
    free(pix);
    return err;
}
