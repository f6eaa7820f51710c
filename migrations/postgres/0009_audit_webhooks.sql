-- Latchkey schema, version 9: the audit trail, and webhook endpoints with their delivery queue.
--
-- Same conventions as 0001: bigint milliseconds, "C" collation on identifiers, no BEGIN/COMMIT
-- (the runner wraps this file in a transaction). An audit record holds no secret (its details
-- are bounded by the server); a webhook's signing secret is sealed by the server (AES-GCM under
-- a key derived from the master secret).

CREATE TABLE latchkey_audit_events (
  id text COLLATE "C" PRIMARY KEY,
  occurred_at bigint NOT NULL,
  event text NOT NULL,
  user_id text COLLATE "C",
  client_id text COLLATE "C",
  session_id text COLLATE "C",
  ip text,
  user_agent text,
  details text NOT NULL,
  expires_at bigint NOT NULL
);

-- listAuditRecords of one user, newest first.
CREATE INDEX latchkey_audit_events_user_idx ON latchkey_audit_events (user_id, occurred_at, id);
-- listAuditRecords of everyone.
CREATE INDEX latchkey_audit_events_at_idx ON latchkey_audit_events (occurred_at, id);
-- deleteExpiredAuditRecords.
CREATE INDEX latchkey_audit_events_expires_at_idx ON latchkey_audit_events (expires_at);

CREATE TABLE latchkey_webhooks (
  id text COLLATE "C" PRIMARY KEY,
  url text NOT NULL,
  events text[] NOT NULL DEFAULT '{}',
  secret text NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE latchkey_webhook_deliveries (
  id text COLLATE "C" PRIMARY KEY,
  endpoint_id text COLLATE "C" NOT NULL,
  event text NOT NULL,
  payload text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  created_at bigint NOT NULL,
  next_attempt_at bigint NOT NULL,
  claimed_by text COLLATE "C",
  settled_at bigint,
  response_status integer,
  last_error text,
  expires_at bigint NOT NULL
);

-- claimWebhookDeliveries: queued deliveries by due time.
CREATE INDEX latchkey_webhook_deliveries_due_idx ON latchkey_webhook_deliveries (status, next_attempt_at);
-- listWebhookDeliveries: an endpoint's, newest first.
CREATE INDEX latchkey_webhook_deliveries_endpoint_idx ON latchkey_webhook_deliveries (endpoint_id, created_at, id);
-- deleteExpiredWebhookDeliveries.
CREATE INDEX latchkey_webhook_deliveries_expires_at_idx ON latchkey_webhook_deliveries (expires_at);
