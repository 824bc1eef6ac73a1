/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The Open311 form-urlencoded parser: any body gives 0 or -EINVAL/-E2BIG without reading past
 * the input; on success every field is NUL-terminated valid UTF-8 within the cap, and the
 * attribute[code] reader and the XML writer accept whatever the parser produced.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "open311/encode.h"
#include "open311/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the end. */
    char *body = malloc(size ? size : 1);
    struct o311_form f;
    json_t *obj;
    struct buf b;
    int err;

    memcpy(body, data, size);
    err = o311_form_parse(&f, body, size);
    if (err && err != -EINVAL && err != -E2BIG)
        abort();
    if (!err) {
        if (f.n > O311_FORM_FIELDS_MAX)
            abort();
        obj = json_object();
        for (size_t i = 0; i < f.n; i++) {
            char code[O311_ATTR_CODE_MAX + 1];
            bool multi;

            if (!o311_utf8_ok(f.f[i].name, strlen(f.f[i].name)) ||
                !o311_utf8_ok(f.f[i].value, f.f[i].value_len) ||
                strlen(f.f[i].value) != f.f[i].value_len)
                abort();
            if (o311_attr_name(f.f[i].name, code, &multi) &&
                (!*code || strlen(code) > O311_ATTR_CODE_MAX))
                abort();
            json_object_set_new(obj, "value", json_string(f.f[i].value));
        }
        buf_init(&b, 1 << 20);
        if (o311_xml_encode(obj, "request", NULL, &b) == 0 &&
            (!b.data || !strstr(b.data, "</request>")))
            abort();
        buf_release(&b);
        json_decref(obj);
    }
    o311_form_release(&f);
    free(body);
    return 0;
}
