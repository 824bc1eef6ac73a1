/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Thin helpers over jansson: strict parsing with a person-readable error (line and column),
 * compact encoding, and the error body every endpoint uses.
 */
#ifndef CORE_JSON_H
#define CORE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/compiler.h"

/*
 * Parse `len` bytes as one JSON value (objects reject duplicate keys; NUL bytes are refused).
 * Returns the value (caller decrefs) or NULL with "line L, column C: reason" in `err`.
 */
json_t *json_parse(const char *p, size_t len, char *err, size_t errlen);
/* Encode compactly; caller frees. Never NULL. */
char *json_encode(const json_t *v, size_t *len);
/*
 * Build the body `{"error":{"code":...,"message":...,"field":...}}`; `field` may be NULL.
 * Caller frees.
 */
char *json_error_body(const char *code, const char *message, const char *field, size_t *len);

#endif
