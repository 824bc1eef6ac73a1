-- 005_media: uploaded media (photos, voice notes, documents) and the files behind them.
--
-- A media row is what posts reference by its opaque public_id (16 random bytes, base64url):
-- it is not the files' hash, so an id tells nothing about the content and one file can back
-- many uploads. The files are content-addressed (SHA-256, under DATA_DIR/media/) and listed
-- in media_files; a file is deleted from disk only when no row lists its hash any more.
-- org_id is the uploader's organisation (NULL for operators): staff of another org cannot see
-- a media's details or attach it to their posts.
CREATE TABLE media (
    id         INTEGER PRIMARY KEY,
    public_id  TEXT NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 16 AND 64),
    org_id     INTEGER REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    INTEGER,
    kind       TEXT NOT NULL CHECK (kind IN ('image', 'voice', 'document')),
    mime       TEXT NOT NULL CHECK (length(mime) BETWEEN 1 AND 63),
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL CHECK (bytes >= 0),
    created_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX media_by_time ON media (created_ms);

-- variant: 'small.webp', 'small.jpeg', 'large.webp', 'large.jpeg' for images; 'file' for
-- voice notes and documents; 'original' for an image's upload when keep_originals is on.
CREATE TABLE media_files (
    media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    variant  TEXT NOT NULL CHECK (length(variant) BETWEEN 1 AND 15),
    sha256   TEXT NOT NULL CHECK (length(sha256) = 64),
    mime     TEXT NOT NULL CHECK (length(mime) BETWEEN 1 AND 63),
    bytes    INTEGER NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (media_id, variant)
) STRICT, WITHOUT ROWID;
CREATE INDEX media_files_by_hash ON media_files (sha256);

-- Which posts reference which media ids, kept by triggers from posts.media (a JSON array of
-- {"id", "alt"}), so the retention sweeper finds orphaned media through an index instead of
-- parsing every post's JSON. A post's deletion (by hand or by retention) cascades here.
CREATE TABLE media_refs (
    public_id TEXT NOT NULL,
    post_id   INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    PRIMARY KEY (public_id, post_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX media_refs_by_post ON media_refs (post_id);

INSERT OR IGNORE INTO media_refs (public_id, post_id)
    SELECT json_extract(j.value, '$.id'), p.id FROM posts p, json_each(p.media) j
    WHERE json_extract(j.value, '$.id') IS NOT NULL;

CREATE TRIGGER media_refs_post_insert AFTER INSERT ON posts
BEGIN
    INSERT OR IGNORE INTO media_refs (public_id, post_id)
        SELECT json_extract(j.value, '$.id'), NEW.id FROM json_each(NEW.media) j
        WHERE json_extract(j.value, '$.id') IS NOT NULL;
END;

CREATE TRIGGER media_refs_post_update AFTER UPDATE OF media ON posts
BEGIN
    DELETE FROM media_refs WHERE post_id = NEW.id;
    INSERT OR IGNORE INTO media_refs (public_id, post_id)
        SELECT json_extract(j.value, '$.id'), NEW.id FROM json_each(NEW.media) j
        WHERE json_extract(j.value, '$.id') IS NOT NULL;
END;
