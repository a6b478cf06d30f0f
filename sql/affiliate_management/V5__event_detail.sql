-- What a step produced, for staff to read: e.g. where a backup went and its SHA-256.
ALTER TABLE provisioning_event ADD COLUMN detail text NOT NULL DEFAULT '';
