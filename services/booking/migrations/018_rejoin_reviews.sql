-- Deleting an account is no way round a suspension. When someone suspended (or removed) is
-- erased, booking keeps a keyed hash (HMAC-SHA256 under a server secret) of their normalised
-- email and phone: nothing readable, only enough to recognise them signing up again. The
-- person id names the erasure record (a row that holds nothing personal any more).
CREATE TABLE erased_contacts (
    kind        text NOT NULL CHECK (kind IN ('email', 'phone')),
    digest      bytea NOT NULL,
    person_id   uuid NOT NULL REFERENCES erasures (person_id),
    standing    text NOT NULL CHECK (standing IN ('suspended', 'held for review')),
    erased_at   timestamptz NOT NULL,
    PRIMARY KEY (kind, digest, person_id)
);
CREATE INDEX erased_contacts_by_digest ON erased_contacts (digest);

-- An account that matched one of them starts held until an operator reviews it: while
-- cleared_at is NULL booking treats it as suspended (no help asked for, no work taken).
CREATE TABLE reviews (
    person_id   uuid PRIMARY KEY REFERENCES people (person_id),
    review      text NOT NULL,
    opened_at   timestamptz NOT NULL,
    cleared_at  timestamptz,
    cleared_by  text,
    reason      text,
    CHECK (cleared_at IS NULL OR reason IS NOT NULL)
);
CREATE INDEX reviews_open ON reviews (opened_at) WHERE cleared_at IS NULL;
