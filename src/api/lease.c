/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Leases on background work (store/cluster.h): several nodes on one PostgreSQL database all
 * run the same threads, and each piece of work that must happen once per cluster (publishing
 * a scheduled post, the retention sweep, coalescing counts, polling an alert source) runs on
 * the node that holds its lease. The holder renews it every third of cluster_lease_s; when it
 * dies (kill -9, a lost machine) the lease expires and the next node to ask takes it. With
 * SQLite there is one node, which always gets it.
 *
 * Why leases and not PostgreSQL advisory locks: an advisory lock belongs to a session, and
 * the store's connections are the writer's and the readers', which must not be pinned by a
 * job; a row with an expiry works on both engines, survives a reconnect, and is visible
 * (SELECT * FROM leases). The work itself stays idempotent where it can (a scheduled post is
 * published by an UPDATE that matches it only while it is still scheduled), so the rare
 * overlap when a holder stalls past its lease does no harm beyond a duplicate counts event.
 */
#include "api/api_int.h"

#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/cluster.h"

static int64_t ttl_ms(const struct api_app *a)
{
    return (int64_t)(a->set.cluster_lease_s ? a->set.cluster_lease_s : 15) * 1000;
}

bool api__lease_hold(struct api_app *a, struct api_lease *l)
{
    int64_t ttl = ttl_ms(a);
    int64_t now = clock_now_ms();
    int64_t until = 0;
    bool had = l->until_ms > now;
    int err;

    if (l->until_ms - now > ttl * 2 / 3)
        return true;
    err = store_lease_take(a->store, l->name, a->node_id, ttl, &until);
    if (err) {
        if (had) {
            log_warn("jobs: this node lost the '%s' lease: %s", l->name,
                     err == -EBUSY ? "another node holds it" : strerror(-err));
        }
        l->until_ms = 0;
        return false;
    }
    if (!had)
        log_info("jobs: this node took the '%s' lease", l->name);
    l->until_ms = until;
    return true;
}

void api__lease_release(struct api_app *a, struct api_lease *l)
{
    if (l->until_ms <= clock_now_ms())
        return;
    if (store_lease_release(a->store, l->name, a->node_id) == 0)
        log_info("jobs: this node gave up the '%s' lease", l->name);
    l->until_ms = 0;
}
