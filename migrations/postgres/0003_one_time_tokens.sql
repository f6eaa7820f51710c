-- Latchkey schema, version 3: one-time tokens (reset links, verification links, second-step
-- challenges).
--
-- Plain Postgres (15+; also PGlite), same conventions as 0001: bigint milliseconds, "C" collation
-- on identifiers, no BEGIN/COMMIT (the runner wraps this file in a transaction). Only the SHA-256
-- of the secret is stored, as the id.

CREATE TABLE latchkey_one_time_tokens (
  id text COLLATE "C" PRIMARY KEY,
  purpose text NOT NULL,
  subject text COLLATE "C" NOT NULL,
  data text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);

-- deleteOneTimeTokens: every token of one subject and purpose.
CREATE INDEX latchkey_one_time_tokens_subject_purpose_idx ON latchkey_one_time_tokens (subject, purpose);

-- deleteExpiredOneTimeTokens.
CREATE INDEX latchkey_one_time_tokens_expires_at_idx ON latchkey_one_time_tokens (expires_at);
