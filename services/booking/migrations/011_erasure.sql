-- Deleting an account. The person's row stays, as kind 'erased' with nothing personal left in
-- it, because the visits and requests other people took part in still name it; their email
-- is free to sign up again. Texts the person wrote, or others wrote about them, become NULL.
ALTER TABLE people ALTER COLUMN display_name DROP NOT NULL;
ALTER TABLE people DROP CONSTRAINT people_kind_check;
ALTER TABLE people ADD CONSTRAINT people_kind_check
    CHECK (kind IN ('member', 'referred', 'partner_service', 'erased'));
ALTER TABLE people DROP CONSTRAINT people_partners_named;
ALTER TABLE people ADD CONSTRAINT people_partners_named CHECK (
    kind IN ('member', 'erased') OR partner_id IS NOT NULL
);
ALTER TABLE concerns ALTER COLUMN summary DROP NOT NULL;
ALTER TABLE referrals ALTER COLUMN partner_reference DROP NOT NULL;

-- Every erasure, with when, who asked (the person themselves, or an operator: which one, and
-- why). Nothing personal: the id names a row that holds nothing any more.
CREATE TABLE erasures (
    person_id   uuid PRIMARY KEY,
    erased_at   timestamptz NOT NULL,
    erased_by   text NOT NULL CHECK (erased_by IN ('self', 'operator')),
    operator    text,
    reason      text,
    CHECK (erased_by = 'self' OR reason IS NOT NULL)
);
