-- The ledger: accounts, postings and their entries. Balances and statements are sums of
-- entries; nothing here is ever updated or deleted (a correction is a new posting).

CREATE TABLE accounts (
    account    text NOT NULL PRIMARY KEY,
    unit       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account, unit)
);

CREATE TABLE postings (
    posting_id   uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('visit', 'late_cancellation', 'gift', 'expense',
                                               'mileage', 'payment', 'payout', 'correction')),
    mode         text CHECK (mode IN ('paid', 'time_credits', 'gifted')),
    community_id text,
    event_id     uuid UNIQUE,
    booking_id   uuid,
    request_id   uuid,
    person_id    uuid,
    external_ref text UNIQUE,
    corrects     uuid REFERENCES postings (posting_id),
    occurred_at  timestamptz NOT NULL,
    memo         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- A visit posts once, and a late cancellation once, whatever event carried it.
CREATE UNIQUE INDEX postings_one_visit ON postings (booking_id) WHERE kind = 'visit';
CREATE UNIQUE INDEX postings_one_late_cancellation ON postings (booking_id)
    WHERE kind = 'late_cancellation';
CREATE UNIQUE INDEX postings_one_correction ON postings (corrects) WHERE corrects IS NOT NULL;
CREATE INDEX postings_occurred ON postings (occurred_at);
CREATE INDEX postings_pot_draws ON postings (community_id, person_id, occurred_at)
    WHERE mode = 'gifted';

CREATE TABLE entries (
    entry_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    posting_id uuid NOT NULL REFERENCES postings (posting_id),
    account    text NOT NULL,
    unit       text NOT NULL,
    amount     bigint NOT NULL CHECK (amount <> 0),
    FOREIGN KEY (account, unit) REFERENCES accounts (account, unit)
);
CREATE INDEX entries_posting ON entries (posting_id);
CREATE INDEX entries_account ON entries (account, entry_id);

-- The database, not only Python, refuses a posting that does not balance: at commit, the
-- entries of every posting touched must sum to zero in each unit, and a posting must have
-- entries. Deferred, so that a posting's entries may be written one by one.
CREATE FUNCTION ledger_posting_balances() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    off record;
BEGIN
    SELECT unit, sum(amount) AS total INTO off
      FROM entries WHERE posting_id = NEW.posting_id
     GROUP BY unit HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'posting % does not balance in %: %', NEW.posting_id, off.unit, off.total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'posting_balances';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM entries WHERE posting_id = NEW.posting_id) THEN
        RAISE EXCEPTION 'posting % has no entries', NEW.posting_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'posting_balances';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER entries_balance AFTER INSERT ON entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balances();
CREATE CONSTRAINT TRIGGER postings_have_entries AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balances();

-- Append-only: entries and postings are never changed or removed.
CREATE FUNCTION ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused (post a correction instead)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Operators' settings: each community's modes, cells, rates and rules.
CREATE TABLE communities (
    community_id            text PRIMARY KEY,
    modes                   text[] NOT NULL DEFAULT '{time_credits}',
    currency                text NOT NULL DEFAULT 'GBP' CHECK (currency ~ '^[A-Z]{3}$'),
    payer                   text,
    pot_rule                text NOT NULL DEFAULT 'approval'
        CHECK (pot_rule IN ('approval', 'allowance')),
    monthly_allowance_hours integer NOT NULL DEFAULT 0 CHECK (monthly_allowance_hours >= 0),
    late_cancel_percent     integer NOT NULL DEFAULT 0
        CHECK (late_cancel_percent BETWEEN 0 AND 100),
    mileage_rate            integer NOT NULL DEFAULT 0 CHECK (mileage_rate >= 0),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO communities (community_id) VALUES ('default');

CREATE TABLE community_cells (
    neighbourhood text PRIMARY KEY,
    community_id  text NOT NULL REFERENCES communities (community_id)
);

CREATE TABLE rates (
    community_id  text NOT NULL REFERENCES communities (community_id),
    skill         text NOT NULL,
    rate_per_hour integer NOT NULL CHECK (rate_per_hour > 0),
    PRIMARY KEY (community_id, skill)
);

-- Who pays for a neighbour's paid visits: a family member (person:<id>) or a partner.
CREATE TABLE payers (
    neighbour_id uuid PRIMARY KEY,
    payer        text NOT NULL
);

-- Visits as booking announced them: what a completed one is posted from, what expenses are
-- recorded against, and what reconciliation compares the postings with.
CREATE TABLE visits (
    booking_id    uuid PRIMARY KEY,
    request_id    uuid NOT NULL,
    helper_id     uuid NOT NULL,
    neighbour_id  uuid NOT NULL,
    neighbourhood text NOT NULL,
    skill         text NOT NULL,
    starts_at     timestamptz NOT NULL,
    hours         integer NOT NULL,
    status        text NOT NULL DEFAULT 'booked'
        CHECK (status IN ('booked', 'completed', 'cancelled')),
    unposted      text
);
CREATE INDEX visits_completed ON visits (starts_at) WHERE status = 'completed';

-- Requests asked to be covered from a pot (gifted mode, operators' approval).
CREATE TABLE pot_requests (
    request_id   uuid PRIMARY KEY,
    neighbour_id uuid NOT NULL,
    community_id text NOT NULL REFERENCES communities (community_id),
    status       text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'refused')),
    decided_by   text,
    decided_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pot_requests_pending ON pot_requests (created_at) WHERE status = 'pending';

-- Expenses and lifts' mileage. The receipt photo is personal data: it stays here, read only
-- by the visit's two people, and never travels on a topic.
CREATE TABLE expenses (
    expense_id   uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('expense', 'mileage')),
    booking_id   uuid NOT NULL REFERENCES visits (booking_id),
    helper_id    uuid NOT NULL,
    neighbour_id uuid NOT NULL,
    community_id text NOT NULL,
    currency     text NOT NULL,
    amount       integer NOT NULL CHECK (amount > 0),
    what_for     text NOT NULL,
    miles_tenths integer,
    receipt      bytea,
    receipt_type text,
    status       text NOT NULL DEFAULT 'recorded'
        CHECK (status IN ('recorded', 'confirmed', 'disputed')),
    recorded_at  timestamptz NOT NULL,
    decided_at   timestamptz
);
CREATE INDEX expenses_helper ON expenses (helper_id);
CREATE INDEX expenses_neighbour ON expenses (neighbour_id);

-- The payment provider's ids for people (a customer, a payout account): never a card number.
CREATE TABLE provider_accounts (
    owner           text PRIMARY KEY,
    customer_id     text,
    payout_account  text
);

-- Payments asked of the provider and payouts made, by the provider's ids.
CREATE TABLE provider_objects (
    provider_id text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('payment', 'payout')),
    owner       text NOT NULL,
    amount      integer NOT NULL CHECK (amount > 0),
    currency    text NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Provider webhooks already processed: a redelivery is answered and changes nothing.
CREATE TABLE webhook_events (
    event_id    text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
