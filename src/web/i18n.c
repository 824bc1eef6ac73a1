/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "web/i18n.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

static const char *const codes[WEB_LANGS] = { "it", "en" };
static const char *const locales[WEB_LANGS] = { "it_IT", "en_GB" };
static json_t *catalogue[WEB_LANGS]; /* parsed once; read-only afterwards */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    for (int i = 0; i < WEB_LANGS; i++) {
        json_error_t e;

        catalogue[i] = json_loads(web_i18n_sources[i], 0, &e);
        if (!json_is_object(catalogue[i])) {
            log_error("web: i18n/%s.json line %d: %s", codes[i], e.line, e.text);
            json_decref(catalogue[i]);
            catalogue[i] = json_object();
        }
    }
}

const char *web_lang_code(enum web_lang l)
{
    return codes[l == WEB_LANG_EN];
}

const char *web_lang_locale(enum web_lang l)
{
    return locales[l == WEB_LANG_EN];
}

static int lang_of(const char *s, size_t n)
{
    for (int i = 0; i < WEB_LANGS; i++) {
        if (n >= 2 && !strncasecmp(s, codes[i], 2) && (n == 2 || s[2] == '-' || s[2] == '_'))
            return i;
    }
    return -1;
}

enum web_lang web_lang_pick(const char *query, const char *accept)
{
    int best = -1;
    double best_q = 0;

    if (query && lang_of(query, strlen(query)) >= 0)
        return (enum web_lang)lang_of(query, strlen(query));
    /* "en-GB,en;q=0.9,it;q=0.8": the highest q we have; earlier wins a tie. */
    while (accept && *accept) {
        size_t n, tag;
        const char *qs;
        double q = 1;
        int l;

        accept += strspn(accept, " \t");
        n = strcspn(accept, ",");
        tag = strcspn(accept, ",; \t");
        qs = strstr(accept, "q=");
        if (qs && qs < accept + n)
            q = strtod(qs + 2, NULL);
        l = lang_of(accept, tag);
        if (l >= 0 && q > best_q) {
            best = l;
            best_q = q;
        }
        accept += n;
        if (*accept == ',')
            accept++;
    }
    return best < 0 ? WEB_LANG_IT : (enum web_lang)best;
}

const char *web_t(enum web_lang l, const char *key)
{
    const char *s;

    pthread_once(&once, load);
    s = json_string_value(json_object_get(catalogue[l == WEB_LANG_EN], key));
    if (!s)
        s = json_string_value(json_object_get(catalogue[l != WEB_LANG_EN], key));
    return s ? s : key;
}

void web_keys(enum web_lang l, const char *prefix, web_key_fn *each, void *ctx)
{
    const char *key;
    json_t *v;
    size_t n = strlen(prefix);

    pthread_once(&once, load);
    json_object_foreach(catalogue[l == WEB_LANG_EN], key, v)
    {
        if (!strncmp(key, prefix, n) && json_is_string(v))
            each(ctx, key, json_string_value(v));
    }
}

void web_text(struct html *h, enum web_lang l, const char *key)
{
    html_text(h, web_t(l, key));
}

void web_tf(struct html *h, enum web_lang l, const char *key, const char *const *kv)
{
    const char *s = web_t(l, key);

    while (*s) {
        const char *open = strchr(s, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        const char *val = NULL;

        if (!close) {
            html_text(h, s);
            return;
        }
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
            if (strlen(kv[i]) == (size_t)(close - open - 1) &&
                !strncmp(kv[i], open + 1, (size_t)(close - open - 1)))
                val = kv[i + 1];
        }
        html_textn(h, s, (size_t)((val ? open : close + 1) - s));
        if (val)
            html_text(h, val);
        s = close + 1;
    }
}

void web_number(enum web_lang l, int64_t n, char *out, size_t outlen)
{
    char digits[32];
    char sep = l == WEB_LANG_EN ? ',' : '.';
    size_t len, o = 0;
    int neg = n < 0;

    snprintf(digits, sizeof(digits), "%llu",
             neg ? 0ULL - (unsigned long long)n : (unsigned long long)n);
    len = strlen(digits);
    if (neg && o + 1 < outlen)
        out[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < outlen; i++) {
        out[o++] = digits[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len)
            out[o++] = sep;
    }
    out[o < outlen ? o : outlen - 1] = '\0';
}

void web_tn(struct html *h, enum web_lang l, const char *key, int64_t n)
{
    char full[128];
    char num[40];
    const char *kv[] = { "n", num, NULL };

    /* KEY.zero is optional ("Ancora nessuno ..."): absent, 0 takes KEY.other */
    snprintf(full, sizeof(full), "%s.zero", key);
    if (n != 0 || web_t(l, full) == full)
        snprintf(full, sizeof(full), "%s.%s", key, n == 1 ? "one" : "other");
    web_number(l, n, num, sizeof(num));
    web_tf(h, l, full, kv);
}
