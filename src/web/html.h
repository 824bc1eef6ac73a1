/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A tiny HTML writer for the server-rendered pages (/c/{handle}, /i/{code}, /privacy).
 *
 * Everything is escaped by construction: html_text() and html_attr() escape whatever they are
 * given, and the only ways to put markup in are html_tag() (a literal from our own code, by
 * convention a string constant) and html_trusted() (HTML a renderer made safe: format_html's
 * output). URLs go through html_attr_url(), which refuses any scheme but http(s) and
 * same-origin paths. The first error sticks: later calls do nothing and html_take() reports
 * it, so a page is built without an `if (err)` after every line.
 */
#ifndef WEB_HTML_H
#define WEB_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/compiler.h"

struct html {
    /* members are private */
    struct buf b;
    int err; /* the first error (-EMSGSIZE past the limit), 0 while none */
};

/* An empty page of at most `limit` bytes. Cannot fail. */
void html_init(struct html *h, size_t limit);
/* Free the contents. */
void html_release(struct html *h);
/*
 * Hand out the page (caller frees) and its length, or return NULL with *err set when any
 * append failed; the writer is empty afterwards either way.
 */
MUST_CHECK char *html_take(struct html *h, size_t *len, int *err);

/* Literal markup written by our code (a string constant): appended as is. */
void html_tag(struct html *h, const char *markup);
/* HTML that a renderer made safe (core/format's format_html): appended as is. */
void html_trusted(struct html *h, const char *safe, size_t len);
/* Text, escaped (& < > " ' become entities; invalid UTF-8 is repaired). NULL writes nothing. */
void html_text(struct html *h, const char *s);
void html_textn(struct html *h, const char *s, size_t n);
/* A decimal integer. */
void html_int(struct html *h, int64_t v);
/* ` name="value"` with the value escaped. NULL value: nothing at all. */
void html_attr(struct html *h, const char *name, const char *value);
void html_attr_int(struct html *h, const char *name, int64_t v);
/*
 * ` name="url"` when `url` is a same-origin path ("/..." but not "//...") or an http(s) or
 * mailto URL (`mailto` only when allow_mailto); otherwise nothing, so a hostile "javascript:"
 * never reaches a page. Returns whether it wrote the attribute.
 */
int html_attr_url(struct html *h, const char *name, const char *url, int allow_mailto);
/* Whether html_attr_url would accept `url` (the rule above). Pure. */
int html_url_ok(const char *url, int allow_mailto);

#endif
