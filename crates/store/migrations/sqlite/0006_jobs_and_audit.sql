-- Operator jobs (bulk replay and retry, in batches that survive a restart) and the audit log.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,          -- replay | retry
    state         TEXT    NOT NULL,          -- queued | running | done | cancelled | failed
    filter        TEXT    NOT NULL,          -- JSON: the API's event filters
    targets       TEXT,                      -- JSON list, or NULL: the routed targets
    actor         TEXT    NOT NULL,
    total         INTEGER NOT NULL,
    done          INTEGER NOT NULL DEFAULT 0,
    failed        INTEGER NOT NULL DEFAULT 0,
    made          INTEGER NOT NULL DEFAULT 0,  -- deliveries created (replay) or revived (retry)
    cursor        INTEGER NOT NULL,          -- events with an id up to this remain
    lease_until   INTEGER,                   -- Unix ms; a runner holds it until then
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    error         TEXT
);
CREATE INDEX jobs_state ON jobs (state, id);
CREATE TABLE audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    detail        TEXT    NOT NULL           -- JSON
);
