-- How and when the user authenticated (RFC 8176 `amr`, space-separated; `auth_time` in ms;
-- `acr`), for the access tokens' claims and step-up. Null on the sessions from before this
-- migration: they read as a password login at their creation (the lowest assurance they had).
-- One statement (MySQL commits DDL at once), so it applies whole or not at all.
ALTER TABLE latchkey_sessions
  ADD COLUMN amr VARBINARY(255) NULL,
  ADD COLUMN auth_time BIGINT NULL,
  ADD COLUMN acr VARBINARY(64) NULL;
