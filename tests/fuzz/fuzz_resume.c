/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * What a client sends to resume or choose a stream: SSE Last-Event-ID cursors, ?channels=
 * lists and WebSocket subscribe messages. The first byte picks the parser. A cursor that
 * parses must format back to text that parses to the same positions.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/stream_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPOS 8

static void cursor(const char *s)
{
    struct api_pos a[NPOS], b[NPOS];
    char text[API_CURSOR_MAX_BYTES + 1];
    int n = api__cursor_parse(s, a, NPOS), m;

    if (n < 0)
        return;
    if (n == 0 || n > NPOS)
        abort(); /* success means 1..max positions */
    if (api__cursor_format(a, (size_t)n, text, sizeof(text)) < 0)
        abort(); /* whatever parsed fits back */
    m = api__cursor_parse(text, b, NPOS);
    if (m != n)
        abort();
    for (int i = 0; i < n; i++) {
        if (strcmp(a[i].handle, b[i].handle) != 0 || a[i].seq != b[i].seq || a[i].seq < 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_pos pos[NPOS];
    enum api_ws_type type;
    char why[200];
    char *s;
    int n;

    if (!size)
        return 0;
    s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0:
        cursor(s);
        break;
    case 1:
        n = api__channel_list_parse(s, pos, NPOS);
        if (n == 0 || n > NPOS)
            abort();
        break;
    default:
        n = api__ws_msg_parse((const char *)data + 1, size - 1, &type, pos, NPOS, why, sizeof(why));
        if (n == 0 || n > NPOS)
            abort();
        break;
    }
    free(s);
    return 0;
}
