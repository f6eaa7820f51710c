-- How and when the user authenticated (RFC 8176 `amr`, space-separated; `auth_time` in ms;
-- `acr`), for the access tokens' claims and step-up. Null on the sessions from before this
-- migration: they read as a password login at their creation (the lowest assurance they had).
-- One statement, so it applies whole or not at all.
ALTER TABLE latchkey_sessions
  ADD COLUMN amr text NULL,
  ADD COLUMN auth_time bigint NULL,
  ADD COLUMN acr text NULL;
