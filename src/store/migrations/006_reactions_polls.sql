-- 006_reactions_polls: emoji reactions and polls on posts, and their aggregate counters.
--
-- Counts, not people: a reaction or a vote is stored per follower only to keep "one per
-- follower per post" and let the follower change it. Those rows are never read outside
-- store/ and never returned; every outward interface reads the counter tables below, which
-- triggers keep exact in the same transaction as each change, however a row comes or goes
-- (a new reaction or vote, a change, a retraction, "forget me" by cascade from followers, the
-- post's deletion or the retention sweeper by cascade from posts).
--
-- Limits mirror src/store/reactions.h (REACTION_*, POLL_*), validated there before a write is
-- queued.

-- One reaction per follower per post: `emoji` is one emoji (store_emoji_valid), ≤ 48 bytes.
CREATE TABLE reactions (
    post_id     INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    follower_id INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL CHECK (length(CAST(emoji AS BLOB)) BETWEEN 1 AND 48),
    PRIMARY KEY (post_id, follower_id)
) STRICT, WITHOUT ROWID;

-- "Forget me" deletes the followers row; the cascade reaches here by follower.
CREATE INDEX reactions_by_follower ON reactions (follower_id);

-- The count per emoji per post: what the post's JSON and the "counts" events show. A row whose
-- count falls to zero is deleted, so an emoji nobody uses any more disappears.
CREATE TABLE reaction_counts (
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    emoji   TEXT NOT NULL,
    n       INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (post_id, emoji)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER reactions_count_add AFTER INSERT ON reactions BEGIN
    INSERT INTO reaction_counts (post_id, emoji, n) VALUES (new.post_id, new.emoji, 1)
        ON CONFLICT (post_id, emoji) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER reactions_count_del AFTER DELETE ON reactions BEGIN
    UPDATE reaction_counts SET n = n - 1 WHERE post_id = old.post_id AND emoji = old.emoji;
    DELETE FROM reaction_counts WHERE post_id = old.post_id AND emoji = old.emoji AND n <= 0;
END;
CREATE TRIGGER reactions_count_upd AFTER UPDATE OF emoji ON reactions
    WHEN old.emoji != new.emoji BEGIN
    UPDATE reaction_counts SET n = n - 1 WHERE post_id = old.post_id AND emoji = old.emoji;
    DELETE FROM reaction_counts WHERE post_id = old.post_id AND emoji = old.emoji AND n <= 0;
    INSERT INTO reaction_counts (post_id, emoji, n) VALUES (new.post_id, new.emoji, 1)
        ON CONFLICT (post_id, emoji) DO UPDATE SET n = n + 1;
END;

-- A post's poll, made with the post and never edited afterwards. `options` is the JSON array
-- of 2..12 option texts; `voters` counts followers with a vote (total_voters).
CREATE TABLE polls (
    post_id   INTEGER PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    question  TEXT NOT NULL CHECK (length(question) BETWEEN 1 AND 255),
    options   TEXT NOT NULL CHECK (json_valid(options) AND json_type(options) = 'array'
              AND json_array_length(options) BETWEEN 2 AND 12),
    multiple  INTEGER NOT NULL CHECK (multiple IN (0, 1)),
    closes_ms INTEGER,
    voters    INTEGER NOT NULL DEFAULT 0 CHECK (voters >= 0)
) STRICT;

-- Votes per option, one row per option made with the poll (option 0 .. n-1).
CREATE TABLE poll_counts (
    post_id INTEGER NOT NULL REFERENCES polls(post_id) ON DELETE CASCADE,
    option  INTEGER NOT NULL CHECK (option BETWEEN 0 AND 11),
    n       INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0),
    PRIMARY KEY (post_id, option)
) STRICT, WITHOUT ROWID;

-- One vote per follower per poll; `choices` is the bit set of the chosen options (bit i:
-- option i), so a vote is one row whatever the number of options it picks.
CREATE TABLE votes (
    post_id     INTEGER NOT NULL REFERENCES polls(post_id) ON DELETE CASCADE,
    follower_id INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    choices     INTEGER NOT NULL CHECK (choices BETWEEN 1 AND 4095),
    PRIMARY KEY (post_id, follower_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX votes_by_follower ON votes (follower_id);

CREATE TRIGGER votes_count_add AFTER INSERT ON votes BEGIN
    UPDATE poll_counts SET n = n + ((new.choices >> option) & 1) WHERE post_id = new.post_id;
    UPDATE polls SET voters = voters + 1 WHERE post_id = new.post_id;
END;
CREATE TRIGGER votes_count_del AFTER DELETE ON votes BEGIN
    UPDATE poll_counts SET n = n - ((old.choices >> option) & 1) WHERE post_id = old.post_id;
    UPDATE polls SET voters = voters - 1 WHERE post_id = old.post_id;
END;
CREATE TRIGGER votes_count_upd AFTER UPDATE OF choices ON votes BEGIN
    UPDATE poll_counts SET n = n - ((old.choices >> option) & 1) + ((new.choices >> option) & 1)
        WHERE post_id = new.post_id;
END;
