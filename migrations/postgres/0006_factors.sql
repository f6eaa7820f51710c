-- Latchkey schema, version 6: second factors (TOTP). The secret is stored sealed (AES-256-GCM
-- under a key derived from the master secret, bound to the user and factor), never in the clear.
-- `last_used_step` is the last TOTP step accepted: a code is accepted once (RFC 6238 §5.2).
--
-- Same conventions as 0001: bigint milliseconds, "C" collation on identifiers.

CREATE TABLE latchkey_factors (
  id text COLLATE "C" PRIMARY KEY,
  user_id text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  label text NOT NULL,
  secret text NOT NULL,
  last_used_step bigint,
  created_at bigint NOT NULL,
  confirmed_at bigint,
  last_used_at bigint
);

-- listFactors: a user's factors, oldest first.
CREATE INDEX latchkey_factors_user_idx ON latchkey_factors (user_id, created_at, id);
