-- 008_org_pages (PostgreSQL): the privacy notice's controller and DPO, the accessibility
-- statement's URL and feedback address of an org. As ../008_org_pages.sql.
ALTER TABLE orgs ADD COLUMN privacy_controller text
    CHECK (privacy_controller IS NULL OR length(privacy_controller) BETWEEN 1 AND 500);
ALTER TABLE orgs ADD COLUMN privacy_dpo text
    CHECK (privacy_dpo IS NULL OR length(privacy_dpo) BETWEEN 1 AND 500);
ALTER TABLE orgs ADD COLUMN accessibility_url text
    CHECK (accessibility_url IS NULL OR length(accessibility_url) BETWEEN 1 AND 500);
ALTER TABLE orgs ADD COLUMN accessibility_email text
    CHECK (accessibility_email IS NULL OR length(accessibility_email) BETWEEN 3 AND 254);
