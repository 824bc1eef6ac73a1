-- Daily aggregates for the staff console's statistics (docs/STORE.md): each channel's follower
-- count at the end of each UTC day on which it changed. Counts only: nothing here can say who
-- followed. The trigger keeps it in step with channels.followers_count, whichever way that
-- changes (follow, unfollow, "forget me"); days without a change have no row and read as the
-- day before. Deleting the channel deletes its rows.
CREATE TABLE channel_daily (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    day        TEXT NOT NULL CHECK (length(day) = 10), -- 'YYYY-MM-DD', UTC
    followers  INTEGER NOT NULL CHECK (followers >= 0),
    PRIMARY KEY (channel_id, day)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER channel_daily_followers AFTER UPDATE OF followers_count ON channels
WHEN new.followers_count IS NOT old.followers_count BEGIN
    INSERT INTO channel_daily (channel_id, day, followers)
    VALUES (new.id, date('now'), new.followers_count)
    ON CONFLICT (channel_id, day) DO UPDATE SET followers = excluded.followers;
END;

-- Channels that exist already start from today's count.
INSERT INTO channel_daily (channel_id, day, followers)
SELECT id, date('now'), followers_count FROM channels;
