-- Safeguarding concerns raised through the API, as operators see them. Trust acts on the
-- events; this table is operators' list of what is open and how each was resolved.
CREATE TABLE concerns (
    concern_id      uuid PRIMARY KEY,
    about_id        uuid NOT NULL,
    raised_by_id    uuid,
    raised_by_role  text NOT NULL,
    booking_id      uuid,
    summary         text NOT NULL,
    status          text NOT NULL DEFAULT 'open',
    outcome         text,
    reason          text,
    resolved_by     text,
    raised_at       timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz
);
CREATE INDEX concerns_by_status ON concerns (status, raised_at);
