-- What made a delivery: NULL for the routes at ingest (the common case writes nothing more),
-- 'replay' (hookgate replay by id), 'job:<id>' (a replay job); and how often a retry revived it.
ALTER TABLE deliveries ADD COLUMN origin TEXT;
ALTER TABLE deliveries ADD COLUMN revived BIGINT NOT NULL DEFAULT 0;
-- Per attempt: the request sent (JSON: method, URL with credentials redacted, header names, body
-- size) and the response's headers (JSON [[name, value]], bounded, credentials redacted).
ALTER TABLE delivery_attempts ADD COLUMN request TEXT;
ALTER TABLE delivery_attempts ADD COLUMN response_headers TEXT;
