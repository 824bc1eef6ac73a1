/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The text of a commit notification (PostgreSQL NOTIFY, store_int.h STORE_NOTIFY_CHANNEL):
 * written by every node's writer (events.c), read by every node's listener (listen.c). Anyone
 * who may connect to the database can NOTIFY on the channel too, so reading is strict and never
 * trusts a length: a malformed payload is reported, its well-formed beginning kept.
 *
 *   payload := 't' ms { ' ' item }
 *   item    := 'e' channel '.' seq            an event, read from the events table
 *            | 'a' channel '.' key '.' kind   a marker (kind: 1..31 bytes, no space)
 *   numbers are decimal, 0 .. 2^63-1 (a key may use all 19 digits); an event's channel is not 0
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

#define DIGITS_MAX 19 /* INT64_MAX has 19 */

int store__notify_item_format(const struct store__notify_item *it, char *out, size_t outlen)
{
    int n;

    if (it->tag == 'e') {
        n = snprintf(out, outlen, " e%lld.%lld", (long long)it->channel_id, (long long)it->n);
    } else {
        n = snprintf(out, outlen, " a%lld.%lld.%s", (long long)it->channel_id, (long long)it->n,
                     it->kind);
    }
    return n < 0 || (size_t)n >= outlen ? -ENOBUFS : n;
}

static bool number(const char **p, int64_t *out)
{
    uint64_t v = 0; /* 19 digits fit in 64 unsigned bits */
    int d = 0;

    while (**p >= '0' && **p <= '9' && d < DIGITS_MAX) {
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
        d++;
    }
    *out = (int64_t)(v & INT64_MAX);
    return d > 0 && v <= INT64_MAX && !(**p >= '0' && **p <= '9');
}

int store__notify_parse(const char *payload, int64_t *sent_ms, store__notify_fn *each, void *ctx)
{
    const char *p = payload;

    if (*p++ != 't' || !number(&p, sent_ms))
        return -EINVAL;
    while (*p == ' ') {
        struct store__notify_item it = { .tag = p[1] };
        size_t k;

        p += 2;
        if ((it.tag != 'e' && it.tag != 'a') || !number(&p, &it.channel_id) || *p++ != '.' ||
            !number(&p, &it.n))
            return -EINVAL;
        if (it.tag == 'e') {
            if (!it.channel_id || (*p && *p != ' '))
                return -EINVAL;
        } else {
            if (*p++ != '.')
                return -EINVAL;
            k = strcspn(p, " ");
            if (!k || k > STORE_EVENT_KIND_MAX)
                return -EINVAL;
            memcpy(it.kind, p, k);
            it.kind[k] = '\0';
            p += k;
        }
        each(ctx, &it);
    }
    return *p ? -EINVAL : 0;
}
