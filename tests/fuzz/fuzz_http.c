/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Fuzz target for the request parser (src/http/parse.h) and the target decoders. The input is a
 * byte stream from a client. It is parsed twice, once whole and once a byte at a time, and the
 * two must report the same sequence of events: framing that depends on how bytes were split
 * into reads would be a smuggling bug even when nothing crashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 64

/* Parse `data` in steps of `step` bytes; record events as status * 1000 + error status. */
static size_t run(const char *data, size_t size, size_t step, int *ev)
{
    struct http_parse p;
    struct buf path, q;
    size_t off = 0, nev = 0;

    http_parse_init(&p, 2048, 4096);
    buf_init(&path, 2048);
    buf_init(&q, 2048);
    while (nev < MAX_EVENTS) {
        size_t n = size - off < step ? size - off : step, used;
        enum http_parse_status st = http_parse_feed(&p, data + off, n, &used);
        const char *query;

        if (used > n)
            abort();
        off += used;
        if (st == HTTP_PARSE_MORE) {
            if (off >= size)
                break;
            continue;
        }
        ev[nev++] = (int)st * 1000 + p.err_status;
        if (st == HTTP_PARSE_ERROR)
            break;
        if (st == HTTP_PARSE_HEAD) {
            if (!p.target || !p.method_name)
                abort();
            if (!http_path_decode(p.target, &path, &query) && query)
                (void)!http_query_decode(query, strcspn(query, "#"), &q);
            (void)http_parse_header(&p, "content-type");
            http_parse_set_body_limit(&p, 1024);
            continue;
        }
        http_parse_reset(&p, 256); /* DONE: the next pipelined request */
    }
    buf_release(&q);
    buf_release(&path);
    http_parse_release(&p);
    return nev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int whole[MAX_EVENTS], bytes[MAX_EVENTS];
    size_t nw, nb;

    if (size > 64 * 1024)
        return 0;
    nw = run((const char *)data, size, size ? size : 1, whole);
    nb = run((const char *)data, size, 1, bytes);
    if (nw != nb || memcmp(whole, bytes, nw * sizeof(int)) != 0)
        abort(); /* framing must not depend on how the bytes were split */
    return 0;
}
