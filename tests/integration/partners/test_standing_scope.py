"""The public standing stream tells no partner who is under a concern, nor who missed visits,
outside its safeguarding area: through the real gateway, broker and database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts import Envelope
from shared.contracts.bookings import Side, VisitNoShow
from shared.contracts.people import PersonProfileChanged
from shared.contracts.skills import Skill
from shared.contracts.topics import BOOKINGS, STANDING
from shared.contracts.trust import StandingChanged
from tests.conftest import Stack
from tests.integration.partners.conftest import Gateway
from tests.integration.partners.support import Reader, random_place, register
from tests.support import eventually

_EVERY_FIELD = ["person_id", "suspended", "approved_skills", "late_cancellations", "no_shows"]
_READS_STANDING = {
    "read_streams": [STANDING.name],
    "fields": {"standing.changed": _EVERY_FIELD},
}


def _feed(reader: Reader, feed_topic: str, person: uuid.UUID) -> list[dict[str, Any]]:
    messages = [json.loads(r.value) for r in reader.records if r.topic == feed_topic and r.value]
    return [m for m in messages if m["data"].get("person_id") == str(person)]


async def test_a_suspension_reaches_only_the_safeguarding_contact_where_the_person_lives(
    gateway: Gateway, stack: Stack
) -> None:
    home, cell = random_place()
    elsewhere, _ = random_place()
    contact = await register(
        gateway.client, scopes=_READS_STANDING, safeguarding_neighbourhoods=[home]
    )
    service = await register(
        gateway.client,
        scopes=_READS_STANDING,
        service={"skills": ["lift"], "neighbourhoods": [home]},
    )
    far = await register(
        gateway.client, scopes=_READS_STANDING, safeguarding_neighbourhoods=[elsewhere]
    )
    reader_only = await register(gateway.client, scopes=_READS_STANDING)
    person = uuid.uuid4()
    profile = PersonProfileChanged(
        person_id=person,
        display_name="Ada",
        neighbourhood=home,
        cell=cell,
        skills=[Skill.LIFT],
        travel_radius_km=2,
        weekly_hour_cap=4,
    )
    until = datetime.now(UTC) + timedelta(days=300)
    standing = StandingChanged(
        person_id=person,
        suspended=True,
        approved_skills={Skill.LIFT: until},
        late_cancellations=1,
        no_shows=2,
    )
    feeds = [p["feed_topic"] for p in (contact, service, far, reader_only)]
    async with Reader(stack.bootstrap, *feeds) as reader:
        await gateway.publisher.publish(Envelope.wrap(profile, producer="booking"))

        async def known() -> bool:
            async with gateway.runtime.unit_of_work() as uow:
                return await uow.place_of(person) == home

        await eventually(known, what="the person's neighbourhood")
        await gateway.publisher.publish(Envelope.wrap(standing, producer="trust"))
        await reader.wait_for(
            lambda r: r.topic == contact["feed_topic"] and str(person).encode() in r.value,
            what="the standing on the contact's feed",
        )
        # One event is projected to every partner at once: the others' share came with it.
        await reader.wait_for(
            lambda r: r.topic == service["feed_topic"] and str(person).encode() in r.value,
            what="the standing on the service's feed",
        )

    [told] = _feed(reader, contact["feed_topic"], person)
    assert told["type"] == "standing.changed"
    assert told["data"]["suspended"] is True
    assert told["data"]["no_shows"] == 2
    # A service working in the neighbourhood learns what the person is vetted for, and no
    # more: not the suspension, not the counts.
    [vetted] = _feed(reader, service["feed_topic"], person)
    assert set(vetted["data"]) == {"person_id", "approved_skills"}
    assert _feed(reader, far["feed_topic"], person) == []
    assert _feed(reader, reader_only["feed_topic"], person) == []
    assert all(
        str(person) not in r.value.decode()
        for r in reader.records
        if r.topic in {far["feed_topic"], reader_only["feed_topic"]} and r.value
    )


async def test_a_no_show_reaches_only_the_partners_of_its_neighbourhood(
    gateway: Gateway, stack: Stack
) -> None:
    home, _ = random_place()
    scopes = {
        "read_streams": [BOOKINGS.name],
        "fields": {"visit.no_show": ["booking_id", "helper_id", "absent"]},
    }
    contact = await register(gateway.client, scopes=scopes, safeguarding_neighbourhoods=[home])
    reader_only = await register(gateway.client, scopes=scopes)
    missed = VisitNoShow(
        booking_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        helper_id=uuid.uuid4(),
        neighbour_id=uuid.uuid4(),
        neighbourhood=home,
        skill=Skill.SHOPPING,
        starts_at=datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
        hours=1,
        absent=Side.HELPER,
        reported_by=Side.NEIGHBOUR,
    )
    booking_id = str(missed.booking_id).encode()
    async with Reader(stack.bootstrap, contact["feed_topic"], reader_only["feed_topic"]) as reader:
        await gateway.publisher.publish(Envelope.wrap(missed, producer="booking"))
        record = await reader.wait_for(
            lambda r: r.topic == contact["feed_topic"] and booking_id in r.value,
            what="the no-show on the contact's feed",
        )
    assert json.loads(record.value)["data"]["helper_id"] == str(missed.helper_id)
    # Projected to every partner at once: the reader's share would have come with it.
    assert not [
        r for r in reader.records if r.topic == reader_only["feed_topic"] and booking_id in r.value
    ]
