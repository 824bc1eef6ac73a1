-- 016_report_forward: forwarding a report to another body by Open311 POST (issue 15, point 4).
--
-- Each org lists the bodies it forwards to (the water utility, the province ...): their
-- GeoReport v2 endpoint, the jurisdiction_id and api_key that body gave the Comune, and how the
-- Comune's service codes map to theirs (or one default code). The api_key is a credential the
-- Comune holds for that body: stored as given (it must be sent), shown to nobody after it is
-- saved. Each forward that the other body accepted is recorded with the id and token it
-- answered, so staff can quote them. Limits mirror src/store/reports.h (STORE_FWD_*).

CREATE TABLE report_forward_targets (
    id                   INTEGER PRIMARY KEY,
    org_id               INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    endpoint             TEXT NOT NULL CHECK (length(endpoint) BETWEEN 9 AND 2048
                         AND substr(endpoint, 1, 8) = 'https://'),
    jurisdiction_id      TEXT CHECK (jurisdiction_id IS NULL OR length(jurisdiction_id) <= 200),
    api_key              TEXT CHECK (api_key IS NULL OR length(api_key) <= 500),
    service_map          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(service_map)),
    default_service_code TEXT CHECK (default_service_code IS NULL
                                     OR length(default_service_code) BETWEEN 1 AND 64),
    created_ms           INTEGER NOT NULL,
    UNIQUE (org_id, name)
) STRICT;

CREATE TABLE report_forwards (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    target_id    INTEGER REFERENCES report_forward_targets(id) ON DELETE SET NULL,
    target_name  TEXT NOT NULL,
    remote_id    TEXT CHECK (remote_id IS NULL OR length(remote_id) <= 200),
    remote_token TEXT CHECK (remote_token IS NULL OR length(remote_token) <= 200),
    user_id      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX report_forwards_report ON report_forwards (report_id);
CREATE INDEX report_forwards_target ON report_forwards (target_id);
CREATE INDEX report_forwards_user ON report_forwards (user_id);
