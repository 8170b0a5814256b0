"""Operators see trust's standing of a person: suspension, approved skills, and counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts import Envelope
from shared.contracts.skills import Skill
from shared.contracts.trust import StandingChanged
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import sign_up
from tests.support import eventually

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def test_operators_see_counts_and_approvals_people_do_not(booking: Booking) -> None:
    helper_id, helper = await sign_up(booking.client, "Ada")
    until = datetime.now(UTC) + timedelta(days=300)
    standing = StandingChanged(
        person_id=uuid.UUID(helper_id),
        suspended=False,
        approved_skills={Skill.SHOPPING: until},
        late_cancellations=2,
        no_shows=1,
    )
    await booking.publisher.publish(Envelope.wrap(standing, producer="test"))

    async def seen() -> dict[str, Any] | None:
        response = await booking.client.get(f"/v1/operator/people/{helper_id}", headers=OPERATOR)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()["standing"]
        return found if found["no_shows"] == 1 else None

    shown = await eventually(seen, what="booking to apply trust's standing")
    assert shown["late_cancellations"] == 2
    assert set(shown["approved_skills"]) == {"shopping"}
    refused = await booking.client.get(f"/v1/operator/people/{helper_id}", headers=helper)
    assert refused.status_code == 403
