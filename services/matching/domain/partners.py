"""Partners' services: a class of requests a partner takes itself, as one helper would.

A lift service, say, takes lift requests in the neighbourhoods it covers and answers the
offers under one ``helper_id``. Where it stands in the order of offers is decided in
``ranking`` (relationships first, then the partner's service, then other helpers); who it may
be offered is decided here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.matching.domain.model import Relationship, Standing
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill


@dataclass(frozen=True, slots=True)
class PartnerService:
    """A partner's service as last announced (from ``PartnerServiceChanged``)."""

    partner_id: uuid.UUID
    name: str
    helper_id: uuid.UUID
    skills: frozenset[Skill]
    neighbourhoods: frozenset[str]
    active: bool


@dataclass(frozen=True, slots=True)
class PartnerView:
    """Everything needed to judge one partner's service for one request.

    Attributes:
        service: The service.
        standing: Trust's standing of the service's identity, or ``None`` if trust has said
            nothing: the partner vouches for its own people, so none is needed.
        relationship: The service's relationship with the request's neighbour, if any.
    """

    service: PartnerService
    standing: Standing | None = None
    relationship: Relationship | None = None


def why_partner_ineligible(view: PartnerView, request: HelpRequested) -> str | None:
    """Why the service may not be offered ``request``, or ``None`` when it may.

    A service is offered the requests for its skills in its neighbourhoods while it is
    active. It needs no personal vetting (the partner vetted its own people), and its hours
    are the partner's to manage, but trust's word still counts: a suspended service, or a
    pair the neighbour or the service asked not to repeat, is never offered.
    """
    service = view.service
    if not service.active:
        return "the service is stopped"
    if request.skill not in service.skills:
        return f"does not take {request.skill.value} requests"
    if request.neighbourhood not in service.neighbourhoods:
        return "does not cover this neighbourhood"
    if service.helper_id == request.neighbour_id:
        return "is the neighbour"
    if view.standing is not None and view.standing.suspended:
        return "is suspended"
    if view.relationship is not None and not view.relationship.matchable:
        return "the pair is not matchable"
    return None
