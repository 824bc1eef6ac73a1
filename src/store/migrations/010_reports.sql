-- 010_reports: citizen reports (segnalazioni) over Open311 GeoReport v2 (docs/OPEN311.md).
--
-- A per-org service catalogue, the reports, their notes (public or internal), the per-org
-- report settings and the API keys third-party apps POST with. The default Italian catalogue
-- lives in report_service_templates: copied here for every existing org, and by a trigger for
-- every new one, so an org always starts with a usable catalogue that its staff then edit.
--
-- Personal data of a reporter (email, phone, names, device_id, account_id) sits in the
-- report_contacts table only, read only by the store's staff-side reads and deleted by the
-- retention sweeper (the report itself stays as public history). Limits mirror
-- src/store/reports.h.

CREATE TABLE report_settings (
    org_id            INTEGER PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    photos_moderated  INTEGER NOT NULL DEFAULT 1 CHECK (photos_moderated IN (0, 1)),
    retention_days    INTEGER NOT NULL DEFAULT 365 CHECK (retention_days BETWEEN 1 AND 3650),
    contact           TEXT CHECK (contact IS NULL OR length(contact) BETWEEN 1 AND 500),
    key_service       TEXT CHECK (key_service IS NULL OR length(key_service) BETWEEN 1 AND 500)
) STRICT;

-- Open311 service definitions. `attributes` is the JSON array of the definition's attributes
-- exactly as GeoReport v2 shows them (validated by the API before it is stored).
CREATE TABLE report_service_templates (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    keywords        TEXT NOT NULL,
    group_name      TEXT NOT NULL,
    attributes      TEXT NOT NULL DEFAULT '[]',
    first_answer_h  INTEGER NOT NULL,
    resolution_h    INTEGER NOT NULL,
    ord             INTEGER NOT NULL
) STRICT;

CREATE TABLE report_services (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    code            TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64
                                         AND code NOT GLOB '*[^A-Za-z0-9_.-]*'),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    keywords        TEXT NOT NULL DEFAULT '' CHECK (length(keywords) <= 500),
    group_name      TEXT NOT NULL DEFAULT '' CHECK (length(group_name) <= 200),
    attributes      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attributes)),
    first_answer_h  INTEGER NOT NULL DEFAULT 48 CHECK (first_answer_h BETWEEN 1 AND 8760),
    resolution_h    INTEGER NOT NULL DEFAULT 720 CHECK (resolution_h BETWEEN 1 AND 8760),
    agency          TEXT NOT NULL DEFAULT '' CHECK (length(agency) <= 200),
    ord             INTEGER NOT NULL DEFAULT 0,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    UNIQUE (org_id, code)
) STRICT;

INSERT INTO report_service_templates VALUES
 ('strade-buche', 'Buca nella strada', 'Buche, avvallamenti o asfalto dissestato sulla carreggiata.',
  'buca, asfalto, strada, carreggiata', 'Strade e marciapiedi', '[]', 48, 720, 10),
 ('strade-marciapiede', 'Marciapiede danneggiato', 'Marciapiedi rotti, sconnessi o non percorribili.',
  'marciapiede, pavimentazione, barriere', 'Strade e marciapiedi', '[]', 72, 1440, 20),
 ('illuminazione-guasto', 'Lampione spento o guasto', 'Punto luce spento, intermittente o danneggiato.',
  'lampione, luce, illuminazione, buio', 'Illuminazione pubblica',
  '[{"variable":true,"code":"numero_palo","datatype":"string","required":false,"datatype_description":"Il numero scritto sul palo, se visibile","order":1,"description":"Numero del palo"}]',
  48, 336, 30),
 ('rifiuti-abbandonati', 'Rifiuti abbandonati', 'Rifiuti lasciati fuori dai contenitori o abbandonati in strada o nel verde.',
  'rifiuti, spazzatura, abbandono, discarica', 'Rifiuti e pulizia',
  '[{"variable":true,"code":"tipo_rifiuto","datatype":"singlevaluelist","required":true,"datatype_description":"Scegli il tipo prevalente","order":1,"description":"Tipo di rifiuto","values":[{"key":"ingombranti","name":"Ingombranti (mobili, materassi)"},{"key":"elettronici","name":"Elettrodomestici ed elettronica"},{"key":"edili","name":"Materiale edile o inerti"},{"key":"pericolosi","name":"Amianto o rifiuti pericolosi"},{"key":"sacchi","name":"Sacchi e rifiuti domestici"},{"key":"altro","name":"Altro"}]}]',
  24, 168, 40),
 ('rifiuti-cassonetto', 'Cassonetto pieno o danneggiato', 'Contenitori stracolmi, rotti o non svuotati.',
  'cassonetto, bidone, raccolta differenziata', 'Rifiuti e pulizia', '[]', 24, 72, 50),
 ('pulizia-strada', 'Strada sporca', 'Spazzamento mancato, foglie, vetri o sporcizia sulla strada.',
  'pulizia, spazzamento, sporco', 'Rifiuti e pulizia', '[]', 48, 168, 60),
 ('verde-albero', 'Albero pericolante o caduto', 'Alberi o rami caduti, pericolanti o che ostruiscono il passaggio.',
  'albero, ramo, caduto, pericolo', 'Verde pubblico', '[]', 12, 168, 70),
 ('verde-manutenzione', 'Manutenzione del verde', 'Erba alta, siepi da potare, aiuole e giardini trascurati.',
  'erba, siepe, potatura, giardino, parco', 'Verde pubblico', '[]', 72, 720, 80),
 ('segnaletica', 'Segnaletica danneggiata o mancante', 'Cartelli stradali abbattuti, illeggibili o mancanti; strisce sbiadite.',
  'cartello, segnale, strisce, semaforo', 'Segnaletica', '[]', 48, 720, 90),
 ('decoro-vandalismo', 'Atti vandalici e graffiti', 'Scritte, danni ad arredi urbani, panchine o fontane.',
  'graffiti, scritte, vandalismo, panchina', 'Decoro e vandalismo', '[]', 72, 720, 100),
 ('acqua-perdita', 'Perdita d''acqua', 'Perdite dalla rete idrica, tombini che traboccano, allagamenti.',
  'acqua, perdita, tubo, allagamento', 'Acqua e fognature', '[]', 12, 168, 110),
 ('fognature-tombino', 'Tombino o caditoia ostruiti', 'Griglie e caditoie intasate, cattivi odori dalla fognatura.',
  'tombino, caditoia, fognatura, odore', 'Acqua e fognature', '[]', 48, 336, 120),
 ('edifici-pubblici', 'Guasto in un edificio pubblico', 'Problemi in scuole, uffici comunali, impianti sportivi.',
  'scuola, edificio, palestra, ufficio', 'Edifici pubblici',
  '[{"variable":true,"code":"edificio","datatype":"string","required":false,"datatype_description":"Nome o indirizzo dell''edificio","order":1,"description":"Edificio"}]',
  72, 720, 130),
 ('animali', 'Animali', 'Animali feriti, randagi, carcasse, infestazioni.',
  'cane, gatto, randagio, topi, carcassa', 'Animali', '[]', 24, 168, 140),
 ('altro', 'Altro', 'Tutto ciò che non rientra nelle altre categorie.',
  'altro, varie', 'Altro', '[]', 72, 720, 150);

INSERT INTO report_services (org_id, code, name, description, keywords, group_name, attributes,
                             first_answer_h, resolution_h, ord)
    SELECT o.id, t.code, t.name, t.description, t.keywords, t.group_name, t.attributes,
           t.first_answer_h, t.resolution_h, t.ord
    FROM orgs o, report_service_templates t;

INSERT INTO report_settings (org_id) SELECT id FROM orgs;

CREATE TRIGGER orgs_report_catalogue AFTER INSERT ON orgs BEGIN
    INSERT INTO report_settings (org_id) VALUES (NEW.id);
    INSERT INTO report_services (org_id, code, name, description, keywords, group_name,
                                 attributes, first_answer_h, resolution_h, ord)
        SELECT NEW.id, code, name, description, keywords, group_name, attributes,
               first_answer_h, resolution_h, ord
        FROM report_service_templates;
END;

-- Keys for third-party apps: only the SHA-256 is stored; shown once at creation.
CREATE TABLE report_api_keys (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    hash            BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    name            TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    rate_per_minute INTEGER NOT NULL DEFAULT 600 CHECK (rate_per_minute BETWEEN 1 AND 100000),
    created_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_ms      INTEGER NOT NULL,
    revoked_ms      INTEGER
) STRICT;
CREATE INDEX report_api_keys_org ON report_api_keys (org_id);
CREATE INDEX report_api_keys_creator ON report_api_keys (created_by);

-- status: nuova, presa_in_carico, in_lavorazione, risolta, chiusa (Open311: the first three
-- "open", the last two "closed"). token_hash: SHA-256 of the reporter's follow token.
CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    service_id      INTEGER NOT NULL REFERENCES report_services(id) ON DELETE RESTRICT,
    status          TEXT NOT NULL DEFAULT 'nuova'
                    CHECK (status IN ('nuova', 'presa_in_carico', 'in_lavorazione', 'risolta', 'chiusa')),
    close_reason    TEXT CHECK (close_reason IS NULL OR close_reason IN
                                ('non_di_competenza', 'duplicato', 'non_riproducibile', 'inoltrata')),
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    lat             REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
    lon             REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
    address         TEXT CHECK (address IS NULL OR length(address) <= 500),
    address_id      TEXT CHECK (address_id IS NULL OR length(address_id) <= 100),
    attributes      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    media_url       TEXT CHECK (media_url IS NULL OR length(media_url) <= 2000),
    media_id        TEXT CHECK (media_id IS NULL OR length(media_id) <= 64),
    photo_state     TEXT NOT NULL DEFAULT 'none'
                    CHECK (photo_state IN ('none', 'pending', 'approved', 'hidden')),
    text_hidden     INTEGER NOT NULL DEFAULT 0 CHECK (text_hidden IN (0, 1)),
    status_notes    TEXT NOT NULL DEFAULT '' CHECK (length(status_notes) <= 2000),
    agency          TEXT NOT NULL DEFAULT '' CHECK (length(agency) <= 200),
    service_notice  TEXT NOT NULL DEFAULT '' CHECK (length(service_notice) <= 500),
    forwarded_to    TEXT CHECK (forwarded_to IS NULL OR length(forwarded_to) <= 200),
    duplicate_of    INTEGER REFERENCES reports(id) ON DELETE SET NULL,
    token_hash      BLOB UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 32),
    api_key_id      INTEGER REFERENCES report_api_keys(id) ON DELETE SET NULL,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    expected_ms     INTEGER,
    first_answer_ms INTEGER,
    resolved_ms     INTEGER,
    closed_ms       INTEGER,
    reopened        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX reports_org_created ON reports (org_id, created_ms);
CREATE INDEX reports_service ON reports (service_id);
CREATE INDEX reports_dup ON reports (duplicate_of);
CREATE INDEX reports_key ON reports (api_key_id);
CREATE INDEX reports_media ON reports (media_id) WHERE media_id IS NOT NULL;
CREATE INDEX reports_closed ON reports (closed_ms) WHERE closed_ms IS NOT NULL;

-- A reporter's contact data: staff of the report's org only; erased after retention.
CREATE TABLE report_contacts (
    report_id   INTEGER PRIMARY KEY REFERENCES reports(id) ON DELETE CASCADE,
    email       TEXT CHECK (email IS NULL OR length(email) <= 254),
    phone       TEXT CHECK (phone IS NULL OR length(phone) <= 40),
    first_name  TEXT CHECK (first_name IS NULL OR length(first_name) <= 100),
    last_name   TEXT CHECK (last_name IS NULL OR length(last_name) <= 100),
    device_id   TEXT CHECK (device_id IS NULL OR length(device_id) <= 200),
    account_id  TEXT CHECK (account_id IS NULL OR length(account_id) <= 200)
) STRICT;

-- Who follows a report: its reporter (by follow token) and, after "Anche io" or a merge, other
-- followers, by their follower row. Never returned: counts only.
CREATE TABLE report_followers (
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    follower_id INTEGER NOT NULL REFERENCES followers(id) ON DELETE CASCADE,
    PRIMARY KEY (report_id, follower_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX report_followers_follower ON report_followers (follower_id);

-- The history: each status change and note. `public` notes are shown to everyone as
-- status_notes; internal ones only to the org's staff.
CREATE TABLE report_notes (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    public      INTEGER NOT NULL CHECK (public IN (0, 1)),
    status      TEXT,
    text        TEXT NOT NULL DEFAULT '' CHECK (length(text) <= 2000),
    created_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX report_notes_report ON report_notes (report_id);
CREATE INDEX report_notes_user ON report_notes (user_id);
