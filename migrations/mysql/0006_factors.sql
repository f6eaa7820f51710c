-- Latchkey schema, version 6: second factors (TOTP). The secret is stored sealed (AES-256-GCM
-- under a key derived from the master secret, bound to the user and factor).
-- `last_used_step` is the last TOTP step accepted: a code is accepted once (RFC 6238 §5.2).
--
-- MySQL 8.0+ and MariaDB 10.11+, same conventions as 0001.

CREATE TABLE IF NOT EXISTS latchkey_factors (
  id VARBINARY(255) NOT NULL,
  user_id VARBINARY(255) NOT NULL,
  kind VARBINARY(32) NOT NULL,
  label VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  secret VARBINARY(255) NOT NULL,
  last_used_step BIGINT NULL,
  created_at BIGINT NOT NULL,
  confirmed_at BIGINT NULL,
  last_used_at BIGINT NULL,
  PRIMARY KEY (id),
  -- listFactors: a user's factors, oldest first.
  KEY latchkey_factors_user_idx (user_id, created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
