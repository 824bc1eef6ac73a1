/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The numbered schema migrations, embedded at build time by scripts/embed-sql.sh. store/ only. */
#ifndef STORE_MIGRATIONS_H
#define STORE_MIGRATIONS_H

struct store_migration {
    int version;      /* NNN of NNN_name.sql: 1, 2, ... with no gaps */
    const char *name; /* "001_init" */
    const char *sql;
};

/* SQLite's (migrations/NNN_name.sql) */
extern const struct store_migration store_migrations[];
extern const unsigned store_migration_count;
/* PostgreSQL's (migrations/pg/NNN_name.sql): the same numbers and meaning, its own SQL */
extern const struct store_migration store_pg_migrations[];
extern const unsigned store_pg_migration_count;

#endif
