"""Helpers for booking's integration tests: people, and reading real topics."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from shared.contracts import Envelope, Payload, UndecodableEvent, decode
from tests.support import eventually


async def sign_up(
    client: httpx.AsyncClient, name: str = "Ada", **overrides: Any
) -> tuple[str, dict[str, str]]:
    """A new person at a random place near London; their id and auth headers."""
    body: dict[str, Any] = {
        "display_name": name,
        "email": f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.org",
        "password": "a long enough password",
        "home": {
            "lat": random.uniform(51.3, 51.7),
            "lng": random.uniform(-0.4, 0.2),
            "address": f"{random.randint(1, 200)} Acacia Avenue",
            "phone": "+44 20 7946 0000",
        },
        "time_zone": "Europe/London",
        "skills": ["shopping", "company"],
        "travel_radius_km": 3,
        "weekly_hour_cap": 6,
        "languages": ["en"],
        **overrides,
    }
    response = await client.post("/v1/people", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["person_id"], {"Authorization": f"Bearer {data['token']}"}


def future_hour(days: int = 1, hour_offset: int = 0) -> datetime:
    """A whole UTC hour some days from now."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return base + timedelta(days=days, hours=hour_offset)


class TopicReader:
    """Reads a real topic from the beginning, without a group, and keeps what it decodes."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        self.seen: list[Envelope[Payload]] = []
        self.raw: list[Any] = []

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def _poll(self) -> None:
        batch = await self._consumer.getmany(timeout_ms=100)
        for records in batch.values():
            for record in records:
                self.raw.append(record)
                try:
                    self.seen.append(decode(record.value))
                except UndecodableEvent:
                    continue

    async def wait_for(
        self, match: Callable[[Envelope[Payload]], bool], count: int = 1, what: str = "event"
    ) -> list[Envelope[Payload]]:
        """Poll until ``count`` events match; return them."""

        async def probe() -> list[Envelope[Payload]] | None:
            await self._poll()
            found = [envelope for envelope in self.seen if match(envelope)]
            return found if len(found) >= count else None

        return await eventually(probe, timeout_s=20, what=what)

    async def wait_for_raw(self, match: Callable[[Any], bool], what: str) -> Any:
        """Poll until a raw record matches; return it."""

        async def probe() -> Any:
            await self._poll()
            return next((record for record in self.raw if match(record)), None)

        return await eventually(probe, timeout_s=20, what=what)
