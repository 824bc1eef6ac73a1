/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The rules for every request this server makes to another server (Web Push now; alert
 * sources and CAP feeds later, issue 14): https only, TLS always verified (system CAs or one CA
 * file), no redirects, no proxy from the environment, bounded time and response size, and no
 * connection to an address that is not public (loopback, private, link-local, CGNAT, multicast,
 * cloud metadata ...) unless the host is on the operator's allow-list. The address rule is
 * applied twice: when a URL is accepted (outbound_url_check, which resolves the name) and at
 * connect time on the address curl actually connects to (the opensocket callback installed by
 * outbound_easy_setup), so a name that resolves to something else later (DNS rebinding) is
 * still refused.
 *
 * Depends on core and libcurl only, so that any module can use it. A policy is immutable once
 * made: any thread.
 */
#ifndef PUSH_OUTBOUND_H
#define PUSH_OUTBOUND_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/compiler.h"

#define OUTBOUND_URL_MAX    2048 /* bytes of a URL we accept from outside */
#define OUTBOUND_HOST_MAX   253
#define OUTBOUND_ORIGIN_MAX (8 + OUTBOUND_HOST_MAX + 2 + 6) /* https://[host]:port */

struct outbound_opts {
    const char *allow_hosts; /* "a.example, 127.0.0.1": hosts exempt from the address rule */
    const char *ca_file;     /* PEM bundle to verify servers with, or "" for the system's */
    long connect_timeout_ms;
    long timeout_ms;           /* the whole request */
    size_t max_response_bytes; /* a bigger response body ends the transfer */
    /* outbound_fetch's User-Agent (copied), or NULL for "araldo (alert sources)" */
    const char *user_agent;
};

struct outbound_policy; /* opaque, immutable */

/* Returns NULL with one line in `err` (an allow-list entry that is not a host name). */
struct outbound_policy *outbound_policy_new(const struct outbound_opts *o, char *err,
                                            size_t errlen);
void outbound_policy_free(struct outbound_policy *p);

/* An https URL taken apart: lower-cased host (IPv6 without brackets), port, origin. */
struct outbound_url {
    char host[OUTBOUND_HOST_MAX + 1];
    unsigned port;
    char origin[OUTBOUND_ORIGIN_MAX + 1]; /* "https://host[:port]", the port only if not 443 */
};
/*
 * Parse `url`: https only, no user info, a host, an optional port, at most OUTBOUND_URL_MAX
 * bytes, no control characters or spaces. Returns 0 or -EINVAL.
 */
MUST_CHECK int outbound_url_parse(const char *url, struct outbound_url *out);

/* Whether `host` (as parsed) is on the allow-list. */
bool outbound_host_allowed(const struct outbound_policy *p, const char *host);

/*
 * Whether an address is public: false for unspecified, loopback, RFC 1918 private, CGNAT
 * (100.64/10), link-local (169.254/16, where cloud metadata lives, fe80::/10), multicast,
 * reserved and documentation ranges, IPv6 unique-local (fc00::/7), and IPv4-mapped, NAT64 and
 * 6to4 addresses whose embedded IPv4 address is one of those. Pure.
 */
bool outbound_addr_public(const struct sockaddr *sa);

/*
 * Check that `url` may be fetched: parse it, and unless its host is allowed, resolve the name
 * and refuse it when any address is not public. BLOCKS on DNS (a thread of its own or a work
 * pool, never an event loop). Returns 0, -EINVAL for a malformed URL, -EPERM for an address
 * that is not allowed, -EHOSTUNREACH when the name does not resolve.
 */
MUST_CHECK int outbound_url_check(const struct outbound_policy *p, const char *url);

/* Per-transfer state the policy's curl callbacks use; embed it in the transfer. */
struct outbound_xfer {
    /* members are private */
    const struct outbound_policy *p;
    bool host_allowed;
    bool refused;       /* the connect-time address check said no */
    bool too_big;       /* the response passed max_response_bytes */
    size_t received;    /* response body bytes so far */
    long retry_after_s; /* Retry-After in seconds (delta or date), or -1 */
};

/*
 * Set up easy handle `h` to fetch `url` under policy `p`: the URL, https only (also for
 * redirects, which are not followed), verification with the policy's CA, HTTP/2 over TLS when
 * offered, timeouts, no proxy, the connect-time address check, a response body that is counted
 * and dropped (at most max_response_bytes), and Retry-After parsing. `x` must live as long as
 * the transfer. Returns 0 or -EINVAL for a URL outbound_url_parse refuses.
 */
MUST_CHECK int outbound_easy_setup(const struct outbound_policy *p, CURL *h, const char *url,
                                   struct outbound_xfer *x);

/* What outbound_fetch got. */
struct outbound_fetch {
    long status; /* HTTP status; 0 when there was no answer */
    char *body;  /* 200: the body, NUL-terminated (free); else NULL */
    size_t len;
    char etag[256]; /* the answer's validators, "" when absent or too long */
    char last_modified[64];
    char content_type[128]; /* these too: "" when absent or too long */
    char cache_control[256];
    char expires[64];
    char date[64];
    /* members below are private */
    size_t max;
};

/*
 * GET `url` under policy `p` with outbound_easy_setup's rules (the address check before and at
 * connect time, TLS verified, no redirects), conditionally when `etag` or `last_modified` is
 * given (If-None-Match, If-Modified-Since), keeping at most `max_bytes` of body (gzip is
 * accepted; the cap counts decoded bytes). BLOCKS for up to the policy's timeout: a thread of
 * its own, never an event loop. Returns 0 with `out->status` (200 with a body, 304, or another
 * status without one), -EINVAL for a URL outbound_url_parse refuses, -EPERM for an address
 * that is not allowed, -EHOSTUNREACH, -EMSGSIZE past `max_bytes`, -ETIMEDOUT, or -EIO (TLS,
 * connection) with curl's reason in `why`. Release `out` with outbound_fetch_release.
 */
MUST_CHECK int outbound_fetch(const struct outbound_policy *p, const char *url, const char *etag,
                              const char *last_modified, size_t max_bytes,
                              struct outbound_fetch *out, char *why, size_t whylen);
void outbound_fetch_release(struct outbound_fetch *f);

#endif
