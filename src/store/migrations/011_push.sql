-- 011_push: Web Push subscriptions, per-channel opt-out and the durable send queue.
--
-- Limits mirror src/store/push.h (PUSH_*), validated there before a write is queued. A
-- subscription belongs to a follower and goes with it ("forget me" cascades); its endpoint URL
-- is a secret of that follower: only store/ reads it, for the sender and for the follower's own
-- requests. Nothing here names a follower outside store/.

CREATE TABLE push_subscriptions (
    id          INTEGER PRIMARY KEY,
    follower_id INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    endpoint    TEXT NOT NULL UNIQUE CHECK (length(endpoint) BETWEEN 9 AND 2048
                AND substr(endpoint, 1, 8) = 'https://'),
    origin      TEXT NOT NULL CHECK (length(origin) BETWEEN 9 AND 300), -- per-origin caps
    p256dh      BLOB NOT NULL CHECK (length(p256dh) = 65),
    auth        BLOB NOT NULL CHECK (length(auth) = 16),
    created_ms  INTEGER NOT NULL
) STRICT;

CREATE INDEX push_subscriptions_by_follower ON push_subscriptions (follower_id);

-- Per-channel opt-out: pushes of a followed channel are on unless a row says otherwise (and
-- never for a muted follow). Goes with the follow.
ALTER TABLE follows ADD COLUMN push INTEGER NOT NULL DEFAULT 1 CHECK (push IN (0, 1));

-- One campaign per important post: what is pushed (the plaintext JSON, built once when the
-- post goes out or is edited within the replace window) and the counts staff see. Goes with
-- the post, and its pending deliveries with it.
CREATE TABLE push_campaigns (
    post_id    INTEGER PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    payload    TEXT NOT NULL CHECK (length(CAST(payload AS BLOB)) <= 3993),
    topic      TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 32),
    urgency    TEXT NOT NULL CHECK (urgency IN ('very-low', 'low', 'normal', 'high')),
    total      INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0), -- deliveries queued, ever
    sent       INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0),
    failed     INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0), -- given up or subscription gone
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX push_campaigns_by_channel ON push_campaigns (channel_id);

-- The send queue: one row per (campaign, subscription) still to deliver. due_ms is when it may
-- be sent next (a retry's backoff); a claimed row is `leased` with due_ms its lease's end, so a
-- row whose sender died is sent again (at most twice: the service worker shows a tag once).
-- `resend`: the campaign changed while this row was in flight, so send it again after.
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

CREATE INDEX push_queue_due ON push_queue (due_ms);
CREATE INDEX push_queue_by_subscription ON push_queue (subscription_id);

-- Unfollowing, muting or turning a channel's push off also drops that follower's deliveries of
-- the channel's campaigns not yet sent (those in flight finish).
CREATE TRIGGER push_queue_unfollow AFTER DELETE ON follows BEGIN
    DELETE FROM push_queue WHERE leased = 0
        AND subscription_id IN (SELECT id FROM push_subscriptions WHERE follower_id = old.follower_id)
        AND post_id IN (SELECT post_id FROM push_campaigns WHERE channel_id = old.channel_id);
END;
CREATE TRIGGER push_queue_mute AFTER UPDATE OF muted, push ON follows
    WHEN new.muted = 1 OR new.push = 0 BEGIN
    DELETE FROM push_queue WHERE leased = 0
        AND subscription_id IN (SELECT id FROM push_subscriptions WHERE follower_id = new.follower_id)
        AND post_id IN (SELECT post_id FROM push_campaigns WHERE channel_id = new.channel_id);
END;
