-- One row per pair of people, whichever way round (pair_id from shared.contracts.pair_key).
CREATE TABLE relationships (
    pair_id                     text PRIMARY KEY,
    helper_id                   uuid NOT NULL,
    neighbour_id                uuid NOT NULL,
    neighbourhood               text NOT NULL,
    stage                       text NOT NULL,
    visits                      integer NOT NULL DEFAULT 0,
    hours_together              integer NOT NULL DEFAULT 0,
    first_visit_at              timestamptz,
    last_visit_at               timestamptz,
    cancellations_by_helper     integer NOT NULL DEFAULT 0,
    cancellations_by_neighbour  integer NOT NULL DEFAULT 0,
    no_shows_by_helper          integer NOT NULL DEFAULT 0,
    no_shows_by_neighbour       integer NOT NULL DEFAULT 0,
    helper_see_again            text,
    neighbour_see_again         text,
    matchable                   boolean NOT NULL,
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
-- The pause sweep looks only at pairs that have met.
CREATE INDEX relationships_pausable ON relationships (last_visit_at)
    WHERE stage IN ('first_visit', 'regular');

-- Each booking counts as a visit once, whatever event ids its completions carry.
CREATE TABLE counted_visits (
    booking_id  uuid PRIMARY KEY,
    pair_id     text NOT NULL REFERENCES relationships (pair_id),
    counted_at  timestamptz NOT NULL DEFAULT now()
);

-- Private answers after each visit. They stay in this database and are never published.
CREATE TABLE checkins (
    checkin_id    uuid PRIMARY KEY,
    booking_id    uuid NOT NULL,
    pair_id       text NOT NULL,
    author_id     uuid NOT NULL,
    about_id      uuid NOT NULL,
    see_again     text NOT NULL,
    as_agreed     text NOT NULL,
    note          text,
    submitted_at  timestamptz NOT NULL
);
CREATE INDEX checkins_pair ON checkins (pair_id, submitted_at);

-- Every vetting step recorded, with who recorded it and when.
CREATE TABLE vetting_steps (
    event_id     uuid PRIMARY KEY,
    person_id    uuid NOT NULL,
    step         text NOT NULL,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX vetting_steps_person ON vetting_steps (person_id, step, recorded_at);

-- What trust knows of each person: skills offered, and the standing last published.
CREATE TABLE people (
    person_id        uuid PRIMARY KEY,
    -- NULL until a profile is seen; until then the skills named at vetting stand in.
    profile_skills   text[],
    vetting_skills   text[] NOT NULL DEFAULT '{}',
    suspended        boolean NOT NULL DEFAULT false,
    -- {skill: expires_at ISO 8601} as last published in StandingChanged.
    approved_skills  jsonb NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL DEFAULT now()
);
