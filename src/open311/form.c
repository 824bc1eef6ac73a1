/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "open311/form.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

bool o311_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t need;
        uint32_t cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += need + 1;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode `len` bytes at `p` into a new NUL-terminated string; -EINVAL on a bad escape. */
static int decode(const char *p, size_t len, char **out, size_t *outlen)
{
    char *d = xmalloc(len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (p[i] == '+') {
            d[n++] = ' ';
        } else if (p[i] == '%') {
            int hi = len - i >= 3 ? hexval(p[i + 1]) : -1;

            if (hi < 0 || hexval(p[i + 2]) < 0) {
                free(d);
                return -EINVAL;
            }
            d[n++] = (char)(hi * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            d[n++] = p[i];
        }
    }
    d[n] = '\0';
    if (!o311_utf8_ok(d, n)) {
        free(d);
        return -EINVAL;
    }
    *out = d;
    *outlen = n;
    return 0;
}

/* Room for one more field: doubling capacity, tracked as a power of two >= n. */
static void grow(struct o311_form *f)
{
    if (f->n == 0 || (f->n & (f->n - 1)) == 0)
        f->f = xrealloc(f->f, (f->n ? f->n * 2 : 1) * sizeof(*f->f));
}

int o311_form_add(struct o311_form *f, const char *name, size_t name_len, const char *value,
                  size_t value_len)
{
    struct o311_field fld;

    if (f->n == O311_FORM_FIELDS_MAX)
        return -E2BIG;
    if (!o311_utf8_ok(name, name_len) || !o311_utf8_ok(value, value_len))
        return -EINVAL;
    fld.name = xmalloc(name_len + 1);
    memcpy(fld.name, name, name_len);
    fld.name[name_len] = '\0';
    fld.value = xmalloc(value_len + 1);
    memcpy(fld.value, value, value_len);
    fld.value[value_len] = '\0';
    fld.value_len = value_len;
    grow(f);
    f->f[f->n++] = fld;
    return 0;
}

int o311_form_parse(struct o311_form *out, const char *body, size_t len)
{
    size_t i = 0;

    out->f = NULL;
    out->n = 0;
    while (i < len) {
        const char *piece = body + i;
        const char *amp = memchr(piece, '&', len - i);
        size_t plen = amp ? (size_t)(amp - piece) : len - i;
        const char *eq = memchr(piece, '=', plen);
        size_t nlen = eq ? (size_t)(eq - piece) : plen;
        struct o311_field fld;
        size_t dummy;
        int err;

        i += plen + 1;
        if (plen == 0)
            continue;
        if (out->n == O311_FORM_FIELDS_MAX)
            return -E2BIG;
        err = decode(piece, nlen, &fld.name, &dummy);
        if (err)
            return err;
        err = eq ? decode(eq + 1, plen - nlen - 1, &fld.value, &fld.value_len)
                 : decode("", 0, &fld.value, &fld.value_len);
        if (err) {
            free(fld.name);
            return err;
        }
        grow(out);
        out->f[out->n++] = fld;
    }
    return 0;
}

void o311_form_release(struct o311_form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->f[i].name);
        free(f->f[i].value);
    }
    free(f->f);
    f->f = NULL;
    f->n = 0;
}

const char *o311_form_get(const struct o311_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++) {
        if (!strcmp(f->f[i].name, name))
            return f->f[i].value;
    }
    return NULL;
}

bool o311_attr_name(const char *name, char *code, bool *multi)
{
    static const char prefix[] = "attribute[";
    const char *p;
    size_t n;

    if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
        return false;
    p = name + sizeof(prefix) - 1;
    n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");
    if (n < 1 || n > O311_ATTR_CODE_MAX || p[n] != ']')
        return false;
    if (p[n + 1] == '\0') {
        *multi = false;
    } else if (!strcmp(p + n + 1, "[]")) {
        *multi = true;
    } else {
        return false;
    }
    memcpy(code, p, n);
    code[n] = '\0';
    return true;
}
