"""What people write stays in booking: through booking's real API and the real broker, a check-in
with a note, a concern with a summary and its resolution's reason, a cancellation with a reason,
a welfare check with the helper's note and a failed vetting step with its reason each reach
their topic, and none of those texts is in any message on any topic. Operators still read the
concern's texts through booking's operator API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer

from shared.contracts import UndecodableEvent, decode, utc_now
from tests.integration.booking.conftest import OPERATOR_TOKEN, Booking
from tests.integration.booking.support import booked, future_hour, sign_up
from tests.support import eventually

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


class EveryTopic:
    """Reads every Kith topic on the broker from its beginning, keeping each raw message."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        self.raw: list[Any] = []
        self.seen: list[tuple[str, str, dict[str, Any]]] = []
        """``(type, topic, data)`` of every message that decodes."""

    async def __aenter__(self) -> EveryTopic:
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def _poll(self) -> None:
        # Topics are made as services start: subscribe afresh to every one there is now.
        topics = {name for name in await self._consumer.topics() if name.startswith("kith.")}
        if topics != self._consumer.subscription():
            self._consumer.subscribe(topics=sorted(topics))
        batch = await self._consumer.getmany(timeout_ms=100)
        for records in batch.values():
            for record in records:
                self.raw.append(record)
                try:
                    envelope = decode(record.value)
                except UndecodableEvent:
                    continue
                data = envelope.data.model_dump(mode="json")
                self.seen.append((envelope.type, record.topic, data))

    async def wait_for_all(self, wanted: dict[str, tuple[str, str, str]]) -> None:
        """Until, for each name, an event of that type whose ``field`` is ``value`` is read."""

        async def probe() -> bool:
            await self._poll()
            return all(
                any(kind == t and str(data.get(field)) == value for t, _, data in self.seen)
                for kind, field, value in wanted.values()
            )

        await eventually(probe, timeout_s=30, what=f"{sorted(wanted)} on their topics")


async def test_texts_people_write_reach_no_topic(booking: Booking) -> None:
    client, uow = booking.client, booking.runtime.uow
    run = uuid.uuid4().hex[:10]
    texts = {
        "note": f"she seemed lonely {run}",
        "summary": f"he asked for my bank card {run}",
        "resolution": f"spoke to both of them {run}",
        "cancel": f"my hip is bad again {run}",
        "welfare": f"rang twice, curtains drawn {run}",
        "vetting": f"a referee withdrew {run}",
    }
    _, neighbour = await sign_up(client, "Nell")
    helper_id, helper = await sign_up(client, "Hal")

    # A visit that happened, and the neighbour's check-in with a note.
    past = await booked(client, uow, neighbour, helper_id, helper, future_hour(days=1))
    for step in ("check-in", "check-out"):
        done = await client.post(f"/v1/bookings/{past}/{step}", headers=helper)
        assert done.status_code == 200, done.text
    checkin = await client.post(
        f"/v1/bookings/{past}/check-ins",
        headers=neighbour,
        json={"see_again": "yes", "as_agreed": "partly", "note": texts["note"]},
    )
    assert checkin.status_code == 201, checkin.text

    # A concern with a summary, resolved by an operator with a reason.
    raised = await client.post(
        "/v1/concerns",
        headers=neighbour,
        json={"about_id": helper_id, "booking_id": past, "summary": texts["summary"]},
    )
    assert raised.status_code == 201, raised.text
    concern_id = raised.json()["concern_id"]
    resolved = await client.post(
        f"/v1/operator/concerns/{concern_id}/resolve",
        headers=OPERATOR,
        json={"outcome": "reinstate", "reason": texts["resolution"]},
    )
    assert resolved.status_code == 200, resolved.text

    # A visit cancelled with a reason.
    later = await booked(client, uow, neighbour, helper_id, helper, future_hour(days=3))
    cancelled = await client.post(
        f"/v1/bookings/{later}/cancel", headers=neighbour, json={"reason": texts["cancel"]}
    )
    assert cancelled.status_code == 200, cancelled.text

    # A neighbour who did not answer the door, with the helper's note.
    due = await booked(client, uow, neighbour, helper_id, helper, future_hour(days=5))
    async with uow.begin() as repo:
        # Due an hour ago (moved back in the database: the API only books ahead).
        await repo.update_booking(uuid.UUID(due), starts_at=utc_now() - timedelta(hours=1))
    welfare = await client.post(
        f"/v1/bookings/{due}/no-show", headers=helper, json={"note": texts["welfare"]}
    )
    assert welfare.status_code == 200, welfare.text
    assert welfare.json()["absent"] == "neighbour"

    # A vetting step an operator failed, with a reason.
    vetted = await client.post(
        f"/v1/operator/people/{helper_id}/vetting-steps",
        headers=OPERATOR,
        json={"step": "references", "outcome": "failed", "reason": texts["vetting"]},
    )
    assert vetted.status_code == 201, vetted.text

    async with EveryTopic(booking.settings.require_bootstrap()) as topics:
        await topics.wait_for_all(
            {
                "check-in": ("checkin.submitted", "booking_id", past),
                "concern": ("concern.raised", "concern_id", concern_id),
                "resolution": ("concern.resolved", "concern_id", concern_id),
                "cancellation": ("booking.cancelled", "booking_id", later),
                "welfare": ("welfare.check_requested", "booking_id", due),
                "vetting": ("vetting.step_recorded", "person_id", helper_id),
            }
        )
        raw = topics.raw
        seen = topics.seen

    leaked = [
        (record.topic, text)
        for record in raw
        for text in texts.values()
        if text.encode() in (record.value or b"")
        or any(text.encode() in (value or b"") for _, value in record.headers or ())
    ]
    assert leaked == [], "a text people wrote travelled on a topic"
    # What the events say instead: whether there was a note.
    has_note = {
        kind: data["has_note"]
        for kind, _, data in seen
        if kind in {"checkin.submitted", "welfare.check_requested"}
        and data["booking_id"] in {past, due}
    }
    assert has_note == {"checkin.submitted": True, "welfare.check_requested": True}

    # The texts stay in booking, where operators read them through its API.
    listed = await client.get(
        "/v1/operator/concerns", headers=OPERATOR, params={"status": "resolved", "limit": 500}
    )
    assert listed.status_code == 200, listed.text
    mine = [c for c in listed.json()["items"] if c["concern_id"] == concern_id]
    assert [(c["summary"], c["reason"]) for c in mine] == [(texts["summary"], texts["resolution"])]
    person = await client.get(f"/v1/operator/people/{helper_id}", headers=OPERATOR)
    assert person.status_code == 200, person.text
    reasons = person.json()["vetting_reasons"]
    assert [(r["step"], r["outcome"], r["reason"]) for r in reasons] == [
        ("references", "failed", texts["vetting"])
    ]
    checks = await client.get("/v1/operator/welfare-checks", headers=OPERATOR)
    assert checks.status_code == 200, checks.text
    notes = [c["note"] for c in checks.json()["items"] if c["booking_id"] == due]
    assert notes == [texts["welfare"]]
    # And whoever wrote a text reads it back through booking: the helper their note.
    export = await client.get("/v1/me/export", headers=helper)
    assert export.status_code == 200, export.text
    visits = {b["booking_id"]: b for b in export.json()["bookings"]}
    assert visits[due]["no_show_note"] == texts["welfare"]
    theirs = await client.get("/v1/me/export", headers=neighbour)
    assert texts["welfare"] not in theirs.text, "the other side does not read the helper's note"
