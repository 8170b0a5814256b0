-- A sender leases the notices it takes instead of holding them locked in one transaction
-- until the whole batch is sent: each outcome is then committed the moment it is known, so
-- a notify process killed mid-batch sends again only the message it had in flight, not the
-- batch. A lease outlives its holder only until it ends (on the database's real time).
ALTER TABLE deliveries ADD COLUMN lease_until timestamptz;
