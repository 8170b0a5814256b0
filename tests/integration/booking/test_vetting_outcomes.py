"""Operators record how a helper did at each vetting step: passed, failed or revoked with a
reason, and who recorded it; the step travels to trust as vetting.step_recorded v3, without the
reason, which booking keeps for operators."""

from __future__ import annotations

import uuid

from shared.contracts.topics import VETTING
from shared.contracts.trust import VettingOutcome, VettingStepRecorded
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import TopicReader, sign_up

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def test_a_revoked_step_travels_with_who_recorded_it_and_its_reason_stays_in_booking(
    booking: Booking,
) -> None:
    helper_id, _ = await sign_up(booking.client, "Vera")
    path = f"/v1/operator/people/{helper_id}/vetting-steps"
    passed = await booking.client.post(path, headers=OPERATOR, json={"step": "identity"})
    assert passed.status_code == 201, passed.text
    revoked = await booking.client.post(
        path,
        headers=OPERATOR,
        json={
            "step": "background_check",
            "outcome": "revoked",
            "reason": "A finding reported after the check",
            "recorded_by": "Sam Okoye",
        },
    )
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["outcome"] == "revoked"

    async with TopicReader(booking.settings.require_bootstrap(), VETTING.name) as reader:
        found = await reader.wait_for(
            lambda e: (
                isinstance(e.data, VettingStepRecorded) and str(e.data.person_id) == helper_id
            ),
            count=2,
        )
    by_step = {e.data.step.value: e for e in found if isinstance(e.data, VettingStepRecorded)}
    check = by_step["background_check"]
    assert check.version == 3
    assert isinstance(check.data, VettingStepRecorded)
    assert check.data.outcome is VettingOutcome.REVOKED
    assert check.data.recorded_by == "operator:Sam Okoye"
    assert "A finding reported" not in check.model_dump_json()
    async with booking.runtime.uow.read() as repo:
        kept = await repo.conn.fetchrow(
            "SELECT event_id, outcome, reason, recorded_by FROM vetting_reasons"
            " WHERE person_id = $1",
            uuid.UUID(helper_id),
        )
    assert kept is not None
    assert dict(kept) == {
        "event_id": check.event_id,
        "outcome": "revoked",
        "reason": "A finding reported after the check",
        "recorded_by": "operator:Sam Okoye",
    }
    identity = by_step["identity"].data
    assert isinstance(identity, VettingStepRecorded)
    assert (identity.outcome, identity.recorded_by) == (
        VettingOutcome.PASSED,
        "operator:bootstrap",
    )


async def test_a_failed_or_revoked_step_needs_a_reason(booking: Booking) -> None:
    helper_id, _ = await sign_up(booking.client, "Wilf")
    path = f"/v1/operator/people/{helper_id}/vetting-steps"
    for outcome in ("failed", "revoked"):
        refused = await booking.client.post(
            path, headers=OPERATOR, json={"step": "interview", "outcome": outcome}
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert any(error["field"] == "reason" for error in refused.json()["errors"])
