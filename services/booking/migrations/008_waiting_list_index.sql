-- The operators' waiting list pages through one status in `seq` order: an index in that order
-- gives a page without sorting every request in the status.
DROP INDEX requests_by_status;
CREATE INDEX requests_by_status ON requests (status, seq);
