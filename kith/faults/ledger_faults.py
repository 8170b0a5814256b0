"""``ledger_kill`` and ``ledger_replay``: the ledger posts each completed visit exactly once,
and stays balanced, through crashes and a replay of its whole input.

The visits' completions are published on ``kith.bookings.v1`` as booking publishes them
(``visit.completed``), the ledger's only input: the ledger is what is under test, so the
scenario does not walk thousands of visits through booking's API first. Some are sent
twice (a redelivery) and some again under a new event id (a republished visit).

* ``ledger_kill``: while the visits go out, the ledger is SIGKILLed at random moments and
  started again at once.
* ``ledger_replay``: once everything is posted, the ledger's consumer group is reset to the
  start of its topic and the ledger reads it all again.

Checked in the ledger's own database: one visit posting per visit (a missing one is lost, a
second one a duplicate effect), each person's time and money balances equal to what their
visits should have made them, and every unit's entries summing to zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from kith.client import until
from kith.faults.platform import Platform
from kith.faults.processes import ServiceProcess
from kith.faults.result import ScenarioResult
from kith.faults.world import places
from shared import clock
from shared.contracts import Envelope
from shared.contracts.bookings import VisitCompleted
from shared.contracts.skills import Skill
from shared.contracts.topics import BOOKINGS
from shared.embedded import free_port
from shared.messaging import Publisher
from shared.messaging.connection import KafkaConnection

#: The paid community's price of an hour of shopping, in pence.
_RATE = 1500
_BATCH = 50


@dataclass(frozen=True)
class LedgerFaultOptions:
    """Visits completed, kills of the ledger, the RNG's seed."""

    visits: int = 2000
    kills: int = 5
    people: int = 40
    seed: int = 7


@dataclass
class _Expected:
    visits: dict[uuid.UUID, Envelope[VisitCompleted]]
    #: Account -> (unit, balance) the visits should leave.
    balances: dict[str, tuple[str, int]]


async def start_ledger(running: Platform) -> tuple[ServiceProcess, str]:
    """The ledger as a process of its own on ``running``, and its API's address."""
    port = free_port()
    process = running.add("ledger", env={"KITH_LEDGER_PORT": str(port)})
    await running.start_all(process)
    return process, f"http://127.0.0.1:{port}"


def _visits(options: LedgerFaultOptions, paid_cell: str, cells: list[str]) -> _Expected:
    rng = random.Random(options.seed)
    people = [uuid.uuid4() for _ in range(options.people)]
    start = clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    visits: dict[uuid.UUID, Envelope[VisitCompleted]] = {}
    balances: dict[str, list[Any]] = defaultdict(lambda: ["hour", 0])
    for _ in range(options.visits):
        helper, neighbour = rng.sample(people, 2)
        cell, hours = rng.choice(cells), rng.randint(1, 3)
        event = Envelope.wrap(
            VisitCompleted(
                booking_id=uuid.uuid4(),
                request_id=uuid.uuid4(),
                helper_id=helper,
                neighbour_id=neighbour,
                neighbourhood=cell,
                skill=Skill.SHOPPING,
                starts_at=start,
                hours=hours,
            ),
            producer="kith-faults",
        )
        visits[event.data.booking_id] = event
        if cell == paid_cell:
            unit, kind, amount = "GBP", "money", hours * _RATE
        else:
            unit, kind, amount = "hour", "time", hours * 60
        for person, sign in ((helper, 1), (neighbour, -1)):
            entry = balances[f"person:{person}:{kind}"]
            entry[0] = unit
            entry[1] += sign * amount
    return _Expected(visits, {account: (u, b) for account, (u, b) in balances.items()})


def _sent_twice(
    events: list[Envelope[VisitCompleted]], rng: random.Random
) -> list[Envelope[VisitCompleted]]:
    """The events as the broker will hold them: some redelivered as they were, some
    republished under a new event id."""
    out: list[Envelope[VisitCompleted]] = []
    for event in events:
        out.append(event)
        roll = rng.random()
        if roll < 0.05:
            out.append(event)
        elif roll < 0.07:
            out.append(Envelope.wrap(event.data, producer="kith-faults"))
    return out


async def _configure(api: str, token: str, paid_cell: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.put(
            f"{api}/v1/operator/ledger/communities/paid-street",
            headers={"Authorization": f"Bearer {token}"},
            json={"modes": ["paid"], "cells": [paid_cell], "rates": {"shopping": _RATE}},
        )
        response.raise_for_status()


async def _check(url: str, expected: _Expected) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT booking_id, count(*) AS n FROM postings WHERE kind = 'visit'"
            " AND booking_id = ANY($1) GROUP BY 1",
            list(expected.visits),
        )
        counts = {row["booking_id"]: row["n"] for row in rows}
        balances = {
            row["account"]: (row["unit"], int(row["total"]))
            for row in await conn.fetch(
                "SELECT account, unit, sum(amount) AS total FROM entries"
                " WHERE account = ANY($1) GROUP BY 1, 2",
                list(expected.balances),
            )
        }
        units = {
            row["unit"]: int(row["total"])
            for row in await conn.fetch("SELECT unit, sum(amount) AS total FROM entries GROUP BY 1")
        }
        postings = await conn.fetchval("SELECT count(*) FROM postings")
        entries = await conn.fetchval("SELECT count(*) FROM entries")
    finally:
        await conn.close()
    lost = [str(b) for b in expected.visits if b not in counts]
    duplicated = [str(b) for b, n in counts.items() if n > 1]
    wrong = [
        account
        for account, value in expected.balances.items()
        if balances.get(account, (value[0], 0)) != value
    ]
    return {
        "lost": lost,
        "duplicated": duplicated,
        "wrong_balances": wrong,
        "trial_balance": units,
        "balanced": all(total == 0 for total in units.values()),
        "postings": int(postings),
        "entries": int(entries),
    }


def _ledger_url(running: Platform) -> str:
    return running.settings().database_for("ledger")


async def _wait_posted(url: str, expected: _Expected, timeout_s: float) -> dict[str, Any]:
    last: dict[str, Any] = {}

    async def probe() -> bool:
        nonlocal last
        last = await _check(url, expected)
        return not last["lost"]

    # A checker reports what it saw rather than raise.
    with contextlib.suppress(Exception):
        await until(probe, timeout_s, "every visit posted", every_s=0.5)
    return last


def _result(
    checks: dict[str, Any], checked: int, recovery_s: float, **details: Any
) -> ScenarioResult:
    return ScenarioResult(
        checked=checked,
        lost=len(checks["lost"]) + len(checks["wrong_balances"]) + (0 if checks["balanced"] else 1),
        duplicate_effects=len(checks["duplicated"]),
        recovery_s=recovery_s,
        details={
            **details,
            "lost": checks["lost"][:20],
            "duplicated": checks["duplicated"][:20],
            "wrong_balances": checks["wrong_balances"][:20],
            "trial_balance": checks["trial_balance"],
            "balanced": checks["balanced"],
            "postings": checks["postings"],
        },
    )


async def run_ledger_kill(
    running: Platform, options: LedgerFaultOptions, *, timeout_s: float = 300
) -> ScenarioResult:
    """Publish ``options.visits`` completed visits while the ledger is killed ``options.kills``
    times; check each was posted exactly once and the ledger balances."""
    rng = random.Random(options.seed)
    cells = [place.neighbourhood for place in places(8)]
    ledger, api = await start_ledger(running)
    await _configure(api, running.operator_token, cells[0])
    expected = _visits(options, cells[0], cells)
    wire = _sent_twice(list(expected.visits.values()), rng)
    batches = [wire[i : i + _BATCH] for i in range(0, len(wire), _BATCH)]
    kill_at = set(rng.sample(range(1, max(len(batches), 2)), min(options.kills, len(batches) - 1)))
    kills: list[dict[str, Any]] = []
    publisher = Publisher(running.settings(), client_id="kith-faults-ledger")
    await publisher.start()
    restarted_at = time.monotonic()
    try:
        for index, batch in enumerate(batches):
            if index in kill_at:
                # A few milliseconds in, so that the kill lands mid-batch, mid-transaction.
                await asyncio.sleep(rng.uniform(0.0, 0.05))
                await ledger.kill()
                kills.append({"after_events": index * _BATCH})
                await ledger.restart()
                restarted_at = time.monotonic()
            await publisher.publish_many(batch)
        await ledger.wait_ready()
    finally:
        await publisher.stop()
    checks = await _wait_posted(_ledger_url(running), expected, timeout_s)
    return _result(
        checks,
        len(expected.visits),
        time.monotonic() - restarted_at,
        kills=kills,
        events_sent=len(wire),
    )


async def reset_group(running: Platform, group_id: str = "kith-ledger") -> int:
    """Commit offset 0 on every partition of the bookings stream for ``group_id`` (its
    members stopped): the next member reads the whole stream again. Returns the partitions."""
    consumer = AIOKafkaConsumer(
        BOOKINGS.name,
        **KafkaConnection.of(running.settings()).aiokafka(),
        group_id=group_id,
        enable_auto_commit=False,
        session_timeout_ms=6000,
        rebalance_timeout_ms=3000,
    )
    await consumer.start()
    try:

        async def assigned() -> bool:
            await consumer.getmany(timeout_ms=100, max_records=1)
            return len(consumer.assignment()) == BOOKINGS.partitions

        await until(assigned, 60, "the reset to own every partition", every_s=0.0)
        partitions = [TopicPartition(BOOKINGS.name, n) for n in range(BOOKINGS.partitions)]
        await consumer.commit(dict.fromkeys(partitions, 0))
        committed = [await consumer.committed(partition) for partition in partitions]
        if any(offset != 0 for offset in committed):
            raise RuntimeError(f"the reset did not take: {committed}")
        return len(partitions)
    finally:
        await consumer.stop()


async def run_ledger_replay(
    running: Platform, options: LedgerFaultOptions, *, timeout_s: float = 300
) -> ScenarioResult:
    """Post ``options.visits`` visits (or take what the platform's ledger already posted),
    reset the ledger's consumer group to the start of its topic, and check that reading it
    all again posted nothing twice."""
    cells = [place.neighbourhood for place in places(8)]
    url = _ledger_url(running)
    ledger = next((p for p in running.processes if p.service == "ledger"), None)
    if ledger is None:
        ledger, api = await start_ledger(running)
        await _configure(api, running.operator_token, cells[0])
        expected = _visits(options, cells[0], cells)
        publisher = Publisher(running.settings(), client_id="kith-faults-ledger")
        await publisher.start()
        try:
            await publisher.publish_many(list(expected.visits.values()))
        finally:
            await publisher.stop()
        before = await _wait_posted(url, expected, timeout_s)
    else:
        expected = _Expected({}, {})
        before = await _check(url, expected)
    # Caught up first (the last visits committed), so that the reset is all that replays.
    await ledger.stop()
    partitions = await reset_group(running)
    ledger.start()
    await ledger.wait_ready()
    restarted = time.monotonic()
    # One fence per cell (every partition): once each is posted, the ledger has read all
    # that was before it again.
    fences = _Expected(
        {
            event.data.booking_id: event
            for event in (
                Envelope.wrap(
                    VisitCompleted(
                        booking_id=uuid.uuid4(),
                        request_id=uuid.uuid4(),
                        helper_id=uuid.uuid4(),
                        neighbour_id=uuid.uuid4(),
                        neighbourhood=cell,
                        skill=Skill.SHOPPING,
                        starts_at=clock.now().replace(minute=0, second=0, microsecond=0),
                        hours=1,
                    ),
                    producer="kith-faults",
                )
                for cell in cells
            )
        },
        {},
    )
    publisher = Publisher(running.settings(), client_id="kith-faults-ledger")
    await publisher.start()
    try:
        await publisher.publish_many(list(fences.visits.values()))
    finally:
        await publisher.stop()
    await _wait_posted(url, fences, timeout_s)
    after = await _check(url, expected)
    extra_postings = after["postings"] - before["postings"] - len(fences.visits)
    checks = {
        **after,
        "duplicated": after["duplicated"] + ["(posting)"] * max(extra_postings, 0),
    }
    return _result(
        checks,
        before["postings"],
        time.monotonic() - restarted,
        partitions_reset=partitions,
        postings_before=before["postings"],
        entries_before=before["entries"],
        entries_after=after["entries"] - 2 * len(fences.visits),
    )
