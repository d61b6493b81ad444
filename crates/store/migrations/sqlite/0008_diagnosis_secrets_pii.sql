-- Why a rejected attempt failed (a JSON array of {cause, detail}; NULL when not diagnosed).
ALTER TABLE rejections ADD COLUMN diagnosis TEXT;
-- Tag values that look like personal data (a JSON array of {key, kind}; NULL for none).
ALTER TABLE events ADD COLUMN pii TEXT;
-- Which configured secret verified how many requests, and when last: by fingerprint, so a
-- relabelled secret keeps its counts and a new key under an old label starts at zero.
CREATE TABLE secret_matches (
    source          TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    secret          TEXT NOT NULL,
    matches         INTEGER NOT NULL DEFAULT 0,
    last_matched_at INTEGER,
    PRIMARY KEY (source, fingerprint)
);
