CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        TEXT    NOT NULL,
    received_at   BIGINT  NOT NULL,
    dedup_key     TEXT    NOT NULL,
    provider_id   TEXT,
    event_type    TEXT,
    signed_at     BIGINT,
    body          BYTEA   NOT NULL,
    body_sha256   TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    headers       TEXT    NOT NULL,
    metadata      TEXT    NOT NULL,
    duplicates    BIGINT  NOT NULL DEFAULT 0,
    last_duplicate_at BIGINT,
    -- Dedup across every node: a retry that reaches another node conflicts here.
    UNIQUE (source, dedup_key)
);
CREATE INDEX events_received ON events (received_at);

CREATE TABLE rejections (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        TEXT    NOT NULL,
    received_at   BIGINT  NOT NULL,
    peer          TEXT,
    reason        TEXT    NOT NULL,
    reason_code   TEXT    NOT NULL,
    header_names  TEXT    NOT NULL,
    body_sha256   TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    body          BYTEA
);
CREATE INDEX rejections_received ON rejections (received_at);
