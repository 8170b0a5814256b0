"""Events the partners unit tests project."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.contracts.requests import HelpRequested, OfferMade
from shared.contracts.skills import Skill
from tests.unit.partners.factories import CELL, NEIGHBOURHOOD, NOW


def help_requested() -> HelpRequested:
    return HelpRequested(
        request_id=uuid.uuid4(),
        series_id=uuid.uuid4(),
        occurrence=1,
        occurrences=1,
        neighbour_id=uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
        cell=CELL,
        skill=Skill.SHOPPING,
        starts_at=NOW,
        hours=1,
    )


def offer_made(helper_id: uuid.UUID) -> OfferMade:
    return OfferMade(
        offer_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        helper_id=helper_id,
        neighbour_id=uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
        skill=Skill.LIFT,
        starts_at=NOW,
        hours=1,
        round=1,
        expires_at=NOW + timedelta(minutes=15),
    )
