/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

json_t *json_parse(const char *p, size_t len, char *err, size_t errlen)
{
    json_error_t e;
    json_t *v = json_loadb(p, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);

    if (!v)
        snprintf(err, errlen, "line %d, column %d: %s", e.line, e.column, e.text);
    return v;
}

char *json_encode(const json_t *v, size_t *len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    if (!s) {
        fprintf(stderr, "fatal: json_dumps failed\n");
        abort();
    }
    if (len)
        *len = strlen(s);
    return s;
}

char *json_error_body(const char *code, const char *message, const char *field, size_t *len)
{
    json_t *inner = json_pack("{s:s, s:s}", "code", code, "message", message);
    json_t *outer;
    char *s;

    if (!inner) {
        fprintf(stderr, "fatal: json_pack failed\n");
        abort();
    }
    if (field)
        json_object_set_new(inner, "field", json_string(field));
    outer = json_pack("{s:o}", "error", inner);
    s = json_encode(outer, len);
    json_decref(outer);
    return s;
}
