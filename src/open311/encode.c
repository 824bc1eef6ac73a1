/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "open311/encode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

static const char *const cet_zones[] = {
    "Europe/Rome",
    "Europe/Vatican",
    "Europe/San_Marino",
    "Europe/Malta",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Monaco",
    "Europe/Ljubljana",
    "Europe/Zagreb",
    "Europe/Prague",
    "Europe/Budapest",
    "Europe/Bratislava",
    "Europe/Warsaw",
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/Oslo",
    "CET",
};

/* Unix seconds of 01:00 UTC on the last Sunday of `mon` (0-based) in `year`. */
static int64_t last_sunday_1utc(int year, int mon)
{
    struct tm tm = { 0 };
    time_t t;
    struct tm out;

    tm.tm_year = year - 1900;
    tm.tm_mon = mon + 1; /* the first of next month, then back */
    tm.tm_mday = 1;
    tm.tm_hour = 1;
    t = timegm(&tm) - 86400;
    gmtime_r(&t, &out);
    return (int64_t)t - (int64_t)out.tm_wday * 86400;
}

int o311_tz_offset_min(int64_t ms, const char *tz)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    int64_t start, end;
    bool cet = false;

    for (size_t i = 0; i < sizeof(cet_zones) / sizeof(cet_zones[0]) && !cet; i++)
        cet = tz && !strcmp(tz, cet_zones[i]);
    if (!cet)
        return 0;
    gmtime_r(&t, &tm);
    start = last_sunday_1utc(tm.tm_year + 1900, 2);
    end = last_sunday_1utc(tm.tm_year + 1900, 9);
    return (int64_t)t >= start && (int64_t)t < end ? 120 : 60;
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
