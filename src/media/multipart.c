/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * A strict, bounded multipart/form-data reader for uploads. Browsers and curl send no
 * preamble and CRLF line ends, so neither is accepted otherwise: a lenient parser only widens
 * the ways two readers can disagree on where a file ends.
 */
#include "media/multipart.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* RFC 2046 §5.1.1 bchars, without the space (which may not end a boundary anyway). */
static bool bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=?", c);
}

int media_multipart_boundary(const char *ct, char *out, size_t outlen)
{
    static const char type[] = "multipart/form-data";
    const char *p;
    size_t n = 0;
    bool quoted;

    if (!ct || strncasecmp(ct, type, sizeof(type) - 1) != 0 || outlen < MULTIPART_BOUNDARY_MAX + 1)
        return -EINVAL;
    p = ct + sizeof(type) - 1;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        if (!*p)
            return -EINVAL;
        if (!strncasecmp(p, "boundary=", 9))
            break;
        p = strchr(p, ';');
        if (!p)
            return -EINVAL;
    }
    p += 9;
    quoted = *p == '"';
    p += quoted;
    while (*p && *p != '"' && *p != ';' && (quoted || *p != ' ')) {
        if (!bchar(*p) && !(quoted && *p == ' '))
            return -EINVAL;
        if (n == MULTIPART_BOUNDARY_MAX)
            return -EINVAL;
        out[n++] = *p++;
    }
    if (quoted && *p != '"')
        return -EINVAL;
    out[n] = '\0';
    return n ? 0 : -EINVAL;
}

/* Whether the header block [h, e) names form field `field` in its Content-Disposition. */
static bool names_field(const char *h, const char *e, const char *field)
{
    static const char cd[] = "content-disposition:";
    size_t flen = strlen(field);

    while (h < e) {
        const char *eol = memmem(h, (size_t)(e - h), "\r\n", 2);
        const char *end = eol ? eol : e;

        if ((size_t)(end - h) > sizeof(cd) - 1 && !strncasecmp(h, cd, sizeof(cd) - 1)) {
            /* name="field" exactly, as a parameter (preceded by ';' and spaces) */
            for (const char *p = h + sizeof(cd) - 1; p + 7 + flen <= end; p++) {
                if ((p[-1] == ';' || p[-1] == ' ') && !strncasecmp(p, "name=\"", 6) &&
                    !memcmp(p + 6, field, flen) && p[6 + flen] == '"')
                    return true;
            }
        }
        h = end + 2;
    }
    return false;
}

/*
 * The next delimiter in [p, e): "\r\n--boundary" followed by CRLF or "--" (RFC 2046 §5.1.1).
 * The same bytes followed by anything else are data. NULL if there is none.
 */
static const char *find_delim(const char *p, const char *e, const char *delim, size_t dl)
{
    while (p < e) {
        const char *d = memmem(p, (size_t)(e - p), delim, dl);

        if (!d)
            return NULL;
        if (e - (d + dl) >= 2 && (!memcmp(d + dl, "\r\n", 2) || !memcmp(d + dl, "--", 2)))
            return d;
        p = d + 1;
    }
    return NULL;
}

int media_multipart_find(const char *body, size_t len, const char *boundary, const char *field,
                         const char **data, size_t *dlen)
{
    char delim[MULTIPART_BOUNDARY_MAX + 5]; /* "\r\n--" + boundary */
    size_t blen = strlen(boundary);
    size_t dl;
    const char *p = body;
    const char *e = body + len;
    int found = -ENOENT;

    if (!blen || blen > MULTIPART_BOUNDARY_MAX)
        return -EINVAL;
    /* delim is bytes compared by length (dl), never a C string: no NUL. */
    memcpy(delim, "\r\n--", 4);        // NOLINT(bugprone-not-null-terminated-result): bytes
    memcpy(delim + 4, boundary, blen); // NOLINT(bugprone-not-null-terminated-result): bytes
    dl = blen + 4;
    /* The body opens with the first delimiter, without the CRLF in front of it. */
    if (len < dl - 2 || memcmp(p, delim + 2, dl - 2) != 0)
        return -EINVAL;
    p += dl - 2;
    for (int part = 0;; part++) {
        const char *hend;
        const char *next;

        if (e - p >= 2 && !memcmp(p, "--", 2))
            return found; /* the close delimiter; anything after it is epilogue */
        if (part == MULTIPART_PARTS_MAX || e - p < 2 || memcmp(p, "\r\n", 2) != 0)
            return -EINVAL;
        p += 2;
        hend = memmem(
            p, (size_t)(e - p) < MULTIPART_HEADERS_MAX ? (size_t)(e - p) : MULTIPART_HEADERS_MAX,
            "\r\n\r\n", 4);
        if (!hend)
            return -EINVAL;
        next = find_delim(hend + 4, e, delim, dl);
        if (!next)
            return -EINVAL;
        if (found == -ENOENT && names_field(p, hend + 2, field)) {
            *data = hend + 4;
            *dlen = (size_t)(next - hend - 4);
            found = 0;
        }
        p = next + dl;
    }
}

/* The value of the name="..." parameter in the header line [h, end), or false. */
static bool name_param(const char *h, const char *end, const char **name, size_t *nlen)
{
    static const char cd[] = "content-disposition:";

    if ((size_t)(end - h) <= sizeof(cd) - 1 || strncasecmp(h, cd, sizeof(cd) - 1) != 0)
        return false;
    for (const char *p = h + sizeof(cd) - 1; p + 7 <= end; p++) {
        const char *q;

        if ((p[-1] != ';' && p[-1] != ' ') || strncasecmp(p, "name=\"", 6) != 0)
            continue;
        q = memchr(p + 6, '"', (size_t)(end - p - 6));
        if (!q)
            return false;
        *name = p + 6;
        *nlen = (size_t)(q - p - 6);
        return true;
    }
    return false;
}

/* The value of name="..." in the Content-Disposition of header block [h, e), or false. */
static bool field_name(const char *h, const char *e, const char **name, size_t *nlen)
{
    while (h < e) {
        const char *eol = memmem(h, (size_t)(e - h), "\r\n", 2);
        const char *end = eol ? eol : e;

        if (name_param(h, end, name, nlen))
            return true;
        h = end + 2;
    }
    return false;
}

int media_multipart_each(const char *body, size_t len, const char *boundary,
                         media_multipart_part_fn *each, void *ctx)
{
    char delim[MULTIPART_BOUNDARY_MAX + 5];
    size_t blen = strlen(boundary);
    size_t dl;
    const char *p = body;
    const char *e = body + len;

    if (!blen || blen > MULTIPART_BOUNDARY_MAX)
        return -EINVAL;
    memcpy(delim, "\r\n--", 4);        // NOLINT(bugprone-not-null-terminated-result): bytes
    memcpy(delim + 4, boundary, blen); // NOLINT(bugprone-not-null-terminated-result): bytes
    dl = blen + 4;
    if (len < dl - 2 || memcmp(p, delim + 2, dl - 2) != 0)
        return -EINVAL;
    p += dl - 2;
    for (int part = 0;; part++) {
        const char *hend;
        const char *next;
        const char *name;
        size_t nlen;
        int err;

        if (e - p >= 2 && !memcmp(p, "--", 2))
            return 0;
        if (part == MULTIPART_FIELDS_MAX || e - p < 2 || memcmp(p, "\r\n", 2) != 0)
            return -EINVAL;
        p += 2;
        hend = memmem(
            p, (size_t)(e - p) < MULTIPART_HEADERS_MAX ? (size_t)(e - p) : MULTIPART_HEADERS_MAX,
            "\r\n\r\n", 4);
        if (!hend)
            return -EINVAL;
        next = find_delim(hend + 4, e, delim, dl);
        if (!next || !field_name(p, hend + 2, &name, &nlen))
            return -EINVAL;
        err = each(ctx, name, nlen, hend + 4, (size_t)(next - hend - 4));
        if (err)
            return err;
        p = next + dl;
    }
}
