-- Concerns are limited per person and counted for operators: both look concerns up by who
-- raised them.
CREATE INDEX concerns_by_raiser ON concerns (raised_by_id, raised_at);
CREATE INDEX concerns_by_subject ON concerns (about_id);
