"""``kith tail``: follow Kith's streams in a terminal, readable by default, JSON lines on request.

It reads like an operator's console does: every partition, no consumer group, nothing
committed, so it never takes work from a service. Messages that are not Kith events are shown
as such; a check-in's free-text note is never shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from aiokafka.errors import KafkaConnectionError
from rich.console import Console
from rich.text import Text

from shared.contracts.topics import ALL_TOPICS
from shared.messaging.connection import Kafka, KafkaConnection
from shared.messaging.reader import StreamReader
from shared.observed import DEAD_LETTER, UNDECODABLE, EventFilter, Observed, stream_of
from shared.settings import Settings

#: The streams shown when none is named: every one but the private ones.
PUBLIC_STREAMS = tuple(stream_of(topic.name) for topic in ALL_TOPICS if not topic.private)
_TOPIC_OF = {stream_of(topic.name): topic.name for topic in ALL_TOPICS}
_COLOURS = {
    "people": "blue",
    "availability": "cyan",
    "requests": "bright_blue",
    "offers": "magenta",
    "bookings": "green",
    "checkins": "yellow",
    "vetting": "bright_cyan",
    "relationships": "bright_green",
    "standing": "bright_magenta",
    "concerns": "bright_red",
    "deadletter": "red",
    "partners": "bright_yellow",
}


def topics_for(streams: Sequence[str]) -> list[str]:
    """Topic names for stream short names or topic names; every public stream for none.

    Raises:
        typer.BadParameter: A name that is neither a Kith stream nor a ``kith.`` topic.
    """
    if not streams:
        return [_TOPIC_OF[name] for name in PUBLIC_STREAMS]
    topics = []
    for name in streams:
        if name in _TOPIC_OF:
            topics.append(_TOPIC_OF[name])
        elif name.startswith("kith."):
            topics.append(name)  # a full name: a registered topic or a partner's feed
        else:
            known = ", ".join(_TOPIC_OF)
            raise typer.BadParameter(f"no stream {name!r}; choose from {known}")
    return topics


async def follow(
    kafka: Kafka,
    topics: Sequence[str],
    event_filter: EventFilter,
    emit: Callable[[Observed], None],
    *,
    from_beginning: bool = False,
    limit: int | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Hand every message on ``topics`` that passes the filter to ``emit``; return how many.

    Follows until ``stop`` is set (seen within a read's wait, half a second), until
    ``limit`` messages were emitted, or until cancelled.

    Raises:
        typer.BadParameter: None of the topics exists on the broker.
    """
    reader = StreamReader(kafka, topics, from_beginning=from_beginning, client_id="kith-tail")
    await reader.start()
    emitted = 0
    try:
        if not reader.partitions:
            raise typer.BadParameter(f"the broker has none of {', '.join(topics)}")
        if reader.missing:
            typer.secho(f"kith: no topic {', '.join(reader.missing)}", fg="yellow", err=True)
        while (limit is None or emitted < limit) and not (stop is not None and stop.is_set()):
            for seen in await reader.read(timeout_ms=500):
                if event_filter.matches(seen):
                    emit(seen)
                    emitted += 1
                    if limit is not None and emitted >= limit:
                        break
    finally:
        await reader.stop()
    return emitted


def as_json(seen: Observed) -> str:
    """One line of JSON: where the message was, and the envelope."""
    document: dict[str, Any] = {
        "topic": seen.topic,
        "partition": seen.partition,
        "offset": seen.offset,
        "key": seen.key.decode(errors="replace") if seen.key is not None else None,
        "type": seen.type,
        "envelope": seen.public_envelope(),
    }
    if seen.problem is not None:
        document["problem"] = seen.problem
    if seen.refusal is not None:
        document["refusal"] = {
            "reason": seen.refusal.reason,
            "topic": seen.refusal.topic,
            "partition": seen.refusal.partition,
            "offset": seen.refusal.offset,
            "consumer": seen.refusal.consumer,
        }
    return json.dumps(document, separators=(",", ":"))


def as_text(seen: Observed) -> Text:
    """One readable line: local time, stream, type, then short ids and key fields."""
    bad = seen.type in {UNDECODABLE, DEAD_LETTER}
    line = Text()
    line.append(seen.at.astimezone().strftime("%H:%M:%S"), style="dim")
    line.append("  ")
    line.append(f"{seen.stream:<13}", style=_COLOURS.get(seen.stream, "white"))
    line.append(f"{seen.type:<26}", style="bold red" if bad else "bold")
    line.append(seen.headline(), style="red" if bad else "")
    return line


def tail(
    streams: list[str] | None = typer.Argument(
        None,
        help="Streams to follow (requests, offers, bookings, …) or topic names. "
        "Default: every public stream; private ones (checkins, vetting, concerns, "
        "deadletter, partners) only when named.",
        show_default=False,
    ),
    types: list[str] | None = typer.Option(
        None, "--type", "-t", help="Only these event types (repeatable; `booking.*` works)."
    ),
    cell: str | None = typer.Option(
        None, "--cell", "-c", help="Only events in this H3 neighbourhood or street cell."
    ),
    from_beginning: bool = typer.Option(
        False, "--from-beginning", help="Start at the oldest message kept, not at the end."
    ),
    json_lines: bool = typer.Option(False, "--json", help="One JSON object per line."),
    limit: int | None = typer.Option(
        None, "--max", min=1, help="Stop after this many events (for scripts)."
    ),
) -> None:
    """Follow Kith's streams as events happen; Ctrl-C stops."""
    topics = topics_for(streams or [])
    event_filter = EventFilter.of(types=types or (), place=cell)
    kafka = running_broker(Settings())
    console = Console(highlight=False, soft_wrap=True)

    def emit(seen: Observed) -> None:
        if json_lines:
            sys.stdout.write(as_json(seen) + "\n")
            sys.stdout.flush()  # a pipe should see each line as it happens
        else:
            console.print(as_text(seen))

    async def until_interrupted() -> None:
        # Ctrl-C (or SIGTERM) ends the loop at its next read, and the reader disconnects
        # as usual; cancelling the task mid-call into the Kafka client could leave it hanging.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await follow(
            kafka,
            topics,
            event_filter,
            emit,
            from_beginning=from_beginning,
            limit=limit,
            stop=stop,
        )

    try:
        asyncio.run(until_interrupted())
    except KeyboardInterrupt:  # Ctrl-C before the handlers were in place
        raise typer.Exit(0) from None
    except KafkaConnectionError as error:
        typer.secho(
            f"kith: cannot reach the broker at {kafka.bootstrap}: {error}", fg="red", err=True
        )
        raise typer.Exit(1) from error
    except BrokenPipeError:
        # The reader of the pipe left (`kith tail | head`): that is how it ends, not an error.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        raise typer.Exit(0) from None


def running_broker(settings: Settings) -> KafkaConnection:
    """The broker of a running Kith: from settings (with their SASL and TLS), or the
    embedded one's address in the file ``kith up`` leaves (plaintext)."""
    if settings.kafka_bootstrap:
        return KafkaConnection.from_settings(settings)
    path = settings.state_dir / "run" / "kafka-bootstrap"
    if not path.exists():
        raise typer.BadParameter(
            f"no broker: set KITH_KAFKA_BOOTSTRAP or start Kith with `kith up` ({path})"
        )
    return KafkaConnection(path.read_text().strip())
