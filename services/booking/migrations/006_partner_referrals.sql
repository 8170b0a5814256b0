-- Local partners take part: people they refer, and the services they run as a helper.
--
-- A referred person has no account, address or phone: the partner stays their contact, so
-- the columns an account needs become optional for them (and for a partner's service),
-- and a check keeps them required for everyone who signed up.
ALTER TABLE people
    ALTER COLUMN email DROP NOT NULL,
    ALTER COLUMN password_salt DROP NOT NULL,
    ALTER COLUMN password_hash DROP NOT NULL,
    ALTER COLUMN lat DROP NOT NULL,
    ALTER COLUMN lng DROP NOT NULL,
    ALTER COLUMN address DROP NOT NULL,
    ALTER COLUMN neighbourhood DROP NOT NULL,
    ALTER COLUMN cell DROP NOT NULL,
    -- 'member' signed up; 'referred' was referred by a partner; 'partner_service' is the
    -- identity a partner's service answers offers under.
    ADD COLUMN kind text NOT NULL DEFAULT 'member'
        CHECK (kind IN ('member', 'referred', 'partner_service')),
    ADD COLUMN partner_id uuid,
    -- The partner's own reference for a referred person: how a helper reaches them.
    ADD COLUMN partner_reference text;
ALTER TABLE people ADD CONSTRAINT people_members_have_accounts CHECK (
    kind <> 'member' OR (
        email IS NOT NULL AND password_salt IS NOT NULL AND password_hash IS NOT NULL
        AND lat IS NOT NULL AND lng IS NOT NULL AND address IS NOT NULL
        AND neighbourhood IS NOT NULL AND cell IS NOT NULL
    )
);
ALTER TABLE people ADD CONSTRAINT people_partners_named CHECK (
    kind = 'member' OR partner_id IS NOT NULL
);
-- One record per person a partner refers, however often they are referred again, so their
-- relationships with helpers carry over from one referral to the next.
CREATE UNIQUE INDEX people_referred_once ON people (partner_id, partner_reference)
    WHERE kind = 'referred';

-- Each referral, with the consent the partner recorded. The primary key makes a repeated
-- referral create nothing more.
CREATE TABLE referrals (
    referral_id         uuid PRIMARY KEY,
    partner_id          uuid NOT NULL,
    person_id           uuid NOT NULL REFERENCES people,
    partner_reference   text NOT NULL,
    series_id           uuid,
    consent_given_at    timestamptz NOT NULL,
    consent_method      text NOT NULL,
    consent_recorded_by text NOT NULL,
    referred_at         timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referrals_by_person ON referrals (person_id, referred_at);

-- The services partners run as a helper, as last announced (sent whole on every change).
CREATE TABLE partner_services (
    helper_id      uuid PRIMARY KEY REFERENCES people,
    partner_id     uuid NOT NULL,
    name           text NOT NULL,
    skills         text[] NOT NULL,
    neighbourhoods text[] NOT NULL,
    active         boolean NOT NULL,
    as_of          timestamptz NOT NULL
);
CREATE INDEX partner_services_by_partner ON partner_services (partner_id, as_of);
