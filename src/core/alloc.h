/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Allocation that aborts on out-of-memory (git, redis, h2o). The other half of the rule:
 * every allocation driven by outside input has a cap enforced before it is made.
 */
#ifndef CORE_ALLOC_H
#define CORE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* xstrdup(s), or NULL for a NULL `s` (an optional field). */
char *xstrdup_opt(const char *s);
char *xstrndup(const char *s, size_t n);
/* Copy `n` bytes of `p` into a new allocation. */
void *xmemdup(const void *p, size_t n);

#endif
