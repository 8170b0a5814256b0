"""Which payload class reads each (type, version), which topic carries it, and upcasters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.contracts import bookings, candidates, partners, people, requests, trust
from shared.contracts.envelope import Payload
from shared.contracts.topics import (
    ACCOUNTS,
    AVAILABILITY,
    BOOKINGS,
    CHECKINS,
    CONCERNS,
    OFFERS,
    PARTNERS,
    PEOPLE,
    RELATIONSHIPS,
    REQUESTS,
    STANDING,
    VETTING,
    Topic,
)

#: Every event type Kith publishes, by the topic it travels on.
EVENTS_BY_TOPIC: dict[Topic, tuple[type[Payload], ...]] = {
    PEOPLE: (people.PersonProfileChanged, people.PersonErased),
    AVAILABILITY: (people.AvailabilityChanged, people.AvailabilityChangedV2),
    REQUESTS: (
        requests.HelpRequested,
        requests.HelpRequestCancelled,
        requests.SeriesChanged,
        candidates.CandidatesAsked,
        candidates.OfferDirected,
    ),
    OFFERS: (
        requests.OfferMade,
        requests.RequestUnmatched,
        candidates.CandidatesListed,
        candidates.OfferDirectionRefused,
    ),
    BOOKINGS: (
        bookings.OfferDeclined,
        bookings.BookingConfirmed,
        bookings.BookingKept,
        bookings.BookingCancelled,
        bookings.VisitCheckedIn,
        bookings.VisitCompleted,
        bookings.BookingRescheduled,
        bookings.RescheduleProposed,
        bookings.VisitNoShow,
        bookings.VisitNoShowV2,
        bookings.WelfareCheckRequested,
    ),
    CHECKINS: (trust.CheckInSubmitted,),
    VETTING: (trust.VettingStepRecorded,),
    RELATIONSHIPS: (trust.RelationshipChanged,),
    STANDING: (trust.StandingChanged,),
    CONCERNS: (trust.ConcernRaised, trust.ConcernResolved),
    ACCOUNTS: (people.AccountLinkRequested,),
    PARTNERS: (
        partners.PartnerServiceChanged,
        partners.PersonReferred,
        partners.PartnerOfferAnswered,
    ),
}

#: What a partner may send on ``kith.partners.inbox.v1``, each if its scopes allow it. The
#: gateway publishes an accepted one again on the topic ``TOPIC_OF`` names for its class.
PARTNER_SENDABLE: tuple[type[Payload], ...] = (
    partners.PersonReferred,
    partners.PartnerOfferAnswered,
    trust.VettingStepRecorded,
)

PAYLOADS: dict[tuple[str, int], type[Payload]] = {
    (cls.TYPE, cls.VERSION): cls for classes in EVENTS_BY_TOPIC.values() for cls in classes
}

TOPIC_OF: dict[type[Payload], Topic] = {
    cls: topic for topic, classes in EVENTS_BY_TOPIC.items() for cls in classes
}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def upcast_help_requested_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 request is a version 2 one with a count and no languages."""
    return {**data, "languages": []}


#: ``(type, old_version) -> (new_version, upcast)``: applied in a chain until the data is at
#: a version that ``PAYLOADS`` reads.
UPCASTERS: dict[tuple[str, int], tuple[int, Upcaster]] = {
    (requests.OfferMade.TYPE, 1): (2, requests.upcast_offer_v1_v2),
    (trust.VettingStepRecorded.TYPE, 1): (2, trust.upcast_vetting_v1_v2),
    ("help.requested", 1): (2, upcast_help_requested_v1_v2),
    (requests.OfferMade.TYPE, 2): (3, requests.upcast_offer_v2_v3),
    (requests.OfferMade.TYPE, 3): (4, requests.upcast_offer_v3_v4),
    # Versions that carried text a person wrote; the newer ones leave it in booking.
    (trust.VettingStepRecorded.TYPE, 2): (3, trust.upcast_vetting_v2_v3),
    (trust.CheckInSubmitted.TYPE, 1): (2, trust.upcast_checkin_v1_v2),
    (trust.ConcernRaised.TYPE, 1): (2, trust.upcast_concern_raised_v1_v2),
    (trust.ConcernResolved.TYPE, 1): (2, trust.upcast_concern_resolved_v1_v2),
    (bookings.BookingCancelled.TYPE, 1): (2, bookings.upcast_cancelled_v1_v2),
    (bookings.BookingConfirmed.TYPE, 1): (2, bookings.upcast_confirmed_v1_v2),
    (bookings.WelfareCheckRequested.TYPE, 1): (2, bookings.upcast_welfare_v1_v2),
    (people.AccountLinkRequested.TYPE, 1): (2, people.upcast_link_requested_v1_v2),
}


def topic_for(payload: Payload) -> Topic:
    """The topic a payload is published on."""
    return TOPIC_OF[type(payload)]
