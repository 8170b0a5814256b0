"""What one event makes matching send reaches the broker together, as one record batch.

On the embedded broker each batch is an object that every later fetch of its partition lists:
a request's offers in several batches would make each later read of the offers dearer.
"""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.contracts.topics import OFFERS
from shared.messaging import end_offsets
from tests.conftest import Stack
from tests.integration.matching.harness import (
    Place,
    add_helper,
    batches_keyed,
    request_help,
    running_harness,
)


async def test_a_requests_offers_to_three_helpers_reach_the_broker_in_one_batch(
    stack: Stack,
) -> None:
    async with running_harness(stack, cascade_width=3) as harness:
        place = Place()
        for _ in range(3):  # as near as each other: one round offers all three
            await add_helper(harness, place)
        partitions = [TopicPartition(OFFERS.name, p) for p in range(OFFERS.partitions)]
        since = {
            tp.partition: end
            for tp, end in (await end_offsets(stack.settings(), partitions)).items()
        }
        request = await request_help(harness, place)
        request_id = request.data.request_id
        offers = await harness.events_for(request_id, 3)
        assert len(offers) == 3

        key = str(request_id).encode()
        batches = await batches_keyed(stack.bootstrap, OFFERS.name, key, since)

    assert [len(offsets) for offsets in batches] == [3]
