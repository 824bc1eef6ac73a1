-- 007_invitation_ids (PostgreSQL): admin invitation ids are never reused.
--
-- ../007_invitation_ids.sql rebuilds the table with AUTOINCREMENT because SQLite reuses the
-- largest id once its row is gone. An identity column (003) draws from a sequence that never
-- goes back, so there is nothing to change here; the number is kept so both engines' versions
-- mean the same schema.
SELECT 1;
