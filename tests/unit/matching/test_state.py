"""Matching's typed tables: the index of open requests follows every change."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from services.matching.state import MatchingState
from tests.unit.matching.factories import NEIGHBOURHOOD

NOW = datetime(2026, 3, 3, 9, tzinfo=UTC)


def _due(at: datetime) -> bytes:
    return json.dumps({"due_at": at.isoformat()}).encode()


def test_due_requests_follow_each_change_of_the_index() -> None:
    state = MatchingState.in_memory()
    request_id = uuid.uuid4()
    key = f"{NEIGHBOURHOOD}|{request_id}"

    state.open_requests[key] = _due(NOW)
    assert state.due_by(NOW) == [(NEIGHBOURHOOD, request_id)]
    assert state.due_by(NOW) == [(NEIGHBOURHOOD, request_id)], "the same when read again"

    state.open_requests[key] = _due(NOW + timedelta(minutes=15))  # its next round
    assert state.due_by(NOW) == []
    assert state.due_by(NOW + timedelta(minutes=15)) == [(NEIGHBOURHOOD, request_id)]

    del state.open_requests[key]  # booked
    assert state.due_by(NOW + timedelta(hours=1)) == []
