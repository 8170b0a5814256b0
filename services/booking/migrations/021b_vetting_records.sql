-- The vetting pipeline's own record in booking: every step an operator or partner records,
-- with the evidence note seen (an ID checked, references called). Trust receives the step
-- without the note and decides what it unlocks; operators read the notes here.
CREATE TABLE vetting_records (
    event_id     uuid PRIMARY KEY,
    person_id    uuid NOT NULL REFERENCES people (person_id),
    step         text NOT NULL,
    outcome      text NOT NULL,
    evidence     text,
    reason       text,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX vetting_records_by_person ON vetting_records (person_id, recorded_at);
