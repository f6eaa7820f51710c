-- Latchkey schema, version 6, for SQLite: second factors (TOTP). The secret is stored sealed
-- (AES-256-GCM under a key derived from the master secret, bound to the user and factor).
-- `last_used_step` is the last TOTP step accepted: a code is accepted once (RFC 6238 §5.2).
--
-- Same conventions as 0001: INTEGER milliseconds, BINARY order on identifiers.

CREATE TABLE latchkey_factors (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  label TEXT NOT NULL,
  secret TEXT NOT NULL,
  last_used_step INTEGER,
  created_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  last_used_at INTEGER
) STRICT;

-- listFactors: a user's factors, oldest first.
CREATE INDEX latchkey_factors_user_idx ON latchkey_factors (user_id, created_at, id);
