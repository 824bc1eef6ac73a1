/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The frame every server-rendered page shares with the app (docs/WEB.md): <head> with the
 * stylesheet, the social-card tags and the module script; the header with the Comune's name
 * and logo; the footer with the "Modello Comuni" links (data-element="accessibility-link",
 * "privacy-policy-link") and the accessibility feedback address; the language switch.
 */
#ifndef WEB_PAGE_H
#define WEB_PAGE_H

#include <stdbool.h>

#include "web/html.h"
#include "web/i18n.h"

/* Everything optional may be NULL or "". Strings are borrowed for the call. */
struct web_page {
    enum web_lang lang;
    const char *title;       /* <title> and og:title */
    const char *description; /* meta description and og:description */
    const char *canonical;   /* absolute URL: <link rel=canonical>, og:url */
    const char *image;       /* absolute URL of the card's image (og:image) */
    const char *og_type;     /* "website" (default) or "profile" ... */
    const char *feed_url;    /* an Atom feed to advertise */
    const char *script;      /* a module script to load ("/app/page.js") */
    const char *path;        /* this page's path and query without lang, for the switch */
    bool noindex;            /* robots: noindex (invite pages, errors) */
    /* the Comune: header and footer */
    const char *org_name;
    const char *org_logo;   /* URL of the logo image */
    const char *org_href;   /* where the name links (the app's home by default) */
    const char *a11y_url;   /* accessibility statement (dichiarazione di accessibilità) */
    const char *a11y_email; /* feedback on accessibility */
    const char *privacy_url;
    const char *report_stats_url; /* the org's public report statistics (footer link) */
};

/* Append everything up to and including <main id="main">. */
void web_page_open(struct html *h, const struct web_page *p);
/* Close <main>, append the footer and end the document. */
void web_page_close(struct html *h, const struct web_page *p);

#endif
