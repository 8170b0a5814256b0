"""Helpers the notify integration tests share: events to send, and what to expect."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from kith.seeding import confirmed_visit
from shared.contracts import Envelope
from shared.contracts.bookings import (
    BookingConfirmed,
)
from shared.contracts.skills import Skill
from shared.embedded.mail import subject
from tests.integration.notify.conftest import Mailbox
from tests.support import eventually


def confirmed(
    helper_id: uuid.UUID, neighbour_id: uuid.UUID, starts_at: datetime
) -> Envelope[BookingConfirmed]:
    """Two hours of gardening booked between two people, somewhere in Britain."""
    home = (random.uniform(50, 58), random.uniform(-5, 1.5))
    return confirmed_visit(
        helper_id, neighbour_id, home, starts_at, producer="test", skill=Skill.GARDENING, hours=2
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


async def emails_each(mailbox: Mailbox, count: int, *addresses: str) -> None:
    """Wait until each address has had ``count`` emails (whatever their subjects)."""

    async def arrived() -> bool:
        return all(len(mailbox.to(address)) >= count for address in addresses)

    await eventually(arrived, what=f"{count} emails to each of {len(addresses)}")
