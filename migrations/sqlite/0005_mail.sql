-- Latchkey schema, version 5, for SQLite: the mail outbox, and verified email addresses.
--
-- Same conventions as 0001: INTEGER milliseconds, BINARY order on identifiers, no BEGIN/COMMIT
-- (the runner wraps this file in a transaction). The message is sealed by the server (AES-GCM
-- under a key derived from the master secret): a link it carries is a secret.

ALTER TABLE latchkey_users ADD COLUMN email_verified_at INTEGER;

CREATE TABLE latchkey_mails (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  recipient TEXT NOT NULL,
  message TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  claimed_by TEXT,
  settled_at INTEGER,
  last_error TEXT,
  expires_at INTEGER NOT NULL
) STRICT;

-- claimMails: queued mails by due time.
CREATE INDEX latchkey_mails_due_idx ON latchkey_mails (status, next_attempt_at);
-- listMails: newest first.
CREATE INDEX latchkey_mails_created_idx ON latchkey_mails (created_at, id);
-- deleteExpiredMails.
CREATE INDEX latchkey_mails_expires_at_idx ON latchkey_mails (expires_at);
