/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The dump's line parser (store/export.h): outside input, so every line is checked against the
 * format and against what came before it, and nothing a file says is trusted for sizes (names
 * are bounded, counts are compared, not allocated from). It does not touch a database.
 */
#include "store/export.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/export_int.h"

enum state {
    ST_HEADER,  /* nothing read yet */
    ST_BETWEEN, /* before a table line, or the end */
    ST_ROWS,    /* inside a table: rows, then its table_end */
    ST_DONE,    /* the end line was read: nothing may follow */
    ST_FAILED,
};

struct store_dump_parser {
    enum state state;
    json_t *line; /* the last line's value: the record's strings point into it */
    char **tables;
    size_t ntables, next; /* next: the index of the table expected next */
    struct store_dump_column *cols;
    size_t ncols;
    struct store_dump_value *values;
    unsigned char **blobs; /* one decode buffer per column */
    size_t *blob_cap;
    uint64_t rows, total;
    uint64_t lineno;
};

struct store_dump_parser *store_dump_parser_new(void)
{
    return xcalloc(1, sizeof(struct store_dump_parser));
}

static void free_columns(struct store_dump_parser *p)
{
    for (size_t i = 0; i < p->ncols; i++) {
        free((char *)p->cols[i].name);
        free(p->blobs[i]);
    }
    free(p->cols);
    free(p->values);
    free(p->blobs);
    free(p->blob_cap);
    p->cols = NULL;
    p->values = NULL;
    p->blobs = NULL;
    p->blob_cap = NULL;
    p->ncols = 0;
}

void store_dump_parser_free(struct store_dump_parser *p)
{
    if (!p)
        return;
    free_columns(p);
    for (size_t i = 0; i < p->ntables; i++)
        free(p->tables[i]);
    free(p->tables);
    json_decref(p->line);
    free(p);
}

bool store_dump_parser_done(const struct store_dump_parser *p)
{
    return p->state == ST_DONE;
}

const char *store_dump_parser_where(const struct store_dump_parser *p, char *buf, size_t len)
{
    switch (p->state) {
    case ST_HEADER:
        snprintf(buf, len, "before the header");
        break;
    case ST_ROWS:
        snprintf(buf, len, "inside table '%s' after %llu rows", p->tables[p->next],
                 (unsigned long long)p->rows);
        break;
    case ST_BETWEEN:
        if (p->next < p->ntables) {
            snprintf(buf, len, "before table '%s'", p->tables[p->next]);
            break;
        }
        snprintf(buf, len, "before the end line");
        break;
    default:
        snprintf(buf, len, "at line %llu", (unsigned long long)p->lineno);
        break;
    }
    return buf;
}

bool store__dump_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > STORE_EXPORT_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static int fail(struct store_dump_parser *p, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "line %llu: %s", (unsigned long long)p->lineno, what);
    p->state = ST_FAILED;
    return -EINVAL;
}

static int parse_header(struct store_dump_parser *p, json_t *v, struct store_dump_record *out,
                        char *err, size_t errlen)
{
    json_t *tables = json_object_get(v, "tables");
    json_t *version = json_object_get(v, "version");
    json_t *schema = json_object_get(v, "schema");
    const char *format = json_string_value(json_object_get(v, "format"));
    const char *engine = json_string_value(json_object_get(v, "engine"));
    size_t n;

    if (!format || strcmp(format, "araldo-export") != 0)
        return fail(p, err, errlen, "not an araldo export (no araldo-export header)");
    if (!json_is_integer(version))
        return fail(p, err, errlen, "the header has no format version");
    if (json_integer_value(version) != STORE_EXPORT_FORMAT) {
        snprintf(err, errlen,
                 "the export has format version %lld; this araldo reads version %d: import it "
                 "with the araldo that wrote it",
                 (long long)json_integer_value(version), STORE_EXPORT_FORMAT);
        p->state = ST_FAILED;
        return -EINVAL;
    }
    if (!json_is_integer(schema) || json_integer_value(schema) < 1 ||
        json_integer_value(schema) > 100000)
        return fail(p, err, errlen, "the header has no valid schema version");
    if (!engine || (strcmp(engine, "sqlite") != 0 && strcmp(engine, "postgresql") != 0))
        return fail(p, err, errlen, "the header names no known engine");
    n = json_array_size(tables);
    if (!json_is_array(tables) || n == 0 || n > STORE_EXPORT_TABLES_MAX)
        return fail(p, err, errlen, "the header has no valid table list");
    p->tables = xcalloc(n, sizeof(*p->tables));
    for (size_t i = 0; i < n; i++) {
        const char *t = json_string_value(json_array_get(tables, i));

        if (!t || !store__dump_name_ok(t))
            return fail(p, err, errlen, "the header's table list has an invalid name");
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(p->tables[j], t))
                return fail(p, err, errlen, "the header names a table twice");
        }
        p->tables[i] = xstrdup(t);
        p->ntables = i + 1;
    }
    out->kind = STORE_DUMP_HEADER;
    out->schema = (int)json_integer_value(schema);
    out->engine = engine;
    out->ntables = p->ntables;
    out->tables = (const char *const *)p->tables;
    p->state = ST_BETWEEN;
    return 0;
}

static int type_parse(const char *s, enum store_dump_type *t)
{
    static const char *const names[] = { "integer", "real", "text", "blob" };

    for (size_t i = 0; s && i < ARRAY_SIZE(names); i++) {
        if (!strcmp(s, names[i])) {
            *t = (enum store_dump_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_table(struct store_dump_parser *p, json_t *v, struct store_dump_record *out,
                       char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(v, "table"));
    json_t *cols = json_object_get(v, "columns");
    size_t n = json_array_size(cols);

    if (!name || strcmp(name, p->tables[p->next]) != 0)
        return fail(p, err, errlen, "a table is out of the header's order");
    if (!json_is_array(cols) || n == 0 || n > STORE_EXPORT_COLUMNS_MAX)
        return fail(p, err, errlen, "the table has no valid column list");
    free_columns(p);
    p->cols = xcalloc(n, sizeof(*p->cols));
    p->values = xcalloc(n, sizeof(*p->values));
    p->blobs = xcalloc(n, sizeof(*p->blobs));
    p->blob_cap = xcalloc(n, sizeof(*p->blob_cap));
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(cols, i);
        const char *cname = json_string_value(json_array_get(c, 0));

        if (json_array_size(c) != 2 || !cname || !store__dump_name_ok(cname) ||
            type_parse(json_string_value(json_array_get(c, 1)), &p->cols[i].type))
            return fail(p, err, errlen, "the table has an invalid column");
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(p->cols[j].name, cname))
                return fail(p, err, errlen, "the table names a column twice");
        }
        p->cols[i].name = xstrdup(cname);
        p->ncols = i + 1;
    }
    out->kind = STORE_DUMP_TABLE;
    out->table = p->tables[p->next];
    out->ncols = p->ncols;
    out->cols = p->cols;
    p->rows = 0;
    p->state = ST_ROWS;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode column `i`'s hex into its buffer. */
static int blob_parse(struct store_dump_parser *p, size_t i, const char *s, size_t n)
{
    unsigned char *b;

    if (n % 2)
        return -EINVAL;
    if (p->blob_cap[i] < n / 2 + 1) {
        p->blob_cap[i] = n / 2 + 1;
        p->blobs[i] = xrealloc(p->blobs[i], p->blob_cap[i]);
    }
    b = p->blobs[i];
    for (size_t k = 0; k < n; k += 2) {
        int hi = hex_digit(s[k]), lo = hex_digit(s[k + 1]);

        if (hi < 0 || lo < 0)
            return -EINVAL;
        b[k / 2] = (unsigned char)(hi << 4 | lo);
    }
    p->values[i].p = (const char *)b;
    p->values[i].len = n / 2;
    return 0;
}

static int value_parse(struct store_dump_parser *p, size_t i, json_t *j)
{
    struct store_dump_value *v = &p->values[i];

    *v = (struct store_dump_value){ 0 };
    if (json_is_null(j)) {
        v->null = true;
        return 0;
    }
    switch (p->cols[i].type) {
    case STORE_DUMP_INTEGER:
        if (!json_is_integer(j))
            return -EINVAL;
        v->i = (int64_t)json_integer_value(j);
        return 0;
    case STORE_DUMP_REAL:
        if (!json_is_number(j))
            return -EINVAL;
        v->d = json_number_value(j);
        return 0;
    case STORE_DUMP_TEXT:
        if (!json_is_string(j))
            return -EINVAL;
        v->p = json_string_value(j);
        v->len = json_string_length(j);
        return 0;
    case STORE_DUMP_BLOB:
        if (!json_is_string(j))
            return -EINVAL;
        return blob_parse(p, i, json_string_value(j), json_string_length(j));
    }
    return -EINVAL;
}

static int parse_row(struct store_dump_parser *p, json_t *v, struct store_dump_record *out,
                     char *err, size_t errlen)
{
    if (json_array_size(v) != p->ncols)
        return fail(p, err, errlen, "a row has the wrong number of values");
    for (size_t i = 0; i < p->ncols; i++) {
        if (value_parse(p, i, json_array_get(v, i))) {
            char what[160];

            snprintf(what, sizeof(what), "column '%s' holds a value that is not %s",
                     p->cols[i].name,
                     p->cols[i].type == STORE_DUMP_INTEGER ? "an integer"
                     : p->cols[i].type == STORE_DUMP_REAL  ? "a number"
                     : p->cols[i].type == STORE_DUMP_TEXT  ? "text"
                                                           : "hex bytes");
            return fail(p, err, errlen, what);
        }
    }
    if (p->rows == UINT64_MAX)
        return fail(p, err, errlen, "too many rows");
    p->rows++;
    out->kind = STORE_DUMP_ROW;
    out->table = p->tables[p->next];
    out->ncols = p->ncols;
    out->cols = p->cols;
    out->values = p->values;
    return 0;
}

static bool count_ok(json_t *j, uint64_t want)
{
    return json_is_integer(j) && json_integer_value(j) >= 0 &&
           (uint64_t)json_integer_value(j) == want;
}

static int parse_table_end(struct store_dump_parser *p, json_t *v, struct store_dump_record *out,
                           char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(v, "table_end"));
    json_t *last = json_object_get(v, "last_id");

    if (!name || strcmp(name, p->tables[p->next]) != 0)
        return fail(p, err, errlen, "a table's end names another table");
    if (!count_ok(json_object_get(v, "rows"), p->rows))
        return fail(p, err, errlen, "a table's row count does not match its rows");
    if (last && (!json_is_integer(last) || json_integer_value(last) < 0))
        return fail(p, err, errlen, "a table's last_id is not a count");
    out->kind = STORE_DUMP_TABLE_END;
    out->table = p->tables[p->next];
    out->rows = p->rows;
    out->last_id = last ? (int64_t)json_integer_value(last) : 0;
    p->total += p->rows;
    p->next++;
    p->state = ST_BETWEEN;
    return 0;
}

static int parse_end(struct store_dump_parser *p, json_t *v, struct store_dump_record *out,
                     char *err, size_t errlen)
{
    if (p->next != p->ntables)
        return fail(p, err, errlen, "the end comes before every table of the header");
    if (!count_ok(json_object_get(v, "tables"), p->ntables) ||
        !count_ok(json_object_get(v, "rows"), p->total))
        return fail(p, err, errlen, "the end's counts do not match the dump");
    out->kind = STORE_DUMP_END;
    out->rows = p->total;
    p->state = ST_DONE;
    return 0;
}

/* Dispatch a parsed line by the state and its shape. */
static int parse_value(struct store_dump_parser *p, json_t *v, struct store_dump_record *out,
                       char *err, size_t errlen)
{
    switch (p->state) {
    case ST_HEADER:
        if (!json_is_object(v))
            return fail(p, err, errlen, "not an araldo export (the first line is no header)");
        return parse_header(p, v, out, err, errlen);
    case ST_BETWEEN:
        if (json_is_object(v) && json_object_get(v, "table") && p->next < p->ntables)
            return parse_table(p, v, out, err, errlen);
        if (json_is_object(v) && json_is_true(json_object_get(v, "end")))
            return parse_end(p, v, out, err, errlen);
        return fail(p, err, errlen, "expected a table or the end");
    case ST_ROWS:
        if (json_is_array(v))
            return parse_row(p, v, out, err, errlen);
        if (json_is_object(v) && json_object_get(v, "table_end"))
            return parse_table_end(p, v, out, err, errlen);
        return fail(p, err, errlen, "expected a row or the table's end");
    case ST_DONE:
        return fail(p, err, errlen, "data after the end line");
    default:
        return fail(p, err, errlen, "the dump was already refused");
    }
}

int store_dump_parse(struct store_dump_parser *p, const char *line, size_t len,
                     struct store_dump_record *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *v;

    p->lineno++;
    memset(out, 0, sizeof(*out));
    if (p->state == ST_FAILED)
        return fail(p, err, errlen, "the dump was already refused");
    if (len > STORE_EXPORT_LINE_MAX)
        return fail(p, err, errlen, "line too long");
    json_decref(p->line);
    p->line = NULL;
    v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        char what[200];

        /* jansson's text quotes the input near the error: only say where */
        snprintf(what, sizeof(what), "not JSON (at byte %d)", jerr.position);
        return fail(p, err, errlen, what);
    }
    p->line = v;
    return parse_value(p, v, out, err, errlen);
}
