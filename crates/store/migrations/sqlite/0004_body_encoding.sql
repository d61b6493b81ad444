ALTER TABLE events ADD COLUMN body_encoding TEXT NOT NULL DEFAULT 'identity';
