-- Idempotency records no longer keep a bearer token nor an unkeyed digest of the body (an
-- email and password could be guessed back from it): the ones kept so far go, and every
-- record now expires (the sweep finds them by age).
DELETE FROM idempotency_keys;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
