"""Consuming Kith events: decode through the contracts, handle, then commit.

Offsets are committed only after the handler has finished (so a crash re-delivers, and
handlers must be idempotent), at most every ``COMMIT_EVERY_S`` and whenever partitions are
revoked or the consumer stops. A message that cannot be decoded, does not belong on its
topic, or whose handler keeps failing goes to the dead-letter topic with the reason, and
the consumer carries on with the next one: one bad message never stalls a partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, TopicPartition

from shared import metrics
from shared.contracts import Envelope, Payload, UndecodableEvent, decode, tombstone_of
from shared.contracts.registry import EVENTS_BY_TOPIC
from shared.contracts.topics import Topic
from shared.messaging.connection import KafkaConnection
from shared.messaging.dead_letters import send_to_dead_letters
from shared.messaging.fetch_wait import FetchWait
from shared.messaging.publisher import Publisher
from shared.settings import Settings

log = structlog.get_logger(__name__)
#: How often the consumer-lag gauge is refreshed; each refresh looks at every partition.
_LAG_EVERY_S = 1.0
#: The longest pause between two tries of a failing handler (a database restart takes ~1 s).
_MAX_RETRY_PAUSE_S = 1.0
#: How long handled offsets may wait to be committed. A commit is a request to the broker,
#: and one per fetch cost it as much as the fetches did; a crash re-delivers at most this
#: much more, which idempotent handlers absorb.
COMMIT_EVERY_S = 0.25


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


class RejectedEvent(Exception):
    """Raised by a handler for an event it can never apply; it is dead-lettered at once."""


def group_member(
    settings: Settings,
    *topics: str,
    group_id: str,
    name: str,
    from_beginning: bool = True,
    fetch_max_wait_ms: int | None = None,
) -> AIOKafkaConsumer:
    """A consumer-group member that commits only by hand, with the broker timings of settings.

    Every Kith consumer group reads this way: offsets are committed after the handler's work
    is done, and group joins and fetches wait no longer than the settings allow (or
    ``fetch_max_wait_ms``, for a consumer that reads in the background).
    """
    return AIOKafkaConsumer(
        *topics,
        **KafkaConnection.of(settings).aiokafka(),
        group_id=group_id,
        client_id=name,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        fetch_max_wait_ms=(
            settings.fetch_max_wait_ms if fetch_max_wait_ms is None else fetch_max_wait_ms
        ),
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        rebalance_timeout_ms=settings.rebalance_timeout_ms,
        max_poll_interval_ms=max(settings.rebalance_timeout_ms, 60_000),
    )


class _CommitWhenRevoked(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped aiokafka
    """Commits what was handled of partitions before another member takes them."""

    def __init__(self, consumer: EventConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            await self._consumer.commit(revoked)
        except Exception as error:  # their next owner handles them again: no loss
            log.warning("commit before a rebalance failed", error=repr(error))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do: reading resumes from the committed offsets."""


class EventConsumer:
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
        background: No one waits on what this consumer does: it fetches with the settings'
            longer ``background_fetch_max_wait_ms``, which costs an idle broker less. Any
            other consumer fetches with it too once it has been idle for a while
            (``FetchWait``).
        on_tombstone: Called for each tombstone (``tombstone_of``) on a compacted topic, to
            forget what the consumer keeps under its key. Without it tombstones are skipped;
            either way they are never dead-lettered, being no mistake.
        """
        self._on_tombstone = on_tombstone
        self._name = name
        self._batch_handlers = dict(batch_handlers or {})
        self._parallel = partitions_in_parallel
        self._service = service or metrics.service_name()
        self._lag_at = 0.0
        self._handler = handler
        self._dead_letters = dead_letters
        self._attempts = attempts
        self._allowed = {
            topic.name: {(cls.TYPE, cls.VERSION) for cls in EVENTS_BY_TOPIC.get(topic, ())}
            for topic in topics
        }
        idle_ms = settings.background_fetch_max_wait_ms
        busy_ms = idle_ms if background else settings.fetch_max_wait_ms
        self._consumer = group_member(
            settings,
            group_id=group_id,
            name=name,
            from_beginning=from_beginning,
            fetch_max_wait_ms=busy_ms,
        )
        self._consumer.subscribe(list(self._allowed), listener=_CommitWhenRevoked(self))
        self._wait = FetchWait(busy_ms=busy_ms, idle_ms=idle_ms)
        self._handled: dict[TopicPartition, int] = {}
        """The next offset to commit per partition, once handled."""
        self._committed_at = time.monotonic()
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once the group has assigned this member its partitions."""

    async def start(self) -> None:
        """Join the group."""
        await self._consumer.start()

    async def stop(self) -> None:
        """Leave the group after committing what was handled."""
        self._stopping.set()
        with contextlib.suppress(Exception):  # never joined, or the group is gone
            await self.commit()
        await self._consumer.stop()

    async def run(self) -> None:
        """Consume until ``stop`` is called."""
        while not self._stopping.is_set():
            try:
                batches = await self._consumer.getmany(timeout_ms=200, max_records=500)
            except Exception:
                if self._stopping.is_set():
                    return
                raise
            if self._consumer.assignment():
                self.ready.set()
            batches = {partition: records for partition, records in batches.items() if records}
            self._wait.after_read(self._consumer, sum(map(len, batches.values())))
            if self._parallel:
                await asyncio.gather(*(self._process_all(rs) for rs in batches.values()))
            else:
                for records in batches.values():
                    await self._process_all(records)
            for partition, records in batches.items():
                self._handled[partition] = records[-1].offset + 1
            if time.monotonic() - self._committed_at >= COMMIT_EVERY_S:
                await self.commit()
            await self._record_lag()

    async def commit(self, partitions: Collection[TopicPartition] | None = None) -> None:
        """Commit the handled offsets of ``partitions`` (all by default) still assigned."""
        self._committed_at = time.monotonic()
        chosen = self._consumer.assignment() if partitions is None else set(partitions)
        offsets = {tp: offset for tp, offset in self._handled.items() if tp in chosen}
        if not offsets:
            return
        await self._consumer.commit(offsets)
        for tp, offset in offsets.items():
            if self._handled.get(tp) == offset:  # nothing newer handled meanwhile
                del self._handled[tp]

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

    async def seek_to_end(self) -> None:
        """Skip everything already on the assigned partitions (for tail-like readers).

        The ends are looked up before this returns: aiokafka only marks the partitions for
        a reset, and a message sent meanwhile would count as already there, and be skipped.
        """
        await self._consumer.seek_to_end()
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)

    async def _record_lag(self) -> None:
        """Refresh ``kith_consumer_lag`` now and then; never let it stop consumption."""
        now = time.monotonic()
        if now - self._lag_at < _LAG_EVERY_S or self._stopping.is_set():
            return
        self._lag_at = now
        for partition in self._consumer.assignment():
            highwater = self._consumer.highwater(partition)
            if highwater is None:
                continue  # nothing fetched yet, so no position to compare with either
            try:
                position = await self._consumer.position(partition)
            except Exception:  # revoked in a rebalance since assignment() was read
                continue
            metrics.CONSUMER_LAG.labels(
                self._service, partition.topic, str(partition.partition)
            ).set(max(0, highwater - position))

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
        latency = metrics.HANDLER_SECONDS.labels(self._service, record.topic)
        attempt = failures = 0
        while True:
            started = time.perf_counter()
            try:
                with structlog.contextvars.bound_contextvars(
                    event_id=str(envelope.event_id),
                    correlation_id=str(envelope.correlation_id),
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                ):
                    try:
                        await self._handler(envelope, delivery)
                    finally:
                        latency.observe(time.perf_counter() - started)
                return
            except RejectedEvent as error:
                await self._reject(record, str(error))
                return
            except Exception as error:
                failures += 1
                # The database or the network being away is not the event's fault: such a
                # failure is retried for as long as it lasts, never counted towards the
                # dead letter (which would lose a valid event).
                transient = is_transient(error)
                attempt += 0 if transient else 1
                log.warning(
                    "handler failed",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    attempt=attempt,
                    transient=transient,
                    error=repr(error),
                )
                if attempt >= self._attempts:
                    await self._dead_letter(
                        record,
                        f"handler failed {attempt} times: {error!r}",
                        metrics.DeadLetterReason.HANDLER_FAILED,
                    )
                    return
                pause_s = min(_MAX_RETRY_PAUSE_S, 0.05 * 2**failures)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=pause_s)
                if self._stopping.is_set():
                    raise

    async def _reject(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        await self._dead_letter(
            record, f"rejected by handler: {reason}", metrics.DeadLetterReason.REJECTED
        )

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        category: metrics.DeadLetterReason,
    ) -> None:
        log.warning(
            "dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
            consumer=self._name,
        )
        await send_to_dead_letters(self._dead_letters, record, reason=reason, consumer=self._name)
        metrics.DEAD_LETTERS.labels(self._service, record.topic, category.value).inc()


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says a resource is away (the database restarting, a connection
    dropped) rather than that the event cannot be handled."""
    return isinstance(
        error,
        (
            OSError,
            TimeoutError,
            asyncpg.exceptions.PostgresConnectionError,
            asyncpg.exceptions.OperatorInterventionError,
        ),
    )


async def run_consumers(consumers: Sequence[EventConsumer]) -> None:
    """Run consumers side by side until one fails or all stop."""
    async with asyncio.TaskGroup() as group:
        for consumer in consumers:
            group.create_task(consumer.run())
