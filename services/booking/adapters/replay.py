"""What booking sends again when the broker has lost its events (see shared.postgres.replay)."""

from __future__ import annotations

#: Outbox rows not sent again after a broker loss: the asks for help that are no longer open.
#: A request booked, cancelled or escalated needs no matching; sent again, matching (which
#: rebuilds its state from these very streams, in whatever order they arrive) would decide
#: it afresh and might offer it to someone who was never offered it.
SETTLED_REQUESTS = (
    "type = 'help.requested' AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.request_id ="
    " (convert_from(envelope, 'UTF8')::jsonb #>> '{data,request_id}')::uuid"
    " AND r.status = 'open')"
)
