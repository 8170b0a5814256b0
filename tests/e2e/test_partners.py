"""Partners end to end, through `kith up`'s real processes: the example lift service runs as
its own process, refers someone and serves the lift it is offered; a council reads every
public stream; a safeguarding contact hears of a concern. Meanwhile visits are booked, made
and checked in privately, and every message each partner receives, on its feed and by
webhook, is scanned for what a partner must never see."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h3
import httpx
import pytest
from rich.console import Console

from kith.demo import run_demo
from kith.running import running_kith
from shared.contracts.registry import EVENTS_BY_TOPIC
from shared.contracts.topics import ALL_TOPICS
from shared.geo import neighbourhood_of
from tests.conftest import Stack
from tests.integration.partners.receiver import receiving
from tests.integration.partners.support import Reader
from tests.support import eventually

pytestmark = pytest.mark.e2e

#: Where the demo places everyone here (within ~0.5 km of it), inside the partner's ring.
CENTRE = (51.5450, -0.0553)
NEVER = {"address", "phone", "note", "see_again", "as_agreed"}
PRIVATE_TYPES = {
    cls.TYPE for topic, kinds in EVENTS_BY_TOPIC.items() if topic.private for cls in kinds
}
#: A concern's text: it stays in booking and reaches no partner, not even the safeguarding one.
CONCERN_SUMMARY = "Reported by a neighbour's family"
#: What a safeguarding contact may be told of a concern, and nothing more.
SAFEGUARDING_FIELDS = {
    "concern.raised": {"concern_id", "about_id", "raised_by_role"},
    "concern.resolved": {"concern_id", "about_id", "outcome"},
}


def _keys(value: Any) -> Iterator[str]:
    """Every key at any depth of a JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def _scan(message: dict[str, Any], *, safeguarding: bool) -> None:
    kind, data = message["type"], message["data"]
    keys = set(_keys(data))
    assert not keys & NEVER, (kind, keys & NEVER)
    assert not [k for k in keys if "address" in k or "phone" in k], (kind, keys)
    if kind in PRIVATE_TYPES:
        assert safeguarding, f"{kind} reached a partner that is no safeguarding contact"
        assert kind in SAFEGUARDING_FIELDS, f"private {kind} reached a partner"
        assert keys <= SAFEGUARDING_FIELDS[kind], (kind, keys)


async def _post(http: httpx.AsyncClient, path: str, token: str, body: Any) -> dict[str, Any]:
    response = await http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in {200, 201}, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_partners_take_part_and_receive_nothing_private(
    own_stack: Stack, tmp_path: Path
) -> None:
    # A broker of its own: matching then reads only this run, not a worker's whole history
    # (on the shared broker it once waited minutes for the group's partitions).
    stack = own_stack
    ring = sorted(h3.grid_disk(neighbourhood_of(*CENTRE), 1))
    public = [topic.name for topic in ALL_TOPICS if not topic.private]
    async with (
        receiving() as receiver,
        running_kith(
            bootstrap=stack.bootstrap,
            database_url=stack.database_url,
            state_dir=tmp_path,
            services=("booking", "matching", "trust", "partners"),
            env={
                "KITH_REGULAR_HOLD_S": "30",
                # The demo checks in a day ahead: open check-in early rather than move a clock.
                "KITH_CHECK_IN_OPENS_BEFORE_S": str(3 * 86400),
                "KITH_WEBHOOK_BACKOFF_BASE_S": "0.1",
                "KITH_WEBHOOK_BACKOFF_CAP_S": "1",
                # The receiver listens on loopback over http: allowed here explicitly.
                "KITH_WEBHOOK_ALLOW_HTTP": "true",
                "KITH_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            },
            ready_timeout_s=90,
        ) as kith,
        httpx.AsyncClient(base_url=kith.partners, timeout=10) as gateway,
        httpx.AsyncClient(base_url=kith.api, timeout=10) as booking,
    ):
        token = kith.operator_token
        council = await _post(
            gateway,
            "/v1/partners",
            token,
            {
                "name": "Council",
                "scopes": {"read_streams": public},
                "webhook_url": f"{receiver.url}/council",
            },
        )
        lifts = await _post(
            gateway,
            "/v1/partners",
            token,
            {
                "name": "Community Lifts",
                "service": {"skills": ["lift"], "neighbourhoods": ring},
                "scopes": {
                    "read_streams": ["kith.bookings.v1"],
                    "send": ["partner.person_referred"],
                },
                "safeguarding_neighbourhoods": ring,
                "webhook_url": f"{receiver.url}/lifts",
            },
        )
        service_helper = lifts["service"]["helper_id"]
        example_log = tmp_path / "lift-service.log"
        with example_log.open("wb") as log:
            example = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "examples.lift_service",
                "--refer",
                f"Edith@{CENTRE[0]},{CENTRE[1]}",
                env={
                    **os.environ,
                    "KITH_KAFKA_BOOTSTRAP": stack.bootstrap,
                    "KITH_PARTNER_ID": lifts["partner_id"],
                    "KITH_PARTNER_KEY": lifts["api_key"],
                    "KITH_PARTNERS_API": kith.partners,
                },
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        try:
            async with Reader(stack.bootstrap, council["feed_topic"], lifts["feed_topic"]) as feeds:
                demo = await run_demo(
                    kith.api,
                    operator_token=token,
                    kafka=stack.bootstrap,
                    console=Console(file=io.StringIO()),
                    timeout_s=120,
                    centre=CENTRE,
                )
                helper_id = demo.booking["helper_id"]
                await _post(
                    booking,
                    "/v1/operator/concerns",
                    token,
                    {"about_id": helper_id, "summary": CONCERN_SUMMARY},
                )

                def on(feed: str, kind: str, **data: str) -> Any:
                    def match(record: Any) -> bool:
                        if record.topic != feed or not record.value:
                            return False
                        message = json.loads(record.value)
                        return message["type"] == kind and all(
                            message["data"].get(k) == v for k, v in data.items()
                        )

                    return feeds.wait_for(match, what=f"{kind} {data} on {feed}")

                await on(lifts["feed_topic"], "booking.confirmed", helper_id=service_helper)
                await on(lifts["feed_topic"], "concern.raised", about_id=helper_id)
                await on(council["feed_topic"], "visit.completed")
                records = list(feeds.records)

            async def webhooks_caught_up() -> bool:
                bodies = {json.loads(r.body)["event_id"] for r in receiver.requests}
                return all(json.loads(r.value)["event_id"] in bodies for r in records)

            await eventually(webhooks_caught_up, timeout_s=30, what="every webhook delivered")
        finally:
            with contextlib.suppress(ProcessLookupError):
                example.send_signal(signal.SIGTERM)
            await asyncio.wait_for(example.wait(), timeout=20)

    log_text = example_log.read_text()
    assert "referred Edith" in log_text
    assert "accepted offer" in log_text
    assert example.returncode == 0, log_text

    by_feed: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_feed.setdefault(record.topic, []).append(json.loads(record.value))
    assert not [r for r in records if CONCERN_SUMMARY.encode() in (r.value or b"")]
    council_types = {m["type"] for m in by_feed[council["feed_topic"]]}
    assert {"help.requested", "booking.confirmed", "visit.completed"} <= council_types
    assert "concern.raised" not in council_types
    for message in by_feed[council["feed_topic"]]:
        _scan(message, safeguarding=False)
        assert "display_name" not in message["data"], "names are not in the default view"
    for message in by_feed[lifts["feed_topic"]]:
        _scan(message, safeguarding=True)
    assert receiver.requests, "webhooks were delivered"
    for received in receiver.requests:
        _scan(json.loads(received.body), safeguarding=received.path.endswith("/lifts"))
    assert not PRIVATE_TYPES & council_types
