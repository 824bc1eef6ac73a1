/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * LaMMA per-Comune files and Atom/RSS indexes of CAP documents come from the network: their
 * readers (hardened libxml2, src/cap/xml.c) must never crash, leak or load anything, and what
 * they return stays in range. The first byte picks the reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cap/feed.h"
#include "cap/lamma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lamma(const char *p, size_t len)
{
    struct lamma_bulletin b;
    char why[300];

    if (lamma_parse(p, len, &b, why, sizeof(why)))
        return;
    if (b.n_day < 1 || b.n_day > LAMMA_MAX_DAYS)
        abort();
    for (size_t d = 0; d < b.n_day; d++) {
        if (b.day[d].idday < 1 || b.day[d].idday > 2 || b.day[d].allerta < 0 ||
            b.day[d].allerta > 4)
            abort();
        for (size_t r = 0; r < LAMMA_N_RISKS; r++) {
            if (b.day[d].level[r] < 0 || b.day[d].level[r] > 4)
                abort();
        }
    }
}

static void feed(const char *p, size_t len)
{
    static struct cap_feed_entry e[CAP_FEED_MAX_ENTRIES];
    char why[300];
    size_t n = 0;

    if (cap_feed_parse(p, len, e, CAP_FEED_MAX_ENTRIES, &n, why, sizeof(why)))
        return;
    for (size_t i = 0; i < n; i++) {
        if (!e[i].url[0] || strlen(e[i].url) >= CAP_FEED_URL_MAX)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    if (data[0] == 'F')
        feed((const char *)data + 1, size - 1);
    else
        lamma((const char *)data, size);
    return 0;
}
