-- Latchkey schema, version 1, for SQLite (3.37+; better-sqlite3 bundles its own).
--
-- The same tables and columns as migrations/postgres/, in SQLite's types: times are INTEGER
-- milliseconds since the epoch, string arrays are JSON text, booleans 0/1; STRICT tables refuse a
-- value of the wrong type, as Postgres would (SQLite 3.37+). Text compares with
-- SQLite's default BINARY collation, which for UTF-8 is code-point order: the order the Postgres
-- schema gets from COLLATE "C" (and the memory store's). No foreign keys, as in Postgres: the
-- store contract does not require a user to exist before its sessions, and the sweeps delete
-- dependants explicitly. The migration runner wraps this file in a transaction: no BEGIN/COMMIT.

CREATE TABLE latchkey_users (
  id TEXT PRIMARY KEY NOT NULL,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  roles TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CONSTRAINT latchkey_users_email_key UNIQUE (email)
) STRICT;

CREATE TABLE latchkey_sessions (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('cookie', 'token', 'hybrid')),
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  idle_expires_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  user_agent TEXT,
  ip TEXT,
  revoked_at INTEGER
) STRICT;

CREATE INDEX latchkey_sessions_user_id_idx ON latchkey_sessions (user_id);

-- deleteExpiredSessions: the first instant the session may be swept, the earliest non-null of
-- the three times. The expression is the dialect's `earliest()`, character for character
-- (SQLite uses an expression index only for that same expression).
CREATE INDEX latchkey_sessions_sweep_idx ON latchkey_sessions (
  MIN(COALESCE(idle_expires_at, absolute_expires_at, revoked_at), COALESCE(absolute_expires_at, idle_expires_at, revoked_at), COALESCE(revoked_at, idle_expires_at, absolute_expires_at))
);

CREATE TABLE latchkey_refresh_tokens (
  id TEXT PRIMARY KEY NOT NULL,
  session_id TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  rotated_at INTEGER,
  successor_id TEXT
) STRICT;

CREATE INDEX latchkey_refresh_tokens_session_id_idx ON latchkey_refresh_tokens (session_id);

CREATE TABLE latchkey_signing_keys (
  kid TEXT PRIMARY KEY NOT NULL,
  alg TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256', 'HS256')),
  public_jwk TEXT,
  encrypted_private_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  activates_at INTEGER NOT NULL,
  retired_at INTEGER,
  expires_at INTEGER
) STRICT;

-- AUTOINCREMENT: a seq is never reused, even after the newest revocations are swept (without
-- it, SQLite would hand out max(seq) + 1 again, and a feed reader past it would miss a record).
CREATE TABLE latchkey_revocations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('session', 'user', 'token')),
  subject TEXT NOT NULL,
  issued_before INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX latchkey_revocations_expires_at_idx ON latchkey_revocations (expires_at);

CREATE TABLE latchkey_counters (
  "key" TEXT PRIMARY KEY NOT NULL,
  count INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX latchkey_counters_expires_at_idx ON latchkey_counters (expires_at);
