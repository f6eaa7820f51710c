-- Latchkey schema, version 2: machine clients (OAuth 2.0 client credentials).
--
-- Plain Postgres (15+; also PGlite), same conventions as 0001: bigint milliseconds, "C" collation
-- on identifiers, no BEGIN/COMMIT (the runner wraps this file in a transaction). Only the SHA-256
-- of the client secret is stored.

CREATE TABLE latchkey_clients (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  secret_hash text NOT NULL,
  scopes text[] NOT NULL DEFAULT '{}',
  audiences text[] NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  disabled_at bigint
);
