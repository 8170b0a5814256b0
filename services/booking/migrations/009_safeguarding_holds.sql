-- A suspension holds the suspended person's upcoming visits: each such booking is cancelled
-- and marked held, so operators can tell it from an ordinary cancellation (and it stays on
-- their flagged list). A suspended neighbour's requests wait in status 'held' until they are
-- reinstated.
ALTER TABLE bookings ADD COLUMN held boolean NOT NULL DEFAULT false;
CREATE INDEX requests_by_neighbour_status ON requests (neighbour_id, status);
