/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Type sniffing: any bytes give one of the types without reading past them, and a type is
 * stable: the same bytes with more appended are still that type (the sniffer never decides on
 * a prefix it has not fully seen).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    uint8_t *longer = malloc(size + 64);
    enum media_type t;

    memcpy(copy, data, size);
    t = media_sniff(copy, size);
    if (t < MEDIA_UNKNOWN || t > MEDIA_PDF || !*media_type_mime(t) || !*media_type_ext(t))
        abort();
    memcpy(longer, data, size);
    memset(longer + size, 0xA5, 64);
    if (t != MEDIA_UNKNOWN && media_sniff(longer, size + 64) != t)
        abort();
    free(longer);
    free(copy);
    return 0;
}
