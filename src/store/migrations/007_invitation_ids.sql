-- 007_invitation_ids: admin invitation ids are never reused.
--
-- With a plain INTEGER PRIMARY KEY, SQLite gives a new row the largest id in the table plus
-- one, so when the newest invitation ends (accepted, dismissed, withdrawn, expired and purged)
-- the next one gets its id again, and an id a client kept (/api/v1/invitations/{id}) would
-- later name someone else's invitation. AUTOINCREMENT keeps the largest id ever used in
-- sqlite_sequence and never goes below it. Copying the rows with their ids seeds it with the
-- largest live id; ids of rows that ended before this migration cannot be recovered.
--
-- Nothing references admin_invitations, so the rebuild keeps every foreign key valid.

CREATE TABLE new_admin_invitations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    UNIQUE (channel_id, user_id)
) STRICT;

INSERT INTO new_admin_invitations (id, channel_id, user_id, invited_by, created_ms, expires_ms)
    SELECT id, channel_id, user_id, invited_by, created_ms, expires_ms FROM admin_invitations;

DROP TABLE admin_invitations;
ALTER TABLE new_admin_invitations RENAME TO admin_invitations;

CREATE INDEX admin_invitations_by_user ON admin_invitations (user_id);
