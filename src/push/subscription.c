/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Parsing a browser's PushSubscription JSON (subscription.h). */
#include "push/subscription.h"

#include <errno.h>
#include <string.h>

static int bad(const char **field, const char **why, const char *f, const char *w)
{
    *field = f;
    *why = w;
    return -EINVAL;
}

int push_sub_parse(json_t *body, size_t endpoint_max, struct push_sub *out, const char **field,
                   const char **why)
{
    json_t *ep = json_object_get(body, "endpoint");
    json_t *exp = json_object_get(body, "expirationTime");
    json_t *keys = json_object_get(body, "keys");
    const char *kf = NULL;
    const char *k;
    json_t *v;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(body))
        return bad(field, why, "", "The subscription must be a JSON object.");
    if (!json_is_string(ep) || json_string_length(ep) > endpoint_max ||
        strlen(json_string_value(ep)) != json_string_length(ep) ||
        outbound_url_parse(json_string_value(ep), &out->url) != 0)
        return bad(field, why, "endpoint", "'endpoint' must be an https URL (the push service's).");
    out->endpoint = json_string_value(ep);
    if (exp && !json_is_null(exp) && !json_is_number(exp))
        return bad(field, why, "expirationTime", "'expirationTime' must be null or a number.");
    if (!json_is_object(keys))
        return bad(field, why, "keys", "'keys' must be an object {p256dh, auth}.");
    json_object_foreach(keys, k, v)
    {
        if ((strcmp(k, "p256dh") != 0 && strcmp(k, "auth") != 0) || !json_is_string(v))
            return bad(field, why, "keys", "'keys' holds only p256dh and auth, as strings.");
    }
    if (ece_keys_parse(json_string_value(json_object_get(keys, "p256dh")),
                       json_string_value(json_object_get(keys, "auth")), out->p256dh, out->auth,
                       &kf) != 0) {
        if (kf && !strcmp(kf, "auth"))
            return bad(field, why, "keys.auth", "'keys.auth' must be 16 bytes in base64url.");
        return bad(field, why, "keys.p256dh",
                   "'keys.p256dh' must be a P-256 public key (65 bytes, uncompressed) in "
                   "base64url.");
    }
    return 0;
}
