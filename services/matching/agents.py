"""Matching's agents: thin readers of each stream that hand events to the ``Matcher`` and send
what it decided, plus the round timer.

Agents take raw bytes and decode through the shared contracts; what cannot be read, or does
not belong on its topic, goes to the dead-letter topic and the agent carries on. All
neighbourhood-keyed topics feed one agent, so a neighbourhood's state is updated in one place.
An event is acknowledged (and so committed) only once everything it caused is on the broker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import faust
import structlog
from pydantic import ValidationError

from services.matching.filing import Forward, filing_topics
from services.matching.handlers import DueRound, Outgoing
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
from shared.messaging.dead_letters import dead_letter as shared_dead_letter
from shared.messaging.publisher import Headers

if TYPE_CHECKING:
    from services.matching.app import Runtime

log = structlog.get_logger(__name__)
#: The standard library's logger behind ``log``: it knows which levels are kept.
_stdlib_log = logging.getLogger(__name__)

CONSUMER_NAME = "matching"
#: The neighbourhood-keyed streams matching reads (co-partitioned: one count, one key).
NEIGHBOURHOOD_TOPICS: tuple[Topic, ...] = (PEOPLE, AVAILABILITY, RELATIONSHIPS, REQUESTS, BOOKINGS)
#: Every Kith stream matching reads (besides its own internal topics).
CONSUMED: tuple[Topic, ...] = (*NEIGHBOURHOOD_TOPICS, STANDING, PARTNERS)
#: Wait this long before ticking the same round again (its tick may still be in flight).
_RETICK_S = 5.0
_RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


class Agents:
    """The topics matching reads and writes, and an agent per stream, on one faust app."""

    def __init__(self, app: faust.App, runtime: Runtime, timer_interval_s: float) -> None:
        self._app = app
        self._runtime = runtime
        self._matcher = runtime.matcher
        self._allowed = {
            topic.name: {(cls.TYPE, cls.VERSION) for cls in EVENTS_BY_TOPIC[topic]}
            for topic in CONSUMED
        }
        self._dead_letters = app.topic(DEAD_LETTERS.name, **_RAW)
        # Rounds run out of time outside any event; faust tables change only inside a
        # stream, so the timer sends the owner a tick on this internal, co-partitioned topic.
        self._ticks = app.topic(
            f"{app.conf.id}-round-due", partitions=NEIGHBOURHOOD_PARTITIONS, internal=True, **_RAW
        )
        # A helper's changes, keyed by helper, then their copies keyed by each neighbourhood
        # in reach: co-partitioned with the neighbourhood streams, so a copy is filed on the
        # partition that decides that neighbourhood's requests (``filing``).
        facts_name, copies_name = filing_topics(app.conf.id)
        facts = app.topic(facts_name, partitions=NEIGHBOURHOOD_PARTITIONS, internal=True, **_RAW)
        copies = app.topic(copies_name, partitions=NEIGHBOURHOOD_PARTITIONS, internal=True, **_RAW)
        self._filing = {"facts": facts, "copies": copies}
        self._crashes: set[asyncio.Future[None]] = set()
        self._ticked: dict[tuple[uuid.UUID, int], float] = {}
        agents: list[tuple[Any, Callable[[Any], Any]]] = [
            (app.topic(*(t.name for t in NEIGHBOURHOOD_TOPICS), **_RAW), self.neighbourhood_events),
            (facts, self.helper_facts),
            (copies, self.helper_copies),
            (app.topic(STANDING.name, **_RAW), self.standing_events),
            (app.topic(PARTNERS.name, **_RAW), self.partner_events),
            (self._ticks, self.round_due),
        ]
        for channel, agent in agents:
            app.agent(channel, name=f"matching.{agent.__name__}")(agent)
        app.timer(interval=timer_interval_s)(self.advance_due_rounds)
        app.on_rebalance_complete.connect(self.on_rebalanced)

    # -- sending ---------------------------------------------------------------------------

    async def _send_dead_letter(
        self, key: bytes | None, value: bytes | None, headers: Headers
    ) -> None:
        await (await self._dead_letters.send(key=key, value=value, headers=headers))

    async def _dead_letter(
        self,
        message: Any,
        reason: str,
        category: metrics.DeadLetterReason = metrics.DeadLetterReason.HANDLER_FAILED,
    ) -> None:
        await shared_dead_letter(
            self._send_dead_letter,
            message,
            reason=reason,
            category=category,
            consumer=CONSUMER_NAME,
            service=CONSUMER_NAME,
        )

    async def _publish(self, event: Any, outgoing: Outgoing, forwards: list[Forward]) -> None:
        """Send what ``event`` caused; acknowledge ``event`` once the broker has all of it.

        ``forwards`` are the facts and copies its handler filed (``Matcher.take_forwards``,
        taken right after the handler, before anything else could run). The agent goes on to
        the next event meanwhile: waiting here for each event's acknowledgements would cap a
        worker at one broker round trip per event. An event is committed only once
        acknowledged, so at least once holds; a send that fails stops the worker before the
        event is committed, and it is handled again after the restart.

        Everything goes through the producer itself, all of it in one turn of the loop, so
        that what one event sends to a partition leaves as one batch. faust's ``Topic.send``
        hands the loop over before each message (its producer lookup sleeps), so the
        producer's sender would take a request's first offer away alone: about 1.8 batches for
        three offers, and on the embedded broker each batch is an object that every later
        fetch of its partition lists.
        """
        producer = await self._app.maybe_start_producer()
        sent: list[asyncio.Future[Any]] = []
        for e in outgoing:
            headers = [("kith-type", e.type.encode())]
            future = await producer.send(
                OFFERS.name,
                key_for(e.data),
                encode(e),
                partition=None,
                timestamp=None,
                headers=headers,
            )
            sent.append(cast("asyncio.Future[Any]", future))
            metrics.EVENTS_PUBLISHED.labels(CONSUMER_NAME, OFFERS.name, e.type).inc()
        for forward in forwards:
            topic = self._filing[forward.channel].get_topic_name()
            future = await producer.send(
                topic, forward.key, forward.value, partition=None, timestamp=None, headers=None
            )
            sent.append(cast("asyncio.Future[Any]", future))
        self._acknowledge_when_sent(event, sent)

    def _acknowledge_when_sent(self, event: Any, sent: list[asyncio.Future[Any]]) -> None:
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
                stopping = asyncio.ensure_future(self._app.crash(failure))
                self._crashes.add(stopping)
                stopping.add_done_callback(self._crashes.discard)
                return
            waiting -= 1
            if waiting == 0:
                event.ack()

        for future in sent:
            future.add_done_callback(on_sent)

    async def _read(self, event: Any) -> Any:
        """The event's envelope, or ``None`` once it has been dead-lettered."""
        message = event.message
        try:
            envelope = decode(message.value)
        except UndecodableEvent as error:
            metrics.EVENTS_CONSUMED.labels(CONSUMER_NAME, message.topic, "undecodable").inc()
            await self._dead_letter(message, error.reason, metrics.DeadLetterReason.UNDECODABLE)
            return None
        metrics.EVENTS_CONSUMED.labels(CONSUMER_NAME, message.topic, envelope.type).inc()
        if (envelope.type, envelope.version) not in self._allowed[message.topic]:
            reason = (
                f"event {envelope.type!r} v{envelope.version} does not belong on {message.topic}"
            )
            await self._dead_letter(message, reason, metrics.DeadLetterReason.WRONG_TOPIC)
            return None
        return envelope

    async def _malformed(self, event: Any, what: str, error: Exception) -> None:
        await self._dead_letter(
            event.message,
            f"malformed {what}: {error!r}"[:500],
            metrics.DeadLetterReason.UNDECODABLE,
        )
        event.ack()

    # -- the agents ------------------------------------------------------------------------

    async def neighbourhood_events(self, stream: Any) -> None:
        # Acknowledged by ``_publish`` once what the event caused is on the broker.
        async for event in stream.noack().events():
            envelope = await self._read(event)
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
                    outgoing = self._matcher.handle(envelope, message.partition, utc_now())
            except Exception as error:
                log.exception("handler failed", topic=message.topic, offset=message.offset)
                self._matcher.take_forwards()
                await self._dead_letter(message, f"handler failed: {error!r}")
                event.ack()
                continue
            await self._publish(event, outgoing, self._matcher.take_forwards())

    async def helper_facts(self, stream: Any) -> None:
        # Acknowledged by ``_publish`` once the copies are on the broker.
        async for event in stream.noack().events():
            try:
                self._matcher.handle_fact(event.message.value)
            except (ValidationError, RecursionError) as error:
                self._matcher.take_forwards()
                await self._malformed(event, "helper fact", error)
                continue
            await self._publish(event, [], self._matcher.take_forwards())

    async def helper_copies(self, stream: Any) -> None:
        # Acknowledged by ``_publish`` once the offers the new copy made possible are sent
        # (an escalated request the helper can now take is asked again).
        async for event in stream.noack().events():
            try:
                outgoing = self._matcher.handle_copy(event.message.value, utc_now())
            except (ValidationError, RecursionError) as error:
                await self._malformed(event, "helper copy", error)
                continue
            await self._publish(event, outgoing, self._matcher.take_forwards())

    async def standing_events(self, stream: Any) -> None:
        # Acknowledged by ``_publish`` once the news of a vetted helper is sent (or at once).
        async for event in stream.noack().events():
            message = event.message
            forgotten = tombstone_of(message.topic, message.key, message.value)
            if forgotten is not None:  # trust forgot an erased person: so does matching
                metrics.EVENTS_CONSUMED.labels(CONSUMER_NAME, message.topic, "tombstone").inc()
                self._matcher.forget_standing(uuid.UUID(forgotten))
                event.ack()
                continue
            envelope = await self._read(event)
            if envelope is not None and isinstance(envelope.data, StandingChanged):
                # A helper newly vetted or reinstated is news (a fact) to their ledger.
                outgoing = self._matcher.handle_standing(envelope.data, utc_now())
                await self._publish(event, outgoing, self._matcher.take_forwards())
                continue
            event.ack()

    async def partner_events(self, stream: Any) -> None:
        # Every partner event type is allowed here (so none is dead-lettered for being
        # unused); the matcher keeps the services and ignores the rest.
        async for event in stream.events():
            envelope = await self._read(event)
            if envelope is not None:
                self._matcher.handle_partner(envelope.data)

    async def round_due(self, stream: Any) -> None:
        async for event in stream.noack().events():
            try:
                document = json.loads(event.message.value)
                due = DueRound(
                    document["neighbourhood"],
                    uuid.UUID(document["request_id"]),
                    int(document["round"]),
                )
            except (ValueError, KeyError, TypeError, RecursionError) as error:
                await self._malformed(event, "round tick", error)
                continue
            outgoing = self._matcher.round_due(due, utc_now())
            await self._publish(event, outgoing, self._matcher.take_forwards())

    # -- the timer and rebalances ----------------------------------------------------------

    def _owned(self) -> set[int]:
        assigned = self._app.assignor.assigned_actives()
        return {tp.partition for tp in assigned if tp.topic == REQUESTS.name}

    async def advance_due_rounds(self) -> None:
        if not self._runtime.ready.is_set():
            return
        clock = time.monotonic()
        for due in self._matcher.due_rounds(utc_now(), self._owned()):
            if clock - self._ticked.get((due.request_id, due.round), -_RETICK_S) < _RETICK_S:
                continue
            self._ticked[(due.request_id, due.round)] = clock
            document = {
                "neighbourhood": due.neighbourhood,
                "request_id": str(due.request_id),
                "round": due.round,
            }
            await self._ticks.send(
                key=due.neighbourhood.encode(), value=json.dumps(document).encode()
            )
        for stale in [k for k, at in self._ticked.items() if clock - at > 4 * _RETICK_S]:
            del self._ticked[stale]

    async def on_rebalanced(self, sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        self._runtime.ready.set()
        # Which neighbourhood partitions this worker now matches: operators (and the fault
        # scenarios) read it to see how the workers split the work.
        log.info("partitions assigned", partitions=sorted(self._owned()))
