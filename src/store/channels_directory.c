/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * The directory: listed channels found by words (FTS5), category and org, in three orders, a
 * page at a time behind an opaque cursor (store_channel_search).
 */
#include "store/channels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/channels_int.h"
#include "store/store_int.h"

/*
 * Turn what a person typed into an FTS5 query that cannot be a syntax error: every term is
 * quoted (inner quotes doubled), terms without a letter or digit are dropped (they would be
 * empty phrases), the last term matches as a prefix ("citt" finds "Città"), and at most
 * DIR_TERMS_MAX terms are kept. Returns false when nothing searchable is left.
 */
#define DIR_TERMS_MAX 8
#define DIR_QUERY_MAX 1024 /* bytes of the built query; the API caps q at 100 characters */

static bool fts_query(const char *q, char *out, size_t outlen)
{
    size_t o = 0, terms = 0, last_end = 0;
    const char *p = q;

    while (*p && terms < DIR_TERMS_MAX) {
        const char *s;
        bool alnum = false;

        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        s = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        for (const char *c = s; c < p; c++) {
            unsigned char u = (unsigned char)*c;

            alnum |=
                u >= 0x80 || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
        }
        if (!alnum)
            continue;
        if (o + 2 * (size_t)(p - s) + 6 >= outlen)
            break;
        if (o)
            out[o++] = ' ';
        out[o++] = '"';
        for (const char *c = s; c < p; c++) {
            if (*c == '"')
                out[o++] = '"';
            out[o++] = *c;
        }
        out[o++] = '"';
        last_end = o;
        terms++;
    }
    if (!terms)
        return false;
    out[last_end] = '*';
    out[last_end + 1] = '\0';
    return true;
}

static bool word_byte(unsigned char u)
{
    return u >= 0x80 || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
}

/*
 * The same search as fts_query() for PostgreSQL's to_tsquery() (the SQL folds case and
 * accents, as the channels' search_doc column does): a term's words in a row ('a' <-> 'b',
 * FTS5's phrase), terms joined by &, the last word a prefix (:*). Words are runs of ASCII
 * letters and digits and of non-ASCII bytes, each quoted, so nothing typed is an operator.
 */
static bool ts_query(const char *q, char *out, size_t outlen)
{
    size_t o = 0, terms = 0, last_end = 0;
    const char *p = q;

    while (*p && terms < DIR_TERMS_MAX) {
        bool first = true;

        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            const char *s;

            while (*p && !word_byte((unsigned char)*p) && *p != ' ' && *p != '\t' && *p != '\n' &&
                   *p != '\r')
                p++;
            s = p;
            while (*p && word_byte((unsigned char)*p))
                p++;
            if (p == s)
                continue;
            if (o + (size_t)(p - s) + 12 >= outlen)
                goto done;
            if (o)
                o += (size_t)snprintf(out + o, outlen - o, first ? " & " : " <-> ");
            out[o++] = '\'';
            memcpy(out + o, s, (size_t)(p - s));
            o += (size_t)(p - s);
            out[o++] = '\'';
            last_end = o;
            first = false;
        }
        if (!first)
            terms++;
    }
done:
    if (!terms)
        return false;
    memcpy(out + last_end, ":*", 3);
    return true;
}

/* A cursor is "<sort letter><key>.<id>": opaque to clients, checked strictly here. */
static const char sort_letters[] = "pna";

static bool cursor_parse(const char *c, enum store_dir_sort sort, int64_t *key, int64_t *id)
{
    char *end;
    long long k, i;

    if (!c || c[0] != sort_letters[sort] || strlen(c) >= STORE_CURSOR_MAX)
        return false;
    k = strtoll(c + 1, &end, 10);
    if (end == c + 1 || *end != '.')
        return false;
    c = end + 1;
    i = strtoll(c, &end, 10);
    if (end == c || *end || i <= 0 || k < 0)
        return false;
    *key = k;
    *id = i;
    return true;
}

/* ?1 is fts_query()'s text on SQLite, ts_query()'s on PostgreSQL. */
#define DIR_WHERE_OF(MATCH_1)                                        \
    " WHERE c.visibility = 'listed' AND (?1 IS NULL OR " MATCH_1 ")" \
    " AND (?2 IS NULL OR c.category = ?2) AND (?3 IS NULL OR o.slug = ?3)"
#define DIR_SQL(HEAD, TAIL)                                                               \
    DB_SQL(HEAD DIR_WHERE_OF("c.id IN (SELECT rowid FROM channels_fts WHERE channels_fts" \
                             " MATCH ?1)") TAIL "",                                       \
           HEAD DIR_WHERE_OF("c.search_doc @@ to_tsquery('simple', araldo_fold(?1))") TAIL "")

int store_channel_search(struct store_reader *r, const struct store_dir_query *q,
                         store_channel_fn *each, void *ctx, char next[STORE_CURSOR_MAX])
{
    static const char popular[] = DIR_SQL(
        "SELECT " CHANNEL_COLS ", c.followers_count" CHANNEL_FROM,
        " AND (?4 IS NULL OR (c.followers_count, c.id) < (CAST(?4 AS bigint), CAST(?5 AS bigint)))"
        " ORDER BY c.followers_count DESC, c.id DESC LIMIT ?6");
    static const char newest[] = DIR_SQL(
        "SELECT " CHANNEL_COLS ", c.created_ms" CHANNEL_FROM,
        " AND (?4 IS NULL OR (c.created_ms, c.id) < (CAST(?4 AS bigint), CAST(?5 AS bigint)))"
        " ORDER BY c.created_ms DESC, c.id DESC LIMIT ?6");
    static const char active[] =
        DIR_SQL("SELECT " CHANNEL_COLS ", coalesce(c.last_post_ms, 0)" CHANNEL_FROM,
                " AND (?4 IS NULL OR (coalesce(c.last_post_ms, 0), c.id) < (CAST(?4 AS bigint), "
                "CAST(?5 AS bigint)))"
                " ORDER BY coalesce(c.last_post_ms, 0) DESC, c.id DESC LIMIT ?6");
    const char *sqls[] = { popular, newest, active };
    struct store_channel *ch = NULL;
    char fq[DIR_QUERY_MAX];
    struct db_stmt *st = NULL;
    unsigned n = 0;
    int64_t key = 0, id = 0, last_key = 0, last_id = 0;
    int err = -EINVAL;

    next[0] = '\0';
    if ((unsigned)q->sort > STORE_DIR_ACTIVE || q->limit < 1)
        goto out;
    if (q->cursor && !cursor_parse(q->cursor, q->sort, &key, &id))
        goto out;
    err = -EIO;
    st = db_stmt(r->db, sqls[q->sort]);
    if (!st)
        goto out;
    if (q->q && (db_backend(r->db) == DB_PG ? ts_query(q->q, fq, sizeof(fq))
                                            : fts_query(q->q, fq, sizeof(fq))))
        db_bind_text(st, 1, fq);
    if (q->category)
        db_bind_text(st, 2, q->category);
    if (q->org_slug)
        db_bind_text(st, 3, q->org_slug);
    if (q->cursor) {
        db_bind_i64(st, 4, key);
        db_bind_i64(st, 5, id);
    }
    /* One more than asked: whether there is a next page without a second query. */
    db_bind_i64(st, 6, (int64_t)q->limit + 1);
    ch = xmalloc(sizeof(*ch));
    while ((err = store__channel_step_row(r, st, "channel_search")) == 1) {
        if (n == q->limit) {
            snprintf(next, STORE_CURSOR_MAX, "%c%lld.%lld", sort_letters[q->sort],
                     (long long)last_key, (long long)last_id);
            break;
        }
        store__channel_from_row(st, 0, ch);
        last_key = db_col_i64(st, CHANNEL_NCOLS);
        last_id = ch->id;
        each(ctx, ch);
        n++;
    }
    if (err > 0)
        err = 0;
out:
    free(ch);
    db_reset(st);
    return err;
}
