-- 009_alerts: civil-protection alerts (allerte di Protezione Civile): an org's alert zones, its
-- own names for risks, who may publish, the two-person rule, import mapping rules, and the
-- alerts themselves (published locally or imported from CAP 1.2). docs/ALERTS.md explains the
-- model; limits mirror src/store/alerts.h.

-- Alert zones of an org: the regional zona di allerta it lies in, its frazioni. geocodes is a
-- JSON array of {"valueName","value"}; polygon a CAP polygon ("lat,lon lat,lon ...", closed).
CREATE TABLE alert_zones (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    code       TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 32
                                    AND code NOT GLOB '*[^A-Za-z0-9_.-]*'),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    geocodes   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(geocodes)),
    polygon    TEXT CHECK (polygon IS NULL OR length(polygon) BETWEEN 1 AND 16384),
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (org_id, code)
) STRICT;

-- An org's own risks (custom ones) and its own names for the national ones.
CREATE TABLE alert_risks (
    org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    code       TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 32
                                    AND code NOT GLOB '*[^a-z0-9_]*'),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    category   TEXT NOT NULL CHECK (category IN ('Geo', 'Met', 'Safety', 'Security', 'Rescue',
                                    'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE',
                                    'Other')),
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, code)
) STRICT;

-- Per-org alert settings: the two-person rule for rosso alerts and the CAP import mapping
-- rules (a JSON object, docs/ALERTS.md). An org without a row has the defaults.
CREATE TABLE alert_settings (
    org_id          INTEGER PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    two_person_rule INTEGER NOT NULL DEFAULT 0 CHECK (two_person_rule IN (0, 1)),
    import_rules    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(import_rules)),
    updated_ms      INTEGER NOT NULL
) STRICT;

-- Staff (role staff) granted the civil_protection permission by an org admin. Org admins may
-- always publish; they need no row.
CREATE TABLE alert_publishers (
    org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    granted_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT;

-- Alerts. (org_id, sender, identifier, sent_ms) is CAP's identity of a message: importing the
-- same document twice finds the first. doc holds what is shown and exported, frozen when the
-- alert was made: {"risk_name", "areas": [{code, name, geocodes, polygon}], "info": [...]}.
-- refs: the ids of the alerts this one updates or cancels (JSON array of integers);
-- replaced_by: the published Update or Cancel that ended this one. state 'pending' waits for a
-- second staff member's approval (two-person rule), 'withdrawn' was dropped before that.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    identifier   TEXT NOT NULL CHECK (length(identifier) BETWEEN 1 AND 255),
    sender       TEXT NOT NULL CHECK (length(sender) BETWEEN 1 AND 255),
    sent_ms      INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('Actual', 'Exercise', 'Test')),
    msg_type     TEXT NOT NULL CHECK (msg_type IN ('Alert', 'Update', 'Cancel')),
    risk         TEXT NOT NULL CHECK (length(risk) BETWEEN 1 AND 32),
    level        TEXT NOT NULL CHECK (level IN ('verde', 'giallo', 'arancione', 'rosso')),
    phase        TEXT NOT NULL CHECK (phase IN ('nessuna', 'attenzione', 'preallarme', 'allarme')),
    onset_ms     INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL CHECK (expires_ms > onset_ms),
    doc          TEXT NOT NULL CHECK (json_valid(doc)),
    refs         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(refs)),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'published', 'withdrawn')),
    replaced_by  INTEGER REFERENCES alerts(id),
    imported     INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1)),
    created_by   INTEGER REFERENCES users(id),
    approved_by  INTEGER REFERENCES users(id),
    created_ms   INTEGER NOT NULL,
    published_ms INTEGER,
    UNIQUE (org_id, sender, identifier, sent_ms)
) STRICT;

CREATE INDEX alerts_by_org ON alerts (org_id, id);
-- What may be in force: published, not replaced, not yet expired.
CREATE INDEX alerts_live ON alerts (org_id, expires_ms)
    WHERE state = 'published' AND replaced_by IS NULL;
