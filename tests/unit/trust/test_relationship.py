"""The stage rules of a pair's relationship, without a database or a broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.trust.domain import relationship as rel
from services.trust.domain.relationship import Relationship, Rules, Stage
from shared.contracts import pair_key
from shared.contracts.bookings import Side
from shared.contracts.trust import SeeAgain

RULES = Rules(regular_after_visits=3, pause_after_days=42)
START = datetime(2025, 3, 3, 10, tzinfo=UTC)
HOOD = "87195da49ffffff"


def new_pair() -> Relationship:
    return rel.introduce(uuid.uuid4(), uuid.uuid4(), HOOD)


def visit(r: Relationship, n: int = 1, *, at: datetime = START) -> Relationship:
    for i in range(n):
        r = rel.complete_visit(r, at=at + timedelta(weeks=i), hours=2, rules=RULES)
    return r


def answer(r: Relationship, helper: SeeAgain, neighbour: SeeAgain) -> Relationship:
    r = rel.answer_see_again(r, author_id=r.helper_id, answer=helper, rules=RULES)
    return rel.answer_see_again(r, author_id=r.neighbour_id, answer=neighbour, rules=RULES)


def test_a_new_pair_is_introduced_and_matchable() -> None:
    r = new_pair()
    assert r.stage is Stage.INTRODUCED
    assert r.visits == 0
    assert r.matchable
    assert not r.both_want_again
    assert r.pair_id == pair_key(r.neighbour_id, r.helper_id)


def test_a_person_cannot_be_paired_with_themselves() -> None:
    person = uuid.uuid4()
    with pytest.raises(ValueError, match="themselves"):
        rel.introduce(person, person, HOOD)


def test_first_completed_visit_moves_to_first_visit_and_counts_hours() -> None:
    r = visit(new_pair())
    assert r.stage is Stage.FIRST_VISIT
    assert (r.visits, r.hours_together) == (1, 2)
    assert r.first_visit_at == r.last_visit_at == START


def test_first_and_last_visit_follow_the_visits_whatever_their_order() -> None:
    r = visit(new_pair(), at=START)
    r = rel.complete_visit(r, at=START - timedelta(days=7), hours=1, rules=RULES)
    assert r.first_visit_at == START - timedelta(days=7)
    assert r.last_visit_at == START


def test_regular_after_enough_visits_when_both_say_yes() -> None:
    r = answer(visit(new_pair(), 2), SeeAgain.YES, SeeAgain.YES)
    assert r.stage is Stage.FIRST_VISIT
    r = visit(r, at=START + timedelta(weeks=3))
    assert r.stage is Stage.REGULAR
    assert r.both_want_again


def test_answers_after_the_third_visit_also_make_a_pair_regular() -> None:
    r = visit(new_pair(), 3)
    assert r.stage is Stage.FIRST_VISIT
    r = rel.answer_see_again(r, author_id=r.helper_id, answer=SeeAgain.YES, rules=RULES)
    assert r.stage is Stage.FIRST_VISIT
    r = rel.answer_see_again(r, author_id=r.neighbour_id, answer=SeeAgain.YES, rules=RULES)
    assert r.stage is Stage.REGULAR


def test_not_regular_while_one_side_is_not_sure() -> None:
    r = answer(visit(new_pair(), 5), SeeAgain.YES, SeeAgain.NOT_SURE)
    assert r.stage is Stage.FIRST_VISIT
    assert not r.both_want_again
    assert r.matchable


def test_regular_goes_back_when_an_answer_drops_to_not_sure() -> None:
    r = answer(visit(new_pair(), 3), SeeAgain.YES, SeeAgain.YES)
    assert r.stage is Stage.REGULAR
    r = rel.answer_see_again(r, author_id=r.helper_id, answer=SeeAgain.NOT_SURE, rules=RULES)
    assert r.stage is Stage.FIRST_VISIT


def test_latest_answer_counts() -> None:
    r = answer(visit(new_pair()), SeeAgain.NOT_SURE, SeeAgain.YES)
    assert not r.both_want_again
    r = rel.answer_see_again(r, author_id=r.helper_id, answer=SeeAgain.YES, rules=RULES)
    assert r.both_want_again


@pytest.mark.parametrize("side", ["helper", "neighbour"])
def test_no_from_either_side_ends_the_pair_and_nothing_revives_it(side: str) -> None:
    r = answer(visit(new_pair(), 3), SeeAgain.YES, SeeAgain.YES)
    author = r.helper_id if side == "helper" else r.neighbour_id
    r = rel.answer_see_again(r, author_id=author, answer=SeeAgain.NO, rules=RULES)
    assert r.stage is Stage.ENDED
    assert not r.matchable
    assert not r.both_want_again

    r = answer(r, SeeAgain.YES, SeeAgain.YES)
    r = visit(r, 4, at=START + timedelta(weeks=10))
    r = rel.pause_if_stale(r, now=START + timedelta(days=1000), rules=RULES)
    assert r.stage is Stage.ENDED
    assert not r.matchable
    assert not r.both_want_again
    assert r.visits == 7  # the visits happened and are counted, but the pair stays ended


def test_no_before_any_visit_ends_an_introduced_pair() -> None:
    r = new_pair()
    r = rel.answer_see_again(r, author_id=r.neighbour_id, answer=SeeAgain.NO, rules=RULES)
    assert r.stage is Stage.ENDED


def test_an_answer_from_a_stranger_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of the pair"):
        rel.answer_see_again(new_pair(), author_id=uuid.uuid4(), answer=SeeAgain.YES, rules=RULES)


def test_pause_after_inactivity_and_resume_on_a_new_visit() -> None:
    r = answer(visit(new_pair(), 3), SeeAgain.YES, SeeAgain.YES)
    assert r.stage is Stage.REGULAR
    last = r.last_visit_at
    assert last is not None
    almost = last + timedelta(days=42) - timedelta(seconds=1)
    assert rel.pause_if_stale(r, now=almost, rules=RULES) is r
    assert rel.stale_before(almost, RULES) < last

    paused = rel.pause_if_stale(r, now=last + timedelta(days=42), rules=RULES)
    assert paused.stage is Stage.PAUSED
    assert paused.matchable
    # An answer alone does not resume a paused pair.
    still = rel.answer_see_again(paused, author_id=r.helper_id, answer=SeeAgain.YES, rules=RULES)
    assert still.stage is Stage.PAUSED

    resumed = visit(paused, at=last + timedelta(days=60))
    assert resumed.stage is Stage.REGULAR
    assert resumed.visits == 4


def test_a_paused_first_visit_pair_resumes_as_first_visit() -> None:
    r = visit(new_pair())
    paused = rel.pause_if_stale(r, now=START + timedelta(days=50), rules=RULES)
    assert paused.stage is Stage.PAUSED
    assert visit(paused, at=START + timedelta(days=51)).stage is Stage.FIRST_VISIT


def test_a_pair_that_has_not_met_is_never_paused() -> None:
    r = new_pair()
    assert rel.pause_if_stale(r, now=START + timedelta(days=400), rules=RULES) is r


def test_cancellations_are_counted_against_whoever_cancelled() -> None:
    r = new_pair()
    r = rel.cancel(r, by=rel.canceller(r.helper_id, r.neighbour_id, Side.HELPER))
    r = rel.cancel(r, by=rel.canceller(r.helper_id, r.neighbour_id, Side.NEIGHBOUR))
    r = rel.cancel(r, by=r.neighbour_id)
    assert (r.cancellations_by_helper, r.cancellations_by_neighbour) == (1, 2)
    assert r.stage is Stage.INTRODUCED


def test_roles_swapped_in_a_later_booking_still_find_the_same_people() -> None:
    r = visit(new_pair())
    # The record's neighbour helped this time: answers are kept by person, not by role.
    r = rel.answer_see_again(r, author_id=r.neighbour_id, answer=SeeAgain.YES, rules=RULES)
    assert r.neighbour_see_again is SeeAgain.YES
    assert r.helper_see_again is None


def test_a_no_show_counts_against_the_absent_person() -> None:
    pair = new_pair()
    after = rel.no_show(pair, absent=pair.neighbour_id)
    assert (after.no_shows_by_neighbour, after.no_shows_by_helper) == (1, 0)
    assert rel.no_show(after, absent=pair.helper_id).no_shows_by_helper == 1
    with pytest.raises(ValueError, match="is not one of the pair"):
        rel.no_show(pair, absent=uuid.uuid4())


def test_ending_a_pair_makes_it_unmatchable_for_good() -> None:
    pair = new_pair()
    ended = rel.end(pair)
    assert ended.stage is Stage.ENDED
    assert not ended.matchable
    assert rel.end(ended) is ended
    later = rel.complete_visit(ended, at=START, hours=1, rules=RULES)
    assert later.stage is Stage.ENDED
    assert later.visits == 1
