/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * application/x-www-form-urlencoded bodies (the WHATWG URL standard's parser, strict where it
 * matters to us): how Open311 GeoReport v2 clients POST a service request. Pure functions over
 * a body held in memory; any thread. Everything here is Internet input: the number of fields
 * is capped, every decoded name and value is valid UTF-8 without NUL, and a malformed
 * percent-escape is refused rather than passed through.
 */
#ifndef OPEN311_FORM_H
#define OPEN311_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compiler.h"

#define O311_FORM_FIELDS_MAX 128 /* fields per body */
#define O311_ATTR_CODE_MAX   64  /* bytes of an attribute code in attribute[code] */

struct o311_field {
    char *name; /* decoded, NUL-terminated */
    char *value;
    size_t value_len;
};

/* A parsed body. Members are read-only for callers; release with o311_form_release(). */
struct o311_form {
    struct o311_field *f;
    size_t n;
};

/*
 * Parse `len` bytes of `body` ("a=1&b=x+y&c=%C3%A8"): '+' is a space, %XX a byte, empty
 * pieces between '&' are skipped, a piece without '=' has the value "". Returns 0 with `out`
 * filled (release it even on error), -EINVAL for a '%' not followed by two hex digits, a
 * decoded NUL or invalid UTF-8 in a name or value, or -E2BIG past O311_FORM_FIELDS_MAX fields.
 */
MUST_CHECK int o311_form_parse(struct o311_form *out, const char *body, size_t len);
void o311_form_release(struct o311_form *f);
/*
 * Append a field (copied; for forms read from multipart/form-data). -EINVAL for a name or
 * value that is not UTF-8 without NUL, -E2BIG past O311_FORM_FIELDS_MAX fields.
 */
MUST_CHECK int o311_form_add(struct o311_form *f, const char *name, size_t name_len,
                             const char *value, size_t value_len);

/* The value of the first field named `name`, or NULL. */
const char *o311_form_get(const struct o311_form *f, const char *name);

/*
 * Whether `name` is an Open311 attribute field, "attribute[CODE]" or "attribute[CODE][]" (a
 * multivaluelist), with CODE 1..O311_ATTR_CODE_MAX bytes of [A-Za-z0-9_-.]: copies CODE into
 * `code` (≥ O311_ATTR_CODE_MAX + 1 bytes) and tells which form in *multi.
 */
bool o311_attr_name(const char *name, char *code, bool *multi);

/* Whether `s` (`len` bytes) is valid UTF-8 (no overlongs, no surrogates) without NUL. */
bool o311_utf8_ok(const char *s, size_t len);

#endif
