/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * WebSocket frame decoding as the server does it (wslay's event API behind http/ws.c, with the
 * context freed between frames): client bytes split at arbitrary points must never crash, leak
 * or hand on a message over the size cap. The first byte picks the cap and the split size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    size_t max;
    size_t total;
};

static void on_text(struct http_ws *ws, void *ctx, const char *p, size_t len)
{
    struct seen *s = ctx;

    (void)ws;
    (void)p;
    if (len > s->max)
        abort(); /* the cap must hold */
    s->total += len;
}

static const struct http_ws_ops ops = { .on_text = on_text };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = { 0 };
    struct http_ws *ws;
    size_t step, off = 1;

    if (!size)
        return 0;
    s.max = 16 + (size_t)(data[0] & 0x3f) * 64; /* 16 .. 4048 bytes */
    step = 1 + (data[0] >> 6) * 7;              /* 1, 8, 15 or 22 bytes per read */
    ws = http__ws_detached_new(s.max, &ops, &s);
    while (off < size) {
        size_t n = size - off < step ? size - off : step;

        if (http__ws_detached_feed(ws, (const char *)data + off, n))
            break; /* closing: the server reads no more */
        off += n;
    }
    http__ws_detached_free(ws);
    return 0;
}
