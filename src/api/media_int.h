/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Between api/media.c (which owns the route set) and api/qr.c. api/ only. */
#ifndef API_MEDIA_INT_H
#define API_MEDIA_INT_H

#include "api/api.h"
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

#endif
