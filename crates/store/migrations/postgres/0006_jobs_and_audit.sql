-- Operator jobs (bulk replay and retry, in batches that survive a restart) and the audit log.
CREATE TABLE jobs (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    filter        TEXT    NOT NULL,
    targets       TEXT,
    actor         TEXT    NOT NULL,
    total         BIGINT  NOT NULL,
    done          BIGINT  NOT NULL DEFAULT 0,
    failed        BIGINT  NOT NULL DEFAULT 0,
    made          BIGINT  NOT NULL DEFAULT 0,
    cursor        BIGINT  NOT NULL,
    lease_until   BIGINT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    error         TEXT
);
CREATE INDEX jobs_state ON jobs (state, id);
CREATE TABLE audit (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            BIGINT  NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    detail        TEXT    NOT NULL
);
