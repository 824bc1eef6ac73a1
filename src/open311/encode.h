/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Open311 GeoReport v2 answers in XML, and its dates. The API builds each answer once as a
 * jansson value shaped like the specification's JSON; o311_xml_encode() writes the same value
 * as the specification's XML: an object's members become child elements in order, an array
 * becomes a wrapper element whose items take the singular element name the specification
 * gives (services/service, service_requests/request, attributes/attribute, values/value,
 * endpoints/endpoint, formats/format, errors/error), true/false are "true"/"false" and null
 * is an empty element. Pure functions; any thread.
 */
#ifndef OPEN311_ENCODE_H
#define OPEN311_ENCODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/compiler.h"

/*
 * Append `v` as an XML 1.0 document (UTF-8, with its declaration) to `out`: the root element
 * is `root`; when `v` is an array its items are named `item`. Characters XML 1.0 forbids
 * (C0 controls other than TAB, LF, CR) are dropped; &, <, >, " and ' are escaped. Returns 0 or
 * -EMSGSIZE past the buffer's limit.
 */
MUST_CHECK int o311_xml_encode(const json_t *v, const char *root, const char *item,
                               struct buf *out);

/* The singular element name for items of an array member named `key` ("value" for "values"). */
const char *o311_xml_item_name(const char *key);

/*
 * `ms` as ISO 8601 with the offset of IANA zone `tz` at that instant: "2026-12-04T23:10:00+01:00"
 * into `out` (≥ 32 bytes), the offset from the zone's rules (core/tz.h). A zone this machine
 * has no tzdata for is written in UTC with "+00:00" (still an exact instant).
 */
void o311_datetime(int64_t ms, const char *tz, char *out, size_t outlen);
/* The zone's offset from UTC in minutes at `ms` (0 for a zone that cannot be read). */
int o311_tz_offset_min(int64_t ms, const char *tz);

#endif
