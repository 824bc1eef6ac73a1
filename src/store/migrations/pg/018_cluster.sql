-- 018_cluster (PostgreSQL): leases, counts marks and sign-in failures shared by the nodes of a
-- cluster. As ../018_cluster.sql, which explains each table.
CREATE TABLE leases (
    name     text PRIMARY KEY,
    owner    text NOT NULL,
    until_ms bigint NOT NULL
);

CREATE TABLE counts_dirty (
    post_id bigint PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE
);

CREATE TABLE signin_failures (
    key      bytea PRIMARY KEY,
    fails    bigint NOT NULL,
    since_ms bigint NOT NULL
);
CREATE INDEX signin_failures_since ON signin_failures (since_ms);
