-- 013_alert_sources: official alert sources an org follows (the DPC national bulletin, LaMMA's
-- per-Comune files, CAP feeds), with each source's health, and the org's own texts of the
-- norme di comportamento per risk and level. docs/ALERTS.md, "Official sources"; limits
-- mirror src/store/sources.h.

-- kind: which reader. url: the page or feed polled; data_url: the DPC day-file template
-- ({id}, {day}). on_change: what a changed level does (draft for a person to confirm, publish,
-- or publish up to level up_to). comune: the name looked up in the bulletin; zone: a DPC
-- "Nome zona" set by hand. official = 0 marks levels that are not official civil-protection
-- alerts (never published automatically). etag/last_modified: conditional GET. Health:
-- last_ok_ms (last successful fetch), last_change_ms (last level change), last_error(_ms).
CREATE TABLE alert_sources (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('dpc-bulletin', 'lamma-comune', 'cap-feed')),
    url            TEXT NOT NULL CHECK (length(url) BETWEEN 9 AND 2048),
    data_url       TEXT CHECK (data_url IS NULL OR length(data_url) BETWEEN 9 AND 2048),
    interval_s     INTEGER NOT NULL CHECK (interval_s BETWEEN 60 AND 86400),
    on_change      TEXT NOT NULL CHECK (on_change IN ('draft', 'publish', 'publish-up-to')),
    up_to          TEXT CHECK (up_to IS NULL OR up_to IN ('verde', 'giallo', 'arancione',
                                                          'rosso')),
    comune         TEXT NOT NULL CHECK (length(comune) BETWEEN 1 AND 200),
    zone           TEXT CHECK (zone IS NULL OR length(zone) BETWEEN 1 AND 200),
    official       INTEGER NOT NULL DEFAULT 1 CHECK (official IN (0, 1)),
    etag           TEXT,
    last_modified  TEXT,
    last_bulletin  TEXT,
    last_ok_ms     INTEGER,
    last_change_ms INTEGER,
    last_error     TEXT,
    last_error_ms  INTEGER,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
) STRICT;
CREATE INDEX alert_sources_org ON alert_sources (org_id);

-- An org's own norme di comportamento for a risk and level in one language; where none is
-- stored the built-in default (Italian and English, api/alert_sources.c) applies.
CREATE TABLE alert_templates (
    org_id      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    risk        TEXT NOT NULL CHECK (length(risk) BETWEEN 1 AND 32),
    level       TEXT NOT NULL CHECK (level IN ('verde', 'giallo', 'arancione', 'rosso')),
    language    TEXT NOT NULL CHECK (length(language) BETWEEN 2 AND 35),
    instruction TEXT NOT NULL CHECK (length(instruction) BETWEEN 1 AND 4000),
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (org_id, risk, level, language)
) STRICT;
