-- Trust's counts of late cancellations and no-shows, shown to operators only.
ALTER TABLE standing ADD COLUMN late_cancellations integer NOT NULL DEFAULT 0;
ALTER TABLE standing ADD COLUMN no_shows integer NOT NULL DEFAULT 0;
