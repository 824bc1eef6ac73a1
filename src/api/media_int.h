/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Between api/media.c (which owns the route set) and api/qr.c. api/ only. */
#ifndef API_MEDIA_INT_H
#define API_MEDIA_INT_H

#include "api/api.h"
#include "core/buf.h"
#include "http/http.h"
#include "store/store.h"

/*
 * Delete the media files no row lists any more (the jobs thread, after the retention sweep,
 * with its own reader). Weak in api/jobs.c.
 */
void api__media_sweep(struct api_app *a, struct store_reader *reader);

/* GET /api/v1/invites/{code}/qr.svg, .../qr.png, /i/{code}/poster and /i/{code} (api/qr.c). */
void api__qr_svg(struct http_req *r);
void api__qr_png(struct http_req *r);
void api__invite_poster(struct http_req *r);
void api__invite_landing(struct http_req *r);
/*
 * The whole HTML page (Italian, then English) for a dead invite link, appended to `b`: `state`
 * is -ENOENT (unknown code), -ECANCELED (revoked), -ETIME (expired) or -EDQUOT (used up); `ch`
 * the invite's channel or NULL (named and linked only when listed). 0 or -EMSGSIZE (`b` full).
 */
struct store_channel;
MUST_CHECK int api__invite_gone_html(struct buf *b, int state, const struct store_channel *ch);

/*
 * Process a citizen's photo (api/open311_post.c) exactly as an upload: sniffed (images only),
 * capped by media_image_max_bytes, decoded and re-encoded without metadata on the media pool,
 * recorded for org `org_id` with no user. `data` is copied. Returns 0, then `done(r, err,
 * public_id, ctx)` runs on the request's loop (err -E2BIG or -EBADMSG for an image too large
 * or unreadable); or at once -EPROTONOSUPPORT (not an image), -EMSGSIZE (too large) or
 * -ENOSPC (no media pool or a full queue), and `done` is never called. Loop thread.
 */
typedef void api_media_done_fn(struct http_req *r, int err, const char *public_id, void *ctx);
MUST_CHECK int api__media_image_submit(struct http_req *r, const char *data, size_t len,
                                       int64_t org_id, api_media_done_fn *done, void *ctx);

#endif
