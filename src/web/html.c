/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "web/html.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/format.h"

void html_init(struct html *h, size_t limit)
{
    buf_init(&h->b, limit);
    h->err = 0;
}

void html_release(struct html *h)
{
    buf_release(&h->b);
    h->err = 0;
}

char *html_take(struct html *h, size_t *len, int *err)
{
    *err = h->err;
    if (h->err) {
        html_release(h);
        *len = 0;
        return NULL;
    }
    return buf_take(&h->b, len);
}

void html_tag(struct html *h, const char *markup)
{
    if (!h->err)
        h->err = buf_puts(&h->b, markup);
}

void html_trusted(struct html *h, const char *safe, size_t len)
{
    if (!h->err && len)
        h->err = buf_append(&h->b, safe, len);
}

void html_textn(struct html *h, const char *s, size_t n)
{
    if (!h->err && s && n)
        h->err = format_escape(s, n, &h->b);
}

void html_text(struct html *h, const char *s)
{
    if (s)
        html_textn(h, s, strlen(s));
}

void html_int(struct html *h, int64_t v)
{
    if (!h->err)
        h->err = buf_printf(&h->b, "%" PRId64, v);
}

void html_attr(struct html *h, const char *name, const char *value)
{
    if (!value)
        return;
    html_tag(h, " ");
    html_tag(h, name);
    html_tag(h, "=\"");
    html_text(h, value);
    html_tag(h, "\"");
}

void html_attr_int(struct html *h, const char *name, int64_t v)
{
    html_tag(h, " ");
    html_tag(h, name);
    html_tag(h, "=\"");
    html_int(h, v);
    html_tag(h, "\"");
}

int html_url_ok(const char *url, int allow_mailto)
{
    if (!url || !*url)
        return 0;
    if (url[0] == '/')
        return url[1] != '/' && url[1] != '\\';
    if (!strncasecmp(url, "https://", 8) || !strncasecmp(url, "http://", 7))
        return 1;
    return allow_mailto && !strncasecmp(url, "mailto:", 7);
}

int html_attr_url(struct html *h, const char *name, const char *url, int allow_mailto)
{
    if (!html_url_ok(url, allow_mailto))
        return 0;
    html_attr(h, name, url);
    return 1;
}
