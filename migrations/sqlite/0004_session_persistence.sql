-- A session whose client asked to be remembered at login ("remember me"): its cookies carry a
-- lifetime up to the absolute expiry. Every other session cookie ends with the browser.
-- SQLite has no boolean type: 0 or 1.
ALTER TABLE latchkey_sessions ADD COLUMN persistent INTEGER NOT NULL DEFAULT 0 CHECK (persistent IN (0, 1));
