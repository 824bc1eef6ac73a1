-- 006_reactions_polls (PostgreSQL): emoji reactions and polls, and their counters, kept exact
-- by PL/pgSQL triggers in the same transaction as each change. As ../006_reactions_polls.sql.

CREATE TABLE reactions (
    post_id     bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    follower_id bigint NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    emoji       text NOT NULL CHECK (octet_length(emoji) BETWEEN 1 AND 48),
    PRIMARY KEY (post_id, follower_id)
);

CREATE INDEX reactions_by_follower ON reactions (follower_id);

CREATE TABLE reaction_counts (
    post_id bigint NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    emoji   text NOT NULL,
    n       bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (post_id, emoji)
);

CREATE FUNCTION reactions_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE reaction_counts SET n = n - 1 WHERE post_id = OLD.post_id AND emoji = OLD.emoji;
        DELETE FROM reaction_counts WHERE post_id = OLD.post_id AND emoji = OLD.emoji AND n <= 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO reaction_counts AS rc (post_id, emoji, n) VALUES (NEW.post_id, NEW.emoji, 1)
            ON CONFLICT (post_id, emoji) DO UPDATE SET n = rc.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reactions_count AFTER INSERT OR DELETE ON reactions
    FOR EACH ROW EXECUTE FUNCTION reactions_count();
CREATE TRIGGER reactions_count_upd AFTER UPDATE OF emoji ON reactions
    FOR EACH ROW WHEN (OLD.emoji IS DISTINCT FROM NEW.emoji) EXECUTE FUNCTION reactions_count();

-- SQLite's json_array_length(text), which the store's reads of a poll use: PostgreSQL's takes
-- json, so a text overload that casts.
CREATE FUNCTION json_array_length(t text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT json_array_length(t::json) $$;

CREATE TABLE polls (
    post_id   bigint PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    question  text NOT NULL CHECK (length(question) BETWEEN 1 AND 255),
    options   text NOT NULL CHECK (jsonb_typeof(options::jsonb) = 'array'
              AND jsonb_array_length(options::jsonb) BETWEEN 2 AND 12),
    multiple  bigint NOT NULL CHECK (multiple IN (0, 1)),
    closes_ms bigint,
    voters    bigint NOT NULL DEFAULT 0 CHECK (voters >= 0)
);

CREATE TABLE poll_counts (
    post_id bigint NOT NULL REFERENCES polls(post_id) ON DELETE CASCADE,
    option  bigint NOT NULL CHECK (option BETWEEN 0 AND 11),
    n       bigint NOT NULL DEFAULT 0 CHECK (n >= 0),
    PRIMARY KEY (post_id, option)
);

CREATE TABLE votes (
    post_id     bigint NOT NULL REFERENCES polls(post_id) ON DELETE CASCADE,
    follower_id bigint NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    choices     bigint NOT NULL CHECK (choices BETWEEN 1 AND 4095),
    PRIMARY KEY (post_id, follower_id)
);

CREATE INDEX votes_by_follower ON votes (follower_id);

-- choices is a bit set: bit i counts for option i.
CREATE FUNCTION votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE poll_counts SET n = n + ((NEW.choices >> option::int) & 1)
            WHERE post_id = NEW.post_id;
        UPDATE polls SET voters = voters + 1 WHERE post_id = NEW.post_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE poll_counts SET n = n - ((OLD.choices >> option::int) & 1)
            WHERE post_id = OLD.post_id;
        UPDATE polls SET voters = voters - 1 WHERE post_id = OLD.post_id;
    ELSE
        UPDATE poll_counts
            SET n = n - ((OLD.choices >> option::int) & 1) + ((NEW.choices >> option::int) & 1)
            WHERE post_id = NEW.post_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER votes_count AFTER INSERT OR DELETE OR UPDATE OF choices ON votes
    FOR EACH ROW EXECUTE FUNCTION votes_count();
