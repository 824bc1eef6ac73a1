/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tile server's caching headers (tiles/tiles.c): whatever Cache-Control, Expires and Date
 * say, a tile is kept fresh between the policy's minimum and a year. The input is the three
 * header values separated by newlines.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tiles/tiles_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t now_ms = 1764892800000LL; /* 2025-12-05T00:00:00Z */
    static const int64_t min_fresh_s = (int64_t)7 * 24 * 3600;
    char *buf = malloc(size + 1);
    const char *field[3] = { "", "", "" };
    char *p = buf;
    int64_t life;

    memcpy(buf, data, size);
    buf[size] = '\0';
    for (int i = 0; i < 3 && p; i++) {
        char *nl = strchr(p, '\n');

        field[i] = p;
        if (nl)
            *nl++ = '\0';
        p = nl;
    }
    life = tiles__lifetime_s(field[0], field[1], field[2], now_ms, min_fresh_s);
    if (life < min_fresh_s || life > TILES__LIFETIME_MAX_S)
        abort();
    free(buf);
    return 0;
}
