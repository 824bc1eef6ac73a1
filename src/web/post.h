/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * One post as HTML, in the markup shared with the JavaScript app (docs/WEB.md, "The markup
 * contract"): the server renders posts this way into /c/{handle} and /i/{code}, and the app
 * inserts live posts with exactly the same elements and classes, so one stylesheet and one
 * enhancement script serve both.
 *
 * The input is the post object of the public API (store_post_json): what is shown without
 * JavaScript is exactly what the API gives anyone, never more.
 */
#ifndef WEB_POST_H
#define WEB_POST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "web/html.h"
#include "web/i18n.h"

struct web_post_opts {
    enum web_lang lang;     /* the page's language (labels) */
    const char *text_lang;  /* the channel's language (the post's lang attribute) */
    int64_t published_ms;   /* the post's publication, for "2 ore fa" */
    int64_t now_ms;         /* the time the page is made */
    bool reactions_enabled; /* the channel's policy is not "none" */
};

/*
 * Append `post` (an API post object, borrowed) as an <article class="post">. Strings from the
 * post are escaped; its "html" member is trusted (format_html made it). Missing members are
 * left out, never guessed from elsewhere.
 */
void web_post(struct html *h, const json_t *post, const struct web_post_opts *o);

/* "adesso", "5 minuti fa", "ieri", ... for `age_ms` (escaped text). */
void web_relative_time(struct html *h, enum web_lang l, int64_t age_ms);
/* "830 B", "12 kB", "1,2 MB" (the language's decimal mark) into out. */
void web_size(enum web_lang l, int64_t bytes, char *out, size_t outlen);

#endif
