-- An operator's hand in matching. Matching alone knows who may take a request, so booking
-- asks it on the operator's behalf (``candidates.asked``) and keeps its answer
-- (``candidates.listed``) here: the helpers it would offer the request to, best first, with
-- its reasons, and those near it passed over with why. Who asked and why is on the audit
-- trail (operator_audit); ``asked_by`` names them for the console.
CREATE TABLE operator_candidate_queries (
    query_id     uuid PRIMARY KEY,
    request_id   uuid NOT NULL REFERENCES requests (request_id),
    asked_by     text NOT NULL,
    asked_at     timestamptz NOT NULL,
    answered_at  timestamptz,
    -- [{helper_id, reasons: [{code, text}], offered_before}], best first; NULL until answered.
    candidates   jsonb,
    -- [{helper_id, why}]
    passed_over  jsonb
);
CREATE INDEX operator_candidate_queries_by_request
    ON operator_candidate_queries (request_id, asked_at DESC);

-- Offers an operator directed to a helper they chose (``offer.directed``), and matching's
-- refusal when it may not offer the request to them (``offer.direction_refused``). An offer
-- it makes arrives as any other offer, in ``offers``.
CREATE TABLE operator_directions (
    direction_id    uuid PRIMARY KEY,
    request_id      uuid NOT NULL REFERENCES requests (request_id),
    helper_id       uuid NOT NULL,
    directed_by     text NOT NULL,
    directed_at     timestamptz NOT NULL,
    refused_reason  text,
    refused_at      timestamptz
);
CREATE INDEX operator_directions_by_request ON operator_directions (request_id, directed_at DESC);
