"""Consuming Kith events: decode through the contracts, handle, then commit.

On the one consumer loop (``shared.messaging.loop``): a message that cannot be decoded,
does not belong on its topic, or whose handler keeps failing goes to the dead-letter topic
with the reason, and the consumer carries on with the next one.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog
from aiokafka.structs import ConsumerRecord, TopicPartition

from shared import metrics
from shared.contracts import Envelope, Payload, UndecodableEvent, decode, tombstone_of
from shared.contracts.registry import EVENTS_BY_TOPIC
from shared.contracts.topics import Topic
from shared.messaging.loop import ConsumerLoop, RejectedEvent, group_member, is_transient
from shared.messaging.publisher import Publisher
from shared.settings import Settings

__all__ = [
    "BatchHandler",
    "Delivery",
    "EventConsumer",
    "Handler",
    "RejectedEvent",
    "TombstoneHandler",
    "group_member",
    "is_transient",
    "run_consumers",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a consumed event came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None


Handler = Callable[[Envelope[Payload], Delivery], Awaitable[None]]
#: Applies a run of events of one type at once; returns, per event, ``None`` when applied or
#: why it can never be (it is dead-lettered). Raising makes the consumer apply the run one
#: event at a time through the ordinary handler instead.
BatchHandler = Callable[[Sequence[Envelope[Payload]]], Awaitable[Sequence[str | None]]]
#: Forgets what a tombstone deletes: called with the topic and the key (a person's id).
TombstoneHandler = Callable[[str, str], Awaitable[None]]


class EventConsumer(ConsumerLoop):
    """One consumer group member running ``handler`` over ``topics``."""

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        group_id: str,
        topics: Sequence[Topic],
        handler: Handler,
        dead_letters: Publisher,
        attempts: int = 5,
        from_beginning: bool = True,
        service: str | None = None,
        partitions_in_parallel: bool = False,
        batch_handlers: Mapping[str, BatchHandler] | None = None,
        background: bool = False,
        idle_fetch_max_wait_ms: int | None = None,
        on_tombstone: TombstoneHandler | None = None,
    ) -> None:
        """Args:
        partitions_in_parallel: Handle each partition's share of a fetch side by side (in
            order within a partition, so per key). Only for handlers whose events on different
            partitions touch different rows, or that lock what they share: a conflict is
            retried like any failure, and dead-lettered after ``attempts``.
        batch_handlers: By event type, a handler for a run of consecutive events of that
            type in one partition's share of a fetch: one call (one round trip to the
            database, say) instead of one per event. It must have the effect of ``handler``
            applied to each in order.
        background, idle_fetch_max_wait_ms: How long its fetches wait, as for
            ``ConsumerLoop``.
        on_tombstone: Called for each tombstone (``tombstone_of``) on a compacted topic, to
            forget what the consumer keeps under its key. Without it tombstones are skipped;
            either way they are never dead-lettered, being no mistake.
        """
        self._allowed = {
            topic.name: {(cls.TYPE, cls.VERSION) for cls in EVENTS_BY_TOPIC.get(topic, ())}
            for topic in topics
        }
        super().__init__(
            settings,
            name=name,
            group_id=group_id,
            topics=list(self._allowed),
            dead_letters=dead_letters,
            attempts=attempts,
            from_beginning=from_beginning,
            service=service,
            background=background,
            idle_fetch_max_wait_ms=idle_fetch_max_wait_ms,
        )
        self._on_tombstone = on_tombstone
        self._batch_handlers = dict(batch_handlers or {})
        self._parallel = partitions_in_parallel
        self._handler = handler

    async def _process_fetch(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        if self._parallel:
            await asyncio.gather(*(self._process_all(rs) for rs in batches.values()))
        else:
            await super()._process_fetch(batches)

    async def _process_all(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        run: list[tuple[ConsumerRecord[bytes, bytes], Envelope[Payload]]] = []
        for record in records:
            envelope = await self._readable(record)
            if envelope is None:
                continue
            if run and envelope.type != run[0][1].type:
                await self._handle_run(run)
                run = []
            if envelope.type in self._batch_handlers:
                run.append((record, envelope))
            else:
                await self._handle(record, envelope)
        if run:
            await self._handle_run(run)

    async def _readable(self, record: ConsumerRecord[bytes, bytes]) -> Envelope[Payload] | None:
        """The record's event, or ``None`` once it has been dead-lettered as unreadable (or
        was a tombstone, and applied)."""
        forgotten = tombstone_of(record.topic, record.key, record.value)
        if forgotten is not None:
            metrics.EVENTS_CONSUMED.labels(self._service, record.topic, "tombstone").inc()
            if self._on_tombstone is not None:
                await self._forget(record, forgotten)
            return None
        try:
            envelope = decode(record.value)
        except UndecodableEvent as error:
            metrics.EVENTS_CONSUMED.labels(self._service, record.topic, "undecodable").inc()
            await self._dead_letter(record, error.reason, metrics.DeadLetterReason.UNDECODABLE)
            return None
        metrics.EVENTS_CONSUMED.labels(self._service, record.topic, envelope.type).inc()
        if (envelope.type, envelope.version) not in self._allowed[record.topic]:
            await self._dead_letter(
                record,
                f"event {envelope.type!r} v{envelope.version} does not belong on {record.topic}",
                metrics.DeadLetterReason.WRONG_TOPIC,
            )
            return None
        return envelope

    async def _forget(self, record: ConsumerRecord[bytes, bytes], key: str) -> None:
        assert self._on_tombstone is not None
        try:
            await self._on_tombstone(record.topic, key)
        except Exception as error:
            await self._dead_letter(
                record,
                f"tombstone handler failed: {error!r}",
                metrics.DeadLetterReason.HANDLER_FAILED,
            )

    async def _handle_run(
        self, run: Sequence[tuple[ConsumerRecord[bytes, bytes], Envelope[Payload]]]
    ) -> None:
        if len(run) == 1:
            await self._handle(*run[0])
            return
        record = run[0][0]
        started = time.perf_counter()
        try:
            outcomes = await self._batch_handlers[run[0][1].type]([e for _, e in run])
        except Exception as error:
            # One event of the run may be the cause: each is applied (and retried, and
            # dead-lettered) on its own.
            log.warning(
                "batch failed: handling one by one",
                topic=record.topic,
                partition=record.partition,
                first=record.offset,
                events=len(run),
                error=repr(error),
            )
            for item in run:
                await self._handle(*item)
            return
        metrics.HANDLER_SECONDS.labels(self._service, record.topic).observe(
            time.perf_counter() - started
        )
        for (refused, _), reason in zip(run, outcomes, strict=True):
            if reason is not None:
                await self._reject(refused, reason)

    async def _handle(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope[Payload]
    ) -> None:
        delivery = Delivery(record.topic, record.partition, record.offset, record.key)
        with structlog.contextvars.bound_contextvars(
            event_id=str(envelope.event_id),
            correlation_id=str(envelope.correlation_id),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        ):
            await self._attempt(record, functools.partial(self._handler, envelope, delivery))


async def run_consumers(consumers: Sequence[EventConsumer]) -> None:
    """Run consumers side by side until one fails or all stop."""
    async with asyncio.TaskGroup() as group:
        for consumer in consumers:
            group.create_task(consumer.run())
