"""``kith bench notify``: from a booking committed on the broker to its emails accepted by
the SMTP server, at a steady rate.

Runs ``kith up`` (booking and notify as real processes, and the development mail server)
against the bench stack. Two people sign up; then ``booking.confirmed`` events between them
are published at ``--rate`` a second for ``--seconds``. Each makes two emails (one to each
side). The clock runs from the broker acknowledging the event to the mail server keeping
the email (the time in its file's name); each email is matched to its event by its
Message-ID. ``errors`` counts the emails that had not arrived ``--grace`` seconds after the
last event.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import typer

from kith.bench import app
from kith.bench.stack import bench_stack
from kith.client import percentile
from kith.running import running_kith
from shared import clock
from shared.embedded import free_port
from shared.settings import Settings


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    events: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    floor_ms: list[float]

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        floor = sorted(self.floor_ms)
        return {
            "benchmark": "notify",
            "events": self.events,
            "emails": len(ordered),
            "rate": round(len(ordered) / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(ordered, 50), 1),
            "p99_ms": round(percentile(ordered, 99), 1),
            "max_ms": round(ordered[-1], 1) if ordered else 0.0,
            "errors": self.errors,
            # The same server taking emails straight from aiosmtplib, in the same run.
            "floor_p50_ms": round(percentile(floor, 50), 1),
            "floor_p99_ms": round(percentile(floor, 99), 1),
        }


@app.command("notify")
def notify(
    rate: int = typer.Option(100, min=1, max=1000, help="Events a second."),
    seconds: int = typer.Option(60, min=1, max=600, help="How long to publish."),
    grace: float = typer.Option(30.0, min=1, help="Seconds to wait for the last emails."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Time from an event on the broker to its emails accepted by SMTP (rate, p50, p99)."""
    with bench_stack(Settings()) as settings:
        figures = asyncio.run(run_bench(settings, rate=rate, seconds=seconds, grace_s=grace))
    summary = figures.summary()
    if json_out:
        typer.echo(json.dumps(summary))
        return
    typer.echo(
        f"{summary['events']} events, {summary['emails']} emails at {summary['rate']}/s:"
        f" p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms (max {summary['max_ms']} ms);"
        f" errors {summary['errors']}; floor (raw aiosmtplib to the same server) p50"
        f" {summary['floor_p50_ms']} ms, p99 {summary['floor_p99_ms']} ms"
    )


async def run_bench(settings: Settings, *, rate: int, seconds: int, grace_s: float) -> Figures:
    """Start booking and notify against ``settings``' broker and database, and measure."""
    import httpx

    from kith.demo import sign_up
    from kith.seeding import confirmed_visit
    from services.notify.domain.notices import Channel, Kind, Notice
    from services.notify.service_layer.handlers import message_id
    from shared.messaging import Publisher

    smtp_port = free_port()
    with tempfile.TemporaryDirectory(prefix="kith-bench-notify-") as scratch:
        state = Path(scratch)
        async with (
            running_kith(
                bootstrap=settings.require_bootstrap(),
                database_url=settings.database_url or "",
                state_dir=state,
                services=("booking", "notify"),
                env={"KITH_MAIL_SMTP_PORT": str(smtp_port)},
            ) as kith,
            httpx.AsyncClient(base_url=kith.api, timeout=10) as http,
        ):
            run = uuid.uuid4().hex[:6]
            home = (51.5, -0.1)
            helper = await sign_up(http, f"Ada ({run})", home, ["shopping"], run)
            neighbour = await sign_up(http, f"Bea ({run})", home, [], run)
            people = [uuid.UUID(helper.person_id), uuid.UUID(neighbour.person_id)]
            # The floor first, while Kith is idle: the same server at the same rate.
            mail = state / "mail"
            floor = await raw_floor(
                mail,
                smtp_port,
                rate=2 * rate,
                seconds=min(seconds, 10),
                connections=settings.smtp_connections,
            )
            floor_files = {path.name for path in mail.glob("*.eml")}
            publisher = Publisher(settings, client_id="kith-bench-notify")
            await publisher.start()
            acked: dict[str, int] = {}  # Message-ID -> when the broker acknowledged (ns)
            start = clock.now().replace(minute=0, second=0, microsecond=0)
            total = rate * seconds
            began = time.monotonic()
            try:
                for n in range(total):
                    await _pace(began, n / rate)
                    event = confirmed_visit(
                        people[0],
                        people[1],
                        home,
                        start + timedelta(days=30, hours=n),
                        producer="kith-bench",
                    )
                    await publisher.publish(event)
                    now_ns = time.time_ns()
                    for person in people:
                        notice = Notice(
                            event.event_id,
                            person,
                            Kind.BOOKING_CONFIRMED,
                            event.occurred_at,
                            channel=Channel.EMAIL,
                        )
                        acked[message_id(notice)] = now_ns
            finally:
                await publisher.stop()
            deadline = time.monotonic() + grace_s
            arrived: dict[str, int] = {}
            read: set[str] = set(floor_files)
            while time.monotonic() < deadline and len(arrived) < len(acked):
                await asyncio.sleep(0.5)
                arrived.update(_arrivals(mail, acked, read))
            first = min(acked.values())
            last = max(arrived.values(), default=first)
    latencies = [(arrived[key] - acked[key]) / 1e6 for key in arrived]
    return Figures(total, (last - first) / 1e9, latencies, len(acked) - len(arrived), floor)


async def raw_floor(
    mail: Path, smtp_port: int, *, rate: int, seconds: int, connections: int
) -> list[float]:
    """Emails straight from aiosmtplib to the same development server, as many a second as
    Kith sent, on as many connections as notify keeps: from being due to being kept (ms).

    What the machine and the mail server cost without Kith, measured in the same run: a
    ratio to it says more than a figure on a machine whose speed swings by 2x.
    """
    import aiosmtplib

    queue: asyncio.Queue[tuple[EmailMessage, int] | None] = asyncio.Queue()
    due: dict[str, int] = {}

    async def worker() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port, timeout=30)
        await client.connect()
        try:
            while (item := await queue.get()) is not None:
                await client.send_message(item[0])
        finally:
            client.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    began = time.monotonic()
    for n in range(rate * seconds):
        await _pace(began, n / rate)
        message = EmailMessage()
        message["From"] = "bench@localhost"
        message["To"] = "floor@example.org"
        message["Subject"] = "floor"
        message["Message-ID"] = key = f"<floor-{uuid.uuid4()}@kith.local>"
        message.set_content("A plain email of about the size Kith sends.\n" * 6)
        due[key] = time.time_ns()
        queue.put_nowait((message, due[key]))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    kept = _arrivals(mail, due)
    return [(kept[key] - due[key]) / 1e6 for key in kept]


async def _pace(began: float, at_s: float) -> None:
    wait = began + at_s - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


def _arrivals(mail: Path, wanted: dict[str, int], seen: set[str] | None = None) -> dict[str, int]:
    """When each wanted email was kept (ns, from its file's name), by Message-ID.

    ``seen`` names the files already read by an earlier call (their arrivals are returned by
    that call): looking again every half second then reads each file once, not thousands of
    times, so the bench itself does not take the CPU the run is measuring.
    """
    found: dict[str, int] = {}
    for path in sorted(mail.glob("*.eml")):
        if seen is not None:
            if path.name in seen:
                continue
            seen.add(path.name)
        kept_ns = int(path.name.split("-", 1)[0])
        with path.open("rb") as file:
            head = file.read(4096).decode(errors="replace")
        for line in head.splitlines():
            if line.lower().startswith("message-id:"):
                key = line.split(":", 1)[1].strip()
                if key in wanted and key not in found:
                    found[key] = kept_ns
                break
    return found
