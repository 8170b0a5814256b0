-- The sweep that forgets expired sessions finds them by age.
CREATE INDEX sessions_by_age ON sessions (created_at);
