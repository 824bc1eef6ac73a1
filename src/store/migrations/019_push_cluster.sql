-- 019_push_cluster: Web Push shared by several nodes on one database (issue 16, points 4-5).
--
-- push_vapid: the server's VAPID key pair (RFC 8292), one row for the whole cluster, so a
-- subscription made through one node is pushed by any node. It was DATA_DIR/vapid.pem; the
-- first start after this migration imports that file (src/api/push_vapid.c), so existing
-- subscriptions keep working. `private_pem` is a SECRET (it signs for this server): only the
-- push code reads it, and no response, log or export may contain it.
--
-- push_queue.lease_owner: the node that holds a delivery's lease (NULL: not leased, or leased
-- before this migration). A node releases only its own leases when it starts again; the
-- leases of a node that died are taken over when they expire (due_ms), by whichever node
-- claims first. docs/PUSH.md "Several nodes".

CREATE TABLE push_vapid (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    private_pem TEXT NOT NULL CHECK (length(private_pem) BETWEEN 64 AND 4096), -- SECRET
    created_ms  INTEGER NOT NULL
) STRICT;

ALTER TABLE push_queue ADD COLUMN lease_owner TEXT
    CHECK (lease_owner IS NULL OR length(lease_owner) BETWEEN 1 AND 64);

-- A node renews its own leases while it sends, and finds them at start.
CREATE INDEX push_queue_by_owner ON push_queue (lease_owner) WHERE lease_owner IS NOT NULL;
