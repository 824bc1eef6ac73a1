/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The route table: patterns compiled once into segments, matched against the percent-decoded
 * path split at '/'. Because the decoder refuses "%2F", a decoded segment never contains a
 * slash, so a parameter can never span two segments (or climb out of one).
 *
 * Matching is a linear scan: the table has a few dozen routes and each comparison stops at
 * the first differing segment, which is cheaper than building a trie for that size.
 */
#include "http/http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/compiler.h"

/* "{code:secret}": a parameter that is a bearer capability, never logged (http.h). */
#define SECRET     ":secret"
#define SECRET_LEN (sizeof(SECRET) - 1)

int http__router_init(struct http__router *rt, const struct http_route *routes, size_t n, char *err,
                      size_t errlen)
{
    rt->r = n ? xcalloc(n, sizeof(*rt->r)) : NULL;
    rt->n = n;
    for (size_t i = 0; i < n; i++) {
        struct http__croute *cr = &rt->r[i];
        const char *p = routes[i].pattern;
        unsigned nparams = 0;

        cr->route = &routes[i];
        if (!p || p[0] != '/' || !routes[i].handler || !routes[i].methods) {
            snprintf(err, errlen,
                     "http: route %zu ('%s') needs a pattern starting with '/', "
                     "methods and a handler",
                     i, p ? p : "(null)");
            goto fail;
        }
        while (*p == '/') {
            const char *s = ++p;
            size_t len = strcspn(s, "/");
            struct http__seg *seg;

            p += len;
            if (!len && !*p && cr->nseg == 0)
                break; /* the pattern "/" has no segments */
            if (cr->nseg == HTTP_MAX_SEGS) {
                snprintf(err, errlen, "http: route '%s' has too many segments", routes[i].pattern);
                goto fail;
            }
            seg = &cr->seg[cr->nseg++];
            seg->param = len >= 2 && s[0] == '{' && s[len - 1] == '}';
            seg->s = seg->param ? s + 1 : s;
            seg->len = seg->param ? len - 2 : len;
            if (seg->param && seg->len > SECRET_LEN &&
                !memcmp(seg->s + seg->len - SECRET_LEN, SECRET, SECRET_LEN)) {
                seg->len -= SECRET_LEN; /* the name is what comes before ":secret" */
                cr->secret |= 1u << (cr->nseg - 1);
            }
            if (seg->param && (!seg->len || ++nparams > HTTP_MAX_PARAMS)) {
                snprintf(err, errlen, "http: route '%s' has an empty or too many {parameters}",
                         routes[i].pattern);
                goto fail;
            }
        }
    }
    return 0;
fail:
    http__router_release(rt);
    return -EINVAL;
}

void http__router_release(struct http__router *rt)
{
    free(rt->r);
    rt->r = NULL;
    rt->n = 0;
}

/* Split "/a/b/" into {"a", "b", ""} inside scratch. Returns the count, or -1 if too many. */
static int split(const char *path, struct buf *scratch, char **segs)
{
    int n = 0;
    char *p;

    buf_reset(scratch);
    if (buf_puts(scratch, path) || scratch->len == 0)
        return -1;
    p = scratch->data;
    if (!strcmp(p, "/"))
        return 0;
    while (*p == '/') {
        if (n == HTTP_MAX_SEGS)
            return -1;
        *p++ = '\0';
        segs[n++] = p;
        p += strcspn(p, "/");
    }
    return n;
}

static bool match_route(const struct http__croute *cr, char **segs, int nseg, struct http__match *m)
{
    unsigned np = 0;

    if ((int)cr->nseg != nseg)
        return false;
    for (int i = 0; i < nseg; i++) {
        const struct http__seg *s = &cr->seg[i];

        if (s->param) {
            if (!segs[i][0])
                return false; /* {name} matches one non-empty segment */
            m->pname[np] = s;
            m->pval[np++] = segs[i];
        } else if (strlen(segs[i]) != s->len || memcmp(segs[i], s->s, s->len) != 0) {
            return false;
        }
    }
    m->nparams = np;
    return true;
}

/*
 * The secret segments of `cr` when the path starts the way the route does (its literal
 * segments, as far as both go): "/i/CODE/qr" has no route, but its second segment is still the
 * code of "/i/{code:secret}". Whatever the method, too: a 405 must not log the code either.
 */
static uint32_t secret_prefix(const struct http__croute *cr, char **segs, int nseg)
{
    int n = MIN((int)cr->nseg, nseg);

    if (!cr->secret)
        return 0;
    for (int i = 0; i < n; i++) {
        const struct http__seg *s = &cr->seg[i];

        if (!s->param && (strlen(segs[i]) != s->len || memcmp(segs[i], s->s, s->len) != 0))
            return 0;
    }
    return n >= 32 ? cr->secret : cr->secret & ((1u << n) - 1);
}

const struct http_route *http__route_match(const struct http__router *rt, unsigned method,
                                           const char *path, struct buf *scratch,
                                           struct http__match *m)
{
    char *segs[HTTP_MAX_SEGS];
    int nseg = split(path, scratch, segs);
    struct http__match tmp;

    memset(m, 0, sizeof(*m));
    if (nseg < 0)
        return NULL;
    for (size_t i = 0; i < rt->n; i++) {
        const struct http__croute *cr = &rt->r[i];
        unsigned methods = cr->route->methods;

        if (methods & HTTP_M_GET)
            methods |= HTTP_M_HEAD; /* HEAD is GET without the body */
        m->secret |= secret_prefix(cr, segs, nseg);
        if (!match_route(cr, segs, nseg, &tmp))
            continue;
        m->allow |= methods;
        if (!m->route && (methods & method)) {
            unsigned allow = m->allow;
            uint32_t secret = m->secret;

            *m = tmp;
            m->allow = allow;
            m->secret = secret;
            m->route = cr->route;
        }
    }
    return m->route;
}

void http__allow_string(unsigned methods, char *out, size_t outlen)
{
    static const char *const names[] = {
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
    };
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (methods & (1u << i)) {
            int w = snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", names[i]);

            if (w < 0 || (size_t)w >= outlen - n)
                break;
            n += (size_t)w;
        }
    }
}

/*
 * The request target for the access log: the path (no query, no authority), with each segment
 * that a matching route calls {name:secret} replaced by "…". The raw target's segments are the
 * decoded path's (the decoder refuses %2F and dot segments), so positions agree.
 */
void http__log_target(const char *target, uint32_t secret, char *out, size_t outlen)
{
    const char *p = target;
    size_t n = 0, plen;
    unsigned seg = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (p[0] != '/') {
        const char *a = strstr(p, "://");

        p = a ? a + 3 + strcspn(a + 3, "/?#") : p + strlen(p);
    }
    plen = strcspn(p, "?#");
    while (plen && n + 1 < outlen) {
        size_t len;
        int w;

        if (*p != '/')
            break;
        len = strcspn(p + 1, "/?#");
        len = MIN(len, plen - 1);
        if (seg < 32 && (secret & (1u << seg)) && len) {
            w = snprintf(out + n, outlen - n, "/\xe2\x80\xa6");
        } else {
            w = snprintf(out + n, outlen - n, "/%.*s", (int)len, p + 1);
        }
        if (w < 0 || (size_t)w >= outlen - n)
            break;
        n += (size_t)w;
        p += 1 + len;
        plen -= 1 + len;
        seg++;
    }
}
