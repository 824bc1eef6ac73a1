/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Invite links on paper and on screen: the QR code of an invite link (SVG for print, PNG for
 * chat apps), a printable A4 poster, and the page the link itself opens (/i/{code}).
 *
 * An invite code is a capability: whoever holds it may follow the channel, so these answer
 * anyone who has the code while the invite is live (404 for an unknown code, 410 once it is
 * revoked, expired or used up) and are never cached by shared caches. Pages carry no inline
 * script or style (the CSP forbids both): web/poster.css does that part. The landing page of
 * a live invite is the channel's preview (api/pages.c).
 */
#include "api/media_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/channels_int.h"
#include "api/pages_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/format.h"
#include "media/qr.h"
#include "store/channels.h"

#define QR_PNG_SCALE 10 /* pixels per module: a 33-module code is 410 px wide */
#define PAGE_MAX     ((size_t)64 * 1024)

/*
 * Where a listed channel's public page lives (/c/{handle}, served by the citizens' web pages),
 * linked from the page of a dead invite so a person can still read the channel.
 */
#define CHANNEL_PAGE_PREFIX "/c/"

static int esc(struct buf *b, const char *s)
{
    return format_escape(s, strlen(s), b);
}

/* "<p>{before}<a href="/channels/{handle}">{name}</a>{after}</p>" for a listed channel. */
static int channel_link(struct buf *b, const struct store_channel *ch, const char *before,
                        const char *after)
{
    int err;

    if (!ch || !ch->listed)
        return 0;
    err = buf_printf(b, "<p>%s<a href=\"" CHANNEL_PAGE_PREFIX, before);
    err = err ? err : esc(b, ch->handle);
    err = err ? err : buf_puts(b, "\">");
    err = err ? err : esc(b, ch->name);
    return err ? err : buf_printf(b, "</a>%s</p>\n", after);
}

/*
 * The page a person sees at a dead invite link: what happened and what to do next, in Italian
 * then English. `state` is -ENOENT (no such code), -ECANCELED, -ETIME or -EDQUOT; `ch` the
 * channel, or NULL. Only a listed channel is named and linked: the link no longer opens an
 * unlisted one, so the page must not reveal it either. Writes the whole document into `b`
 * (escaped; no script or inline style, so the CSP holds). Self-contained so that the web app's
 * own invite page can reuse it.
 */
int api__invite_gone_html(struct buf *b, int state, const struct store_channel *ch)
{
    static const struct {
        int state;
        const char *code, *it, *en;
    } why[] = {
        { -ENOENT, "invite_not_found",
          "Questo link di invito non esiste: controlla di averlo copiato per intero.",
          "This invite link does not exist: check that it was copied whole." },
        { -ECANCELED, "invite_revoked", "Questo link di invito è stato revocato.",
          "This invite link was revoked." },
        { -ETIME, "invite_expired", "Questo link di invito è scaduto.",
          "This invite link has expired." },
        { -EDQUOT, "invite_used_up",
          "Questo link di invito è già stato usato tutte le volte consentite.",
          "This invite link has been used as many times as allowed." },
    };
    size_t i = 0;
    int err;

    while (i + 1 < ARRAY_SIZE(why) && why[i].state != state)
        i++;
    err = buf_printf(b,
                     "<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<meta name=\"robots\" content=\"noindex\">\n"
                     "<title>Link di invito non valido</title>\n"
                     "<link rel=\"stylesheet\" href=\"/poster.css\">\n</head>\n"
                     "<body class=\"landing\">\n<main data-error=\"%s\">\n"
                     "<h1>Link di invito non valido</h1>\n<p>%s</p>\n"
                     "<p>Chiedi al Comune un nuovo link di invito.</p>\n",
                     why[i].code, why[i].it);
    err = err ? err
              : channel_link(b, ch, "Il canale ", " è pubblico: puoi leggerlo anche senza invito.");
    err = err ? err
              : buf_printf(b,
                           "<section lang=\"en\">\n<h2>Invite link not valid</h2>\n<p>%s</p>\n"
                           "<p>Ask the Comune for a new invite link.</p>\n",
                           why[i].en);
    err =
        err ? err
            : channel_link(b, ch, "The channel ", " is public: you can read it without an invite.");
    return err ? err : buf_puts(b, "</section>\n</main>\n</body>\n</html>\n");
}

/* Answer a dead invite link with api__invite_gone_html(): 404 or 410, never cached. */
static void gone_page(struct http_req *r, int state, const struct store_channel *ch)
{
    struct buf b;
    size_t len;
    char *html;

    buf_init(&b, PAGE_MAX);
    if (api__invite_gone_html(&b, state, ch)) {
        buf_release(&b);
        api__errno(r, -EIO, "invite page");
        return;
    }
    html = buf_take(&b, &len);
    http_resp_header(r, "Cache-Control", "no-store");
    http_respond(r, state == -ENOENT ? 404 : 410, "text/html; charset=utf-8", html, len);
    free(html);
}

/*
 * The live invite `code` and its channel; otherwise answers 404 invite_not_found or 410
 * invite_revoked / invite_expired / invite_used_up and returns false: as JSON for the QR codes
 * (what an app fetches), as a small page for a person (`html`: /i/{code} and its poster).
 */
static bool load(struct http_req *r, struct store_invite *inv, struct store_channel *ch, bool html)
{
    int err = store_invite_get(api__reader(r), http_req_param(r, "code"), inv);
    int state;

    if (!err)
        err = store_channel_get_id(api__reader(r), inv->channel_id, ch);
    if (err == -ENOENT) {
        if (html) {
            gone_page(r, -ENOENT, NULL);
        } else {
            http_respond_error(r, 404, "invite_not_found",
                               "No invite link has this code: check the address.", "code");
        }
        return false;
    }
    if (err) {
        api__errno(r, err, "invite qr");
        return false;
    }
    state = store_invite_state(inv, clock_now_ms());
    if (state && html) {
        gone_page(r, state, ch);
    } else if (state) {
        api__invite_gone(r, state, "code");
    }
    return !state;
}

/*
 * The link the code stands for: api__base_url (a poster must not print whichever address the
 * admin happened to use, nor a Host a client forged).
 */
static void invite_url(struct http_req *r, const char *code, char *out, size_t outlen)
{
    char base[256];

    api__base_url(r, base, sizeof(base));
    snprintf(out, outlen, "%s/i/%s", base, code);
}

void api__qr_svg(struct http_req *r)
{
    struct store_invite inv;
    struct store_channel ch;
    char url[512];
    char *svg = NULL;
    size_t len = 0;
    int err;

    if (!load(r, &inv, &ch, false))
        return;
    invite_url(r, inv.code, url, sizeof(url));
    err = media_qr_svg(url, &svg, &len);
    if (err) {
        api__errno(r, err == -EINVAL ? -EIO : err, "invite qr");
        return;
    }
    http_resp_header(r, "Cache-Control", "private, no-cache");
    http_respond(r, 200, "image/svg+xml", svg, len);
    free(svg);
}

void api__qr_png(struct http_req *r)
{
    struct store_invite inv;
    struct store_channel ch;
    char url[512];
    void *png = NULL;
    size_t len = 0;
    int err;

    if (!load(r, &inv, &ch, false))
        return;
    invite_url(r, inv.code, url, sizeof(url));
    /* A few hundred pixels: libvips encodes it in well under a millisecond, on the loop. */
    err = media_qr_png(url, QR_PNG_SCALE, &png, &len);
    if (err) {
        api__errno(r, err == -EINVAL ? -EIO : err, "invite qr");
        return;
    }
    http_resp_header(r, "Cache-Control", "private, no-cache");
    http_respond(r, 200, "image/png", png, len);
    free(png);
}

static void page(struct http_req *r, struct buf *b, int err)
{
    size_t len;
    char *html;

    if (err) {
        buf_release(b);
        api__errno(r, err == -EMSGSIZE ? -EIO : err, "invite page");
        return;
    }
    html = buf_take(b, &len);
    http_resp_header(r, "Cache-Control", "private, no-cache");
    http_resp_header(r, "Referrer-Policy", "no-referrer"); /* the code is in the address */
    http_respond(r, 200, "text/html; charset=utf-8", html, len);
    free(html);
}

/* The head of both pages, up to and including <body>. */
static int head(struct buf *b, const struct store_channel *ch, const char *what)
{
    int err =
        buf_puts(b, "<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<meta name=\"robots\" content=\"noindex\">\n<title>");

    err = err ? err : esc(b, ch->name);
    err = err ? err
              : buf_printf(b, " — %s</title>\n<link rel=\"stylesheet\" href=\"/poster.css\">\n",
                           what);
    return err;
}

void api__invite_poster(struct http_req *r)
{
    struct store_invite inv;
    struct store_channel ch;
    char url[512];
    struct buf b;
    int err;

    if (!load(r, &inv, &ch, true))
        return;
    invite_url(r, inv.code, url, sizeof(url));
    buf_init(&b, PAGE_MAX);
    err = head(&b, &ch, "manifesto");
    err = err ? err : buf_puts(&b, "</head>\n<body class=\"poster\">\n<main>\n");
    if (!err && ch.icon[0]) {
        err = buf_puts(&b, "<img class=\"icon\" alt=\"\" src=\"/media/");
        err = err ? err : esc(&b, ch.icon);
        err = err ? err : buf_puts(&b, "/small\">\n");
    }
    err = err ? err : buf_puts(&b, "<p class=\"org\">");
    err = err ? err : esc(&b, ch.org_name);
    err = err ? err : buf_puts(&b, "</p>\n<h1>");
    err = err ? err : esc(&b, ch.name);
    err = err ? err
              : buf_puts(&b, "</h1>\n<p class=\"call\">Segui il canale del Comune</p>\n"
                             "<img class=\"qr\" alt=\"Codice QR del link di invito\" "
                             "src=\"/api/v1/invites/");
    err = err ? err : esc(&b, inv.code);
    err = err ? err
              : buf_puts(&b, "/qr.svg\">\n<p class=\"how\">Inquadra il codice con la "
                             "fotocamera del telefono, oppure apri:</p>\n<p class=\"url\">");
    err = err ? err : esc(&b, url);
    err = err ? err
              : buf_puts(&b, "</p>\n<p class=\"privacy\">Non servono numero di telefono, "
                             "e-mail o registrazione: nessuno vede chi segue il canale."
                             "</p>\n</main>\n</body>\n</html>\n");
    page(r, &b, err);
}

/* The landing page of a live invite: the channel's preview plus "Segui" (api/pages.c). */
void api__invite_landing(struct http_req *r)
{
    struct store_invite inv;
    struct store_channel ch;

    if (!load(r, &inv, &ch, true))
        return;
    api__page_invite(r, &inv, &ch);
}
