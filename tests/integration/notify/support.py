"""Helpers the notify integration tests share: events to send, and what to expect."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from shared.contracts import Envelope
from shared.contracts.bookings import (
    BookingConfirmed,
)
from shared.contracts.skills import Skill
from shared.embedded.mail import subject
from shared.geo import neighbourhood_of
from tests.integration.notify.conftest import Mailbox
from tests.support import eventually


def confirmed(
    helper_id: uuid.UUID, neighbour_id: uuid.UUID, starts_at: datetime
) -> Envelope[BookingConfirmed]:
    return Envelope.wrap(
        BookingConfirmed(
            booking_id=uuid.uuid4(),
            request_id=uuid.uuid4(),
            offer_id=uuid.uuid4(),
            helper_id=helper_id,
            neighbour_id=neighbour_id,
            neighbourhood=neighbourhood_of(random.uniform(50, 58), random.uniform(-5, 1.5)),
            skill=Skill.GARDENING,
            starts_at=starts_at,
            hours=2,
        ),
        producer="test",
    )


def on_the_hour(days: float) -> datetime:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return start + timedelta(days=days)


async def one_each(mailbox: Mailbox, *addresses: str, subject_has: str = "") -> None:
    async def arrived() -> bool:
        return all(
            any(subject_has in subject(m) for m in mailbox.to(address)) for address in addresses
        )

    await eventually(arrived, what=f"an email {subject_has!r} to each of {len(addresses)}")
