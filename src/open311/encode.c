/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "open311/encode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"

static const struct {
    const char *plural, *singular;
} items[] = {
    { "services", "service" }, { "service_requests", "request" }, { "attributes", "attribute" },
    { "values", "value" },     { "endpoints", "endpoint" },       { "formats", "format" },
    { "errors", "error" },     { "statistics", "service" },       { "notes", "note" },
};

const char *o311_xml_item_name(const char *key)
{
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (!strcmp(items[i].plural, key))
            return items[i].singular;
    }
    return "item";
}

static int text(struct buf *b, const char *s, size_t n)
{
    int err = 0;

    for (size_t i = 0; i < n && !err; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t run = 0;

        switch (c) {
        case '&':
            err = buf_puts(b, "&amp;");
            break;
        case '<':
            err = buf_puts(b, "&lt;");
            break;
        case '>':
            err = buf_puts(b, "&gt;");
            break;
        case '"':
            err = buf_puts(b, "&quot;");
            break;
        case '\'':
            err = buf_puts(b, "&apos;");
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                break; /* not a character XML 1.0 allows: dropped */
            while (i + run < n && !strchr("&<>\"'", s[i + run]) &&
                   ((unsigned char)s[i + run] >= 0x20 || s[i + run] == '\t' || s[i + run] == '\n' ||
                    s[i + run] == '\r'))
                run++;
            err = buf_append(b, s + i, run);
            i += run - 1;
        }
    }
    return err;
}

static int element(struct buf *b, const char *name, const json_t *v);

static int children(struct buf *b, const json_t *v, const char *item)
{
    const char *key;
    json_t *m;
    size_t i;
    int err = 0;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, m)
        {
            if (!err)
                err = element(b, key, m);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m)
        {
            if (!err)
                err = element(b, item, m);
        }
    }
    return err;
}

static int element(struct buf *b, const char *name, const json_t *v)
{
    char num[64];
    int err;

    if (json_is_null(v))
        return buf_printf(b, "<%s/>", name);
    err = buf_printf(b, "<%s>", name);
    if (err)
        return err;
    if (json_is_object(v)) {
        err = children(b, v, NULL);
    } else if (json_is_array(v)) {
        err = children(b, v, o311_xml_item_name(name));
    } else if (json_is_string(v)) {
        err = text(b, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        err = buf_puts(b, num);
    } else if (json_is_real(v)) {
        snprintf(num, sizeof(num), "%.12g", json_real_value(v));
        err = buf_puts(b, num);
    } else {
        err = buf_puts(b, json_is_true(v) ? "true" : "false");
    }
    return err ? err : buf_printf(b, "</%s>", name);
}

int o311_xml_encode(const json_t *v, const char *root, const char *item, struct buf *out)
{
    int err = buf_puts(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");

    if (!err)
        err = buf_printf(out, "<%s>", root);
    if (!err)
        err = children(out, v, item);
    if (!err)
        err = buf_printf(out, "</%s>\n", root);
    return err;
}

/* ---- dates ---- */

int o311_tz_offset_min(int64_t ms, const char *tz)
{
    int off = 0;

    /* A zone this machine cannot read (no tzdata) is written in UTC: still an exact instant. */
    if (!tz || tz_offset_min(tz, ms, &off) != 0)
        return 0;
    return off;
}

void o311_datetime(int64_t ms, const char *tz, char *out, size_t outlen)
{
    int off = o311_tz_offset_min(ms, tz);
    time_t t = (time_t)(ms / 1000 + (int64_t)off * 60);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
             (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}
