-- 008_org_pages: what a Comune's public pages need besides its name and logo (issue 10): the
-- privacy notice's data controller and DPO (free text: name, address, contact), the URL of its
-- accessibility statement (made on AgID's form) and the e-mail address for accessibility
-- feedback, both linked in every page's footer. All optional: NULL when unset.
ALTER TABLE orgs ADD COLUMN privacy_controller TEXT
    CHECK (privacy_controller IS NULL OR length(privacy_controller) BETWEEN 1 AND 500);
ALTER TABLE orgs ADD COLUMN privacy_dpo TEXT
    CHECK (privacy_dpo IS NULL OR length(privacy_dpo) BETWEEN 1 AND 500);
ALTER TABLE orgs ADD COLUMN accessibility_url TEXT
    CHECK (accessibility_url IS NULL OR length(accessibility_url) BETWEEN 1 AND 500);
ALTER TABLE orgs ADD COLUMN accessibility_email TEXT
    CHECK (accessibility_email IS NULL OR length(accessibility_email) BETWEEN 3 AND 254);
