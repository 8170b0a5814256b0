"""faust's aiokafka driver, tuned for Kith: a configurable fetch wait (longer once the worker
has been idle, ``shared.messaging.fetch_wait``), producer idempotence, partition ends that
are right on every broker, and no fetching of what faust paused.

faust hard-codes a 1500 ms fetch wait in its worker consumer. A broker answers a fetch as soon
as data arrives, but aiokafka fetches a partition it has just read again only once the fetch
in flight comes back: up to the whole wait, on every hop of a busy neighbourhood. faust also
offers no producer idempotence outside exactly-once transactions, which Tansu rejects; Apache
Kafka takes it.
Both values are read from the app (set by ``create_app`` from settings), so two apps in one
process may differ. faust asks the broker where each changelog ends (ListOffsets) when a worker
takes over partitions; Tansu answers with the last record batch's first offset plus one, so a
table's own offset looked past the end and faust stopped the worker (a consistency error), or
recovery ended early. The ends are taken from a fetch instead (``shared.messaging.end_offsets``).
Register as the ``kith://`` broker scheme with ``register_transport``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import asdict
from typing import Any, cast

import aiokafka
import mode
import structlog
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from faust.transport import drivers as faust_drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

from services.matching.ordering import InOrder, Verdict
from services.matching.progress import WATCH_EVERY_S, Seen, Watch
from shared.messaging.fetch_wait import FETCH_ROUTINE_WAKE_MS, FetchWait
from shared.messaging.offsets import end_offsets

log = structlog.get_logger(__name__)

SCHEME = "kith"
#: The app attributes the driver reads (set by ``create_app``).
FETCH_MAX_WAIT_ATTR = "kith_fetch_max_wait_ms"
IDLE_FETCH_MAX_WAIT_ATTR = "kith_idle_fetch_max_wait_ms"
IDEMPOTENCE_ATTR = "kith_idempotence"
#: The ``KafkaConnection`` (with its SASL and TLS) of the driver's own offset reads.
CONNECTION_ATTR = "kith_connection"
_DEFAULT_FETCH_MAX_WAIT_MS = 25


def on_loop(loop: asyncio.AbstractEventLoop, call: Callable[..., object], *args: object) -> None:
    """Make ``call(*args)`` on ``loop``: at once from its own thread, else as soon as that loop
    wakes, which ``call_soon_threadsafe`` makes it do. A future of the consumer thread's loop
    resolved from faust's thread waited for that loop's next timer to be noticed."""
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        call(*args)
    else:
        loop.call_soon_threadsafe(call, *args)


class FastConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """The worker consumer thread, with the fetch wait taken from settings."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer: aiokafka.AIOKafkaConsumer = super()._create_worker_consumer(transport)
        # faust passes 1500 to the constructor; the fetcher reads both when started.
        consumer._fetch_max_wait_ms = getattr(
            self.app, FETCH_MAX_WAIT_ATTR, _DEFAULT_FETCH_MAX_WAIT_MS
        )
        consumer._consumer_timeout = FETCH_ROUTINE_WAKE_MS / 1000
        return consumer

    # mode's thread service pokes the thread's loop every second (``_thread_keepalive``)
    # and, every 1.1 s, both loops (``_keepalive2``, which also logs a thread that stopped
    # answering), so that work queued without waking the thread's loop is seen. faust's
    # aiokafka driver queues every call with ``call_soon_threadsafe`` (``call_thread``),
    # which wakes that loop at once: the pokes were three of an idle worker's sixteen
    # wakes a second, and did nothing.
    @mode.Service.task
    async def _thread_keepalive(self) -> None:
        return

    async def _keepalive2(self) -> None:
        return

    def verify_event_path(self, now: float, tp: TP) -> None:
        # The changelogs of the tables a worker holds are paused in the Kafka client too
        # (``FastConsumer.pause_partitions``): not fetching them is meant. faust's check
        # logged an error for each of them (about sixty) every 1.25 s once the worker was
        # five minutes old.
        if tp in self.consumer._paused_partitions:
            return
        super().verify_event_path(now, tp)

    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        if self.consumer.in_transaction:  # never in Kith; faust's own answer there
            ends: Mapping[TP, int] = await super()._highwaters(partitions)
            return ends
        transport = cast(faust_aiokafka.Transport, self.transport)
        connection = getattr(self.app, CONNECTION_ATTR, None)
        if connection is None:
            connection = ",".join(faust_aiokafka.server_list(transport.url, transport.default_port))
        exact = await end_offsets(
            connection, [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        )
        return {tp: exact[TopicPartition(tp.topic, tp.partition)] for tp in partitions}


class FastConsumer(faust_aiokafka.Consumer):
    """A consumer whose thread uses ``FastConsumerThread``, whose streams see each partition
    in order from where it was last sought (``ordering.InOrder``), and that never counts a
    message a rebalance made a stream skip as handled."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._in_order = InOrder()
        busy_ms = getattr(self.app, FETCH_MAX_WAIT_ATTR, _DEFAULT_FETCH_MAX_WAIT_MS)
        idle_ms = getattr(self.app, IDLE_FETCH_MAX_WAIT_ATTR, busy_ms)
        self._wait = FetchWait(busy_ms=busy_ms, idle_ms=idle_ms)
        self._watch = Watch()
        # Messages handed to the streams, and as of the last look at progress.
        self._handed = self._handed_at_look = 0

    async def verify_all_partitions_active(self) -> None:
        # faust yields to the loop before checking each partition, every 1.25 s: with about
        # sixty partitions, an idle worker woke a hundred times a second for it. Each check
        # is a few dictionary looks, so they run in one go.
        now = time.monotonic()
        for tp in self.assignment():
            if self.should_stop:
                return
            self.verify_event_path(now, tp)

    @mode.Service.timer(WATCH_EVERY_S)
    async def _watch_progress(self) -> None:
        await self.kick_stalled()

    async def kick_stalled(self) -> list[TP]:
        """Read again from its committed offset (resumed) each partition that stopped moving
        with messages waiting (``progress``); return them."""
        kicked: list[TP] = []
        client: aiokafka.AIOKafkaConsumer | None = cast(FastConsumerThread, self._thread)._consumer
        # Only while the worker is idle: a busy one moves its partitions in turn, and one
        # read again would only be handled twice.
        busy, self._handed_at_look = self._handed != self._handed_at_look, self._handed
        if client is None or busy or self.app.rebalancing or not self.app.flow_control.is_active():
            self._watch.reset()
            return kicked
        acking = self.app.topics.acks_enabled_for
        paused = client.paused()
        for tp in self.assignment():
            if not acking(tp.topic) or tp in self._paused_partitions:
                continue
            kafka_tp = TopicPartition(tp.topic, tp.partition)
            acked = self._acked.get(tp)
            seen = Seen(
                committed=self._committed_offset.get(tp),
                read=self._read_offset.get(tp),
                end=client.highwater(kafka_tp),
                first_acked=min(acked) if acked else None,
                paused_in_client=kafka_tp in paused,
            )
            reason = self._watch.look(tp, seen)
            if reason is None:
                continue
            log.warning(
                "partition not moving: reading it again", tp=str(tp), why=reason, **asdict(seen)
            )
            if seen.paused_in_client:
                client.resume(kafka_tp)
            kicked.append(tp)
            if seen.committed is None:
                continue
            self._in_order.sought(tp, seen.committed)
            await self._fetch_again(tp, seen.committed)
        return kicked

    async def _fetch_again(self, tp: TP, offset: int) -> None:
        """Fetch ``tp`` again from ``offset``, in the consumer's own thread (``seek`` calls
        into it from this one)."""
        try:
            await self.seek_wait({tp: offset})
        except IllegalStateError:
            # A rebalance took the partition meanwhile: its next owner starts from the
            # committed offset, which is never past this one.
            log.warning("partition gone before it was fetched again", tp=str(tp))

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return FastConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:  # noqa: ASYNC109 (faust's signature)
        # One call hands out one batch: a refetch asked for during it makes the rest of the
        # partition's messages in it stale.
        refetching: set[TP] = set()
        acking = self.app.topics.acks_enabled_for
        read = 0
        async for tp, message in super().getmany(timeout):
            read += 1
            if not acking(tp.topic):  # changelogs: recovery positions and reads them itself
                yield tp, message
                continue
            verdict = self._in_order.admit(tp, message.offset, refetching=tp in refetching)
            if verdict is Verdict.DELIVER:
                self._handed += 1
                yield tp, message
            elif verdict is Verdict.REFETCH:
                expected = self._in_order.expected(tp)
                log.warning(
                    "offsets jumped: fetching again",
                    tp=str(tp),
                    expected=expected,
                    fetched=message.offset,
                )
                refetching.add(tp)
                await self._fetch_again(tp, cast(int, expected))
        # faust calls this in a loop with a timeout: an empty call is a quiet spell.
        self._wait.after_read(cast(FastConsumerThread, self._thread)._consumer, read)

    async def _seek(self, partition: TP, offset: int) -> None:
        await super()._seek(partition, offset)
        self._in_order.sought(partition, offset)

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed: Mapping[TP, int] = await super().seek_to_committed()
        for tp, offset in committed.items():
            self._in_order.sought(tp, offset)
        return committed

    def pause_partitions(self, tps: Iterable[TP]) -> None:
        # faust pauses a partition for its own reads only (the changelogs of the tables this
        # worker holds, once they are recovered), so the Kafka client went on fetching it:
        # about half of every fetch, which costs the broker more than the data does.
        tps = set(tps)
        super().pause_partitions(tps)
        self._in_client(tps, paused=True)

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        tps = set(tps)
        super().resume_partitions(tps)
        self._in_client(tps, paused=False)

    def _in_client(self, tps: set[TP], *, paused: bool) -> None:
        """Pause or resume ``tps`` in the Kafka client too, once the consumer thread has
        started it (the client takes its own ``TopicPartition``, equal to faust's ``TP``
        but not one)."""
        thread = cast(FastConsumerThread, self._thread)
        client: aiokafka.AIOKafkaConsumer | None = thread._consumer
        if client is None:
            return

        def apply() -> None:
            assigned = [tp for tp in client.assignment() if tp in tps]
            if paused:
                client.pause(*assigned)
            else:
                client.resume(*assigned)

        # On the client's own loop, which reads its assignment there too: resuming resolves
        # a future its fetch routine waits on.
        on_loop(thread.thread_loop, apply)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self._in_order.forget(tp)
        await super().on_partitions_revoked(revoked)

    def ack(self, message: Message) -> bool:
        # faust's streams skip a message fetched before a rebalance began (an older
        # generation, or the flow stopped for the rebalance) and acknowledge it all the same:
        # the next commit then passed messages nobody handled. Refused here, the commit stops
        # short of them and they are fetched again from the committed offset. (A message
        # handled just before, whose offers were still in flight, is handled again: offers
        # keep their ids, so that has no second effect.)
        if (
            message.generation_id != self.app.consumer_generation_id
            or not self.app.flow_control.is_active()
        ):
            message.acked = True  # so that nothing waits for it
            self._unacked_messages.discard(message)
            return False
        acked: bool = super().ack(message)
        return acked

    def _new_offset(self, tp: TP) -> int | None:
        # faust commits past one unhandled message at the head of the acknowledged ones (it
        # compares with the committed offset as if that were the last handled).
        acked = self._acked[tp]
        committed = self._committed_offset[tp]
        if acked and committed is not None and min(acked) > committed:
            return None
        offset: int | None = super()._new_offset(tp)
        return offset


class KithProducer(faust_aiokafka.Producer):
    """A producer that turns on idempotence when settings say the broker supports it."""

    def _settings_extra(self) -> Mapping[str, Any]:
        extra: dict[str, Any] = dict(super()._settings_extra())
        if getattr(self.app, IDEMPOTENCE_ATTR, False):
            extra.update(acks="all", enable_idempotence=True)
        return extra


class KithTransport(faust_aiokafka.Transport):
    """faust's aiokafka transport with Kith's consumer and producer."""

    Consumer = FastConsumer
    Producer = KithProducer


def register_transport() -> None:
    """Make ``kith://host:port`` resolve to ``KithTransport`` (idempotent)."""
    faust_drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:KithTransport"
