/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "core/metrics.h"

const uint64_t metrics_bucket_us[METRICS_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

void histogram_observe(struct histogram *h, uint64_t us)
{
    int i = 0;

    while (i < METRICS_BUCKETS && us > metrics_bucket_us[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

int histogram_write(const struct histogram *h, const char *name, const char *help, struct buf *out)
{
    uint64_t cum = 0;
    int err;

    err = buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (int i = 0; !err && i < METRICS_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        err = buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
                         (double)metrics_bucket_us[i] / 1e6, (unsigned long long)cum);
    }
    if (err)
        return err;
    cum += atomic_load_explicit(&h->bucket[METRICS_BUCKETS], memory_order_relaxed);
    return buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                      (unsigned long long)cum, name,
                      atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6, name,
                      (unsigned long long)atomic_load_explicit(&h->count, memory_order_relaxed));
}
