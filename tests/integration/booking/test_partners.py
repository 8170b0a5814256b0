"""Partners through kith.partners.v1: referrals become requests, a partner's service is
booked like a helper, and what cannot be honoured is dead-lettered with the reason."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts import Envelope, Payload
from shared.contracts.bookings import BookingConfirmed
from shared.contracts.partners import (
    Consent,
    ConsentMethod,
    PartnerOfferAnswered,
    PartnerServiceChanged,
    PersonReferred,
)
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.contracts.topics import BOOKINGS, DEAD_LETTERS, REQUESTS
from shared.geo import cell_of, neighbourhood_of, neighbourhood_of_cell
from shared.messaging import read_dead_letter
from tests.conftest import Stack
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import (
    TopicReader,
    future_hour,
    seed_offer,
    sign_up,
    vetted_helper,
)

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
LONDON = ZoneInfo("Europe/London")


def _referral(partner_id: uuid.UUID, starts_at: datetime, **changes: Any) -> PersonReferred:
    """A referral at a random place near London, with fresh ids."""
    lat, lng = random.uniform(51.3, 51.7), random.uniform(-0.4, 0.2)
    # The neighbourhood that holds the street cell: near a neighbourhood's edge, the point's
    # own neighbourhood can differ from its street cell's parent (H3 cells do not nest exactly).
    cell = cell_of(lat, lng)
    fields: dict[str, Any] = {
        "referral_id": uuid.uuid4(),
        "partner_id": partner_id,
        "partner_reference": f"GP-{uuid.uuid4().hex[:8]}",
        "first_name": "Edith",
        "neighbourhood": neighbourhood_of_cell(cell),
        "cell": cell,
        "skill": Skill.SHOPPING,
        "starts_at": starts_at,
        "hours": 1,
        "consent": Consent(
            given_at=datetime.now(UTC) - timedelta(days=1),
            method=ConsentMethod.VERBAL,
            recorded_by="Dr A. Shah",
        ),
        **changes,
    }
    return PersonReferred(**fields)


def _next_tuesday_before_october_change() -> datetime:
    """A Tuesday 10:00 London, three weeks before the last Sunday of October (future)."""
    year = datetime.now(UTC).year
    while True:
        last = date(year, 10, 31)
        change = last - timedelta(days=(last.weekday() + 1) % 7)  # last Sunday
        tuesday = change - timedelta(days=5 + 14)
        start = datetime(tuesday.year, tuesday.month, tuesday.day, 10, tzinfo=LONDON)
        if start > datetime.now(UTC) + timedelta(hours=1):
            return start
        year += 1


def _service(partner_id: uuid.UUID, helper_id: uuid.UUID, name: str) -> PartnerServiceChanged:
    return PartnerServiceChanged(
        partner_id=partner_id,
        name=name,
        helper_id=helper_id,
        skills=[Skill.SHOPPING],
        neighbourhoods=[neighbourhood_of(51.5, -0.1)],
        active=True,
    )


def _caused_by(envelope: Envelope[Any]) -> Any:
    def match(seen: Envelope[Payload]) -> bool:
        return isinstance(seen.data, HelpRequested) and seen.causation_id == envelope.event_id

    return match


async def _operator_view(booking: Booking, person_id: uuid.UUID) -> dict[str, Any]:
    response = await booking.client.get(f"/v1/operator/people/{person_id}", headers=OPERATOR)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


async def test_a_referral_becomes_weekly_requests_once_with_its_consent(
    booking: Booking, stack: Stack
) -> None:
    partner_id = uuid.uuid4()
    starts = future_hour(days=3)
    referral = _referral(partner_id, starts, occurrences=2)
    first = Envelope.wrap(referral, producer="partners")
    again = Envelope.wrap(referral, producer="partners")  # the same referral, a new event
    # The same person referred anew (the partner's reference is theirs): keyed by the
    # partner like the repeats, so once it is applied the repeats have been too.
    later = _referral(
        partner_id,
        starts + timedelta(days=1),
        partner_reference=referral.partner_reference,
        neighbourhood=referral.neighbourhood,
        cell=referral.cell,
    )
    fence = Envelope.wrap(later, producer="partners")
    async with TopicReader(stack.bootstrap, REQUESTS.name) as requests:
        await booking.publisher.publish_many([first, first, again, fence])
        await requests.wait_for(_caused_by(fence), what="the later referral's request")
        asked = [e for e in requests.seen if _caused_by(first)(e) or _caused_by(again)(e)]

    occurrences = [e.data for e in asked if isinstance(e.data, HelpRequested)]
    # A week later at the same London wall-clock hour (an hour off in UTC across a change).
    week_later = (starts.astimezone(LONDON) + timedelta(weeks=1)).replace(tzinfo=None)
    assert [o.starts_at for o in occurrences] == [
        starts,
        week_later.replace(tzinfo=LONDON).astimezone(UTC),
    ]
    assert all(e.correlation_id == first.correlation_id for e in asked)
    neighbour_id = occurrences[0].neighbour_id
    assert {o.neighbour_id for o in occurrences} == {neighbour_id}
    assert occurrences[0].neighbourhood == referral.neighbourhood
    assert occurrences[0].cell == referral.cell

    view = await _operator_view(booking, neighbour_id)
    assert view["kind"] == "referred"
    assert view["display_name"] == "Edith"
    assert [r["referral_id"] for r in view["referrals"]] == [
        str(referral.referral_id),
        str(later.referral_id),
    ]
    consent = view["referrals"][0]["consent"]
    assert consent["method"] == "verbal"
    assert consent["recorded_by"] == "Dr A. Shah"
    assert datetime.fromisoformat(consent["given_at"]) == referral.consent.given_at
    async with booking.runtime.uow.read() as repo:
        person = await repo.person(neighbour_id)
        stored = await repo.requests_of(neighbour_id, 0, 10)
    assert person is not None
    assert (person["address"], person["phone"], person["email"]) == (None, None, None)
    assert len(stored) == 3  # two weekly occurrences, then the later referral's one


async def test_a_referred_persons_weekly_visits_keep_their_london_hour_across_the_change(
    booking: Booking, stack: Stack
) -> None:
    start = _next_tuesday_before_october_change()
    referral = _referral(uuid.uuid4(), start.astimezone(UTC), occurrences=5)
    envelope = Envelope.wrap(referral, producer="partners")
    async with TopicReader(stack.bootstrap, REQUESTS.name) as requests:
        await booking.publisher.publish(envelope)
        asked = await requests.wait_for(
            _caused_by(envelope), count=5, what="the referral's five occurrences"
        )

    starts = sorted(e.data.starts_at for e in asked if isinstance(e.data, HelpRequested))
    assert [s.astimezone(LONDON).hour for s in starts] == [10] * 5
    assert [s.astimezone(UTC).hour for s in starts] == [9, 9, 9, 10, 10]  # BST, then GMT


async def test_a_referral_that_cannot_be_honoured_is_dead_lettered(
    booking: Booking, stack: Stack
) -> None:
    partner_id = uuid.uuid4()
    past = _referral(partner_id, future_hour(days=-1))
    async with TopicReader(stack.bootstrap, DEAD_LETTERS.name) as letters:
        await booking.publisher.publish(Envelope.wrap(past, producer="partners"))
        record = await letters.wait_for_raw(
            lambda r: r.key == str(partner_id).encode(), what="the dead-lettered referral"
        )

    letter = read_dead_letter(record)
    assert letter.consumer == "booking"
    assert "must be in the future" in letter.reason
    assert str(past.referral_id) in letter.reason
    async with booking.runtime.uow.read() as repo:
        assert not await repo.referral_known(past.referral_id)


async def test_a_partner_service_accepts_offers_and_may_take_two_visits_at_once(
    booking: Booking, stack: Stack
) -> None:
    partner_id, helper_id = uuid.uuid4(), uuid.uuid4()
    starts = future_hour(days=2)
    service = Envelope.wrap(_service(partner_id, helper_id, "Ridewell"), producer="partners")
    referrals = [
        Envelope.wrap(_referral(partner_id, starts), producer="partners") for _ in range(2)
    ]
    async with TopicReader(stack.bootstrap, REQUESTS.name) as requests:
        await booking.publisher.publish_many([service, *referrals])
        asked = [
            (await requests.wait_for(_caused_by(r), what="a referral's request"))[0]
            for r in referrals
        ]
    request_ids = [str(e.data.request_id) for e in asked if isinstance(e.data, HelpRequested)]
    offer_ids = [await seed_offer(booking.runtime.uow, rid, str(helper_id)) for rid in request_ids]

    def answer(offer_id: str, request_id: str, partner: uuid.UUID) -> Envelope[Any]:
        payload = PartnerOfferAnswered(
            partner_id=partner,
            offer_id=uuid.UUID(offer_id),
            request_id=uuid.UUID(request_id),
            accepted=True,
        )
        return Envelope.wrap(payload, producer="partners")

    stranger = uuid.uuid4()  # another partner cannot answer this partner's offers
    async with (
        TopicReader(stack.bootstrap, BOOKINGS.name) as bookings,
        TopicReader(stack.bootstrap, DEAD_LETTERS.name) as letters,
    ):
        await booking.publisher.publish(answer(offer_ids[0], request_ids[0], stranger))
        await booking.publisher.publish_many(
            [answer(o, r, partner_id) for o, r in zip(offer_ids, request_ids, strict=True)]
        )
        confirmed = await bookings.wait_for(
            lambda e: isinstance(e.data, BookingConfirmed) and e.data.helper_id == helper_id,
            count=2,
            what="both visits booked with the partner's service",
        )
        record = await letters.wait_for_raw(
            lambda r: r.key == str(stranger).encode(), what="the stranger's answer refused"
        )

    assert {str(e.data.request_id) for e in confirmed if isinstance(e.data, BookingConfirmed)} == (
        set(request_ids)
    )
    # The visits came through the partner's referral: the ledger posts them by its rules.
    assert {e.data.referred_by for e in confirmed if isinstance(e.data, BookingConfirmed)} == {
        partner_id
    }
    assert "not made to this partner's service" in read_dead_letter(record).reason
    view = await _operator_view(booking, helper_id)
    assert view["kind"] == "partner_service"
    assert view["display_name"] == "Ridewell"
    assert view["partner_service"]["active"] is True


async def test_the_helper_of_a_referred_neighbour_is_told_to_contact_the_partner(
    booking: Booking, stack: Stack
) -> None:
    partner_id = uuid.uuid4()
    helper_id, helper = await sign_up(booking.client, "Ada")
    referral = Envelope.wrap(_referral(partner_id, future_hour(days=1)), producer="partners")
    service = Envelope.wrap(_service(partner_id, uuid.uuid4(), "Elm Surgery"), producer="partners")
    async with TopicReader(stack.bootstrap, REQUESTS.name) as requests:
        await booking.publisher.publish_many([service, referral])
        [asked] = await requests.wait_for(_caused_by(referral), what="the referral's request")
    assert isinstance(asked.data, HelpRequested)
    offer_id = await seed_offer(booking.runtime.uow, str(asked.data.request_id), helper_id)
    accepted = await booking.client.post(f"/v1/offers/{offer_id}/accept", headers=helper)
    assert accepted.status_code == 201, accepted.text

    response = await booking.client.get(
        f"/v1/bookings/{accepted.json()['booking_id']}", headers=helper
    )

    assert response.status_code == 200, response.text
    neighbour = response.json()["neighbour"]
    assert neighbour["display_name"] == "Edith"
    reference = referral.data.partner_reference
    assert neighbour["contact"] == f"Contact through Elm Surgery (ref {reference})"
    assert "address" not in neighbour


async def test_a_referred_neighbours_visits_say_which_partner_referred_them_series_and_all(
    booking: Booking, stack: Stack
) -> None:
    """The ledger posts a referred visit under its partner's community: every booking of the
    referral's weekly series says who referred it, those its regular takes on included."""
    partner_id = uuid.uuid4()
    helper_id, helper = await vetted_helper(booking, "Grace")
    referral = Envelope.wrap(
        _referral(partner_id, future_hour(days=1), occurrences=3), producer="partners"
    )
    async with TopicReader(stack.bootstrap, REQUESTS.name) as requests:
        await booking.publisher.publish(referral)
        asked = await requests.wait_for(_caused_by(referral), count=3, what="three weeks asked")
    weeks = sorted(
        (e.data for e in asked if isinstance(e.data, HelpRequested)), key=lambda r: r.starts_at
    )
    offer_id = await seed_offer(booking.runtime.uow, str(weeks[0].request_id), helper_id)
    async with TopicReader(stack.bootstrap, BOOKINGS.name) as bookings:
        accepted = await booking.client.post(
            f"/v1/offers/{offer_id}/accept", headers=helper, json={"scope": "series"}
        )
        assert accepted.status_code == 201, accepted.text
        confirmed = await bookings.wait_for(
            lambda e: (
                isinstance(e.data, BookingConfirmed) and e.data.helper_id == uuid.UUID(helper_id)
            ),
            count=3,
            what="the three weeks booked with the regular",
        )
    assert {e.data.request_id for e in confirmed} == {r.request_id for r in weeks}  # type: ignore[attr-defined]
    assert {e.data.referred_by for e in confirmed} == {partner_id}  # type: ignore[attr-defined]
