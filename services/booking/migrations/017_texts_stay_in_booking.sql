-- Texts people write stay in booking, their system of record: the events that tell other
-- services about a no-show or a vetting step say only that they happened (and whether there
-- is a note), never the words. Operators read the words through booking's operator API.
ALTER TABLE bookings ADD COLUMN no_show_note text;

-- Why an operator failed or revoked a vetting step (trust counts the step; the reason is
-- for operators only).
CREATE TABLE vetting_reasons (
    event_id    uuid PRIMARY KEY,
    person_id   uuid NOT NULL,
    step        text NOT NULL,
    outcome     text NOT NULL,
    reason      text NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vetting_reasons_by_person ON vetting_reasons (person_id);
