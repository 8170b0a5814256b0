"""Partners, notify and the ledger know an operator through booking, and put each of their
actions on booking's one audit trail under the operator's name."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI

from shared.operator_access import OperatorAccess, OperatorCalling, operator_dependency
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import sign_up, signed_in_operator

BOOTSTRAP = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def _access(booking: Booking, *, development: bool) -> OperatorAccess:
    settings = booking.settings.model_copy(update={"development": development})
    transport = httpx.ASGITransport(app=booking.runtime.app())
    return OperatorAccess(settings, transport=transport, service_key=OPERATOR_TOKEN)


@pytest.fixture
async def production(booking: Booking) -> AsyncIterator[OperatorAccess]:
    access = _access(booking, development=False)
    try:
        yield access
    finally:
        await access.close()


async def _entries(booking: Booking, action: str) -> list[dict[str, object]]:
    found = await booking.client.get(
        "/v1/operator/audit", headers=BOOTSTRAP, params={"action": action}
    )
    assert found.status_code == 200, found.text
    items: list[dict[str, object]] = found.json()["items"]
    return items


async def test_an_operator_is_known_by_name_and_others_are_not(
    booking: Booking, production: OperatorAccess
) -> None:
    headers, _ = await signed_in_operator(booking.client, BOOTSTRAP, "Ana Costa")
    token = headers["Authorization"].removeprefix("Bearer ")
    who = await production.identify(token)
    assert who is not None
    assert (who.name, who.roles, who.bootstrap) == ("Ana Costa", frozenset({"coordinator"}), False)
    # A neighbour's own session is no operator's; nor, outside development, the services' key.
    _, neighbour = await sign_up(booking.client, "Bea")
    assert await production.identify(neighbour["Authorization"].removeprefix("Bearer ")) is None
    assert await production.identify(OPERATOR_TOKEN) is None
    development = _access(booking, development=True)
    try:
        found = await development.identify(OPERATOR_TOKEN)
        assert found is not None
        assert found.bootstrap
    finally:
        await development.close()


async def test_an_action_elsewhere_is_on_the_trail_under_the_operators_name_before_it_runs(
    booking: Booking, production: OperatorAccess
) -> None:
    headers, account = await signed_in_operator(booking.client, BOOTSTRAP, "Dev Patel")
    done: list[str] = []
    app = FastAPI()
    acting = Depends(operator_dependency("ledger", lambda _: production))

    @app.post("/v1/operator/ledger/pot-requests/{request_id}")
    async def decide_pot_request(
        request_id: str, who: OperatorCalling | None = acting
    ) -> dict[str, str]:
        # By now the entry is written: an action never runs without it.
        entries = await _entries(booking, "ledger.decide_pot_request")
        assert [e["subject_id"] for e in entries][-1] == request_id
        done.append(request_id)
        return {"by": who.name if who else ""}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ledger.test"
    ) as ledger:
        answer = await ledger.post(
            "/v1/operator/ledger/pot-requests/r-17",
            headers={**headers, "X-Kith-Reason": "the neighbour's allowance is used up"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"by": "Dev Patel"}
        # Booking refuses the services' key outside development: no entry, no action.
        refused = await ledger.post("/v1/operator/ledger/pot-requests/r-18", headers=BOOTSTRAP)
        assert refused.status_code == 403
    assert done == ["r-17"]
    [entry] = [e for e in await _entries(booking, "ledger") if e["subject_id"] == "r-17"]
    assert entry["operator"] == "Dev Patel"
    assert entry["operator_id"] == account["operator_id"]
    assert entry["subject_kind"] == "request"
    assert entry["reason"] == "the neighbour's allowance is used up"


async def test_booking_refuses_an_entry_that_names_no_service(booking: Booking) -> None:
    headers, _ = await signed_in_operator(booking.client, BOOTSTRAP, "Sam Lee")
    for action in ("booking.cancel", "ledger", "ledger.Drop Table"):
        refused = await booking.client.post(
            "/v1/operator/audit/entries", headers=headers, json={"action": action}
        )
        assert refused.status_code == 422, (action, refused.text)
