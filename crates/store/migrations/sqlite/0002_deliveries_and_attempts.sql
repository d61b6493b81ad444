CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    target          TEXT    NOT NULL,
    status          TEXT    NOT NULL,        -- pending | delivered | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,        -- Unix ms
    lease_until     INTEGER,                 -- Unix ms; claimed by a worker until then
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX deliveries_due ON deliveries (target, status, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    id              INTEGER PRIMARY KEY,
    delivery_id     INTEGER NOT NULL REFERENCES deliveries (id),
    started_at      INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    status_code     INTEGER,                 -- HTTP status or exit code
    error           TEXT,
    response_excerpt TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
