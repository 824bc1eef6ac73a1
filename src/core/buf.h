/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Bounded byte buffer (curl's dynbuf with its `toobig` cap). Every buffer that holds outside
 * input has a mandatory limit, so a hostile client gets -EMSGSIZE, never an OOM. The contents
 * are always NUL-terminated (the NUL is not counted in `len`).
 */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/compiler.h"

struct buf {
    /* members are private except for reading data and len */
    char *data;   /* NULL until the first append */
    size_t len;   /* bytes used, excluding the trailing NUL */
    size_t alloc; /* bytes allocated */
    size_t limit; /* appends that would make len exceed this fail */
};

/* Initialise an empty buffer that will never hold more than `limit` bytes. Cannot fail. */
void buf_init(struct buf *b, size_t limit);
/* Free the contents; the buffer is empty and reusable (same limit). */
void buf_release(struct buf *b);
/* Forget the contents but keep the allocation. */
void buf_reset(struct buf *b);
/* Append bytes. Returns 0, or -EMSGSIZE past the limit, leaving the contents unchanged. */
MUST_CHECK int buf_append(struct buf *b, const void *p, size_t n);
MUST_CHECK int buf_puts(struct buf *b, const char *s);
MUST_CHECK int buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
MUST_CHECK int buf_vprintf(struct buf *b, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
/* Remove the first `n` bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/*
 * Hand out the contents: the caller frees the returned pointer with free(). The buffer is empty
 * afterwards. Never returns NULL (an empty buffer yields "").
 */
char *buf_take(struct buf *b, size_t *len);

#endif
