-- Operators sign in as themselves. They live in booking because booking owns the operator
-- API and the personal details operators read: the account that acts and the record of what
-- it did sit in the same database as the change, and commit in the same transaction.
CREATE TABLE operators (
    operator_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL,
    name            text NOT NULL,
    roles           text[] NOT NULL CHECK (
        cardinality(roles) > 0
        AND roles <@ ARRAY['coordinator', 'safeguarding_lead', 'administrator']::text[]
    ),
    password_hash   text NOT NULL,
    -- The TOTP secret must be readable to check a code (RFC 6238): it never leaves booking
    -- after the account is made, and a stolen table still lacks the password.
    totp_secret     text NOT NULL,
    -- The last time step a code was used for: a code cannot be replayed.
    totp_last_step  bigint,
    created_at      timestamptz NOT NULL,
    created_by      text NOT NULL,
    disabled_at     timestamptz
);
CREATE UNIQUE INDEX operators_email ON operators (lower(email));

-- Only a digest of each bearer token is kept (as for people's sessions).
CREATE TABLE operator_sessions (
    token_digest    bytea PRIMARY KEY,
    operator_id     uuid NOT NULL REFERENCES operators (operator_id),
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);
