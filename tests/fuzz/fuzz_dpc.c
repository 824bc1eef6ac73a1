/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A DPC bulletin page and day file come from the network (a source's url and data_url): the
 * readers must never crash, leak or read past the input, and a level they return is always a
 * rank 1…4 (0, unknown, is an error, never a level).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cap/dpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dpc_zone z[DPC_MAX_ZONES];
    char id[DPC_ID_LEN + 1], why[300], fold[64];
    char *s = malloc(size + 1);
    size_t n = 0;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (!dpc_find_id((const char *)data, size, id) && strlen(id) != DPC_ID_LEN)
        abort();
    dpc_name_fold(s, fold, sizeof(fold));
    if (dpc_level_parse(s) < 0 || dpc_level_parse(s) > 4)
        abort();
    if (!dpc_day_parse((const char *)data, size, "Certaldo", "Arno-Firenze", z, DPC_MAX_ZONES, &n,
                       why, sizeof(why))) {
        if (n < 1 || n > DPC_MAX_ZONES)
            abort();
        for (size_t i = 0; i < n; i++) {
            for (size_t r = 0; r < DPC_N_RISKS; r++) {
                if (z[i].level[r] < 1 || z[i].level[r] > 4)
                    abort();
            }
        }
    }
    free(s);
    return 0;
}
