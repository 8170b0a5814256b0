"""The ledger's posting rules, per mode, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.ledger.domain.communities import Community, PotRule
from services.ledger.domain.postings import (
    HOUR,
    Entry,
    Kind,
    Mode,
    Posting,
    Unbalanced,
    person_account,
    pot_account,
    reversal,
    totals,
)
from services.ledger.domain.rules import (
    Coverage,
    Visit,
    gift_posting,
    late_cancellation_posting,
    mileage_amount,
    mode_for,
    visit_posting,
)

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
HELPER, NEIGHBOUR = uuid.uuid4(), uuid.uuid4()


def visit(hours: int = 2, skill: str = "shopping") -> Visit:
    return Visit(uuid.uuid4(), uuid.uuid4(), HELPER, NEIGHBOUR, "cell", skill, NOW, hours)


def post(v: Visit, community: Community, coverage: Coverage | None = None) -> Posting | None:
    return visit_posting(
        v, community, coverage or Coverage(), event_id=uuid.uuid4(), occurred_at=NOW
    )


def amounts(posting: Posting | None) -> dict[str, int]:
    assert posting is not None
    return {entry.account: entry.amount for entry in posting.entries}


def test_time_credits_an_hour_given_earns_an_hour() -> None:
    posting = post(visit(hours=2), Community("c", frozenset({Mode.TIME_CREDITS})))
    assert posting is not None
    assert posting.mode is Mode.TIME_CREDITS
    assert amounts(posting) == {
        person_account(NEIGHBOUR, "time"): -120,
        person_account(HELPER, "time"): 120,
    }
    assert all(entry.unit == HOUR for entry in posting.entries)


def test_paid_the_neighbour_pays_the_rate_for_the_skill_and_the_helper_earns_it() -> None:
    community = Community("c", frozenset({Mode.PAID}), rates={"shopping": 1500})
    posting = post(visit(hours=3), community)
    assert posting is not None
    assert posting.mode is Mode.PAID
    assert amounts(posting) == {
        person_account(NEIGHBOUR, "money"): -4500,
        person_account(HELPER, "money"): 4500,
    }
    assert {entry.unit for entry in posting.entries} == {"GBP"}


def test_paid_a_family_member_or_a_partner_budget_pays_instead() -> None:
    family = uuid.uuid4()
    community = Community("c", frozenset({Mode.PAID}), rates={"shopping": 1000})
    by_family = post(visit(hours=1), community, Coverage(payer=f"person:{family}"))
    assert amounts(by_family)[person_account(family, "money")] == -1000
    partner = Community(
        "c", frozenset({Mode.PAID}), rates={"shopping": 1000}, payer="partner:budget"
    )
    assert amounts(post(visit(hours=1), partner))["partner:budget:money"] == -1000


def test_paid_a_skill_without_a_rate_falls_to_time_credits_or_to_nothing() -> None:
    both = Community("c", frozenset({Mode.PAID, Mode.TIME_CREDITS}), rates={"lift": 900})
    assert mode_for(visit(skill="company"), both, Coverage()) is Mode.TIME_CREDITS
    assert mode_for(visit(skill="lift"), both, Coverage()) is Mode.PAID
    paid_only = Community("c", frozenset({Mode.PAID}), rates={"lift": 900})
    assert post(visit(skill="company"), paid_only) is None
    assert post(visit(), Community("c", frozenset())) is None


def test_gifted_an_approved_request_draws_its_hours_from_the_pot() -> None:
    community = Community("c", frozenset({Mode.GIFTED, Mode.TIME_CREDITS}))
    covered = post(visit(hours=2), community, Coverage(pot_minutes=600, approved=True))
    assert covered is not None
    assert covered.mode is Mode.GIFTED
    assert amounts(covered) == {pot_account("c"): -120, person_account(HELPER, "time"): 120}
    not_approved = post(visit(hours=2), community, Coverage(pot_minutes=600))
    assert not_approved is not None
    assert not_approved.mode is Mode.TIME_CREDITS


def test_gifted_an_empty_pot_covers_nothing_even_when_approved() -> None:
    community = Community("c", frozenset({Mode.GIFTED}))
    assert post(visit(hours=2), community, Coverage(pot_minutes=60, approved=True)) is None


def test_gifted_a_monthly_allowance_covers_up_to_its_hours_without_approval() -> None:
    community = Community(
        "c", frozenset({Mode.GIFTED}), pot_rule=PotRule.ALLOWANCE, monthly_allowance_hours=4
    )
    within = post(
        visit(hours=2), community, Coverage(pot_minutes=600, drawn_this_month_minutes=120)
    )
    assert within is not None
    assert within.mode is Mode.GIFTED
    beyond = post(
        visit(hours=2), community, Coverage(pot_minutes=600, drawn_this_month_minutes=180)
    )
    assert beyond is None


def test_late_cancellation_by_the_neighbour_posts_the_communitys_share() -> None:
    community = Community(
        "c", frozenset({Mode.PAID}), rates={"shopping": 2000}, late_cancel_percent=50
    )

    def cancelled(by_neighbour: bool, c: Community = community) -> Posting | None:
        return late_cancellation_posting(
            visit(hours=2),
            c,
            Coverage(),
            cancelled_by_neighbour=by_neighbour,
            event_id=uuid.uuid4(),
            occurred_at=NOW,
        )

    share = cancelled(True)
    assert share is not None
    assert share.kind is Kind.LATE_CANCELLATION
    assert amounts(share)[person_account(HELPER, "money")] == 2000
    assert cancelled(False) is None
    credits = Community("c", frozenset({Mode.TIME_CREDITS}), late_cancel_percent=100)
    assert amounts(cancelled(True, credits))[person_account(HELPER, "time")] == 120
    assert cancelled(True, Community("c", frozenset({Mode.TIME_CREDITS}))) is None


def test_a_gift_moves_hours_from_the_giver_into_the_pot() -> None:
    posting = gift_posting("partner:bakery", "c", 5, occurred_at=NOW)
    assert amounts(posting) == {"partner:bakery:time": -300, pot_account("c"): 300}
    with pytest.raises(ValueError, match="at least one hour"):
        gift_posting("partner:bakery", "c", 0, occurred_at=NOW)


def test_a_posting_that_does_not_balance_is_refused() -> None:
    with pytest.raises(Unbalanced):
        Posting(Kind.CORRECTION, (Entry("a", HOUR, 60), Entry("b", HOUR, -30)))
    with pytest.raises(Unbalanced):
        # Balanced in sum, but across two units: each unit must balance by itself.
        Posting(Kind.CORRECTION, (Entry("a", HOUR, 60), Entry("b", "GBP", -60)))
    with pytest.raises(Unbalanced):
        Posting(Kind.CORRECTION, ())


def test_a_correction_reverses_every_entry_and_names_the_original() -> None:
    original = post(visit(), Community("c", frozenset({Mode.TIME_CREDITS})))
    assert original is not None
    correction = reversal(original, memo="booked twice", occurred_at=NOW)
    assert correction.corrects == original.posting_id
    assert totals((*original.entries, *correction.entries)) == {HOUR: 0}
    both = [*original.entries, *correction.entries]
    for account in {entry.account for entry in both}:
        assert sum(entry.amount for entry in both if entry.account == account) == 0


def test_mileage_is_the_community_rate_per_mile_rounded_half_up() -> None:
    assert mileage_amount(35, 45) == 158  # 3.5 miles at 45p: 157.5p
    assert mileage_amount(10, 45) == 45
