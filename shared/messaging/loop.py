"""The one consumer loop: fetch, handle, retry, dead-letter, then commit.

Offsets are committed only after the handler has finished (so a crash re-delivers, and
handlers must be idempotent), at most every ``COMMIT_EVERY_S`` and whenever partitions are
revoked or the consumer stops. A message whose handler refuses it or keeps failing goes to
the dead-letter topic with the reason, and the consumer carries on with the next one: one
bad message never stalls a partition. ``EventConsumer`` decodes Kith events on this loop;
``RecordConsumer`` hands raw records to a handler (a partner's inbox, whose messages are
not Kith events until checked).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TypeAlias

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord, TopicPartition

from shared import metrics
from shared.messaging.connection import KafkaConnection
from shared.messaging.dead_letters import dead_letter, publisher_sender
from shared.messaging.fetch_wait import FETCH_ROUTINE_WAKE_MS, IDLE_WAKE_MS, FetchWait
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
#: How long a read waits for records while handled offsets wait to be committed, and until
#: the member has its partitions (``ready``); otherwise ``IDLE_WAKE_MS``. A read returns as
#: soon as records arrive either way.
_READ_WAIT_MS = 200

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
#: Handles one raw record; returns a reason to dead-letter it, or None when it was taken.
RecordHandler = Callable[[Record], Awaitable[str | None]]


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
        consumer_timeout_ms=FETCH_ROUTINE_WAKE_MS,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        rebalance_timeout_ms=settings.rebalance_timeout_ms,
        max_poll_interval_ms=max(settings.rebalance_timeout_ms, 60_000),
    )


class _CommitWhenRevoked(ConsumerRebalanceListener):  # type: ignore[misc]  # untyped aiokafka
    """Commits what was handled of partitions before another member takes them."""

    def __init__(self, consumer: ConsumerLoop) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            await self._consumer.commit(revoked)
        except Exception as error:  # their next owner handles them again: no loss
            log.warning("commit before a rebalance failed", error=repr(error))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do: reading resumes from the committed offsets."""


class ConsumerLoop:
    """One consumer group member over ``topics``; subclasses say how a fetch is handled.

    Args:
        name: The member's client id, and the consumer named on its dead letters.
        background: No one waits on what this consumer does: it fetches with the settings'
            longer ``background_fetch_max_wait_ms``, which costs a broker less. Every
            consumer fetches with ``idle_fetch_max_wait_ms`` once it has been idle for a
            while (``FetchWait``); a background one with ``background_idle_fetch_max_wait_ms``.
        idle_fetch_max_wait_ms: The wait once idle, instead of the one ``background`` chooses
            (for a background consumer whose first record after a quiet spell still counts).
        secret_headers: Headers never copied to the dead letters (a partner's key), which
            operators and their tools read.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        group_id: str,
        topics: Sequence[str],
        dead_letters: Publisher,
        attempts: int = 5,
        from_beginning: bool = True,
        service: str | None = None,
        background: bool = False,
        idle_fetch_max_wait_ms: int | None = None,
        secret_headers: frozenset[str] = frozenset(),
    ) -> None:
        self._name = name
        self._service = service or metrics.service_name()
        self._lag_at = 0.0
        self._send_dead_letter = publisher_sender(dead_letters)
        self._secret_headers = secret_headers
        self._attempts = attempts
        if idle_fetch_max_wait_ms is not None:
            idle_ms = idle_fetch_max_wait_ms
        elif background:
            idle_ms = settings.background_idle_fetch_max_wait_ms
        else:
            idle_ms = settings.idle_fetch_max_wait_ms
        busy_ms = (
            settings.background_fetch_max_wait_ms if background else settings.fetch_max_wait_ms
        )
        self._consumer = group_member(
            settings,
            group_id=group_id,
            name=name,
            from_beginning=from_beginning,
            fetch_max_wait_ms=busy_ms,
        )
        self._consumer.subscribe(list(topics), listener=_CommitWhenRevoked(self))
        self._wait = FetchWait(busy_ms=busy_ms, idle_ms=idle_ms)
        self._handled: dict[TopicPartition, int] = {}
        """The next offset to commit per partition, once handled."""
        self._committed_at = time.monotonic()
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        """Set once the group has assigned this member its partitions and it knows where it
        reads each from."""

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
                batches = await self._consumer.getmany(
                    timeout_ms=(
                        _READ_WAIT_MS if self._handled or not self.ready.is_set() else IDLE_WAKE_MS
                    ),
                    max_records=500,
                )
            except Exception:
                if self._stopping.is_set():
                    return
                raise
            if not self.ready.is_set() and await self._positioned():
                self.ready.set()
            batches = {partition: records for partition, records in batches.items() if records}
            self._wait.after_read(self._consumer, sum(map(len, batches.values())))
            await self._process_fetch(batches)
            for partition, records in batches.items():
                self._handled[partition] = records[-1].offset + 1
            if time.monotonic() - self._committed_at >= COMMIT_EVERY_S:
                await self.commit()
            await self._record_lag()

    async def _positioned(self) -> bool:
        """Whether this member has partitions and knows where it reads each from.

        Given its partitions, aiokafka still asks for the committed offsets (or the ends, for
        a member from the end): an event sent in between would be read past, so ``ready``
        waits for the answers too.
        """
        assigned = self._consumer.assignment()
        try:
            for partition in assigned:
                await self._consumer.position(partition)
        except IllegalStateError:  # a rebalance took it meanwhile: ask again next read
            return False
        return bool(assigned)

    async def _process_fetch(self, batches: dict[TopicPartition, list[Record]]) -> None:
        """Handle one fetch, partition by partition, in order."""
        for records in batches.values():
            await self._process_all(records)

    async def _process_all(self, records: Sequence[Record]) -> None:
        """Handle one partition's share of a fetch, in order."""
        raise NotImplementedError

    async def commit(self, partitions: Collection[TopicPartition] | None = None) -> None:
        """Commit the handled offsets of ``partitions`` (all by default) still assigned."""
        self._committed_at = time.monotonic()
        chosen = self._consumer.assignment() if partitions is None else set(partitions)
        offsets = {tp: offset for tp, offset in self._handled.items() if tp in chosen}
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError as error:
            # The group went on without this member (a restarted broker forgot it): the
            # partitions' next owner, maybe this member once it has joined again, reads
            # these records again, and handlers are idempotent. Nothing is lost.
            log.warning("commit refused after a rebalance", consumer=self._name, error=str(error))
            return
        for tp, offset in offsets.items():
            if self._handled.get(tp) == offset:  # nothing newer handled meanwhile
                del self._handled[tp]

    async def seek_to_end(self) -> None:
        """Skip everything already on the assigned partitions (for tail-like readers).

        The ends are looked up before this returns: aiokafka only marks the partitions for
        a reset, and a message sent meanwhile would count as already there, and be skipped.
        """
        await self._consumer.seek_to_end()
        await self._positioned()

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

    async def _attempt(self, record: Record, call: Callable[[], Awaitable[None]]) -> None:
        """Run ``call`` for ``record`` until it succeeds, retrying with a growing pause.

        ``RejectedEvent`` dead-letters the record at once; any other failure is retried and
        dead-lettered after ``attempts``, except that the database or the network being away
        is not the record's fault: such a failure is retried for as long as it lasts, never
        counted towards the dead letter (which would lose a valid message).
        """
        latency = metrics.HANDLER_SECONDS.labels(self._service, record.topic)
        attempt = failures = 0
        while True:
            started = time.perf_counter()
            try:
                try:
                    await call()
                finally:
                    latency.observe(time.perf_counter() - started)
                return
            except RejectedEvent as error:
                await self._reject(record, str(error))
                return
            except Exception as error:
                failures += 1
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

    async def _reject(self, record: Record, reason: str) -> None:
        await self._dead_letter(
            record, f"rejected by handler: {reason}", metrics.DeadLetterReason.REJECTED
        )

    async def _dead_letter(
        self, record: Record, reason: str, category: metrics.DeadLetterReason
    ) -> None:
        await dead_letter(
            self._send_dead_letter,
            record,
            reason=reason,
            category=category,
            consumer=self._name,
            service=self._service,
            secret_headers=self._secret_headers,
        )


class RecordConsumer(ConsumerLoop):
    """The loop over raw records: ``handler`` returns a reason to refuse one, or None.

    A refused record is dead-lettered with the handler's reason, as an event a handler
    rejects is.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        group_id: str,
        topics: Sequence[str],
        handler: RecordHandler,
        dead_letters: Publisher,
        attempts: int = 5,
        background: bool = False,
        idle_fetch_max_wait_ms: int | None = None,
        secret_headers: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(
            settings,
            name=name,
            group_id=group_id,
            topics=topics,
            dead_letters=dead_letters,
            attempts=attempts,
            background=background,
            idle_fetch_max_wait_ms=idle_fetch_max_wait_ms,
            secret_headers=secret_headers,
        )
        self._handler = handler

    async def _process_all(self, records: Sequence[Record]) -> None:
        for record in records:
            await self._attempt(record, functools.partial(self._take, record))

    async def _take(self, record: Record) -> None:
        reason = await self._handler(record)
        if reason is not None:
            raise RejectedEvent(reason)


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
