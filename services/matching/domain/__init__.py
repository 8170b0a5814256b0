"""Matching's pure rules: who may be offered a request, in what order, and how it cascades.

Nothing here knows of Kafka or faust.
"""

from services.matching.domain.cascade import (
    Policy,
    Progress,
    Status,
    asked_again,
    closed,
    declined,
    escalate,
    is_new_ask,
    next_round,
    offer_id,
    retried,
)
from services.matching.domain.directed import direct, passed_over, refusal
from services.matching.domain.eligibility import hours_booked_in_week, is_eligible, why_ineligible
from services.matching.domain.model import (
    BookedVisit,
    HelperProfile,
    HelperView,
    Hold,
    Relationship,
    Standing,
)
from services.matching.domain.partners import PartnerService, PartnerView, why_partner_ineligible
from services.matching.domain.ranking import Candidate, SeriesFaces, Tier, rank

__all__ = [
    "BookedVisit",
    "Candidate",
    "HelperProfile",
    "HelperView",
    "Hold",
    "PartnerService",
    "PartnerView",
    "Policy",
    "Progress",
    "Relationship",
    "SeriesFaces",
    "Standing",
    "Status",
    "Tier",
    "asked_again",
    "closed",
    "declined",
    "direct",
    "escalate",
    "hours_booked_in_week",
    "is_eligible",
    "is_new_ask",
    "next_round",
    "offer_id",
    "passed_over",
    "rank",
    "refusal",
    "retried",
    "why_ineligible",
    "why_partner_ineligible",
]
