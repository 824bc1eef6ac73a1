/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Outgoing e-mail through the Comune's own relay (libcurl's SMTP): warnings to staff about
 * alert sources that went stale or fail (issue 14, point 6), and reports forwarded to another
 * body by e-mail (issue 15, point 4). docs/DEPLOY.md, "Outgoing e-mail".
 *
 * The relay is the operator's (smtp_url): `smtps://host:465` (TLS from the start) or
 * `smtp://host:587` with STARTTLS required; plain SMTP without TLS only to a host on the
 * outgoing allow-list (push_allow_hosts), which the tests use for 127.0.0.1. TLS is verified
 * with the outgoing CA setting (push_ca_file) like every outgoing request. The password is
 * never logged and never answered; failures are logged without addresses and counted.
 *
 * Messages are plain text, UTF-8: RFC 5322 headers with Date and Message-ID, the subject as
 * RFC 2047 encoded words when it is not ASCII, the body quoted-printable. A CR or LF in any
 * header value (addresses, subject) is refused: header injection is impossible by construction.
 *
 * Depends on core, push/outbound.h (the allow-list) and libcurl. Thread-safe: any thread may
 * call mail_send and mail_queue; sending never happens on the caller's event loop through
 * mail_queue (a thread of its own), and mail_send BLOCKS (a work pool or a thread).
 */
#ifndef MAIL_MAIL_H
#define MAIL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/compiler.h"

#define MAIL_ADDR_MAX    254 /* bytes of an address (RFC 5321's path limit less the <>) */
#define MAIL_SUBJECT_MAX 400 /* bytes of a subject before encoding */
#define MAIL_BODY_MAX    ((size_t)64 * 1024)
#define MAIL_QUEUE_MAX   256 /* messages waiting in mail_queue's queue */

struct mail_opts {
    const char *smtp_url;    /* "smtps://host[:port]" or "smtp://host[:port]"; not empty */
    const char *user;        /* "" : no AUTH */
    const char *password;    /* copied; wiped when freed */
    const char *from;        /* the envelope and From: address */
    const char *allow_hosts; /* push_allow_hosts: hosts that may be reached without TLS */
    const char *ca_file;     /* PEM bundle, or "" for the system's CAs */
    long timeout_ms;         /* one whole SMTP transaction */
};

struct mail; /* opaque */

/*
 * Check the options and start the queue's thread. Returns NULL with one line in `err` (a URL
 * that is not smtp:// or smtps://, a From address that is not an address, an allow-list entry
 * that is not a host name). Main thread.
 */
struct mail *mail_new(const struct mail_opts *o, char *err, size_t errlen);
/* Send what is queued (each within timeout_ms), stop the thread, free. NULL-safe. Main thread. */
void mail_free(struct mail *m);

/* Whether `addr` is a plain address "local@domain": printable ASCII, no spaces, no <>()[],;:"\,
 * one '@', a local part of at most 64 bytes, a domain of letters, digits, '-' and '.' (no
 * empty label), at most MAIL_ADDR_MAX bytes in all. Pure. */
bool mail_address_valid(const char *addr);

/* One message: every string UTF-8, borrowed. */
struct mail_msg {
    const char *to;      /* one address */
    const char *subject; /* no CR or LF */
    const char *body;    /* plain text; LF or CRLF line ends */
};

/*
 * The RFC 5322 message for `msg` from `from` at `now_ms` into `out` (CRLF line ends): From,
 * To, Subject (RFC 2047 base64 words when not ASCII), Date, Message-ID (random, at the From
 * address's domain), MIME-Version, Content-Type text/plain; charset=UTF-8,
 * Content-Transfer-Encoding quoted-printable, then the body. Returns 0, -EINVAL for an
 * address that is not valid or a CR/LF in the subject, -EMSGSIZE past `out`'s limit. Pure
 * apart from the random Message-ID.
 */
MUST_CHECK int mail_build(const char *from, const struct mail_msg *msg, int64_t now_ms,
                          struct buf *out);

/*
 * Send `msg` now through the relay. BLOCKS for up to timeout_ms: a work pool or a thread of its
 * own, never an event loop. Returns 0 when the relay accepted it, -EINVAL (mail_build refused
 * it), -EIO with a reason for people in `why` (no address, no password in it). Counted in the
 * sent/failed totals.
 */
MUST_CHECK int mail_send(struct mail *m, const struct mail_msg *msg, char *why, size_t whylen);

/*
 * Queue `msg` (copied) for the queue's thread, which sends it with mail_send; failures are
 * logged (without the address) and counted. Returns 0, -EINVAL (checked before queuing, as
 * mail_build does), or -ENOBUFS when MAIL_QUEUE_MAX are waiting.
 */
MUST_CHECK int mail_queue(struct mail *m, const struct mail_msg *msg);

struct mail_stats {
    uint64_t sent, failed;
};
void mail_stats(const struct mail *m, struct mail_stats *out);

#endif
