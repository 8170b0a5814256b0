-- Requests whose helper called their visit off while booking asked for them again: the next
-- booking of one is news to the neighbour that someone else is coming.
CREATE TABLE reopened_requests (
    request_id uuid PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Who raised each concern (ids only, never what it says): told when it is closed.
CREATE TABLE concern_raisers (
    concern_id uuid PRIMARY KEY,
    raised_by  uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
