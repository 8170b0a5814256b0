"""Concerns through the API as any booking use case: a retried POST raises one concern, the
operators' list comes a page at a time, and a concern is resolved once."""

from __future__ import annotations

import uuid

from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import booked, future_hour, sign_up

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


async def test_retried_concerns_are_raised_once_listed_in_pages_and_resolved_once(
    booking: Booking,
) -> None:
    _, neighbour = await sign_up(booking.client, "Nora")
    helper_id, helper = await sign_up(booking.client, "Hugh")
    uow = booking.runtime.uow
    await booked(booking.client, uow, neighbour, helper_id, helper, future_hour(2))

    raised: list[str] = []
    for path, headers in (("/v1/concerns", neighbour), ("/v1/operator/concerns", OPERATOR)):
        body = {"about_id": helper_id, "summary": f"worried {uuid.uuid4().hex[:6]}"}
        keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        first = await booking.client.post(path, headers=keyed, json=body)
        again = await booking.client.post(path, headers=keyed, json=body)
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == first.json()
        other_body = await booking.client.post(path, headers=keyed, json={**body, "summary": "x"})
        assert other_body.status_code == 422, "a key is for one request body"
        raised.append(first.json()["concern_id"])
    async with uow.read() as repo:
        stored = await repo.conn.fetchval(
            "SELECT count(*) FROM concerns WHERE about_id = $1", uuid.UUID(helper_id)
        )
        sent = await repo.conn.fetchval(
            "SELECT count(*) FROM outbox WHERE type = 'concern.raised'"
            " AND convert_from(envelope, 'UTF8')::jsonb -> 'data' ->> 'about_id' = $1",
            helper_id,
        )
    assert stored == 2
    assert sent == 2

    # One page at a time, every open concern exactly once.
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = await booking.client.get(
            "/v1/operator/concerns", headers=OPERATOR, params={"limit": 1, "offset": offset}
        )
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 1
        seen += [str(item["concern_id"]) for item in page.json()["items"]]
        offset = page.json()["next_offset"]
    assert len(seen) == len(set(seen))
    assert set(raised) <= set(seen)

    path = f"/v1/operator/concerns/{raised[0]}/resolve"
    decision = {"outcome": "reinstate", "reason": "a misunderstanding, talked through"}
    resolved = await booking.client.post(path, headers=OPERATOR, json=decision)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    twice = await booking.client.post(path, headers=OPERATOR, json=decision)
    assert twice.status_code == 409
    assert twice.headers["content-type"].startswith("application/problem+json")
    unknown = await booking.client.post(
        f"/v1/operator/concerns/{uuid.uuid4()}/resolve", headers=OPERATOR, json=decision
    )
    assert unknown.status_code == 404
