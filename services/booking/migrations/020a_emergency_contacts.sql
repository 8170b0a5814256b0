-- The person a neighbour names to be told when they do not answer the door for a visit (a
-- welfare check). Personal data: kept here only, given to notify with the contact details,
-- never put on a topic, deleted with the account.
CREATE TABLE emergency_contacts (
    person_id  uuid PRIMARY KEY REFERENCES people (person_id) ON DELETE CASCADE,
    name       text NOT NULL,
    email      text,
    phone      text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
