/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "core/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void buf_init(struct buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->limit = limit;
}

void buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b, b->limit);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Make room for `n` more bytes plus the NUL. */
static int grow(struct buf *b, size_t n)
{
    size_t want;

    if (n > b->limit || b->len > b->limit - n)
        return -EMSGSIZE;
    want = b->len + n + 1;
    if (want <= b->alloc)
        return 0;
    if (want < b->alloc * 2)
        want = b->alloc * 2;
    if (want < 64)
        want = 64;
    if (want > b->limit + 1)
        want = b->limit + 1;
    b->data = xrealloc(b->data, want);
    b->alloc = want;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int err = grow(b, n);

    if (err)
        return err;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    int n;
    int err;

    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return -EINVAL;
    err = grow(b, (size_t)n);
    if (err)
        return err;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int err;

    va_start(ap, fmt);
    err = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *buf_take(struct buf *b, size_t *len)
{
    char *p = b->data ? b->data : xstrdup("");

    if (len)
        *len = b->len;
    buf_init(b, b->limit);
    return p;
}
