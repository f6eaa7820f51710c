-- Latchkey schema, version 2, for SQLite: machine clients (OAuth 2.0 client credentials).
--
-- Same conventions as 0001: INTEGER milliseconds, JSON text arrays, BINARY (code-point) order on
-- identifiers, no BEGIN/COMMIT (the runner wraps this file in a transaction). Only the SHA-256
-- of the client secret is stored.

CREATE TABLE latchkey_clients (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL DEFAULT '[]',
  audiences TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  disabled_at INTEGER
) STRICT;
