-- Latchkey schema, version 9: the audit trail, and webhook endpoints with their delivery queue.
--
-- MySQL 8.0+ and MariaDB 10.11+, same conventions as 0001. Only idempotent CREATE TABLE IF NOT
-- EXISTS statements: MySQL commits DDL implicitly, so a migration cut short is run again from
-- the top. An audit record holds no secret; a webhook's signing secret is sealed by the server.

CREATE TABLE IF NOT EXISTS latchkey_audit_events (
  id VARBINARY(255) NOT NULL,
  occurred_at BIGINT NOT NULL,
  event VARBINARY(64) NOT NULL,
  user_id VARBINARY(255) NULL,
  client_id VARBINARY(255) NULL,
  session_id VARBINARY(255) NULL,
  ip VARBINARY(64) NULL,
  user_agent VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  details TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  -- listAuditRecords of one user, newest first.
  KEY latchkey_audit_events_user_idx (user_id, occurred_at, id),
  -- listAuditRecords of everyone.
  KEY latchkey_audit_events_at_idx (occurred_at, id),
  -- deleteExpiredAuditRecords.
  KEY latchkey_audit_events_expires_at_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS latchkey_webhooks (
  id VARBINARY(255) NOT NULL,
  url VARCHAR(2048) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  events TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  secret VARBINARY(512) NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  CONSTRAINT latchkey_webhooks_events_check CHECK (JSON_VALID(events))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS latchkey_webhook_deliveries (
  id VARBINARY(255) NOT NULL,
  endpoint_id VARBINARY(255) NOT NULL,
  event VARBINARY(64) NOT NULL,
  payload MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  status VARBINARY(16) NOT NULL,
  attempts INT NOT NULL,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  claimed_by VARBINARY(255) NULL,
  settled_at BIGINT NULL,
  response_status INT NULL,
  last_error VARCHAR(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  -- claimWebhookDeliveries: queued deliveries by due time.
  KEY latchkey_webhook_deliveries_due_idx (status, next_attempt_at),
  -- listWebhookDeliveries: an endpoint's, newest first.
  KEY latchkey_webhook_deliveries_endpoint_idx (endpoint_id, created_at, id),
  -- deleteExpiredWebhookDeliveries.
  KEY latchkey_webhook_deliveries_expires_at_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
