-- Notices are recorded on no channel in particular ('any') and routed, when they fall due,
-- into one notice per channel the person is reached on (email, sms): the 'any' one is then
-- 'routed'. Rows recorded before stay on the channel they name.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'dropped', 'routed'));
