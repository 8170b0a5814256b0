"""``notify_kill``: notify SIGKILLed while a thousand notices are due; every notice is sent,
and each once.

Booking and notify run as processes of their own, sending through the development mail
server (aiosmtpd, in this process). ``booking.confirmed`` events between two people are
published at once (two notices each, one to either side), so that every notice is due while
notify is killed at seeded moments as the emails arrive and started again at once.

Checked at the mail server, by Message-ID (the same on every try of one notice): a notice
whose email never arrived is lost; an email that arrived twice is a duplicate effect.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from kith import seeding
from kith.client import ApiError, until
from kith.faults.platform import Platform
from kith.faults.result import ScenarioResult
from services.notify.domain.notices import Channel, Kind, Notice
from services.notify.service_layer.handlers import message_id
from shared import clock
from shared.embedded import free_port
from shared.embedded.mail import DevMailServer
from shared.messaging import Publisher

_HOME = (51.5, -0.1)


@dataclass(frozen=True)
class NotifyKillOptions:
    """Notices due, kills of notify, the RNG's seed, and how long a sender's lease lasts
    (the wait before the notices a killed process held are sent by the new one)."""

    notices: int = 1000
    kills: int = 3
    seed: int = 7
    lease_s: float = 60.0
    timeout_s: float = 300.0


class Arrivals:
    """How often each Message-ID arrived at the development mail server's folder.

    Each file is read once, however often it is asked: the scenario looks many times a
    second, and must not take the CPU the notify process under test needs.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._read: set[str] = set()
        self.counts: Counter[str] = Counter()

    def refresh(self) -> Counter[str]:
        for path in self._folder.glob("*.eml"):
            if path.name in self._read:
                continue
            self._read.add(path.name)
            with path.open("rb") as file:
                head = file.read(4096).decode(errors="replace")
            for line in head.splitlines():
                if line.lower().startswith("message-id:"):
                    self.counts[line.split(":", 1)[1].strip()] += 1
                    break
        return self.counts


async def run_notify_kill(running: Platform, options: NotifyKillOptions) -> ScenarioResult:
    """Make ``options.notices`` notices due and kill notify ``options.kills`` times while
    they are sent; count what arrived at the mail server."""
    rng = random.Random(options.seed)
    mail = DevMailServer(running.folder / "mail", host="127.0.0.1")
    mail.start()
    try:
        booking = running.add("booking", http=True)
        notify = running.add(
            "notify",
            env={
                "KITH_SMTP_HOST": mail.host,
                "KITH_SMTP_PORT": str(mail.smtp_port),
                "KITH_BOOKING_URL": booking.api,
                "KITH_NOTIFY_PORT": str(free_port()),
                "KITH_NOTIFY_LEASE_S": str(options.lease_s),
            },
        )
        await running.start_all(booking, notify)
        expected = await _publish(running, booking.api, options.notices)

        arrivals = Arrivals(mail.folder)

        def arrived() -> int:
            return len(arrivals.refresh().keys() & expected)

        kills: list[dict[str, Any]] = []
        restarted_at = time.monotonic()
        # Kills spread over the sending, each at a seeded point of it.
        points = sorted(rng.uniform(0.05, 0.9) for _ in range(options.kills))
        for point in points:
            target = int(point * len(expected))

            async def reached(target: int = target) -> bool:
                return arrived() >= target

            await until(reached, options.timeout_s, f"{target} notices sent", every_s=0.05)
            await notify.kill()
            kills.append({"after_notices": arrived()})
            await notify.restart()
            restarted_at = time.monotonic()
        await notify.wait_ready()

        async def every_one() -> bool:
            return arrived() >= len(expected)

        # Whatever has not arrived by then is counted as lost below.
        with contextlib.suppress(ApiError):
            await until(every_one, options.timeout_s, "every notice sent", every_s=0.25)
        recovery_s = time.monotonic() - restarted_at
        received = arrivals.refresh()
    finally:
        mail.stop()
    ours = {key: count for key, count in received.items() if key in expected}
    twice = sorted(key for key, count in ours.items() if count > 1)
    missing = sorted(expected - set(ours))
    return ScenarioResult(
        checked=len(expected),
        lost=len(missing),
        duplicate_effects=sum(count - 1 for count in ours.values()),
        recovery_s=recovery_s,
        details={
            "kills": kills,
            "lease_s": options.lease_s,
            "lost": missing[:20],
            "arrived_twice": twice[:20],
        },
    )


async def _publish(running: Platform, api: str, notices: int) -> set[str]:
    """Two people, and a confirmed booking between them for every two notices; the
    Message-IDs their emails will carry."""
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        book = seeding.Api.over(http)
        label = uuid.uuid4().hex[:6]
        helper, _ = await seeding.sign_up(book, _HOME, skills=["shopping"], label=f"h-{label}")
        neighbour, _ = await seeding.sign_up(book, _HOME, skills=[], label=f"n-{label}")
    people = [uuid.UUID(helper.person_id), uuid.UUID(neighbour.person_id)]
    # Weeks ahead: no reminder falls due while the confirmations are sent.
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
    events = [
        seeding.confirmed_visit(
            people[0], people[1], _HOME, start + timedelta(hours=n), producer="kith-faults"
        )
        for n in range(notices // 2)
    ]
    publisher = Publisher(running.settings(), client_id="kith-faults-notify")
    await publisher.start()
    try:
        await publisher.publish_many(events)
    finally:
        await publisher.stop()
    return {
        message_id(
            Notice(e.event_id, person, Kind.BOOKING_CONFIRMED, e.occurred_at, {}, Channel.EMAIL)
        )
        for e in events
        for person in people
    }
