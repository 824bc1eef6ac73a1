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

/* The live invite `code` and its channel; answers 404/410 and returns false otherwise. */
static bool load(struct http_req *r, struct store_invite *inv, struct store_channel *ch)
{
    int err = store_invite_get(api__reader(r), http_req_param(r, "code"), inv);

    if (!err)
        err = store_channel_get_id(api__reader(r), inv->channel_id, ch);
    if (err == -ENOENT) {
        http_respond_error(r, 404, "invite_not_found",
                           "No invite link has this code: check the address.", "code");
        return false;
    }
    if (err) {
        api__errno(r, err, "invite qr");
        return false;
    }
    if (store_invite_state(inv, clock_now_ms())) {
        http_respond_error(r, 410, "invite_gone",
                           "This invite link was revoked, has expired or was used up: ask the "
                           "channel's admins for a new one.",
                           "code");
        return false;
    }
    return true;
}

/*
 * The link the code stands for: public_url when set (a poster must not print whichever
 * address the admin happened to use), else the Host of this request if it is a plain
 * host[:port].
 */
static void invite_url(struct http_req *r, const char *code, char *out, size_t outlen)
{
    const char *pub = api__app(r)->set.public_url;
    const char *host = http_req_header(r, "Host");
    const char *proto = http_req_header(r, "X-Forwarded-Proto");

    if (pub && *pub) {
        snprintf(out, outlen, "%s/i/%s", pub, code);
        return;
    }
    if (!host || !*host || strlen(host) > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        host = "localhost";
    snprintf(out, outlen, "%s://%s/i/%s", proto && !strcmp(proto, "https") ? "https" : "http", host,
             code);
}

void api__qr_svg(struct http_req *r)
{
    struct store_invite inv;
    struct store_channel ch;
    char url[512];
    char *svg = NULL;
    size_t len = 0;
    int err;

    if (!load(r, &inv, &ch))
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

    if (!load(r, &inv, &ch))
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

static int esc(struct buf *b, const char *s)
{
    return format_escape(s, strlen(s), b);
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

    if (!load(r, &inv, &ch))
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

    if (!load(r, &inv, &ch))
        return;
    api__page_invite(r, &inv, &ch);
}
