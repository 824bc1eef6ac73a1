/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The reaction emoji validator: any bytes are judged without reading past them, and what it
 * accepts is one emoji: within REACTION_EMOJI_MAX_BYTES, no ASCII besides a keycap's base, no
 * control or space, and never two emoji (the input followed by another emoji is refused).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/reactions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char thumbs[] = "\xf0\x9f\x91\x8d"; /* U+1F44D */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the end. */
    char *p = malloc(size ? size : 1);
    char *two;

    if (!p)
        return 0;
    memcpy(p, data, size);
    if (store_emoji_valid(p, size)) {
        if (size < 1 || size > REACTION_EMOJI_MAX_BYTES)
            abort();
        for (size_t i = 0; i < size; i++) {
            unsigned char c = (unsigned char)p[i];

            if (c < 0x80 && !((c >= '0' && c <= '9') || c == '#' || c == '*'))
                abort();
        }
        two = malloc(size + sizeof(thumbs) - 1);
        if (two) {
            memcpy(two, p, size);
            memcpy(two + size, thumbs, sizeof(thumbs) - 1);
            if (store_emoji_valid(two, size + sizeof(thumbs) - 1))
                abort(); /* two emoji are not one */
            free(two);
        }
    }
    free(p);
    return 0;
}
