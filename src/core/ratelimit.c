/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Token buckets in an open-addressed table with a short probe (PROBE slots from the key's
 * home slot). Tokens are kept in "milli-tokens" times the window so refilling is exact integer
 * arithmetic: a bucket gains `capacity` tokens per `window_ms`, i.e. `capacity` milli-units per
 * ms when one token is worth `window_ms` units.
 */
#include "core/ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/secret.h"

/* Slots examined per key: enough to make collisions rare, short enough to be O(1). */
#define PROBE 8

struct bucket {
    uint64_t key;  /* 0: free */
    int64_t units; /* tokens * window_ms */
    int64_t last_ms;
};

struct ratelimit {
    pthread_mutex_t mu;
    struct bucket *b;
    size_t mask;
    int64_t capacity_units; /* capacity * window_ms */
    int64_t window_ms;
    unsigned capacity;
    uint8_t salt[16];
};

struct ratelimit *ratelimit_new(size_t slots, unsigned capacity, int64_t window_ms)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));
    size_t n = 16;

    while (n < slots)
        n <<= 1;
    pthread_mutex_init(&rl->mu, NULL);
    rl->b = xcalloc(n, sizeof(*rl->b));
    rl->mask = n - 1;
    rl->capacity = capacity ? capacity : 1;
    rl->window_ms = window_ms > 0 ? window_ms : 1;
    rl->capacity_units = (int64_t)rl->capacity * rl->window_ms;
    secret_random(rl->salt, sizeof(rl->salt));
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->b);
    free(rl);
}

static uint64_t key_hash(const struct ratelimit *rl, const char *key, size_t len)
{
    uint8_t buf[256 + sizeof(rl->salt)];
    uint8_t h[SECRET_HASH_LEN];
    uint64_t v;
    size_t n = len < 256 ? len : 256;

    /* Keys longer than 256 bytes are cut: callers' keys are short ("ip:", e-mail ≤ 255). */
    memcpy(buf, rl->salt, sizeof(rl->salt));
    memcpy(buf + sizeof(rl->salt), key, n);
    secret_sha256(buf, sizeof(rl->salt) + n, h);
    memcpy(&v, h, sizeof(v));
    return v ? v : 1; /* 0 marks a free slot */
}

static void refill(const struct ratelimit *rl, struct bucket *b, int64_t now_ms)
{
    int64_t dt = now_ms - b->last_ms;

    if (dt > 0) {
        /* Past a whole window the bucket is full; this also keeps the product from overflowing. */
        if (dt >= rl->window_ms) {
            b->units = rl->capacity_units;
        } else {
            b->units += dt * (int64_t)rl->capacity;
        }
        if (b->units > rl->capacity_units)
            b->units = rl->capacity_units;
        b->last_ms = now_ms;
    }
}

/* The bucket for `h`, found or (re)claimed full. Called with the mutex held. */
static struct bucket *lookup(struct ratelimit *rl, uint64_t h, int64_t now_ms, bool create)
{
    struct bucket *victim = NULL;

    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *b = &rl->b[(h + i) & rl->mask];

        if (b->key == h) {
            refill(rl, b, now_ms);
            return b;
        }
        if (!create)
            continue;
        if (!b->key) {
            if (!victim || victim->key)
                victim = b;
            continue;
        }
        refill(rl, b, now_ms);
        if (!victim || (victim->key && b->units > victim->units))
            victim = b;
    }
    if (!victim)
        return NULL;
    victim->key = h;
    victim->units = rl->capacity_units;
    victim->last_ms = now_ms;
    return victim;
}

static int64_t wait_ms(const struct ratelimit *rl, const struct bucket *b)
{
    int64_t missing = rl->window_ms - b->units; /* units to one whole token */

    return missing <= 0 ? 0 : (missing + rl->capacity - 1) / rl->capacity;
}

static int use(struct ratelimit *rl, const char *key, size_t len, int64_t now_ms,
               int64_t *retry_after_ms, bool take)
{
    uint64_t h = key_hash(rl, key, len);
    struct bucket *b;
    int err = 0;

    pthread_mutex_lock(&rl->mu);
    b = lookup(rl, h, now_ms, take);
    if (!b)
        goto out; /* never seen and only checking: full */
    if (b->units < rl->window_ms) {
        if (retry_after_ms)
            *retry_after_ms = wait_ms(rl, b);
        err = -EAGAIN;
        goto out;
    }
    if (take)
        b->units -= rl->window_ms;
out:
    pthread_mutex_unlock(&rl->mu);
    return err;
}

int ratelimit_check(struct ratelimit *rl, const char *key, size_t len, int64_t now_ms,
                    int64_t *retry_after_ms)
{
    return use(rl, key, len, now_ms, retry_after_ms, false);
}

int ratelimit_take(struct ratelimit *rl, const char *key, size_t len, int64_t now_ms,
                   int64_t *retry_after_ms)
{
    return use(rl, key, len, now_ms, retry_after_ms, true);
}

void ratelimit_give(struct ratelimit *rl, const char *key, size_t len, int64_t now_ms)
{
    uint64_t h = key_hash(rl, key, len);
    struct bucket *b;

    pthread_mutex_lock(&rl->mu);
    b = lookup(rl, h, now_ms, false);
    if (b) {
        b->units += rl->window_ms;
        if (b->units > rl->capacity_units)
            b->units = rl->capacity_units;
    }
    pthread_mutex_unlock(&rl->mu);
}

void ratelimit_reset(struct ratelimit *rl, const char *key, size_t len)
{
    uint64_t h = key_hash(rl, key, len);

    pthread_mutex_lock(&rl->mu);
    for (size_t i = 0; i < PROBE; i++) {
        struct bucket *b = &rl->b[(h + i) & rl->mask];

        if (b->key == h) {
            b->key = 0;
            break;
        }
    }
    pthread_mutex_unlock(&rl->mu);
}
