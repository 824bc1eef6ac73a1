-- 014_alert_push: a push campaign is a post's or an alert's (issue 13, point 4).
--
-- The campaign key stays `post_id` (the queue, the outcomes and the metrics all use it): a
-- post's campaign has the post's id, an alert's has minus the alert's id, with `alert_id` set.
-- So the foreign key to posts becomes a trigger (a post's deletion still takes its campaign and
-- pending deliveries), and an alert's campaign goes with the alert. An alert's campaign has no
-- channel (it reaches the followers of every channel of the org), so the unfollow and mute
-- triggers of 011 never drop its deliveries; `expires_ms` bounds its TTL.
--
-- SQLite cannot change a primary key's references in place: both tables are copied and
-- rebuilt, the queue first dropped so that dropping the campaigns cascades to nothing.

CREATE TEMP TABLE push_queue_copy AS SELECT * FROM push_queue;
CREATE TEMP TABLE push_campaigns_copy AS SELECT * FROM push_campaigns;
DROP TABLE push_queue;
DROP TABLE push_campaigns;

CREATE TABLE push_campaigns (
    post_id    INTEGER PRIMARY KEY CHECK (post_id <> 0), -- campaign key: post id, or -alert id
    alert_id   INTEGER UNIQUE REFERENCES alerts(id) ON DELETE CASCADE,
    channel_id INTEGER REFERENCES channels(id) ON DELETE CASCADE, -- NULL for an alert
    payload    TEXT NOT NULL CHECK (length(CAST(payload AS BLOB)) <= 3993),
    topic      TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 32),
    urgency    TEXT NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    expires_ms INTEGER NOT NULL DEFAULT 0, -- an alert's expiry (0: a post's, no bound)
    total      INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0), -- deliveries queued, ever
    sent       INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0),
    failed     INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0), -- given up or subscription gone
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    CHECK ((post_id > 0 AND alert_id IS NULL AND channel_id IS NOT NULL)
        OR (post_id < 0 AND alert_id IS NOT NULL AND alert_id = -post_id AND channel_id IS NULL))
) STRICT;

INSERT INTO push_campaigns (post_id, channel_id, payload, topic, urgency, total, sent, failed,
                            created_ms, updated_ms)
    SELECT post_id, channel_id, payload, topic, urgency, total, sent, failed, created_ms,
           updated_ms FROM push_campaigns_copy;

CREATE INDEX push_campaigns_by_channel ON push_campaigns (channel_id);

CREATE TRIGGER push_campaigns_post_delete AFTER DELETE ON posts BEGIN
    DELETE FROM push_campaigns WHERE post_id = old.id;
END;

CREATE TABLE push_queue (
    id              INTEGER PRIMARY KEY,
    post_id         INTEGER NOT NULL REFERENCES push_campaigns(post_id) ON DELETE CASCADE,
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
    tries           INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
    due_ms          INTEGER NOT NULL,
    leased          INTEGER NOT NULL DEFAULT 0 CHECK (leased IN (0, 1)),
    resend          INTEGER NOT NULL DEFAULT 0 CHECK (resend IN (0, 1)),
    UNIQUE (post_id, subscription_id)
) STRICT;

INSERT INTO push_queue SELECT * FROM push_queue_copy;

CREATE INDEX push_queue_due ON push_queue (due_ms);
CREATE INDEX push_queue_by_subscription ON push_queue (subscription_id);

DROP TABLE push_queue_copy;
DROP TABLE push_campaigns_copy;
