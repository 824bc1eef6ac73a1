/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A browser's push subscription JSON (push/subscription.c): any bytes are parsed without a
 * crash or a leak, and what is accepted is an https URL whose origin parses again to itself,
 * with a key that lies on P-256 and a 16-byte auth secret.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "push/subscription.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    struct push_sub sub;
    struct outbound_url again;
    const char *field = NULL;
    const char *why = NULL;

    if (v && push_sub_parse(v, 2048, &sub, &field, &why) == 0) {
        if (strncmp(sub.endpoint, "https://", 8) != 0 || sub.p256dh[0] != 0x04)
            abort();
        if (outbound_url_parse(sub.url.origin, &again) != 0 ||
            strcmp(again.origin, sub.url.origin) != 0 || again.port != sub.url.port)
            abort();
    } else if (v && (!field || !why)) {
        abort();
    }
    json_decref(v);
    return 0;
}
