-- A vetting step may be recorded as passed, failed or revoked (with a reason): trust counts
-- the latest record of each step. Steps recorded before were passes.
ALTER TABLE vetting_steps
    ADD COLUMN outcome text NOT NULL DEFAULT 'passed'
        CHECK (outcome IN ('passed', 'failed', 'revoked')),
    ADD COLUMN reason text;
