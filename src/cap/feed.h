/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * An Atom or RSS 2.0 index of CAP documents (the regional feeds, Meteoalarm, another araldo's
 * alerts.atom): the URL of each entry's CAP document. Read with src/cap/'s hardened libxml2
 * setup (xml_int.h). Depends on core/ only.
 */
#ifndef CAP_FEED_H
#define CAP_FEED_H

#include <stddef.h>

#include "core/compiler.h"

#define CAP_FEED_MAX_BYTES    ((size_t)2 * 1024 * 1024)
#define CAP_FEED_MAX_DEPTH    8
#define CAP_FEED_MAX_ELEMENTS 20000
#define CAP_FEED_MAX_ENTRIES                                            \
    64 /* entries read, in document order (feeds list the newest first) \
        */
#define CAP_FEED_URL_MAX 1024

struct cap_feed_entry {
    char url[CAP_FEED_URL_MAX]; /* the entry's CAP document, as written (may be relative) */
};

/*
 * The CAP links of a feed into `out` (at most `max`), in document order. For an Atom <entry>:
 * the <link> with type application/cap+xml, else the one with rel="alternate" (or no rel); for
 * an RSS <item>: an <enclosure> or <link> naming application/cap+xml, else <link>. Entries
 * without one, or with a longer one, are skipped. Returns 0; -EMSGSIZE past CAP_FEED_MAX_BYTES;
 * -EINVAL (with `why`) when it is not an Atom <feed> or an RSS <rss>/<channel>. Any thread.
 */
MUST_CHECK int cap_feed_parse(const char *p, size_t len, struct cap_feed_entry *out, size_t max,
                              size_t *n, char *why, size_t whylen);

#endif
