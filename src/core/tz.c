/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "core/tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ZONEINFO  "/usr/share/zoneinfo/"
#define FOOTER_MX 128

struct rule {
    int month, week, wday; /* M m.w.d */
    int secs;              /* local time of the change, seconds after midnight */
};

static const char *skip_name(const char *p)
{
    if (*p == '<') {
        const char *e = strchr(p, '>');

        return e ? e + 1 : NULL;
    }
    if (!isalpha((unsigned char)*p))
        return NULL;
    while (isalpha((unsigned char)*p))
        p++;
    return p;
}

/* "[+-]hh[:mm[:ss]]" into seconds; NULL on error. */
static const char *parse_hms(const char *p, int *out)
{
    int sign = 1, h = 0, m = 0, s = 0;

    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p))
        h = h * 10 + (*p++ - '0');
    if (*p == ':') {
        p++;
        while (isdigit((unsigned char)*p))
            m = m * 10 + (*p++ - '0');
        if (*p == ':') {
            p++;
            while (isdigit((unsigned char)*p))
                s = s * 10 + (*p++ - '0');
        }
    }
    if (h > 167 || m > 59 || s > 59)
        return NULL;
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

/* A decimal number of at most 2 digits into `*out`; NULL if there is none. */
static const char *small_num(const char *p, int *out)
{
    int v = 0, n = 0;

    while (isdigit((unsigned char)*p) && n < 2) {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    if (!n)
        return NULL;
    *out = v;
    return p;
}

static const char *parse_rule(const char *p, struct rule *r)
{
    if (*p++ != ',' || *p++ != 'M')
        return NULL;
    if (!(p = small_num(p, &r->month)) || *p++ != '.' || !(p = small_num(p, &r->week)) ||
        *p++ != '.' || !(p = small_num(p, &r->wday)))
        return NULL;
    if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->wday < 0 || r->wday > 6)
        return NULL;
    r->secs = 7200;
    if (*p == '/')
        p = parse_hms(p + 1, &r->secs);
    return p;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Seconds since the epoch of the rule's local moment in `year`, for local offset `off`. */
static int64_t rule_utc(const struct rule *r, int year, int off)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    struct tm tm = { .tm_year = year - 1900, .tm_mon = r->month - 1, .tm_mday = 1 };
    int dim = mdays[r->month - 1] + (r->month == 2 && leap(year));
    time_t first = timegm(&tm);
    struct tm f;
    int day;

    gmtime_r(&first, &f);
    day = 1 + (r->wday - f.tm_wday + 7) % 7 + (r->week - 1) * 7;
    while (day > dim)
        day -= 7;
    return (int64_t)first + (int64_t)(day - 1) * 86400 + r->secs - off;
}

int tz_posix_offset_min(const char *spec, int64_t ms, int *off_min)
{
    const char *p = skip_name(spec);
    struct rule start, end;
    int std, dst;
    int64_t t = ms / 1000, a, b;
    time_t tt = (time_t)t;
    struct tm tm;

    if (!p || !(p = parse_hms(p, &std)))
        return -EPROTO;
    std = -std; /* POSIX offsets are west of Greenwich */
    if (!*p) {
        *off_min = std / 60;
        return 0;
    }
    if (!(p = skip_name(p)))
        return -EPROTO;
    dst = std + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, &dst)))
            return -EPROTO;
        dst = -dst;
    }
    if (!(p = parse_rule(p, &start)) || !(p = parse_rule(p, &end)) || *p)
        return -EPROTO;
    gmtime_r(&tt, &tm);
    a = rule_utc(&start, tm.tm_year + 1900, std);
    b = rule_utc(&end, tm.tm_year + 1900, dst);
    if (a < b) {
        *off_min = (t >= a && t < b ? dst : std) / 60;
    } else {
        *off_min = (t >= b && t < a ? std : dst) / 60;
    }
    return 0;
}

static bool zone_name_ok(const char *z)
{
    size_t n = strlen(z);

    if (!n || n > 64 || z[0] == '/' || strstr(z, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)z[i]) && !strchr("_+-/", z[i]))
            return false;
    }
    return true;
}

int tz_offset_min(const char *zone, int64_t ms, int *off_min)
{
    char path[sizeof(ZONEINFO) + 65];
    char footer[FOOTER_MX];
    FILE *f;
    size_t n;
    char *end, *start;

    if (!zone_name_ok(zone))
        return -EINVAL;
    snprintf(path, sizeof(path), ZONEINFO "%s", zone);
    f = fopen(path, "rb");
    if (!f)
        return -ENOENT;
    /* The footer is the last line of the file: read only its tail. */
    if (fseek(f, -(long)(FOOTER_MX - 1), SEEK_END) != 0)
        rewind(f);
    n = fread(footer, 1, sizeof(footer) - 1, f);
    fclose(f);
    footer[n] = '\0';
    if (n < 2 || footer[n - 1] != '\n')
        return -EPROTO;
    footer[n - 1] = '\0';
    end = footer + n - 1;
    start = memrchr(footer, '\n', (size_t)(end - footer));
    if (!start)
        return -EPROTO;
    return tz_posix_offset_min(start + 1, ms, off_min);
}
