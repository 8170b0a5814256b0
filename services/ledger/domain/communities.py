"""A community's choice of how its hours are paid for: an operator's setting per group of
neighbourhood cells (or per partner), several modes at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from services.ledger.domain.postings import Mode

#: The community of every neighbourhood cell no operator has placed in another.
DEFAULT_COMMUNITY = "default"


class PotRule(StrEnum):
    """When a request may be covered from the community's pot of gifted hours."""

    APPROVAL = "approval"
    """An operator approved it, request by request."""
    ALLOWANCE = "allowance"
    """Each person may draw up to a number of hours a month, without asking."""


@dataclass(frozen=True, slots=True)
class Community:
    """How one community's hours are paid for.

    Attributes:
        community_id: Its name, chosen by operators (``default`` for cells in no other).
        modes: Paid, time credits, gifted: any of them, or none (nothing is posted).
        currency: ISO 4217 code of its rates, expenses and mileage.
        rates: Per skill, the price of an hour in minor units (paid mode; a skill with no
            rate is not paid for, and falls to the next mode).
        payer: Who pays for its paid visits when the neighbour has no payer of their own:
            ``partner:<id>`` (a partner's budget) or ``None`` (the neighbour).
        pot_rule: When a request may be covered from the pot (gifted mode).
        monthly_allowance_hours: Hours a month each person may draw (``allowance`` rule).
        late_cancel_percent: Share of a visit's value posted when the neighbour cancels
            inside the notice window: 0 posts nothing, 100 the whole visit, in the mode the
            visit would have been posted in. A helper's late cancellation posts nothing.
        mileage_rate: Minor units per mile paid for a lift.
    """

    community_id: str
    modes: frozenset[Mode] = frozenset({Mode.TIME_CREDITS})
    currency: str = "GBP"
    rates: dict[str, int] = field(default_factory=dict)
    payer: str | None = None
    pot_rule: PotRule = PotRule.APPROVAL
    monthly_allowance_hours: int = 0
    late_cancel_percent: int = 0
    mileage_rate: int = 0


def community_id_for(*, partner_community: str | None, cell_community: str | None) -> str:
    """Which community's rules a visit is posted under.

    A visit that came through a partner's referral follows the partner's community when the
    partner has one (the partner arranged it, and often pays for it); otherwise the
    community of the neighbourhood cell it is in; otherwise ``default``.
    """
    return partner_community or cell_community or DEFAULT_COMMUNITY
