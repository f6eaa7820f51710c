-- Latchkey schema, version 5: the mail outbox, and verified email addresses.
--
-- Same conventions as 0001: bigint milliseconds, "C" collation on identifiers, no BEGIN/COMMIT
-- (the runner wraps this file in a transaction). The message is sealed by the server (AES-GCM
-- under a key derived from the master secret): a link it carries is a secret.

ALTER TABLE latchkey_users ADD COLUMN email_verified_at bigint;

CREATE TABLE latchkey_mails (
  id text COLLATE "C" PRIMARY KEY,
  kind text NOT NULL,
  recipient text NOT NULL,
  message text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  created_at bigint NOT NULL,
  next_attempt_at bigint NOT NULL,
  claimed_by text COLLATE "C",
  settled_at bigint,
  last_error text,
  expires_at bigint NOT NULL
);

-- claimMails: queued mails by due time.
CREATE INDEX latchkey_mails_due_idx ON latchkey_mails (status, next_attempt_at);
-- listMails: newest first.
CREATE INDEX latchkey_mails_created_idx ON latchkey_mails (created_at, id);
-- deleteExpiredMails.
CREATE INDEX latchkey_mails_expires_at_idx ON latchkey_mails (expires_at);
