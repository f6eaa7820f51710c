-- Latchkey schema, version 7, for SQLite: passkeys (WebAuthn credentials), keyed by the
-- credential id (base64url), which a username-less sign-in looks up before it knows the user.
-- `counter` is the last signature counter seen: a use is recorded only when it grows (or stays
-- 0 on an authenticator without one). `transports` is a comma-separated list.
--
-- Same conventions as 0001: INTEGER milliseconds, 0/1 booleans, BINARY order on identifiers.

CREATE TABLE latchkey_passkeys (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  counter INTEGER NOT NULL,
  transports TEXT NOT NULL,
  backup_eligible INTEGER NOT NULL,
  backed_up INTEGER NOT NULL,
  aaguid TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;

-- listPasskeys: a user's passkeys, oldest first.
CREATE INDEX latchkey_passkeys_user_idx ON latchkey_passkeys (user_id, created_at, id);
