"""Rules for referred people: their place must be coherent, and helpers reach them only
through the partner."""

from __future__ import annotations

from services.booking.domain.partners import contact_through, referral_problem
from shared.geo import cell_of, neighbourhood_of


def test_a_cell_must_lie_in_the_referral_neighbourhood() -> None:
    here, elsewhere = (51.5, -0.1), (53.48, -2.24)
    assert referral_problem(neighbourhood_of(*here), cell_of(*here)) is None
    problem = referral_problem(neighbourhood_of(*elsewhere), cell_of(*here))
    assert problem is not None
    assert "does not lie in neighbourhood" in problem


def test_a_cell_that_is_not_an_h3_cell_is_refused() -> None:
    problem = referral_problem(neighbourhood_of(51.5, -0.1), "fffffffffffffff")
    assert problem is not None
    assert "not a street-level H3 cell" in problem


def test_the_helper_is_told_to_contact_the_partner_by_reference() -> None:
    assert contact_through("Elm Surgery", "GP-42") == "Contact through Elm Surgery (ref GP-42)"
    assert contact_through(None, "GP-42") == "Contact through the referring partner (ref GP-42)"
