/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* Web Push inside api/: what the handlers (push.c) and the queue thread (push_queue.c) share. */
#ifndef API_PUSH_INT_H
#define API_PUSH_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api_int.h"
#include "api/push_cluster.h"
#include "core/buf.h"
#include "push/outbound.h"
#include "push/sender.h"
#include "push/vapid.h"

struct push_done; /* a sender result on its way to the queue thread */

struct api_push {
    struct api_app *app;
    struct store *store;
    struct api_settings set; /* borrowed strings: app->set's */
    struct vapid *vapid;     /* the cluster's key (from the database) */
    struct outbound_policy *policy;
    struct push_sender *sender;
    struct workpool *checks; /* address checks (DNS) of new subscriptions, off the loops */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;              /* under mu */
    struct push_done *done; /* under mu: results not yet written */
    /* counters since start, for /metrics */
    atomic_ullong sent, failed, gone, retried, expired, claimed;
};

/*
 * Prometheus lines for Web Push: counters since start, deliveries pending and each running
 * campaign's progress (read with `reader`). Loop thread (api/ops.c's /metrics).
 */
MUST_CHECK int api__push_metrics(struct api_app *app, struct store_reader *reader, struct buf *out);

#endif
