"""``kith tail`` over the real broker: filters, readable lines, JSON lines, junk shown safely."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import uuid
from typing import Any

import pytest
import typer
from aiokafka import AIOKafkaProducer

from kith.tail import as_json, as_text, follow, topics_for
from shared.contracts import Envelope
from shared.contracts.requests import HelpRequestCancelled
from shared.contracts.topics import CHECKINS, REQUESTS
from shared.messaging import Publisher
from shared.observed import EventFilter, Observed
from tests.conftest import Stack
from tests.integration.ops.support import help_requested, somewhere
from tests.support import eventually


@pytest.fixture(scope="module")
async def publisher(stack: Stack) -> Any:
    publisher = Publisher(stack.settings(), client_id="test-tail")
    await publisher.start()
    yield publisher
    await publisher.stop()


def test_streams_resolve_to_topics_and_private_ones_only_when_named() -> None:
    default = topics_for([])
    assert REQUESTS.name in default
    assert CHECKINS.name not in default, "private streams are followed only when named"
    assert topics_for(["checkins", "kith.requests.v1"]) == [CHECKINS.name, REQUESTS.name]
    with pytest.raises(typer.BadParameter, match="no stream 'bogus'"):
        topics_for(["bogus"])


async def test_tail_follows_new_events_in_one_cell_and_shows_junk_as_junk(
    stack: Stack, publisher: Publisher
) -> None:
    cell, neighbourhood = somewhere()
    seen: list[Observed] = []
    junk: list[Observed] = []
    marker = uuid.uuid4().hex.encode()
    tails = [
        asyncio.create_task(
            follow(stack.bootstrap, topics_for([]), EventFilter.of(place=cell), seen.append)
        ),
        asyncio.create_task(
            follow(
                stack.bootstrap, [REQUESTS.name], EventFilter.of(types=["undecodable"]), junk.append
            )
        ),
    ]
    raw = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=False)
    await raw.start()
    try:
        pings: set[uuid.UUID] = set()

        async def tails_started() -> bool:
            # The tails start at the end: ping until both surely read past their start.
            ping = help_requested(cell, neighbourhood)
            pings.add(ping.event_id)
            await publisher.publish(ping)
            await raw.send_and_wait(REQUESTS.name, b"\x00junk", key=marker)
            return bool(seen) and any(j.key == marker for j in junk)

        await eventually(tails_started, interval_s=0.5, what="the tails started")
        first, second = help_requested(cell, neighbourhood), help_requested(cell, neighbourhood)
        await publisher.publish_many([help_requested(*somewhere()), first, second])

        async def both_seen() -> list[uuid.UUID] | None:
            ids = [s.envelope.event_id for s in seen if s.envelope is not None]
            return ids if second.event_id in ids else None

        ids = await eventually(both_seen, what="the two events in the cell")
    finally:
        for task in tails:
            task.cancel()
        for task in tails:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await raw.stop()

    assert set(ids) <= pings | {first.event_id, second.event_id}, "only this cell's events"
    assert ids.index(first.event_id) < ids.index(second.event_id)
    line = as_text(next(s for s in seen if s.envelope and s.envelope.event_id == first.event_id))
    assert "requests" in line.plain
    assert "help.requested" in line.plain
    assert f"req:{str(first.data.request_id)[:8]}" in line.plain
    bad = next(j for j in junk if j.key == marker)
    assert bad.type == "undecodable"
    assert "undecodable" in as_text(bad).plain
    assert json.loads(as_json(bad))["problem"].startswith("not JSON")


async def test_tail_command_prints_json_lines_from_the_beginning_until_ctrl_c(
    stack: Stack, publisher: Publisher
) -> None:
    _, neighbourhood = somewhere()
    events = [
        Envelope.wrap(
            HelpRequestCancelled(request_id=uuid.uuid4(), neighbourhood=neighbourhood),
            producer="test",
        )
        for _ in range(2)
    ]
    await publisher.publish_many(events)
    counted: list[Observed] = []
    only_here = EventFilter.of(place=neighbourhood)
    emitted = await follow(
        stack.bootstrap, [REQUESTS.name], only_here, counted.append, from_beginning=True, limit=1
    )
    assert emitted == len(counted) == 1, "--max stops after that many events"

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kith.cli",
        "tail",
        "requests",
        "--type",
        "help.request_*",
        "--cell",
        neighbourhood,
        "--from-beginning",
        "--json",
        env={**os.environ, "KITH_KAFKA_BOOTSTRAP": stack.bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines = [
            json.loads(await asyncio.wait_for(process.stdout.readline(), timeout=30))
            for _ in events
        ]
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"Ctrl-C is how tail ends, not an error: {err.decode()}"
    assert [line["envelope"]["event_id"] for line in lines] == [str(e.event_id) for e in events]
    assert {line["topic"] for line in lines} == {REQUESTS.name}
    assert {line["key"] for line in lines} == {neighbourhood}
    assert all(isinstance(line["offset"], int) for line in lines)
    assert lines[0]["envelope"]["data"]["neighbourhood"] == neighbourhood
