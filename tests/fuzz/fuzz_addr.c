/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Client addresses behind proxies (http_client_resolve, http_cidr_parse_list): whatever a
 * client or a proxy writes in X-Forwarded-For, Forwarded or trusted_proxies, the result is the
 * peer or an address that was written, and an untrusted peer's headers change nothing. The
 * first byte picks the mode and the peer; the rest, split at newlines, are the header lines
 * (the first line is also parsed as a trusted_proxies list).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const trusted_text = "127.0.0.0/8, ::1, 10.0.0.0/8";
    struct http_cidr trusted[HTTP_TRUSTED_MAX], parsed[HTTP_TRUSTED_MAX];
    const char *lines[8];
    size_t ntrusted = 0, nparsed = 0, nlines = 0;
    uint8_t peer[16];
    struct http_client out;
    char err[128];
    char *text, *p;

    if (size < 1)
        return 0;
    if (http_cidr_parse_list(trusted_text, trusted, HTTP_TRUSTED_MAX, &ntrusted, err, sizeof(err)))
        abort();
    if (!http_addr_parse(data[0] & 2 ? "10.1.2.3" : data[0] & 4 ? "127.0.0.1" : "192.0.2.1", peer))
        abort();
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    for (p = text; nlines < 8;) {
        lines[nlines++] = p;
        p = strchr(p, '\n');
        if (!p)
            break;
        *p++ = '\0';
    }
    if (http_cidr_parse_list(lines[0], parsed, HTTP_TRUSTED_MAX, &nparsed, err, sizeof(err)) == 0 &&
        nparsed > HTTP_TRUSTED_MAX)
        abort();
    struct http_fwd_in in = { .peer = peer,
                              .trusted = trusted,
                              .ntrusted = ntrusted,
                              .rfc7239 = data[0] & 1,
                              .fwd = lines,
                              .nfwd = nlines,
                              .proto = lines,
                              .nproto = nlines };
    http_client_resolve(&in, &out);
    if (!out.via_proxy && memcmp(out.addr, peer, 16) != 0)
        abort();
    if (!http_cidr_match(trusted, ntrusted, peer) &&
        (out.via_proxy || out.https || memcmp(out.addr, peer, 16) != 0))
        abort();
    free(text);
    return 0;
}
