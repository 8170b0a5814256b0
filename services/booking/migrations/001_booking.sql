-- People: one account both gives and receives help. Address and phone never leave here.
CREATE TABLE people (
    person_id        uuid PRIMARY KEY,
    email            text NOT NULL,
    display_name     text NOT NULL,
    password_salt    bytea NOT NULL,
    password_hash    bytea NOT NULL,
    lat              double precision NOT NULL,
    lng              double precision NOT NULL,
    address          text NOT NULL,
    phone            text,
    neighbourhood    text NOT NULL,
    cell             text NOT NULL,
    time_zone        text NOT NULL,
    skills           text[] NOT NULL,
    travel_radius_km double precision NOT NULL,
    weekly_hour_cap  integer NOT NULL,
    languages        text[] NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX people_email ON people (lower(email));

-- Only the sha256 of each bearer token is kept.
CREATE TABLE sessions (
    token_digest bytea PRIMARY KEY,
    person_id    uuid NOT NULL REFERENCES people,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE availability (
    person_id     uuid PRIMARY KEY REFERENCES people,
    rules         jsonb NOT NULL,
    horizon_start timestamptz NOT NULL,
    horizon_end   timestamptz NOT NULL,
    hours         timestamptz[] NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Trust's standing, kept apart from people so it can arrive before or after a sign-up.
CREATE TABLE standing (
    person_id   uuid PRIMARY KEY,
    suspended   boolean NOT NULL,
    as_of       timestamptz NOT NULL
);

CREATE TABLE requests (
    seq                 bigserial UNIQUE,
    request_id          uuid PRIMARY KEY,
    series_id           uuid NOT NULL,
    occurrence          integer NOT NULL,
    occurrences         integer NOT NULL,
    neighbour_id        uuid NOT NULL REFERENCES people,
    neighbourhood       text NOT NULL,
    cell                text NOT NULL,
    skill               text NOT NULL,
    starts_at           timestamptz NOT NULL,
    hours               integer NOT NULL CHECK (hours BETWEEN 1 AND 8),
    preferred_helper_id uuid,
    notes               text,
    status              text NOT NULL DEFAULT 'open',
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_by_neighbour ON requests (neighbour_id, seq);
CREATE INDEX requests_by_status ON requests (status, starts_at);

CREATE TABLE offers (
    seq           bigserial UNIQUE,
    offer_id      uuid PRIMARY KEY,
    request_id    uuid NOT NULL REFERENCES requests,
    helper_id     uuid NOT NULL,
    neighbour_id  uuid NOT NULL,
    neighbourhood text NOT NULL,
    skill         text NOT NULL,
    starts_at     timestamptz NOT NULL,
    hours         integer NOT NULL,
    round         integer NOT NULL,
    expires_at    timestamptz NOT NULL,
    reasons       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'open',
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offers_by_helper ON offers (helper_id, seq);
CREATE INDEX offers_by_request ON offers (request_id);

CREATE TABLE bookings (
    seq           bigserial UNIQUE,
    booking_id    uuid PRIMARY KEY,
    request_id    uuid NOT NULL REFERENCES requests,
    offer_id      uuid NOT NULL REFERENCES offers,
    helper_id     uuid NOT NULL,
    neighbour_id  uuid NOT NULL,
    neighbourhood text NOT NULL,
    skill         text NOT NULL,
    starts_at     timestamptz NOT NULL,
    hours         integer NOT NULL,
    status        text NOT NULL DEFAULT 'confirmed',
    flagged       boolean NOT NULL DEFAULT false,
    checked_in_at timestamptz,
    completed_at  timestamptz,
    cancelled_at  timestamptz,
    cancelled_by  text,
    cancel_reason text,
    late_cancel   boolean,
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- The first accept of a request wins: a second active booking of it cannot exist.
CREATE UNIQUE INDEX bookings_one_active_per_request ON bookings (request_id)
    WHERE status <> 'cancelled';
CREATE INDEX bookings_by_helper ON bookings (helper_id, starts_at);
CREATE INDEX bookings_by_neighbour ON bookings (neighbour_id, starts_at);

-- One row per booked helper-hour: the primary key makes two overlapping bookings of one
-- helper impossible, whatever the code above it does (pgserver has no btree_gist).
CREATE TABLE helper_hours (
    helper_id  uuid NOT NULL,
    hour       timestamptz NOT NULL,
    booking_id uuid NOT NULL REFERENCES bookings ON DELETE CASCADE,
    CONSTRAINT helper_hours_no_overlap PRIMARY KEY (helper_id, hour)
);
CREATE INDEX helper_hours_by_booking ON helper_hours (booking_id);

-- Private answers after a visit: never returned to the other person.
CREATE TABLE checkins (
    checkin_id uuid PRIMARY KEY,
    booking_id uuid NOT NULL REFERENCES bookings,
    author_id  uuid NOT NULL,
    about_id   uuid NOT NULL,
    see_again  text NOT NULL,
    as_agreed  text NOT NULL,
    note       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT checkins_once_each UNIQUE (booking_id, author_id)
);

-- Trust's record of each pair, as last received.
CREATE TABLE relationships (
    pair_id         text PRIMARY KEY,
    helper_id       uuid NOT NULL,
    neighbour_id    uuid NOT NULL,
    neighbourhood   text NOT NULL,
    stage           text NOT NULL,
    visits          integer NOT NULL,
    hours_together  integer NOT NULL,
    both_want_again boolean NOT NULL,
    matchable       boolean NOT NULL,
    last_visit_at   timestamptz,
    as_of           timestamptz NOT NULL
);
CREATE INDEX relationships_by_helper ON relationships (helper_id);
CREATE INDEX relationships_by_neighbour ON relationships (neighbour_id);
