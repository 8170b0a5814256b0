-- Email verification and password reset. A link's token is minted when notify asks for it,
-- just before sending: only its digest is kept here, never the token itself (nor on a topic,
-- nor in notify's delivery log).
ALTER TABLE people ADD COLUMN email_verified_at timestamptz;

CREATE TABLE account_links (
    link_id       uuid PRIMARY KEY,
    person_id     uuid NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
    purpose       text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    -- The address a verification was asked for: a link for an older address verifies nothing.
    email         text NOT NULL,
    token_digest  bytea UNIQUE,
    expires_at    timestamptz NOT NULL,
    handed_out_at timestamptz,
    used_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_links_person ON account_links (person_id, purpose);
