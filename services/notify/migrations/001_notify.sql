-- The delivery log: one row per notice per person per channel, whatever the event's
-- redeliveries. No personal data: ids, kinds, and the visit's skill and times; a person's
-- name and address are asked of booking when the notice is sent, and never kept here.
CREATE TABLE deliveries (
    event_id    uuid NOT NULL,
    person_id   uuid NOT NULL,
    channel     text NOT NULL,
    kind        text NOT NULL,
    params      jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    due_at      timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    sent_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, person_id, channel, kind)
);
CREATE INDEX deliveries_due ON deliveries (due_at) WHERE status = 'pending';
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE status = 'failed';
CREATE INDEX deliveries_booking ON deliveries ((params ->> 'booking_id')) WHERE status = 'pending';

-- Booked visits still to come, for their reminders.
CREATE TABLE visits (
    booking_id   uuid PRIMARY KEY,
    helper_id    uuid NOT NULL,
    neighbour_id uuid NOT NULL,
    skill        text NOT NULL,
    starts_at    timestamptz NOT NULL,
    hours        integer NOT NULL
);
CREATE INDEX visits_starts_at ON visits (starts_at);

-- Visits already over or cancelled: a late redelivery of the booking does not bring one back.
CREATE TABLE ended_visits (
    booking_id uuid PRIMARY KEY
);
