-- 015_report_push: a push campaign may also be a report's (issue 15, point 5: the reporter is
-- told by push when staff change the report's status or add a public note).
--
-- Who is told: the report's followers (report_followers, 010: its reporter when it was filed
-- from the app with a follower token, those who said "Anche io", and, after a merge, the
-- duplicates' followers), through their push subscriptions. So the link between a report and a
-- subscription is a join inside the store, never a stored copy: "forget me" deletes the
-- follower, which takes its report_followers rows and its subscriptions with it.
--
-- One campaign per report (`report_id` UNIQUE), rewritten at each change like a post edited
-- within its window: pending deliveries carry the new text, deliveries in flight are sent once
-- more, delivered ones are queued again; Topic and tag `report-<id>` make the push service and
-- the device replace the previous notification of that report. The campaign key (`post_id`,
-- which the queue, outcomes and metrics use) is minus (2^40 + report id): posts are positive,
-- alerts minus their id (below 2^40), so the three never meet.
--
-- SQLite cannot change a table's CHECK in place: the campaigns and the queue are copied and
-- rebuilt as in 014.

CREATE TEMP TABLE push_queue_copy AS SELECT * FROM push_queue;
CREATE TEMP TABLE push_campaigns_copy AS SELECT * FROM push_campaigns;
DROP TABLE push_queue;
DROP TABLE push_campaigns;

CREATE TABLE push_campaigns (
    post_id    INTEGER PRIMARY KEY CHECK (post_id <> 0), -- post id, -alert id, -(2^40 + report id)
    alert_id   INTEGER UNIQUE REFERENCES alerts(id) ON DELETE CASCADE,
    report_id  INTEGER UNIQUE REFERENCES reports(id) ON DELETE CASCADE,
    channel_id INTEGER REFERENCES channels(id) ON DELETE CASCADE, -- NULL for an alert or report
    payload    TEXT NOT NULL CHECK (length(CAST(payload AS BLOB)) <= 3993),
    topic      TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 32),
    urgency    TEXT NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    expires_ms INTEGER NOT NULL DEFAULT 0, -- an alert's expiry (0: no bound)
    total      INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0), -- deliveries queued, ever
    sent       INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0),
    failed     INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0), -- given up or subscription gone
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    CHECK ((post_id > 0 AND alert_id IS NULL AND report_id IS NULL AND channel_id IS NOT NULL)
        OR (post_id < 0 AND alert_id IS NOT NULL AND alert_id = -post_id
            AND alert_id < 1099511627776 AND report_id IS NULL AND channel_id IS NULL)
        OR (report_id IS NOT NULL AND post_id = -1099511627776 - report_id
            AND alert_id IS NULL AND channel_id IS NULL))
) STRICT;

INSERT INTO push_campaigns (post_id, alert_id, channel_id, payload, topic, urgency, expires_ms,
                            total, sent, failed, created_ms, updated_ms)
    SELECT post_id, alert_id, channel_id, payload, topic, urgency, expires_ms, total, sent,
           failed, created_ms, updated_ms FROM push_campaigns_copy;

CREATE INDEX push_campaigns_by_channel ON push_campaigns (channel_id);

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

-- Unfollowing a report is not offered; a follower who stops following one (a future feature)
-- or is forgotten loses its pending deliveries of that report's campaign with it.
CREATE TRIGGER push_queue_report_unfollow AFTER DELETE ON report_followers BEGIN
    DELETE FROM push_queue WHERE leased = 0
        AND subscription_id IN (SELECT id FROM push_subscriptions WHERE follower_id = old.follower_id)
        AND post_id = -1099511627776 - old.report_id;
END;
