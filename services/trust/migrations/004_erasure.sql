-- Deleting an account. Trust keeps, of an erased person, only what safeguarding needs and what
-- the other people's records rest on: each concern's existence (ids, role, dates, outcome)
-- without its texts, and their pairs, ended, without their answers. Everything else goes.
ALTER TABLE concerns ALTER COLUMN summary DROP NOT NULL;

-- Who was erased, and when: later events about them are then ignored, so nothing of theirs
-- is recorded or published again. An id and a time, nothing personal.
CREATE TABLE erased_people (
    person_id  uuid PRIMARY KEY,
    erased_at  timestamptz NOT NULL
);

-- Tombstones (a null value under the person's key on the compacted standing stream) go out
-- through the outbox, in order after the events before them.
ALTER TABLE outbox ALTER COLUMN envelope DROP NOT NULL;
