-- 017_mail (PostgreSQL): outgoing e-mail (src/mail/). As ../017_mail.sql, which must rebuild
-- report_forward_targets because SQLite cannot drop a NOT NULL or change a CHECK in place;
-- PostgreSQL alters the table, so report_forwards keeps its target ids untouched.
ALTER TABLE alert_sources ADD COLUMN warned_ms bigint;

ALTER TABLE report_forward_targets
    ADD COLUMN kind text NOT NULL DEFAULT 'open311' CHECK (kind IN ('open311', 'email')),
    ADD COLUMN email text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    ALTER COLUMN endpoint DROP NOT NULL,
    ADD CHECK ((kind = 'open311' AND endpoint IS NOT NULL AND email IS NULL)
               OR (kind = 'email' AND email IS NOT NULL AND endpoint IS NULL));
