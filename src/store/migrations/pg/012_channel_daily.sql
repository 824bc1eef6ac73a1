-- 012_channel_daily (PostgreSQL): each channel's follower count at the end of each UTC day on
-- which it changed. As ../012_channel_daily.sql; SQLite's date('now') is the wall clock's UTC
-- date, clock_timestamp() here (now() would be the transaction's start).
CREATE TABLE channel_daily (
    channel_id bigint NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    day        text NOT NULL CHECK (length(day) = 10),
    followers  bigint NOT NULL CHECK (followers >= 0),
    PRIMARY KEY (channel_id, day)
);

CREATE FUNCTION araldo_utc_day() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD')
$$;

CREATE FUNCTION channel_daily_followers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO channel_daily (channel_id, day, followers)
        VALUES (NEW.id, araldo_utc_day(), NEW.followers_count)
        ON CONFLICT (channel_id, day) DO UPDATE SET followers = excluded.followers;
    RETURN NULL;
END $$;
CREATE TRIGGER channel_daily_followers AFTER UPDATE OF followers_count ON channels
    FOR EACH ROW WHEN (NEW.followers_count IS DISTINCT FROM OLD.followers_count)
    EXECUTE FUNCTION channel_daily_followers();

INSERT INTO channel_daily (channel_id, day, followers)
    SELECT id, araldo_utc_day(), followers_count FROM channels;
