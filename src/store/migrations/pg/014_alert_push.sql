-- 014_alert_push (PostgreSQL): a push campaign is a post's or an alert's. As
-- ../014_alert_push.sql, whose rebuild SQLite needs only because it cannot change a table's
-- references in place: here the campaigns' foreign key to posts becomes a trigger (a post's
-- deletion still takes its campaign and pending deliveries), the alert's columns are added and
-- channel_id may be NULL (an alert's campaign reaches every channel of the org).
ALTER TABLE push_campaigns DROP CONSTRAINT push_campaigns_post_id_fkey;
ALTER TABLE push_campaigns ADD CONSTRAINT push_campaigns_post_id_check CHECK (post_id <> 0);
ALTER TABLE push_campaigns ADD COLUMN alert_id bigint UNIQUE REFERENCES alerts(id) ON DELETE CASCADE;
ALTER TABLE push_campaigns ALTER COLUMN channel_id DROP NOT NULL;
ALTER TABLE push_campaigns ADD COLUMN expires_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE push_campaigns ADD CONSTRAINT push_campaigns_kind CHECK (
    (post_id > 0 AND alert_id IS NULL AND channel_id IS NOT NULL)
    OR (post_id < 0 AND alert_id IS NOT NULL AND alert_id = -post_id AND channel_id IS NULL));

CREATE FUNCTION push_campaigns_post_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM push_campaigns WHERE post_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER push_campaigns_post_delete AFTER DELETE ON posts
    FOR EACH ROW EXECUTE FUNCTION push_campaigns_post_delete();
