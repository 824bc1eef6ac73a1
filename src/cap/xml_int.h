/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The one hardened way src/cap/ reads XML with libxml2 (CAP documents, LaMMA bulletins, Atom
 * and RSS indexes): a DOCTYPE or ENTITY declaration anywhere is refused before libxml2 sees the
 * bytes; libxml2 parses with XML_PARSE_NONET and without NOENT/DTDLOAD/XINCLUDE, and an
 * external-entity loader that refuses every URL; the tree's depth and element count are capped.
 * Private to src/cap/.
 */
#ifndef CAP_XML_INT_H
#define CAP_XML_INT_H

#include <stddef.h>

#include "core/compiler.h"

/* libxml2's own (xmlDoc, xmlNode), declared so this header needs no libxml2 include path. */
struct _xmlDoc;  // NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
struct _xmlNode; // NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)

/*
 * Parse `len` bytes (UTF-8, no NUL, no DOCTYPE, at most `max_bytes`) into `*doc`, then check
 * that no element is nested deeper than `max_depth` and there are at most `max_elements`.
 * Returns 0 (caller frees `*doc` with xmlFreeDoc), -EMSGSIZE past `max_bytes`, or -EINVAL with
 * one sentence in `why`. Any thread.
 */
MUST_CHECK int cap__xml_read(const char *p, size_t len, size_t max_bytes, unsigned max_depth,
                             unsigned max_elements, struct _xmlDoc **doc, char *why, size_t whylen);

/* The value of attribute `name` of `n` (owned: xmlFree), or NULL. */
char *cap__xml_attr(const struct _xmlNode *n, const char *name);

/* Whether `n` is an element named `name` (any namespace). */
int cap__xml_is(const struct _xmlNode *n, const char *name);

#endif
