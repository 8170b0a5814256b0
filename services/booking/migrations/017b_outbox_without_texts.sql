-- Events kept in the outbox from before texts stopped travelling still hold them, and the
-- outbox is replayed to a broker that lost its topics: take the texts out of every kept copy.
-- Each older version still reads without its text (its upcaster drops it anyway); a check-in
-- kept without its note reads as one without a note.
UPDATE outbox
SET envelope = convert_to(
    (convert_from(envelope, 'UTF8')::jsonb #- '{data,summary}' #- '{data,reason}' #- '{data,note}')::text,
    'UTF8'
)
WHERE type IN (
        'checkin.submitted', 'welfare.check_requested', 'concern.raised', 'concern.resolved',
        'booking.cancelled', 'vetting.step_recorded'
    )
    AND convert_from(envelope, 'UTF8')::jsonb -> 'data' ?| ARRAY['summary', 'reason', 'note'];
