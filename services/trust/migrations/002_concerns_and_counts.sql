-- Safeguarding concerns about a person: any open one suspends them; "remove" keeps them
-- suspended for good and ends their relationships.
CREATE TABLE concerns (
    concern_id      uuid PRIMARY KEY,
    about_id        uuid NOT NULL,
    raised_by_id    uuid,
    raised_by_role  text NOT NULL,
    booking_id      uuid,
    summary         text NOT NULL,
    raised_at       timestamptz NOT NULL,
    outcome         text,
    reason          text,
    resolved_by     text,
    resolved_at     timestamptz
);
CREATE INDEX concerns_open ON concerns (about_id) WHERE outcome IS NULL;

ALTER TABLE people ADD COLUMN removed boolean NOT NULL DEFAULT false;
ALTER TABLE people ADD COLUMN late_cancellations integer NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN no_shows integer NOT NULL DEFAULT 0;
-- The earliest approval in approved_skills: the expiry sweep looks only at those now due.
ALTER TABLE people ADD COLUMN next_expiry timestamptz;
CREATE INDEX people_next_expiry ON people (next_expiry) WHERE next_expiry IS NOT NULL;

-- Each booking's late cancellation or no-show counts once, whatever event ids carry it.
CREATE TABLE counted_marks (
    booking_id  uuid NOT NULL,
    kind        text NOT NULL,
    counted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (booking_id, kind)
);
