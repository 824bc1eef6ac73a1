/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Hardened XML reading shared by every XML reader in src/cap/ (CAP, LaMMA, Atom/RSS): the
 * guarantees are in xml_int.h and docs/ALERTS.md. One place, so a reader added later cannot
 * forget one of them.
 */
#include "cap/xml_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

/* Every URL libxml2 might want to load (a DTD, an entity, an XInclude) is refused. */
static xmlParserInputPtr no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    return NULL;
}

static void init_once(void)
{
    xmlInitParser();
    xmlSetExternalEntityLoader(no_loader);
}

static int fail(char *why, size_t whylen, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A DOCTYPE anywhere (so any DTD, internal or external, and any entity declaration) is refused
 * before libxml2 parses: the strongest guarantee that nothing is expanded, read or fetched. */
static bool has_doctype(const char *p, size_t len)
{
    static const char needle[] = "<!DOCTYPE";
    const char *q = p;

    while ((q = memchr(q, '<', len - (size_t)(q - p))) != NULL) {
        if ((size_t)(p + len - q) >= sizeof(needle) - 1 &&
            !strncasecmp(q, needle, sizeof(needle) - 1))
            return true;
        if ((size_t)(p + len - q) >= 8 && !strncmp(q, "<!ENTITY", 8))
            return true;
        q++;
    }
    return false;
}

struct shape {
    unsigned max_depth, max_elements, elements;
    char *why;
    size_t whylen;
};

/* Depth and element count of the whole tree, before anything is read. */
static int check_shape(struct shape *s, const xmlNode *n, unsigned depth)
{
    for (; n; n = n->next) {
        if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE ||
            n->type == XML_DTD_NODE || n->type == XML_XINCLUDE_START)
            return fail(s->why, s->whylen, "Entities and DTDs are not accepted.");
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (depth > s->max_depth) {
            return fail(s->why, s->whylen, "Elements are nested deeper than %u levels.",
                        s->max_depth);
        }
        if (++s->elements > s->max_elements)
            return fail(s->why, s->whylen, "More than %u elements.", s->max_elements);
        if (check_shape(s, n->children, depth + 1))
            return -EINVAL;
    }
    return 0;
}

int cap__xml_read(const char *p, size_t len, size_t max_bytes, unsigned max_depth,
                  unsigned max_elements, xmlDocPtr *doc, char *why, size_t whylen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct shape s = { max_depth, max_elements, 0, why, whylen };
    xmlParserCtxtPtr ctxt = NULL;
    int err = 0;

    *doc = NULL;
    if (len > max_bytes)
        return -EMSGSIZE;
    if (len > (size_t)INT32_MAX)
        return -EMSGSIZE;
    if (len >= 2 && ((unsigned char)p[0] == 0xfe || (unsigned char)p[0] == 0xff || !p[0] || !p[1]))
        return fail(why, whylen, "The document must be UTF-8.");
    if (memchr(p, '\0', len))
        return fail(why, whylen, "The document holds a NUL byte.");
    if (has_doctype(p, len))
        return fail(why, whylen, "A DOCTYPE is not accepted (no DTDs, no entities).");
    pthread_once(&once, init_once);
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return fail(why, whylen, "Out of memory.");
    *doc = xmlCtxtReadMemory(ctxt, p, (int)len, NULL, "UTF-8",
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                 XML_PARSE_NOCDATA);
    if (!*doc) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);

        err = fail(why, whylen, "Not well-formed XML (line %d): %.120s", e ? e->line : 0,
                   e && e->message ? e->message : "parse error");
        goto out;
    }
    if ((*doc)->intSubset || (*doc)->extSubset) {
        err = fail(why, whylen, "A DOCTYPE is not accepted.");
        goto out;
    }
    err = check_shape(&s, xmlDocGetRootElement(*doc), 1);
out:
    if (err && *doc) {
        xmlFreeDoc(*doc);
        *doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return err;
}

char *cap__xml_attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, BAD_CAST name);
}

int cap__xml_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && !strcmp((const char *)n->name, name);
}
