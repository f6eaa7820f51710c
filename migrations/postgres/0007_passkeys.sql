-- Latchkey schema, version 7: passkeys (WebAuthn credentials), keyed by the credential id
-- (base64url), which a username-less sign-in looks up before it knows the user. `counter` is the
-- last signature counter seen: a use is recorded only when it grows (or stays 0 on an
-- authenticator without one). `transports` is a comma-separated list.
--
-- Same conventions as 0001: bigint milliseconds, "C" collation on identifiers.

CREATE TABLE latchkey_passkeys (
  id text COLLATE "C" PRIMARY KEY,
  user_id text COLLATE "C" NOT NULL,
  public_key text NOT NULL,
  counter bigint NOT NULL,
  transports text NOT NULL,
  backup_eligible boolean NOT NULL,
  backed_up boolean NOT NULL,
  aaguid text NOT NULL,
  name text NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint
);

-- listPasskeys: a user's passkeys, oldest first.
CREATE INDEX latchkey_passkeys_user_idx ON latchkey_passkeys (user_id, created_at, id);
