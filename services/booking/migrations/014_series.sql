-- A weekly or fortnightly request as one commitment. Its occurrences are rows of requests,
-- made a few weeks ahead and then as time passes (KITH_SERIES_HORIZON_DAYS), so a series
-- may run until cancelled; a helper may take the whole series on as its regular.
CREATE TABLE series (
    series_id           uuid PRIMARY KEY,
    neighbour_id        uuid NOT NULL REFERENCES people,
    repeat              text NOT NULL CHECK (repeat IN ('week', 'fortnight')),
    -- The first occurrence's start; later ones keep its wall-clock time in time_zone.
    first_starts_at     timestamptz NOT NULL,
    time_zone           text NOT NULL,
    -- How many occurrences the neighbour asked for; NULL: until cancelled.
    occurrences         integer CHECK (occurrences >= 1),
    skill               text NOT NULL,
    hours               integer NOT NULL CHECK (hours BETWEEN 1 AND 8),
    preferred_helper_id uuid,
    notes               text,
    -- The last occurrence made so far, and when the next one starts (NULL once all are made).
    made_until          integer NOT NULL,
    next_starts_at      timestamptz,
    regular_helper_id   uuid,
    -- Helpers who stepped back from the series, or whom the neighbour stepped back from.
    stepped_back        uuid[] NOT NULL DEFAULT '{}',
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    created_at          timestamptz NOT NULL DEFAULT now()
);
-- The sweep looks for active series whose next occurrence has come into range.
CREATE INDEX series_to_make ON series (next_starts_at) WHERE status = 'active';

ALTER TABLE requests ALTER COLUMN occurrences DROP NOT NULL;
CREATE INDEX requests_by_series ON requests (series_id, occurrence);

-- Series asked for before this migration were made whole at once: they need no sweep, but a
-- helper may still take one on or step back from it.
INSERT INTO series (series_id, neighbour_id, repeat, first_starts_at, time_zone, occurrences,
                    skill, hours, preferred_helper_id, notes, made_until, next_starts_at)
SELECT r.series_id, r.neighbour_id,
       CASE WHEN count(*) > 1 AND (array_agg(r.starts_at ORDER BY r.occurrence))[2]
                 - min(r.starts_at) > interval '8 days' THEN 'fortnight' ELSE 'week' END,
       min(r.starts_at), p.time_zone, max(r.occurrences), min(r.skill), min(r.hours),
       (array_agg(r.preferred_helper_id))[1], (array_agg(r.notes))[1], max(r.occurrence), NULL
FROM requests r JOIN people p ON p.person_id = r.neighbour_id
GROUP BY r.series_id, r.neighbour_id, p.time_zone
HAVING max(r.occurrences) > 1;
