"""The topic registry: every stream Kith publishes, its partitions, its key and its events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyBy(StrEnum):
    """What a topic's message key is, and so what its order is kept by."""

    NEIGHBOURHOOD = "neighbourhood"
    REQUEST = "request"
    PAIR = "pair"
    PERSON = "person"
    ORIGINAL = "original"
    PARTNER = "partner"


@dataclass(frozen=True, slots=True)
class Topic:
    """One versioned stream.

    Attributes:
        name: The Kafka topic name, ``kith.<stream>.v<major>``.
        partitions: Partition count. Streams that matching joins in its tables share one
            count, so that a neighbourhood lands on the same partition number in each.
        key_by: What the message key holds.
        compacted: Whether only the latest event per key matters (a state stream).
        private: Never readable by partners (check-in answers, dead letters).
        description: What the stream carries, for the AsyncAPI document.
    """

    name: str
    partitions: int
    key_by: KeyBy
    compacted: bool = False
    private: bool = False
    description: str = ""


#: Partitions of the streams that matching co-partitions by neighbourhood.
NEIGHBOURHOOD_PARTITIONS = 8

PEOPLE = Topic(
    "kith.people.v1",
    NEIGHBOURHOOD_PARTITIONS,
    KeyBy.NEIGHBOURHOOD,
    compacted=False,
    description="Public, matchable profiles of people, whole on every change, and erasures.",
)
AVAILABILITY = Topic(
    "kith.availability.v1",
    NEIGHBOURHOOD_PARTITIONS,
    KeyBy.NEIGHBOURHOOD,
    description="The whole hours each person offers over the coming weeks.",
)
REQUESTS = Topic(
    "kith.requests.v1",
    NEIGHBOURHOOD_PARTITIONS,
    KeyBy.NEIGHBOURHOOD,
    description=(
        "Help asked for, one event per occurrence, and cancellations; operators' questions"
        " to matching (who could take a request) and offers they direct to a helper."
    ),
)
OFFERS = Topic(
    "kith.offers.v1",
    NEIGHBOURHOOD_PARTITIONS,
    KeyBy.REQUEST,
    description=(
        "Matching's offers to helpers, with reasons, and unmatched escalations; its answers"
        " to operators' questions, and offers it refused to direct."
    ),
)
BOOKINGS = Topic(
    "kith.bookings.v1",
    NEIGHBOURHOOD_PARTITIONS,
    KeyBy.NEIGHBOURHOOD,
    description="Offers answered; visits booked, cancelled, checked in and completed.",
)
CHECKINS = Topic(
    "kith.checkins.v1",
    4,
    KeyBy.PAIR,
    private=True,
    description="Private answers after each visit. Never shown to the other person.",
)
VETTING = Topic(
    "kith.vetting.v1",
    4,
    KeyBy.PERSON,
    private=True,
    description="Vetting steps recorded by operators and partners allowed to vet.",
)
RELATIONSHIPS = Topic(
    "kith.relationships.v1",
    NEIGHBOURHOOD_PARTITIONS,
    KeyBy.NEIGHBOURHOOD,
    compacted=False,
    description="Trust's record of each pair of people, whole on every change.",
)
STANDING = Topic(
    "kith.standing.v1",
    4,
    KeyBy.PERSON,
    compacted=True,
    description="Each person's suspension and vetted skills, whole on every change.",
)
CONCERNS = Topic(
    "kith.concerns.v1",
    4,
    KeyBy.PERSON,
    private=True,
    description="Safeguarding concerns raised about a person, and how operators resolved them.",
)
DEAD_LETTERS = Topic(
    "kith.deadletter.v1",
    1,
    KeyBy.ORIGINAL,
    private=True,
    description="Messages a consumer could not read or handle, with the reason in headers.",
)
PARTNERS = Topic(
    "kith.partners.v1",
    4,
    KeyBy.PARTNER,
    private=True,
    description="Partners' services, referrals and answers, after the gateway checked them.",
)
ACCOUNTS = Topic(
    "kith.accounts.v1",
    4,
    KeyBy.PERSON,
    private=True,
    description=(
        "Links to send a person (verify an email, reset a password): ids only, never a token."
    ),
)
PARTNERS_INBOX = Topic(
    "kith.partners.inbox.v1",
    4,
    KeyBy.PARTNER,
    private=True,
    description="What partners send, unchecked: only the partners gateway reads it.",
)

ALL_TOPICS: tuple[Topic, ...] = (
    PEOPLE,
    AVAILABILITY,
    REQUESTS,
    OFFERS,
    BOOKINGS,
    CHECKINS,
    VETTING,
    RELATIONSHIPS,
    STANDING,
    CONCERNS,
    DEAD_LETTERS,
    PARTNERS,
    PARTNERS_INBOX,
    ACCOUNTS,
)


def partner_feed(partner_id: object) -> str:
    """The topic one partner reads: the events and fields its scopes allow, and no more.

    The partners gateway creates it when the partner is registered and is its only writer.
    """
    return f"kith.partner.{partner_id}.v1"


def topic_named(name: str) -> Topic:
    """The registered topic with this name; ``KeyError`` if Kith has none."""
    for topic in ALL_TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Access:
    """What one Kith service may do on the broker: its Kafka user gets these rights only.

    Attributes:
        reads: Topics it reads (a service that replays its outbox after the broker lost its
            topics also reads what it writes, to see where each topic ends).
        writes: Topics it publishes to (every service dead-letters what it cannot read).
        groups: Consumer groups it joins or whose offsets it commits.
        owned_prefix: A topic-name prefix it creates, reads and writes on its own (the
            partners gateway's per-partner feeds; matching's faust changelogs and internal
            topics).
    """

    reads: tuple[Topic, ...]
    writes: tuple[Topic, ...]
    groups: tuple[str, ...] = ()
    owned_prefix: str | None = None


_PUBLIC = tuple(topic for topic in ALL_TOPICS if not topic.private)

#: Each service's rights on the broker, by service name (its SASL user is ``kith-<name>``).
#: ``deploy/kafka/acls.sh`` is generated from this (``kith kafka-acls``), and a test keeps
#: each service's consumers and publishers within it.
SERVICE_ACCESS: dict[str, Access] = {
    "booking": Access(
        reads=(
            OFFERS,
            RELATIONSHIPS,
            STANDING,
            PARTNERS,
            PEOPLE,
            AVAILABILITY,
            REQUESTS,
            BOOKINGS,
            CHECKINS,
            VETTING,
            CONCERNS,
        ),
        writes=(
            PEOPLE,
            AVAILABILITY,
            REQUESTS,
            BOOKINGS,
            CHECKINS,
            VETTING,
            CONCERNS,
            ACCOUNTS,
            DEAD_LETTERS,
        ),
        groups=("kith-booking",),
    ),
    "matching": Access(
        reads=(PEOPLE, AVAILABILITY, RELATIONSHIPS, REQUESTS, BOOKINGS, STANDING, PARTNERS),
        writes=(OFFERS, DEAD_LETTERS),
        groups=("kith-matching",),
        owned_prefix="kith-matching-",
    ),
    "trust": Access(
        reads=(BOOKINGS, CHECKINS, VETTING, PEOPLE, CONCERNS, RELATIONSHIPS, STANDING),
        writes=(RELATIONSHIPS, STANDING, DEAD_LETTERS),
        groups=("kith-trust",),
    ),
    "ops": Access(reads=ALL_TOPICS, writes=()),
    "partners": Access(
        reads=(*_PUBLIC, CONCERNS, PARTNERS_INBOX, PARTNERS, VETTING),
        writes=(PARTNERS, VETTING, DEAD_LETTERS),
        groups=("kith-partners-inbox", "kith-partners-projector"),
        owned_prefix="kith.partner.",
    ),
    "notify": Access(
        # Concerns: ids only, to tell whoever raised one that it was looked at.
        # Accounts: ids of links to send; the token itself is asked of booking once.
        reads=(BOOKINGS, OFFERS, VETTING, CONCERNS, ACCOUNTS),
        writes=(DEAD_LETTERS,),
        groups=("kith-notify",),
    ),
    "ledger": Access(
        reads=(BOOKINGS,),
        writes=(DEAD_LETTERS,),
        groups=("kith-ledger",),
    ),
}


def partner_access(partner_id: object) -> Access:
    """A partner's rights: read its own feed (with its own consumer groups), write the inbox.

    Its SASL user is ``partner-<id>``; its groups are named ``partner-<id>...``.
    """
    feed = Topic(partner_feed(partner_id), 1, KeyBy.PARTNER)
    return Access(reads=(feed,), writes=(PARTNERS_INBOX,), groups=(f"partner-{partner_id}",))
