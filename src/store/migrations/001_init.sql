-- 001_init: server metadata, staff accounts and their API tokens.
--
-- Tables are STRICT so a wrong type is an error, not a silent conversion. Every CHECK mirrors a
-- limit that store/ also validates before queuing a write (the struct sizes in store.h), so a
-- violation here means a bug, reported as -EIO. Rules for later migrations: docs/STORE.md.

-- Small server-wide values ("ping_ms", later the VAPID public key, ...).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Staff accounts. E-mails are stored lower-cased (ASCII, like NOCASE) and compared with
-- NOCASE, so "Ana@Comune.it" and "ana@comune.it" are one account; the UNIQUE index carries
-- the NOCASE collation and serves the login lookup. org_id becomes a reference to orgs(id) in
-- the migration that adds orgs; operators belong to no org.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE COLLATE NOCASE
                         CHECK (length(CAST(email AS BLOB)) BETWEEN 3 AND 255
                                AND instr(email, '@') > 1
                                AND email = lower(email) COLLATE BINARY),
    role                 INTEGER NOT NULL CHECK (role IN (1, 2, 3)),
    org_id               INTEGER,
    password_hash        TEXT NOT NULL CHECK (length(password_hash) > 0),
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    created_ms           INTEGER NOT NULL,
    disabled_ms          INTEGER,
    CHECK (role <> 1 OR org_id IS NULL)
) STRICT;

-- API tokens: only the SHA-256 of the token is kept (core/secret.h), so a leaked database
-- does not leak usable tokens. Revoking keeps the row (audit: when, and that it existed).
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 127),
    hash         BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER,
    revoked_ms   INTEGER
) STRICT;

-- Listing a user's tokens (newest first: the rowid is in the index) and ON DELETE CASCADE
-- both look tokens up by user; without this index each would scan the table.
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
