"""The gateway's two consumers: partners' inbox, and the streams projected to partners."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from services.partners.service_layer.inbox import Accepted, SignedMessage, Source, receive
from services.partners.service_layer.ports import PartnersUnitOfWork
from services.partners.service_layer.projector import Projector
from shared.contracts import Envelope, Payload
from shared.contracts.inbox_signature import CLEAR_KEY_HEADER, SIGNATURE_HEADER
from shared.contracts.topics import ALL_TOPICS, CONCERNS, PARTNERS_INBOX, Topic
from shared.messaging import Delivery, EventConsumer, Publisher, RecordConsumer
from shared.settings import Settings
from shared.unit_of_work import UnitOfWorkStarter

INBOX_GROUP = "kith-partners-inbox"
PROJECTOR_GROUP = "kith-partners-projector"

#: What the projector reads: every public stream, and concerns for safeguarding contacts
#: (of which only a few fields of a few concerns ever leave; see ``safeguarding_view``).
PROJECTED: tuple[Topic, ...] = (*(t for t in ALL_TOPICS if not t.private), CONCERNS)


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    """The last value of a header, as text."""
    value = None
    for key, raw in record.headers or ():
        if key == name:
            value = raw.decode(errors="replace")
    return value


def inbox_consumer(
    settings: Settings,
    start: UnitOfWorkStarter[PartnersUnitOfWork],
    publisher: Publisher,
    *,
    group_id: str = INBOX_GROUP,
    name: str = "partners-inbox",
) -> RecordConsumer:
    """Admits partners' messages from the inbox; dead-letters the rest with the reason.

    Raw records, not decoded events: a partner's message needs its headers (the key), and
    is not a Kith event until the gateway says so.
    """

    async def handle(record: ConsumerRecord[bytes, bytes]) -> str | None:
        source = Source("kafka", record.topic, record.partition, record.offset)
        message = SignedMessage(
            partner_key=record.key,
            signature=header(record, SIGNATURE_HEADER),
            clear_key=header(record, CLEAR_KEY_HEADER) is not None,
        )
        outcome = await receive(start, record.value, message, source)
        return None if isinstance(outcome, Accepted) else outcome.reason

    return RecordConsumer(
        settings,
        name=name,
        group_id=group_id,
        topics=[PARTNERS_INBOX.name],
        handler=handle,
        dead_letters=publisher,
        # A key sent in clear by an old client is not copied to the dead letters as well.
        secret_headers=frozenset({CLEAR_KEY_HEADER}),
        # Partners' systems send here, and hear back by webhook: once idle it waits longer
        # than the consumers a person's screen waits on, and costs the broker less.
        idle_fetch_max_wait_ms=settings.message_idle_fetch_max_wait_ms,
    )


def projector_consumer(
    settings: Settings,
    projector: Projector,
    publisher: Publisher,
    *,
    group_id: str = PROJECTOR_GROUP,
    name: str = "partners-projector",
    from_beginning: bool = True,
) -> EventConsumer:
    """Projects each public event (and each concern) to the partners allowed to see it."""

    async def handle(envelope: Envelope[Payload], delivery: Delivery) -> None:
        await projector.handle(envelope, delivery.topic, delivery.key)

    return EventConsumer(
        settings,
        name=name,
        group_id=group_id,
        topics=PROJECTED,
        handler=handle,
        dead_letters=publisher,
        from_beginning=from_beginning,
        # Feeds and webhooks are read by partners' systems, not waited on by a person: the
        # longer wait spares the broker a fetch of every public partition every 25 ms.
        background=True,
    )
