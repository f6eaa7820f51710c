-- Latchkey schema, version 5: the mail outbox, and verified email addresses.
--
-- MySQL 8.0+ and MariaDB 10.11+, same conventions as 0001. The message is sealed by the server
-- (AES-GCM under a key derived from the master secret): a link it carries is a secret. The
-- table comes first (idempotent) and the one ALTER last: MySQL commits DDL implicitly, so a
-- migration cut short is run again from the top.

CREATE TABLE IF NOT EXISTS latchkey_mails (
  id VARBINARY(255) NOT NULL,
  kind VARBINARY(64) NOT NULL,
  recipient VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  message MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  status VARBINARY(16) NOT NULL,
  attempts INT NOT NULL,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  claimed_by VARBINARY(255) NULL,
  settled_at BIGINT NULL,
  last_error VARCHAR(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  -- claimMails: queued mails by due time.
  KEY latchkey_mails_due_idx (status, next_attempt_at),
  -- listMails: newest first.
  KEY latchkey_mails_created_idx (created_at, id),
  -- deleteExpiredMails.
  KEY latchkey_mails_expires_at_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

ALTER TABLE latchkey_users ADD COLUMN email_verified_at BIGINT NULL;
