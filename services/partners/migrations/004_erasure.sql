-- People whose accounts were deleted (an id and a time, nothing personal): the gateway keeps
-- no place for them again, and any later event naming them is projected, and kept for
-- webhooks, without names or texts.
CREATE TABLE erased_people (
    person_id  uuid PRIMARY KEY,
    erased_at  timestamptz NOT NULL
);
