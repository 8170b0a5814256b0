-- Every accept changes its offer's status and its request's; every decline, expiry and
-- withdrawal an offer's. What each change costs is the new row version and an entry in each
-- index of the table, unless no indexed column changed and the row's page has room: then it
-- is a heap-only update, with no index entries at all.
--
-- An offer's status is in no index: leave 30 % of each new page of offers free, so that
-- its changes find room beside it. (Pages filled before this stay full until the table is
-- rewritten; they fill no further.)
ALTER TABLE offers SET (fillfactor = 70);

-- A request's status is indexed (the operators' waiting list pages through one status), so
-- each change of it adds an entry to every index of requests. The neighbour-and-status
-- index served only a suspension's look at the suspended neighbour's upcoming requests,
-- which requests_by_neighbour (neighbour_id, seq) finds as well, filtering their statuses.
DROP INDEX requests_by_neighbour_status;
