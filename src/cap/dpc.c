/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The DPC bulletin reader. The day files are GeoJSON FeatureCollections with one feature per
 * zona di allerta; its properties carry "Nome zona", "Comuni" (the Comune names) and one legend
 * text per risk ("Per rischio idrogeologico" …), for example
 * "Ordinaria per rischio temporali / ALLERTA GIALLA". The level is the part after the slash:
 * the words before it vary between bulletins, the four after it do not. A text that is none of
 * the four is an error the source's health shows, never a verde.
 */
#include "cap/dpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

const char *const dpc_risk_code[DPC_N_RISKS] = { "idrogeologico", "idraulico", "temporali" };
const char *const dpc_level_name[5] = { NULL, "verde", "giallo", "arancione", "rosso" };

/* The GeoJSON property of each risk, in dpc_risk_code order. */
static const char *const risk_prop[DPC_N_RISKS] = {
    "Per rischio idrogeologico",
    "Per rischio idraulico",
    "Per rischio temporali",
};

static int fail(char *why, size_t whylen, int err, const char *fmt, ...) PRINTF_LIKE(4, 5);

static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return err;
}

int dpc_level_parse(const char *text)
{
    static const char *const words[] = { "NESSUNA ALLERTA", "ALLERTA GIALLA", "ALLERTA ARANCIONE",
                                         "ALLERTA ROSSA" };
    const char *s = strrchr(text, '/');
    size_t len;

    s = s ? s + 1 : text;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    len = strlen(s);
    while (len && strchr(" \t\r\n:.", s[len - 1]))
        len--;
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        if (len == strlen(words[i]) && !strncasecmp(s, words[i], len))
            return (int)i + 1;
    }
    return 0;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int dpc_id_parse(const char *id, int *year, int *month, int *day, int *hour, int *minute)
{
    if (strlen(id) != DPC_ID_LEN || !digits(id, 8) || id[8] != '_' || !digits(id + 9, 4))
        return -EINVAL;
    *year = num(id, 4);
    *month = num(id + 4, 2);
    *day = num(id + 6, 2);
    *hour = num(id + 9, 2);
    *minute = num(id + 11, 2);
    if (*year < 2000 || *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 ||
        *minute > 59)
        return -EINVAL;
    return 0;
}

int dpc_find_id(const char *p, size_t len, char *id)
{
    int y, mo, d, h, mi;

    for (size_t i = 0; i + DPC_ID_LEN <= len; i++) {
        if (p[i] < '0' || p[i] > '9' || (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9'))
            continue;
        if (i + DPC_ID_LEN < len && p[i + DPC_ID_LEN] >= '0' && p[i + DPC_ID_LEN] <= '9')
            continue;
        memcpy(id, p + i, DPC_ID_LEN);
        id[DPC_ID_LEN] = '\0';
        if (!dpc_id_parse(id, &y, &mo, &d, &h, &mi))
            return 0;
    }
    id[0] = '\0';
    return -ENOENT;
}

int dpc_url_fill(const char *tmpl, const char *id, const char *day, char *out, size_t outlen)
{
    size_t o = 0;

    for (const char *s = tmpl; *s;) {
        const char *put = NULL;
        size_t n;

        if (!strncmp(s, "{id}", 4)) {
            put = id;
            s += 4;
        } else if (!strncmp(s, "{day}", 5)) {
            put = day;
            s += 5;
        }
        n = put ? strlen(put) : 1;
        if (o + n >= outlen)
            return -ENAMETOOLONG;
        memcpy(out + o, put ? put : s, n);
        o += n;
        s += put ? 0 : 1;
    }
    if (o >= outlen)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return 0;
}

/* ---- names ---- */

/* ASCII for U+00C0…U+00FF (Latin-1 letters); "" for × and ÷ (separators). */
static const char *latin1_ascii(unsigned cp)
{
    static const char *const t[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",
    };
    return t[cp - 0xc0];
}

/*
 * The code point at `s` and its length, for well-formed 2- and 3-byte UTF-8 only; anything else
 * (overlong forms included, which would smuggle in ASCII) is one opaque byte, code point 0.
 */
static unsigned utf8_cp(const unsigned char *s, size_t *n)
{
    unsigned cp;

    *n = 1;
    if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
        cp = ((unsigned)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
        if (cp >= 0x80) {
            *n = 2;
            return cp;
        }
    } else if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
        cp = ((unsigned)(s[0] & 0x0f) << 12) | ((unsigned)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
        if (cp >= 0x800) {
            *n = 3;
            return cp;
        }
    }
    return 0;
}

static bool is_sep(unsigned cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\'' || cp == '`' ||
           cp == '-' || cp == '.' || cp == 0xb4 || cp == 0x2018 || cp == 0x2019 || cp == 0x2bc ||
           cp == 0xd7 || cp == 0xf7;
}

/* Append `n` bytes of `s` to `out` when they fit whole (a cut name stays valid UTF-8). */
static bool append(char *out, size_t *o, size_t outlen, const char *s, size_t n)
{
    if (*o + n >= outlen)
        return false;
    memcpy(out + *o, s, n);
    *o += n;
    return true;
}

void dpc_name_fold(const char *in, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    bool sep = false;
    size_t o = 0;

    if (!outlen)
        return;
    while (*s) {
        size_t n = 1;
        unsigned cp = *s < 0x80 ? *s : utf8_cp(s, &n);
        char low = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
        const char *put = (const char *)s;
        size_t putn = n;

        s += n;
        if (is_sep(cp)) {
            sep = o > 0;
            continue;
        }
        if (cp >= 0xc0 && cp <= 0xff) {
            put = latin1_ascii(cp);
            putn = strlen(put);
        } else if (cp < 0x80) {
            put = &low;
        }
        if ((sep && !append(out, &o, outlen, " ", 1)) || !append(out, &o, outlen, put, putn))
            break;
        sep = false;
    }
    if (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

bool dpc_name_eq(const char *a, const char *b)
{
    char fa[256], fb[256];

    dpc_name_fold(a, fa, sizeof(fa));
    dpc_name_fold(b, fb, sizeof(fb));
    return fa[0] && !strcmp(fa, fb);
}

/* ---- the day file ---- */

static bool lists_comune(const json_t *comuni, const char *comune)
{
    size_t i;
    const json_t *c;

    if (!comune || !json_is_array(comuni))
        return false;
    json_array_foreach(comuni, i, c)
    {
        if (json_is_string(c) && dpc_name_eq(json_string_value(c), comune))
            return true;
    }
    return false;
}

/* The levels of one matching zone into `z`; -EPROTO naming the zone and risk otherwise. */
static int read_zone(const json_t *props, const char *name, struct dpc_zone *z, char *why,
                     size_t whylen)
{
    snprintf(z->name, sizeof(z->name), "%s", name);
    for (size_t r = 0; r < DPC_N_RISKS; r++) {
        const char *t = json_string_value(json_object_get(props, risk_prop[r]));

        if (!t)
            return fail(why, whylen, -EPROTO, "Zone '%.80s' has no \"%s\".", name, risk_prop[r]);
        z->level[r] = dpc_level_parse(t);
        if (!z->level[r]) {
            return fail(why, whylen, -EPROTO, "Zone '%.80s', \"%s\": unknown level text '%.120s'.",
                        name, risk_prop[r], t);
        }
    }
    return 0;
}

int dpc_day_parse(const char *p, size_t len, const char *comune, const char *zone,
                  struct dpc_zone *out, size_t max, size_t *n, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *root = NULL, *features;
    const json_t *f;
    size_t i;
    int err = 0;

    *n = 0;
    if (len > DPC_MAX_BYTES)
        return -EMSGSIZE;
    root = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return fail(why, whylen, -EINVAL, "Not JSON (line %d): %.100s", jerr.line, jerr.text);
    features = json_object_get(root, "features");
    if (!json_is_array(features) || !json_is_string(json_object_get(root, "type")) ||
        strcmp(json_string_value(json_object_get(root, "type")), "FeatureCollection") != 0) {
        err = fail(why, whylen, -EINVAL, "Not a GeoJSON FeatureCollection with \"features\".");
        goto out;
    }
    json_array_foreach(features, i, f)
    {
        const json_t *props = json_object_get(f, "properties");
        const char *name = json_string_value(json_object_get(props, "Nome zona"));

        if (!json_is_object(props) || !name)
            continue;
        if (!lists_comune(json_object_get(props, "Comuni"), comune) &&
            !(zone && dpc_name_eq(name, zone)))
            continue;
        if (*n == max)
            break;
        err = read_zone(props, name, &out[*n], why, whylen);
        if (err)
            goto out;
        (*n)++;
    }
    if (!*n) {
        err = fail(why, whylen, -ENOENT, "No zone lists the Comune '%.80s'%s%.80s%s.",
                   comune ? comune : "", zone ? " or is named '" : "", zone ? zone : "",
                   zone ? "'" : "");
    }
out:
    json_decref(root);
    return err;
}
