-- Registered partners. The API key is kept only as its SHA-256; the webhook secret must be
-- kept as it is, because the gateway signs with it.
CREATE TABLE partners (
    partner_id        uuid PRIMARY KEY,
    name              text NOT NULL,
    key_hash          text NOT NULL UNIQUE,
    key_hint          text NOT NULL,
    webhook_secret    text NOT NULL,
    webhook_url       text,
    scopes            jsonb NOT NULL,
    helper_id         uuid UNIQUE,
    service_skills    text[] NOT NULL DEFAULT '{}',
    service_areas     text[] NOT NULL DEFAULT '{}',
    safeguarding      text[] NOT NULL DEFAULT '{}',
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Each partner message the gateway published again, with the id of the event it became.
CREATE TABLE accepted (
    partner_id          uuid NOT NULL REFERENCES partners,
    partner_event_id    uuid NOT NULL,
    event_id            uuid NOT NULL UNIQUE,
    type                text NOT NULL,
    topic               text NOT NULL,
    accepted_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, partner_event_id)
);

-- What a partner sent that was refused, and why: the partner reads its own through the API.
CREATE TABLE rejections (
    id                  bigserial PRIMARY KEY,
    partner_id          uuid NOT NULL REFERENCES partners,
    partner_event_id    uuid,
    type                text,
    reason              text NOT NULL,
    source              text NOT NULL CHECK (source IN ('kafka', 'http')),
    topic               text,
    partition           integer,
    "offset"            bigint,
    received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejections_by_partner ON rejections (partner_id, id DESC);

-- Where people live, by neighbourhood only: routes a concern to the safeguarding contact.
CREATE TABLE people_places (
    person_id       uuid PRIMARY KEY,
    neighbourhood   text NOT NULL
);

-- Offers matching made to a partner's service: a partner may answer only these.
CREATE TABLE partner_offers (
    offer_id        uuid PRIMARY KEY,
    partner_id      uuid NOT NULL REFERENCES partners,
    request_id      uuid NOT NULL,
    made_at         timestamptz NOT NULL DEFAULT now()
);

-- Webhook deliveries waiting, done or abandoned. Deliveries with the same key go in order:
-- a pending one holds every later one of its key.
CREATE TABLE webhook_queue (
    id               bigserial PRIMARY KEY,
    partner_id       uuid NOT NULL REFERENCES partners,
    key              text NOT NULL,
    event_id         uuid NOT NULL,
    type             text NOT NULL,
    body             bytea NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'abandoned')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    leased_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (partner_id, event_id)
);
CREATE INDEX webhook_pending ON webhook_queue (partner_id, key, id) WHERE state = 'pending';
CREATE INDEX webhook_due ON webhook_queue (next_attempt_at) WHERE state = 'pending';

-- Every attempt, for the partner's delivery log.
CREATE TABLE webhook_attempts (
    id               bigserial PRIMARY KEY,
    delivery_id      bigint NOT NULL REFERENCES webhook_queue,
    partner_id       uuid NOT NULL,
    event_id         uuid NOT NULL,
    attempt          integer NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'abandoned')),
    status_code      integer,
    error            text,
    next_attempt_at  timestamptz,
    attempted_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_by_partner ON webhook_attempts (partner_id, id DESC);
