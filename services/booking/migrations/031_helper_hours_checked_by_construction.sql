-- A helper-hour row is only ever written for a booking that is stored: by the statement
-- that inserts the booking (an accept), or for a booking read and locked in the same
-- transaction (a held visit confirmed again, a visit moved to a new time). It is removed
-- when its booking is cancelled or moved, and bookings are never deleted. Its reference to
-- bookings could neither refuse a row nor cascade a delete, yet cost each accept a
-- referential check (a query of its own) for every hour booked. The primary key, which
-- keeps a helper from being booked twice in one hour, stays.
ALTER TABLE helper_hours DROP CONSTRAINT helper_hours_booking_id_fkey;
