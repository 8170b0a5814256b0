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
    description="Help asked for, one event per occurrence, and cancellations.",
)
OFFERS = Topic(
    "kith.offers.v1",
    NEIGHBOURHOOD_PARTITIONS,
    KeyBy.REQUEST,
    description="Matching's offers to helpers, with reasons, and unmatched escalations.",
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
