"""Projection: who receives an event, and which of its fields."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.partners.domain.projection import safeguarding_view, standing_view, view_for
from services.partners.domain.scopes import grant
from shared.contracts.bookings import BookingKept, Side, VisitNoShow
from shared.contracts.requests import OfferMade
from shared.contracts.skills import Skill
from shared.contracts.topics import BOOKINGS, CHECKINS, OFFERS, REQUESTS, STANDING
from shared.contracts.trust import ConcernRaised, RaisedBy, StandingChanged
from tests.unit.partners.factories import NEIGHBOURHOOD, NOW, partner
from tests.unit.partners.support import help_requested, offer_made


def test_a_partner_reading_requests_sees_only_the_default_fields() -> None:
    reader = partner(grant(read_streams=[REQUESTS.name]))
    request = help_requested()
    view = view_for(reader, REQUESTS.name, request, request.model_dump(mode="json"))
    assert view is not None
    assert "neighbour_id" not in view
    assert "cell" not in view
    assert view["request_id"] == str(request.request_id)


def test_a_stream_outside_the_scopes_or_private_is_not_projected() -> None:
    reader = partner(grant(read_streams=[OFFERS.name]))
    request = help_requested()
    assert view_for(reader, REQUESTS.name, request, request.model_dump(mode="json")) is None
    assert view_for(reader, CHECKINS.name, request, request.model_dump(mode="json")) is None


def test_a_service_receives_its_own_offers_whole_and_no_one_else_s() -> None:
    service = partner(grant(), service=True)
    assert service.helper_id is not None
    own = offer_made(service.helper_id)
    view = view_for(service, OFFERS.name, own, own.model_dump(mode="json"))
    assert view is not None
    assert OfferMade.model_validate(view) == own
    other = offer_made(uuid.uuid4())
    assert view_for(service, OFFERS.name, other, other.model_dump(mode="json")) is None


def test_a_safeguarding_contact_learns_of_a_concern_but_not_who_raised_it() -> None:
    contact = partner(grant(), safeguarding=frozenset({NEIGHBOURHOOD}))
    concern = ConcernRaised(
        concern_id=uuid.uuid4(),
        about_id=uuid.uuid4(),
        raised_by_id=uuid.uuid4(),
        raised_by_role=RaisedBy.PERSON,
        booking_id=uuid.uuid4(),
    )
    # Even were a summary in the data (a stored copy of a version 1 event), it is not passed on.
    data = {**concern.model_dump(mode="json"), "summary": "Seemed unwell and confused"}
    view = safeguarding_view(contact, concern, data, NEIGHBOURHOOD)
    assert view == {
        "concern_id": str(concern.concern_id),
        "about_id": str(concern.about_id),
        "raised_by_role": "person",
    }
    assert safeguarding_view(contact, concern, data, "871f1d48fffffff") is None
    assert safeguarding_view(contact, concern, data, None) is None


def test_a_standing_reaches_a_partner_only_by_where_its_person_lives() -> None:
    every = ["person_id", "suspended", "approved_skills", "late_cancellations", "no_shows"]
    scopes = grant(read_streams=[STANDING.name], fields={"standing.changed": every})
    standing = StandingChanged(
        person_id=uuid.uuid4(),
        suspended=True,
        approved_skills={Skill.LIFT: NOW + timedelta(days=30)},
        no_shows=1,
    )
    data = standing.model_dump(mode="json")
    contact = partner(scopes, safeguarding=frozenset({NEIGHBOURHOOD}))
    service = partner(scopes, service=True)
    reader = partner(scopes)

    assert standing_view(contact, standing, data, NEIGHBOURHOOD) == data
    assert set(standing_view(service, standing, data, NEIGHBOURHOOD) or {}) == {
        "person_id",
        "approved_skills",
    }
    assert standing_view(reader, standing, data, NEIGHBOURHOOD) is None
    # Nobody learns of someone whose home the gateway does not know, or who lives elsewhere.
    for anyone in (contact, service, reader):
        assert standing_view(anyone, standing, data, None) is None
        assert standing_view(anyone, standing, data, "871f1d4bbffffff") is None
    # A partner that does not read the stream gets nothing, whatever its areas.
    blind = partner(grant(), safeguarding=frozenset({NEIGHBOURHOOD}))
    assert standing_view(blind, standing, data, NEIGHBOURHOOD) is None


def test_a_no_show_reaches_a_partner_only_in_its_own_areas() -> None:
    scopes = grant(
        read_streams=[BOOKINGS.name], fields={"visit.no_show": ["booking_id", "helper_id"]}
    )
    missed = VisitNoShow(
        booking_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        helper_id=uuid.uuid4(),
        neighbour_id=uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
        skill=Skill.SHOPPING,
        starts_at=NOW,
        hours=1,
        absent=Side.HELPER,
        reported_by=Side.NEIGHBOUR,
    )
    data = missed.model_dump(mode="json")
    here = partner(scopes, safeguarding=frozenset({NEIGHBOURHOOD}))
    serving = partner(scopes, service=True)
    elsewhere = partner(scopes, safeguarding=frozenset({"871f1d4bbffffff"}))

    assert view_for(here, BOOKINGS.name, missed, data) == {
        "booking_id": data["booking_id"],
        "helper_id": data["helper_id"],
    }
    assert view_for(serving, BOOKINGS.name, missed, data) is not None
    assert view_for(elsewhere, BOOKINGS.name, missed, data) is None
    assert view_for(partner(scopes), BOOKINGS.name, missed, data) is None


def test_a_kept_visit_reaches_a_partner_only_in_its_own_areas() -> None:
    """It tells that the visit had been held by a suspension: a concern's trace."""
    scopes = grant(read_streams=[BOOKINGS.name])
    kept = BookingKept(
        booking_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        helper_id=uuid.uuid4(),
        neighbour_id=uuid.uuid4(),
        neighbourhood=NEIGHBOURHOOD,
        skill=Skill.SHOPPING,
        starts_at=NOW,
        hours=1,
        offer_id=uuid.uuid4(),
    )
    data = kept.model_dump(mode="json")
    here = partner(scopes, safeguarding=frozenset({NEIGHBOURHOOD}))
    elsewhere = partner(scopes, safeguarding=frozenset({"871f1d4bbffffff"}))
    serving = partner(scopes, service=True)

    seen = view_for(here, BOOKINGS.name, kept, data)
    assert seen is not None
    assert "helper_id" not in seen  # the default view names nobody
    assert view_for(elsewhere, BOOKINGS.name, kept, data) is None
    assert view_for(serving, BOOKINGS.name, kept, data) is None  # it serves, not safeguards
    assert view_for(partner(scopes), BOOKINGS.name, kept, data) is None
