"""Which consumer group each service reads with, and what it reads: from the services' own
constants, so that a topic a service starts reading is waited on and checked here too."""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.topics import Topic


@dataclass(frozen=True, slots=True)
class ServiceGroup:
    """A service's consumer group in production.

    Attributes:
        service: The service's name (and the consumer its dead letters name).
        group_id: Its consumer group.
        topics: The Kith streams it reads.
    """

    service: str
    group_id: str
    topics: tuple[Topic, ...]


def service_groups() -> dict[str, ServiceGroup]:
    """Booking's, trust's and matching's groups, by service."""
    # Imported here: matching's app brings faust, which a scenario needs only once it runs.
    from services.booking.entrypoints.consumers import GROUP_ID as BOOKING_GROUP
    from services.booking.entrypoints.consumers import TOPICS as BOOKING_TOPICS
    from services.matching.app import APP_ID
    from services.matching.app import CONSUMED as MATCHING_TOPICS
    from services.trust.entrypoints.consumer import CONSUMED as TRUST_TOPICS
    from services.trust.entrypoints.consumer import GROUP_ID as TRUST_GROUP

    return {
        group.service: group
        for group in (
            ServiceGroup("booking", BOOKING_GROUP, tuple(BOOKING_TOPICS)),
            ServiceGroup("trust", TRUST_GROUP, TRUST_TOPICS),
            ServiceGroup("matching", APP_ID, MATCHING_TOPICS),
        )
    }


def matching_topic(suffix: str) -> str:
    """One of matching's internal topics: faust names them after the app id
    (``round-due``, ``helpers-changelog``)."""
    from services.matching.app import APP_ID

    return f"{APP_ID}-{suffix}"
