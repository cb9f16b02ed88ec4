-- Deaths apart from attempts. In SQLite this migration adds columns to stage tables made by earlier
-- versions; a PostgreSQL store begins with stage tables that have them (see ensure.ts), so there is
-- nothing to change. Kept so that both backends share one numbering.
SELECT 1;
