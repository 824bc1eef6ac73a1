-- 018_cluster: what the nodes of a cluster must agree on (issue 16; docs/STORE.md, "Several
-- nodes"). SQLite has one node, but the tables are the same on both engines so that the code
-- and its tests are too.
--
-- Leases: background work done once per cluster (scheduled posts, retention, the counts
-- coalescer, alert-source polling) runs on the node holding the work's lease. A node takes a
-- lease that is free or expired, or renews its own, in one statement; a node that dies stops
-- renewing and another takes over once until_ms has passed. owner is a random id per process.
CREATE TABLE leases (
    name     TEXT PRIMARY KEY,
    owner    TEXT NOT NULL,
    until_ms INTEGER NOT NULL
);

-- Posts whose reaction or poll counts changed and whose "counts" event is not written yet:
-- marked in the reaction's or vote's own transaction, turned into one event per post by the
-- coalescer of the node holding the "counts" lease, and deleted in that event's transaction.
CREATE TABLE counts_dirty (
    post_id INTEGER PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE
);

-- Failed sign-ins, per account and per client address, for every node to see: `key` is the
-- SHA-256 of "acct:<e-mail>" or "ip:<address>" (never the text), `fails` the failures since
-- since_ms; a window that ended starts again at the next failure. Rows of ended windows are
-- deleted by the next failure.
CREATE TABLE signin_failures (
    key      BLOB PRIMARY KEY,
    fails    INTEGER NOT NULL,
    since_ms INTEGER NOT NULL
);
CREATE INDEX signin_failures_since ON signin_failures (since_ms);
