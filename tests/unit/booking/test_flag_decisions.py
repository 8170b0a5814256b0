"""When an operator's decision on a visit a suspension held stands, and why it is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.booking.domain.flag_decisions import FlagDecision, FlaggedVisit, refusal
from services.booking.domain.visits import RequestStatus

NOW = datetime(2026, 3, 3, 10, tzinfo=UTC)
#: A suspended helper's visit tomorrow, asked for again at once, both now reinstated.
VISIT = FlaggedVisit(
    starts_at=NOW + timedelta(days=1),
    request_status=RequestStatus.OPEN,
    helper_suspended=False,
    neighbour_suspended=False,
)


@pytest.mark.parametrize("decision", list(FlagDecision))
def test_every_decision_stands_on_a_visit_to_come_whose_request_still_waits(
    decision: FlagDecision,
) -> None:
    for status in (RequestStatus.OPEN, RequestStatus.UNMATCHED, RequestStatus.HELD):
        assert refusal(decision, replace(VISIT, request_status=status), NOW) is None


def test_a_visit_may_always_be_called_off() -> None:
    gone = FlaggedVisit(NOW - timedelta(hours=1), RequestStatus.BOOKED, True, True)
    assert refusal(FlagDecision.CANCEL, gone, NOW) is None


def test_a_suspended_neighbours_request_is_not_asked_for_again() -> None:
    why = refusal(FlagDecision.REOFFER, replace(VISIT, neighbour_suspended=True), NOW)
    assert why is not None
    assert "neighbour is suspended" in why
    # Their helper's suspension is no bar: matching offers the request to someone else.
    assert refusal(FlagDecision.REOFFER, replace(VISIT, helper_suspended=True), NOW) is None


@pytest.mark.parametrize(
    ("helper", "neighbour", "said"),
    [
        (True, False, "the helper is still suspended"),
        (False, True, "the neighbour is still suspended"),
        (True, True, "the helper and the neighbour are still suspended"),
    ],
)
def test_a_visit_is_kept_only_when_both_are_in_good_standing(
    helper: bool, neighbour: bool, said: str
) -> None:
    visit = replace(VISIT, helper_suspended=helper, neighbour_suspended=neighbour)
    assert refusal(FlagDecision.KEEP, visit, NOW) == said


@pytest.mark.parametrize("decision", [FlagDecision.REOFFER, FlagDecision.KEEP])
def test_nothing_is_asked_for_or_kept_once_its_time_has_passed_or_its_request_was_taken(
    decision: FlagDecision,
) -> None:
    assert refusal(decision, replace(VISIT, starts_at=NOW), NOW) == "the visit's time has passed"
    taken = refusal(decision, replace(VISIT, request_status=RequestStatus.BOOKED), NOW)
    assert taken == "the request has been booked with another helper since"
    cancelled = refusal(decision, replace(VISIT, request_status=RequestStatus.CANCELLED), NOW)
    assert cancelled is not None
    assert "cancelled" in cancelled
