-- Latchkey schema, version 2: machine clients (OAuth 2.0 client credentials).
--
-- MySQL 8.0+ and MariaDB 10.11+, same conventions as 0001: VARBINARY identifiers and hashes,
-- utf8mb4_bin text, BIGINT milliseconds, JSON text arrays. Only the SHA-256 of the client secret
-- is stored.

CREATE TABLE IF NOT EXISTS latchkey_clients (
  id VARBINARY(255) NOT NULL,
  name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  secret_hash VARBINARY(255) NOT NULL,
  scopes TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  audiences TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  created_at BIGINT NOT NULL,
  disabled_at BIGINT NULL,
  PRIMARY KEY (id),
  CONSTRAINT latchkey_clients_scopes_check CHECK (JSON_VALID(scopes)),
  CONSTRAINT latchkey_clients_audiences_check CHECK (JSON_VALID(audiences))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
