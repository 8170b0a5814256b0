-- Signing up with a mobile phone number instead of an email, and operators registering
-- someone who phoned in.
--
-- ``sign_in_phone`` is the number a person signs in with (E.164), unique like an email. It
-- is a column of its own rather than a unique ``phone``: the contact phone given with a home
-- is shared in real households (one landline for two people) and was never unique.
ALTER TABLE people ADD COLUMN sign_in_phone text;
CREATE UNIQUE INDEX people_sign_in_phone ON people (sign_in_phone);

-- A member signs in with an email or a phone. Someone an operator registered has no
-- password until they set one with the link they were sent (or never: an operator acts
-- for them), so the password is no longer required here.
ALTER TABLE people DROP CONSTRAINT people_members_have_accounts;
ALTER TABLE people ADD CONSTRAINT people_members_have_accounts CHECK (
    kind <> 'member' OR (
        (email IS NOT NULL OR sign_in_phone IS NOT NULL)
        AND lat IS NOT NULL AND lng IS NOT NULL AND address IS NOT NULL
        AND neighbourhood IS NOT NULL AND cell IS NOT NULL
    )
);

-- A reset link may go by text message (no email), and a welcome link invites someone an
-- operator registered to choose a password.
ALTER TABLE account_links ALTER COLUMN email DROP NOT NULL;
ALTER TABLE account_links DROP CONSTRAINT account_links_purpose_check;
ALTER TABLE account_links ADD CONSTRAINT account_links_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password', 'welcome'));

-- Each person an operator registered: by whom, and the consent the person gave to it (how,
-- when, recorded by which operator). What they need help with is kept here, for the
-- operator who follows up; what they offer is their profile's skills.
CREATE TABLE assisted_sign_ups (
    person_id           uuid PRIMARY KEY REFERENCES people (person_id) ON DELETE CASCADE,
    operator_id         uuid,
    operator            text NOT NULL,
    consent_method      text NOT NULL,
    consent_given_at    timestamptz NOT NULL,
    needs               text[] NOT NULL DEFAULT '{}',
    registered_at       timestamptz NOT NULL
);
