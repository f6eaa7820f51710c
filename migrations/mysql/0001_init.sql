-- Latchkey schema, version 1, for MySQL 8.0+ and MariaDB 10.11+ (InnoDB), in their common syntax.
--
-- The same tables and columns as migrations/postgres/0001_init.sql, with types chosen for the
-- data:
-- - Identifiers, secret hashes and fixed codes are VARBINARY: compared and ordered byte by byte
--   (the byte order of the memory store and of Postgres "C"), no trailing-space padding, any
--   value accepted (an identifier column in `ascii` would fail a lookup of a non-ASCII value with
--   "Illegal mix of collations" instead of finding nothing). The driver reads them back as UTF-8.
-- - Text written by people (e-mail, names, user agents, JSON) is utf8mb4 with the binary
--   collation utf8mb4_bin: code-point order, exact comparison. E-mails reach the store already
--   normalised (trimmed, NFKC, lower-cased, no whitespace), so the exact unique key on them is
--   the case-insensitive uniqueness of the addresses people type; a `_ci` collation would also
--   fold accents (josé = jose) and differ from that normalisation.
-- - Times are BIGINT milliseconds since the epoch (UTC by definition), as in the store contract.
-- - String arrays are JSON text in utf8mb4, checked with JSON_VALID.
--
-- No foreign keys, as in Postgres. Each statement is idempotent (IF NOT EXISTS, INSERT IGNORE)
-- because MySQL commits DDL implicitly: a migration cut short is simply run again. Indexes are
-- declared in CREATE TABLE (MySQL has no CREATE INDEX IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS latchkey_users (
  id VARBINARY(255) NOT NULL,
  email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  password_hash VARBINARY(1024) NOT NULL,
  status VARBINARY(16) NOT NULL,
  roles TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY latchkey_users_email_key (email),
  CONSTRAINT latchkey_users_status_check CHECK (status IN ('active', 'disabled')),
  CONSTRAINT latchkey_users_roles_check CHECK (JSON_VALID(roles))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS latchkey_sessions (
  id VARBINARY(255) NOT NULL,
  user_id VARBINARY(255) NOT NULL,
  secret_hash VARBINARY(255) NOT NULL,
  mode VARBINARY(16) NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  idle_expires_at BIGINT NOT NULL,
  absolute_expires_at BIGINT NOT NULL,
  user_agent VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  ip VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  revoked_at BIGINT NULL,
  PRIMARY KEY (id),
  -- listUserSessions and revokeUserSessions; InnoDB appends the id, so rows lock in id order.
  KEY latchkey_sessions_user_id_idx (user_id),
  CONSTRAINT latchkey_sessions_mode_check CHECK (mode IN ('cookie', 'token', 'hybrid'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS latchkey_refresh_tokens (
  id VARBINARY(255) NOT NULL,
  session_id VARBINARY(255) NOT NULL,
  secret_hash VARBINARY(255) NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  rotated_at BIGINT NULL,
  successor_id VARBINARY(255) NULL,
  PRIMARY KEY (id),
  KEY latchkey_refresh_tokens_session_id_idx (session_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS latchkey_signing_keys (
  kid VARBINARY(255) NOT NULL,
  alg VARBINARY(16) NOT NULL,
  public_jwk TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  encrypted_private_key TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  created_at BIGINT NOT NULL,
  activates_at BIGINT NOT NULL,
  retired_at BIGINT NULL,
  expires_at BIGINT NULL,
  PRIMARY KEY (kid),
  CONSTRAINT latchkey_signing_keys_alg_check CHECK (alg IN ('EdDSA', 'ES256', 'RS256', 'HS256'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- seq: AUTO_INCREMENT, kept across restarts by InnoDB (MySQL 8, MariaDB 10.2.4+), so a deleted
-- seq is never handed out again.
CREATE TABLE IF NOT EXISTS latchkey_revocations (
  seq BIGINT NOT NULL AUTO_INCREMENT,
  kind VARBINARY(16) NOT NULL,
  subject VARBINARY(255) NOT NULL,
  issued_before BIGINT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (seq),
  KEY latchkey_revocations_expires_at_idx (expires_at),
  CONSTRAINT latchkey_revocations_kind_check CHECK (kind IN ('session', 'user', 'token'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS latchkey_counters (
  `key` VARBINARY(512) NOT NULL,
  count INT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (`key`),
  KEY latchkey_counters_expires_at_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- MySQL only: the rows that the dialect's named locks read FOR UPDATE (Postgres uses advisory
-- locks). addRevocation holds 'revocations' so that revocations commit in seq order.
CREATE TABLE IF NOT EXISTS latchkey_locks (
  name VARBINARY(64) NOT NULL,
  PRIMARY KEY (name)
) ENGINE = InnoDB;

INSERT IGNORE INTO latchkey_locks (name) VALUES ('revocations');
