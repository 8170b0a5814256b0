"""What of an event each partner receives: nothing, its scoped view, or its own in full."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.partners.domain.partner import Partner
from services.partners.domain.scopes import PUBLIC_TOPICS, never_visible, reduce
from shared.contracts.bookings import BookingKept, VisitNoShow
from shared.contracts.envelope import Payload
from shared.contracts.people import PersonErased
from shared.contracts.topics import BOOKINGS, OFFERS, STANDING
from shared.contracts.trust import ConcernRaised, ConcernResolved, StandingChanged

#: Streams on which a partner's service receives what concerns it (offers made to it, its
#: bookings) whatever its read scopes: it cannot act as a helper without them.
OWN_STREAMS = frozenset({OFFERS.name, BOOKINGS.name})

#: What a safeguarding contact learns of a concern: never who reported it, nor what anyone
#: wrote (the summary and an operator's reason stay in booking and are not on the topic).
CONCERN_RAISED_FIELDS = frozenset({"concern_id", "about_id", "raised_by_role"})
CONCERN_RESOLVED_FIELDS = frozenset({"concern_id", "about_id", "outcome"})

#: What of a person's standing tells of a concern or of missed visits: only the safeguarding
#: contact where the person lives may see it, and only as its scopes allow.
SAFEGUARDING_FIELDS = frozenset({"suspended", "late_cancellations", "no_shows"})


def view_for(
    partner: Partner, topic: str, payload: Payload, data: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The payload fields ``partner`` receives of an event on a public ``topic``, or None.

    Args:
        partner: An active partner.
        topic: The topic the event was read from.
        payload: The decoded payload.
        data: The payload as JSON-ready data (what is reduced).
    """
    if topic not in PUBLIC_TOPICS:
        return None  # private streams are never projected, whatever a partner's scopes say
    if topic == STANDING.name:
        raise ValueError("a standing is projected by where its person lives: standing_view")
    helper_id = partner.helper_id
    if (
        helper_id is not None
        and topic in OWN_STREAMS
        and getattr(payload, "helper_id", None) == helper_id
    ):
        return {name: value for name, value in data.items() if not never_visible(name)}
    if isinstance(payload, VisitNoShow) and not _covers(partner, payload.neighbourhood):
        return None  # who missed visits is for the partners of that neighbourhood only
    if (
        isinstance(payload, BookingKept)
        and payload.neighbourhood not in partner.safeguarding_neighbourhoods
    ):
        # That a visit had been held tells of a suspension, so of a concern: only the
        # safeguarding contact where it was to happen learns it (as with standing).
        return None
    if topic in partner.scopes.read_streams:
        visible = partner.scopes.visible_fields(payload.TYPE)
        if isinstance(payload, PersonErased):
            # Its point is whom to forget: a partner that reads people is told the id.
            visible = visible | {"person_id"}
        return reduce(data, visible)
    return None


def _covers(partner: Partner, neighbourhood: str) -> bool:
    """Whether the neighbourhood is one the partner safeguards or serves."""
    if neighbourhood in partner.safeguarding_neighbourhoods:
        return True
    return partner.service is not None and neighbourhood in partner.service.neighbourhoods


def safeguarding_view(
    partner: Partner, payload: Payload, data: Mapping[str, Any], neighbourhood: str | None
) -> dict[str, Any] | None:
    """A concern's fields for a partner that is the safeguarding contact where the person lives.

    Args:
        partner: An active partner.
        payload: A ``ConcernRaised`` or ``ConcernResolved``; anything else gives None.
        data: The payload as JSON-ready data.
        neighbourhood: Where the person the concern is about lives, if the gateway knows.
    """
    if neighbourhood is None or neighbourhood not in partner.safeguarding_neighbourhoods:
        return None
    if isinstance(payload, ConcernRaised):
        return reduce(data, CONCERN_RAISED_FIELDS)
    if isinstance(payload, ConcernResolved):
        return reduce(data, CONCERN_RESOLVED_FIELDS)
    return None


def standing_view(
    partner: Partner, payload: StandingChanged, data: Mapping[str, Any], neighbourhood: str | None
) -> dict[str, Any] | None:
    """A person's standing as ``partner`` may see it, given where the person lives.

    The standing stream says who is suspended (so under a concern) and who missed visits.
    A partner reading it learns that only for the people of its safeguarding neighbourhoods;
    a partner running a service learns, for the people of the neighbourhoods it serves, what
    they are vetted for and nothing more; of anyone else (or anyone whose home the gateway
    does not know) it learns nothing, not even that their standing changed.
    """
    if STANDING.name not in partner.scopes.read_streams or neighbourhood is None:
        return None
    visible = partner.scopes.visible_fields(payload.TYPE)
    if neighbourhood in partner.safeguarding_neighbourhoods:
        return reduce(data, visible)
    if partner.service is not None and neighbourhood in partner.service.neighbourhoods:
        return reduce(data, visible - SAFEGUARDING_FIELDS)
    return None
