/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * store/ internals of reactions and polls that the posts code uses: the SQL that reads a
 * post's aggregates as JSON text (so a post and its counts come from one statement, in one
 * snapshot), and the poll made inside the post's own create transaction. store/ only.
 */
#ifndef STORE_REACTIONS_INT_H
#define STORE_REACTIONS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/secret.h"
#include "store/reactions.h"
#include "store/store_int.h"

/*
 * A post's reaction counts as a JSON object, most used first (REACTIONS_SHOWN_MAX at most);
 * `P` is the posts table's alias. Reads reaction_counts only: never who.
 */
#define STORE_REACTIONS_SQL(P)                                                        \
    "(SELECT coalesce(json_group_object(emoji, n), '{}') FROM (SELECT emoji, n"       \
    " FROM reaction_counts WHERE post_id = " P ".id AND n > 0 ORDER BY n DESC, emoji" \
    " LIMIT 50) r)"
/*
 * The same on PostgreSQL (use both through DB_SQL), spelled out so the text is SQLite's
 * compact form: json_object_agg's has spaces, and events carry this text as it is.
 */
#define STORE_REACTIONS_SQL_PG(P)                                                     \
    "(SELECT '{' || coalesce(string_agg(to_json(emoji)::text || ':' || n, ','"        \
    " ORDER BY n DESC, emoji COLLATE \"C\"), '') || '}' FROM (SELECT emoji, n"        \
    " FROM reaction_counts WHERE post_id = " P ".id AND n > 0 ORDER BY n DESC, emoji" \
    " LIMIT 50) r)"
/*
 * A post's poll as JSON text for store_poll_json() (closes_ms, not yet closes_at/closed, which
 * depend on the reader's clock), or NULL when it has none. json() around the subquery: SQLite
 * drops the JSON subtype across a subquery, which would embed the array as a string.
 */
#define STORE_POLL_SQL(P)                                                              \
    "(SELECT json_object('question', pl.question, 'options', json((SELECT"             \
    " json_group_array(json_object('text', t, 'votes', v)) FROM (SELECT o.value AS t," \
    " coalesce(c.n, 0) AS v FROM json_each(pl.options) o LEFT JOIN poll_counts c"      \
    " ON c.post_id = pl.post_id AND c.option = o.key ORDER BY o.key))),"               \
    " 'multiple', json(iif(pl.multiple, 'true', 'false')), 'closes_ms', pl.closes_ms," \
    " 'total_voters', pl.voters) FROM polls pl WHERE pl.post_id = " P ".id)"
/* The same on PostgreSQL (use both through DB_SQL). */
#define STORE_POLL_SQL_PG(P)                                                       \
    "(SELECT json_build_object('question', pl.question, 'options', (SELECT"        \
    " coalesce(json_agg(json_build_object('text', o.t, 'votes', coalesce(c.n, 0))" \
    " ORDER BY o.k), '[]'::json) FROM json_array_elements_text(pl.options::json)"  \
    " WITH ORDINALITY o(t, k) LEFT JOIN poll_counts c"                             \
    " ON c.post_id = pl.post_id AND c.option = o.k - 1),"                          \
    " 'multiple', pl.multiple <> 0, 'closes_ms', pl.closes_ms,"                    \
    " 'total_voters', pl.voters)::text FROM polls pl WHERE pl.post_id = " P ".id)"

/* A poll copied for a queued post create (store__poll_copy); free with store__poll_free. */
struct store__poll {
    char *question;
    char *options_json; /* JSON array of the option texts */
    unsigned n_options;
    bool multiple;
    int64_t closes_ms;
};
/* Copy `p` (valid per store_poll_new_valid) for the writer. Aborts on OOM. */
struct store__poll *store__poll_copy(const struct store_poll_new *p);
void store__poll_free(struct store__poll *p); /* NULL-safe */
/* Make post `post_id`'s poll and its per-option counters, in the caller's transaction. */
MUST_CHECK int store__poll_insert(struct store_tx *tx, int64_t post_id,
                                  const struct store__poll *p);

/*
 * Mark post `post_id` for a "counts" event, in the caller's transaction (a reaction, a vote):
 * the node holding the "counts" lease writes it (store_counts_flush). Idempotent.
 */
MUST_CHECK int store__counts_mark(struct store_tx *tx, int64_t post_id);
/*
 * Before a reaction or vote changes post `post_id`'s counters: on PostgreSQL, lock the post's
 * row so that writes on one post from several nodes take their locks in one order (no
 * deadlock). Nothing on SQLite.
 */
MUST_CHECK int store__counts_lock(struct store_tx *tx, int64_t post_id);

#endif
