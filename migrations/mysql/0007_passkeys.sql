-- Latchkey schema, version 7: passkeys (WebAuthn credentials), keyed by the credential id
-- (base64url of at most 1023 bytes: 1364 characters), which a username-less sign-in looks up
-- before it knows the user. `counter` is the last signature counter seen: a use is recorded only
-- when it grows (or stays 0 on an authenticator without one). `transports` is comma-separated.
--
-- MySQL 8.0+ and MariaDB 10.11+, same conventions as 0001.

CREATE TABLE IF NOT EXISTS latchkey_passkeys (
  id VARBINARY(1400) NOT NULL,
  user_id VARBINARY(255) NOT NULL,
  public_key VARBINARY(2048) NOT NULL,
  counter BIGINT NOT NULL,
  transports VARBINARY(255) NOT NULL,
  backup_eligible TINYINT(1) NOT NULL,
  backed_up TINYINT(1) NOT NULL,
  aaguid VARBINARY(64) NOT NULL,
  name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NULL,
  PRIMARY KEY (id),
  -- listPasskeys: a user's passkeys, oldest first.
  KEY latchkey_passkeys_user_idx (user_id, created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
