"""The faust application: tables per neighbourhood, thin agents, and the round timer.

Agents take raw bytes and decode through the shared contracts; what cannot be read, or does
not belong on its topic, goes to the dead-letter topic and the agent carries on. All
neighbourhood-keyed topics feed one agent, so a neighbourhood's state is updated in one place.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, cast

import faust
import structlog
from faust.tables import TableManager
from faust.tables.recovery import Recovery
from pydantic import ValidationError

from services.matching.domain import Policy
from services.matching.driver import (
    CONNECTION_ATTR,
    FETCH_MAX_WAIT_ATTR,
    IDEMPOTENCE_ATTR,
    IDLE_FETCH_MAX_WAIT_ATTR,
    register_transport,
)
from services.matching.filing import Forward, filing_topics
from services.matching.handlers import DueRound, Matcher, Outgoing
from services.matching.state import MatchingState
from shared import metrics
from shared.contracts import UndecodableEvent, decode, encode, key_for, tombstone_of, utc_now
from shared.contracts.registry import EVENTS_BY_TOPIC
from shared.contracts.topics import (
    AVAILABILITY,
    BOOKINGS,
    DEAD_LETTERS,
    NEIGHBOURHOOD_PARTITIONS,
    OFFERS,
    PARTNERS,
    PEOPLE,
    RELATIONSHIPS,
    REQUESTS,
    STANDING,
    Topic,
)
from shared.contracts.trust import StandingChanged
from shared.messaging.connection import KafkaConnection
from shared.messaging.dead_letters import dead_letter as shared_dead_letter
from shared.messaging.publisher import Headers
from shared.settings import Settings

log = structlog.get_logger(__name__)
#: The standard library's logger behind ``log``: it knows which levels are kept.
_stdlib_log = logging.getLogger(__name__)

APP_ID = "kith-matching"
CONSUMER_NAME = "matching"
#: The neighbourhood-keyed streams matching reads (co-partitioned: one count, one key).
NEIGHBOURHOOD_TOPICS: tuple[Topic, ...] = (PEOPLE, AVAILABILITY, RELATIONSHIPS, REQUESTS, BOOKINGS)
#: Every Kith stream matching reads (besides its own internal topics).
CONSUMED: tuple[Topic, ...] = (*NEIGHBOURHOOD_TOPICS, STANDING, PARTNERS)
_RUNTIME_ATTR = "kith_runtime"
#: Wait this long before ticking the same round again (its tick may still be in flight).
_RETICK_S = 5.0
_RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


class ReseekingRecovery(Recovery):
    """faust's table recovery, with one more seek to the committed offsets at its end.

    faust lets the streams flow part-way through a recovery (to read standby and global
    changelogs), so a worker taking over partitions fetches and queues their events; at the
    end it seeks to the committed offsets and only then resumes flow control, which empties
    the agents' queues. Events queued in between were dropped while the fetch position was
    already past them: lost until the worker restarted (``kith faults``' matcher_kill found
    it). Seeking again once the queues are emptied fetches them again; an event handled twice
    has no second effect (offers keep their ids, state is keyed).
    """

    # faust's own (quiet) logger family; see ``EagerTableManager``.
    logger = logging.getLogger("faust.tables.recovery.kith")

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        await super().on_recovery_completed(generation_id)
        # Skipped when another rebalance began meanwhile: its own recovery seeks.
        if self.app.consumer_generation_id == generation_id and not self.app.rebalancing:
            await self.app.consumer.perform_seek()


class EagerTableManager(TableManager):
    """faust's table manager without its hard-coded one-second sleep at start, recovering
    with ``ReseekingRecovery``."""

    # Log under faust's (quiet) loggers, not this module's (matching's own logs). A name of
    # our own: mode replaces a logger it has already handed out with the module's.
    logger = logging.getLogger("faust.tables.manager.kith")

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = ReseekingRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery

    async def on_start(self) -> None:
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


class Runtime:
    """What the running app holds besides faust's own: the handlers and readiness."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.ready = asyncio.Event()
        """Set once partitions are assigned and tables recovered."""


def policy_from(settings: Settings) -> Policy:
    """The cascade's knobs from settings."""
    return Policy(
        regular_hold_s=settings.regular_hold_s,
        offer_ttl_s=settings.offer_ttl_s,
        cascade_width=settings.cascade_width,
        cascade_rounds=settings.cascade_rounds,
        short_notice_s=settings.short_notice_h * 3600,
        escalate_before_s=settings.reoffer_escalate_before_h * 3600,
    )


def runtime_of(app: faust.App) -> Runtime:
    """The runtime ``create_app`` attached to ``app``."""
    runtime: Runtime = getattr(app, _RUNTIME_ATTR)
    return runtime


def create_app(
    settings: Settings, *, app_id: str = APP_ID, from_beginning: bool = True
) -> faust.App:
    """Build the matching app; nothing connects until it is started.

    Args:
        settings: Kith settings (broker, timeouts, cascade knobs).
        app_id: The faust app id: consumer group and changelog topic prefix.
        from_beginning: Where a new consumer group starts reading (tests read only the new).
    """
    register_transport()
    # faust's own loggers keep a level the process chose (``configure_logging`` keeps their
    # info at debug); otherwise they say only warnings.
    for name in ("faust", "mode"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    # faust's services log through the logger of the module their class is defined in: the
    # driver's subclasses are as chatty as faust itself.
    for name in ("aiokafka", "services.matching.driver"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.WARNING))
    session_s = settings.session_timeout_ms / 1000
    datadir = settings.state_dir / "matching" / app_id
    # faust makes only the last folder, and tables here are in memory: the folder stays empty.
    datadir.parent.mkdir(parents=True, exist_ok=True)
    connection = KafkaConnection.from_settings(settings)
    app = faust.App(
        app_id,
        broker=f"kith://{connection.bootstrap}",
        **connection.faust(),
        store="memory://",
        topic_partitions=NEIGHBOURHOOD_PARTITIONS,
        topic_replication_factor=settings.kafka_replication_factor,
        broker_session_timeout=session_s,
        broker_rebalance_timeout=settings.rebalance_timeout_ms / 1000,
        broker_heartbeat_interval=settings.heartbeat_interval_ms / 1000,
        broker_request_timeout=max(session_s, 10.0),
        stream_recovery_delay=0.0,
        broker_commit_interval=0.5,
        producer_linger=0.0,
        producer_acks=-1 if settings.kafka_acks in {"all", "-1"} else int(settings.kafka_acks),
        consumer_auto_offset_reset="earliest" if from_beginning else "latest",
        TableManager=EagerTableManager,
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(datadir),
    )
    setattr(app, FETCH_MAX_WAIT_ATTR, settings.fetch_max_wait_ms)
    setattr(app, IDLE_FETCH_MAX_WAIT_ATTR, settings.background_fetch_max_wait_ms)
    setattr(app, IDEMPOTENCE_ATTR, settings.kafka_idempotence)
    setattr(app, CONNECTION_ATTR, connection)

    def table(name: str) -> Any:
        return app.Table(
            name,
            partitions=NEIGHBOURHOOD_PARTITIONS,
            schema=_table_schema(),
        )

    state = MatchingState(
        helpers=table("helpers"),
        # Keyed by helper, on the partitions of the facts topic that feeds it (``filing``).
        ledger=table("helper-ledger"),
        roster=table("roster"),
        relationships=table("relationships"),
        progress=table("progress"),
        # One entry per open request; "open-requests" held one document per neighbourhood.
        open_requests=table("open-rounds"),
        # Standing is keyed by person, not neighbourhood: every worker keeps all of it.
        # One partition, as faust advises for a GlobalTable read by several workers.
        standing=app.GlobalTable(
            "standing",
            partitions=1,
            use_partitioner=True,
            recovery_buffer_size=1,
            schema=_table_schema(),
        ),
        series=table("series"),
        unmatched=table("unmatched"),
        # Partners' services are keyed by partner, and each covers neighbourhoods on any
        # partition: every worker keeps all of them, like standing.
        partner_services=app.GlobalTable(
            "partner-services",
            partitions=1,
            use_partitioner=True,
            recovery_buffer_size=1,
            schema=_table_schema(),
        ),
    )
    runtime = Runtime(Matcher(state, policy_from(settings), loopback=False))
    setattr(app, _RUNTIME_ATTR, runtime)
    _wire(app, runtime, settings)
    return app


def _wire(app: faust.App, runtime: Runtime, settings: Settings) -> None:
    matcher = runtime.matcher
    allowed = {
        topic.name: {(cls.TYPE, cls.VERSION) for cls in EVENTS_BY_TOPIC[topic]}
        for topic in CONSUMED
    }
    neighbourhood_topics = app.topic(*(t.name for t in NEIGHBOURHOOD_TOPICS), **_RAW)
    standing_topic = app.topic(STANDING.name, **_RAW)
    partners_topic = app.topic(PARTNERS.name, **_RAW)
    offers_topic = app.topic(OFFERS.name, **_RAW)
    dead_letters = app.topic(DEAD_LETTERS.name, **_RAW)
    # Rounds run out of time outside any event; faust tables change only inside a stream,
    # so the timer sends the owner a tick on this internal, co-partitioned topic.
    ticks = app.topic(
        f"{app.conf.id}-round-due",
        partitions=NEIGHBOURHOOD_PARTITIONS,
        internal=True,
        **_RAW,
    )
    # A helper's changes, keyed by helper, then their copies keyed by each neighbourhood in
    # reach: co-partitioned with the neighbourhood streams, so a copy is filed on the
    # partition that decides that neighbourhood's requests (``filing``).
    facts_name, copies_name = filing_topics(app.conf.id)
    facts_topic = app.topic(facts_name, partitions=NEIGHBOURHOOD_PARTITIONS, internal=True, **_RAW)
    copies_topic = app.topic(
        copies_name, partitions=NEIGHBOURHOOD_PARTITIONS, internal=True, **_RAW
    )
    filing_channels = {"facts": facts_topic, "copies": copies_topic}

    async def send_dead_letter(key: bytes | None, value: bytes | None, headers: Headers) -> None:
        await (await dead_letters.send(key=key, value=value, headers=headers))

    async def dead_letter(
        message: Any,
        reason: str,
        category: metrics.DeadLetterReason = metrics.DeadLetterReason.HANDLER_FAILED,
    ) -> None:
        await shared_dead_letter(
            send_dead_letter,
            message,
            reason=reason,
            category=category,
            consumer=CONSUMER_NAME,
            service=CONSUMER_NAME,
        )

    async def publish(event: Any, outgoing: Outgoing, forwards: list[Forward]) -> None:
        """Send what ``event`` caused; acknowledge ``event`` once the broker has all of it.

        ``forwards`` are the facts and copies its handler filed (``Matcher.take_forwards``,
        taken right after the handler, before anything else could run). The agent goes on to
        the next event meanwhile: waiting here for each event's acknowledgements would cap a
        worker at one broker round trip per event. An event is committed only once
        acknowledged, so at least once holds; a send that fails stops the worker before the
        event is committed, and it is handled again after the restart.
        """
        sent = [
            # aiokafka's delivery future, once the message is in the producer's buffer.
            cast(
                "asyncio.Future[Any]",
                await offers_topic.send(
                    key=key_for(e.data),
                    value=encode(e),
                    headers=[("kith-type", e.type.encode())],
                ),
            )
            for e in outgoing
        ]
        for e in outgoing:
            metrics.EVENTS_PUBLISHED.labels(CONSUMER_NAME, OFFERS.name, e.type).inc()
        for forward in forwards:
            channel = filing_channels[forward.channel]
            future = await channel.send(key=forward.key, value=forward.value)
            sent.append(cast("asyncio.Future[Any]", future))
        acknowledge_when_sent(event, sent)

    crashes: set[asyncio.Future[None]] = set()

    def acknowledge_when_sent(event: Any, sent: list[asyncio.Future[Any]]) -> None:
        waiting = len(sent)
        if not waiting:
            event.ack()
            return

        def on_sent(future: asyncio.Future[Any]) -> None:
            nonlocal waiting
            failure = future.exception() if not future.cancelled() else asyncio.CancelledError()
            if failure is not None:
                log.error(
                    "send failed: stopping before the event is committed", error=repr(failure)
                )
                stopping = asyncio.ensure_future(app.crash(failure))
                crashes.add(stopping)
                stopping.add_done_callback(crashes.discard)
                return
            waiting -= 1
            if waiting == 0:
                event.ack()

        for future in sent:
            future.add_done_callback(on_sent)

    async def read(event: Any) -> Any:
        """The event's envelope, or ``None`` once it has been dead-lettered."""
        message = event.message
        try:
            envelope = decode(message.value)
        except UndecodableEvent as error:
            metrics.EVENTS_CONSUMED.labels(CONSUMER_NAME, message.topic, "undecodable").inc()
            await dead_letter(message, error.reason, metrics.DeadLetterReason.UNDECODABLE)
            return None
        metrics.EVENTS_CONSUMED.labels(CONSUMER_NAME, message.topic, envelope.type).inc()
        if (envelope.type, envelope.version) not in allowed[message.topic]:
            reason = (
                f"event {envelope.type!r} v{envelope.version} does not belong on {message.topic}"
            )
            await dead_letter(message, reason, metrics.DeadLetterReason.WRONG_TOPIC)
            return None
        return envelope

    @app.agent(neighbourhood_topics)
    async def neighbourhood_events(stream: Any) -> None:
        # Acknowledged by ``publish`` once what the event caused is on the broker.
        async for event in stream.noack().events():
            envelope = await read(event)
            if envelope is None:
                event.ack()
                continue
            message = event.message
            if _stdlib_log.isEnabledFor(logging.DEBUG):  # structlog would format it to drop it
                log.debug(
                    "event",
                    type=envelope.type,
                    event_id=str(envelope.event_id),
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                )
            try:
                with metrics.HANDLER_SECONDS.labels(CONSUMER_NAME, message.topic).time():
                    outgoing = matcher.handle(envelope, message.partition, utc_now())
            except Exception as error:
                log.exception("handler failed", topic=message.topic, offset=message.offset)
                matcher.take_forwards()
                await dead_letter(message, f"handler failed: {error!r}")
                event.ack()
                continue
            await publish(event, outgoing, matcher.take_forwards())

    @app.agent(facts_topic)
    async def helper_facts(stream: Any) -> None:
        # Acknowledged by ``publish`` once the copies are on the broker.
        async for event in stream.noack().events():
            try:
                matcher.handle_fact(event.message.value)
            except (ValidationError, RecursionError) as error:
                matcher.take_forwards()
                await dead_letter(
                    event.message,
                    f"malformed helper fact: {error!r}"[:500],
                    metrics.DeadLetterReason.UNDECODABLE,
                )
                event.ack()
                continue
            await publish(event, [], matcher.take_forwards())

    @app.agent(copies_topic)
    async def helper_copies(stream: Any) -> None:
        # Acknowledged by ``publish`` once the offers the new copy made possible are sent
        # (an escalated request the helper can now take is asked again).
        async for event in stream.noack().events():
            try:
                outgoing = matcher.handle_copy(event.message.value, utc_now())
            except (ValidationError, RecursionError) as error:
                await dead_letter(
                    event.message,
                    f"malformed helper copy: {error!r}"[:500],
                    metrics.DeadLetterReason.UNDECODABLE,
                )
                event.ack()
                continue
            await publish(event, outgoing, matcher.take_forwards())

    @app.agent(standing_topic)
    async def standing_events(stream: Any) -> None:
        # Acknowledged by ``publish`` once the news of a vetted helper is sent (or at once).
        async for event in stream.noack().events():
            message = event.message
            forgotten = tombstone_of(message.topic, message.key, message.value)
            if forgotten is not None:  # trust forgot an erased person: so does matching
                metrics.EVENTS_CONSUMED.labels(CONSUMER_NAME, message.topic, "tombstone").inc()
                matcher.forget_standing(uuid.UUID(forgotten))
                event.ack()
                continue
            envelope = await read(event)
            if envelope is not None and isinstance(envelope.data, StandingChanged):
                # A helper newly vetted or reinstated is news (a fact) to their ledger.
                outgoing = matcher.handle_standing(envelope.data, utc_now())
                await publish(event, outgoing, matcher.take_forwards())
                continue
            event.ack()

    @app.agent(partners_topic)
    async def partner_events(stream: Any) -> None:
        # Every partner event type is allowed here (so none is dead-lettered for being
        # unused); the matcher keeps the services and ignores the rest.
        async for event in stream.events():
            envelope = await read(event)
            if envelope is not None:
                matcher.handle_partner(envelope.data)

    @app.agent(ticks)
    async def round_due(stream: Any) -> None:
        async for event in stream.noack().events():
            try:
                document = json.loads(event.message.value)
                due = DueRound(
                    document["neighbourhood"],
                    uuid.UUID(document["request_id"]),
                    int(document["round"]),
                )
            except (ValueError, KeyError, TypeError, RecursionError) as error:
                await dead_letter(
                    event.message,
                    f"malformed round tick: {error!r}",
                    metrics.DeadLetterReason.UNDECODABLE,
                )
                event.ack()
                continue
            await publish(event, matcher.round_due(due, utc_now()), matcher.take_forwards())

    ticked: dict[tuple[uuid.UUID, int], float] = {}

    async def advance_due_rounds() -> None:
        if not runtime.ready.is_set():
            return
        owned = {
            tp.partition for tp in app.assignor.assigned_actives() if tp.topic == REQUESTS.name
        }
        clock = time.monotonic()
        for due in matcher.due_rounds(utc_now(), owned):
            if clock - ticked.get((due.request_id, due.round), -_RETICK_S) < _RETICK_S:
                continue
            ticked[(due.request_id, due.round)] = clock
            document = {
                "neighbourhood": due.neighbourhood,
                "request_id": str(due.request_id),
                "round": due.round,
            }
            await ticks.send(key=due.neighbourhood.encode(), value=json.dumps(document).encode())
        for stale in [k for k, at in ticked.items() if clock - at > 4 * _RETICK_S]:
            del ticked[stale]

    app.timer(interval=_timer_interval(settings))(advance_due_rounds)

    async def on_rebalanced(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        runtime.ready.set()
        # Which neighbourhood partitions this worker now matches: operators (and the fault
        # scenarios) read it to see how the workers split the work.
        owned = sorted(
            tp.partition for tp in app.assignor.assigned_actives() if tp.topic == REQUESTS.name
        )
        log.info("partitions assigned", partitions=owned)

    app.on_rebalance_complete.connect(on_rebalanced)


def _table_schema() -> faust.Schema[str, bytes]:
    """String keys (JSON) and JSON bytes values that matching encodes itself."""
    return faust.Schema(
        key_type=str, value_type=bytes, key_serializer="json", value_serializer="raw"
    )


def _timer_interval(settings: Settings) -> float:
    """Often enough that a round ends close to its time, never busier than 10 a second."""
    shortest = min(settings.offer_ttl_s, settings.regular_hold_s or settings.offer_ttl_s)
    return max(0.1, min(1.0, shortest / 4))
