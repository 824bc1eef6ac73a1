-- 002_orgs_accounts: organizations (a Comune), staff sessions and the per-org audit log.
--
-- users.org_id from 001 becomes a reference to orgs(id). Rebuilding users to add a real FOREIGN
-- KEY would need foreign_keys = OFF, which cannot change inside the migration's transaction,
-- and dropping users with it ON would cascade-delete every API token. So the reference is kept
-- by triggers instead: an org_id, when present, must name an existing org, and an org with
-- accounts cannot be deleted. That org_admin and staff accounts HAVE an org is enforced by
-- store_staff_add (store/orgs.c), the only way such accounts are created.

-- Organizations. slug is the URL name ([a-z0-9-], 2-64 bytes); timezone an IANA name; logo a
-- media id (media upload comes later, only the reference is kept here).
CREATE TABLE orgs (
    id              INTEGER PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE
                    CHECK (length(slug) BETWEEN 2 AND 64 AND slug NOT GLOB '*[^a-z0-9-]*'),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    istat_code      TEXT CHECK (istat_code IS NULL OR (length(istat_code) = 6
                                                       AND istat_code NOT GLOB '*[^0-9]*')),
    jurisdiction_id TEXT CHECK (jurisdiction_id IS NULL OR length(jurisdiction_id) BETWEEN 1 AND 200),
    timezone        TEXT NOT NULL DEFAULT 'Europe/Rome'
                    CHECK (length(timezone) BETWEEN 1 AND 64),
    logo            TEXT CHECK (logo IS NULL OR length(logo) BETWEEN 1 AND 128),
    created_ms      INTEGER NOT NULL
) STRICT;

CREATE TRIGGER users_org_insert BEFORE INSERT ON users
    WHEN NEW.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orgs WHERE id = NEW.org_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: users.org_id');
END;

CREATE TRIGGER users_org_update BEFORE UPDATE OF org_id ON users
    WHEN NEW.org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orgs WHERE id = NEW.org_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: users.org_id');
END;

CREATE TRIGGER orgs_delete_in_use BEFORE DELETE ON orgs
    WHEN EXISTS (SELECT 1 FROM users WHERE org_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: users.org_id');
END;

CREATE INDEX users_by_org ON users (org_id) WHERE org_id IS NOT NULL;

-- Staff sessions (cookie sign-in). Only the SHA-256 of the session token is kept, like API
-- tokens. A session ends at expires_ms (absolute lifetime), after the idle limit without use
-- (last_seen_ms, refreshed at most every few minutes), or when ended_ms is set (sign-out,
-- password change, account disabled).
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash         BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    ended_ms     INTEGER
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Who did what in an org, newest first by id. user_id 0/NULL is the system (the scheduler);
-- detail is a JSON object or NULL. Entries name staff, never followers.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    user_id    INTEGER REFERENCES users(id),
    action     TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    target     TEXT NOT NULL CHECK (length(target) BETWEEN 0 AND 300),
    detail     TEXT CHECK (detail IS NULL OR json_valid(detail)),
    created_ms INTEGER NOT NULL
) STRICT;

-- Reading one org's log newest first, paginated by id: (org_id, id) serves WHERE org_id = ?
-- AND id < ? ORDER BY id DESC without a sort; created_ms grows with id.
CREATE INDEX audit_log_by_org ON audit_log (org_id, id);
CREATE INDEX audit_log_by_org_time ON audit_log (org_id, created_ms);
