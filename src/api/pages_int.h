/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The server-rendered pages for citizens (api/pages.c, api/privacy.c): route handlers that read
 * the store and hand plain values to web/ (the HTML writer, strings and page frame). api/ only;
 * loop thread only.
 */
#ifndef API_PAGES_INT_H
#define API_PAGES_INT_H

#include <stddef.h>

#include "api/api_int.h"
#include "core/compiler.h"
#include "store/channels.h"
#include "store/orgs.h"
#include "web/html.h"
#include "web/page.h"

#define PAGE_BYTES_MAX ((size_t)2 << 20) /* a page; past it the request fails with 500 */

/* The page's language: ?lang=, else Accept-Language, else Italian. */
enum web_lang api__page_lang(struct http_req *r);
/*
 * Fill the frame `p` for org `org` (NULL: none): name, logo, footer links, in `lang`. The
 * strings point into `org` and into `scratch` (two URLs, kept by the caller while `p` is used).
 */
struct api_page_scratch {
    char logo[200];
    char privacy[120];
    char report_stats[120];
};
void api__page_frame(struct web_page *p, enum web_lang lang, const struct store_org *org,
                     struct api_page_scratch *scratch);
/*
 * Send the page `h` (taken) with `status` and the headers common to pages (Vary:
 * Accept-Language; Content-Language). On a write error answers 500.
 */
void api__page_send(struct http_req *r, int status, struct html *h, enum web_lang lang);
/* How many orgs the server has into *n, the first (by slug) into `first` when any. */
MUST_CHECK int api__page_orgs(struct http_req *r, struct store_org *first, unsigned *n);
/* The HTML "not found" page (404), in the request's language. */
void api__page_not_found(struct http_req *r);

/*
 * The invite landing page for live invite `inv` of channel `ch` (api/qr.c checks the invite
 * and sends the "gone" page itself): the channel's preview plus "Segui" with the code.
 */
void api__page_invite(struct http_req *r, const struct store_invite *inv,
                      const struct store_channel *ch);

/*
 * /allerta/{slug} (api/pages_alerts.c): the civil-protection alert page of the org; the HTML
 * 404 page for an unknown org. Listed in api/pages.c's route set.
 */
void api__page_alerts(struct http_req *r);

/*
 * /segnalazioni/statistiche/{slug} (api/pages_reports.c): the org's public report statistics
 * per service; the HTML 404 page for an unknown org. Listed in api/pages.c's route set.
 */
void api__page_report_stats(struct http_req *r);

/* The /privacy page (api/privacy.c), listed in api/pages.c's route set. */
void api__page_privacy(struct http_req *r);

#endif
