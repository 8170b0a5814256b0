"""Rounds: the cascade widens on declines and escalates when nobody is left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.matching.domain import Policy, Progress, Status, declined, next_round, rank
from shared.contracts.requests import OfferMade, RequestUnmatched
from tests.unit.matching.factories import helper, request

NOW = datetime(2031, 3, 1, tzinfo=UTC)
POLICY = Policy(regular_hold_s=60, offer_ttl_s=300, cascade_width=2, cascade_rounds=2)


def _start(asked: object) -> Progress:
    return Progress(request=asked, event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), partition=3)  # type: ignore[arg-type]


def test_nobody_eligible_is_escalated_in_the_first_step() -> None:
    asked = request()
    progress, events = next_round(_start(asked), [], POLICY, NOW)
    assert progress.status is Status.UNMATCHED
    [unmatched] = events
    assert isinstance(unmatched, RequestUnmatched)
    assert unmatched.rounds == 0


def test_declining_a_whole_round_opens_the_next_then_rounds_run_out() -> None:
    asked = request()
    crowd = [helper(metres=100 * i) for i in range(1, 6)]
    ranked = rank(crowd, asked, width=2)
    progress, first = next_round(_start(asked), ranked, POLICY, NOW)
    assert [e.round for e in first if isinstance(e, OfferMade)] == [1, 1]
    progress, over = declined(progress, first[0].offer_id)  # type: ignore[union-attr]
    assert not over
    progress, over = declined(progress, first[1].offer_id)  # type: ignore[union-attr]
    assert over
    progress, second = next_round(progress, ranked, POLICY, NOW)
    assert {e.helper_id for e in second if isinstance(e, OfferMade)}.isdisjoint(
        {e.helper_id for e in first if isinstance(e, OfferMade)}
    )
    progress, third = next_round(progress, ranked, POLICY, NOW)
    [unmatched] = third
    assert isinstance(unmatched, RequestUnmatched)
    assert len(unmatched.tried_helper_ids) == 4
    assert progress.status is Status.UNMATCHED
