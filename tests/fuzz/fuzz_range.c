/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The Range header (static files and media): whatever a client sends, a range that parses lies
 * inside the body. The first 8 bytes are the body's size, the rest the header value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t body = 0, from = 0, to = 0;
    char *h;
    int rc;

    if (size < 8)
        return 0;
    memcpy(&body, data, 8);
    body %= (uint64_t)1 << 40; /* a terabyte is plenty and keeps size arithmetic honest */
    h = malloc(size - 8 + 1);
    memcpy(h, data + 8, size - 8);
    h[size - 8] = '\0';
    rc = http_range_parse(h, body, &from, &to);
    if (rc < -1 || rc > 1)
        abort();
    if (rc == 1 && !(from <= to && to < body))
        abort();
    free(h);
    return 0;
}
