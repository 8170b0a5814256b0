"""Matching's typed tables: the index of open requests follows every change."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.matching.domain import HelperProfile
from services.matching.roster import RosterEntry
from services.matching.state import HelperState, MatchingState
from shared.contracts.skills import Skill
from tests.unit.matching.factories import HOME, NEIGHBOURHOOD

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


def test_a_roster_keeps_each_helpers_skills_and_reach_and_reads_the_old_list() -> None:
    state = MatchingState.in_memory()
    old, new = uuid.uuid4(), uuid.uuid4()
    # A roster written before entries were kept: ids only, each read in full per request.
    state.roster[NEIGHBOURHOOD] = json.dumps([str(old)]).encode()
    assert state.roster_index(NEIGHBOURHOOD) == {old: None}
    profile = HelperProfile(new, "Helper", HOME, frozenset({Skill.LIFT}), 3.0, 10)
    state.put_helper(NEIGHBOURHOOD, new, HelperState(profile=profile))
    assert state.roster_index(NEIGHBOURHOOD) == {
        old: None,
        new: RosterEntry(frozenset({Skill.LIFT}), HOME, 3.0),
    }
    # A changed radius changes the entry; an unfiled helper leaves the roster.
    wider = HelperState(profile=replace(profile, travel_radius_km=5.0))
    state.put_helper(NEIGHBOURHOOD, new, wider)
    assert state.roster_index(NEIGHBOURHOOD)[new] == RosterEntry(frozenset({Skill.LIFT}), HOME, 5.0)
    state.put_helper(NEIGHBOURHOOD, new, HelperState(seq=9))
    assert state.roster_of(NEIGHBOURHOOD) == [old]
