-- 017_mail: outgoing e-mail (src/mail/).
--
-- Alert sources: warned_ms is when the org's staff were e-mailed that the source is stale or
-- failing (docs/ALERTS.md, "Warnings by e-mail"); NULL while it is healthy or nobody was told
-- yet. One warning per episode: it is set when the warning is sent, so a restart does not
-- send it again, and cleared when the source recovers, so the next failure warns again.
ALTER TABLE alert_sources ADD COLUMN warned_ms INTEGER;

-- Forward targets gain a kind: 'open311' (a GeoReport v2 endpoint, as before) or 'email' (an
-- address the report is e-mailed to; docs/OPEN311.md, "Forwarding"). An email target has no
-- endpoint, so the table is made again without endpoint's NOT NULL. report_forwards refers to
-- it: dropping the old table sets their target_id to NULL (ON DELETE SET NULL), so the ids are
-- kept aside and put back (ids are copied as they are).
CREATE TABLE report_forward_targets_new (
    id                   INTEGER PRIMARY KEY,
    org_id               INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind                 TEXT NOT NULL DEFAULT 'open311' CHECK (kind IN ('open311', 'email')),
    endpoint             TEXT CHECK (endpoint IS NULL OR (length(endpoint) BETWEEN 9 AND 2048
                         AND substr(endpoint, 1, 8) = 'https://')),
    email                TEXT CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    jurisdiction_id      TEXT CHECK (jurisdiction_id IS NULL OR length(jurisdiction_id) <= 200),
    api_key              TEXT CHECK (api_key IS NULL OR length(api_key) <= 500),
    service_map          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(service_map)),
    default_service_code TEXT CHECK (default_service_code IS NULL
                                     OR length(default_service_code) BETWEEN 1 AND 64),
    created_ms           INTEGER NOT NULL,
    UNIQUE (org_id, name),
    CHECK ((kind = 'open311' AND endpoint IS NOT NULL AND email IS NULL)
           OR (kind = 'email' AND email IS NOT NULL AND endpoint IS NULL))
) STRICT;
INSERT INTO report_forward_targets_new (id, org_id, name, kind, endpoint, jurisdiction_id,
                                        api_key, service_map, default_service_code, created_ms)
    SELECT id, org_id, name, 'open311', endpoint, jurisdiction_id, api_key, service_map,
           default_service_code, created_ms FROM report_forward_targets;
CREATE TEMP TABLE forward_target_ids AS
    SELECT id, target_id FROM report_forwards WHERE target_id IS NOT NULL;
DROP TABLE report_forward_targets;
ALTER TABLE report_forward_targets_new RENAME TO report_forward_targets;
UPDATE report_forwards SET target_id = (SELECT k.target_id FROM forward_target_ids k
                                        WHERE k.id = report_forwards.id)
    WHERE id IN (SELECT id FROM forward_target_ids);
DROP TABLE forward_target_ids;
