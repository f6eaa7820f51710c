-- Latchkey schema, version 3, for SQLite: one-time tokens (reset links, verification links,
-- second-step challenges).
--
-- Same conventions as 0001: INTEGER milliseconds, BINARY (code-point) order on identifiers, no
-- BEGIN/COMMIT (the runner wraps this file in a transaction). Only the SHA-256 of the secret is
-- stored, as the id.

CREATE TABLE latchkey_one_time_tokens (
  id TEXT PRIMARY KEY NOT NULL,
  purpose TEXT NOT NULL,
  subject TEXT NOT NULL,
  data TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

-- deleteOneTimeTokens: every token of one subject and purpose.
CREATE INDEX latchkey_one_time_tokens_subject_purpose_idx ON latchkey_one_time_tokens (subject, purpose);

-- deleteExpiredOneTimeTokens.
CREATE INDEX latchkey_one_time_tokens_expires_at_idx ON latchkey_one_time_tokens (expires_at);
