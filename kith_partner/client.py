"""``PartnerClient``: produce checked events to Kith's partner inbox and consume your feed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence
from types import TracebackType
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from kith_partner.feed import FeedEvent, read_feed_message
from shared.contracts import Envelope, Payload, UndecodableEvent, decode, encode
from shared.contracts.inbox_signature import SIGNATURE_HEADER, sign_inbox_message, signing_key
from shared.contracts.registry import PARTNER_SENDABLE
from shared.contracts.topics import PARTNERS_INBOX, partner_feed
from shared.contracts.trust import VettingStepRecorded
from shared.messaging.connection import KafkaConnection


class InvalidEvent(ValueError):
    """An event Kith would refuse; the message says why. Nothing was sent."""


class PartnerClient:
    """A partner's connection to Kith over Kafka (and, optionally, its HTTP API).

    Args:
        kafka: The Kafka bootstrap address Kith gave the partner (plaintext, as on a
            development Kith), or a ``KafkaConnection`` with the partner's SASL user and
            TLS settings (production).
        partner_id: The partner's id.
        api_key: The partner's API key (shown once at registration).
        api_url: The partners API (``http://host:8002``), for ``me`` and ``rejections``.
        group_id: The consumer group reading the feed; one per partner service.
        producer_name: Names the partner in the envelopes it sends.
        fetch_max_wait_ms: How long a feed fetch waits for data (small on a quiet broker).
        session_timeout_ms: The feed consumer's session timeout.
        rebalance_timeout_ms: How long a feed group join may wait.
        from_beginning: Whether a new group starts at the oldest event of the feed.
    """

    def __init__(
        self,
        kafka: str | KafkaConnection,
        partner_id: uuid.UUID | str,
        api_key: str,
        *,
        api_url: str | None = None,
        group_id: str | None = None,
        producer_name: str | None = None,
        fetch_max_wait_ms: int = 10,
        session_timeout_ms: int = 6000,
        rebalance_timeout_ms: int = 3000,
        from_beginning: bool = True,
    ) -> None:
        self.partner_id = uuid.UUID(str(partner_id))
        self._kafka = KafkaConnection.of(kafka)
        self._api_key = api_key
        # Inbox messages are signed with the key's hash: the key itself never goes on a topic.
        self._signing_key = signing_key(api_key)
        self._api_url = api_url
        self._group_id = group_id or f"partner-{self.partner_id}"
        self._producer_name = producer_name or f"partner:{self.partner_id}"
        self._consumer_options: dict[str, Any] = {
            "fetch_max_wait_ms": fetch_max_wait_ms,
            "session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": max(100, session_timeout_ms // 10),
            "rebalance_timeout_ms": rebalance_timeout_ms,
            "auto_offset_reset": "earliest" if from_beginning else "latest",
        }
        self._producer: AIOKafkaProducer | None = None

    @property
    def feed_topic(self) -> str:
        """The topic the partner reads."""
        return partner_feed(self.partner_id)

    async def __aenter__(self) -> PartnerClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect the producer."""
        # Idempotence off: Kith's embedded broker does not support it. The gateway dedupes
        # by event id, so a retried send has no second effect anyway.
        self._producer = AIOKafkaProducer(
            **self._kafka.aiokafka(), enable_idempotence=False, acks="all"
        )
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def vetting_step(self, **fields: Any) -> VettingStepRecorded:
        """A ``VettingStepRecorded`` attributed to this partner, as the gateway requires."""
        return VettingStepRecorded(recorded_by=f"partner:{self.partner_id}", **fields)

    def check(self, envelope: Envelope[Any]) -> None:
        """Raise ``InvalidEvent`` if Kith would refuse ``envelope`` for a reason seen here."""
        payload = envelope.data
        if type(payload) not in PARTNER_SENDABLE:
            sendable = sorted(cls.TYPE for cls in PARTNER_SENDABLE)
            raise InvalidEvent(f"{payload.TYPE!r} is not sendable by partners; send {sendable}")
        sender = getattr(payload, "partner_id", None)
        if sender is not None and sender != self.partner_id:
            raise InvalidEvent(f"partner_id {sender} is not this partner ({self.partner_id})")
        if isinstance(payload, VettingStepRecorded) and payload.recorded_by != (
            expected := f"partner:{self.partner_id}"
        ):
            raise InvalidEvent(f"recorded_by must be {expected!r} (use vetting_step())")
        try:
            # Exactly what the gateway will do with the bytes: catches a payload built
            # without validation (model_construct) as well.
            decode(encode(envelope))
        except UndecodableEvent as error:
            raise InvalidEvent(error.reason) from error

    async def send(
        self,
        payload: Payload,
        *,
        correlation_id: uuid.UUID | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope[Payload]:
        """Check ``payload`` and produce it to the inbox; return the envelope sent.

        Sending the same ``event_id`` again (a retry) has no second effect.

        Raises:
            InvalidEvent: Kith would refuse it; nothing was sent.
        """
        envelope: Envelope[Payload] = Envelope.wrap(
            payload,
            producer=self._producer_name,
            correlation_id=correlation_id,
            event_id=event_id,
        )
        self.check(envelope)
        if self._producer is None:
            raise RuntimeError("PartnerClient.start() has not run")
        value = encode(envelope)
        signature = sign_inbox_message(self._signing_key, str(self.partner_id), value)
        await self._producer.send_and_wait(
            PARTNERS_INBOX.name,
            value=value,
            key=str(self.partner_id).encode(),
            headers=[(SIGNATURE_HEADER, signature.encode())],
        )
        return envelope

    async def feed(self, *, topics: Sequence[str] = ()) -> AsyncGenerator[FeedEvent, None]:
        """Yield the partner's feed, forever, committing each event once the loop body that
        received it has finished (a crash re-delivers it: dedupe by ``event_id``).

        A message that is not a readable event is skipped: the feed is written by Kith alone.
        """
        consumer = AIOKafkaConsumer(
            *(topics or (self.feed_topic,)),
            **self._kafka.aiokafka(),
            group_id=self._group_id,
            enable_auto_commit=False,
            **self._consumer_options,
        )
        await consumer.start()
        try:
            async for record in consumer:
                try:
                    event = read_feed_message(record.value)
                except UndecodableEvent:
                    event = None
                if event is not None:
                    yield event
                partition = TopicPartition(record.topic, record.partition)
                await consumer.commit({partition: record.offset + 1})
        finally:
            await consumer.stop()

    async def me(self) -> dict[str, Any]:
        """The partner as Kith knows it (scopes, feed topic, service), over HTTP."""
        return await self._get("/v1/me")  # type: ignore[no-any-return]

    async def rejections(self, limit: int = 100) -> list[dict[str, Any]]:
        """The partner's refused messages with the reasons, newest first, over HTTP."""
        return await self._get(f"/v1/rejections?limit={limit}")  # type: ignore[no-any-return]

    async def _get(self, path: str) -> Any:
        if self._api_url is None:
            raise RuntimeError("PartnerClient was made without api_url")
        async with httpx.AsyncClient(base_url=self._api_url, timeout=10) as http:
            response = await http.get(path, headers={"Authorization": f"Bearer {self._api_key}"})
            response.raise_for_status()
            return response.json()
