/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The Web Push sender: one thread running libcurl's multi interface, so that tens of thousands
 * of requests to push services never touch an HTTP event loop. HTTP/2 is used where the push
 * service offers it (requests to one origin then share one connection), connections are kept
 * and reused per origin, and at most `per_origin` requests per origin are in flight: the rest
 * wait in that origin's queue, so a slow or silent push service holds only its own requests.
 *
 * It sends what it is given and reports what happened; what to retry and when is the caller's
 * policy (api/push_queue.c). Messages arrive already encrypted and signed.
 */
#ifndef PUSH_SENDER_H
#define PUSH_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "push/ece.h"
#include "push/outbound.h"

struct push_sender; /* opaque */

/* One push request. The sender copies what it needs in push_sender_submit(). */
struct push_msg {
    void *arg;            /* the caller's, handed back in the result */
    const char *endpoint; /* the subscription's URL (a secret: never logged) */
    const char *origin;   /* outbound_url's origin of `endpoint`: the per-origin queue */
    const char *vapid;    /* Authorization header value ("vapid t=..., k=...") */
    long ttl_s;           /* TTL header (RFC 8030 5.2) */
    const char *urgency;  /* "very-low", "low", "normal", "high" (RFC 8030 5.3) */
    const char *topic;    /* "" or a Topic (RFC 8030 5.4: ≤ 32 base64url characters) */
    const uint8_t *body;  /* aes128gcm body */
    size_t len;
};

/* What happened to one message. */
struct push_result {
    void *arg;          /* push_msg's */
    int status;         /* HTTP status, or 0 when no answer came (timeout, refused, TLS ...) */
    int curl_code;      /* CURLcode, 0 with an answer */
    long retry_after_s; /* Retry-After, or -1 */
    bool refused;       /* the connect-time address check refused the host's address */
};

/*
 * Called ON THE SENDER THREAD for each message, exactly once (also for a message still queued
 * when the sender is freed: status 0, curl_code CURLE_ABORTED_BY_CALLBACK). Keep it short.
 */
typedef void push_result_fn(void *ctx, const struct push_result *r);

struct push_sender_opts {
    const struct outbound_policy *policy; /* borrowed: must outlive the sender */
    unsigned per_origin;                  /* requests in flight per origin */
    int nice;                             /* the thread's nice value (0: the process's) */
    push_result_fn *done;
    void *ctx;
};

/* Start the thread. Returns NULL with one line in `err`. */
struct push_sender *push_sender_new(const struct push_sender_opts *o, char *err, size_t errlen);
/* Report every message not yet reported (as above), stop and join the thread. NULL is a no-op. */
void push_sender_free(struct push_sender *s);

/*
 * Queue `m` (copied) for sending. Returns 0 (done() will be called), -EINVAL for an endpoint
 * the policy refuses to parse, or -ESHUTDOWN while stopping (then done() is never called).
 * Any thread.
 */
MUST_CHECK int push_sender_submit(struct push_sender *s, const struct push_msg *m);

#endif
