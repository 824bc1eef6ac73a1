/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The national Department of Civil Protection's daily bulletin (Bollettino di criticità
 * nazionale/allerta, CC-BY-4.0): the newest bulletin's id in a page, the day files' URL, and the
 * levels of the zones that list a Comune in a day's GeoJSON. Also the Comune-name folding used
 * to compare names (accents, case, apostrophes). Depends on core/ only; jansson parses.
 * docs/ALERTS.md, "Official sources", says what is read and why.
 */
#ifndef CAP_DPC_H
#define CAP_DPC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compiler.h"

#define DPC_MAX_BYTES ((size_t)32 * 1024 * 1024) /* a day's GeoJSON is about 5.5 MB */
#define DPC_N_RISKS   3
#define DPC_MAX_ZONES 4  /* zones one Comune can be listed in */
#define DPC_ID_LEN    13 /* "YYYYMMDD_HHMM" */

/* The risks a DPC bulletin carries, as araldo's risk codes: idrogeologico, idraulico, temporali. */
extern const char *const dpc_risk_code[DPC_N_RISKS];

/* araldo's level names by rank: [1] "verde" … [4] "rosso"; [0] is NULL (not issued). */
extern const char *const dpc_level_name[5];

struct dpc_zone {
    char name[128];         /* "Nome zona" */
    int level[DPC_N_RISKS]; /* rank 1 (verde) … 4 (rosso), in dpc_risk_code order */
};

/*
 * The rank (1 verde … 4 rosso) of a DPC legend text: the part after the last '/' (the whole
 * text when there is none), trimmed and without a trailing ':' or '.', compared without case to
 * NESSUNA ALLERTA, ALLERTA GIALLA, ALLERTA ARANCIONE, ALLERTA ROSSA. 0 for anything else: an
 * unknown text is never read as verde.
 */
int dpc_level_parse(const char *text);

/*
 * The first "YYYYMMDD_HHMM" in `len` bytes of a page (digits not glued to other digits, a real
 * month, day, hour and minute) into `id` (DPC_ID_LEN + 1 bytes). 0, or -ENOENT.
 */
MUST_CHECK int dpc_find_id(const char *p, size_t len, char *id);

/* The civil date and time an id names (local time, Europe/Rome). 0, or -EINVAL. */
MUST_CHECK int dpc_id_parse(const char *id, int *year, int *month, int *day, int *hour,
                            int *minute);

/*
 * `tmpl` with each "{id}" replaced by `id` and each "{day}" by `day` ("today", "tomorrow"), into
 * `out`. 0, or -ENAMETOOLONG when it does not fit.
 */
MUST_CHECK int dpc_url_fill(const char *tmpl, const char *id, const char *day, char *out,
                            size_t outlen);

/*
 * Read a day's GeoJSON (`len` bytes) and put in `out` the zones (at most `max`) whose "Comuni"
 * list names `comune`, or whose "Nome zona" is `zone` (either may be NULL; names compared with
 * dpc_name_fold). Returns 0 with `*n` ≥ 1; -ENOENT when no zone matches; -EMSGSIZE past
 * DPC_MAX_BYTES; -EINVAL when it is not a FeatureCollection; -EPROTO when a matching zone's risk
 * text is missing or unknown. Every error but -EMSGSIZE writes one sentence in `why`.
 * Any thread.
 */
MUST_CHECK int dpc_day_parse(const char *p, size_t len, const char *comune, const char *zone,
                             struct dpc_zone *out, size_t max, size_t *n, char *why, size_t whylen);

/*
 * A place name folded for comparison into `out`: lower case, accents dropped (Latin-1 letters),
 * apostrophes (' ’ ‘ ` ´), hyphens, dots and white space as one space, trimmed. So
 * "Sant’Omero", "SANT'OMERO" and "sant omero" fold alike. Cut to fit `outlen`.
 */
void dpc_name_fold(const char *in, char *out, size_t outlen);

/* Whether two names fold alike. */
bool dpc_name_eq(const char *a, const char *b);

#endif
