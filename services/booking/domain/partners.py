"""Rules for the people partners refer and the services partners run."""

from __future__ import annotations

from enum import StrEnum

from shared import geo


class PersonKind(StrEnum):
    """How a person came to be in booking's records."""

    #: Signed up through the API: an account that both gives and receives help.
    MEMBER = "member"
    #: Referred by a partner, with their consent: no account, address or phone.
    REFERRED = "referred"
    #: The identity under which a partner's service receives offers and bookings.
    PARTNER_SERVICE = "partner_service"
    #: An account deleted (by its owner or an operator): the row holds nothing personal and
    #: stays only because visits other people took part in name it.
    ERASED = "erased"


def referral_problem(neighbourhood: str, cell: str) -> str | None:
    """Why a referral's place cannot be used, or ``None`` when it can."""
    try:
        parent = geo.neighbourhood_of_cell(cell)
    except ValueError:  # h3's errors for a cell that is not one, or too coarse
        return f"cell {cell} is not a street-level H3 cell"
    if parent != neighbourhood:
        return f"cell {cell} does not lie in neighbourhood {neighbourhood}"
    return None


def contact_through(partner_name: str | None, reference: str) -> str:
    """How the confirmed helper reaches a referred neighbour: through the partner only."""
    return f"Contact through {partner_name or 'the referring partner'} (ref {reference})"
