/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Post formatting: any input renders within FORMAT_HTML_MAX, and the output is well-formed: only
 * the known tags, every one closed in order, every '&' an entity, no '<' or '>' or quote from
 * the input outside markup, the only attributes those of links to http(s), and no bidirectional
 * override left in it (issue 9); format_label_ok() never passes a control character.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH_MAX 16

static const char *const tags[] = { "strong", "em", "del", "code", "pre", "a" };
static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
static const char link_tail[] = "\" rel=\"nofollow noopener ugc\">";

/* Length of the entity at p, or abort. */
static size_t entity(const char *p)
{
    for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
        if (!strncmp(p, entities[i], strlen(entities[i])))
            return strlen(entities[i]);
    }
    abort();
}

/* Check the escaped text up to the next '<' (or a quote ending an attribute). */
static const char *text(const char *p, char stop)
{
    while (*p && *p != '<' && *p != stop) {
        if (*p == '>' || *p == '"' || *p == '\'')
            abort();
        p += *p == '&' ? entity(p) : 1;
    }
    return p;
}

static void check(const char *p)
{
    int stack[DEPTH_MAX];
    int depth = 0;

    for (p = text(p, 0); *p; p = text(p, 0)) {
        bool close = p[1] == '/';
        const char *name = p + 1 + close;
        size_t k;
        size_t n = 0;

        if (!strncmp(p, "<br>", 4)) {
            p += 4;
            continue;
        }
        for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++) {
            n = strlen(tags[k]);
            if (!strncmp(name, tags[k], n) && (name[n] == '>' || (!close && name[n] == ' ')))
                break;
        }
        if (k == sizeof(tags) / sizeof(tags[0]))
            abort();
        p = name + n;
        if (close) {
            if (!depth || stack[--depth] != (int)k)
                abort();
            p++;
            continue;
        }
        if (depth == DEPTH_MAX)
            abort();
        stack[depth++] = (int)k;
        if (*p == '>') {
            p++;
            continue;
        }
        /* <a href="http(s)://..." rel="nofollow noopener ugc"> */
        if (strcmp(tags[k], "a") != 0 || (strncasecmp(p, " href=\"http://", 14) != 0 &&
                                          strncasecmp(p, " href=\"https://", 15) != 0))
            abort();
        p = text(p + 7, '"');
        if (strncmp(p, link_tail, sizeof(link_tail) - 1) != 0)
            abort();
        p += sizeof(link_tail) - 1;
    }
    if (depth)
        abort();
}

/* No bidirectional embedding, override or isolate control survives (link-text spoofing). */
static void no_bidi_controls(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++) {
        if (p[i] == 0xE2 && ((p[i + 1] == 0x80 && p[i + 2] >= 0xAA && p[i + 2] <= 0xAE) ||
                             (p[i + 1] == 0x81 && p[i + 2] >= 0xA6 && p[i + 2] <= 0xA9)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf b;

    buf_init(&b, FORMAT_HTML_MAX(size));
    if (format_html((const char *)data, size, &b) != 0)
        abort();
    if (b.data) {
        /* a NUL in the input is a control character: dropped */
        if (strlen(b.data) != b.len)
            abort();
        check(b.data);
        no_bidi_controls((const unsigned char *)b.data, b.len);
    }
    /* A name or description that passes the label check holds no control of any kind. */
    if (format_label_ok((const char *)data, size, true)) {
        no_bidi_controls(data, size);
        for (size_t i = 0; i < size; i++) {
            if ((data[i] < 0x20 && data[i] != '\n') || data[i] == 0x7F)
                abort();
        }
    }
    buf_release(&b);
    return 0;
}
