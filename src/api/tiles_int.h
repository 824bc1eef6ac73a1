/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The map inside api/ (api/tiles.c): what the org answer and /metrics say of it. */
#ifndef API_TILES_INT_H
#define API_TILES_INT_H

#include <jansson.h>

#include "api/api_int.h"
#include "core/buf.h"
#include "core/compiler.h"

/*
 * The map as the web app needs it: {"tile_url": "/tiles/{z}/{x}/{y}.png", "max_zoom",
 * "attribution"}, or JSON null when the server shows no map (map_tile_url empty). New reference.
 */
json_t *api__map_json(struct api_app *app);
/* The tile proxy's counters in Prometheus text; nothing when there is no map. */
MUST_CHECK int api__tiles_metrics(struct api_app *app, struct buf *out);

#endif
