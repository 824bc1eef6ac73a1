-- 019_push_cluster (PostgreSQL): the cluster's VAPID key pair and the owner of each delivery's
-- lease. As ../019_push_cluster.sql; push_vapid.private_pem is a SECRET.

CREATE TABLE push_vapid (
    id          bigint PRIMARY KEY CHECK (id = 1),
    private_pem text NOT NULL CHECK (length(private_pem) BETWEEN 64 AND 4096), -- SECRET
    created_ms  bigint NOT NULL
);

ALTER TABLE push_queue ADD COLUMN lease_owner text
    CHECK (lease_owner IS NULL OR length(lease_owner) BETWEEN 1 AND 64);

-- A node renews its own leases while it sends, and finds them at start.
CREATE INDEX push_queue_by_owner ON push_queue (lease_owner) WHERE lease_owner IS NOT NULL;
