-- 004_posts: posts (published or scheduled), their edit history and views.
--
-- Limits mirror src/store/posts.h (POST_*), validated there before a write is queued. A post
-- names no author: who wrote or edited it is in the org's audit log (and, for edits, in
-- post_edits, which only channel admins read), never in what followers see.

-- state 0: scheduled (published_ms is the time it will go out, invisible to the public);
-- state 1: published (published_ms is when it went out). media is the JSON array of
-- {"id", "alt"} references, at most 10 (the media files come with their own issue).
CREATE TABLE posts (
    id           INTEGER PRIMARY KEY,
    channel_id   INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    text         TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4096),
    media        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(media)
                 AND json_type(media) = 'array' AND json_array_length(media) <= 10),
    importance   INTEGER NOT NULL CHECK (importance IN (0, 1, 2)),
    state        INTEGER NOT NULL CHECK (state IN (0, 1)),
    published_ms INTEGER NOT NULL,
    edited_ms    INTEGER,
    views_count  INTEGER NOT NULL DEFAULT 0 CHECK (views_count >= 0),
    created_ms   INTEGER NOT NULL
) STRICT;

-- A channel's posts newest first, paginated by (published_ms, id).
CREATE INDEX posts_by_channel ON posts (channel_id, published_ms DESC, id DESC);
-- The scheduler's due posts, and the retention sweeper's oldest posts.
CREATE INDEX posts_scheduled ON posts (published_ms) WHERE state = 0;
CREATE INDEX posts_by_time ON posts (published_ms) WHERE state = 1;

-- channels.posts_count counts published posts, however they come and go (publish now, the
-- scheduler, delete, the retention sweeper, the channel's own deletion); a deleted post is
-- never pinned.
CREATE TRIGGER posts_count_ins AFTER INSERT ON posts WHEN new.state = 1 BEGIN
    UPDATE channels SET posts_count = posts_count + 1 WHERE id = new.channel_id;
END;
CREATE TRIGGER posts_count_pub AFTER UPDATE OF state ON posts
    WHEN old.state = 0 AND new.state = 1 BEGIN
    UPDATE channels SET posts_count = posts_count + 1 WHERE id = new.channel_id;
END;
CREATE TRIGGER posts_count_del AFTER DELETE ON posts BEGIN
    UPDATE channels SET posts_count = posts_count - (old.state = 1),
        pinned_post_id = CASE WHEN pinned_post_id = old.id THEN NULL ELSE pinned_post_id END
        WHERE id = old.channel_id;
END;

-- The previous version of a post, one row per edit; editor_id is for admins' history only.
CREATE TABLE post_edits (
    id         INTEGER PRIMARY KEY,
    post_id    INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    editor_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    text       TEXT NOT NULL,
    media      TEXT NOT NULL,
    importance INTEGER NOT NULL,
    edited_ms  INTEGER NOT NULL
) STRICT;

CREATE INDEX post_edits_by_post ON post_edits (post_id, id);
CREATE INDEX post_edits_by_editor ON post_edits (editor_id);

-- One row per follower per post shown: only to count each follower once. Never read outside
-- store/, never returned: the API shows posts.views_count only.
CREATE TABLE views (
    post_id     INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    follower_id INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, follower_id)
) STRICT, WITHOUT ROWID;

-- "Forget me" deletes the followers row; the cascade reaches here by follower.
CREATE INDEX views_by_follower ON views (follower_id);

CREATE TRIGGER views_count_add AFTER INSERT ON views BEGIN
    UPDATE posts SET views_count = views_count + 1 WHERE id = new.post_id;
END;
CREATE TRIGGER views_count_del AFTER DELETE ON views BEGIN
    UPDATE posts SET views_count = views_count - 1 WHERE id = old.post_id;
END;
