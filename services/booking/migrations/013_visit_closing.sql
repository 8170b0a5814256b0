-- Visits close by themselves: booking's visit sweep completes a visit checked in but not out
-- some hours after its end, and reports a helper who has not checked in some minutes after
-- the start. It reads only visits still open, by start, so a partial index keeps each sweep
-- to the few open visits however many have closed.
ALTER TABLE bookings ADD COLUMN closed_by_sweep boolean NOT NULL DEFAULT false;
CREATE INDEX bookings_open_by_start ON bookings (starts_at)
    WHERE status IN ('confirmed', 'checked_in');
