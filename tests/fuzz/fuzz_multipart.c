/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The multipart reader: any body, with the boundary taken from its first line, gives 0 with a
 * part inside the body, -ENOENT or -EINVAL, without reading past the input. The first line is
 * also tried as a Content-Type for the boundary parser.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    char *ct = malloc(head + 1);
    char boundary[MULTIPART_BOUNDARY_MAX + 1];
    char *body;
    size_t blen = nl ? size - head - 1 : 0;
    const char *d = NULL;
    size_t n = 0;
    int err;

    memcpy(ct, data, head);
    ct[head] = '\0';
    err = media_multipart_boundary(ct, boundary, sizeof(boundary));
    if (!err && (!*boundary || strlen(boundary) > MULTIPART_BOUNDARY_MAX))
        abort();
    /* An exact-size copy of the rest, so ASan sees any read past the end. */
    body = malloc(blen ? blen : 1);
    memcpy(body, nl ? nl + 1 : data, blen);
    if (strlen(ct) >= 1 && strlen(ct) <= MULTIPART_BOUNDARY_MAX) {
        err = media_multipart_find(body, blen, ct, "file", &d, &n);
        if (!err && (d < body || d + n > body + blen))
            abort();
        if (err && err != -ENOENT && err != -EINVAL)
            abort();
    }
    free(body);
    free(ct);
    return 0;
}
