-- Dated exceptions to the weekly rules: away on a date range, extra hours on a date.
ALTER TABLE availability ADD COLUMN exceptions jsonb NOT NULL DEFAULT '[]'::jsonb;

-- A move of a booking proposed by one side, waiting for the other to confirm.
ALTER TABLE bookings
    ADD COLUMN proposed_starts_at timestamptz,
    ADD COLUMN proposed_hours     integer CHECK (proposed_hours BETWEEN 1 AND 8),
    ADD COLUMN proposed_by        text,
    ADD COLUMN no_show_absent     text,
    ADD COLUMN no_show_reported_by text;

-- The first response to each create, per person, key and route, kept so that a retry with
-- the same Idempotency-Key gets the same answer and creates nothing twice.
CREATE TABLE idempotency_keys (
    person_id    uuid NOT NULL,
    key          text NOT NULL,
    route        text NOT NULL,
    body_digest  bytea NOT NULL,
    status       integer NOT NULL,
    response     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, key, route)
);

-- What a person wants helpers to know (steps, hearing, a guide dog): private to booking.
ALTER TABLE people ADD COLUMN accessibility_notes text;
