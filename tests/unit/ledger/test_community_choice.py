"""Which community's rules a visit is posted under: the referring partner's first, then its
neighbourhood's, then the default; and where the ledger learns who referred a visit."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from services.ledger.domain.communities import DEFAULT_COMMUNITY, community_id_for
from services.ledger.service_layer.handlers import visit_of
from shared.contracts import decode
from shared.contracts.bookings import BookingConfirmed, VisitCompleted
from shared.contracts.skills import Skill

PARTNER = uuid.uuid4()


def test_a_referred_visit_follows_its_partners_community_before_its_neighbourhoods() -> None:
    assert community_id_for(partner_community="council", cell_community="canal") == "council"


def test_a_partner_with_no_community_falls_back_to_the_neighbourhoods() -> None:
    assert community_id_for(partner_community=None, cell_community="canal") == "canal"


def test_a_visit_in_no_community_is_the_defaults() -> None:
    assert community_id_for(partner_community=None, cell_community=None) == DEFAULT_COMMUNITY
    assert community_id_for(partner_community="council", cell_community=None) == "council"


def _visit() -> dict[str, object]:
    return {
        "booking_id": uuid.uuid4(),
        "request_id": uuid.uuid4(),
        "helper_id": uuid.uuid4(),
        "neighbour_id": uuid.uuid4(),
        "neighbourhood": "87195da49ffffff",
        "skill": Skill.SHOPPING,
        "starts_at": datetime(2026, 3, 3, 10, tzinfo=UTC),
        "hours": 2,
    }


def test_the_confirmation_says_who_referred_the_visit_and_completion_does_not() -> None:
    fields = _visit()
    confirmed = BookingConfirmed(**fields, offer_id=uuid.uuid4(), referred_by=PARTNER)
    assert visit_of(confirmed).partner_id == PARTNER
    # The ledger remembers it from the confirmation: a completion carries no partner.
    assert visit_of(VisitCompleted(**fields)).partner_id is None


def test_a_version_1_confirmation_reads_as_a_visit_nobody_referred() -> None:
    fields = {key: str(value) for key, value in _visit().items()}
    raw = {
        "event_id": str(uuid.uuid4()),
        "type": "booking.confirmed",
        "version": 1,
        "occurred_at": "2026-03-03T09:00:00Z",
        "producer": "booking",
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "trace": {"traceparent": None, "tracestate": None},
        "data": {**fields, "hours": 2, "offer_id": str(uuid.uuid4())},
    }
    envelope = decode(json.dumps(raw).encode())
    assert isinstance(envelope.data, BookingConfirmed)
    assert visit_of(envelope.data).partner_id is None
