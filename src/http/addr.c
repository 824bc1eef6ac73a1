/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Who the client is when a reverse proxy stands in front: trusted-proxy address ranges and the
 * X-Forwarded-For / RFC 7239 Forwarded headers. Pure functions on strings and 16-byte addresses
 * (IPv4 mapped into IPv6), so the fuzzer and the unit tests drive them without sockets.
 *
 * The rule (the one nginx's realip module and most frameworks follow): start from the TCP peer;
 * while the address in hand is a trusted proxy and the header has a hop left, step one hop to
 * the left. The first untrusted address is the client. A client can write anything at the left
 * of the header, but it cannot reach past the hop its first trusted proxy appended, so whatever
 * it forges never becomes its address. A hop that does not parse stops the walk: the last
 * address known good stands.
 */
#include "http/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

/* Hops remembered per request: only the rightmost ones matter, the rest is what clients wrote. */
#define HOPS_MAX 32

struct hop {
    uint8_t addr[16];
    bool ok;   /* the address parsed */
    int https; /* Forwarded proto=: 1 https, 0 other, -1 absent */
};

struct hops {
    struct hop h[HOPS_MAX];
    size_t n; /* kept (at most HOPS_MAX, the rightmost) */
};

static void hop_push(struct hops *hs, const struct hop *h)
{
    if (hs->n == HOPS_MAX) {
        memmove(hs->h, hs->h + 1, (HOPS_MAX - 1) * sizeof(hs->h[0]));
        hs->n--;
    }
    hs->h[hs->n++] = *h;
}

/* An IPv4 or IPv6 literal of exactly `len` bytes, into the mapped 16-byte form. */
static bool ip_parse(const char *s, size_t len, uint8_t out[16])
{
    char tmp[64];

    if (!len || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    memset(out, 0, 16);
    if (uv_inet_pton(AF_INET, tmp, out + 12) == 0) {
        out[10] = out[11] = 0xff;
        return true;
    }
    return uv_inet_pton(AF_INET6, tmp, out) == 0;
}

bool http_addr_parse(const char *s, uint8_t out[16])
{
    return s && ip_parse(s, strlen(s), out);
}

void http_addr_text(const uint8_t a[16], char *out, size_t outlen)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (!memcmp(a, mapped, 12)) {
        uv_inet_ntop(AF_INET, a + 12, out, outlen);
    } else {
        uv_inet_ntop(AF_INET6, a, out, outlen);
    }
}

bool http_addr_is_loopback(const uint8_t a[16])
{
    static const uint8_t v6[16] = { [15] = 1 };
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    return !memcmp(a, v6, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* One range "addr" or "addr/bits"; an IPv4 prefix counts in IPv4 bits. */
static bool cidr_parse(const char *s, size_t len, struct http_cidr *out)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    unsigned max, bits;
    char digits[4];
    char *end;
    size_t dlen;

    if (!ip_parse(s, alen, out->addr))
        return false;
    max = memchr(s, ':', alen) ? 128 : 32;
    bits = max;
    if (slash) {
        dlen = len - alen - 1;
        if (!dlen || dlen >= sizeof(digits) || strspn(slash + 1, "0123456789") < dlen)
            return false;
        memcpy(digits, slash + 1, dlen);
        digits[dlen] = '\0';
        bits = (unsigned)strtoul(digits, &end, 10);
        if (bits > max)
            return false;
    }
    out->bits = max == 32 ? bits + 96 : bits;
    return true;
}

int http_cidr_parse_list(const char *s, struct http_cidr *out, size_t max, size_t *n, char *err,
                         size_t errlen)
{
    size_t len;

    *n = 0;
    for (;;) {
        while (is_space(*s) || *s == ',')
            s++;
        if (!*s)
            return 0;
        len = strcspn(s, ", \t");
        if (*n == max) {
            snprintf(err, errlen, "more than %zu address ranges", max);
            return -EMSGSIZE;
        }
        if (!cidr_parse(s, len, &out[*n])) {
            snprintf(err, errlen, "'%.*s' is not an address or address/bits range",
                     (int)(len > 60 ? 60 : len), s);
            return -EINVAL;
        }
        (*n)++;
        s += len;
    }
}

bool http_cidr_match(const struct http_cidr *list, size_t n, const uint8_t a[16])
{
    for (size_t i = 0; i < n; i++) {
        unsigned bits = list[i].bits, whole = bits / 8, rest = bits % 8;

        if (memcmp(list[i].addr, a, whole) != 0)
            continue;
        if (rest && ((list[i].addr[whole] ^ a[whole]) & (0xff00u >> rest) & 0xff))
            continue;
        return true;
    }
    return false;
}

/* ---- X-Forwarded-For: "client, proxy1, proxy2" ---- */

static void xff_hops(const char *v, struct hops *hs)
{
    struct hop h;
    size_t len;

    for (;;) {
        while (is_space(*v))
            v++;
        len = strcspn(v, ",");
        while (len && is_space(v[len - 1]))
            len--;
        memset(&h, 0, sizeof(h));
        h.https = -1;
        /* Some proxies write "[v6]"; the brackets are not part of the address. */
        if (len > 2 && v[0] == '[' && v[len - 1] == ']') {
            h.ok = ip_parse(v + 1, len - 2, h.addr);
        } else {
            h.ok = ip_parse(v, len, h.addr);
        }
        hop_push(hs, &h);
        v += strcspn(v, ",");
        if (!*v)
            return;
        v++;
    }
}

/* ---- Forwarded (RFC 7239): for=192.0.2.1;proto=https, for="[2001:db8::1]:4711" ---- */

/* A node (RFC 7239 section 6): an address with an optional port; "unknown" and "_x" fail. */
static bool node_parse(const char *s, size_t len, uint8_t out[16])
{
    const char *close;

    if (len && s[0] == '[') {
        close = memchr(s, ']', len);
        if (!close || (close + 1 != s + len && close[1] != ':'))
            return false;
        return memchr(s + 1, ':', (size_t)(close - s - 1)) &&
               ip_parse(s + 1, (size_t)(close - s - 1), out);
    }
    /* Without brackets only IPv4, with an optional ":port". */
    close = memchr(s, ':', len);
    return ip_parse(s, close ? (size_t)(close - s) : len, out);
}

/*
 * The value of one pair at *p, a token or a quoted-string (backslash escapes kept out), into
 * `val`; advances *p past it. False when it is malformed.
 */
static bool pair_value(const char **p, char *val, size_t vallen)
{
    const char *s = *p;
    size_t n = 0;

    if (*s != '"') {
        n = strcspn(s, ";, \t\"");
        if (n >= vallen)
            return false;
        memcpy(val, s, n);
        val[n] = '\0';
        *p = s + n;
        return true;
    }
    for (s++; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1])
            s++;
        if (n + 1 >= vallen)
            return false;
        val[n++] = *s;
    }
    if (*s != '"')
        return false;
    val[n] = '\0';
    *p = s + 1;
    return true;
}

/* One element "pair;pair;..." starting at *p; stops at ',' or the end. */
static void fwd_element(const char **p, struct hop *h)
{
    const char *s = *p;
    char name[16], val[80];
    bool bad = false, seen_for = false;
    size_t n;

    memset(h, 0, sizeof(*h));
    h->https = -1;
    for (;;) {
        while (is_space(*s) || *s == ';')
            s++;
        if (!*s || *s == ',')
            break;
        n = strcspn(s, "=;, \t");
        if (s[n] != '=' || !n || n >= sizeof(name)) {
            bad = true;
            s += strcspn(s, ",");
            break;
        }
        memcpy(name, s, n);
        name[n] = '\0';
        s += n + 1;
        if (!pair_value(&s, val, sizeof(val))) {
            bad = true;
            s += strcspn(s, ",");
            break;
        }
        if (!strcasecmp(name, "for")) {
            h->ok = !seen_for && node_parse(val, strlen(val), h->addr);
            seen_for = true;
        } else if (!strcasecmp(name, "proto")) {
            h->https = !strcasecmp(val, "https");
        }
    }
    if (bad)
        h->ok = false;
    *p = s;
}

static void fwd_hops(const char *v, struct hops *hs)
{
    struct hop h;

    for (;;) {
        fwd_element(&v, &h);
        hop_push(hs, &h);
        if (!*v)
            return;
        v++; /* the ',' */
    }
}

/* The last comma-separated item of the last X-Forwarded-Proto line is what our peer wrote. */
static bool proto_https(const char *const *v, size_t n)
{
    const char *last, *p;
    size_t len;

    if (!n)
        return false;
    last = v[n - 1];
    p = strrchr(last, ',');
    p = p ? p + 1 : last;
    while (is_space(*p))
        p++;
    len = strlen(p);
    while (len && is_space(p[len - 1]))
        len--;
    return len == 5 && !strncasecmp(p, "https", 5);
}

void http_client_resolve(const struct http_fwd_in *in, struct http_client *out)
{
    struct hops hs_store;
    struct hops *hs = &hs_store;
    const uint8_t *cur = in->peer;
    size_t i;

    memcpy(out->addr, in->peer, 16);
    out->https = false;
    out->via_proxy = false;
    if (!http_cidr_match(in->trusted, in->ntrusted, in->peer))
        return; /* anyone else's forwarding headers mean nothing */
    hs->n = 0;
    for (i = 0; i < in->nfwd; i++) {
        if (in->rfc7239) {
            fwd_hops(in->fwd[i], hs);
        } else {
            xff_hops(in->fwd[i], hs);
        }
    }
    if (in->rfc7239) {
        out->https = hs->n && hs->h[hs->n - 1].https == 1;
    } else {
        out->https = proto_https(in->proto, in->nproto);
    }
    for (i = hs->n; i > 0 && http_cidr_match(in->trusted, in->ntrusted, cur); i--) {
        if (!hs->h[i - 1].ok)
            break;
        cur = hs->h[i - 1].addr;
        out->via_proxy = true;
    }
    memcpy(out->addr, cur, 16);
}
