"""Helpers for the gateway's tests: registering partners, and reading real topics."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka.structs import ConsumerRecord

from shared.contracts import Envelope, Payload, UndecodableEvent, decode
from shared.contracts.partners import Consent, ConsentMethod, PersonReferred
from shared.contracts.requests import HelpRequested
from shared.contracts.skills import Skill
from shared.geo import cell_of, neighbourhood_of_cell
from shared.messaging.reader import StreamReader
from tests.integration.partners.conftest import OPERATOR
from tests.support import eventually


def random_place() -> tuple[str, str]:
    """A neighbourhood and street cell no other test uses (so keys and partitions vary)."""
    cell = cell_of(random.uniform(50.0, 58.0), random.uniform(-5.0, 1.5))
    return neighbourhood_of_cell(cell), cell


def future_hour(days: int = 2) -> datetime:
    """A whole UTC hour some days from now."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days)


async def register(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    """Register a partner as an operator; the answer (with its key and secret)."""
    response = await client.post(
        "/v1/partners", json={"name": f"Partner {uuid.uuid4().hex[:6]}", **body}, headers=OPERATOR
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def bearer(registration: dict[str, Any]) -> dict[str, str]:
    """The partner's own authorisation header."""
    return {"Authorization": f"Bearer {registration['api_key']}"}


def referral(partner_id: str | uuid.UUID, **overrides: Any) -> PersonReferred:
    """A valid referral by ``partner_id`` of someone at a random place."""
    neighbourhood, cell = random_place()
    fields: dict[str, Any] = {
        "referral_id": uuid.uuid4(),
        "partner_id": uuid.UUID(str(partner_id)),
        "partner_reference": f"GP-{uuid.uuid4().hex[:6]}",
        "first_name": "Edith",
        "neighbourhood": neighbourhood,
        "cell": cell,
        "skill": Skill.SHOPPING,
        "starts_at": future_hour(),
        "hours": 1,
        "consent": Consent(
            given_at=datetime.now(UTC) - timedelta(hours=1),
            method=ConsentMethod.WRITTEN,
            recorded_by="Dr A. Shah",
        ),
        **overrides,
    }
    return PersonReferred(**fields)


class Reader:
    """Reads real topics from the beginning, without a group, and keeps every record."""

    def __init__(self, bootstrap: str, *topics: str) -> None:
        self._reader = StreamReader(bootstrap, topics, from_beginning=True, service="tests")
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Reader:
        await self._reader.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._reader.stop()

    async def _read(self) -> None:
        while True:
            self.records.extend(await self._reader.read_records(timeout_ms=100))

    def events(self, topic: str | None = None) -> list[Envelope[Payload]]:
        """Every readable Kith event (optionally on one topic), in arrival order."""
        found = []
        for record in self.records:
            if topic is None or record.topic == topic:
                with contextlib.suppress(UndecodableEvent):
                    found.append(decode(record.value))
        return found

    async def wait_for(
        self, match: Callable[[ConsumerRecord[bytes, bytes]], bool], what: str
    ) -> ConsumerRecord[bytes, bytes]:
        """The first record that matches, once it has arrived."""

        async def probe() -> ConsumerRecord[bytes, bytes] | None:
            return next((r for r in self.records if match(r)), None)

        return await eventually(probe, what=what)


def help_requested(neighbourhood: str, cell: str) -> HelpRequested:
    return HelpRequested(
        request_id=uuid.uuid4(),
        series_id=uuid.uuid4(),
        occurrence=1,
        occurrences=1,
        neighbour_id=uuid.uuid4(),
        neighbourhood=neighbourhood,
        cell=cell,
        skill=Skill.LIFT,
        starts_at=future_hour(),
        hours=1,
    )
