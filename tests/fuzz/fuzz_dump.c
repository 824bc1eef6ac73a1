/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The dump's line parser (store/export.h), which `araldo import` runs on a file from elsewhere:
 * the input is split at newlines and fed line by line, as the import does. Whatever it says, a
 * record must agree with itself (a row has its table's number of values, a blob its bytes, text
 * its length) and nothing is accepted after a refusal or after the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const struct store_dump_record *r, size_t *ncols)
{
    switch (r->kind) {
    case STORE_DUMP_HEADER:
        if (!r->ntables || !r->tables || !r->engine)
            abort();
        break;
    case STORE_DUMP_TABLE:
        if (!r->ncols || !r->cols || !r->table)
            abort();
        *ncols = r->ncols;
        break;
    case STORE_DUMP_ROW:
        if (r->ncols != *ncols || !r->values)
            abort();
        for (size_t i = 0; i < r->ncols; i++) {
            const struct store_dump_value *v = &r->values[i];

            if (v->null)
                continue;
            if (r->cols[i].type == STORE_DUMP_TEXT && (!v->p || strlen(v->p) > v->len))
                abort();
            if (r->cols[i].type == STORE_DUMP_BLOB && v->len && !v->p)
                abort();
            if (v->len) /* touch every byte the record claims (ASan checks the bounds) */
                (void)memchr(v->p, 0x100, v->len);
        }
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_dump_parser *p = store_dump_parser_new();
    struct store_dump_record rec;
    const char *s = (const char *)data, *end = s + size;
    size_t ncols = 0;
    bool failed = false, done = false;
    char err[256];

    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        int rc = store_dump_parse(p, s, len, &rec, err, sizeof(err));

        if (rc == 0 && (failed || done))
            abort(); /* nothing goes in after a refusal or after the end */
        if (rc == 0) {
            check_record(&rec, &ncols);
        } else if (!err[0]) {
            abort(); /* a refusal says why */
        }
        failed |= rc != 0;
        done = store_dump_parser_done(p);
        s += len + 1;
    }
    store_dump_parser_free(p);
    return 0;
}
