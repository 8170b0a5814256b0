-- Rate limits shared by every process of this service (shared/postgres/rate_limits.py): one
-- row per bucket (an action and a client address or account) with the theoretical arrival
-- time of its next request. Rows whose time has passed hold nothing and are swept.
CREATE TABLE rate_limits (
    bucket  text PRIMARY KEY,
    tat     timestamptz NOT NULL
);
CREATE INDEX rate_limits_by_tat ON rate_limits (tat);
