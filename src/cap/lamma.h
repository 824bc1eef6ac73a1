/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * LaMMA's per-Comune XML (Tuscany): for each <previsione idday="1|2" ora="giorno"> the
 * <allerta value=…> and the six <rischio descr=… value=…> (idraulico, idrogeologico, temporali,
 * vento, neve, ghiaccio). Read with src/cap/'s hardened libxml2 setup (xml_int.h). Depends on
 * core/ only. docs/ALERTS.md, "Official sources".
 */
#ifndef CAP_LAMMA_H
#define CAP_LAMMA_H

#include <stddef.h>

#include "core/compiler.h"

#define LAMMA_MAX_BYTES    ((size_t)1024 * 1024) /* a Comune's file is about 30 KB */
#define LAMMA_MAX_DEPTH    8
#define LAMMA_MAX_ELEMENTS 20000
#define LAMMA_N_RISKS      6
#define LAMMA_MAX_DAYS     2

/* araldo's risk codes in the order of lamma_day.level. */
extern const char *const lamma_risk_code[LAMMA_N_RISKS];

struct lamma_day {
    int idday;   /* 1 today, 2 tomorrow */
    int allerta; /* rank of <allerta>: 0 not issued (NA or absent), 1 verde … 4 rosso */
    int level[LAMMA_N_RISKS]; /* the same per risk: 0 is "not issued", never verde */
};

struct lamma_bulletin {
    char comune[128]; /* <comune>, "" when absent */
    char updated[64]; /* <aggiornamento> as written, "" when absent */
    struct lamma_day day[LAMMA_MAX_DAYS];
    size_t n_day;
};

/*
 * The rank of a LaMMA value: nessuno/nessuna/verde 1, giallo/gialla 2, arancio/arancione 3,
 * rosso/rossa 4 (without case); 0 for NA (not issued yet); -1 for anything else.
 */
int lamma_level_parse(const char *value);

/*
 * Read a LaMMA file. White space before the XML declaration is skipped (the real files have
 * it); nothing else is forgiven. Returns 0; -EMSGSIZE past LAMMA_MAX_BYTES; -EINVAL when it is
 * not XML or has no <previsione ora="giorno"> for day 1 or 2; -EPROTO for a value
 * lamma_level_parse does not know. Errors but -EMSGSIZE write one sentence in `why`. Any thread.
 */
MUST_CHECK int lamma_parse(const char *p, size_t len, struct lamma_bulletin *out, char *why,
                           size_t whylen);

#endif
