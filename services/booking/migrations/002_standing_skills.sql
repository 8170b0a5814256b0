-- Operators see which skills trust has approved for each helper, and until when.
ALTER TABLE standing ADD COLUMN approved_skills jsonb NOT NULL DEFAULT '{}'::jsonb;
