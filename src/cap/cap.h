/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * OASIS Common Alerting Protocol 1.2: writing a document (cap_encode) and reading one
 * (cap_parse), with libxml2. Depends on core/ only. docs/ALERTS.md says what araldo puts in
 * and takes out.
 *
 * Reading is hardened against hostile input: a document with a DOCTYPE (so any DTD or entity
 * declaration) is refused before libxml2 sees it; the parser never loads anything (no DTD, no
 * entity substitution, no network: XML_PARSE_NONET, and an external-entity loader that refuses
 * every URL); input size, element depth, element count and every text's length are capped.
 */
#ifndef CAP_CAP_H
#define CAP_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define CAP_NS_12        "urn:oasis:names:tc:emergency:cap:1.2"
#define CAP_NS_11        "urn:oasis:names:tc:emergency:cap:1.1"
#define CAP_MAX_BYTES    ((size_t)512 * 1024) /* largest document read */
#define CAP_MAX_DEPTH    8                    /* alert/info/area/geocode/value is 5 */
#define CAP_MAX_ELEMENTS 4000
#define CAP_MAX_TEXT     16384 /* bytes of one element's text */
#define CAP_MAX_INFO     8
#define CAP_MAX_AREA     16
#define CAP_MAX_KV       32 /* geocodes per area, parameters per info */

struct cap_kv {
    char *name, *value;
};

struct cap_area {
    char *desc;
    char *polygon; /* the first polygon, or NULL */
    struct cap_kv geocode[CAP_MAX_KV];
    size_t n_geocode;
};

struct cap_info {
    char *language; /* "it-IT"; NULL when absent (CAP's default is en-US) */
    char *category; /* the first category */
    char *event, *urgency, *severity, *certainty;
    char *onset, *effective, *expires; /* as written, or NULL */
    char *sender_name, *headline, *description, *instruction, *web;
    struct cap_kv param[CAP_MAX_KV];
    size_t n_param;
    struct cap_area area[CAP_MAX_AREA]; /* cap_encode: only in info[0]; repeated in every info */
    size_t n_area;
};

/*
 * One CAP message. Read: every string is owned (cap_msg_release); absent optional elements are
 * NULL. Written: strings are borrowed, NULL ones are left out.
 */
struct cap_msg {
    char *identifier, *sender, *sent, *status, *msg_type, *scope, *note;
    char *source;     /* <source>: where the alert's data comes from (a credit), or NULL */
    char *references; /* "sender,identifier,sent" entries separated by spaces */
    struct cap_info info[CAP_MAX_INFO];
    size_t n_info;
};

/*
 * Parse `len` bytes as a CAP 1.2 (or 1.1) alert into `out` (zeroed first). Returns 0, -EMSGSIZE
 * past CAP_MAX_BYTES, or -EINVAL with the reason in `why` and the element's path in `where`
 * ("alert/info[1]/severity"; "" for the document). On error `out` holds nothing to release.
 * Any thread.
 */
MUST_CHECK int cap_parse(const char *p, size_t len, struct cap_msg *out, char *why, size_t whylen,
                         char *where, size_t wherelen);
/* Free what cap_parse put in `m`. */
void cap_msg_release(struct cap_msg *m);

/*
 * The CAP 1.2 document for `m` (borrowed strings; info[0]'s areas go into every info), UTF-8,
 * NUL-terminated, `*len` bytes. Caller frees. NULL only if libxml2 fails to allocate.
 */
char *cap_encode(const struct cap_msg *m, size_t *len);

/*
 * CAP's dateTime "2026-11-27T22:43:27+01:00" (no fraction, numeric offset, never "Z") for
 * Unix ms `ms` at `off_min` minutes east of UTC, into `out` (≥ 26 bytes).
 */
void cap_time_format(int64_t ms, int off_min, char *out, size_t outlen);
/*
 * Parse a CAP dateTime ("...T..+01:00", "-00:00"; also "Z" and a fraction, which senders
 * write though CAP 1.2 forbids them) into Unix ms. -EINVAL otherwise.
 */
MUST_CHECK int cap_time_parse(const char *s, int64_t *ms);

#endif
