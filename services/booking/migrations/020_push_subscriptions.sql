-- Web-push subscriptions: the browsers a person asked to be told on. Personal data (an
-- endpoint names a device): kept here only, given to notify through the internal contact
-- API, never put on a topic, and deleted with the account.
CREATE TABLE push_subscriptions (
    subscription_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id       uuid NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
    endpoint        text NOT NULL,
    p256dh          text NOT NULL,
    auth            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (person_id, endpoint)
);
