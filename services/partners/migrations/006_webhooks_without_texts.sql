-- A safeguarding partner's webhooks used to carry a concern's summary; it no longer travels.
-- Take it out of every queued or logged delivery, so none is sent (or kept) with it.
UPDATE webhook_queue
SET body = convert_to((convert_from(body, 'UTF8')::jsonb #- '{data,summary}')::text, 'UTF8')
WHERE type = 'concern.raised' AND convert_from(body, 'UTF8')::jsonb -> 'data' ? 'summary';
