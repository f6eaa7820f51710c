-- A session whose client asked to be remembered at login ("remember me"): its cookies carry a
-- lifetime up to the absolute expiry. Every other session cookie ends with the browser.
-- BOOLEAN is TINYINT(1) in MySQL and MariaDB. One statement, so it applies whole or not at all.
ALTER TABLE latchkey_sessions ADD COLUMN persistent BOOLEAN NOT NULL DEFAULT FALSE;
