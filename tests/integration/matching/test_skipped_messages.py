"""Messages a rebalance made matching skip are fetched again, never committed unhandled.

faust's streams skip a message fetched before a rebalance (an older generation, or while the
flow is stopped for the rebalance) and acknowledge it; a commit then moved past messages
nobody handled (``kith faults``' matcher_kill lost requests on both workers' partitions).
"""

from __future__ import annotations

import asyncio
import uuid

from faust.types import TP
from faust.types.tuples import Message

from services.matching.app import create_app, runtime_of
from shared.contracts.topics import REQUESTS
from tests.conftest import Stack


def _message(offset: int, generation: int) -> Message:
    tp = TP(REQUESTS.name, 0)
    return Message(
        REQUESTS.name, 0, offset, 0.0, 0, None, b"k", b"v", None, tp=tp, generation_id=generation
    )


async def test_a_skipped_message_is_never_counted_as_handled(stack: Stack) -> None:
    app = create_app(stack.settings(), app_id=f"test-skipped-{uuid.uuid4().hex[:8]}")
    await app.start()
    try:
        await asyncio.wait_for(runtime_of(app).ready.wait(), timeout=30)
        consumer = app.consumer
        generation = app.consumer_generation_id
        tp = TP(REQUESTS.name, 0)

        stale = _message(1_000_001, generation - 1)
        assert not consumer.ack(stale)
        assert stale.acked, "nobody waits for it any more"
        app.flow_control.suspend()
        try:
            during = _message(1_000_002, generation)
            assert not consumer.ack(during)
        finally:
            app.flow_control.resume()
        assert 1_000_001 not in consumer._acked[tp]
        assert 1_000_002 not in consumer._acked[tp]

        handled = _message(1_000_003, generation)
        assert consumer.ack(handled)
        assert 1_000_003 in consumer._acked[tp]
    finally:
        await app.stop()
