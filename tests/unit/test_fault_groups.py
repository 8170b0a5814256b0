"""``kith faults`` waits on and checks what the services really read: their own constants."""

from __future__ import annotations

from kith.faults import broker_restart, poison
from kith.faults.groups import matching_topic, service_groups
from services.booking.entrypoints.consumers import GROUP_ID, TOPICS
from shared.contracts.topics import PARTNERS


def test_broker_restart_waits_for_every_topic_booking_reads() -> None:
    waited = broker_restart.groups()
    assert set(TOPICS) <= set(waited[GROUP_ID])
    assert PARTNERS in waited[GROUP_ID], "booking reads partners' services too"


def test_every_service_group_is_waited_on_and_poisoned() -> None:
    groups = service_groups()
    assert set(groups) == {"booking", "trust", "matching"}
    waited = broker_restart.groups()
    poisoned = poison.consumed()
    for group in groups.values():
        assert set(group.topics) <= set(waited[group.group_id])
        for topic in group.topics:
            assert group.service in poisoned[topic.name][2]
    assert poisoned[matching_topic("round-due")][2] == ("matching",)
    assert poison.groups() == {s: g.group_id for s, g in groups.items()}
