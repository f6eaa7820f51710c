-- Latchkey schema, version 1.
--
-- Plain Postgres (15+; also PGlite). Times are bigint milliseconds since the epoch, exactly as in
-- the store contract. Identifier columns use the "C" collation: byte order, the same order as the
-- memory store, and no dependence on the server's locale. No foreign keys: the store contract
-- does not require a user to exist before its sessions, and the sweeps delete dependants
-- explicitly. The migration runner wraps this file in a transaction: no BEGIN/COMMIT here.

CREATE TABLE latchkey_users (
  id text COLLATE "C" PRIMARY KEY,
  email text COLLATE "C" NOT NULL,
  password_hash text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'disabled')),
  roles text[] NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  CONSTRAINT latchkey_users_email_key UNIQUE (email)
);

CREATE TABLE latchkey_sessions (
  id text COLLATE "C" PRIMARY KEY,
  user_id text COLLATE "C" NOT NULL,
  secret_hash text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('cookie', 'token', 'hybrid')),
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  idle_expires_at bigint NOT NULL,
  absolute_expires_at bigint NOT NULL,
  user_agent text,
  ip text,
  revoked_at bigint
);

CREATE INDEX latchkey_sessions_user_id_idx ON latchkey_sessions (user_id);

-- deleteExpiredSessions: LEAST ignores NULL, so this is the first instant the session may be swept.
CREATE INDEX latchkey_sessions_sweep_idx
  ON latchkey_sessions ((LEAST(idle_expires_at, absolute_expires_at, revoked_at)));

CREATE TABLE latchkey_refresh_tokens (
  id text COLLATE "C" PRIMARY KEY,
  session_id text COLLATE "C" NOT NULL,
  secret_hash text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  rotated_at bigint,
  successor_id text COLLATE "C"
);

CREATE INDEX latchkey_refresh_tokens_session_id_idx ON latchkey_refresh_tokens (session_id);

CREATE TABLE latchkey_signing_keys (
  kid text COLLATE "C" PRIMARY KEY,
  alg text NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256', 'HS256')),
  public_jwk text,
  encrypted_private_key text NOT NULL,
  created_at bigint NOT NULL,
  activates_at bigint NOT NULL,
  retired_at bigint,
  expires_at bigint
);

CREATE TABLE latchkey_revocations (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('session', 'user', 'token')),
  subject text NOT NULL,
  issued_before bigint,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);

CREATE INDEX latchkey_revocations_expires_at_idx ON latchkey_revocations (expires_at);

CREATE TABLE latchkey_counters (
  key text COLLATE "C" PRIMARY KEY,
  count integer NOT NULL,
  expires_at bigint NOT NULL
);

CREATE INDEX latchkey_counters_expires_at_idx ON latchkey_counters (expires_at);
