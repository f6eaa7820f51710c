-- A session whose client asked to be remembered at login ("remember me"): its cookies carry a
-- lifetime up to the absolute expiry. Every other session cookie ends with the browser.
ALTER TABLE latchkey_sessions ADD COLUMN persistent boolean NOT NULL DEFAULT false;
