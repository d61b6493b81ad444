-- The table is rebuilt (SQLite cannot drop an inline UNIQUE), with foreign keys off for the
-- migration (see `run`). AUTOINCREMENT: an event id is never reused after pruning (targets
-- deduplicate on it, and the dedup index file refers to it). `store_meta.store_id` ties
-- the dedup index file to this database.
CREATE TABLE events_v3 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    dedup_key     TEXT    NOT NULL,
    provider_id   TEXT,
    event_type    TEXT,
    signed_at     INTEGER,
    body          BLOB    NOT NULL,
    body_sha256   TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    headers       TEXT    NOT NULL,
    metadata      TEXT    NOT NULL,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    last_duplicate_at INTEGER
);
INSERT INTO events_v3 SELECT id, source, received_at, dedup_key, provider_id, event_type, signed_at, body,
    body_sha256, size, headers, metadata, duplicates, last_duplicate_at FROM events;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
CREATE INDEX events_received ON events (received_at);
CREATE TABLE store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO store_meta (name, value) VALUES ('store_id', lower(hex(randomblob(16))));
