-- 015_report_push (PostgreSQL): a push campaign may also be a report's. As
-- ../015_report_push.sql: the campaign key of a report is -(2^40 + report id); the kind CHECK
-- is replaced in place (SQLite rebuilds the tables for it).
ALTER TABLE push_campaigns ADD COLUMN report_id bigint UNIQUE
    REFERENCES reports(id) ON DELETE CASCADE;
ALTER TABLE push_campaigns DROP CONSTRAINT push_campaigns_kind;
ALTER TABLE push_campaigns ADD CONSTRAINT push_campaigns_kind CHECK (
    (post_id > 0 AND alert_id IS NULL AND report_id IS NULL AND channel_id IS NOT NULL)
    OR (post_id < 0 AND alert_id IS NOT NULL AND alert_id = -post_id
        AND alert_id < 1099511627776 AND report_id IS NULL AND channel_id IS NULL)
    OR (report_id IS NOT NULL AND post_id = -1099511627776 - report_id
        AND alert_id IS NULL AND channel_id IS NULL));

CREATE FUNCTION push_queue_report_unfollow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM push_queue WHERE leased = 0
        AND subscription_id IN (SELECT id FROM push_subscriptions WHERE follower_id = OLD.follower_id)
        AND post_id = -1099511627776 - OLD.report_id;
    RETURN NULL;
END $$;
CREATE TRIGGER push_queue_report_unfollow AFTER DELETE ON report_followers
    FOR EACH ROW EXECUTE FUNCTION push_queue_report_unfollow();
