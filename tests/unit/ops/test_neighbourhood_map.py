"""The map's shading: people waiting against the hours helpers offer, per neighbourhood."""

from __future__ import annotations

import uuid

from services.ops.domain.ledger import Ledger
from services.ops.domain.neighbourhood_map import places
from shared.contracts import Envelope
from shared.contracts.people import AvailabilityChangedV2, WeeklySpan


def test_places_are_shaded_by_waiting_against_free_hours_most_pressed_first() -> None:
    found = places(
        ["calm", "pressed", "pressed", "nobody"],
        [("calm", 20), ("pressed", 2), ("quiet", 6), ("gone", 0)],
    )
    by_cell = {place.cell: place for place in found}
    assert [place.cell for place in found] == ["nobody", "pressed", "calm", "quiet"]
    assert by_cell["nobody"].pressure == 1.0
    assert by_cell["pressed"].pressure == 0.667  # 4 hours wanted, 2 offered
    assert by_cell["calm"].pressure == 0.091
    assert (by_cell["quiet"].waiting, by_cell["quiet"].pressure) == (0, 0.0)
    assert "gone" not in by_cell, "a neighbourhood with nothing to show is not drawn"


def test_the_ledger_keeps_each_persons_latest_weekly_hours() -> None:
    ledger = Ledger()
    person = uuid.uuid4()
    for rules in (
        [WeeklySpan(weekday="monday", start_hour=9, end_hour=12)],
        [
            WeeklySpan(weekday="monday", start_hour=9, end_hour=11),
            WeeklySpan(weekday="tuesday", start_hour=14, end_hour=18),
        ],
    ):
        event = AvailabilityChangedV2(
            person_id=person,
            neighbourhood="87195da49ffffff",
            time_zone="Europe/London",
            rules=rules,
        )
        ledger.apply(Envelope.wrap(event, producer="booking"))
    assert ledger.weekly_hours == {person: ("87195da49ffffff", 6)}
