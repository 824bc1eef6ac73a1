/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Commit notifications (store/notify.c): anyone who may connect to the database can NOTIFY on
 * araldo's channel, so the listener reads them as outside input. Whatever parses must format
 * back to text that parses to the same items.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ITEMS_MAX 64

struct seen {
    struct store__notify_item it[ITEMS_MAX];
    size_t n;
    bool over;
};

static void keep(void *ctx, const struct store__notify_item *it)
{
    struct seen *s = ctx;

    if (it->tag != 'e' && it->tag != 'a')
        abort();
    if (it->channel_id < 0 || it->n < 0 || (it->tag == 'e' && !it->channel_id))
        abort();
    if (it->tag == 'a' && (!it->kind[0] || strchr(it->kind, ' ')))
        abort();
    if (s->n == ITEMS_MAX) {
        s->over = true;
        return;
    }
    s->it[s->n++] = *it;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen a = { .n = 0 }, b = { .n = 0 };
    char *text, *again;
    size_t len = 0, cap;
    int64_t ms = 0, ms2 = 0;

    if (size > 8192)
        return 0;
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (store__notify_parse(text, &ms, keep, &a) || a.over) {
        free(text);
        return 0;
    }
    cap = 32 + a.n * 80;
    again = malloc(cap);
    if (!again)
        abort();
    len = (size_t)snprintf(again, cap, "t%lld", (long long)ms);
    for (size_t i = 0; i < a.n; i++) {
        int w = store__notify_item_format(&a.it[i], again + len, cap - len);

        if (w < 0)
            abort(); /* every item that parses fits back */
        len += (size_t)w;
    }
    if (store__notify_parse(again, &ms2, keep, &b) || ms2 != ms || b.n != a.n)
        abort();
    for (size_t i = 0; i < a.n; i++) {
        if (a.it[i].tag != b.it[i].tag || a.it[i].channel_id != b.it[i].channel_id ||
            a.it[i].n != b.it[i].n || strcmp(a.it[i].kind, b.it[i].kind) != 0)
            abort();
    }
    free(again);
    free(text);
    return 0;
}
