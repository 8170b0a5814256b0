-- Each person's notification preferences (shared/notifications.py): channels per kind,
-- quiet hours, language. Read by notify through booking's internal contact API only.
CREATE TABLE notification_preferences (
    person_id   uuid PRIMARY KEY REFERENCES people (person_id) ON DELETE CASCADE,
    preferences jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
