/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Outgoing-request policy (outbound.h). The address ranges follow IANA's special-purpose
 * registries (RFC 6890 and its updates): anything a push service, a feed or an alert source
 * has no business being on.
 */
#include "push/outbound.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/alloc.h"

#define ALLOW_MAX 64

struct outbound_policy {
    char *allow[ALLOW_MAX];
    size_t nallow;
    char *ca_file; /* NULL: the system's */
    char *user_agent;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response_bytes;
};

static bool host_chars_ok(const char *h)
{
    if (!*h)
        return false;
    for (; *h; h++) {
        if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != ':' && *h != '_')
            return false;
    }
    return true;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

struct outbound_policy *outbound_policy_new(const struct outbound_opts *o, char *err, size_t errlen)
{
    struct outbound_policy *p = xcalloc(1, sizeof(*p));
    const char *s = o->allow_hosts ? o->allow_hosts : "";

    while (*s) {
        size_t n = strcspn(s, ", \t");
        char *h;

        if (n) {
            h = xcalloc(1, n + 1);
            memcpy(h, s, n);
            lower(h);
            if (n > 2 && h[0] == '[' && h[n - 1] == ']') {
                memmove(h, h + 1, n - 2);
                h[n - 2] = '\0';
            }
            if (!host_chars_ok(h) || strlen(h) > OUTBOUND_HOST_MAX || p->nallow == ALLOW_MAX) {
                snprintf(err, errlen, "outbound: '%.60s' is not a host name (or too many hosts)",
                         h);
                free(h);
                outbound_policy_free(p);
                return NULL;
            }
            p->allow[p->nallow++] = h;
        }
        s += n;
        s += strspn(s, ", \t");
    }
    p->ca_file = o->ca_file && *o->ca_file ? xstrdup(o->ca_file) : NULL;
    p->user_agent = xstrdup(o->user_agent ? o->user_agent : "araldo (alert sources)");
    p->connect_timeout_ms = o->connect_timeout_ms;
    p->timeout_ms = o->timeout_ms;
    p->max_response_bytes = o->max_response_bytes;
    return p;
}

void outbound_policy_free(struct outbound_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nallow; i++)
        free(p->allow[i]);
    free(p->ca_file);
    free(p->user_agent);
    free(p);
}

int outbound_url_parse(const char *url, struct outbound_url *out)
{
    const char *h;
    const char *end;
    const char *port = NULL;
    size_t n;
    long v = 443;

    if (!url || strnlen(url, OUTBOUND_URL_MAX + 1) > OUTBOUND_URL_MAX ||
        strncmp(url, "https://", 8) != 0) /* as browsers write it: one spelling, stored as is */
        return -EINVAL;
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return -EINVAL;
    }
    h = url + 8;
    end = h + strcspn(h, "/?#");
    if (memchr(h, '@', (size_t)(end - h)))
        return -EINVAL; /* user info: a classic way to disguise the real host */
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));

        if (!rb)
            return -EINVAL;
        n = (size_t)(rb - h - 1);
        if (n == 0 || n > OUTBOUND_HOST_MAX)
            return -EINVAL;
        memcpy(out->host, h + 1, n);
        out->host[n] = '\0';
        if (rb + 1 < end) {
            if (rb[1] != ':')
                return -EINVAL;
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));

        n = (size_t)((colon ? colon : end) - h);
        if (n == 0 || n > OUTBOUND_HOST_MAX)
            return -EINVAL;
        memcpy(out->host, h, n);
        out->host[n] = '\0';
        if (colon)
            port = colon + 1;
    }
    lower(out->host);
    if (!host_chars_ok(out->host))
        return -EINVAL;
    if (port) {
        char *pe;

        if (port == end || !isdigit((unsigned char)*port))
            return -EINVAL;
        v = strtol(port, &pe, 10);
        if (pe != end || v < 1 || v > 65535)
            return -EINVAL;
    }
    out->port = (unsigned)v;
    snprintf(out->origin, sizeof(out->origin),
             strchr(out->host, ':') ? "https://[%s]" : "https://%s", out->host);
    if (v != 443) {
        size_t o = strlen(out->origin);

        snprintf(out->origin + o, sizeof(out->origin) - o, ":%ld", v);
    }
    return 0;
}

bool outbound_host_allowed(const struct outbound_policy *p, const char *host)
{
    for (size_t i = 0; i < p->nallow; i++) {
        if (!strcmp(p->allow[i], host))
            return true;
    }
    return false;
}

static bool v4_public(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
    } deny[] = {
        { 0x00000000, 0xff000000 }, /* 0/8 "this network" */
        { 0x0a000000, 0xff000000 }, /* 10/8 private */
        { 0x64400000, 0xffc00000 }, /* 100.64/10 CGNAT */
        { 0x7f000000, 0xff000000 }, /* 127/8 loopback */
        { 0xa9fe0000, 0xffff0000 }, /* 169.254/16 link-local, cloud metadata */
        { 0xac100000, 0xfff00000 }, /* 172.16/12 private */
        { 0xc0000000, 0xffffff00 }, /* 192.0.0/24 IETF protocol assignments */
        { 0xc0000200, 0xffffff00 }, /* 192.0.2/24 documentation */
        { 0xc0586300, 0xffffff00 }, /* 192.88.99/24 6to4 relay */
        { 0xc0a80000, 0xffff0000 }, /* 192.168/16 private */
        { 0xc6120000, 0xfffe0000 }, /* 198.18/15 benchmarking */
        { 0xc6336400, 0xffffff00 }, /* 198.51.100/24 documentation */
        { 0xcb007100, 0xffffff00 }, /* 203.0.113/24 documentation */
        { 0xe0000000, 0xf0000000 }, /* 224/4 multicast */
        { 0xf0000000, 0xf0000000 }, /* 240/4 reserved, broadcast */
    };

    for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
        if ((a & deny[i].mask) == deny[i].net)
            return false;
    }
    return true;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool v6_public(const uint8_t *a)
{
    static const uint8_t zero[16];
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

    if (!memcmp(a, zero, 15))
        return false; /* :: and ::1 */
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12))
        return v4_public(be32(a + 12));
    if (!memcmp(a, zero, 12))
        return false; /* deprecated IPv4-compatible ::a.b.c.d */
    if (a[0] == 0x20 && a[1] == 0x02)
        return v4_public(be32(a + 2)); /* 6to4 2002::/16 */
    if ((a[0] & 0xfe) == 0xfc)
        return false; /* fc00::/7 unique local (AWS metadata fd00:ec2::254 is here) */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return false; /* fe80::/10 link-local */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return false; /* fec0::/10 site-local (deprecated) */
    if (a[0] == 0xff)
        return false; /* multicast */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return false; /* 2001:db8::/32 documentation */
    if (a[0] == 0x01 && !memcmp(a + 1, zero, 7))
        return false; /* 100::/64 discard */
    return true;
}

bool outbound_addr_public(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

        return v4_public(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

        return v6_public(s6->sin6_addr.s6_addr);
    }
    return false;
}

int outbound_url_check(const struct outbound_policy *p, const char *url)
{
    struct outbound_url u;
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    int err = outbound_url_parse(url, &u);
    int rc;

    if (err)
        return err;
    if (outbound_host_allowed(p, u.host))
        return 0;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(u.host, NULL, &hints, &res);
    if (rc != 0)
        return -EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai && !err; ai = ai->ai_next) {
        if (!outbound_addr_public(ai->ai_addr))
            err = -EPERM;
    }
    freeaddrinfo(res);
    return err;
}

/* ---- curl callbacks ---- */

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct outbound_xfer *x = clientp;

    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (!x->host_allowed && !outbound_addr_public(&a->addr)) {
        x->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t body_sink(const char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct outbound_xfer *x = userdata;
    size_t n = size * nmemb;

    (void)ptr;
    x->received += n;
    if (x->received > x->p->max_response_bytes) {
        x->too_big = true;
        return 0; /* aborts the transfer */
    }
    return n;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static size_t header_line(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct outbound_xfer *x = userdata;
    size_t n = size * nitems;
    char v[64];
    size_t k = sizeof("Retry-After:") - 1;

    if (n > k && n - k < sizeof(v) && !strncasecmp(buf, "Retry-After:", k)) {
        char *end;
        long s;

        memcpy(v, buf + k, n - k);
        v[n - k] = '\0';
        v[strcspn(v, "\r\n")] = '\0';
        s = strtol(v, &end, 10);
        if (end != v && *end == '\0' && s >= 0) {
            x->retry_after_s = s;
        } else {
            time_t t = curl_getdate(v + strspn(v, " "), NULL);
            time_t now = time(NULL);

            if (t > 0)
                x->retry_after_s = t > now ? (long)(t - now) : 0;
        }
    }
    return n;
}

int outbound_easy_setup(const struct outbound_policy *p, CURL *h, const char *url,
                        struct outbound_xfer *x)
{
    struct outbound_url u;

    if (outbound_url_parse(url, &u) != 0)
        return -EINVAL;
    memset(x, 0, sizeof(*x));
    x->p = p;
    x->host_allowed = outbound_host_allowed(p, u.host);
    x->retry_after_s = -1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY,
                     ""); /* never an environment proxy: it would dodge the check */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (p->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, p->ca_file);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L); /* wait for an HTTP/2 connection to multiplex on */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_line);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->max_response_bytes);
    return 0;
}

/* ---- a GET that keeps its body (alert sources, CAP feeds) ---- */

struct fetch_xfer {
    struct outbound_xfer x; /* first: the policy's callbacks get this pointer */
    struct outbound_fetch *f;
    size_t cap;
    bool too_big;
};

static size_t body_keep(const char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct fetch_xfer *fx = userdata;
    struct outbound_fetch *f = fx->f;
    size_t n = size * nmemb;

    if (f->len + n > f->max) {
        fx->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (f->len + n + 1 > fx->cap) {
        while (f->len + n + 1 > fx->cap)
            fx->cap = fx->cap ? fx->cap * 2 : 16384;
        f->body = xrealloc(f->body, fx->cap);
    }
    memcpy(f->body + f->len, ptr, n);
    f->len += n;
    f->body[f->len] = '\0';
    return n;
}

/* The validators and caching headers into `f`, each only when it fits whole. */
static size_t header_keep(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct fetch_xfer *fx = userdata;
    size_t n = size * nitems;
    static const struct {
        const char *name;
        size_t off, cap;
    } keep[] = {
        { "ETag:", offsetof(struct outbound_fetch, etag),
          sizeof(((struct outbound_fetch *)0)->etag) },
        { "Last-Modified:", offsetof(struct outbound_fetch, last_modified),
          sizeof(((struct outbound_fetch *)0)->last_modified) },
        { "Content-Type:", offsetof(struct outbound_fetch, content_type),
          sizeof(((struct outbound_fetch *)0)->content_type) },
        { "Cache-Control:", offsetof(struct outbound_fetch, cache_control),
          sizeof(((struct outbound_fetch *)0)->cache_control) },
        { "Expires:", offsetof(struct outbound_fetch, expires),
          sizeof(((struct outbound_fetch *)0)->expires) },
        { "Date:", offsetof(struct outbound_fetch, date),
          sizeof(((struct outbound_fetch *)0)->date) },
    };

    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        size_t k = strlen(keep[i].name);
        const char *v = buf + k;
        size_t vn;

        if (n <= k || strncasecmp(buf, keep[i].name, k) != 0)
            continue;
        while (v < buf + n && (*v == ' ' || *v == '\t'))
            v++;
        vn = (size_t)(buf + n - v);
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
            vn--;
        if (vn < keep[i].cap) {
            memcpy((char *)fx->f + keep[i].off, v, vn);
            ((char *)fx->f + keep[i].off)[vn] = '\0';
        }
    }
    return n;
}

int outbound_fetch(const struct outbound_policy *p, const char *url, const char *etag,
                   const char *last_modified, size_t max_bytes, struct outbound_fetch *out,
                   char *why, size_t whylen)
{
    struct fetch_xfer fx = { .f = out };
    struct curl_slist *hdr = NULL;
    char line[320];
    CURL *h = NULL;
    CURLcode rc;
    int err;

    memset(out, 0, sizeof(*out));
    out->max = max_bytes;
    snprintf(why, whylen, "%s", "");
    err = outbound_url_check(p, url);
    if (err) {
        snprintf(why, whylen, "%s",
                 err == -EPERM          ? "the address is not public and not in push_allow_hosts"
                 : err == -EHOSTUNREACH ? "the host name does not resolve"
                                        : "not an https URL");
        return err;
    }
    h = curl_easy_init();
    if (!h)
        return -ENOMEM;
    err = outbound_easy_setup(p, h, url, &fx.x);
    if (err)
        goto out;
    if (etag && *etag && strlen(etag) < 300) {
        snprintf(line, sizeof(line), "If-None-Match: %s", etag);
        hdr = curl_slist_append(hdr, line);
    }
    if (last_modified && *last_modified && strlen(last_modified) < 280) {
        snprintf(line, sizeof(line), "If-Modified-Since: %s", last_modified);
        hdr = curl_slist_append(hdr, line);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &fx);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_keep);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &fx);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, p->user_agent);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    if (fx.x.refused) {
        snprintf(why, whylen, "%s", "the address is not public and not in push_allow_hosts");
        err = -EPERM;
    } else if (fx.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, whylen, "the answer is larger than %zu bytes", max_bytes);
        err = -EMSGSIZE;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(why, whylen, "%s", "no complete answer in time");
        err = -ETIMEDOUT;
    } else if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s", curl_easy_strerror(rc));
        err = -EIO;
    }
out:
    if (err || out->status != 200) {
        free(out->body);
        out->body = NULL;
        out->len = 0;
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return err;
}

void outbound_fetch_release(struct outbound_fetch *f)
{
    free(f->body);
    f->body = NULL;
    f->len = 0;
}
