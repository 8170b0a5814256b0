-- A community may be a partner's: a visit that came through that partner's referral is
-- posted under the partner's community, whatever neighbourhood cell it is in.

-- The partner who referred a visit's neighbour, as booking.confirmed (version 2) says.
ALTER TABLE visits ADD COLUMN partner_id uuid;

-- Which community a partner's referred visits belong to (one each; none: by their cell).
CREATE TABLE community_partners (
    partner_id   uuid PRIMARY KEY,
    community_id text NOT NULL REFERENCES communities (community_id)
);
