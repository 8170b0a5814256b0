-- What an operator did about a neighbour who did not answer the door: the welfare check is
-- closed with its outcome and a note. One outcome per visit; the audit trail keeps who.
CREATE TABLE welfare_outcomes (
    booking_id   uuid PRIMARY KEY REFERENCES bookings (booking_id),
    outcome      text NOT NULL CHECK (
        outcome IN ('reached', 'visited', 'emergency_contact_called', 'escalated')
    ),
    note         text NOT NULL,
    closed_by    text NOT NULL,
    closed_at    timestamptz NOT NULL
);
