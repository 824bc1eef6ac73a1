-- 003_channels_followers: channels, their admins and admin invitations, invite links,
-- anonymous followers and what they follow, the channel directory's search index and the
-- per-channel event stream.
--
-- Limits mirror src/store/channels.h (CHANNEL_*), validated there before a write is queued.
-- Later migrations that attach rows to a channel (posts, ...) reference channels(id) ON DELETE
-- CASCADE; rows attached to a follower (views, reactions, votes) reference followers(id)
-- ON DELETE CASCADE ("forget me" deletes the follower row and nothing else).

CREATE TABLE channels (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    -- Stored lower-cased; NOCASE keeps "News" and "news" one handle even if a bug let one in.
    handle          TEXT NOT NULL UNIQUE COLLATE NOCASE
                    CHECK (length(handle) BETWEEN 3 AND 32 AND handle = lower(handle)
                           AND handle NOT GLOB '*[^a-z0-9_-]*'
                           AND substr(handle, 1, 1) GLOB '[a-z0-9]'),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    icon            TEXT CHECK (icon IS NULL OR length(icon) BETWEEN 1 AND 63),
    category        TEXT NOT NULL CHECK (category IN ('news', 'civil_protection', 'culture',
                    'tourism', 'schools', 'transport', 'environment', 'sport', 'other')),
    language        TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 15),
    visibility      TEXT NOT NULL CHECK (visibility IN ('listed', 'unlisted')),
    verified        INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    reaction_policy TEXT NOT NULL DEFAULT 'any' CHECK (reaction_policy IN ('any', 'set', 'none')),
    reactions       TEXT, -- JSON array of 1..12 emoji when reaction_policy = 'set', else NULL
    retention_days  INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 365),
    pinned_post_id  INTEGER, -- posts come in 004; the posts code keeps this consistent
    followers_count INTEGER NOT NULL DEFAULT 0 CHECK (followers_count >= 0),
    posts_count     INTEGER NOT NULL DEFAULT 0 CHECK (posts_count >= 0),
    last_post_ms    INTEGER, -- set by the posts code: the directory's "active" order
    last_seq        INTEGER NOT NULL DEFAULT 0, -- the last event's seq (store__event)
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
) STRICT;

CREATE INDEX channels_by_org ON channels (org_id);
CREATE INDEX channels_popular ON channels (followers_count DESC, id DESC)
    WHERE visibility = 'listed';
CREATE INDEX channels_new ON channels (created_ms DESC, id DESC) WHERE visibility = 'listed';
CREATE INDEX channels_active ON channels (coalesce(last_post_ms, 0) DESC, id DESC)
    WHERE visibility = 'listed';

-- Directory search over name and description, ignoring case and accents ("citta" finds
-- "Città"). An external-content index over channels (the text is stored once), kept in sync by
-- the triggers below in the same transaction as the change.
CREATE VIRTUAL TABLE channels_fts USING fts5(
    name, description, content = 'channels', content_rowid = 'id',
    tokenize = "unicode61 remove_diacritics 2"
);

CREATE TRIGGER channels_fts_ins AFTER INSERT ON channels BEGIN
    INSERT INTO channels_fts (rowid, name, description)
        VALUES (new.id, new.name, new.description);
END;
CREATE TRIGGER channels_fts_del AFTER DELETE ON channels BEGIN
    INSERT INTO channels_fts (channels_fts, rowid, name, description)
        VALUES ('delete', old.id, old.name, old.description);
END;
CREATE TRIGGER channels_fts_upd AFTER UPDATE OF name, description ON channels BEGIN
    INSERT INTO channels_fts (channels_fts, rowid, name, description)
        VALUES ('delete', old.id, old.name, old.description);
    INSERT INTO channels_fts (rowid, name, description)
        VALUES (new.id, new.name, new.description);
END;

-- One owner (role 2) and up to CHANNEL_ADMINS_MAX admins (role 1) per channel.
CREATE TABLE channel_admins (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       INTEGER NOT NULL CHECK (role IN (1, 2)),
    added_ms   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX channel_admins_one_owner ON channel_admins (channel_id) WHERE role = 2;
CREATE INDEX channel_admins_by_user ON channel_admins (user_id);

-- Invitations to become an admin, addressed to one staff account; expire after 7 days.
CREATE TABLE admin_invitations (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    UNIQUE (channel_id, user_id)
) STRICT;

CREATE INDEX admin_invitations_by_user ON admin_invitations (user_id);

-- Invite links (/i/CODE): revocable, with an optional expiry and use limit.
CREATE TABLE invites (
    code       TEXT PRIMARY KEY NOT NULL CHECK (length(code) BETWEEN 10 AND 64),
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    max_uses   INTEGER CHECK (max_uses IS NULL OR max_uses >= 1),
    uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    revoked_ms INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX invites_by_channel ON invites (channel_id);

-- Anonymous followers: nothing but the SHA-256 of their bearer token.
CREATE TABLE followers (
    id         INTEGER PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE follows (
    follower_id INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    muted       INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1)),
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (follower_id, channel_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX follows_by_channel ON follows (channel_id);

-- followers_count stays exact whichever way a follow goes away: unfollow, "forget me" (the
-- cascade from followers fires these triggers) or the channel's own deletion.
CREATE TRIGGER follows_count_add AFTER INSERT ON follows BEGIN
    UPDATE channels SET followers_count = followers_count + 1 WHERE id = new.channel_id;
END;
CREATE TRIGGER follows_count_del AFTER DELETE ON follows BEGIN
    UPDATE channels SET followers_count = followers_count - 1 WHERE id = old.channel_id;
END;

-- Follower-visible events, seq 1, 2, 3 ... per channel with no gaps (store__event).
CREATE TABLE events (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (channel_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX events_by_time ON events (created_ms);
