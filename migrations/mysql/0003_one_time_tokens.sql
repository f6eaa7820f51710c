-- Latchkey schema, version 3: one-time tokens (reset links, verification links, second-step
-- challenges).
--
-- MySQL 8.0+ and MariaDB 10.11+, same conventions as 0001. Only the SHA-256 of the secret is
-- stored, as the id.

CREATE TABLE IF NOT EXISTS latchkey_one_time_tokens (
  id VARBINARY(255) NOT NULL,
  purpose VARBINARY(64) NOT NULL,
  subject VARBINARY(255) NOT NULL,
  data TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  -- deleteOneTimeTokens: every token of one subject and purpose.
  KEY latchkey_one_time_tokens_subject_purpose_idx (subject, purpose),
  -- deleteExpiredOneTimeTokens.
  KEY latchkey_one_time_tokens_expires_at_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
