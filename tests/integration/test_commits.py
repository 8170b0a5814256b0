"""The shared consumer commits what it handled when it stops and before a rebalance hands
partitions to another member, not only on its timer: nothing handled is handled again."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from structlog.testing import capture_logs

from shared.contracts import Envelope, Payload
from shared.contracts.requests import HelpRequestCancelled
from shared.geo import neighbourhood_of
from shared.messaging import Delivery, Publisher
from shared.messaging import loop as consumer_module
from tests.conftest import Stack
from tests.integration.consumers import running_member
from tests.support import eventually


@pytest.fixture(autouse=True)
def no_timed_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the commits on stop and on a rebalance are left to tell the members apart.
    monkeypatch.setattr(consumer_module, "COMMIT_EVERY_S", 3600.0)


def _cancelled_everywhere(count: int) -> list[Envelope[Payload]]:
    """Events keyed by many neighbourhoods, so that every partition holds some."""
    return [
        Envelope.wrap(
            HelpRequestCancelled(
                request_id=uuid.uuid4(), neighbourhood=neighbourhood_of(51.0 + index / 50, 0.1)
            ),
            producer="test",
        )
        for index in range(count)
    ]


def _ids(events: list[Envelope[Payload]]) -> list[uuid.UUID]:
    return sorted(e.data.request_id for e in events)  # type: ignore[attr-defined]


class Handled:
    """The request ids a member handled, of those the test published."""

    def __init__(self, ours: set[uuid.UUID]) -> None:
        self.ours = ours
        self.ids: list[uuid.UUID] = []

    def count(self, expected: int) -> Callable[[], Awaitable[bool]]:
        """A probe: true once ``expected`` events were handled."""

        async def reached() -> bool:
            return len(self.ids) >= expected

        return reached

    async def __call__(self, envelope: Envelope[Payload], _: Delivery) -> None:
        request_id = getattr(envelope.data, "request_id", None)
        if request_id in self.ours:
            self.ids.append(request_id)


def _two_rounds() -> tuple[str, list[Envelope[Payload]], list[Envelope[Payload]], set[uuid.UUID]]:
    """A new group, the events published first and later, and the ids of all of them."""
    first, later = _cancelled_everywhere(40), _cancelled_everywhere(40)
    return f"test-commits-{uuid.uuid4()}", first, later, set(_ids(first) + _ids(later))


async def test_a_member_that_stops_commits_what_it_handled(
    stack: Stack, publisher: Publisher
) -> None:
    group, first, later, ours = _two_rounds()
    before, after = Handled(ours), Handled(ours)

    async with running_member(stack.settings(), publisher, group, before):
        await publisher.publish_many(first)
        await eventually(before.count(len(first)), what="the first events handled")
    async with running_member(stack.settings(), publisher, group, after):
        await publisher.publish_many(later)
        await eventually(after.count(len(later)), what="the later events handled")

    assert sorted(after.ids) == _ids(later), "the later ones only: the first were committed"


async def test_partitions_handed_to_a_new_member_start_after_what_was_handled(
    stack: Stack, publisher: Publisher
) -> None:
    group, first, later, ours = _two_rounds()
    old, new = Handled(ours), Handled(ours)

    async with running_member(stack.settings(), publisher, group, old):
        await publisher.publish_many(first)
        await eventually(old.count(len(first)), what="the first events handled")
        async with running_member(stack.settings(), publisher, group, new):
            await publisher.publish_many(later)

            async def all_handled() -> bool:
                return len(old.ids) + len(new.ids) >= len(first) + len(later)

            await eventually(all_handled, what="the later events handled")

    assert new.ids, "the new member took partitions"
    assert set(new.ids) < set(_ids(later)), "and handled none of the first events"
    assert sorted([*old.ids, *new.ids]) == sorted(_ids(first) + _ids(later)), "each once"


async def test_a_commit_the_group_refuses_leaves_the_member_consuming(
    stack: Stack, publisher: Publisher
) -> None:
    group, first, later, ours = _two_rounds()
    handled = Handled(ours)

    async with running_member(stack.settings(), publisher, group, handled) as member:
        running = member._consumer  # the aiokafka consumer under the loop
        await publisher.publish_many(first)
        await eventually(handled.count(len(first)), what="the first events handled")
        # As after a broker restart that forgot the group: this member's generation is
        # one the broker no longer knows, so the commit is refused.
        coordinator = running._coordinator
        coordinator.generation, coordinator.member_id = 999, "forgotten-member"
        with capture_logs() as logs:
            await member.commit()
        assert [line for line in logs if line["event"] == "commit refused after a rebalance"]
        await publisher.publish_many(later)
        await eventually(
            handled.count(len(first) + len(later)), what="the later events handled as well"
        )
