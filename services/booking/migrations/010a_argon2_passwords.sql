-- Passwords move to argon2id: one text column holds the whole encoded hash, parameters
-- included. Hashes from before (scrypt, salt and hash in two columns) are kept in a
-- `$scrypt$` form of the same column; each is checked once at its owner's next sign-in and
-- replaced by an argon2id hash then.
ALTER TABLE people ADD COLUMN password_encoded text;
UPDATE people
    SET password_encoded = '$scrypt$ln=14,r=8,p=1$' || encode(password_salt, 'hex') || '$'
        || encode(password_hash, 'hex')
    WHERE password_hash IS NOT NULL;
ALTER TABLE people DROP CONSTRAINT people_members_have_accounts;
ALTER TABLE people DROP COLUMN password_salt, DROP COLUMN password_hash;
ALTER TABLE people RENAME COLUMN password_encoded TO password_hash;
ALTER TABLE people ADD CONSTRAINT people_members_have_accounts CHECK (
    kind <> 'member' OR (
        email IS NOT NULL AND password_hash IS NOT NULL
        AND lat IS NOT NULL AND lng IS NOT NULL AND address IS NOT NULL
        AND neighbourhood IS NOT NULL AND cell IS NOT NULL
    )
);
