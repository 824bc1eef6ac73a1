/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The multipart reader: any body, with the boundary taken from its first line, gives 0 with a
 * part inside the body, -ENOENT or -EINVAL, without reading past the input. The first line is
 * also tried as a Content-Type for the boundary parser. Every part of a form (the Open311
 * multipart extension) lies inside the body.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
    const char *body;
    size_t len;
};

/* Every part media_multipart_each hands out lies inside the body (the Open311 form reader). */
static int part_inside(void *ctx, const char *name, size_t nlen, const char *d, size_t n)
{
    const struct span *s = ctx;

    if (name < s->body || name + nlen > s->body + s->len || d < s->body || d + n > s->body + s->len)
        abort();
    return 0;
}

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
        {
            struct span sp = { body, blen };

            err = media_multipart_each(body, blen, ct, part_inside, &sp);
            if (err && err != -EINVAL)
                abort();
        }
    }
    free(body);
    free(ct);
    return 0;
}
