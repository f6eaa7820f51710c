-- Latchkey schema, version 9, for SQLite: the audit trail, and webhook endpoints with their
-- delivery queue.
--
-- Same conventions as 0001: INTEGER milliseconds, BINARY order on identifiers, no BEGIN/COMMIT
-- (the runner wraps this file in a transaction). An audit record holds no secret (its details
-- are bounded by the server); a webhook's signing secret is sealed by the server.

CREATE TABLE latchkey_audit_events (
  id TEXT PRIMARY KEY NOT NULL,
  occurred_at INTEGER NOT NULL,
  event TEXT NOT NULL,
  user_id TEXT,
  client_id TEXT,
  session_id TEXT,
  ip TEXT,
  user_agent TEXT,
  details TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

-- listAuditRecords of one user, newest first.
CREATE INDEX latchkey_audit_events_user_idx ON latchkey_audit_events (user_id, occurred_at, id);
-- listAuditRecords of everyone.
CREATE INDEX latchkey_audit_events_at_idx ON latchkey_audit_events (occurred_at, id);
-- deleteExpiredAuditRecords.
CREATE INDEX latchkey_audit_events_expires_at_idx ON latchkey_audit_events (expires_at);

CREATE TABLE latchkey_webhooks (
  id TEXT PRIMARY KEY NOT NULL,
  url TEXT NOT NULL,
  events TEXT NOT NULL DEFAULT '[]',
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE latchkey_webhook_deliveries (
  id TEXT PRIMARY KEY NOT NULL,
  endpoint_id TEXT NOT NULL,
  event TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  claimed_by TEXT,
  settled_at INTEGER,
  response_status INTEGER,
  last_error TEXT,
  expires_at INTEGER NOT NULL
) STRICT;

-- claimWebhookDeliveries: queued deliveries by due time.
CREATE INDEX latchkey_webhook_deliveries_due_idx ON latchkey_webhook_deliveries (status, next_attempt_at);
-- listWebhookDeliveries: an endpoint's, newest first.
CREATE INDEX latchkey_webhook_deliveries_endpoint_idx ON latchkey_webhook_deliveries (endpoint_id, created_at, id);
-- deleteExpiredWebhookDeliveries.
CREATE INDEX latchkey_webhook_deliveries_expires_at_idx ON latchkey_webhook_deliveries (expires_at);
