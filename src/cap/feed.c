/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The feed reader takes only links: whatever a feed says about an alert is read again from
 * the CAP document itself, which is what is validated, mapped and stored (docs/ALERTS.md).
 */
#include "cap/feed.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "cap/xml_int.h"

static bool is_cap_type(const char *t)
{
    return t && (!strcmp(t, "application/cap+xml") || !strcmp(t, "application/common-alerting"));
}

/* Copy a trimmed URL into `out`; false when it is empty or too long. */
static bool put_url(const char *s, char *out)
{
    size_t len;

    while (*s && strchr(" \t\r\n", *s))
        s++;
    len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    if (!len || len >= CAP_FEED_URL_MAX)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/* An Atom <entry>: 1 when a link was put in `out`. */
static int atom_entry(const xmlNode *e, struct cap_feed_entry *out)
{
    bool found = false, cap = false;

    for (const xmlNode *c = e->children; c && !cap; c = c->next) {
        char *href, *type, *rel;
        bool alt;

        if (!cap__xml_is(c, "link"))
            continue;
        href = cap__xml_attr(c, "href");
        type = cap__xml_attr(c, "type");
        rel = cap__xml_attr(c, "rel");
        alt = !rel || !strcmp(rel, "alternate");
        if (href && is_cap_type(type) && put_url(href, out->url)) {
            found = cap = true;
        } else if (href && alt && !found) {
            found = put_url(href, out->url);
        }
        xmlFree(href);
        xmlFree(type);
        xmlFree(rel);
    }
    return found;
}

/* An RSS <item>: 1 when a link was put in `out`. */
static int rss_item(const xmlNode *e, struct cap_feed_entry *out)
{
    bool found = false;

    for (const xmlNode *c = e->children; c; c = c->next) {
        if (cap__xml_is(c, "enclosure")) {
            char *url = cap__xml_attr(c, "url");
            char *type = cap__xml_attr(c, "type");
            bool ok = url && is_cap_type(type) && put_url(url, out->url);

            xmlFree(url);
            xmlFree(type);
            if (ok)
                return 1;
        } else if (cap__xml_is(c, "link") && !found) {
            xmlChar *t = xmlNodeGetContent(c);

            found = t && put_url((const char *)t, out->url);
            xmlFree(t);
        }
    }
    return found;
}

int cap_feed_parse(const char *p, size_t len, struct cap_feed_entry *out, size_t max, size_t *n,
                   char *why, size_t whylen)
{
    xmlDocPtr doc = NULL;
    const xmlNode *root, *list;
    bool atom;
    int err;

    *n = 0;
    err = cap__xml_read(p, len, CAP_FEED_MAX_BYTES, CAP_FEED_MAX_DEPTH, CAP_FEED_MAX_ELEMENTS, &doc,
                        why, whylen);
    if (err)
        return err;
    root = xmlDocGetRootElement(doc);
    atom = root && cap__xml_is(root, "feed");
    list = atom ? root : NULL;
    if (root && cap__xml_is(root, "rss")) {
        for (const xmlNode *c = root->children; c && !list; c = c->next)
            list = cap__xml_is(c, "channel") ? c : NULL;
    }
    if (!list) {
        snprintf(why, whylen, "Not an Atom <feed> or an RSS <rss><channel>.");
        err = -EINVAL;
        goto out;
    }
    for (const xmlNode *c = list->children; c && *n < max; c = c->next) {
        if (atom && cap__xml_is(c, "entry")) {
            *n += (size_t)atom_entry(c, &out[*n]);
        } else if (!atom && cap__xml_is(c, "item")) {
            *n += (size_t)rss_item(c, &out[*n]);
        }
    }
out:
    xmlFreeDoc(doc);
    return err;
}
