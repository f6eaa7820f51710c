-- How and when the user authenticated (RFC 8176 `amr`, space-separated; `auth_time` in ms;
-- `acr`), for the access tokens' claims and step-up. Null on the sessions from before this
-- migration: they read as a password login at their creation (the lowest assurance they had).
-- SQLite adds one column per statement; the migration's transaction applies the three together.
ALTER TABLE latchkey_sessions ADD COLUMN amr TEXT NULL;
ALTER TABLE latchkey_sessions ADD COLUMN auth_time INTEGER NULL;
ALTER TABLE latchkey_sessions ADD COLUMN acr TEXT NULL;
