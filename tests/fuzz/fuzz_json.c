/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The JSON reader every endpoint uses: parse, re-encode, and free any input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    json_t *v = json_parse((const char *)data, size, err, sizeof(err));

    if (v) {
        char *s = json_encode(v, NULL);

        free(s);
        json_decref(v);
    }
    return 0;
}
