/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A browser's push subscription as PushSubscription.toJSON() gives it:
 * {"endpoint": "https://...", "expirationTime": null | number, "keys": {"p256dh", "auth"}}.
 * Outside input, checked here in one place (and fuzzed: tests/fuzz/fuzz_pushsub.c). Pure.
 */
#ifndef PUSH_SUBSCRIPTION_H
#define PUSH_SUBSCRIPTION_H

#include <jansson.h>

#include "core/compiler.h"
#include "push/ece.h"
#include "push/outbound.h"

struct push_sub {
    const char *endpoint; /* borrowed from the JSON object */
    struct outbound_url url;
    uint8_t p256dh[ECE_PUBKEY_LEN];
    uint8_t auth[ECE_AUTH_LEN];
};

/*
 * Check `body` (a JSON object; unknown members were refused by the caller) and fill `out`.
 * Returns 0, or -EINVAL with the offending field ("endpoint", "expirationTime", "keys",
 * "keys.p256dh", "keys.auth") in `*field` and a sentence for a person in `*why`.
 */
MUST_CHECK int push_sub_parse(json_t *body, size_t endpoint_max, struct push_sub *out,
                              const char **field, const char **why);

#endif
