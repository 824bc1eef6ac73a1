/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Lock-free counters and latency histograms, safe to update from any thread, written out in
 * Prometheus text format. Each module owns its own and exposes them through a *_stats call.
 */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"

/* Bucket upper bounds in microseconds, shared by every latency histogram. */
#define METRICS_BUCKETS 12
extern const uint64_t metrics_bucket_us[METRICS_BUCKETS];

struct histogram {
    /* members are private */
    _Atomic uint64_t bucket[METRICS_BUCKETS + 1]; /* last one is +Inf */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t count;
};

void histogram_observe(struct histogram *h, uint64_t us);
/*
 * Append `name` in Prometheus format (seconds), with `help`. Returns 0 or -EMSGSIZE from the
 * buffer.
 */
MUST_CHECK int histogram_write(const struct histogram *h, const char *name, const char *help,
                               struct buf *out);

#endif
