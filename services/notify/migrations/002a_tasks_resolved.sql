-- A notice that could not be sent is an operator's task until an operator says they reached
-- the person another way.
ALTER TABLE deliveries ADD COLUMN resolved_at timestamptz;
CREATE INDEX deliveries_open_tasks ON deliveries (updated_at)
    WHERE status = 'failed' AND resolved_at IS NULL;
